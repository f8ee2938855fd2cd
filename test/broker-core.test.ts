// Broker behaviour at the request level: long-poll fetch, fetch limits, topic admin errors,
// auto-creation rules, version checks, persistence across restarts. Requests go through a plain
// protocol client; records are produced by a stock client (kafkajs) where content matters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import { ApiVersions } from "../protocol/apis/18-api-versions.ts";
import { CreateTopics } from "../protocol/apis/19-create-topics.ts";
import { DeleteTopics } from "../protocol/apis/20-delete-topics.ts";
import { Fetch } from "../protocol/apis/01-fetch.ts";
import { InitProducerId } from "../protocol/apis/22-init-producer-id.ts";
import { ListOffsets } from "../protocol/apis/02-list-offsets.ts";
import { Metadata } from "../protocol/apis/03-metadata.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { decodeRecords, encodeBatch } from "../protocol/records/records.ts";
import { KafkaClient } from "../src/client.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

let dir: TempDir;
let broker: BrokerHandle;
let client: KafkaClient;
let kafka: Kafka;

beforeAll(async () => {
  dir = await tempDir();
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "num.partitions": 2 } });
  client = await KafkaClient.connect(broker.address);
  kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  client?.close();
  await broker?.close();
  await dir?.[Symbol.asyncDispose]();
});

async function createTopic(name: string, numPartitions = 1, configs: { name: string; value: string }[] = []) {
  const res = await client.request(CreateTopics, 5, {
    topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs }],
    timeoutMs: 5000,
  });
  return res.topics[0]!;
}

function fetchRequest(topic: string, partition: number, fetchOffset: number, opts: { maxWaitMs?: number; minBytes?: number; partitionMaxBytes?: number; maxBytes?: number } = {}) {
  return client.request(Fetch, 11, {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 1,
    maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, fetchOffset, partitionMaxBytes: opts.partitionMaxBytes ?? 1024 * 1024, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
    forgottenTopicsData: [],
    rackId: "",
  });
}

describe("fetch", () => {
  test("a long-poll is answered as soon as a stock producer's data arrives, not at max_wait_ms", async () => {
    await createTopic("longpoll");
    // max_wait is far beyond this test's timeout: only an early answer can pass.
    const pending = fetchRequest("longpoll", 0, 0, { maxWaitMs: 120_000, minBytes: 1 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "longpoll", messages: [{ key: "k", value: "woke the fetch", partition: 0 }] });
    await producer.disconnect();
    const res = await pending;
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    expect(p.highWatermark).toBe(1);
    const batch = decodeRecords(p.records as Uint8Array);
    expect(batch.records.map((r) => Buffer.from(r.value!).toString())).toEqual(["woke the fetch"]);
  }, 20_000);

  test("an expired long-poll with no data returns empty bytes, not null", async () => {
    await createTopic("quiet");
    const res = await fetchRequest("quiet", 0, 0, { maxWaitMs: 50, minBytes: 1 });
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(0);
    expect(p.records).toBeInstanceOf(Uint8Array);
    expect((p.records as Uint8Array).length).toBe(0);
    expect(p.highWatermark).toBe(0);
  });

  test("a fetch offset inside a batch returns that whole batch; offsets past the end are out of range", async () => {
    await createTopic("midbatch");
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "midbatch", compression: CompressionTypes.GZIP, messages: [0, 1, 2, 3, 4].map((i) => ({ value: `m${i}`, partition: 0 })) });
    await producer.disconnect();
    const res = await fetchRequest("midbatch", 0, 3);
    const batch = decodeRecords(res.responses[0]!.partitions[0]!.records as Uint8Array);
    expect(batch.baseOffset).toBe(0);
    expect(batch.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    const atEnd = await fetchRequest("midbatch", 0, 5);
    expect(atEnd.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect((atEnd.responses[0]!.partitions[0]!.records as Uint8Array).length).toBe(0);
    const beyond = await fetchRequest("midbatch", 0, 6);
    expect(beyond.responses[0]!.partitions[0]!.errorCode).toBe(1); // OFFSET_OUT_OF_RANGE
    expect(beyond.responses[0]!.partitions[0]!.highWatermark).toBe(-1); // Kafka reports no offsets with an error
  });

  test("partition_max_bytes below one batch still returns that whole batch (KIP-74)", async () => {
    await createTopic("bigbatch");
    const value = "x".repeat(10_000);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "bigbatch", messages: [{ value, partition: 0 }] });
    await producer.send({ topic: "bigbatch", messages: [{ value, partition: 0 }] });
    await producer.disconnect();
    const res = await fetchRequest("bigbatch", 0, 0, { partitionMaxBytes: 100 });
    const records = res.responses[0]!.partitions[0]!.records as Uint8Array;
    const batch = decodeRecords(records);
    expect(batch.records).toHaveLength(1);
    expect(records.length).toBe(batch.batchLength + 12); // exactly one batch, not two
  });
});

