// The pieces of the `brook` tools that need no broker: argument parsing, kcat's format tokens, the
// murmur2 partitioner (checked against kafkajs's Java-compatible default partitioner), the range and
// round-robin assignors (against the assignments Kafka's own assignors document), ISO durations.
import { describe, expect, test } from "bun:test";
import { Partitioners } from "kafkajs";
import { UsageError, parseArgs, type OptionSpec } from "../src/cli/args.ts";
import { compileFormat, jsonFormat, type ConsumedRecord } from "../src/cli/format.ts";
import { RANGE, ROUND_ROBIN } from "../src/cli/group-member.ts";
import { parseDuration } from "../src/cli/groups.ts";
import { partitionForKey } from "../src/cli/produce.ts";

describe("arguments", () => {
  const specs: OptionSpec[] = [
    { names: ["--topic", "-t"], value: true, repeat: true },
    { names: ["--key-delimiter", "-K"], value: true },
    { names: ["--offset", "-o"], value: true },
    { names: ["--exit", "-e"] },
  ];

  test("long, short, attached and = forms; an action as a word or a flag", () => {
    const p = parseArgs(["create", "-t", "a", "--topic=b", "-K:", "-o", "-5", "-e", "extra"], specs, ["create", "list"]);
    expect(p.action).toBe("create");
    expect(p.all("topic")).toEqual(["a", "b"]);
    expect(p.get("key-delimiter")).toBe(":");
    expect(p.get("offset")).toBe("-5");
    expect(p.has("exit")).toBe(true);
    expect(p.positional).toEqual(["extra"]);
    expect(parseArgs(["--list"], specs, ["create", "list"]).action).toBe("list");
  });

  test("mistakes are UsageErrors naming the problem", () => {
    const bad: [string[], RegExp][] = [
      [["--nope"], /unknown option --nope/],
      [["-x"], /unknown option -x/],
      [["-t"], /-t needs a value/],
      [["-K:", "-K,"], /--key-delimiter given more than once/],
      [["--exit=1"], /--exit takes no value/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseArgs(argv, specs)).toThrow(UsageError);
      expect(() => parseArgs(argv, specs)).toThrow(message);
    }
    expect(() => parseArgs([], specs, ["create"])).toThrow(/an action is required: create/);
    expect(() => parseArgs(["--create", "--list"], specs, ["create", "list"])).toThrow(/only one action at a time/);
  });
});

describe("output formats", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const rec: ConsumedRecord = {
    topic: "t",
    partition: 2,
    offset: 41,
    timestamp: 1700000000123,
    timestampType: 0,
    key: enc("k"),
    value: enc("hello"),
    headers: [
      { key: "a", value: enc("1") },
      { key: "b", value: null },
    ],
    broker: 1,
  };
  const text = (b: Uint8Array) => new TextDecoder().decode(b);

  test("kcat's -f tokens and escapes", () => {
    expect(text(compileFormat("%t/%p@%o %k=%s (%K,%S) %T [%h] 100%%\\n")(rec))).toBe("t/2@41 k=hello (1,5) 1700000000123 [a=1,b=] 100%\n");
    expect(text(compileFormat("%k|%s|%K|%S\\t")({ ...rec, key: null, value: null }))).toBe("||-1|-1\t");
    expect(() => compileFormat("%z")).toThrow(/unknown format token %z/);
  });

  test("-J: kcat's envelope, headers as a flat list, omitted when there are none", () => {
    expect(JSON.parse(text(jsonFormat(rec)))).toEqual({
      topic: "t",
      partition: 2,
      offset: 41,
      tstype: "create",
      ts: 1700000000123,
      broker: 1,
      headers: ["a", "1", "b", null],
      key: "k",
      payload: "hello",
    });
    expect("headers" in JSON.parse(text(jsonFormat({ ...rec, headers: [], timestampType: 1 })))).toBe(false);
    expect(JSON.parse(text(jsonFormat({ ...rec, timestampType: 1 }))).tstype).toBe("logappend");
  });
});

test("keys go to the partition kafkajs's Java-compatible default partitioner picks", () => {
  const kafkajs = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 3, 6, 7, 32]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));
    for (let i = 0; i < 300; i++) {
      const key = i % 3 === 0 ? `key-${i}` : i % 3 === 1 ? "ü".repeat(i % 7) + i : String(i * 7919);
      const theirs = kafkajs({ topic: "t", partitionMetadata, message: { key, value: "v" } });
      expect(partitionForKey(new TextEncoder().encode(key), partitions)).toBe(theirs);
    }
  }
});

describe("assignors", () => {
  const counts = new Map([
    ["t0", 3],
    ["t1", 3],
  ]);
  const members = [
    { memberId: "c1", topics: ["t0", "t1"] },
    { memberId: "c0", topics: ["t0", "t1"] },
  ];
  const plain = (m: Map<string, { topic: string; partitions: number[] }[]>) =>
    Object.fromEntries([...m].map(([id, tps]) => [id, tps.map((tp) => `${tp.topic}:${tp.partitions.join(",")}`)]));

  test("range: per topic, consecutive ranges by member id, the first members one larger", () => {
    // Kafka's RangeAssignor javadoc example: C0 [t0p0, t0p1, t1p0, t1p1], C1 [t0p2, t1p2].
    expect(plain(RANGE.assign(members, counts))).toEqual({ c0: ["t0:0,1", "t1:0,1"], c1: ["t0:2", "t1:2"] });
  });

  test("roundrobin: every partition dealt in turn", () => {
    // Kafka's RoundRobinAssignor javadoc example: C0 [t0p0, t0p2, t1p1], C1 [t0p1, t1p0, t1p2].
    expect(plain(ROUND_ROBIN.assign(members, counts))).toEqual({ c0: ["t0:0,2", "t1:1"], c1: ["t0:1", "t1:0,2"] });
  });

  test("members only get topics they subscribe to; more members than partitions leaves some idle", () => {
    const mixed = [
      { memberId: "a", topics: ["t0"] },
      { memberId: "b", topics: ["t0", "t1"] },
      { memberId: "c", topics: ["t1"] },
    ];
    for (const assignor of [RANGE, ROUND_ROBIN]) {
      const result = assignor.assign(mixed, counts);
      const owned = [...result].flatMap(([id, tps]) => tps.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}:${p}:${id}`)));
      expect(owned.map((x) => x.split(":").slice(0, 2).join(":")).sort()).toEqual(["t0:0", "t0:1", "t0:2", "t1:0", "t1:1", "t1:2"]);
      expect(owned.filter((x) => x.startsWith("t1:") && x.endsWith(":a"))).toEqual([]);
      expect(owned.filter((x) => x.startsWith("t0:") && x.endsWith(":c"))).toEqual([]);
    }
    const crowd = Array.from({ length: 5 }, (_, i) => ({ memberId: `m${i}`, topics: ["t0"] }));
    expect([...RANGE.assign(crowd, new Map([["t0", 3]])).values()].map((tps) => tps.length)).toEqual([1, 1, 1, 0, 0]);
  });
});

test("ISO 8601 durations for --by-duration", () => {
  expect(parseDuration("PT30M")).toBe(30 * 60_000);
  expect(parseDuration("P1DT2H")).toBe(26 * 3_600_000);
  expect(parseDuration("PT1.5S")).toBe(1500);
  for (const bad of ["P", "PT", "30m", "P1H"]) expect(() => parseDuration(bad)).toThrow(/expected PnDTnHnMnS/);
});
