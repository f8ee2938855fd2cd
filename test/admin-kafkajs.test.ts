// Topic administration through kafkajs 2.2.4's admin client against the embedded broker: createTopics with
// configs, fetchTopicMetadata, describeConfigs (topic and broker; sources, synonyms, read-only flags),
// alterConfigs (topic and dynamic broker configs; INVALID_CONFIG / INVALID_REQUEST refusals; validate-only),
// configs surviving a restart, segment.bytes altered live, createPartitions, deleteTopicRecords,
// fetchTopicOffsets, and the group offset calls (fetchOffsets, setOffsets, resetOffsets) after
// deleteTopicRecords. Read-backs of records go through kcat (librdkafka), independent of kafkajs.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from "kafkajs";
import { readBatchHeader } from "../protocol/records/batch.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { kcatConsume, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

const TOPIC = ConfigResourceTypes.TOPIC;
const BROKER = ConfigResourceTypes.BROKER;
const Source = { TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT: 3, STATIC: 4, DEFAULT: 5 };

let dir: TempDir;
let broker: BrokerHandle;
let kafka: Kafka;
let admin: Admin;

async function start(): Promise<void> {
  broker = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: { "log.retention.check.interval.ms": 60_000, "group.initial.rebalance.delay.ms": 0, "num.partitions": 1 },
  });
  kafka = new Kafka({ clientId: "admin-kafkajs", brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
}

async function stop(): Promise<void> {
  await admin?.disconnect();
  await broker?.close();
}

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-admin-kafkajs-");
  await start();
});

afterAll(async () => {
  await stop();
  await dir?.remove();
});

async function topicConfigs(topic: string, configNames?: string[], includeSynonyms = false) {
  const res = await admin.describeConfigs({ includeSynonyms, resources: [{ type: TOPIC, name: topic, configNames }] });
  expect(res.resources[0]!.errorCode).toBe(0);
  return new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
}

async function produce(topic: string, messages: { key: string; value: string; partition?: number }[]) {
  const producer = kafka.producer({ idempotent: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: messages.map((m) => ({ partition: 0, ...m })) });
  } finally {
    await producer.disconnect();
  }
}

