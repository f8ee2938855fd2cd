// The `brook` client tools run as a user runs them (child processes of `bun src/cli.ts`) against an
// embedded broker, with stock clients checking the outcome: topics created and altered as kcat and
// kafkajs see them, produce/consume round trips with keys, headers, partitions and timestamps in both
// directions with kcat, transactions read committed, consumer groups shared between brook consumers and
// with librdkafka, offsets reset (dry run changes nothing) and a kafkajs consumer resuming from there,
// and every failure one line on stderr with a non-zero exit.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from "kafkajs";
import { DescribeGroups } from "../protocol/apis/15-describe-groups.ts";
import { WireClient } from "../src/client.ts";
import { decodeAssignment } from "../src/group/consumer-protocol.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { CLI, REPO_ROOT } from "./helpers/broker.ts";
import { kcat, kcatConsume, kcatHeaders, kcatMetadata, requireTools, spawnPyScript } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { jsonLines, readLines, run, type RunResult } from "./helpers/run.ts";
import { CODEC_ID, storedCodecs } from "./helpers/stored.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

let dir: TempDir;
let broker: BrokerHandle;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-cli-tools-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 1000 } });
  kafka = new Kafka({ clientId: "cli-tools", brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await broker?.close();
  await dir?.remove();
});

/** `brook ARGS` with -b pointing at the test broker (unless the args name one). */
function brook(args: string[], opts: { stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const [command, ...rest] = args;
  const withBootstrap = rest.some((a) => a === "-b" || a.startsWith("--bootstrap-server")) ? rest : ["-b", broker.address, ...rest];
  return run([process.execPath, CLI, command!, ...withBootstrap], { cwd: REPO_ROOT, stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 60_000 });
}

async function ok(args: string[], stdin?: string): Promise<RunResult> {
  const r = await brook(args, { stdin });
  if (r.exitCode !== 0) throw new Error(`brook ${args.join(" ")} exited ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A failure: non-zero exit, exactly one line on stderr, nothing on stdout. */
function expectOneLineError(r: RunResult, code: number, message: RegExp): void {
  expect(r.exitCode).toBe(code);
  expect(r.stdout).toBe("");
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(message);
}

/** A long-running `brook consume`, its output lines collected as they arrive. */
function spawnConsume(args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, "consume", "-b", broker.address, ...args], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const lines: string[] = [];
  let stderr = "";
  void (async () => {
    for await (const line of readLines(proc.stdout)) lines.push(line);
  })();
  void new Response(proc.stderr).text().then((t) => (stderr = t));
  return {
    lines,
    stderr: () => stderr,
    async stop(): Promise<number | null> {
      proc.kill("SIGTERM");
      await proc.exited;
      return proc.exitCode;
    },
  };
}

/** Group members and the partitions each owns, from DescribeGroups. */
async function groupMembers(group: string): Promise<{ clientId: string; partitions: number[] }[]> {
  const c = await WireClient.connect(broker.address);
  try {
    const r = await c.request(DescribeGroups, { groups: [group], includeAuthorizedOperations: false });
    const g = r.groups[0]!;
    if (g.groupState !== "Stable") return [];
    return g.members.map((m) => ({
      clientId: m.clientId,
      partitions: decodeAssignment(m.memberAssignment).partitions.flatMap((tp) => tp.partitions).sort((a, b) => a - b),
    }));
  } finally {
    c.close();
  }
}

describe("brook topics", () => {
  test("create with partitions and configs, as kcat and kafkajs see it", async () => {
    const topic = topicName("cli-create");
    const r = await ok(["topics", "create", topic, "--partitions", "3", "--config", "retention.ms=3600000", "--config", "cleanup.policy=compact"]);
    expect(r.stdout).toBe(`Created topic ${topic}.\n`);
    const md = await kcatMetadata(broker.address, topic);
    expect(md.topics[0]!.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
    const configs = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    const entry = (n: string) => configs.resources[0]!.configEntries.find((e) => e.configName === n)!;
    expect(entry("retention.ms").configValue).toBe("3600000");
    expect(entry("cleanup.policy").configValue).toBe("compact");
  });

  test("alter: more partitions, set and delete configs; describe and list show it; delete removes it", async () => {
    const topic = topicName("cli-alter");
    await ok(["topics", "--create", "--topic", topic, "--config", "retention.ms=1000"]);
    const r = await ok(["topics", "alter", topic, "--partitions", "4", "--config", "max.message.bytes=2048", "--delete-config", "retention.ms"]);
    expect(r.stdout).toBe(`Updated config for topic ${topic}.\nTopic ${topic} now has 4 partitions.\n`);
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(md.topics[0]!.partitions).toHaveLength(4);
    const configs = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    const entry = (n: string) => configs.resources[0]!.configEntries.find((e) => e.configName === n)!;
    expect(entry("max.message.bytes").configValue).toBe("2048");
    expect(entry("retention.ms").isDefault).toBe(true);

    const d = await ok(["topics", "describe", topic]);
    const lines = d.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^Topic: ${topic}\\tTopicId: [A-Za-z0-9_-]{22}\\tPartitionCount: 4\\tReplicationFactor: 1\\tConfigs: max\\.message\\.bytes=2048$`));
    expect(lines.slice(1)).toEqual([0, 1, 2, 3].map((p) => `\tTopic: ${topic}\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`));
    expect((await ok(["topics", "list"])).stdout.split("\n")).toContain(topic);

    expect((await ok(["topics", "delete", topic])).stdout).toBe(`Deleted topic ${topic}.\n`);
    expect(await admin.listTopics()).not.toContain(topic);
    expect((await ok(["topics", "delete", topic, "--if-exists"])).stdout).toBe("");
  });

  test("failures: one line on stderr, exit 1 (2 for a wrong command line)", async () => {
    const topic = topicName("cli-errors");
    await ok(["topics", "create", topic]);
    expectOneLineError(await brook(["topics", "create", topic]), 1, /^brook topics: cannot create topic '.*': Topic '.*' already exists\. \(TOPIC_ALREADY_EXISTS\)$/);
    expect((await brook(["topics", "create", topic, "--if-not-exists"])).exitCode).toBe(0);
    expectOneLineError(await brook(["topics", "describe", "no-such-topic"]), 1, /^brook topics: topic 'no-such-topic' does not exist$/);
    expectOneLineError(await brook(["topics", "delete", "no-such-topic"]), 1, /cannot delete topic 'no-such-topic': it does not exist/);
    expectOneLineError(await brook(["topics", "create", topicName("bad"), "--config", "retention.ms=soon"]), 1, /INVALID_CONFIG/);
    expectOneLineError(await brook(["topics", "alter", topic, "--partitions", "1"]), 1, /INVALID_PARTITIONS/);
    expectOneLineError(await brook(["topics", "frobnicate"]), 2, /^brook topics: an action is required: list, create, describe, delete, alter \(see brook topics --help\)$/);
    expectOneLineError(await brook(["topics", "create", "x", "--partitions", "many"]), 2, /--partitions expects an integer/);
    expectOneLineError(await brook(["topics", "list", "-b", "127.0.0.1:1"]), 1, /^brook topics: cannot connect to 127\.0\.0\.1:1: ECONNREFUSED$/);
    expectOneLineError(await brook(["produce", "-t", topic, "-p", "7"], { stdin: "x\n" }), 1, /partition 7 of '.*' does not exist \(it has 1\)/);
    expectOneLineError(await brook(["consume", "-t", "no-such-topic", "-e"]), 1, /^brook consume: topic 'no-such-topic' does not exist$/);
    expectOneLineError(await brook(["consume", "-t", topic, "-o", "yesterday"]), 2, /--offset: expected beginning, end, stored, N, -N or s@TIME/);
    expectOneLineError(await brook(["groups", "describe"]), 2, /describe needs a group/);
    expectOneLineError(await brook(["produce"], { stdin: "" }), 2, /--topic is required/);
  });

  test("--help on every command", async () => {
    for (const command of ["topics", "produce", "consume", "groups", "consumer-groups"]) {
      const r = await run([process.execPath, CLI, command, "--help"], { cwd: REPO_ROOT });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toStartWith(`usage: brook ${command === "consumer-groups" ? "groups" : command}`);
    }
    const top = await run([process.execPath, CLI, "--help"], { cwd: REPO_ROOT });
    for (const command of ["topics", "produce", "consume", "groups"]) expect(top.stdout).toContain(`brook ${command}`);
  });
});

