// Connection limits and bounded per-connection memory, from the outside: raw TCP clients (frames by hand,
// from shared/kafka-protocol/message/*.json) and kcat (librdkafka) working within tight limits.
//   max.connections, max.connections.per.ip (+ .overrides): the extra connection is closed at once
//   connections.max.idle.ms: an idle connection is closed, a busy one (or one with a request in
//     progress) is not
//   queued.max.request.bytes: while frames being received hold the pool, no connection starts a request
//   queued.max.requests: a connection with that many requests unanswered is not read until one is
//   brook.connection.max.unsent.bytes: a client that does not read its responses is not read either
import { describe, expect, test } from "bun:test";
import { startBroker, type BrokerHandle } from "../src/broker.ts";
import { ConfigError } from "../src/config.ts";
import type { Connection } from "../src/server/connection.ts";
import { kcat, kcatConsume, requireTools } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";
import { ByteReader, bytes, concat, crc32c, int16, int32, int64, int8, nullableStr, RawClient, recordBatch, requestFrame, str } from "./helpers/wire.ts";

const API_VERSIONS = 18;
const METADATA = 3;
const FETCH = 1;
const PRODUCE = 0;

async function withBroker(overrides: Record<string, string | number>, fn: (b: BrokerHandle) => Promise<void>) {
  await using dir = await tempDir("brook-limits-");
  await using b = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "log.segment.bytes": 1 << 20, ...overrides } });
  await fn(b);
}

let correlation = 1;
/** ApiVersions v0: header v1 and an empty body. Response: correlation id, error code, api list. */
const apiVersions = (id = correlation++) => requestFrame({ apiKey: API_VERSIONS, apiVersion: 0, correlationId: id }, new Uint8Array(0));

/** A fresh connection answers ApiVersions with error 0. */
async function served(c: RawClient): Promise<void> {
  const id = correlation++;
  c.send(apiVersions(id));
  const r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int16()).toBe(0);
}

/** The connection is closed by the broker without answering the request sent on it. */
async function refused(c: RawClient): Promise<void> {
  c.send(apiVersions());
  expect((await c.next()).kind).toBe("closed");
}

/**
 * Fetch v4 for one partition (FetchRequest.json): replica_id, max_wait_ms, min_bytes, max_bytes,
 * isolation_level, topics [name, partitions [partition, fetch_offset, partition_max_bytes]].
 */
function fetchV4(id: number, topic: string, offset: number, o: { maxWaitMs: number; minBytes: number; maxBytes: number }) {
  return requestFrame(
    { apiKey: FETCH, apiVersion: 4, correlationId: id },
    concat(int32(-1), int32(o.maxWaitMs), int32(o.minBytes), int32(o.maxBytes), int8(0), int32(1), str(topic), int32(1), int32(0), int64(offset), int32(o.maxBytes)),
  );
}

/**
 * Fetch response v4: throttle_time_ms, responses [topic, partitions [partition, error_code, high_watermark,
 * last_stable_offset, aborted_transactions (nullable array), records (nullable bytes)]].
 */
function parseFetchV4(r: ByteReader) {
  r.int32(); // throttle
  expect(r.int32()).toBe(1);
  r.string();
  expect(r.int32()).toBe(1);
  const partition = r.int32();
  const errorCode = r.int16();
  const highWatermark = Number(r.int64());
  r.int64();
  const aborted = r.int32();
  for (let i = 0; i < aborted; i++) (r.int64(), r.int64());
  const n = r.int32();
  const records = r.buf.subarray(r.offset, r.offset + Math.max(n, 0));
  r.offset += Math.max(n, 0);
  expect(r.remaining).toBe(0);
  return { partition, errorCode, highWatermark, records };
}

/** Walks record batches: every one whole, magic 2, CRC-32C right. Returns [first offset, records]. */
function checkBatches(records: Uint8Array): { first: number; count: number } {
  const v = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let pos = 0;
  let first = -1;
  let count = 0;
  while (pos + 61 <= records.length) {
    const size = v.getInt32(pos + 8) + 12;
    if (pos + size > records.length) break; // a partial batch at the end is allowed
    expect(v.getInt8(pos + 16)).toBe(2);
    expect(v.getUint32(pos + 17)).toBe(crc32c(records.subarray(pos + 21, pos + size)));
    if (first < 0) first = Number(v.getBigInt64(pos));
    count += v.getInt32(pos + 57);
    pos += size;
  }
  return { first, count };
}

