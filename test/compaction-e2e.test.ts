// Log compaction end to end: a broker with a fast cleaner (log.cleaner.backoff.ms=50), compacted topics
// with tiny segments, produced to and read back by stock clients. The example (kcat, kafka-python
// and a kafkajs group consumer all see A=v2@2, C=v1@3, B=v2@4), a tombstone that disappears after
// delete.retention.ms, compressed topics for every codec (librdkafka's batches, plus Java-style xerial
// snappy), keyless records refused, and the longest pause a big compaction causes to produce and fetch.
// Tests wait on the cleaner's pass events (never on sleeps).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
// @ts-ignore snappyjs ships no type declarations
import SnappyJS from "snappyjs";
import { Fetch } from "../protocol/apis/01-fetch.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { crc32c, readBatchHeader } from "../protocol/records/batch.ts";
import { encodeBatch } from "../protocol/records/records.ts";
import { KafkaClient } from "../src/client.ts";
import type { CompactResult } from "../src/log/cleaner.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { confluentProduce, kafkaPythonConsume, kcatConsume, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

let dir: TempDir;
let broker: BrokerHandle;
let kafka: Kafka;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-compaction-e2e-");
  broker = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: { "log.cleaner.backoff.ms": 50, "group.initial.rebalance.delay.ms": 0 },
  });
  kafka = new Kafka({ clientId: "compaction-e2e", brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
});

afterAll(async () => {
  brookClient?.close();
  await broker?.close();
  await dir?.remove();
});

const COMPACTED = [
  { name: "cleanup.policy", value: "compact" },
  { name: "segment.bytes", value: "100" }, // every batch in its own segment
  { name: "min.cleanable.dirty.ratio", value: "0.01" },
];

function withConfigs(extra: { name: string; value: string }[]) {
  return [...COMPACTED.filter((c) => !extra.some((e) => e.name === c.name)), ...extra];
}

async function createTopic(topic: string, extra: { name: string; value: string }[] = []) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: withConfigs(extra) }] });
  } finally {
    await admin.disconnect();
  }
}

