// Incremental fetch sessions (KIP-227): a stock client that uses them (@platformatic/kafka 2.x, Fetch v17)
// consuming 1,000 partitions, the session rules request by request (creation, incremental epochs,
// pruned responses, forgotten topics, closing, the session errors), and the cache's eviction policy
// with a controlled clock.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka-v2";
import { Fetch } from "../protocol/apis/01-fetch.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { WireClient } from "../src/client.ts";
import { FetchSessionCache } from "../src/fetch-sessions.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { recordBatch } from "./helpers/wire.ts";
import { dataValues } from "./helpers/txn.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

let dir: TempDir;
let broker: BrokerHandle;
let client: WireClient;

beforeAll(async () => {
  dir = await tempDir("brook-fetch-sessions-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "group.initial.rebalance.delay.ms": 0 } });
  client = await WireClient.connect(broker.address, { clientId: "sessions-test" });
});

afterAll(async () => {
  client?.close();
  await broker?.close();
  await dir?.remove();
});

const stats = () => broker.broker.fetchSessions.stats();

async function produce(topic: string, partition: number, values: string[]) {
  const res = await client.request(Produce, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: recordBatch(values.map((v) => ({ key: null, value: v }))) }] }] }, 9);
  expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
}

interface FetchOpts {
  sessionId: number;
  sessionEpoch: number;
  partitions?: { partition: number; fetchOffset: number }[];
  forgotten?: number[];
  version?: number;
}

/** A Fetch of one topic, by name (v12) or by id (v13+); maxWaitMs 0 so an empty answer comes at once. */
function fetch(topic: string, o: FetchOpts) {
  const version = o.version ?? 12;
  const id = broker.broker.topics.get(topic)!.id;
  const named = version >= 13 ? { topicId: id } : { topic };
  return client.request(Fetch, {
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: o.sessionId,
    sessionEpoch: o.sessionEpoch,
    topics: o.partitions?.length ? [{ ...named, partitions: o.partitions.map((p) => ({ ...p, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1 })) }] : [],
    forgottenTopicsData: o.forgotten?.length ? [{ ...named, partitions: o.forgotten }] : [],
    rackId: "",
  }, version);
}

const partitionsOf = (res: Awaited<ReturnType<typeof fetch>>) => res.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex));