/** Produce v3 of one batch, acks=1. Response: correlation id, [topic, [partition, error, base offset, ...]]. */
async function produce(c: RawClient, topic: string, batch: Uint8Array): Promise<void> {
  const id = correlation++;
  c.send(
    requestFrame(
      { apiKey: PRODUCE, apiVersion: 3, correlationId: id },
      concat(nullableStr(null), int16(1), int32(10_000), int32(1), str(topic), int32(1), int32(0), bytes(batch)),
    ),
  );
  const r = await c.response();
  expect(r.int32()).toBe(id);
  r.int32();
  r.string();
  r.int32();
  r.int32();
  expect(r.int16()).toBe(0);
}

describe("connection count limits", () => {
  test("max.connections.per.ip: the connection over the limit is closed; a freed slot is usable again", async () => {
    await withBroker({ "max.connections.per.ip": 2 }, async (b) => {
      const c1 = await RawClient.connect(b.host, b.port);
      const c2 = await RawClient.connect(b.host, b.port);
      await served(c1);
      await served(c2);
      const c3 = await RawClient.connect(b.host, b.port);
      await refused(c3);
      expect(b.connections.stats().rejected).toBe(1);
      c1.close();
      await until("the broker to see the close", () => b.connections.stats().open === 1);
      const c4 = await RawClient.connect(b.host, b.port);
      await served(c4);
      await served(c2);
      c2.close();
      c4.close();
    });
  });

  test("max.connections.per.ip.overrides raises the limit for one address (host names resolved)", async () => {
    await withBroker({ "max.connections.per.ip": 1, "max.connections.per.ip.overrides": "localhost:3" }, async (b) => {
      const cs = [];
      for (let i = 0; i < 3; i++) {
        const c = await RawClient.connect(b.host, b.port);
        await served(c);
        cs.push(c);
      }
      await refused(await RawClient.connect(b.host, b.port));
      for (const c of cs) c.close();
    });
  });

  test("max.connections: broker-wide, the extra connection is closed", async () => {
    await withBroker({ "max.connections": 2 }, async (b) => {
      const c1 = await RawClient.connect(b.host, b.port);
      const c2 = await RawClient.connect(b.host, b.port);
      await served(c1);
      await served(c2);
      await refused(await RawClient.connect(b.host, b.port));
      c1.close();
      c2.close();
    });
  });

  test("refused configurations", async () => {
    await using dir = await tempDir();
    const start = (overrides: Record<string, string | number>) => startBroker({ dataDir: dir.path, logLevel: "silent", overrides });
    expect(start({ "max.connections.per.ip": 0 })).rejects.toThrow(ConfigError);
    expect(start({ "max.connections.per.ip": 0 })).rejects.toThrow(/only if max.connections.per.ip.overrides/);
    expect(start({ "max.connections.per.ip.overrides": "127.0.0.1" })).rejects.toThrow(/expected host:count/);
    expect(start({ "max.connections.per.ip.overrides": "127.0.0.1:x" })).rejects.toThrow(ConfigError);
    expect(start({ "queued.max.requests": 0 })).rejects.toThrow(ConfigError);
    expect(start({ "fetch.max.bytes": 10 })).rejects.toThrow(ConfigError);
  });
});