/** Resolves with the first cleaner pass over `topic`-0 that satisfies `cond` (bounded wait). */
function cleanerPass(topic: string, cond: (r: CompactResult) => boolean, timeoutMs = 30_000): Promise<CompactResult> {
  const cleaner = broker.broker.maintenance.cleaner!;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no cleaner pass over ${topic}-0 matched within ${timeoutMs} ms; last: ${JSON.stringify(cleaner.stats.lastPass)}`));
    }, timeoutMs);
    const off = cleaner.onPass(() => {
      const r = cleaner.stats.lastPass;
      if (r && r.name === `${topic}-0` && !r.aborted && cond(r)) {
        clearTimeout(timer);
        off();
        resolve(r);
      }
    });
  });
}

async function produceEach(topic: string, messages: { key: string; value: string | null }[]) {
  const producer = kafka.producer({ idempotent: false });
  await producer.connect();
  try {
    for (const m of messages) await producer.send({ topic, messages: [{ ...m, partition: 0 }] }); // one batch each
  } finally {
    await producer.disconnect();
  }
}

let brookClient: KafkaClient | null = null;
async function brookProduce(topic: string, batch: Uint8Array): Promise<void> {
  brookClient ??= await KafkaClient.connect(broker.address);
  const res = await brookClient.request(Produce, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
  expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
}

const kcatView = async (topic: string) =>
  (await kcatConsume(broker.address, topic, { partition: 0 })).map((m) => [m.offset, m.key, m.payload]);

describe("compaction with stock clients", () => {
  test("the issue's example: consumers from the beginning see A=v2 at 2, C=v1 at 3, B=v2 at 4", async () => {
    const topic = topicName("compact-example");
    await createTopic(topic);
    await produceEach(topic, [
      { key: "A", value: "v1" },
      { key: "B", value: "v1" },
      { key: "A", value: "v2" },
      { key: "C", value: "v1" },
      { key: "B", value: "v2" },
    ]);
    const cleaned = cleanerPass(topic, (r) => r.cleanedUpTo >= 5);
    await produceEach(topic, [{ key: "roll", value: "seals offset 4" }]);
    await cleaned;
    const expected = [[2, "A", "v2"], [3, "C", "v1"], [4, "B", "v2"], [5, "roll", "seals offset 4"]];
    expect(await kcatView(topic)).toEqual(expected);

    const kp = await kafkaPythonConsume({ bootstrap: broker.address, topic, partitions: [0] });
    expect(kp.lines.map((m) => [m.offset, m.key, m.value])).toEqual(expected);

    // A kafkajs group consumer (fetch, commit) from the beginning.
    const consumer = kafka.consumer({ groupId: `g-${topic}`, sessionTimeout: 10_000 });
    const seen: (string | number | null)[][] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        consumer.run({
          eachMessage: async ({ message }) => {
            seen.push([Number(message.offset), message.key?.toString() ?? null, message.value?.toString() ?? null]);
            if (Number(message.offset) === 5) resolve();
          },
        });
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(expected);

    // Earliest is still 0 (compaction never moves the log start offset), latest is 6.
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets).toEqual([{ partition: 0, offset: "6", high: "6", low: "0" }]);
  });

  test("a tombstone hides its key at once and is itself gone after delete.retention.ms", async () => {
    const topic = topicName("compact-tombstone");
    const deleteRetentionMs = 1500;
    await createTopic(topic, [{ name: "delete.retention.ms", value: String(deleteRetentionMs) }]);
    await produceEach(topic, [
      { key: "A", value: "v1" },
      { key: "B", value: "v1" },
      { key: "A", value: null },
    ]);
    const first = cleanerPass(topic, (r) => r.cleanedUpTo >= 3);
    await produceEach(topic, [{ key: "roll", value: "x" }]);
    await first;
    const keptAt = Date.now();
    expect(await kcatView(topic)).toEqual([[1, "B", "v1"], [2, "A", null], [3, "roll", "x"]]);
    await cleanerPass(topic, (r) => r.tombstonesRemoved > 0, deleteRetentionMs + 30_000);
    expect(Date.now() - keptAt).toBeGreaterThanOrEqual(deleteRetentionMs - 50);
    expect(await kcatView(topic)).toEqual([[1, "B", "v1"], [3, "roll", "x"]]);
  });

  // Who writes each codec's batches. librdkafka 2.0.2 compresses only with zstd against Brook: it ties
  // gzip/snappy/lz4 to protocol features it infers from Produce v2 / Fetch v2 being advertised (Brook
  // starts at v3/v4) and sends such batches uncompressed. So gzip comes from kafkajs, zstd from
  // librdkafka, and snappy (both framings) and lz4 from Brook's own record encoder; every read-back is
  // kcat's (librdkafka's decoders), independent of Brook's codecs.
  const pad = "-".repeat(200); // compressible, so every producer really compresses
  const rawSnappy = (records: { key: string; value: string }[]) => {
    const plain = encodeBatch({ records });
    const section = SnappyJS.compress(plain.subarray(61)) as Uint8Array;
    const batch = new Uint8Array(61 + section.length);
    batch.set(plain.subarray(0, 61));
    batch.set(section, 61);
    const v = new DataView(batch.buffer);
    v.setInt32(8, batch.length - 12);
    v.setInt16(21, 2);
    v.setUint32(17, crc32c(batch, 21, batch.length));
    return batch;
  };
  const producers: Record<string, (topic: string, records: { key: string; value: string }[]) => Promise<void>> = {
    "gzip (kafkajs)": async (topic, records) => {
      const producer = kafka.producer({ idempotent: false });
      await producer.connect();
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages: records.map((r) => ({ ...r, partition: 0 })) });
      await producer.disconnect();
    },
    "zstd (librdkafka)": async (topic, records) => {
      // Metadata first and a long linger: flush() at the end sends all five as one batch.
      await confluentProduce({ bootstrap: broker.address, topic, warm_metadata: true, messages: records.map((r) => ({ ...r, partition: 0 })), config: { "compression.type": "zstd", "linger.ms": 10000 } });
    },
    "snappy, xerial framing (Java style)": (topic, records) => brookProduce(topic, encodeBatch({ codec: 2, records })),
    "snappy, raw framing (librdkafka style)": (topic, records) => brookProduce(topic, rawSnappy(records)),
    "lz4": (topic, records) => brookProduce(topic, encodeBatch({ codec: 3, records })),
  };
  for (const [label, produce] of Object.entries(producers)) {
    test(`a compressed compacted topic: ${label}`, async () => {
      const topic = topicName(`compact-${label.split(" ")[0]}`);
      await createTopic(topic);
      const first = [["A", "v1"], ["B", "v1"], ["A", "v2"], ["C", "v1"], ["B", "v2"]].map(([key, v]) => ({ key: key!, value: v + pad }));
      await produce(topic, first); // one batch of five
      const log = broker.broker.topics.partition(topic, 0)!.log;
      const original = log.read(0, 1)!.slice();
      expect(readBatchHeader(original).recordCount).toBe(5);
      expect(readBatchHeader(original).attributes & 7).not.toBe(0);
      const cleaned = cleanerPass(topic, (r) => r.cleanedUpTo >= 7);
      await produce(topic, [{ key: "C", value: "v2" + pad }, { key: "D", value: "v1" + pad }]);
      await brookProduce(topic, encodeBatch({ records: [{ key: "roll", value: "x" }] }));
      await cleaned;
      const view = await kcatView(topic);
      expect(view.map(([o, k, v]) => [o, k, (v as string).replace(pad, "")])).toEqual([[2, "A", "v2"], [4, "B", "v2"], [5, "C", "v2"], [6, "D", "v1"], [7, "roll", "x"]]);
      // Stored with the producer's codec and, for snappy, its framing; the offset range is unchanged.
      const stored = log.read(0, 1)!;
      const h = readBatchHeader(stored);
      expect([h.baseOffset, h.lastOffsetDelta, h.recordCount, h.attributes & 7]).toEqual([0, 4, 2, readBatchHeader(original).attributes & 7]);
      expect(stored[61] === 0x82).toBe(original[61] === 0x82); // xerial magic, or a raw block
    });
  }

  test("a record without a key is refused on a compacted topic (INVALID_RECORD)", async () => {
    const topic = topicName("compact-nokey");
    await createTopic(topic);
    const r = await confluentProduce(
      { bootstrap: broker.address, topic, messages: [{ value: "no key", partition: 0 }], config: { "message.send.max.retries": 0, retries: 0 } },
      { allowFailure: true },
    );
    expect(r.lines[0]!.error).toMatchObject({ name: "INVALID_RECORD" });
  });

  test("the longest pause: produce and fetch round trips while ~16 MiB are compacted", async () => {
    const topic = topicName("compact-pause");
    // Filled under cleanup.policy=delete, then switched to compact: the cleaner then takes it all at once.
    const configs = withConfigs([{ name: "segment.bytes", value: String(2 << 20) }]);
    await createTopic(topic, [...configs.filter((c) => c.name !== "cleanup.policy"), { name: "cleanup.policy", value: "delete" }]);
    await using client = await KafkaClient.connect(broker.address);
    const random = Buffer.from(crypto.getRandomValues(new Uint8Array(1 << 20))).toString("base64");
    const produce = (records: { key: string; value: string }[], codec = 0) =>
      client.request(Produce, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch({ codec, records }) }] }],
      });
    for (let b = 0; b < 160; b++) {
      const records = Array.from({ length: 100 }, (_, i) => {
        const n = b * 100 + i;
        return { key: `key-${n % 500}`, value: random.slice((n * 131) % (random.length - 1000), ((n * 131) % (random.length - 1000)) + 1000) };
      });
      await produce(records, b % 4 === 3 ? 4 : 0);
    }
    // Round trips on a second connection: first without compaction (baseline), then while the cleaner works.
    await using probe = await KafkaClient.connect(broker.address);
    let stop = false;
    let maxRtt = 0;
    let trips = 0;
    const probeLoop = async () => {
      while (!stop) {
        const t = performance.now();
        await probe.request(Produce, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch({ records: [{ key: "probe", value: "p" }] }) }] }],
        });
        await probe.request(Fetch, 12, {
          replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 16, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1 }] }],
          forgottenTopicsData: [], rackId: "",
        });
        maxRtt = Math.max(maxRtt, performance.now() - t);
        trips++;
      }
    };
    // Baseline: 100 round trips with the cleaner idle.
    const baselineDone = probeLoop();
    while (trips < 100) await new Promise<void>((r) => setImmediate(r));
    stop = true;
    await baselineDone;
    const baseline = { maxRtt, trips };
    stop = false;
    maxRtt = 0;
    trips = 0;
    const admin = kafka.admin();
    await admin.connect();
    const pending = cleanerPass(topic, (r) => r.bytesBefore > 8 << 20 && r.segmentsRewritten > 0);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: configs }] });
    await admin.disconnect();
    const loop = probeLoop();
    const pass = await pending;
    stop = true;
    await loop;
    console.log(
      `cleaner pass over ${(pass.bytesBefore / 2 ** 20).toFixed(1)} MiB -> ${(pass.bytesAfter / 2 ** 20).toFixed(2)} MiB in ${pass.durationMs.toFixed(0)} ms; ` +
        `longest slice ${pass.longestSliceMs.toFixed(2)} ms; ${trips} produce+fetch round trips meanwhile, slowest ${maxRtt.toFixed(2)} ms ` +
        `(slowest of ${baseline.trips} without compaction: ${baseline.maxRtt.toFixed(2)} ms)`,
    );
    expect(pass.longestSliceMs).toBeLessThan(100);
  });
});
