// Corrupt or missing metadata files (issue 10): each of the files Brook keeps beside the partition data
// truncated, filled with garbage, or missing. Every case ends in one of two ways, never in a silently
// empty (or silently smaller) broker:
//  - the start stops (exit 1) with a message that names the file, says what it held and what to do;
//  - or the broker rebuilds what it needs from what is on disk, logs a warning, and every acknowledged
//    record, committed offset and transaction is still there (read back here over the wire; the
//    idempotent producer's retry is still recognised as a duplicate).
// One log dir is prepared (topics with configs, an idempotent producer, a committed transaction, a
// group's committed offsets), stopped cleanly, and copied for every case. The README's Durability
// section has the table of what happens to which file.
import { beforeAll, afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { OffsetCommit } from "../protocol/apis/08-offset-commit.ts";
import { startBroker } from "../src/index.ts";
import { CLI, REPO_ROOT, spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";
import { Wire, batch, dataValues, type Producer } from "./helpers/txn.ts";

setDefaultTimeout(60_000);

const dirs: TempDir[] = [];
let golden: string;
let clusterId: string;
let topicId: string;
let idem: Producer;

afterAll(async () => {
  for (const d of dirs) await d.remove();
});

async function newDir(prefix = "brook-corrupt-"): Promise<string> {
  const d = await tempDir(prefix);
  dirs.push(d);
  return d.path;
}

beforeAll(async () => {
  golden = await newDir("brook-corrupt-golden-");
  await using b = await startBroker({ dataDir: golden, logLevel: "silent" });
  const t = b.broker.topics.create("data", 2, { "retention.ms": "86400000", "max.message.bytes": "200000" });
  b.broker.topics.create("other", 1);
  clusterId = b.broker.clusterId;
  topicId = t.id;
  await using w = await Wire.connect(b.address);
  const r = await w.initProducerId(null);
  idem = { producerId: r.producerId, producerEpoch: r.producerEpoch };
  expect((await w.produce("data", 0, batch(idem, 0, ["a0", "a1"]))).errorCode).toBe(0);
  expect((await w.produce("data", 0, batch(idem, 2, ["a2"]))).errorCode).toBe(0);
  expect((await w.produce("data", 1, batch(idem, 0, ["b0"]))).errorCode).toBe(0);
  expect((await w.produce("other", 0, batch(null, 0, ["o0"]))).errorCode).toBe(0);
  const tx = await w.init("tx");
  expect(await w.addPartitions("tx", tx, [{ name: "data", partitions: [1] }])).toEqual({ "data/1": 0 });
  expect((await w.produce("data", 1, batch(tx, 0, ["t0", "t1"], true), "tx")).errorCode).toBe(0);
  expect(await w.endTxn("tx", tx, true)).toBe(0);
  for (const offset of [1, 3]) {
    const c = await w.client.request(OffsetCommit, 8, {
      groupId: "g",
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [{ name: "data", partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: "" }] }],
    });
    expect(c.topics[0]!.partitions[0]!.errorCode).toBe(0);
  }
});

/** A copy of the prepared log dir. */
async function copy(): Promise<string> {
  const dir = await newDir();
  fs.cpSync(golden, dir, { recursive: true });
  return dir;
}

const file = (dir: string, name: string) => path.join(dir, name);
const garbage = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => "Not what Brook wrote here. "[i % 27]!.charCodeAt(0)));

