// Topic ids and leader epochs (issue 11): ids and epochs kept across restarts and new on re-creation,
// batches stamped with the epoch; Metadata, CreateTopics, DeleteTopics by id, DescribeTopicPartitions with
// its cursor; OffsetForLeaderEpoch, ListOffsets v8–v10 and Fetch v13+ with their epoch and topic-id errors;
// a librdkafka 2.15 consumer (Fetch v16 by topic id, KIP-320) living through a delete and re-create; and
// @platformatic/kafka's own encoders and decoders (an independent implementation) against every new version.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Connection, createTopicsV7, deleteTopicsV6, describeTopicPartitionsV0, fetchV13, fetchV15, fetchV17, listOffsetsV8, listOffsetsV9, metadataV12, offsetForLeaderEpochV0, offsetForLeaderEpochV2, offsetForLeaderEpochV4, produceV11 } from "@platformatic/kafka-v2";
import { CreateTopics } from "../protocol/apis/19-create-topics.ts";
import { DeleteTopics } from "../protocol/apis/20-delete-topics.ts";
import { DeleteRecords } from "../protocol/apis/21-delete-records.ts";
import { DescribeTopicPartitions } from "../protocol/apis/75-describe-topic-partitions.ts";
import { Fetch } from "../protocol/apis/01-fetch.ts";
import { ListOffsets } from "../protocol/apis/02-list-offsets.ts";
import { Metadata } from "../protocol/apis/03-metadata.ts";
import { OffsetForLeaderEpoch } from "../protocol/apis/23-offset-for-leader-epoch.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { WireClient } from "../src/client.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { RETIRED_EPOCHS_KEPT } from "../src/topics.ts";
import { REPO_ROOT } from "./helpers/broker.ts";
import { readLines } from "./helpers/run.ts";
import { dataValues, decodeAll } from "./helpers/txn.ts";
import { recordBatch } from "./helpers/wire.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

const ZERO = "0".repeat(32);
const dashed = (id: string) => id.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

let dir: TempDir;
let broker: BrokerHandle;
let client: WireClient;

beforeAll(async () => {
  dir = await tempDir("brook-topic-ids-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "group.initial.rebalance.delay.ms": 0 } });
  client = await WireClient.connect(broker.address, { clientId: "topic-ids-test" });
});

afterAll(async () => {
  client?.close();
  await broker?.close();
  await dir?.remove();
});

async function createTopic(c: WireClient, name: string, numPartitions = 1) {
  const res = await c.request(CreateTopics, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false }, 7);
  expect(res.topics[0]!.errorCode).toBe(0);
  return res.topics[0]!.topicId;
}

async function produce(c: WireClient, topic: string, partition: number, values: string[]) {
  const res = await c.request(Produce, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: recordBatch(values.map((v) => ({ key: null, value: v }))) }] }] }, 11);
  expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  return res.responses[0]!.partitionResponses[0]!.baseOffset;
}

interface FetchPart {
  partition: number;
  fetchOffset: number;
  currentLeaderEpoch?: number;
  lastFetchedEpoch?: number;
}

function fetchById(c: WireClient, topicId: string, parts: FetchPart[], o: { version?: number; sessionId?: number; sessionEpoch?: number } = {}) {
  return c.request(Fetch, {
    maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: o.sessionId ?? 0, sessionEpoch: o.sessionEpoch ?? -1,
    topics: parts.length ? [{ topicId, partitions: parts.map((p) => ({ currentLeaderEpoch: -1, lastFetchedEpoch: -1, ...p, partitionMaxBytes: 1 << 20, logStartOffset: -1 })) }] : [],
    forgottenTopicsData: [], rackId: "",
  }, o.version ?? 17);
}