describe("brook produce and consume", () => {
  test("keys, headers, partitions and timestamps from JSON input arrive as kcat reads them, and read back the same", async () => {
    const topic = topicName("cli-json");
    await ok(["topics", "create", topic, "--partitions", "3"]);
    const input = [
      { key: "a", value: "first", headers: { trace: "t1", kind: "x" }, partition: 2, timestamp: 1_700_000_000_000 },
      { key: null, value: "no key", partition: 0, timestamp: "2024-02-03T04:05:06.007Z" },
      { key: "b", value: null, headers: [["h", null]], partition: 2, timestamp: 1_700_000_000_500 },
    ];
    await ok(["produce", "-t", topic, "--json"], input.map((m) => JSON.stringify(m)).join("\n") + "\n");
    const seen = await kcatConsume(broker.address, topic);
    const view = seen
      .map((m) => ({ p: m.partition, o: m.offset, k: m.key, v: m.payload, ts: m.ts, h: kcatHeaders(m) }))
      .sort((x, y) => x.p - y.p || x.o - y.o);
    expect(view).toEqual([
      { p: 0, o: 0, k: null, v: "no key", ts: Date.parse("2024-02-03T04:05:06.007Z"), h: [] },
      { p: 2, o: 0, k: "a", v: "first", ts: 1_700_000_000_000, h: [["trace", "t1"], ["kind", "x"]] },
      { p: 2, o: 1, k: "b", v: null, ts: 1_700_000_000_500, h: [["h", null]] },
    ]);
    const back = jsonLines((await ok(["consume", "-t", topic, "-o", "beginning", "-e", "-J"])).stdout)
      .map((m) => [m.partition, m.offset, m.key, m.payload, m.ts, m.headers ?? null])
      .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(back).toEqual([
      [0, 0, null, "no key", Date.parse("2024-02-03T04:05:06.007Z"), null],
      [2, 0, "a", "first", 1_700_000_000_000, ["trace", "t1", "kind", "x"]],
      [2, 1, "b", null, 1_700_000_000_500, ["h", null]],
    ]);
  });

  test("lines with -K and -H, compressed; kcat's messages read back with -f; -p, -o N, -o -N, -o s@TIME, -c", async () => {
    const topic = topicName("cli-lines");
    await ok(["topics", "create", topic, "--partitions", "2"]);
    const lines = Array.from({ length: 20 }, (_, i) => `k${i}:v${i}`).join("\n") + "\n";
    await ok(["produce", "-t", topic, "-p", "1", "-K:", "-H", "src=brook", "-H", "n=1", "-z", "zstd", "--timestamp", "1700000000000"], lines);
    expect(new Set(await storedCodecs(broker.address, topic, 1))).toEqual(new Set([CODEC_ID.zstd!]));
    const viaKcat = await kcatConsume(broker.address, topic, { partition: 1 });
    expect(viaKcat.map((m) => [m.offset, m.key, m.payload, m.ts])).toEqual(Array.from({ length: 20 }, (_, i) => [i, `k${i}`, `v${i}`, 1_700_000_000_000]));
    expect(kcatHeaders(viaKcat[0]!)).toEqual([["src", "brook"], ["n", "1"]]);

    // kcat writes partition 0 with its own timestamps; brook reads them.
    await kcat(["-b", broker.address, "-P", "-t", topic, "-p", "0", "-K:", "-H", "from=kcat", "-z", "lz4"], { stdin: "x:1\ny:2\nz:3\n" });
    const fmt = await ok(["consume", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%p/%o %k=%s %h\\n"]);
    expect(fmt.stdout).toBe("0/0 x=1 from=kcat\n0/1 y=2 from=kcat\n0/2 z=3 from=kcat\n");

    const values = async (...args: string[]) => (await ok(["consume", "-t", topic, "-p", "1", "-e", ...args])).stdout.trimEnd().split("\n");
    expect(await values("-o", "17")).toEqual(["v17", "v18", "v19"]);
    expect(await values("-o", "-2")).toEqual(["v18", "v19"]);
    expect(await values("-o", "beginning", "-c", "3")).toEqual(["v0", "v1", "v2"]);
    expect(await ok(["consume", "-t", topic, "-p", "1", "-o", "beginning", "-c", "2"]).then((r) => r.stdout)).toBe("v0\nv1\n");
    // s@TIME: from the first record at or after the time (ms or ISO 8601); after the last one, nothing
    const timed = topicName("cli-timed");
    await ok(["produce", "-t", timed, "--json"], [0, 1, 2].map((i) => JSON.stringify({ value: `t${i}`, timestamp: 1_700_000_000_000 + i * 1000 })).join("\n"));
    expect((await ok(["consume", "-t", timed, "-e", "-o", "s@1700000000500"])).stdout).toBe("t1\nt2\n");
    expect((await ok(["consume", "-t", timed, "-e", "-o", `s@${new Date(1_700_000_002_000).toISOString()}`])).stdout).toBe("t2\n");
    expect((await ok(["consume", "-t", timed, "-e", "-o", "s@2100-01-01T00:00:00Z"])).stdout).toBe("");
  });

  test("keyed messages land on the partition kafkajs's default partitioner chooses", async () => {
    const mine = topicName("cli-keys-brook");
    const theirs = topicName("cli-keys-kafkajs");
    await ok(["topics", "create", mine, "--partitions", "6"]);
    await ok(["topics", "create", theirs, "--partitions", "6"]);
    const keys = Array.from({ length: 60 }, (_, i) => `customer-${i * 37}`);
    await ok(["produce", "-t", mine, "-K", "="], keys.map((k) => `${k}=x`).join("\n") + "\n");
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: theirs, messages: keys.map((key) => ({ key, value: "x" })) });
    await producer.disconnect();
    const where = async (topic: string) => new Map((await kcatConsume(broker.address, topic)).map((m) => [m.key, m.partition]));
    const [a, b] = [await where(mine), await where(theirs)];
    expect(a.size).toBe(60);
    expect(new Set(a.values()).size).toBeGreaterThan(1);
    for (const k of keys) expect(a.get(k)).toBe(b.get(k)!);
  });

  test("consume -J piped into produce --json copies a topic: keys, values, headers, partitions, timestamps", async () => {
    const from = topicName("cli-copy-from");
    const to = topicName("cli-copy-to");
    await ok(["topics", "create", from, "--partitions", "2"]);
    await ok(["topics", "create", to, "--partitions", "2"]);
    await kcat(["-b", broker.address, "-P", "-t", from, "-p", "1", "-K:", "-H", "h=1"], { stdin: "a:1\nb:2\n" });
    await kcat(["-b", broker.address, "-P", "-t", from, "-p", "0", "-K:"], { stdin: "c:3\n" });
    const dump = (await ok(["consume", "-t", from, "-o", "beginning", "-e", "-J"])).stdout;
    await ok(["produce", "-t", to, "--json"], dump);
    const view = async (t: string) =>
      (await kcatConsume(broker.address, t)).map((m) => [m.partition, m.offset, m.key, m.payload, m.ts, kcatHeaders(m)]).sort((x, y) => String(x).localeCompare(String(y)));
    expect(await view(to)).toEqual(await view(from));
  });

  test("read_committed skips aborted transactions (kafkajs transactional producer); read_uncommitted shows them", async () => {
    const topic = topicName("cli-txn");
    await ok(["topics", "create", topic]);
    const producer = kafka.producer({ transactionalId: `tx-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const [values, commit] of [[["a1", "a2"], true], [["b1"], false], [["c1"], true]] as const) {
        const txn = await producer.transaction();
        await txn.send({ topic, messages: values.map((value) => ({ value })) });
        await (commit ? txn.commit() : txn.abort());
      }
    } finally {
      await producer.disconnect();
    }
    const read = async (level: string) => (await ok(["consume", "-t", topic, "-o", "beginning", "-e", "--isolation-level", level])).stdout.trimEnd().split("\n");
    expect(await read("read_committed")).toEqual(["a1", "a2", "c1"]);
    expect(await read("read_uncommitted")).toEqual(["a1", "a2", "b1", "c1"]);
  });
});

describe("brook consume --group and brook groups", () => {
  test("a group consumer commits what it printed; the next run starts there; groups describe shows the lag", async () => {
    const topic = topicName("cli-group");
    const group = `g-${topic}`;
    await ok(["topics", "create", topic, "--partitions", "2"]);
    await ok(["produce", "-t", topic], Array.from({ length: 10 }, (_, i) => `m${i}`).join("\n") + "\n");
    const first = await ok(["consume", "-t", topic, "-g", group, "-o", "beginning", "-e"]);
    expect(first.stdout.trimEnd().split("\n").sort()).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
    await ok(["produce", "-t", topic], "n0\nn1\n");
    const described = await ok(["groups", "describe", group]);
    const rows = described.stdout.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r.slice(0, 3))).toEqual([[group, topic, "0"], [group, topic, "1"]]);
    for (const [, , , current, end, lag] of rows) expect(Number(current) + Number(lag)).toBe(Number(end));
    const sum = (i: number) => rows.reduce((n, r) => n + Number(r[i]), 0);
    expect([sum(3), sum(4), sum(5)]).toEqual([10, 12, 2]);
    expect(described.stderr).toContain(`Consumer group '${group}' has no active members.`);
    const second = await ok(["consume", "-t", topic, "-g", group, "-e"]);
    expect(second.stdout.trimEnd().split("\n").sort()).toEqual(["n0", "n1"]);
  });

  test("two brook consumers share a group's partitions, and the survivor takes over when one stops", async () => {
    const topic = topicName("cli-share");
    const group = `g-${topic}`;
    await ok(["topics", "create", topic, "--partitions", "4"]);
    const a = spawnConsume(["-t", topic, "-g", group, "-o", "beginning", "-f", "A %p %s\\n"]);
    const b = spawnConsume(["-t", topic, "-g", group, "-o", "beginning", "-f", "B %p %s\\n"]);
    try {
      await until("two members with two partitions each", async () => {
        const m = await groupMembers(group);
        return m.length === 2 && m.every((x) => x.partitions.length === 2);
      }, 60_000, () => groupMembers(group));
      await ok(["produce", "-t", topic, "-K:"], Array.from({ length: 40 }, (_, i) => `key${i}:v${i}`).join("\n") + "\n");
      await until("40 records printed", () => a.lines.length + b.lines.length >= 40, 30_000, () => [a.lines.length, b.lines.length]);
      const partitionsOf = (lines: string[]) => new Set(lines.map((l) => l.split(" ")[1]));
      expect([...partitionsOf(a.lines)].some((p) => partitionsOf(b.lines).has(p))).toBe(false);
      expect([...a.lines, ...b.lines].map((l) => l.split(" ")[2]).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`).sort());

      expect(await a.stop()).toBe(0);
      await until("the survivor owns all four partitions", async () => {
        const m = await groupMembers(group);
        return m.length === 1 && m[0]!.partitions.length === 4;
      }, 60_000, () => groupMembers(group));
      await ok(["produce", "-t", topic, "-K:"], Array.from({ length: 8 }, (_, i) => `late${i}:w${i}`).join("\n") + "\n");
      await until("the survivor printed the late records", () => b.lines.filter((l) => l.includes(" w")).length >= 8, 30_000, () => b.lines);
      // What A printed was committed when it left: B did not print it again.
      expect(b.lines.filter((l) => l.includes(" v")).length + a.lines.length).toBe(40);
    } finally {
      await a.stop();
      expect(await b.stop()).toBe(0);
    }
  });

  test("a brook consumer and a librdkafka consumer (range assignor) split a group's partitions", async () => {
    const topic = topicName("cli-mixed");
    const group = `g-${topic}`;
    await ok(["topics", "create", topic, "--partitions", "4"]);
    const mine = spawnConsume(["-t", topic, "-g", group, "-o", "beginning", "-f", "%p %s\\n"]);
    const stopFile = dir.join(`${topic}.stop`);
    const theirs = spawnPyScript("group_confluent_consume.py", {
      bootstrap: broker.address,
      topic,
      group,
      until_file: stopFile,
      timeout_s: 90,
      config: { "partition.assignment.strategy": "range", "client.id": "rdkafka-member" },
    });
    const rd: { partition?: number; value?: string }[] = [];
    const reading = (async () => {
      for await (const line of readLines(theirs.stdout)) if (line.trim()) rd.push(JSON.parse(line));
    })();
    try {
      await until("both consumers in the group with two partitions each", async () => {
        const m = await groupMembers(group);
        return m.length === 2 && m.every((x) => x.partitions.length === 2);
      }, 60_000, () => groupMembers(group));
      await ok(["produce", "-t", topic, "-K:"], Array.from({ length: 40 }, (_, i) => `key${i}:v${i}`).join("\n") + "\n");
      const fromRd = () => rd.filter((x) => x.value !== undefined);
      await until("40 records between them", () => mine.lines.length + fromRd().length >= 40, 30_000, () => [mine.lines.length, fromRd().length]);
      const minePartitions = new Set(mine.lines.map((l) => Number(l.split(" ")[0])));
      const rdPartitions = new Set(fromRd().map((x) => x.partition!));
      expect(minePartitions.size).toBe(2);
      expect(rdPartitions.size).toBe(2);
      expect([...minePartitions].some((p) => rdPartitions.has(p))).toBe(false);
      expect([...mine.lines.map((l) => l.split(" ")[1]!), ...fromRd().map((x) => x.value!)].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`).sort());
    } finally {
      writeFileSync(stopFile, "");
      await theirs.exited;
      await reading;
      expect(await mine.stop()).toBe(0);
    }
  });

  test("reset-offsets: dry run changes nothing, --execute commits, a kafkajs consumer resumes there; active groups are refused", async () => {
    const topic = topicName("cli-reset");
    const group = `g-${topic}`;
    await ok(["topics", "create", topic]);
    await ok(["produce", "-t", topic, "--json"], Array.from({ length: 10 }, (_, i) => JSON.stringify({ value: `m${i}`, timestamp: 1_700_000_000_000 + i * 1000 })).join("\n") + "\n");
    // kafkajs consumes everything and commits 10.
    const consumeWithKafkajs = async (expected: number) => {
      const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let resolve!: () => void;
      const enough = new Promise<void>((r) => (resolve = r));
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(`${message.offset}:${message.value}`);
          if (seen.length >= expected) resolve();
        },
      });
      if (expected > 0) await enough;
      await consumer.disconnect();
      return seen;
    };
    expect(await consumeWithKafkajs(10)).toHaveLength(10);
    const committed = async () => (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions[0]!.offset;
    expect(await committed()).toBe("10");

    const newOffset = (r: RunResult) => r.stdout.trim().split("\n").slice(1).map((l) => l.trim().split(/\s+/));
    const dry = await ok(["groups", "reset-offsets", group, "--topic", topic, "--to-earliest", "--dry-run"]);
    expect(newOffset(dry)).toEqual([[group, topic, "0", "0"]]);
    const implicit = await ok(["groups", "reset-offsets", group, "--topic", topic, "--to-offset", "3"]);
    expect(newOffset(implicit)).toEqual([[group, topic, "0", "3"]]);
    expect(implicit.stderr).toContain("Nothing was changed");
    expect(await committed()).toBe("10");

    expect(newOffset(await ok(["groups", "reset-offsets", group, "--topic", `${topic}:0`, "--shift-by", "-4", "--execute"]))).toEqual([[group, topic, "0", "6"]]);
    expect(await committed()).toBe("6");
    expect(await consumeWithKafkajs(4)).toEqual(["6:m6", "7:m7", "8:m8", "9:m9"]);

    const at = new Date(1_700_000_000_000 + 7 * 1000).toISOString();
    expect(newOffset(await ok(["groups", "reset-offsets", group, "--all-topics", "--to-datetime", at, "--execute"]))).toEqual([[group, topic, "0", "7"]]);
    expect(newOffset(await ok(["consumer-groups", "--reset-offsets", "--group", group, "--all-topics", "--shift-by", "100", "--execute"]))).toEqual([[group, topic, "0", "10"]]);
    expect(newOffset(await ok(["groups", "reset-offsets", group, "--all-topics", "--to-latest", "--dry-run"]))).toEqual([[group, topic, "0", "10"]]);
    expect(newOffset(await ok(["groups", "reset-offsets", group, "--all-topics", "--to-earliest", "--execute"]))).toEqual([[group, topic, "0", "0"]]);
    expect(await consumeWithKafkajs(10)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}:m${i}`));

    // While a member is in the group, the tool refuses (the member would overwrite the offsets).
    const live = spawnConsume(["-t", topic, "-g", group]);
    try {
      await until("the brook consumer joined", async () => (await groupMembers(group)).length === 1, 60_000);
      expectOneLineError(await brook(["groups", "reset-offsets", group, "--all-topics", "--to-earliest", "--execute"]), 1, /cannot reset the offsets of group '.*': it is Stable with 1 member\(s\)/);
    } finally {
      expect(await live.stop()).toBe(0);
    }
    expect(await committed()).toBe("10");
    expectOneLineError(await brook(["groups", "reset-offsets", group, "--all-topics"]), 2, /needs exactly one of --to-earliest/);
  });

  test("list and delete", async () => {
    const topic = topicName("cli-del");
    const group = `g-${topic}`;
    await ok(["topics", "create", topic]);
    await ok(["produce", "-t", topic], "x\n");
    await ok(["consume", "-t", topic, "-g", group, "-o", "beginning", "-e"]);
    expect((await ok(["groups", "list"])).stdout.split("\n")).toContain(group);
    expect((await ok(["groups", "delete", group])).stdout).toContain(`Deletion of requested consumer groups ('${group}') was successful.`);
    expect((await ok(["groups", "list"])).stdout.split("\n")).not.toContain(group);
  });
});