describe("a stock client with fetch sessions", () => {
  test("@platformatic/kafka consumes 1,000 partitions: incremental fetches after the first, every record exactly once", async () => {
    const topic = topicName("thousand");
    const N = 1000;
    broker.broker.topics.create(topic, N);
    const before = stats();
    const producer = new Producer({ clientId: "sessions-producer", bootstrapBrokers: [broker.address], serializers: stringSerializers });
    const consumer = new Consumer({
      groupId: `${topic}-group`,
      clientId: "sessions-consumer",
      bootstrapBrokers: [broker.address],
      deserializers: stringDeserializers,
      maxWaitTime: 200,
    });
    try {
      const sendRound = async (round: number, every: number) => {
        const messages = [];
        for (let p = 0; p < N; p += every) messages.push({ topic, partition: p, key: `k${p}`, value: `r${round}-p${p}` });
        await producer.send({ messages });
        return messages.map((m) => m.value);
      };
      const expected = await sendRound(0, 1);
      const seen = new Map<string, number>();
      let wake: (() => void) | null = null;
      const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
      stream.on("data", (m) => {
        const key = `${m.partition}:${m.offset}:${m.value}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        wake?.();
      });
      const received = () => [...seen.keys()].length;
      const waitFor = (n: number) =>
        new Promise<void>((resolve, reject) => {
          const watchdog = setTimeout(() => reject(new Error(`only ${received()} of ${n} records arrived`)), 45_000);
          wake = () => {
            if (received() < n) return;
            clearTimeout(watchdog);
            wake = null;
            resolve();
          };
          wake();
        });
      await waitFor(expected.length);
      // Three more rounds to a tenth of the partitions each: the consumer keeps fetching in its session.
      for (let round = 1; round <= 3; round++) {
        expected.push(...(await sendRound(round, 10)));
        await waitFor(expected.length);
      }
      await stream.close();

      const after = stats();
      expect(after.fullRequests - before.fullRequests).toBeGreaterThanOrEqual(1);
      expect(after.incrementalRequests - before.incrementalRequests).toBeGreaterThanOrEqual(3);
      expect(after.sessionErrors - before.sessionErrors).toBe(0);
      // every record exactly once, and nothing else
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect([...seen.keys()].map((k) => k.split(":")[2]).sort()).toEqual([...expected].sort());
    } finally {
      await consumer.close(true);
      await producer.close();
    }
  }, 90_000);
});

describe("session rules, request by request", () => {
  test("a full fetch creates a session; incremental fetches carry only what changed", async () => {
    const topic = topicName("incremental");
    broker.broker.topics.create(topic, 3);
    await produce(topic, 0, ["a0"]);
    await produce(topic, 1, ["b0"]);

    const full = await fetch(topic, { sessionId: 0, sessionEpoch: 0, partitions: [0, 1, 2].map((p) => ({ partition: p, fetchOffset: 0 })) });
    expect(full.errorCode).toBe(0);
    expect(full.sessionId).toBeGreaterThan(0);
    expect(partitionsOf(full)).toEqual([0, 1, 2]);
    const id = full.sessionId;

    // The client moved its offsets on for 0 and 1: those are "changed"; nothing new anywhere since.
    const quiet = await fetch(topic, { sessionId: id, sessionEpoch: 1, partitions: [{ partition: 0, fetchOffset: 1 }, { partition: 1, fetchOffset: 1 }] });
    expect([quiet.errorCode, quiet.sessionId]).toEqual([0, id]);
    expect(partitionsOf(quiet)).toEqual([]);

    // New data on partition 2 only: the answer names partition 2 alone, though the request named none.
    await produce(topic, 2, ["c0", "c1"]);
    const news = await fetch(topic, { sessionId: id, sessionEpoch: 2 });
    expect(partitionsOf(news)).toEqual([2]);
    const p2 = news.responses[0]!.partitions[0]!;
    expect([p2.highWatermark, dataValues(p2.records as Uint8Array)]).toEqual([2, ["c0", "c1"]]);

    // The session still fetches partition 2 from offset 0 (the client did not say otherwise), but the
    // high watermark it was told has not moved: an unchanged partition with data is still sent.
    const again = await fetch(topic, { sessionId: id, sessionEpoch: 3, partitions: [{ partition: 2, fetchOffset: 2 }] });
    expect(partitionsOf(again)).toEqual([]);

    // A repeated epoch is refused without ending the session; the next epoch still works.
    const stale = await fetch(topic, { sessionId: id, sessionEpoch: 3 });
    expect([stale.errorCode, stale.sessionId, stale.responses]).toEqual([E.INVALID_FETCH_SESSION_EPOCH, 0, []]);
    const next = await fetch(topic, { sessionId: id, sessionEpoch: 4 });
    expect(next.errorCode).toBe(0);

    // Forgotten partitions leave the session: new data there is no longer reported.
    await fetch(topic, { sessionId: id, sessionEpoch: 5, forgotten: [0] });
    await produce(topic, 0, ["a1"]);
    await produce(topic, 1, ["b1"]);
    const afterForget = await fetch(topic, { sessionId: id, sessionEpoch: 6 });
    expect(partitionsOf(afterForget)).toEqual([1]);

    // A request without topic ids cannot continue a session made with them, nor the reverse.
    const wrongKind = await fetch(topic, { sessionId: id, sessionEpoch: 7, version: 13 });
    expect(wrongKind.errorCode).toBe(E.FETCH_SESSION_TOPIC_ID_ERROR);

    // Epoch -1 closes the session (and is itself a plain full fetch).
    const close = await fetch(topic, { sessionId: id, sessionEpoch: -1, partitions: [{ partition: 1, fetchOffset: 1 }] });
    expect([close.errorCode, close.sessionId, partitionsOf(close)]).toEqual([0, 0, [1]]);
    const gone = await fetch(topic, { sessionId: id, sessionEpoch: 7 });
    expect([gone.errorCode, gone.sessionId]).toEqual([E.FETCH_SESSION_ID_NOT_FOUND, 0]);
  });

  test("an unknown session id is FETCH_SESSION_ID_NOT_FOUND; epoch -1 without a session creates none", async () => {
    const topic = topicName("no-session");
    broker.broker.topics.create(topic, 1);
    const unknown = await fetch(topic, { sessionId: 0x7ffffffe, sessionEpoch: 1 });
    expect([unknown.errorCode, unknown.sessionId, unknown.responses]).toEqual([E.FETCH_SESSION_ID_NOT_FOUND, 0, []]);
    const sessionless = await fetch(topic, { sessionId: 0, sessionEpoch: -1, partitions: [{ partition: 0, fetchOffset: 0 }] });
    expect([sessionless.errorCode, sessionless.sessionId]).toEqual([0, 0]);
  });

  test("a session with topic ids (v13+) works the same way", async () => {
    const topic = topicName("by-id");
    broker.broker.topics.create(topic, 2);
    const full = await fetch(topic, { sessionId: 0, sessionEpoch: 0, version: 17, partitions: [{ partition: 0, fetchOffset: 0 }, { partition: 1, fetchOffset: 0 }] });
    expect(full.sessionId).toBeGreaterThan(0);
    expect(full.responses.map((t) => t.topicId)).toEqual([broker.broker.topics.get(topic)!.id]);
    await produce(topic, 1, ["x"]);
    const inc = await fetch(topic, { sessionId: full.sessionId, sessionEpoch: 1, version: 17 });
    expect(partitionsOf(inc)).toEqual([1]);
    expect(dataValues(inc.responses[0]!.partitions[0]!.records as Uint8Array)).toEqual(["x"]);
    const old = await fetch(topic, { sessionId: full.sessionId, sessionEpoch: 2, version: 12 });
    expect(old.errorCode).toBe(E.FETCH_SESSION_TOPIC_ID_ERROR);
  });

  test("an incremental long-poll waits for news on any partition of the session", async () => {
    const topic = topicName("long-poll");
    broker.broker.topics.create(topic, 2);
    const full = await fetch(topic, { sessionId: 0, sessionEpoch: 0, partitions: [{ partition: 0, fetchOffset: 0 }, { partition: 1, fetchOffset: 0 }] });
    const pending = client.request(Fetch, {
      maxWaitMs: 60_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: full.sessionId, sessionEpoch: 1,
      topics: [], forgottenTopicsData: [], rackId: "",
    }, 12);
    const producer = await WireClient.connect(broker.address);
    try {
      await producer.request(Produce, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 1, records: recordBatch([{ key: null, value: "wake" }]) }] }] }, 9);
    } finally {
      producer.close();
    }
    const res = await pending;
    expect(partitionsOf(res)).toEqual([1]);
    expect(dataValues(res.responses[0]!.partitions[0]!.records as Uint8Array)).toEqual(["wake"]);
  });

  test("max.incremental.fetch.session.cache.slots=0: full fetches get session id 0", async () => {
    await using d = await tempDir("brook-no-sessions-");
    await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: { "max.incremental.fetch.session.cache.slots": 0 } });
    b.broker.topics.create("t", 1);
    const c = await WireClient.connect(b.address);
    try {
      const res = await c.request(Fetch, {
        maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: 0,
        topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: "",
      }, 12);
      expect([res.errorCode, res.sessionId, res.responses[0]!.partitions[0]!.errorCode]).toEqual([0, 0, 0]);
      expect(b.broker.fetchSessions.stats().sessions).toBe(0);
    } finally {
      c.close();
    }
  });
});

describe("the session cache's eviction policy (Kafka's FetchSessionCache.tryEvict)", () => {
  const MINUTE = 60_000;
  function cacheWith(slots: number) {
    let now = 1_000_000;
    const cache = new FetchSessionCache(() => slots, () => now);
    const add = (size: number, privileged = false) => {
      const s = cache.maybeCreate(privileged, false, size);
      if (s) {
        for (let i = 0; i < size; i++) s.partitions.set(`t:${i}`, { topicId: "0".repeat(32), topic: "t", partition: i, maxBytes: 1, fetchOffset: 0, currentLeaderEpoch: -1, lastFetchedEpoch: -1, highWatermark: 0, logStartOffset: 0 });
        cache.touch(s);
      }
      return s;
    };
    return { cache, add, advance: (ms: number) => (now += ms) };
  }

  test("a full cache refuses newcomers while every session is young", () => {
    const { cache, add } = cacheWith(2);
    expect(add(5)).not.toBeNull();
    expect(add(5)).not.toBeNull();
    expect(add(100)).toBeNull(); // more partitions, but the others are less than 2 minutes old
    expect(cache.stats()).toMatchObject({ sessions: 2, evicted: 0 });
  });

  test("a session idle for more than 2 minutes is evicted first, whatever its size", () => {
    const { cache, add, advance } = cacheWith(2);
    const idle = add(50)!;
    advance(MINUTE);
    const busy = add(1)!;
    advance(MINUTE + 1); // idle: unused for 2 min + 1 ms; busy: 1 min + 1 ms
    expect(add(1)).not.toBeNull();
    expect([cache.get(idle.id), cache.get(busy.id)]).toEqual([undefined, busy]);
    expect(cache.stats().evicted).toBe(1);
  });

  test("once older than 2 minutes (and still in use), the session with the fewest partitions gives way to a bigger one", () => {
    const { cache, add, advance } = cacheWith(2);
    const small = add(3)!;
    const large = add(10)!;
    advance(2 * MINUTE + 1);
    cache.touch(small); // both in use: not stale, but now old enough to be evictable
    cache.touch(large);
    expect(add(3)).toBeNull(); // not more valuable than the smallest (3 partitions, a lower id wins ties)
    const bigger = add(4);
    expect(bigger).not.toBeNull();
    expect([cache.get(small.id), cache.get(large.id)]).toEqual([undefined, large]);
  });

  test("a privileged (follower) newcomer may evict a young unprivileged session", () => {
    const { cache, add } = cacheWith(1);
    const consumer = add(100)!;
    expect(add(1, true)).not.toBeNull();
    expect(cache.get(consumer.id)).toBeUndefined();
  });
});
