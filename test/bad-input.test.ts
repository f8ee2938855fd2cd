// Bad input from the outside, as raw bytes over TCP: every frame is built by hand in this file from the
// message definitions in shared/kafka-protocol/message/*.json (helpers in test/helpers/wire.ts encode
// only primitives and a record batch). The broker runs as a child process through its CLI, so a crash
// would show as the process exiting. After every case, a fresh client must still be served, and at the
// end the log holds exactly the valid records (read back with kcat).
//
// Request frame:  int32 size | int16 api_key | int16 api_version | int32 correlation_id
//                 | int16 client_id length + bytes | [header v2: tagged fields, 0x00] | body
// Response frame: int32 size | int32 correlation_id | [header v1: tagged fields] | body
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { kcat, kcatConsume, requireTools } from "./helpers/clients.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";
import {
  bytes,
  compactStr,
  concat,
  int16,
  int32,
  nullableStr,
  RawClient,
  recordBatch,
  requestFrame,
  str,
  ByteReader,
} from "./helpers/wire.ts";

setDefaultTimeout(30_000);

// Kafka error codes (clients/src/main/java/org/apache/kafka/common/protocol/Errors.java).
const NONE = 0;
const CORRUPT_MESSAGE = 2;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const MESSAGE_TOO_LARGE = 10;
const UNSUPPORTED_VERSION = 35;
const INVALID_RECORD = 87;

// API keys.
const PRODUCE = 0;
const METADATA = 3;
const API_VERSIONS = 18;
const CREATE_TOPICS = 19;

const SOCKET_REQUEST_MAX_BYTES = 4096;
const MESSAGE_MAX_BYTES = 1000;
const TOPIC = "raw-bytes";

let dir: TempDir;
let broker: SpawnedBroker;
let nextCorrelationId = 1000;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-bad-input-");
  broker = await spawnBroker({
    dataDir: dir.path,
    overrides: {
      "socket.request.max.bytes": SOCKET_REQUEST_MAX_BYTES,
      "message.max.bytes": MESSAGE_MAX_BYTES,
      "auto.create.topics.enable": false,
    },
  });
});

afterAll(async () => {
  const exitCode = await broker?.stop();
  await dir?.remove();
  expect(exitCode).toBe(0); // SIGTERM → clean exit 0 (also fails if the broker died during the tests)
});

const connect = () => RawClient.connect(broker.host, broker.port);

/** Reads the response header v0 and checks the correlation id. */
function expectCorrelation(r: ByteReader, correlationId: number) {
  expect(r.int32()).toBe(correlationId);
}

// ---- requests, by hand --------------------------------------------------------------------------

/** ApiVersions v0: header v1, empty body. */
function apiVersionsV0(correlationId: number) {
  return requestFrame({ apiKey: API_VERSIONS, apiVersion: 0, correlationId }, new Uint8Array(0));
}

/**
 * ApiVersions response v0 (also the answer to an unsupported ApiVersions version):
 * int32 correlation_id | int16 error_code | int32 count | count × (int16 api_key, int16 min, int16 max)
 */
function parseApiVersionsV0(r: ByteReader) {
  const errorCode = r.int16();
  const n = r.int32();
  const apis = new Map<number, [number, number]>();
  for (let i = 0; i < n; i++) {
    const key = r.int16();
    apis.set(key, [r.int16(), r.int16()]);
  }
  return { errorCode, apis };
}

/** A fresh connection is served: ApiVersions v0 answers error 0 and lists Produce and Metadata. */
async function expectBrokerServes() {
  expect(broker.proc.exitCode).toBeNull();
  const c = await connect();
  try {
    const id = nextCorrelationId++;
    c.send(apiVersionsV0(id));
    const r = await c.response();
    expectCorrelation(r, id);
    const { errorCode, apis } = parseApiVersionsV0(r);
    expect(errorCode).toBe(NONE);
    expect(apis.has(PRODUCE)).toBe(true);
    expect(apis.has(METADATA)).toBe(true);
  } finally {
    c.close();
  }
}

/**
 * Produce v3 (ProduceRequest.json; header v1, not flexible):
 *   transactional_id: nullable string | acks: int16 | timeout_ms: int32
 *   | topic_data: int32 count × (name: string | partition_data: int32 count × (index: int32 | records: int32 len + bytes))
 */
function produceV3(correlationId: number, topic: string, partition: number, batch: Uint8Array) {
  return requestFrame(
    { apiKey: PRODUCE, apiVersion: 3, correlationId },
    concat(
      nullableStr(null), // transactional_id = null
      int16(1), //          acks = 1
      int32(10_000), //     timeout_ms
      int32(1), //          topic_data: 1 topic
      str(topic), //          name
      int32(1), //            partition_data: 1 partition
      int32(partition), //      index
      bytes(batch), //          records (int32 length + record batch v2)
    ),
  );
}

