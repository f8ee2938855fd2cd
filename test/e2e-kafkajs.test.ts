// End to end with kafkajs 2.2.4 (a dev dependency) against the broker embedded in this process, on port 0.
// Producer: acks 1 and -1, gzip, keys and headers; an acks=0 produce followed by an acks=1 produce on the
// same connection (ordering, and no answer to acks=0). Admin: createTopics, fetchTopicMetadata,
// fetchTopicOffsets(ByTimestamp), listTopics, deleteTopics.
// kafkajs's consumer needs consumer groups, which the broker does not have yet: every read-back goes
// through kcat (librdkafka), a path independent of kafkajs. kcat is spawned asynchronously, so the
// embedded broker keeps serving while it runs.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CompressionTypes, Kafka, logLevel, Partitioners, type Admin, type Producer } from "kafkajs";
import { startBroker } from "../src/index.ts";
import { kcatConsume, kcatHeaders, kcatMetadata, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

// bunfig's [test] timeout is not applied to these files: set it here (stock clients are slow to start).
setDefaultTimeout(30000);

type Broker = Awaited<ReturnType<typeof startBroker>>;

let dir: TempDir;
let broker: Broker;
let kafka: Kafka;
const logs: { level: number; namespace: string; message: string; extra: unknown }[] = [];

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-kafkajs-");
  broker = await startBroker({
    dataDir: dir.path,
    overrides: { listeners: "PLAINTEXT://127.0.0.1:0", "num.partitions": 1 },
    logLevel: "warn",
  });
  kafka = new Kafka({
    clientId: "brook-e2e-kafkajs",
    brokers: [broker.address],
    logLevel: logLevel.WARN,
    retry: { retries: 3, initialRetryTime: 100 },
    logCreator: () => (entry) => {
      const { message, ...extra } = entry.log;
      logs.push({ level: entry.level, namespace: entry.namespace, message, extra });
    },
  });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

async function withProducer<T>(fn: (p: Producer) => Promise<T>): Promise<T> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: false });
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