describe("produce", () => {
  test("zstd before Produce v7 is UNSUPPORTED_COMPRESSION_TYPE; from v7 it is accepted", async () => {
    await createTopic("zstd");
    const batch = () => encodeBatch({ codec: 4, records: [{ key: "a", value: "b" }] });
    const send = (version: number) =>
      client.request(Produce, version, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: "zstd", partitionData: [{ index: 0, records: batch() }] }] });
    expect((await send(6)).responses[0]!.partitionResponses[0]!.errorCode).toBe(76);
    const ok = (await send(7)).responses[0]!.partitionResponses[0]!;
    expect(ok.errorCode).toBe(0);
    expect(ok.baseOffset).toBe(0);
  });

  test("an invalid acks value is INVALID_REQUIRED_ACKS; unknown partitions are UNKNOWN_TOPIC_OR_PARTITION", async () => {
    await createTopic("acks");
    const res = await client.request(Produce, 9, {
      transactionalId: null,
      acks: 2,
      timeoutMs: 1000,
      topicData: [{ name: "acks", partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: "v" }] }) }] }],
    });
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(21);
    const unknown = await client.request(Produce, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: "acks", partitionData: [{ index: 7, records: encodeBatch({ records: [{ value: "v" }] }) }] }],
    });
    expect(unknown.responses[0]!.partitionResponses[0]!.errorCode).toBe(3);
  });
});

