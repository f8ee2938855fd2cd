// End to end with kcat (librdkafka's CLI) against the broker started through its CLI as a child process.
//   -L -J metadata; -P with keys (-K:), headers (-H), explicit partition (-p), null values (-Z);
//   -C -e -J -o beginning read-back with exact keys/values/headers/offsets and per-key order;
//   all four compression codecs (-X compression.codec=gzip|snappy|lz4|zstd).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { byKey, kcat, kcatConsume, kcatHeaders, kcatMetadata, requireTools } from "./helpers/clients.ts";
import { CODEC_ID, storedCodecs } from "./helpers/stored.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

// bunfig's [test] timeout is not applied to these files: set it here (stock clients are slow to start).
setDefaultTimeout(30000);

let dir: TempDir;
let broker: SpawnedBroker;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-kcat-");
  broker = await spawnBroker({ dataDir: dir.path, overrides: { "num.partitions": 3 } });
});

afterAll(async () => {
  const exitCode = await broker?.stop();
  await dir?.remove();
  expect(exitCode).toBe(0); // SIGTERM → clean exit 0 (also fails if the broker died during the tests)
});

const produce = (topic: string, lines: string[], args: string[] = []) =>
  kcat(["-b", broker.address, "-P", "-t", topic, ...args], { stdin: lines.join("\n") + "\n" });

describe("kcat", () => {
  test("-L -J before any topic exists: one broker, at the address it listens on", async () => {
    const md = await kcatMetadata(broker.address);
    expect(md.brokers.length).toBe(1);
    expect(md.brokers[0]!.name).toBe(broker.address);
    expect(md.originating_broker.id).toBe(md.brokers[0]!.id);
    for (const t of md.topics) expect(t.topic.startsWith("__")).toBe(true); // nothing of ours yet
  });

  test("-P with keys, headers and an explicit partition; -C reads back exactly", async () => {
    const topic = topicName("kcat-keys");
    const before = Date.now();
    await produce(topic, ["a:1", "b:1", "a:2", "b:2", "a:3"], ["-p", "0", "-K:", "-H", "app=brook", "-H", "trace=t-1"]);
    await produce(topic, ["c:x", "c:y"], ["-p", "2", "-K:", "-H", "only=p2"]);
    const after = Date.now();

    const p0 = await kcatConsume(broker.address, topic, { partition: 0 });
    expect(p0.map((m) => [m.offset, m.key, m.payload])).toEqual([
      [0, "a", "1"],
      [1, "b", "1"],
      [2, "a", "2"],
      [3, "b", "2"],
      [4, "a", "3"],
    ]);
    for (const m of p0) {
      expect(m.partition).toBe(0);
      expect(kcatHeaders(m)).toEqual([
        ["app", "brook"],
        ["trace", "t-1"],
      ]);
      expect(m.tstype).toBe("create");
      expect(m.ts).toBeGreaterThanOrEqual(before - 1000);
      expect(m.ts).toBeLessThanOrEqual(after + 1000);
    }

    const p2 = await kcatConsume(broker.address, topic, { partition: 2 });
    expect(p2.map((m) => [m.partition, m.offset, m.key, m.payload, kcatHeaders(m)])).toEqual([
      [2, 0, "c", "x", [["only", "p2"]]],
      [2, 1, "c", "y", [["only", "p2"]]],
    ]);

    expect(await kcatConsume(broker.address, topic, { partition: 1 })).toEqual([]);

    // The whole topic: 7 messages, each partition's offsets dense from 0.
    const all = await kcatConsume(broker.address, topic);
    expect(all.length).toBe(7);

    // The topic was auto-created with num.partitions=3, and -L shows it led by our one broker.
    const md = await kcatMetadata(broker.address, topic);
    const t = md.topics.find((x) => x.topic === topic)!;
    expect(t).toBeDefined();
    expect(t.error).toBeUndefined();
    const brokerId = md.brokers[0]!.id;
    expect(t.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
    for (const p of t.partitions) {
      expect(p.leader).toBe(brokerId);
      expect(p.replicas.map((r) => r.id)).toEqual([brokerId]);
      expect(p.isrs.map((r) => r.id)).toEqual([brokerId]);
    }
  });

  test("keyed messages without -p: every key stays in one partition, in order; offsets dense", async () => {
    const topic = topicName("kcat-partitioner");
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) lines.push(`key-${i % 7}:${i}`);
    await produce(topic, lines, ["-K:"]);

    const all = await kcatConsume(broker.address, topic);
    expect(all.length).toBe(60);
    for (const [key, msgs] of byKey(all)) {
      expect(new Set(msgs.map((m) => m.partition)).size).toBe(1);
      const values = msgs.map((m) => Number(m.payload));
      // kcat -C interleaves partitions, but within one partition the order is the log order.
      expect(values).toEqual([...values].sort((a, b) => a - b));
      for (const v of values) expect(`key-${v % 7}`).toBe(key!);
    }
    for (let p = 0; p < 3; p++) {
      const offs = all.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offs).toEqual(offs.map((_, i) => i));
    }
    expect(new Set(all.map((m) => Number(m.payload)))).toEqual(new Set(lines.map((_, i) => i)));
  });

  test("-Z: an empty value is produced as null (a tombstone) and read back as null", async () => {
    const topic = topicName("kcat-null");
    await produce(topic, ["k1:v1", "k1:", "k2:v2"], ["-p", "0", "-K:", "-Z"]);
    const msgs = await kcatConsume(broker.address, topic, { partition: 0 });
    expect(msgs.map((m) => [m.offset, m.key, m.payload])).toEqual([
      [0, "k1", "v1"],
      [1, "k1", null],
      [2, "k2", "v2"],
    ]);
  });

  for (const codec of ["gzip", "snappy", "lz4", "zstd"]) {
    test(`compression.codec=${codec}: 200 messages read back exactly`, async () => {
      const topic = topicName(`kcat-${codec}`);
      const lines: string[] = [];
      // Repetitive payloads so every codec really compresses; several keys to check per-key order.
      for (let i = 0; i < 200; i++) lines.push(`k${i % 5}:${codec}-value-${i}-${"x".repeat(i % 50)}`);
      await produce(topic, lines, ["-p", "1", "-K:", "-H", `codec=${codec}`, "-X", `compression.codec=${codec}`, "-X", "linger.ms=20"]);
      const msgs = await kcatConsume(broker.address, topic, { partition: 1 });
      expect(msgs.length).toBe(200);
      msgs.forEach((m, i) => {
        expect(m.offset).toBe(i);
        expect(m.key).toBe(`k${i % 5}`);
        expect(m.payload).toBe(`${codec}-value-${i}-${"x".repeat(i % 50)}`);
        expect(kcatHeaders(m)).toEqual([["codec", codec]]);
      });
      // The batches really were compressed with this codec (not silently sent uncompressed).
      const codecs = await storedCodecs(broker.address, topic, 1);
      expect(codecs).toContain(CODEC_ID[codec]!);
      expect(codecs.every((c) => c === 0 || c === CODEC_ID[codec])).toBe(true);
      // Reading from the middle of a (compressed) batch: kcat -o 137 must start exactly there.
      const tail = await kcatConsume(broker.address, topic, { partition: 1, offset: 137 });
      expect(tail.map((m) => m.offset)).toEqual(Array.from({ length: 63 }, (_, i) => 137 + i));
    });
  }
});