async function withAdmin<T>(fn: (a: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

describe("kafkajs", () => {
  for (const acks of [1, -1]) {
    for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
      const label = `acks=${acks} ${compression === CompressionTypes.GZIP ? "gzip" : "none"}`;
      test(`${label}: keys and headers read back exactly by kcat`, async () => {
        const topic = topicName(`kjs-${label}`);
        const ts = 1_700_000_000_000;
        const messages = Array.from({ length: 25 }, (_, i) => ({
          key: i % 4 === 3 ? null : `key-${i % 3}`,
          value: `${label} value ${i} ${"q".repeat(i)}`,
          headers: i % 2 === 0 ? { idx: String(i), src: "kafkajs" } : undefined,
          timestamp: String(ts + i),
        }));
        const results = await withProducer(async (p) => {
          const first = await p.send({ topic, acks, compression, messages: messages.slice(0, 10) });
          const second = await p.send({ topic, acks, compression, messages: messages.slice(10) });
          return [first, second];
        });
        expect(results.map((r) => r.map((x) => [x.topicName, x.partition, x.errorCode, x.baseOffset]))).toEqual([
          [[topic, 0, 0, "0"]],
          [[topic, 0, 0, "10"]],
        ]);

        const read = await kcatConsume(broker.address, topic, { partition: 0 });
        expect(read.map((m) => [m.offset, m.key, m.payload, kcatHeaders(m), m.ts])).toEqual(
          messages.map((m, i) => [
            i,
            m.key,
            m.value,
            m.headers ? [["idx", String(i)], ["src", "kafkajs"]] : [],
            ts + i,
          ]),
        );
      });
    }
  }

  test("acks=0 then acks=1 on the same connection: appended in order, and acks=0 gets no answer", async () => {
    const topic = topicName("kjs-acks0");
    const before = logs.length;
    const offsets = await withProducer(async (p) => {
      // Make sure the topic exists and the connection is up, so every send below uses one socket.
      const warm = await p.send({ topic, acks: 1, messages: [{ key: "w", value: "warm-up" }] });
      expect(warm[0]!.baseOffset).toBe("0");
      for (let i = 0; i < 3; i++) {
        const r = await p.send({
          topic,
          acks: 0,
          messages: [
            { key: "z", value: `acks0-${i}-a` },
            { key: "z", value: `acks0-${i}-b` },
          ],
        });
        expect(r).toEqual([]); // kafkajs expects (and got) no response for acks=0
      }
      const after = await p.send({ topic, acks: 1, messages: [{ key: "o", value: "acks1-after" }] });
      return after.map((x) => x.baseOffset);
    });
    // 1 warm-up + 6 acks=0 records before it: the acks=1 record lands at offset 7.
    expect(offsets).toEqual(["7"]);
    // Had the broker answered an acks=0 request, kafkajs would have logged an unmatched correlation id.
    const unexpected = logs.slice(before).filter((l) => /without match|correlation/i.test(l.message));
    expect(unexpected).toEqual([]);

    const read = await kcatConsume(broker.address, topic, { partition: 0 });
    expect(read.map((m) => [m.offset, m.payload])).toEqual([
      [0, "warm-up"],
      [1, "acks0-0-a"],
      [2, "acks0-0-b"],
      [3, "acks0-1-a"],
      [4, "acks0-1-b"],
      [5, "acks0-2-a"],
      [6, "acks0-2-b"],
      [7, "acks1-after"],
    ]);
  });

  test("admin: createTopics, fetchTopicMetadata, fetchTopicOffsets(ByTimestamp), deleteTopics", async () => {
    const topic = topicName("kjs-admin");
    await withAdmin(async (admin) => {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
      // A second create of the same topic: kafkajs maps TOPIC_ALREADY_EXISTS to false.
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false);
      expect(await admin.listTopics()).toContain(topic);

      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(md.topics.length).toBe(1);
      expect(md.topics[0]!.name).toBe(topic);
      const parts = [...md.topics[0]!.partitions].sort((a, b) => a.partitionId - b.partitionId);
      expect(parts.map((p) => p.partitionId)).toEqual([0, 1, 2]);
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBe(1);
      expect(cluster.brokers[0]!.host).toBe(broker.host);
      expect(cluster.brokers[0]!.port).toBe(broker.port);
      const nodeId = cluster.brokers[0]!.nodeId;
      expect(cluster.controller).toBe(nodeId);
      for (const p of parts) {
        expect(p.partitionErrorCode).toBe(0);
        expect(p.leader).toBe(nodeId);
        expect(p.replicas).toEqual([nodeId]);
        expect(p.isr).toEqual([nodeId]);
      }

      // Empty partitions: low = high = 0.
      const empty = await admin.fetchTopicOffsets(topic);
      expect([...empty].sort((a, b) => a.partition - b.partition).map((o) => [o.partition, o.low, o.high, o.offset])).toEqual([
        [0, "0", "0", "0"],
        [1, "0", "0", "0"],
        [2, "0", "0", "0"],
      ]);

      const ts = 1_700_000_000_000;
      await withProducer((p) =>
        p.send({
          topic,
          acks: -1,
          messages: [
            ...Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `p1-${i}`, timestamp: String(ts + i * 1000) })),
            { partition: 2, value: "p2-0", timestamp: String(ts) },
          ],
        }),
      );
      const offs = await admin.fetchTopicOffsets(topic);
      expect([...offs].sort((a, b) => a.partition - b.partition).map((o) => [o.partition, o.low, o.high])).toEqual([
        [0, "0", "0"],
        [1, "0", "4"],
        [2, "0", "1"],
      ]);
      const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, ts + 1500);
      const byTsMap = Object.fromEntries(byTs.map((o) => [o.partition, o.offset]));
      expect(byTsMap[1]).toBe("2"); // first record with timestamp >= ts + 1.5 s
      // No such record: Kafka answers -1, and kafkajs substitutes the high watermark for it.
      expect(["-1", "1"]).toContain(byTsMap[2]!);
      expect(["-1", "0"]).toContain(byTsMap[0]!);

      await admin.deleteTopics({ topics: [topic] });
      expect(await admin.listTopics()).not.toContain(topic);
    });
    // kcat no longer sees it either.
    const md = await kcatMetadata(broker.address);
    expect(md.topics.map((t) => t.topic)).not.toContain(topic);
  });
});
