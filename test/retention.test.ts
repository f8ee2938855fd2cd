// Retention with stock clients: a broker checking every 50 ms (log.retention.check.interval.ms), topics with
// tiny segments. Time-based (retention.ms against the segments' largest record timestamps) and size-based
// (retention.bytes) deletion of whole sealed segments, the log start offset moving forward (ListOffsets
// earliest, DescribeLogDirs sizes, files gone), consumers positioned below it resetting per their
// auto.offset.reset (librdkafka earliest and latest, kafka-python earliest), retention.ms altered live,
// compact+delete, the active segment never deleted, and the new start surviving a restart.
// Waits are on retention checks (an event), never sleeps.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { confluentConsume, confluentProduce, kafkaPythonConsume, pyScript, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

const OVERRIDES = { "log.retention.check.interval.ms": 50, "log.cleaner.backoff.ms": 50 };
let dir: TempDir;
let broker: BrokerHandle;
let kafka: Kafka;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-retention-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: OVERRIDES });
  kafka = new Kafka({ clientId: "retention", brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

const HOUR = 3_600_000;

async function createTopic(topic: string, configs: Record<string, string>) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: Object.entries({ "segment.bytes": "100", ...configs }).map(([name, value]) => ({ name, value })) }],
    });
  } finally {
    await admin.disconnect();
  }
}

/** One batch (hence, with segment.bytes=100, one segment) per message; explicit CreateTime timestamps. */
async function produce(topic: string, messages: { key: string; value: string; timestamp: number }[]) {
  const r = await confluentProduce({ bootstrap: broker.address, topic, flush_every: 1, messages: messages.map((m) => ({ ...m, partition: 0 })) });
  expect(r.summary.delivered).toBe(messages.length);
}

async function offsets(topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [p] = await admin.fetchTopicOffsets(topic);
    return { low: Number(p!.low), high: Number(p!.high) };
  } finally {
    await admin.disconnect();
  }
}