/** Starts the CLI on the dir and expects it to stop before listening (exit 1); returns its stderr. */
async function refused(dir: string, overrides: Record<string, string> = {}): Promise<string> {
  const args = [process.execPath, CLI, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dir}`];
  for (const [k, v] of Object.entries(overrides)) args.push("--override", `${k}=${v}`);
  const proc = Bun.spawn(args, { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  let listened = false;
  const out = (async () => {
    for await (const line of readLines(proc.stdout)) if (line.startsWith("brook listening on")) (listened = true), proc.kill("SIGKILL");
  })();
  const stderr = await new Response(proc.stderr).text();
  await out;
  await proc.exited;
  expect(listened).toBe(false);
  expect(proc.exitCode).toBe(1);
  return stderr;
}

async function start(dir: string, overrides: Record<string, string> = {}): Promise<SpawnedBroker> {
  return spawnBroker({ dataDir: dir, overrides });
}

/** Everything the prepared dir holds is there, and the idempotent producer's retry is a duplicate. */
async function expectIntact(b: SpawnedBroker, other = ["o0"]): Promise<void> {
  await using w = await Wire.connect(b.address);
  expect(dataValues((await w.fetch("data", 0, 0, 0)).records)).toEqual(["a0", "a1", "a2"]);
  expect(dataValues((await w.fetch("data", 1, 0, 1)).records)).toEqual(["b0", "t0", "t1"]);
  expect(dataValues((await w.fetch("other", 0, 0, 0)).records)).toEqual(other);
  expect(await w.committed("g", "data", 0)).toEqual([3, 0]);
  expect((await w.describeTransaction("tx")).transactionState).toBe("CompleteCommit");
  const retry = await w.produce("data", 0, batch(idem, 2, ["a2"]));
  expect([retry.errorCode, retry.baseOffset]).toEqual([0, 2]); // the same offset as the first time
  const next = await w.produce("data", 0, batch(idem, 3, ["a3"]));
  expect([next.errorCode, next.baseOffset]).toEqual([0, 3]); // offsets are not reused
}

describe("meta.properties", () => {
  test("missing: written again from the cluster id the topic catalogue keeps", async () => {
    const dir = await copy();
    fs.rmSync(file(dir, "meta.properties"));
    await using b = await start(dir);
    expect(b.output().stderr).toMatch(/meta.properties is missing: written again with cluster.id=\S+ \(from brook-topics.json\)/);
    expect(fs.readFileSync(file(dir, "meta.properties"), "utf8")).toContain(`cluster.id=${clusterId}\n`);
    await expectIntact(b);
  });

  test("garbage: kept aside and written again from the catalogue's cluster id", async () => {
    const dir = await copy();
    fs.writeFileSync(file(dir, "meta.properties"), garbage(300));
    await using b = await start(dir);
    expect(b.output().stderr).toMatch(/meta.properties is unreadable .*: written again with cluster.id/);
    expect(fs.readFileSync(file(dir, "meta.properties"), "utf8")).toContain(`cluster.id=${clusterId}\n`);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("meta.properties.unreadable-"))).toHaveLength(1);
    await expectIntact(b);
  });

  test("truncated: cut inside a line, it is unreadable and written again; cut inside the cluster id, the catalogue's copy disagrees and the start stops", async () => {
    const text = fs.readFileSync(file(golden, "meta.properties"), "utf8");
    const inLine = await copy();
    fs.writeFileSync(file(inLine, "meta.properties"), text.slice(0, text.indexOf("cluster.id") + 4));
    {
      await using b = await start(inLine);
      expect(b.output().stderr).toMatch(/meta.properties is unreadable/);
      await expectIntact(b);
    }
    const inId = await copy();
    fs.writeFileSync(file(inId, "meta.properties"), text.replace(`cluster.id=${clusterId}`, `cluster.id=${clusterId.slice(0, 7)}`));
    const err = await refused(inId);
    expect(err).toContain(`says cluster.id=${clusterId.slice(0, 7)}, but brook-topics.json was written for cluster ${clusterId}`);
  });

  test("missing, and no copy of the cluster id anywhere: the start stops until cluster.id is given", async () => {
    const dir = await copy();
    fs.rmSync(file(dir, "meta.properties"));
    const catalogue = JSON.parse(fs.readFileSync(file(dir, "brook-topics.json"), "utf8"));
    delete catalogue.clusterId; // as an older catalogue
    fs.writeFileSync(file(dir, "brook-topics.json"), JSON.stringify(catalogue));
    expect(await refused(dir)).toMatch(/meta.properties is missing, and .* holds a broker's data: its cluster id is lost\. .*--override cluster.id=/);
    await using b = await start(dir, { "cluster.id": clusterId });
    expect(fs.readFileSync(file(dir, "meta.properties"), "utf8")).toContain(`cluster.id=${clusterId}\n`);
    await expectIntact(b);
  });
});

describe("brook-topics.json (the topic catalogue)", () => {
  test("missing next to partition data: the start stops; brook.topic.catalogue.rebuild rebuilds it from the directories", async () => {
    const dir = await copy();
    fs.rmSync(file(dir, "brook-topics.json"));
    const err = await refused(dir);
    expect(err).toContain("brook-topics.json is missing, but the log dirs hold partition directories with data of 2 topic(s) (data, other)");
    expect(err).toContain("brook.topic.catalogue.rebuild=true");
    await using b = await start(dir, { "brook.topic.catalogue.rebuild": "true" });
    expect(b.output().stderr).toMatch(/rebuilt brook-topics.json from the partition directories: 2 topic\(s\)/);
    await expectIntact(b);
    const rebuilt = JSON.parse(fs.readFileSync(file(dir, "brook-topics.json"), "utf8"));
    const data = rebuilt.topics.find((t: { name: string }) => t.name === "data");
    expect(data.id).toBe(topicId); // from the log dir checkpoint: clients that name topics by id still find it
    expect(data.partitions).toBe(2);
    expect(data.configs).toEqual({ "retention.ms": "-1", "retention.bytes": "-1" }); // nothing is deleted until configs are set again
  });

  test("garbage: the start stops; with the rebuild the unreadable file is kept aside", async () => {
    const dir = await copy();
    fs.writeFileSync(file(dir, "brook-topics.json"), garbage(500));
    expect(await refused(dir)).toMatch(/brook-topics.json is unreadable \(JSON Parse error.*\), but the log dirs hold partition directories with data/);
    await using b = await start(dir, { "brook.topic.catalogue.rebuild": "true" });
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("brook-topics.json.unreadable-"))).toHaveLength(1);
    await expectIntact(b);
  });

  test("truncated (valid JSON cut short, or a topic without its fields): the start stops", async () => {
    const text = fs.readFileSync(file(golden, "brook-topics.json"), "utf8");
    const cut = await copy();
    fs.writeFileSync(file(cut, "brook-topics.json"), text.slice(0, text.length >> 1));
    expect(await refused(cut)).toMatch(/brook-topics.json is unreadable/);
    const shape = await copy();
    const c = JSON.parse(text);
    delete c.topics[0].id;
    fs.writeFileSync(file(shape, "brook-topics.json"), JSON.stringify(c));
    expect(await refused(shape)).toMatch(/brook-topics.json is unreadable \(topic \S+ has no valid id\)/);
  });

  test("missing with no partition data (the first topic's creation interrupted): a fresh broker, the empty directory removed", async () => {
    const dir = await newDir();
    const first = await spawnBroker({ dataDir: dir, env: { BROOK_CRASH_POINT: "topic.create.before-persist:1" } });
    await using w = await Wire.connect(first.address);
    await expect(w.createTopic("half-created", 1)).rejects.toThrow(/closed/);
    expect(await first.exited).toBeNull();
    expect([fs.existsSync(file(dir, "half-created-0")), fs.existsSync(file(dir, "brook-topics.json"))]).toEqual([true, false]);
    await using b = await start(dir);
    expect(b.output().stderr).toMatch(/removing \S+half-created-0: a partition directory without data/);
    expect(fs.existsSync(file(dir, "half-created-0"))).toBe(false);
  });

  test("a partition directory with data that the catalogue does not list stops the start", async () => {
    const dir = await copy();
    fs.cpSync(file(dir, "other-0"), file(dir, "unknown-0"), { recursive: true });
    expect(await refused(dir)).toMatch(/does not list partition directories that hold data: \S+unknown-0/);
  });
});

for (const [name, holds, check] of [
  ["brook-consumer-offsets.log", "committed offsets", async (w: Wire) => expect((await w.committed("g", "data", 0))[0]).toBe(1)],
  ["brook-transactions.log", "transactional ids", async (w: Wire) => expect((await w.describeTransaction("tx")).transactionState).toBe("CompleteCommit")],
] as const) {
  describe(name, () => {
    test("truncated inside its last record: the torn record is cut off (a warning), the ones before it kept", async () => {
      const dir = await copy();
      const size = fs.statSync(file(dir, name)).size;
      fs.truncateSync(file(dir, name), size - 3);
      await using b = await start(dir);
      expect(b.output().stderr).toMatch(new RegExp(`${name.replace(/\./g, "\\.")}: dropping \\d+ bytes at offset \\d+ \\(a record of \\d+ bytes past the end of the file\\)`));
      await using w = await Wire.connect(b.address);
      await check(w);
    });

    test("garbage: the start stops, naming the byte and how to keep what comes before it", async () => {
      const whole = await copy();
      fs.writeFileSync(file(whole, name), garbage(4000));
      expect(await refused(whole)).toMatch(new RegExp(`${name.replace(/\./g, "\\.")} is damaged at byte 0 of 4000 \\(a record length of \\d+\\); 4000 bytes follow.*truncate -s 0 `));
      const middle = await copy();
      const bytes = fs.readFileSync(file(middle, name));
      bytes[12] = bytes[12]! ^ 0xff; // inside the first record's payload; valid records follow
      fs.writeFileSync(file(middle, name), bytes);
      expect(await refused(middle)).toMatch(/is damaged at byte 0 of \d+ \(a CRC mismatch\)/);
    });

    test(`missing from a used log dir: the start stops until it is restored or created empty (${holds} then start from nothing)`, async () => {
      const dir = await copy();
      fs.rmSync(file(dir, name));
      expect(await refused(dir)).toContain(`${file(dir, name)} is missing from ${dir}, which a broker has used`);
      fs.writeFileSync(file(dir, name), "");
      await using b = await start(dir);
      await using w = await Wire.connect(b.address);
      expect(dataValues((await w.fetch("data", 0, 0, 0)).records)).toEqual(["a0", "a1", "a2"]);
      if (name === "brook-consumer-offsets.log") expect((await w.committed("g", "data", 0))[0]).toBe(-1);
    });
  });
}

describe("brook-producer-ids", () => {
  for (const [how, damage] of [
    ["missing", (f: string) => fs.rmSync(f)],
    ["garbage", (f: string) => fs.writeFileSync(f, garbage(20))],
    ["truncated to a smaller number", (f: string) => fs.writeFileSync(f, "0")],
  ] as const) {
    test(`${how}: rebuilt above every producer id in use, so a new producer never gets an id a log still knows`, async () => {
      const dir = await copy();
      damage(file(dir, "brook-producer-ids"));
      await using b = await start(dir);
      expect(b.output().stderr).toMatch(/brook-producer-ids .*but producer id \d+ is in use: producer ids continue from \d+/);
      await using w = await Wire.connect(b.address);
      const fresh = await w.initProducerId(null);
      expect(fresh.producerId).toBeGreaterThan(idem.producerId);
      await expectIntact(b);
    });
  }
});

describe("brook-log-checkpoint.json and its journal", () => {
  for (const [how, damage] of [
    ["truncated", (f: string) => fs.truncateSync(f, fs.statSync(f).size >> 1)],
    ["garbage", (f: string) => fs.writeFileSync(f, garbage(1000))],
    ["missing", (f: string) => fs.rmSync(f)],
  ] as const) {
    test(`${how}: every partition is recovered from its segments (producer state replayed from the log)`, async () => {
      const dir = await copy();
      damage(file(dir, "brook-log-checkpoint.json"));
      await using b = await start(dir);
      if (how !== "missing") expect(b.output().stderr).toMatch(/brook-log-checkpoint.json is unusable .*every partition in the dir is recovered from its segments/);
      expect(b.output().stderr).toMatch(/loaded 2 topics \(3 partitions\) .* 3 recovered/);
      await expectIntact(b);
    });
  }

  /** A dir whose broker crashed after appending past its last checkpoint (so the journal matters). */
  async function crashed(): Promise<{ dir: string; journal: string }> {
    const dir = await copy();
    const b = await start(dir, { "log.flush.offset.checkpoint.interval.ms": "3600000" });
    await using w = await Wire.connect(b.address);
    expect((await w.produce("other", 0, batch(null, 0, ["o1"]))).errorCode).toBe(0);
    await b.kill("SIGKILL");
    const journal = fs.readdirSync(dir).find((f) => f.startsWith("brook-dirty-"))!;
    expect(fs.readFileSync(file(dir, journal), "utf8")).toContain("a other-0\n");
    return { dir, journal };
  }

  for (const [how, damage] of [
    ["garbage", (f: string) => fs.writeFileSync(f, garbage(100))],
    ["missing", (f: string) => fs.rmSync(f)],
    ["truncated to nothing", (f: string) => fs.truncateSync(f, 0)],
  ] as const) {
    test(`the journal of changes since the checkpoint ${how}, after a crash: nothing appended since is lost`, async () => {
      const { dir, journal } = await crashed();
      damage(file(dir, journal));
      await using b = await start(dir);
      if (how !== "truncated to nothing") expect(b.output().stderr).toMatch(/the changes since the log checkpoint of \S+ are not known/);
      await using w = await Wire.connect(b.address);
      expect(dataValues((await w.fetch("other", 0, 0, 0)).records)).toEqual(["o0", "o1"]);
      expect((await w.produce("other", 0, batch(null, 0, ["o2"]))).baseOffset).toBe(2);
      await expectIntact(b, ["o0", "o1", "o2"]);
    });
  }

  test("a producer-state snapshot in the checkpoint damaged: replayed from the log instead", async () => {
    const dir = await copy();
    const f = file(dir, "brook-log-checkpoint.json");
    const ckpt = JSON.parse(fs.readFileSync(f, "utf8"));
    ckpt.logs["data-0"].p.producers = [[idem.producerId, "garbage"]];
    ckpt.logs["data-1"].p = { version: 1, offset: 1 }; // truncated: no producer list
    fs.writeFileSync(f, JSON.stringify(ckpt));
    await using b = await start(dir);
    await expectIntact(b);
    await using w = await Wire.connect(b.address);
    expect((await w.fetch("data", 1, 0, 1)).lastStableOffset).toBe(4); // b0, t0, t1 and the commit marker
  });
});

describe("segments", () => {
  const segmentOf = (dir: string, partition: string) => path.join(dir, partition, "00000000000000000000.log");

  test("after a clean shutdown, a segment cut short or missing: that partition answers KAFKA_STORAGE_ERROR, the others are served", async () => {
    for (const damage of [(f: string) => fs.truncateSync(f, 30), (f: string) => fs.rmSync(f)]) {
      const dir = await copy();
      damage(segmentOf(dir, "data-0"));
      await using b = await start(dir);
      await using w = await Wire.connect(b.address);
      expect((await w.fetch("data", 0, 0, 0)).errorCode).toBe(56); // KAFKA_STORAGE_ERROR
      expect((await w.produce("data", 0, batch(null, 0, ["x"]))).errorCode).toBe(56);
      expect(dataValues((await w.fetch("other", 0, 0, 0)).records)).toEqual(["o0"]);
      expect(b.output().stderr).toMatch(/fetch from data-0 answered KAFKA_STORAGE_ERROR: \S+00000000000000000000\.log (holds 30 bytes, fewer than|cannot be)/);
    }
  });

  test("...and once the log dir's checkpoint is removed, the start recovers it from what is on disk", async () => {
    const dir = await copy();
    const seg = segmentOf(dir, "data-0");
    const bytes = fs.readFileSync(seg);
    fs.truncateSync(seg, bytes.length - 10); // the last batch torn
    fs.rmSync(file(dir, "brook-log-checkpoint.json"));
    await using b = await start(dir);
    expect(b.output().stderr).toMatch(/data-0\/00000000000000000000\.log: \d+ bytes from position \d+ on are not valid batches .*cut off/);
    await using w = await Wire.connect(b.address);
    expect(dataValues((await w.fetch("data", 0, 0, 0)).records)).toEqual(["a0", "a1"]);
    expect((await w.produce("data", 0, batch(null, 0, ["x"]))).baseOffset).toBe(2);
  });

  test("garbage in a segment after a crash: recovery keeps the batches before it and cuts the rest", async () => {
    const dir = await copy();
    fs.rmSync(file(dir, ".brook-clean-shutdown")); // as after a power loss: kill -9 and another boot
    const ckpt = file(dir, "brook-log-checkpoint.json");
    fs.writeFileSync(ckpt, JSON.stringify({ ...JSON.parse(fs.readFileSync(ckpt, "utf8")), bootId: "another boot" }));
    const seg = segmentOf(dir, "data-0");
    const bytes = fs.readFileSync(seg);
    const firstBatch = 12 + new DataView(bytes.buffer, bytes.byteOffset).getInt32(8);
    fs.writeFileSync(seg, Buffer.concat([bytes.subarray(0, firstBatch), garbage(bytes.length - firstBatch)]));
    await using b = await start(dir);
    expect(b.output().stderr).toMatch(/not valid batches/);
    await using w = await Wire.connect(b.address);
    expect(dataValues((await w.fetch("data", 0, 0, 0)).records)).toEqual(["a0", "a1"]);
  });
});