async function metadataOf(c: WireClient, name: string) {
  const md = await c.request(Metadata, { topics: [{ name, topicId: ZERO }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 12);
  return md.topics[0]!;
}

const stampedEpochs = (records: Uint8Array) => decodeAll(records).map((b) => b.partitionLeaderEpoch);

describe("durable topic ids and leader epochs", () => {
  test("only the last RETIRED_EPOCHS_KEPT deleted topics' epochs are remembered (the catalogue stays bounded)", async () => {
    await using d = await tempDir("brook-ids-retired-");
    const boot = () => startBroker({ dataDir: d.path, logLevel: "warn" });
    {
      await using b = await boot();
      const topics = b.broker.topics;
      topics.create("first", 1);
      topics.delete("first");
      for (let i = 0; i < RETIRED_EPOCHS_KEPT; i++) {
        topics.create(`churn-${i}`, 1);
        topics.delete(`churn-${i}`);
      }
      topics.create("last", 1);
      topics.delete("last");
      const catalogue = JSON.parse(readFileSync(join(d.path, "brook-topics.json"), "utf8"));
      expect(Object.keys(catalogue.retiredLeaderEpochs)).toHaveLength(RETIRED_EPOCHS_KEPT);
      expect(catalogue.retiredLeaderEpochs.first).toBeUndefined(); // the oldest deletion went first
    }
    await using b = await boot();
    expect(b.broker.topics.create("last", 1).leaderEpoch).toBe(1); // still fenced after a restart
    expect(b.broker.topics.create("first", 1).leaderEpoch).toBe(0);
  });

  test("kept across restarts; a re-created topic gets a new id and the next epoch, stamped into its batches", async () => {
    await using d = await tempDir("brook-ids-restart-");
    const boot = () => startBroker({ dataDir: d.path, logLevel: "warn" });
    let firstId: string;
    {
      await using b = await boot();
      const c = await WireClient.connect(b.address);
      try {
        firstId = await createTopic(c, "orders", 2);
        expect(firstId).toMatch(/^[0-9a-f]{32}$/);
        expect(firstId.charAt(12)).toBe("4"); // a version-4 UUID, as Kafka's Uuid.randomUuid makes
        const md = await metadataOf(c, "orders");
        expect([md.topicId, md.partitions.map((p) => p.leaderEpoch)]).toEqual([firstId, [0, 0]]);
        await produce(c, "orders", 0, ["a"]);
      } finally {
        c.close();
      }
    }
    let secondId: string;
    {
      await using b = await boot();
      const c = await WireClient.connect(b.address);
      try {
        const md = await metadataOf(c, "orders");
        expect([md.topicId, md.partitions.map((p) => p.leaderEpoch)]).toEqual([firstId, [0, 0]]);
        const del = await c.request(DeleteTopics, { topics: [{ name: null, topicId: firstId }], timeoutMs: 5000 }, 6);
        expect(del.responses).toEqual([{ name: "orders", topicId: firstId, errorCode: 0, errorMessage: null }]);
        secondId = await createTopic(c, "orders", 2);
        expect(secondId).not.toBe(firstId);
        const again = await metadataOf(c, "orders");
        expect([again.topicId, again.partitions.map((p) => p.leaderEpoch)]).toEqual([secondId, [1, 1]]);
        await produce(c, "orders", 1, ["b", "c"]);
        const f = await fetchById(c, secondId, [{ partition: 1, fetchOffset: 0 }]);
        expect(stampedEpochs(f.responses[0]!.partitions[0]!.records as Uint8Array)).toEqual([1]);
      } finally {
        c.close();
      }
    }
    {
      await using b = await boot();
      const c = await WireClient.connect(b.address);
      try {
        const md = await metadataOf(c, "orders");
        expect([md.topicId, md.partitions.map((p) => p.leaderEpoch)]).toEqual([secondId, [1, 1]]);
        // The epoch history survived too: epoch 1 started at offset 0 of the new log.
        const ofe = await c.request(OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic: "orders", partitions: [{ partition: 1, currentLeaderEpoch: 1, leaderEpoch: 0 }] }] }, 4);
        expect(ofe.topics[0]!.partitions[0]).toEqual({ errorCode: 0, partition: 1, leaderEpoch: 0, endOffset: 0 });
        await c.request(DeleteTopics, { topics: [{ name: "orders", topicId: ZERO }], timeoutMs: 5000 }, 6);
        await createTopic(c, "orders", 1);
        expect((await metadataOf(c, "orders")).partitions.map((p) => p.leaderEpoch)).toEqual([2]);
      } finally {
        c.close();
      }
    }
  });

  test("Metadata v12 looks topics up by id; an unknown id is UNKNOWN_TOPIC_ID", async () => {
    const name = topicName("md-by-id");
    const id = await createTopic(client, name, 1);
    const md = await client.request(Metadata, { topics: [{ topicId: id, name: null }, { topicId: "ab".repeat(16), name: null }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 12);
    expect(md.topics.map((t) => [t.errorCode, t.name, t.topicId])).toEqual([[0, name, id], [E.UNKNOWN_TOPIC_ID, null, "ab".repeat(16)]]);
  });
});

describe("DeleteTopics v6, validated as Kafka's controller does", () => {
  test("by id, by name, and the refusals", async () => {
    const a = topicName("del-a");
    const b = topicName("del-b");
    const c = topicName("del-c");
    const idA = await createTopic(client, a);
    const idB = await createTopic(client, b);
    await createTopic(client, c);
    const unknownId = "cd".repeat(16);
    const res = await client.request(DeleteTopics, {
      topics: [
        { name: null, topicId: idA },          // by id
        { name: b, topicId: idB },             // both: refused
        { name: null, topicId: ZERO },         // neither: refused
        { name: c, topicId: ZERO },            // by name, twice: refused once
        { name: c, topicId: ZERO },
        { name: null, topicId: unknownId },    // unknown id
        { name: "no-such-topic", topicId: ZERO },
      ],
      timeoutMs: 5000,
    }, 6);
    expect(res.responses.map((r) => [r.name, r.topicId, r.errorCode, r.errorMessage])).toEqual([
      [b, idB, E.INVALID_REQUEST, "You may not specify both topic name and topic id."],
      [null, ZERO, E.INVALID_REQUEST, "Neither topic name nor id were specified."],
      [a, idA, 0, null],
      [c, ZERO, E.INVALID_REQUEST, "Duplicate topic name."],
      [null, unknownId, E.UNKNOWN_TOPIC_ID, "This server does not host this topic ID."],
      ["no-such-topic", ZERO, E.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition."],
    ]);
    expect([broker.broker.topics.get(a), broker.broker.topics.get(b)?.id, broker.broker.topics.get(c) !== undefined]).toEqual([undefined, idB, true]);
    // A name that resolves to an id given in the same request is refused; the id entry deletes it.
    const twice = await client.request(DeleteTopics, { topics: [{ name: b, topicId: ZERO }, { name: null, topicId: idB }], timeoutMs: 5000 }, 6);
    expect(twice.responses.map((r) => [r.name, r.errorCode])).toEqual([[b, E.INVALID_REQUEST], [b, 0]]);
    expect(broker.broker.topics.get(b)).toBeUndefined();
  });
});

describe("DescribeTopicPartitions v0", () => {
  const names = { a: "", b: "", c: "" };
  beforeAll(async () => {
    const prefix = topicName("dtp");
    names.a = `${prefix}-a`;
    names.b = `${prefix}-b`;
    names.c = `${prefix}-c`;
    await createTopic(client, names.a, 3);
    await createTopic(client, names.b, 2);
    await createTopic(client, names.c, 1);
  });
  const describeTopics = (topics: string[], limit: number, cursor: { topicName: string; partitionIndex: number } | null = null) =>
    client.request(DescribeTopicPartitions, { topics: topics.map((name) => ({ name })), responsePartitionLimit: limit, cursor }, 0);
  const summary = (res: Awaited<ReturnType<typeof describeTopics>>) => ({
    topics: res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
    next: res.nextCursor,
  });

  test("pages through the named topics in name order, with a cursor where the limit cuts", async () => {
    const missing = `${names.a.slice(0, -2)}-z-missing`;
    const page1 = await describeTopics([names.c, missing, names.b, names.a], 4);
    expect(summary(page1)).toEqual({ topics: [[names.a, 0, [0, 1, 2]], [names.b, 0, [0]]], next: { topicName: names.b, partitionIndex: 1 } });
    const a = page1.topics[0]!;
    expect([a.topicId, a.isInternal, a.topicAuthorizedOperations]).toEqual([broker.broker.topics.get(names.a)!.id, false, 0xdf8]);
    expect(a.partitions[0]).toEqual({ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], eligibleLeaderReplicas: null, lastKnownElr: null, offlineReplicas: [] });
    const page2 = await describeTopics([names.c, missing, names.b, names.a], 4, page1.nextCursor);
    expect(summary(page2)).toEqual({ topics: [[names.b, 0, [1]], [names.c, 0, [0]], [missing, E.UNKNOWN_TOPIC_OR_PARTITION, []]], next: null });
    expect(page2.topics[2]!.topicId).toBe(ZERO);
  });

  test("a limit that ends exactly with a topic points the cursor at the next topic's partition 0", async () => {
    expect(summary(await describeTopics([names.a, names.b], 3))).toEqual({ topics: [[names.a, 0, [0, 1, 2]]], next: { topicName: names.b, partitionIndex: 0 } });
  });

  test("no topics named: every topic from the cursor on; a cursor outside the named topics is INVALID_REQUEST", async () => {
    const all = await describeTopics([], 2000, { topicName: names.b, partitionIndex: 1 });
    const mine = all.topics.filter((t) => t.name!.startsWith(names.a.slice(0, -2)));
    expect(mine.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([[names.b, [1]], [names.c, [0]]]);
    const bad = await describeTopics([names.a], 10, { topicName: names.c, partitionIndex: 0 });
    expect(bad.topics.map((t) => [t.name, t.errorCode, t.topicId])).toEqual([[names.a, E.INVALID_REQUEST, ZERO]]);
    const invalid = await describeTopics(["bad/name"], 10);
    expect(invalid.topics.map((t) => [t.name, t.errorCode])).toEqual([["bad/name", E.INVALID_TOPIC_EXCEPTION]]);
  });

  test("max.request.partition.size.limit caps the request's own limit", async () => {
    await using d = await tempDir("brook-dtp-limit-");
    await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: { "max.request.partition.size.limit": 2 } });
    b.broker.topics.create("t", 5);
    const c = await WireClient.connect(b.address);
    try {
      const res = await c.request(DescribeTopicPartitions, { topics: [{ name: "t" }], responsePartitionLimit: 2000, cursor: null }, 0);
      expect([res.topics[0]!.partitions.length, res.nextCursor]).toEqual([2, { topicName: "t", partitionIndex: 2 }]);
    } finally {
      c.close();
    }
  });
});