/**
 * Produce response v3: int32 correlation_id | responses: int32 count × (name: string
 *   | partition_responses: int32 count × (index: int32 | error_code: int16 | base_offset: int64
 *   | log_append_time_ms: int64)) | throttle_time_ms: int32
 */
function parseProduceV3(r: ByteReader) {
  const out: { topic: string; partition: number; errorCode: number; baseOffset: bigint }[] = [];
  const topics = r.int32();
  for (let t = 0; t < topics; t++) {
    const topic = r.string()!;
    const parts = r.int32();
    for (let p = 0; p < parts; p++) {
      const partition = r.int32();
      const errorCode = r.int16();
      const baseOffset = r.int64();
      r.int64(); // log_append_time_ms
      out.push({ topic, partition, errorCode, baseOffset });
    }
  }
  r.int32(); // throttle_time_ms
  expect(r.remaining).toBe(0);
  return out;
}

async function produce(c: RawClient, topic: string, partition: number, batch: Uint8Array) {
  const id = nextCorrelationId++;
  c.send(produceV3(id, topic, partition, batch));
  const r = await c.response();
  expectCorrelation(r, id);
  const res = parseProduceV3(r);
  expect(res.length).toBe(1);
  expect(res[0]!.topic).toBe(topic);
  expect(res[0]!.partition).toBe(partition);
  return res[0]!;
}

/**
 * CreateTopics v0 (CreateTopicsRequest.json): topics: int32 count × (name: string
 *   | num_partitions: int32 | replication_factor: int16 | assignments: int32 count | configs: int32 count)
 *   | timeout_ms: int32
 * Response v0: int32 correlation_id | topics: int32 count × (name: string | error_code: int16)
 */
async function createTopic(name: string, partitions: number) {
  const c = await connect();
  try {
    const id = nextCorrelationId++;
    c.send(
      requestFrame(
        { apiKey: CREATE_TOPICS, apiVersion: 0, correlationId: id },
        concat(int32(1), str(name), int32(partitions), int16(1), int32(0), int32(0), int32(10_000)),
      ),
    );
    const r = await c.response();
    expectCorrelation(r, id);
    expect(r.int32()).toBe(1);
    expect(r.string()).toBe(name);
    return r.int16();
  } finally {
    c.close();
  }
}

// ---- the cases ----------------------------------------------------------------------------------