describe("kafkajs admin", () => {
  test("createTopics with configs, fetchTopicMetadata, describeConfigs with sources and synonyms", async () => {
    const topic = topicName("adm-create");
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, configEntries: [{ name: "retention.ms", value: "3600000" }, { name: "cleanup.policy", value: "compact,delete" }] }],
    });
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr])).toEqual([
      [0, 1, [1], [1]],
      [1, 1, [1], [1]],
    ]);

    const all = await topicConfigs(topic);
    // Every topic config Kafka defines is listed, with Kafka's defaults.
    for (const name of ["retention.ms", "retention.bytes", "segment.bytes", "segment.ms", "cleanup.policy", "min.cleanable.dirty.ratio",
      "delete.retention.ms", "min.compaction.lag.ms", "max.message.bytes", "message.timestamp.type", "min.insync.replicas", "compression.type"])
      expect(all.has(name)).toBe(true);
    expect(all.get("retention.ms")).toMatchObject({ configValue: "3600000", configSource: Source.TOPIC, isDefault: false, readOnly: false, isSensitive: false });
    expect(all.get("cleanup.policy")).toMatchObject({ configValue: "compact,delete", configSource: Source.TOPIC });
    expect(all.get("segment.bytes")).toMatchObject({ configValue: "1073741824", configSource: Source.DEFAULT, isDefault: true });
    expect(all.get("delete.retention.ms")!.configValue).toBe("86400000");
    expect(all.get("min.cleanable.dirty.ratio")!.configValue).toBe("0.5");
    expect(all.get("message.timestamp.type")!.configValue).toBe("CreateTime");
    expect(all.get("max.message.bytes")!.configValue).toBe("1048588");
    expect(all.get("compression.type")!.configValue).toBe("producer");

    // Synonyms: the topic value first, then the broker layers that would apply without it, as Kafka lists
    // them: from the first one named like the primary broker property (log.retention.ms), so the default
    // of log.retention.hours alone is left out.
    const syn = await topicConfigs(topic, ["retention.ms", "segment.bytes"], true);
    expect(syn.get("retention.ms")!.configSynonyms).toEqual([
      { configName: "retention.ms", configValue: "3600000", configSource: Source.TOPIC },
    ]);
    expect(syn.get("segment.bytes")!.configSynonyms).toEqual([{ configName: "log.segment.bytes", configValue: "1073741824", configSource: Source.DEFAULT }]);
    expect([...syn.keys()].sort()).toEqual(["retention.ms", "segment.bytes"]);
  });

  test("createTopics refuses unknown config names and bad values with INVALID_CONFIG", async () => {
    const bad = [
      [{ name: "retention.msec", value: "1" }, /Unknown topic config name: retention.msec/],
      [{ name: "cleanup.policy", value: "shred" }, /cleanup.policy/],
      [{ name: "min.cleanable.dirty.ratio", value: "1.5" }, /min.cleanable.dirty.ratio/],
      [{ name: "message.timestamp.type", value: "WallClock" }, /message.timestamp.type/],
      [{ name: "segment.bytes", value: "lots" }, /segment.bytes/],
    ] as const;
    for (const [entry] of bad) {
      const err = await admin.createTopics({ topics: [{ topic: topicName("adm-bad"), configEntries: [entry] }] }).catch((e) => e);
      expect(err.errors?.[0]?.type ?? err.type).toBe("INVALID_CONFIG");
    }
  });

  test("alterConfigs on a topic: applied, validated, validate-only, and INVALID_CONFIG with the reason", async () => {
    const topic = topicName("adm-alter");
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: "retention.ms", value: "1000" }] }] });
    // AlterConfigs replaces the whole set: retention.ms goes back to its default.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: "max.message.bytes", value: "2048" }, { name: "cleanup.policy", value: "compact" }] }] });
    let c = await topicConfigs(topic, ["retention.ms", "max.message.bytes", "cleanup.policy"]);
    expect(c.get("retention.ms")).toMatchObject({ configValue: "604800000", configSource: Source.DEFAULT });
    expect(c.get("max.message.bytes")).toMatchObject({ configValue: "2048", configSource: Source.TOPIC });
    expect(c.get("cleanup.policy")).toMatchObject({ configValue: "compact", configSource: Source.TOPIC });

    // validateOnly changes nothing.
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: "max.message.bytes", value: "4096" }] }] });
    c = await topicConfigs(topic, ["max.message.bytes"]);
    expect(c.get("max.message.bytes")!.configValue).toBe("2048");

    // A bad value is refused, nothing changes.
    const err = await admin
      .alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: "retention.ms", value: "-5" }] }] })
      .catch((e) => e);
    expect(err.type).toBe("INVALID_CONFIG");
    c = await topicConfigs(topic, ["max.message.bytes"]);
    expect(c.get("max.message.bytes")!.configValue).toBe("2048");

    // max.message.bytes applies to produce at once.
    const producer = kafka.producer({ idempotent: false, retry: { retries: 0 } });
    await producer.connect();
    const tooBig = await producer.send({ topic, messages: [{ key: "k", value: "x".repeat(4000) }] }).catch((e) => e);
    await producer.disconnect();
    expect(String(tooBig?.type ?? tooBig?.originalError?.type ?? tooBig)).toContain("MESSAGE_TOO_LARGE");

    // An unknown topic.
    const missing = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: "no-such-topic-adm" }] }).catch((e) => e);
    expect(missing.type ?? missing.resources?.[0]?.errorCode).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  test("compression.type and message.timestamp.type apply to what is stored; a change applies to the next batch", async () => {
    const topic = topicName("adm-codec");
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: "compression.type", value: "gzip" }, { name: "message.timestamp.type", value: "LogAppendTime" }] }] });
    const before = Date.now();
    await produce(topic, [{ key: "a", value: "x".repeat(300) }, { key: "b", value: "y".repeat(300) }]);
    const log = broker.broker.topics.partition(topic, 0)!.log;
    const first = readBatchHeader(log.read(0, 1)!);
    expect(first.attributes & 7).toBe(1); // recompressed with gzip
    expect(first.attributes & 8).toBe(8); // LogAppendTime
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: "compression.type", value: "uncompressed" }] }] });
    await produce(topic, [{ key: "c", value: "z".repeat(300) }]);
    expect(readBatchHeader(log.read(2, 1)!).attributes & 15).toBe(0);
    const msgs = await kcatConsume(broker.address, topic, { partition: 0 });
    expect(msgs.map((m) => [m.offset, m.key, m.payload?.length])).toEqual([[0, "a", 300], [1, "b", 300], [2, "c", 300]]);
    expect(msgs[0]!.tstype).toBe("logappend");
    expect(msgs[0]!.ts).toBeGreaterThanOrEqual(before);
  });

  test("segment.bytes altered live: the partition rolls at the new size", async () => {
    const topic = topicName("adm-segbytes");
    await admin.createTopics({ topics: [{ topic }] });
    await produce(topic, [{ key: "a", value: "1" }, { key: "b", value: "2" }]);
    const log = broker.broker.topics.partition(topic, 0)!.log;
    expect(log.segments).toHaveLength(1);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: "segment.bytes", value: "100" }] }] });
    for (let i = 0; i < 3; i++) await produce(topic, [{ key: `k${i}`, value: `v${i}` }]);
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 2, 3, 4]);
    expect(log.config.segmentBytes).toBe(100);
  });

  test("broker configs: describe with sources and read-only flags; dynamic ones altered, others refused", async () => {
    const res = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: BROKER, name: "1" }] });
    const entries = new Map(res.resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(entries.get("log.retention.check.interval.ms")).toMatchObject({ configValue: "60000", configSource: Source.STATIC, readOnly: true });
    expect(entries.get("log.retention.hours")).toMatchObject({ configValue: "168", configSource: Source.DEFAULT, isDefault: true });
    expect(entries.get("log.segment.bytes")).toMatchObject({ configValue: "1073741824", readOnly: false });
    expect(entries.get("log.cleaner.enable")).toMatchObject({ configValue: "true", readOnly: true });
    expect(entries.get("log.dirs")!.configValue).toBe(dir.path);

    // A dynamic broker default flows into every topic that does not set its own value.
    const topic = topicName("adm-dyn");
    await admin.createTopics({ topics: [{ topic }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: BROKER, name: "1", configEntries: [{ name: "log.retention.ms", value: "7200000" }] }] });
    const t = await topicConfigs(topic, ["retention.ms"], true);
    expect(t.get("retention.ms")).toMatchObject({ configValue: "7200000", configSource: Source.DYNAMIC_BROKER });
    expect(t.get("retention.ms")!.configSynonyms[0]).toEqual({ configName: "log.retention.ms", configValue: "7200000", configSource: Source.DYNAMIC_BROKER });

    // Read-only (startup-only) broker configs are refused with INVALID_REQUEST.
    const err = await admin
      .alterConfigs({ validateOnly: false, resources: [{ type: BROKER, name: "1", configEntries: [{ name: "log.dirs", value: "/elsewhere" }] }] })
      .catch((e) => e);
    expect(err.type).toBe("INVALID_REQUEST");
  });

  test("createPartitions raises the count (and refuses to lower it)", async () => {
    const topic = topicName("adm-partitions");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "retention.ms", value: "12345" }] }] });
    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(md.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    // The new partitions take the topic's configs and accept data.
    expect(broker.broker.topics.partition(topic, 2)!.log).toBeDefined();
    await produce(topic, [{ key: "x", value: "to p2", partition: 2 }]);
    expect((await kcatConsume(broker.address, topic, { partition: 2 })).map((m) => m.payload)).toEqual(["to p2"]);
    const err = await admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] }).catch((e) => e);
    expect(err.type ?? err.errors?.[0]?.type).toBe("INVALID_PARTITIONS");
  });

  test("deleteTopicRecords moves the low watermark; fetchTopicOffsets and consumers follow", async () => {
    const topic = topicName("adm-delrec");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs looks the leader up in its metadata cache
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "4" }] });
    expect(await admin.fetchTopicOffsets(topic)).toEqual([{ partition: 0, offset: "10", high: "10", low: "4" }]);
    expect((await kcatConsume(broker.address, topic, { partition: 0 })).map((m) => m.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    // -1 means "up to the high watermark".
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "-1" }] });
    expect((await admin.fetchTopicOffsets(topic))[0]).toMatchObject({ low: "10", high: "10" });
    // Past the high watermark: OFFSET_OUT_OF_RANGE.
    const err = await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "99" }] }).catch((e) => e);
    expect(err.cause.partitions[0].error).toMatchObject({ type: "OFFSET_OUT_OF_RANGE", code: 1 });
  });

  test("group offsets: fetchOffsets, setOffsets, resetOffsets (to the new earliest after deleteTopicRecords)", async () => {
    const topic = topicName("adm-groupoffsets");
    const groupId = `g-${topic}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await produce(topic, Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: "2" }] });
    expect(await admin.fetchOffsets({ groupId, topics: [topic] })).toEqual([{ topic, partitions: [{ partition: 0, offset: "2", metadata: null }] }]);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "3" }] });
    // kafkajs commits Kafka's "earliest"/"latest" sentinels (-2/-1) and resolves them through ListOffsets.
    await admin.resetOffsets({ groupId, topic, earliest: true });
    expect((await admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: true }))[0]!.partitions[0]!.offset).toBe("3");
    await admin.resetOffsets({ groupId, topic, earliest: false });
    expect((await admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: true }))[0]!.partitions[0]!.offset).toBe("6");
  });

  test("configs (topic and dynamic broker) and added partitions survive a restart", async () => {
    const topic = topicName("adm-restart");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: "cleanup.policy", value: "compact" }, { name: "segment.bytes", value: "4096" }] }] });
    await admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: BROKER, name: "1", configEntries: [{ name: "log.retention.ms", value: "5400000" }, { name: "log.cleaner.backoff.ms", value: "1000" }] }] });
    await stop();
    await start();
    const c = await topicConfigs(topic, ["cleanup.policy", "segment.bytes", "retention.ms"]);
    expect(c.get("cleanup.policy")).toMatchObject({ configValue: "compact", configSource: Source.TOPIC });
    expect(c.get("segment.bytes")).toMatchObject({ configValue: "4096", configSource: Source.TOPIC });
    expect(c.get("retention.ms")).toMatchObject({ configValue: "5400000", configSource: Source.DYNAMIC_BROKER });
    expect(broker.broker.topics.partition(topic, 0)!.log.config.segmentBytes).toBe(4096);
    expect(broker.broker.topics.get(topic)!.partitions).toHaveLength(2);
    expect(broker.broker.config.get("log.cleaner.backoff.ms")).toBe(1000);
  });
});