describe("connections.max.idle.ms", () => {
  test("an idle connection is closed; a busy one and one with a request in progress are not", async () => {
    const IDLE_MS = 400;
    await withBroker({ "connections.max.idle.ms": IDLE_MS }, async (b) => {
      const topic = topicName("idle");
      b.broker.topics.create(topic, 1);
      const idle = await RawClient.connect(b.host, b.port);
      const opened = Date.now();
      const busy = await RawClient.connect(b.host, b.port);
      const waiting = await RawClient.connect(b.host, b.port);
      await served(waiting);
      // A long poll for data that never comes: in progress for longer than the idle timeout.
      const fetchId = correlation++;
      waiting.send(fetchV4(fetchId, topic, 0, { maxWaitMs: 3 * IDLE_MS, minBytes: 1, maxBytes: 1024 }));

      // The busy client sends a request every 50 ms (far below the timeout) until the idle one is gone.
      let answered = 0;
      let stop = false;
      const traffic = (async () => {
        while (!stop) {
          await served(busy);
          answered++;
          await Bun.sleep(50);
        }
      })();
      expect((await idle.next(10_000)).kind).toBe("closed");
      expect(Date.now() - opened).toBeGreaterThanOrEqual(IDLE_MS);
      // Keep going for more than another idle period: the busy connection must survive it.
      const target = answered + Math.ceil((1.5 * IDLE_MS) / 50);
      await until("busy traffic past another idle period", () => answered >= target);
      stop = true;
      await traffic;
      expect(busy.isOpen).toBe(true);

      const f = await waiting.next(10_000);
      expect(f.kind).toBe("frame");
      const r = new ByteReader((f as { frame: Uint8Array }).frame);
      expect(r.int32()).toBe(fetchId);
      expect(parseFetchV4(r).errorCode).toBe(0);
      expect(b.connections.stats().closedIdle).toBe(1);
      busy.close();
      waiting.close();
    });
  });
});