describe("bad input over raw TCP", () => {
  test("setup: CreateTopics v0 by hand", async () => {
    expect(await createTopic(TOPIC, 1)).toBe(NONE);
    await expectBrokerServes();
  });

  test("(d) ApiVersions v99 → a v0 response: error 35 UNSUPPORTED_VERSION plus the supported APIs", async () => {
    const c = await connect();
    try {
      const id = nextCorrelationId++;
      // A newer client's ApiVersions: versions >= 3 use request header v2 (flexible: a tagged-field
      // byte after client_id) and a flexible body; v99 is past anything the broker knows.
      c.send(
        requestFrame(
          { apiKey: API_VERSIONS, apiVersion: 99, correlationId: id, flexibleHeader: true },
          concat(
            compactStr("brook-raw-test"), // client_software_name (compact string)
            compactStr("0.0.1"), //          client_software_version (compact string)
            Uint8Array.of(0x00), //          tagged fields: none
          ),
        ),
      );
      const r = await c.response();
      // The answer is an ApiVersions v0 response (header v0: correlation id only).
      expectCorrelation(r, id);
      const { errorCode, apis } = parseApiVersionsV0(r);
      expect(errorCode).toBe(UNSUPPORTED_VERSION);
      expect(r.remaining).toBe(0);
      expect(apis.get(API_VERSIONS)![0]).toBe(0);
      expect(apis.get(API_VERSIONS)![1]).toBeGreaterThanOrEqual(3);
      expect(apis.get(PRODUCE)![0]).toBeLessThanOrEqual(3);
      expect(apis.get(PRODUCE)![1]).toBeGreaterThanOrEqual(9);
      expect(apis.get(METADATA)![0]).toBe(0);
      expect(apis.get(METADATA)![1]).toBeGreaterThanOrEqual(12);
    } finally {
      c.close();
    }
    await expectBrokerServes();
  });

  test("(e) Produce v3 with a wrong CRC → CORRUPT_MESSAGE (2); valid batches around it are appended", async () => {
    const c = await connect();
    try {
      const ok1 = await produce(c, TOPIC, 0, recordBatch([{ key: "k", value: "first", headers: [["h", "1"]] }]));
      expect(ok1.errorCode).toBe(NONE);
      expect(ok1.baseOffset).toBe(0n);

      const bad = recordBatch([{ key: "k", value: "corrupted" }]);
      bad[bad.length - 1]! ^= 0xff; // flip the last byte of the value: the CRC no longer matches
      const res = await produce(c, TOPIC, 0, bad);
      expect(res.errorCode).toBe(CORRUPT_MESSAGE);

      // A batch cut short: the records field holds fewer bytes than the batch's own batchLength says.
      const whole = recordBatch([{ key: "k", value: "cut short" }]);
      const cut = await produce(c, TOPIC, 0, whole.subarray(0, whole.length - 5));
      expect([CORRUPT_MESSAGE, INVALID_RECORD]).toContain(cut.errorCode);

      // The connection stays usable and the rejected batches took no offset.
      const ok2 = await produce(c, TOPIC, 0, recordBatch([{ key: "k", value: "second" }]));
      expect(ok2.errorCode).toBe(NONE);
      expect(ok2.baseOffset).toBe(1n);
    } finally {
      c.close();
    }
    await expectBrokerServes();
  });

  test("(f) a batch larger than message.max.bytes → MESSAGE_TOO_LARGE (10)", async () => {
    const c = await connect();
    try {
      const big = recordBatch([{ key: "big", value: "x".repeat(MESSAGE_MAX_BYTES + 500) }]);
      expect(big.length).toBeGreaterThan(MESSAGE_MAX_BYTES);
      expect(big.length + 100).toBeLessThan(SOCKET_REQUEST_MAX_BYTES); // the request itself is allowed
      const res = await produce(c, TOPIC, 0, big);
      expect(res.errorCode).toBe(MESSAGE_TOO_LARGE);

      const ok = await produce(c, TOPIC, 0, recordBatch([{ key: "k", value: "third" }]));
      expect(ok.errorCode).toBe(NONE);
      expect(ok.baseOffset).toBe(2n);
    } finally {
      c.close();
    }
    await expectBrokerServes();
  });

  test("(g) produce to an unknown topic with auto.create.topics.enable=false → UNKNOWN_TOPIC_OR_PARTITION (3)", async () => {
    const c = await connect();
    try {
      const res = await produce(c, "no-such-topic", 0, recordBatch([{ key: null, value: "lost" }]));
      expect(res.errorCode).toBe(UNKNOWN_TOPIC_OR_PARTITION);
      // An unknown partition of a known topic, too.
      const res2 = await produce(c, TOPIC, 7, recordBatch([{ key: null, value: "lost" }]));
      expect(res2.errorCode).toBe(UNKNOWN_TOPIC_OR_PARTITION);

      // Metadata v1 for the topic: still unknown (the produce did not create it).
      // Request: topics: int32 count × name: string.
      const id = nextCorrelationId++;
      c.send(requestFrame({ apiKey: METADATA, apiVersion: 1, correlationId: id }, concat(int32(1), str("no-such-topic"))));
      const r = await c.response();
      expectCorrelation(r, id);
      // Response v1: brokers: int32 count × (node_id int32, host string, port int32, rack nullable string)
      //   | controller_id int32 | topics: int32 count × (error_code int16, name string, is_internal bool, partitions …)
      const brokers = r.int32();
      expect(brokers).toBe(1);
      r.int32();
      expect(r.string()).toBe(broker.host);
      expect(r.int32()).toBe(broker.port);
      r.string(); // rack
      r.int32(); // controller_id
      expect(r.int32()).toBe(1);
      expect(r.int16()).toBe(UNKNOWN_TOPIC_OR_PARTITION);
      expect(r.string()).toBe("no-such-topic");
    } finally {
      c.close();
    }
    await expectBrokerServes();
  });

  // (a) Truncated bodies. The frame size matches the bytes sent, so the framing is fine and only the
  // body is short. Kafka cannot parse such a request and closes the connection. An answer is accepted
  // only if a client can recognise it as an error: for APIs without a top-level error_code (Metadata,
  // Produce) that means an error code on every entry, never an empty success-shaped response.
  const truncated: { name: string; frame: (id: number) => Uint8Array; isError: (r: ByteReader) => boolean }[] = [
    {
      name: "Metadata v1: claims 2 topic names, the first claims 20 bytes, 3 follow",
      frame: (id) =>
        requestFrame({ apiKey: METADATA, apiVersion: 1, correlationId: id }, concat(int32(2), int16(20), new TextEncoder().encode("abc"))),
      // Metadata v1 response: brokers[] | controller_id | topics[] (error_code, name, is_internal, partitions[])
      isError: (r) => {
        const brokers = r.int32();
        for (let i = 0; i < brokers; i++) (r.int32(), r.string(), r.int32(), r.string());
        r.int32();
        const topics = r.int32();
        if (topics <= 0) return false;
        for (let i = 0; i < topics; i++) {
          if (r.int16() === NONE) return false;
          r.string();
          r.int8();
          const parts = r.int32();
          if (parts > 0) return false; // not worth parsing further: no error response has partitions
        }
        return true;
      },
    },
    {
      name: "Produce v3: acks and timeout, then a topic array that claims 1 topic and ends",
      frame: (id) => requestFrame({ apiKey: PRODUCE, apiVersion: 3, correlationId: id }, concat(nullableStr(null), int16(1), int32(1000), int32(1))),
      isError: (r) => {
        const res = parseProduceV3(r);
        return res.length > 0 && res.every((p) => p.errorCode !== NONE);
      },
    },
    {
      name: "ApiVersions v3: client_software_name claims 50 bytes, 2 follow",
      frame: (id) =>
        requestFrame(
          { apiKey: API_VERSIONS, apiVersion: 3, correlationId: id, flexibleHeader: true },
          concat(Uint8Array.of(51), new TextEncoder().encode("ab")),
        ),
      isError: (r) => r.int16() !== NONE, // response v3 starts with error_code (header v0 for ApiVersions)
    },
  ];
  for (const tc of truncated) {
    test(`(a) truncated body, ${tc.name} → closed, or an error response`, async () => {
      const c = await connect();
      try {
        const id = nextCorrelationId++;
        c.send(tc.frame(id));
        const e = await c.next();
        if (e.kind === "frame") {
          const r = new ByteReader(e.frame);
          expect(r.int32()).toBe(id);
          let isError = false;
          try {
            isError = tc.isError(r);
          } catch {
            isError = false;
          }
          if (!isError)
            throw new Error(
              `the broker answered a truncated request with a response that carries no error ` +
                `(Kafka closes the connection): ${Buffer.from(e.frame).toString("hex")}`,
            );
        } else {
          expect(e.kind).toBe("closed");
        }
      } finally {
        c.close();
      }
      await expectBrokerServes();
    });
  }

  test("(a') a frame whose header itself is cut short → closed", async () => {
    const c = await connect();
    try {
      // size 3: only api_key (2 bytes) and one byte of api_version.
      c.send(concat(int32(3), int16(METADATA), Uint8Array.of(0)));
      expect((await c.next()).kind).toBe("closed");
    } finally {
      c.close();
    }
    await expectBrokerServes();
  });

  test("(b) a frame larger than socket.request.max.bytes → closed", async () => {
    const c = await connect();
    try {
      // Announce 100 000 bytes (limit 4096) and send only the start: the size alone must close it.
      c.send(concat(int32(100_000), int16(METADATA), int16(1), int32(nextCorrelationId++), str("x")));
      expect((await c.next()).kind).toBe("closed");
    } finally {
      c.close();
    }
    const c2 = await connect();
    try {
      c2.send(int32(-1)); // a negative size is just as invalid
      expect((await c2.next()).kind).toBe("closed");
    } finally {
      c2.close();
    }
    await expectBrokerServes();
  });

  test("(c) an unknown API key (9999) → closed", async () => {
    const c = await connect();
    try {
      c.send(requestFrame({ apiKey: 9999, apiVersion: 0, correlationId: nextCorrelationId++ }, int32(0)));
      expect((await c.next()).kind).toBe("closed");
    } finally {
      c.close();
    }
    await expectBrokerServes();
  });

  test("afterwards: the broker still serves kcat, and the log holds exactly the valid records", async () => {
    expect(broker.proc.exitCode).toBeNull();
    const before = await kcatConsume(broker.address, TOPIC, { partition: 0 });
    expect(before.map((m) => [m.offset, m.key, m.payload])).toEqual([
      [0, "k", "first"],
      [1, "k", "second"],
      [2, "k", "third"],
    ]);
    expect(before[0]!.headers).toEqual(["h", "1"]);

    await kcat(["-b", broker.address, "-P", "-t", TOPIC, "-p", "0", "-K:"], { stdin: "kcat:fourth\n" });
    const after = await kcatConsume(broker.address, TOPIC, { partition: 0 });
    expect(after.map((m) => [m.offset, m.key, m.payload])).toEqual([
      [0, "k", "first"],
      [1, "k", "second"],
      [2, "k", "third"],
      [3, "kcat", "fourth"],
    ]);
  });
});