/** Resolves after the first retention check at which cond() holds (bounded). */
function afterRetention(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const m = broker.broker.maintenance;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`retention condition not met within ${timeoutMs} ms (${JSON.stringify(m.retention)})`));
    }, timeoutMs);
    const off = m.onRetentionCheck(() => {
      if (!cond()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

const segmentFiles = (topic: string) =>
  readdirSync(broker.broker.topics.partition(topic, 0)!.log.dir).filter((f) => f.endsWith(".log")).sort();
const logOf = (topic: string) => broker.broker.topics.partition(topic, 0)!.log;

describe("retention", () => {
  test("retention.ms: old segments go, the log start moves, consumers below it reset per auto.offset.reset", async () => {
    const topic = topicName("ret-time");
    await createTopic(topic, { "retention.ms": String(HOUR) });
    const old = Date.now() - 2 * HOUR;
    await produce(topic, Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `old-${i}`, timestamp: old + i })));
    const retained = afterRetention(() => logOf(topic).logStartOffset === 6);
    await produce(topic, [0, 1, 2].map((i) => ({ key: `n${i}`, value: `new-${i}`, timestamp: Date.now() })));
    await retained;

    expect(await offsets(topic)).toEqual({ low: 6, high: 9 });
    // The old segment files are gone; the newest ones (and the active one) stay.
    expect(segmentFiles(topic)).toEqual(["00000000000000000006.log", "00000000000000000007.log", "00000000000000000008.log"]);

    // librdkafka assigned at offset 0 with auto.offset.reset=earliest: OFFSET_OUT_OF_RANGE, reset to 6.
    const early = await confluentConsume({ bootstrap: broker.address, topic, partitions: [0], start: { "0": 0 }, config: { "auto.offset.reset": "earliest" } });
    expect(early.lines.map((m) => [m.offset, m.value])).toEqual([[6, "new-0"], [7, "new-1"], [8, "new-2"]]);
    // ... with auto.offset.reset=latest: reset to the end, nothing old is read.
    const late = await confluentConsume({ bootstrap: broker.address, topic, partitions: [0], start: { "0": 0 }, config: { "auto.offset.reset": "latest" } });
    expect(late.lines).toEqual([]);
    expect(late.summary.eof).toEqual([0]);
    // kafka-python seeking to 0 resets to the earliest offset too.
    const kp = await kafkaPythonConsume({ bootstrap: broker.address, topic, partitions: [0], start: { "0": 0 } });
    expect(kp.lines.map((m) => m.offset)).toEqual([6, 7, 8]);
  });

  test("the active segment is never deleted, even when all its records are past retention", async () => {
    const topic = topicName("ret-active");
    await createTopic(topic, { "retention.ms": String(HOUR), "segment.bytes": String(1 << 20) });
    await produce(topic, [{ key: "k", value: "ancient", timestamp: Date.now() - 5 * HOUR }]);
    const checks = broker.broker.maintenance.retention.checks;
    await afterRetention(() => broker.broker.maintenance.retention.checks >= checks + 3);
    expect(await offsets(topic)).toEqual({ low: 0, high: 1 });
    expect(segmentFiles(topic)).toEqual(["00000000000000000000.log"]);
  });

  test("retention.bytes: the oldest segments go while the rest still holds at least retention.bytes", async () => {
    const topic = topicName("ret-bytes");
    const now = Date.now();
    await createTopic(topic, {});
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `value-${i}`.padEnd(60, "."), timestamp: now })));
    const log = logOf(topic);
    const segSize = log.segments[0]!.size;
    expect(log.segments.length).toBe(10);
    // Allow 3.5 segments: the oldest 6 go, the newest 4 hold at least that much (Kafka never goes below).
    const limit = Math.floor(3.5 * segSize);
    const done = afterRetention(() => log.logStartOffset > 0);
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: "segment.bytes", value: "100" }, { name: "retention.bytes", value: String(limit) }] }] });
    await admin.disconnect();
    await done;
    expect(log.logStartOffset).toBe(6);
    expect(log.size).toBeGreaterThanOrEqual(limit - segSize);
    expect(log.size - log.segments[0]!.size).toBeLessThan(limit);
    expect(segmentFiles(topic)).toEqual(["00000000000000000006.log", "00000000000000000007.log", "00000000000000000008.log", "00000000000000000009.log"]);
  });

  test("retention.ms altered live (kafka-python alter_configs) applies at the next check", async () => {
    const topic = topicName("ret-live");
    await createTopic(topic, { "retention.ms": "-1" });
    await produce(topic, [0, 1, 2].map((i) => ({ key: `k${i}`, value: `old-${i}`, timestamp: Date.now() - 3 * HOUR })));
    await produce(topic, [{ key: "n", value: "new", timestamp: Date.now() }]);
    const checks = broker.broker.maintenance.retention.checks;
    await afterRetention(() => broker.broker.maintenance.retention.checks >= checks + 2);
    expect((await offsets(topic)).low).toBe(0); // retention.ms=-1: kept forever
    const done = afterRetention(() => logOf(topic).logStartOffset === 3);
    const r = await pyScript("admin_kafka_python.py", { bootstrap: broker.address, op: "alter_topic_configs", topic, configs: { "retention.ms": String(HOUR) } });
    expect(r.lines[0]).toMatchObject({ errors: [[0, null]] });
    await done;
    expect(await offsets(topic)).toEqual({ low: 3, high: 4 });
  });

  test("cleanup.policy=compact,delete: both compaction and retention apply", async () => {
    const topic = topicName("ret-compact-delete");
    await createTopic(topic, { "cleanup.policy": "compact,delete", "retention.ms": String(HOUR), "min.cleanable.dirty.ratio": "0.01" });
    await produce(topic, [
      { key: "old", value: "ancient", timestamp: Date.now() - 2 * HOUR }, // retention's
      { key: "A", value: "v1", timestamp: Date.now() }, // the cleaner's
      { key: "A", value: "v2", timestamp: Date.now() },
      { key: "roll", value: "x", timestamp: Date.now() },
    ]);
    const log = logOf(topic);
    // Retention removes "old"'s segment; if the cleaner removed A=v1's segment first, the log start
    // moves past it as well (to 2), as in Kafka. Either order is right.
    await afterRetention(() => log.logStartOffset >= 1);
    // The cleaner removes A=v1 (superseded by A=v2): wait for passes until its segment is gone (bounded).
    const deadline = Date.now() + 20_000;
    while (log.segments.some((s) => s.baseOffset === 1)) {
      if (Date.now() > deadline) throw new Error("A=v1 was never compacted away");
      await new Promise<void>((r) => {
        const off = broker.broker.maintenance.cleaner!.onPass(() => (off(), r()));
      });
    }
    const seen = await confluentConsume({ bootstrap: broker.address, topic, partitions: [0] });
    expect(seen.lines.map((m) => [m.offset, m.key, m.value])).toEqual([[2, "A", "v2"], [3, "roll", "x"]]);
    expect([1, 2]).toContain((await offsets(topic)).low);
  });

  test("the new log start offset survives a restart", async () => {
    await using d = await tempDir("brook-retention-restart-");
    const topic = "ret-restart";
    {
      await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: OVERRIDES });
      const k = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
      const admin = k.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "100" }, { name: "retention.ms", value: String(HOUR) }] }] });
      await admin.disconnect();
      const log = () => b.broker.topics.partition(topic, 0)!.log;
      const gone = new Promise<void>((resolve) => {
        const off = b.broker.maintenance.onRetentionCheck(() => log().logStartOffset === 2 && (off(), resolve()));
      });
      const r = await confluentProduce({
        bootstrap: b.address,
        topic,
        flush_every: 1,
        messages: [
          { key: "a", value: "old", timestamp: Date.now() - 2 * HOUR, partition: 0 },
          { key: "b", value: "old", timestamp: Date.now() - 2 * HOUR, partition: 0 },
          { key: "c", value: "new", timestamp: Date.now(), partition: 0 },
        ],
      });
      expect(r.summary.delivered).toBe(3);
      await gone;
    }
    await using b2 = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: OVERRIDES });
    const log = b2.broker.topics.partition(topic, 0)!.log;
    expect([log.logStartOffset, log.logEndOffset]).toEqual([2, 3]);
  });
});