describe("bounded request and response memory", () => {
  test("queued.max.request.bytes: a frame being received holds the pool; no other request is read until it completes", async () => {
    await withBroker({ "queued.max.request.bytes": 1000 }, async (b) => {
      // Metadata v1 (topics: [name]) with a 1900-byte topic name: a 2000-byte frame; answered with an
      // INVALID_TOPIC_EXCEPTION entry, which is fine: any answer shows it was read.
      const id = correlation++;
      const big = requestFrame({ apiKey: METADATA, apiVersion: 1, correlationId: id }, concat(int32(1), str("x".repeat(1900))));
      const a = await RawClient.connect(b.host, b.port);
      const other = await RawClient.connect(b.host, b.port);
      await served(other); // reads freely before the pool fills
      a.send(big.subarray(0, 500));
      await until("the frame to reserve its size", () => b.connections.stats().poolUsed === big.length - 4);

      const otherId = correlation++;
      other.send(apiVersions(otherId));
      await until("the other connection to be held back", () => b.connections.stats().paused === 1);
      expect(other.pendingFrames).toBe(0);

      a.send(big.subarray(500));
      const ra = await a.response();
      expect(ra.int32()).toBe(id);
      const ro = await other.response();
      expect(ro.int32()).toBe(otherId);
      expect(ro.int16()).toBe(0);
      await until("the pool to be free and nobody held back", () => b.connections.stats().poolUsed === 0 && b.connections.stats().paused === 0);
      a.close();
      other.close();
    });
  });

  test("queued.max.requests: a connection with that many requests unanswered is read again once one is answered", async () => {
    await withBroker({ "queued.max.requests": 2 }, async (b) => {
      const topic = topicName("inflight");
      b.broker.topics.create(topic, 1);
      const c = await RawClient.connect(b.host, b.port);
      // Three long polls on an empty partition and an ApiVersions, in one write.
      const ids = [correlation++, correlation++, correlation++];
      const last = correlation++;
      c.send(concat(...ids.map((id) => fetchV4(id, topic, 0, { maxWaitMs: 30_000, minBytes: 1, maxBytes: 1 << 20 })), apiVersions(last)));
      await until("reads to pause after two requests in flight", () => b.connections.stats().paused === 1);
      expect(c.pendingFrames).toBe(0);

      // Data arrives: the two polls answer, the connection is read again, the rest follows in order.
      const p = await RawClient.connect(b.host, b.port);
      await produce(p, topic, recordBatch([{ key: "k", value: "v" }]));
      for (const id of ids) {
        const r = await c.response();
        expect(r.int32()).toBe(id);
        const f = parseFetchV4(r);
        expect(f.errorCode).toBe(0);
        expect(checkBatches(f.records)).toEqual({ first: 0, count: 1 });
      }
      const r = await c.response();
      expect(r.int32()).toBe(last);
      expect(b.connections.stats().paused).toBe(0);
      c.close();
      p.close();
    });
  });

  test("a client that does not read its fetch responses is not read either; all arrive, intact, once it reads", async () => {
    await withBroker({ "brook.connection.max.unsent.bytes": 64 * 1024 }, async (b) => {
      const topic = topicName("unsent");
      b.broker.topics.create(topic, 1);
      const p = await RawClient.connect(b.host, b.port);
      const value = new Uint8Array(200 * 1024).fill(7);
      const BATCHES = 20;
      for (let i = 0; i < BATCHES; i++) await produce(p, topic, recordBatch([{ key: `k${i}`, value }]));

      const c = await RawClient.connect(b.host, b.port);
      await served(c);
      const conn = [...b.connections.connections].at(-1)! as Connection;
      c.pauseReading();
      const REQUESTS = 30;
      const ids = Array.from({ length: REQUESTS }, () => correlation++);
      const fetch = (id: number) => fetchV4(id, topic, 0, { maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
      // One at a time until the socket buffers are full and a response (~1 MiB) is stuck...
      let sent = 0;
      while (conn.unsentBytes <= 64 * 1024) {
        const before = conn.requests;
        c.send(fetch(ids[sent++]!));
        await until("the fetch to be answered", () => conn.requests > before && conn.inFlight === 0);
        expect(sent).toBeLessThan(REQUESTS);
      }
      // ...then the rest are not even read: their responses are never built.
      const read = conn.requests;
      c.send(concat(...ids.slice(sent).map(fetch)));
      await until("reads to pause on unsent responses", () => conn.isPaused);
      expect(conn.requests).toBe(read);
      expect(conn.unsentBytes).toBeLessThan(1 << 20);

      c.resumeReading();
      for (const id of ids) {
        const r = await c.response();
        expect(r.int32()).toBe(id);
        const f = parseFetchV4(r);
        expect(f.errorCode).toBe(0);
        expect(f.highWatermark).toBe(BATCHES);
        const { first, count } = checkBatches(f.records);
        expect(first).toBe(0);
        expect(count).toBeGreaterThanOrEqual(4); // ~1 MiB of 200 KiB batches
      }
      expect(b.connections.stats().paused).toBe(0);
      c.close();
      p.close();
    });
  });

  test("fetch.max.bytes caps a response whatever max_bytes asks for (the first batch is still whole)", async () => {
    await withBroker({ "fetch.max.bytes": 1024 * 1024 }, async (b) => {
      const topic = topicName("fetchmax");
      b.broker.topics.create(topic, 1);
      const p = await RawClient.connect(b.host, b.port);
      const value = new Uint8Array(300 * 1024).fill(1);
      for (let i = 0; i < 10; i++) await produce(p, topic, recordBatch([{ key: null, value }]));
      const c = await RawClient.connect(b.host, b.port);
      const id = correlation++;
      c.send(fetchV4(id, topic, 0, { maxWaitMs: 0, minBytes: 0, maxBytes: 0x7fffffff }));
      const r = await c.response();
      expect(r.int32()).toBe(id);
      const f = parseFetchV4(r);
      expect(f.records.length).toBeLessThanOrEqual(1024 * 1024);
      expect(checkBatches(f.records).count).toBe(3);
      c.close();
      p.close();
    });
  });
});

test("a stock client (kcat) works within tight limits", async () => {
  await requireTools();
  await withBroker(
    {
      "max.connections.per.ip": 4,
      "max.connections": 8,
      "connections.max.idle.ms": 60_000,
      "queued.max.requests": 2,
      "queued.max.request.bytes": 64 * 1024,
      "brook.connection.max.unsent.bytes": 4 * 1024,
      "fetch.max.bytes": 64 * 1024,
    },
    async (b) => {
      const topic = topicName("kcat-limits");
      const lines = Array.from({ length: 3000 }, (_, i) => `k${i}:${"v".repeat(200)}-${i}`);
      await kcat(["-b", b.address, "-P", "-t", topic, "-K:", "-X", "linger.ms=20"], { stdin: lines.join("\n") + "\n" });
      const got = await kcatConsume(b.address, topic);
      expect(got.map((m) => `${m.key}:${m.payload}`)).toEqual(lines);
      expect(got.map((m) => m.offset)).toEqual(lines.map((_, i) => i));
      expect(b.connections.stats().rejected).toBe(0);
    },
  );
});