describe("topic administration", () => {
  test("CreateTopics: created, already exists, bad partitions, bad names, unknown config, validate_only", async () => {
    const ok = await createTopic("admin-a", 3);
    expect(ok.errorCode).toBe(0);
    expect(ok.numPartitions).toBe(3);
    expect((await createTopic("admin-a", 3)).errorCode).toBe(36); // TOPIC_ALREADY_EXISTS
    expect((await createTopic("admin-b", 0)).errorCode).toBe(37); // INVALID_PARTITIONS
    expect((await createTopic("bad/name")).errorCode).toBe(17); // INVALID_TOPIC_EXCEPTION
    expect((await createTopic("x".repeat(250))).errorCode).toBe(17);
    const badConfig = await createTopic("admin-c", 1, [{ name: "no.such.config", value: "1" }]);
    expect(badConfig.errorCode).toBe(40); // INVALID_CONFIG
    expect(badConfig.errorMessage).toContain("no.such.config");
    const dry = await client.request(CreateTopics, 7, {
      topics: [{ name: "admin-dry", numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: true,
    });
    expect(dry.topics[0]!.errorCode).toBe(0);
    expect(dry.topics[0]!.numPartitions).toBe(2); // num.partitions
    const md = await client.request(Metadata, 12, { topics: [{ name: "admin-dry", topicId: "0".repeat(32) }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(md.topics[0]!.errorCode).toBe(3);
  });

  test("DeleteTopics removes the topic; deleting an unknown topic is UNKNOWN_TOPIC_OR_PARTITION", async () => {
    await createTopic("doomed", 2);
    const res = await client.request(DeleteTopics, 5, { topicNames: ["doomed", "never-was"], timeoutMs: 1000 });
    expect(res.responses.map((r) => [r.name, r.errorCode])).toEqual([
      ["doomed", 0],
      ["never-was", 3],
    ]);
    const md = await client.request(Metadata, 1, { topics: null });
    expect(md.topics.map((t) => t.name)).not.toContain("doomed");
  });

  test("Metadata auto-creates only when the request allows it", async () => {
    const denied = await client.request(Metadata, 9, { topics: [{ name: "auto-no", topicId: "0".repeat(32) }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(denied.topics[0]!.errorCode).toBe(3);
    const created = await client.request(Metadata, 9, { topics: [{ name: "auto-yes", topicId: "0".repeat(32) }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    expect(created.topics[0]!.errorCode).toBe(0);
    expect(created.topics[0]!.partitions).toHaveLength(2);
    expect(created.brokers).toEqual([{ nodeId: 1, host: "127.0.0.1", port: broker.port, rack: null }]);
    expect(created.controllerId).toBe(1);
    expect(created.clusterId).toBeTruthy();
  });
});

describe("versions and identities", () => {
  test("ApiVersions v3 advertises the registered ranges; an unknown version gets UNSUPPORTED_VERSION", async () => {
    const res = await client.request(ApiVersions, 3, { clientSoftwareName: "test", clientSoftwareVersion: "1" });
    const byKey = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(byKey.get(0)).toEqual([0, 12]); // advertised from v0 for librdkafka (v0–v2 requests are still refused)
    expect(byKey.get(1)).toEqual([4, 17]);
    expect(byKey.get(3)).toEqual([0, 12]);
    expect(byKey.get(18)).toEqual([0, 4]);
  });

  test("producer ids never repeat across a restart", async () => {
    await using d = await tempDir();
    const ids: number[] = [];
    for (let round = 0; round < 2; round++) {
      await using b = await startBroker({ dataDir: d.path, logLevel: "warn" });
      await using c = await KafkaClient.connect(b.address);
      for (let i = 0; i < 3; i++) {
        const r = await c.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
        expect(r.errorCode).toBe(0);
        ids.push(r.producerId);
      }
    }
    expect(new Set(ids).size).toBe(6);
  });

  test("topics, data and offsets survive a clean restart", async () => {
    await using d = await tempDir();
    {
      await using b = await startBroker({ dataDir: d.path, logLevel: "warn" });
      const p = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING }).producer();
      await p.connect();
      await p.send({ topic: "durable", messages: [{ key: "a", value: "1" }, { key: "b", value: "2" }] });
      await p.disconnect();
    }
    await using b = await startBroker({ dataDir: d.path, logLevel: "warn" });
    await using c = await KafkaClient.connect(b.address);
    const offs = await c.request(ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: "durable", partitions: [{ partitionIndex: 0, timestamp: -1, currentLeaderEpoch: -1 }] }] });
    expect(offs.topics[0]!.partitions[0]!.offset).toBe(2);
  });
});

describe("framing", () => {
  // ApiVersions v0: size 10, key 18, version 0, correlation id, null client id.
  const frame = (correlationId: number) => {
    const b = Buffer.alloc(14);
    b.writeInt32BE(10, 0);
    b.writeInt16BE(18, 4);
    b.writeInt16BE(0, 6);
    b.writeInt32BE(correlationId, 8);
    b.writeInt16BE(-1, 12);
    return b;
  };

  test("requests split at every byte, and several in one write, are all answered in order", async () => {
    const bytes = Buffer.concat([frame(1), frame(2), frame(3)]);
    const answers: number[] = [];
    let received = Buffer.alloc(0);
    const done = Promise.withResolvers<void>();
    const socket = await Bun.connect({
      hostname: "127.0.0.1",
      port: broker.port,
      socket: {
        data(_s, chunk) {
          received = Buffer.concat([received, chunk]);
          while (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
            const size = received.readInt32BE(0);
            answers.push(received.readInt32BE(4));
            expect(received.readInt16BE(8)).toBe(0); // error code
            received = received.subarray(4 + size);
          }
          if (answers.length === 6) done.resolve();
        },
      },
    });
    // First three frames one byte per write (each write flushed before the next), then three at once.
    for (const byte of bytes) {
      socket.write(Uint8Array.of(byte));
      socket.flush();
      await Bun.sleep(0); // yield so each byte is its own TCP segment; not a synchronisation
    }
    socket.write(Buffer.concat([frame(4), frame(5), frame(6)]));
    await done.promise;
    socket.end();
    expect(answers).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