describe("leader epochs: OffsetForLeaderEpoch, ListOffsets, Fetch", () => {
  // A topic re-created once: leader epoch 1, its history [(1, 0)], four records in it.
  let topic: string;
  let topicId: string;
  beforeAll(async () => {
    topic = topicName("epochs");
    await createTopic(client, topic, 1);
    await client.request(DeleteTopics, { topics: [{ name: topic, topicId: ZERO }], timeoutMs: 5000 }, 6);
    topicId = await createTopic(client, topic, 1);
    await produce(client, topic, 0, ["a", "b"]);
    await produce(client, topic, 0, ["c", "d"]);
  });

  const ofe = (partitions: { partition: number; currentLeaderEpoch?: number; leaderEpoch: number }[], version = 4) =>
    client.request(OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic, partitions: partitions.map((p) => ({ currentLeaderEpoch: -1, ...p })) }] }, version);

  test("OffsetForLeaderEpoch: end offsets per epoch, fencing, unknown partitions", async () => {
    const res = await ofe([
      { partition: 0, leaderEpoch: 1 },                         // current epoch: the log end
      { partition: 0, leaderEpoch: 0 },                         // older than the history: its first start
      { partition: 0, leaderEpoch: 7 },                         // unknown epoch
      { partition: 0, leaderEpoch: -1 },                        // undefined
      { partition: 0, leaderEpoch: 1, currentLeaderEpoch: 0 },  // a stale leader epoch
      { partition: 0, leaderEpoch: 1, currentLeaderEpoch: 2 },  // a leader epoch from the future
      { partition: 9, leaderEpoch: 1 },
    ]);
    expect(res.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderEpoch, p.endOffset])).toEqual([
      [0, 1, 4],
      [0, 0, 0],
      [0, -1, -1],
      [0, -1, -1],
      [E.FENCED_LEADER_EPOCH, -1, -1],
      [E.UNKNOWN_LEADER_EPOCH, -1, -1],
      [E.UNKNOWN_TOPIC_OR_PARTITION, -1, -1],
    ]);
    // v0 has no current leader epoch to fence with, and no epoch in the answer
    const v0 = await ofe([{ partition: 0, leaderEpoch: 1, currentLeaderEpoch: 0 }], 0);
    expect(v0.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, endOffset: 4 });
  });

  test("the history follows the log start offset (DeleteRecords)", async () => {
    const t = topicName("epochs-start");
    await createTopic(client, t, 1);
    await produce(client, t, 0, ["a", "b", "c"]);
    const del = await client.request(DeleteRecords, { topics: [{ name: t, partitions: [{ partitionIndex: 0, offset: 2 }] }], timeoutMs: 5000 }, 2);
    expect(del.topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect(broker.broker.topics.partition(t, 0)!.log.epochHistory.all).toEqual([{ epoch: 0, startOffset: 2 }]);
    const list = await client.request(ListOffsets, { replicaId: -1, isolationLevel: 0, topics: [{ name: t, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2 }] }] }, 9);
    expect(list.topics[0]!.partitions[0]).toMatchObject({ offset: 2, leaderEpoch: 0 });
  });

  test("ListOffsets v8–v10: earliest-local, latest-tiered, the epochs of the answers, fencing", async () => {
    const ts = Date.now() - 1000;
    const q = (timestamp: number, version: number, currentLeaderEpoch = -1) =>
      client.request(ListOffsets, { replicaId: -1, isolationLevel: 0, timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch, timestamp }] }] }, version).then((r) => r.topics[0]!.partitions[0]!);
    expect(await q(-1, 10)).toMatchObject({ errorCode: 0, offset: 4, leaderEpoch: 1 });
    expect(await q(-2, 10)).toMatchObject({ errorCode: 0, offset: 0, leaderEpoch: 1 });
    expect(await q(-4, 8)).toMatchObject({ errorCode: 0, offset: 0, leaderEpoch: 1 });
    expect(await q(-5, 9)).toMatchObject({ errorCode: 0, offset: -1, leaderEpoch: -1, timestamp: -1 });
    // the first record with the largest timestamp: the second batch's records share one timestamp
    expect(await q(-3, 9)).toMatchObject({ errorCode: 0, offset: 2, leaderEpoch: 1 });
    expect(await q(ts, 9)).toMatchObject({ errorCode: 0, offset: 0, leaderEpoch: 1 });
    expect((await q(-4, 7)).errorCode).toBe(E.UNSUPPORTED_VERSION);
    expect((await q(-5, 8)).errorCode).toBe(E.UNSUPPORTED_VERSION);
    expect(await q(-1, 10, 0)).toMatchObject({ errorCode: E.FENCED_LEADER_EPOCH, offset: -1, leaderEpoch: -1 });
    expect((await q(-1, 10, 5)).errorCode).toBe(E.UNKNOWN_LEADER_EPOCH);
  });

  test("Fetch: epoch fencing (v16 names the leader), diverging epochs, unknown ids, errors without offsets", async () => {
    const one = async (p: FetchPart, version = 17) => {
      const res = await fetchById(client, topicId, [p], { version });
      return { res, p: res.responses[0]!.partitions[0]! };
    };
    const ok = await one({ partition: 0, fetchOffset: 0, currentLeaderEpoch: 1, lastFetchedEpoch: -1 });
    expect([ok.p.errorCode, dataValues(ok.p.records as Uint8Array)]).toEqual([0, ["a", "b", "c", "d"]]);
    expect(ok.res.responses[0]!.topicId).toBe(topicId);

    const fenced = await one({ partition: 0, fetchOffset: 0, currentLeaderEpoch: 0 });
    expect([fenced.p.errorCode, fenced.p.highWatermark, fenced.p.logStartOffset, fenced.p.currentLeader]).toEqual([E.FENCED_LEADER_EPOCH, -1, -1, { leaderId: 1, leaderEpoch: 1 }]);
    expect(fenced.res.nodeEndpoints).toEqual([{ nodeId: 1, host: "127.0.0.1", port: broker.port, rack: null }]);
    const fencedV15 = await one({ partition: 0, fetchOffset: 0, currentLeaderEpoch: 0 }, 15);
    expect([fencedV15.p.errorCode, fencedV15.p.currentLeader, fencedV15.res.nodeEndpoints]).toEqual([E.FENCED_LEADER_EPOCH, { leaderId: -1, leaderEpoch: -1 }, []]);
    expect((await one({ partition: 0, fetchOffset: 0, currentLeaderEpoch: 3 })).p.errorCode).toBe(E.UNKNOWN_LEADER_EPOCH);

    // A fetcher that last saw epoch 0 at offset 2: epoch 0 ended at 0 in this log, so it diverges there.
    const diverging = await one({ partition: 0, fetchOffset: 2, currentLeaderEpoch: 1, lastFetchedEpoch: 0 });
    expect([diverging.p.errorCode, diverging.p.divergingEpoch, (diverging.p.records as Uint8Array).length]).toEqual([0, { epoch: 0, endOffset: 0 }, 0]);
    // An epoch the history does not know at all: out of range.
    expect((await one({ partition: 0, fetchOffset: 2, lastFetchedEpoch: 9 })).p.errorCode).toBe(E.OFFSET_OUT_OF_RANGE);
    // The current epoch up to where the fetcher is: plain data.
    expect(dataValues((await one({ partition: 0, fetchOffset: 2, lastFetchedEpoch: 1 })).p.records as Uint8Array)).toEqual(["c", "d"]);

    const unknown = await fetchById(client, "ef".repeat(16), [{ partition: 0, fetchOffset: 0 }], { version: 13 });
    expect(unknown.responses.map((t) => [t.topicId, t.partitions.map((p) => [p.errorCode, p.highWatermark])])).toEqual([["ef".repeat(16), [[E.UNKNOWN_TOPIC_ID, -1]]]]);
  });

  test("a session made before a delete and re-create: UNKNOWN_TOPIC_OR_PARTITION, then INCONSISTENT_TOPIC_ID; the old id is unknown", async () => {
    const t = topicName("recreate-session");
    const oldId = await createTopic(client, t, 1);
    await produce(client, t, 0, ["old"]);
    const full = await fetchById(client, oldId, [{ partition: 0, fetchOffset: 1 }], { sessionId: 0, sessionEpoch: 0 });
    const session = full.sessionId;
    expect(session).toBeGreaterThan(0);
    await client.request(DeleteTopics, { topics: [{ name: null, topicId: oldId }], timeoutMs: 5000 }, 6);
    const gone = await fetchById(client, oldId, [], { sessionId: session, sessionEpoch: 1 });
    expect(gone.responses[0]!.partitions[0]!.errorCode).toBe(E.UNKNOWN_TOPIC_OR_PARTITION);
    const newId = await createTopic(client, t, 1);
    await produce(client, t, 0, ["new"]);
    const inconsistent = await fetchById(client, oldId, [], { sessionId: session, sessionEpoch: 2 });
    expect(inconsistent.responses.map((r) => [r.topicId, r.partitions[0]!.errorCode])).toEqual([[oldId, E.INCONSISTENT_TOPIC_ID]]);
    const stale = await fetchById(client, oldId, [{ partition: 0, fetchOffset: 1 }]);
    expect(stale.responses[0]!.partitions[0]!.errorCode).toBe(E.UNKNOWN_TOPIC_ID);
    // The client forgets the old id and adds the new one, in the same session.
    const switched = await client.request(Fetch, {
      maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: session, sessionEpoch: 3,
      topics: [{ topicId: newId, partitions: [{ partition: 0, fetchOffset: 0, currentLeaderEpoch: 1, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [{ topicId: oldId, partitions: [0] }], rackId: "",
    }, 17);
    expect(switched.responses.map((r) => [r.topicId, r.partitions.map((p) => [p.errorCode, dataValues(p.records as Uint8Array)])])).toEqual([[newId, [[0, ["new"]]]]]);
  });
});

describe("a librdkafka 2.15 consumer across a delete and re-create", () => {
  test("it gets UNKNOWN_TOPIC_ID / INCONSISTENT_TOPIC_ID, recovers, and never sees the old topic's records again", async () => {
    const t = topicName("rd-recreate");
    await createTopic(client, t, 2);
    for (let i = 0; i < 4; i++) await produce(client, t, i % 2, [`old-${i}`]);
    const proc = Bun.spawn(["node", join(REPO_ROOT, "test/clients/rdkafka2_consume.cjs"), JSON.stringify({ bootstrap: broker.address, topic: t, group: `${t}-g`, config: { "fetch.wait.max.ms": 2000, "topic.metadata.refresh.interval.ms": 1000 } })], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const values: string[] = [];
    const errors: number[] = [];
    let notify = () => {};
    const reading = (async () => {
      for await (const line of readLines(proc.stdout as ReadableStream<Uint8Array>)) {
        const o = JSON.parse(line);
        if (o.message) values.push(o.message.value);
        if (o.error) errors.push(o.error.code);
        notify();
      }
    })();
    const waitFor = (what: string, cond: () => boolean, ms = 45_000) =>
      new Promise<void>((resolve, reject) => {
        const watchdog = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(values)}`)), ms);
        notify = () => {
          if (!cond()) return;
          clearTimeout(watchdog);
          resolve();
        };
        notify();
      });
    try {
      await waitFor("the old records", () => values.length === 4);
      const errorsBefore = broker.broker.fetchSessions.stats().partitionErrors;
      // Delete and re-create in one step while the consumer's fetch (by the old topic id) is waiting, so
      // its next answers are about a topic it does not know yet.
      broker.broker.topics.delete(t);
      broker.broker.groups.deleteTopicOffsets(t);
      broker.broker.topics.create(t, 2);
      for (let i = 0; i < 3; i++) await produce(client, t, i % 2, [`new-${i}`]);
      await waitFor("the new records", () => values.length === 7);
      const after = broker.broker.fetchSessions.stats().partitionErrors;
      const sent = (code: number) => (after[code] ?? 0) - (errorsBefore[code] ?? 0);
      expect(sent(E.INCONSISTENT_TOPIC_ID) + sent(E.UNKNOWN_TOPIC_ID)).toBeGreaterThan(0);
      // librdkafka passes the partition error on to the application, then finds the new id and epoch in
      // Metadata and validates its position with OffsetForLeaderEpoch (KIP-320): truncated to offset 0.
      expect(errors.some((code) => code === E.INCONSISTENT_TOPIC_ID || code === E.UNKNOWN_TOPIC_ID)).toBe(true);
      expect(values.slice(0, 4).sort()).toEqual(["old-0", "old-1", "old-2", "old-3"]);
      expect(values.slice(4).sort()).toEqual(["new-0", "new-1", "new-2"]);
    } finally {
      proc.stdin.end();
      const exited = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => null)]);
      if (exited === null) proc.kill("SIGKILL");
      await reading;
    }
  }, 90_000);
});

describe("@platformatic/kafka's own encoders and decoders against every new version", () => {
  let conn: InstanceType<typeof Connection>;
  beforeAll(async () => {
    conn = new Connection("platformatic-apis");
    await conn.connect(broker.host, broker.port);
  });
  afterAll(async () => {
    await conn?.close();
  });
  /** The parsed response, also when the client's decoder reports partition errors. */
  const call = async (api: { async: (...args: any[]) => Promise<any> }, ...args: unknown[]) => {
    try {
      return await api.async(conn, ...args);
    } catch (e: any) {
      if (e?.response) return e.response;
      throw e;
    }
  };

  test("CreateTopics v7, Metadata v12, Produce v11, Fetch v13/v15/v17, ListOffsets v8/v9, OffsetForLeaderEpoch v0/v2/v4, DescribeTopicPartitions v0, DeleteTopics v6", async () => {
    const t = topicName("plt-apis");
    const created = await call(createTopicsV7.api, [{ name: t, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], 5000, false);
    const id: string = created.topics[0].topicId;
    expect(id.replace(/-/g, "")).toBe(broker.broker.topics.get(t)!.id);

    const md = await call(metadataV12.api, [{ topicId: id }], false, false);
    expect(md.topics.map((x: any) => [x.name, x.partitions.map((p: any) => p.leaderEpoch)])).toEqual([[t, [0, 0]]]);

    const produced = await call(produceV11.api, 1, 5000, [{ topic: t, partition: 1, key: Buffer.from("k"), value: Buffer.from("v1") }, { topic: t, partition: 1, key: Buffer.from("k"), value: Buffer.from("v2") }]);
    expect(produced.responses[0].partitionResponses[0]).toMatchObject({ index: 1, errorCode: 0, baseOffset: 0n });

    for (const fetchApi of [fetchV13, fetchV15, fetchV17]) {
      const res = await call(fetchApi.api, 0, 1, 1 << 20, 0, 0, -1, [{ topicId: id, partitions: [{ partition: 1, currentLeaderEpoch: 0, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }], [], "");
      const p = res.responses[0].partitions[0];
      expect([res.responses[0].topicId, p.errorCode, p.highWatermark]).toEqual([id, 0, 2n]);
      expect(p.records.flatMap((batch: any) => batch.records.map((r: any) => r.value.toString()))).toEqual(["v1", "v2"]);
      expect(p.records[0].partitionLeaderEpoch).toBe(0);
    }

    for (const listApi of [listOffsetsV8, listOffsetsV9]) {
      const res = await call(listApi.api, -1, 0, [{ name: t, partitions: [{ partitionIndex: 1, currentLeaderEpoch: 0, timestamp: -1n }] }]);
      expect(res.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: 2n, leaderEpoch: 0 });
    }

    const v0 = await call(offsetForLeaderEpochV0.api, -1, [{ name: t, partitions: [{ partitionIndex: 1, leaderEpoch: 0 }] }]);
    expect(v0.topics[0].partitions[0]).toMatchObject({ errorCode: 0, endOffset: 2n });
    const v2 = await call(offsetForLeaderEpochV2.api, -1, [{ name: t, partitions: [{ partitionIndex: 1, currentLeaderEpoch: 3, leaderEpoch: 0 }] }]);
    expect(v2.topics[0].partitions[0].errorCode).toBe(E.UNKNOWN_LEADER_EPOCH);
    const v4 = await call(offsetForLeaderEpochV4.api, -1, [{ name: t, partitions: [{ partitionIndex: 1, currentLeaderEpoch: 0, leaderEpoch: 0 }] }]);
    expect(v4.topics[0].partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 2n });

    const dtp = await call(describeTopicPartitionsV0.api, [{ name: t }], 1, null);
    expect([dtp.topics[0].name, dtp.topics[0].partitions.length, dtp.nextCursor]).toEqual([t, 1, { topicName: t, partitionIndex: 1 }]);
    const dtp2 = await call(describeTopicPartitionsV0.api, [{ name: t }], 1, dtp.nextCursor);
    expect([dtp2.topics[0].partitions[0].partitionIndex, dtp2.nextCursor]).toEqual([1, null]);

    const del = await call(deleteTopicsV6.api, [{ name: null, topicId: id }], 5000);
    expect(del.responses[0]).toMatchObject({ name: t, errorCode: 0 });
    expect(broker.broker.topics.get(t)).toBeUndefined();
    expect(dashed(broker.broker.topics.byId(id.replace(/-/g, ""))?.id ?? ZERO)).toBe(dashed(ZERO));
  });
});
