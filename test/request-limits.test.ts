// One request must never monopolise the broker. Requests that would make partitions are capped as Kafka's
// controller caps them (10,000 per request, POLICY_VIOLATION up front), and what is allowed — opening or
// removing thousands of partition logs, seconds of work — is done in slices while other connections
// keep being answered. Partitions are refused while their file descriptors would eat into a reserve kept
// for connections, a creation that fails part-way is rolled back, and a compressed batch that would
// inflate to gigabytes is refused at a limit.
// Frames by hand from shared/kafka-protocol/message/*.json; the broker is a child process, so running
// out of descriptors there cannot disturb the test runner.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { run } from "./helpers/run.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { ByteReader, bytes, concat, crc32c, int16, int32, int8, RawClient, requestFrame, str, varint } from "./helpers/wire.ts";

setDefaultTimeout(120_000);

const POLICY_VIOLATION = 44;
const LEADER_NOT_AVAILABLE = 5;
const UNKNOWN_SERVER_ERROR = -1;

let dir: TempDir;
let broker: SpawnedBroker;
let correlation = 1;

beforeAll(async () => {
  dir = await tempDir("brook-request-limits-");
  broker = await spawnBroker({ dataDir: dir.path, overrides: { "log.segment.bytes": 1 << 20, "num.partitions": 10_001 } });
});

afterAll(async () => {
  const code = await broker?.stop(30_000);
  await dir?.remove();
  expect(code).toBe(0); // still alive at the end, and stopped cleanly
});

const connect = () => RawClient.connect(broker.host, broker.port);
const partitionDirs = (topic: string) => readdirSync(dir.path).filter((d) => d.startsWith(`${topic}-`));

/**
 * CreateTopics v1: topics [name, num_partitions, replication_factor, assignments [], configs []],
 * timeout_ms, validate_only. Response v1: topics [name, error_code, error_message].
 */
function createTopicsV1(id: number, topics: [string, number][]) {
  const body = concat(int32(topics.length), ...topics.map(([name, n]) => concat(str(name), int32(n), int16(1), int32(0), int32(0))), int32(60_000), int8(0));
  return requestFrame({ apiKey: 19, apiVersion: 1, correlationId: id }, body);
}
function parseTopicErrors(r: ByteReader, withMessage: boolean) {
  const n = r.int32();
  const out: { name: string; errorCode: number; message: string | null }[] = [];
  for (let i = 0; i < n; i++) out.push({ name: r.string()!, errorCode: r.int16(), message: withMessage ? r.string() : null });
  return out;
}

/** DeleteTopics v1: topic_names [], timeout_ms. Response v1: throttle_time_ms, responses [name, error_code]. */
const deleteTopicsV1 = (id: number, names: string[]) =>
  requestFrame({ apiKey: 20, apiVersion: 1, correlationId: id }, concat(int32(names.length), ...names.map(str), int32(60_000)));

/**
 * CreatePartitions v0: topics [name, count, assignments (nullable: -1)], timeout_ms, validate_only.
 * Response v0: throttle_time_ms, results [name, error_code, error_message].
 */
const createPartitionsV0 = (id: number, topic: string, count: number) =>
  requestFrame({ apiKey: 37, apiVersion: 0, correlationId: id }, concat(int32(1), str(topic), int32(count), int32(-1), int32(60_000), int8(0)));

/** Sends `frame` on its own connection and counts ApiVersions round trips on another until it is answered. */
async function answeredWhileOthersAreServed(frame: Uint8Array, id: number): Promise<{ response: ByteReader; roundTrips: number }> {
  const slow = await connect();
  const other = await connect();
  let done = false;
  let roundTrips = 0;
  slow.send(frame);
  const answer = slow.response(120_000).then((r) => {
    done = true;
    return r;
  });
  while (!done) {
    const pingId = correlation++;
    other.send(requestFrame({ apiKey: 18, apiVersion: 0, correlationId: pingId }, new Uint8Array(0)));
    const r = await Promise.race([other.response(), answer.then(() => null)]);
    if (r && !done) {
      expect(r.int32()).toBe(pingId);
      roundTrips++;
    }
  }
  const response = await answer;
  expect(response.int32()).toBe(id);
  slow.close();
  other.close();
  return { response, roundTrips };
}

describe("partition counts per request", () => {
  test("CreateTopics for 2,147,483,647 partitions is refused at once, and nothing is created", async () => {
    const c = await connect();
    const name = topicName("huge");
    const id = correlation++;
    c.send(createTopicsV1(id, [[name, 2147483647]]));
    const r = await c.response();
    expect(r.int32()).toBe(id);
    expect(parseTopicErrors(r, true)).toEqual([{ name, errorCode: POLICY_VIOLATION, message: "Excessively large number of partitions per request." }]);
    expect(partitionDirs(name)).toEqual([]);
    c.close();
  });

  test("the cap counts every topic of the request together (Kafka's controller does the same)", async () => {
    const c = await connect();
    const [a, b] = [topicName("sum-a"), topicName("sum-b")];
    const id = correlation++;
    c.send(createTopicsV1(id, [[a, 6000], [b, 4001]]));
    const r = await c.response();
    expect(r.int32()).toBe(id);
    expect(parseTopicErrors(r, true).map((t) => t.errorCode)).toEqual([POLICY_VIOLATION, POLICY_VIOLATION]);
    expect(partitionDirs(a).length + partitionDirs(b).length).toBe(0);
    c.close();
  });

  test("CreatePartitions adding more than 10,000 partitions is refused as one oversized batch", async () => {
    const c = await connect();
    const name = topicName("grow");
    let id = correlation++;
    c.send(createTopicsV1(id, [[name, 1]]));
    expect(parseTopicErrors(((r) => (expect(r.int32()).toBe(id), r))(await c.response()), true)[0]!.errorCode).toBe(0);
    id = correlation++;
    c.send(createPartitionsV0(id, name, 10_002));
    const r = await c.response();
    expect(r.int32()).toBe(id);
    r.int32(); // throttle
    expect(parseTopicErrors(r, true)).toEqual([{ name, errorCode: POLICY_VIOLATION, message: "Unable to perform excessively large batch operation." }]);
    expect(partitionDirs(name)).toEqual([`${name}-0`]);
    c.close();
  });
});

describe("large allowed work is done in slices", () => {
  test("creating, growing and deleting hundreds of partitions: other connections keep being answered meanwhile", async () => {
    const name = topicName("sliced");
    let id = correlation++;
    const created = await answeredWhileOthersAreServed(createTopicsV1(id, [[name, 500]]), id);
    expect(parseTopicErrors(created.response, true)).toEqual([{ name, errorCode: 0, message: null }]);
    expect(partitionDirs(name).length).toBe(500);
    expect(created.roundTrips).toBeGreaterThanOrEqual(2);

    id = correlation++;
    const grown = await answeredWhileOthersAreServed(createPartitionsV0(id, name, 1200), id);
    grown.response.int32();
    expect(parseTopicErrors(grown.response, true)).toEqual([{ name, errorCode: 0, message: null }]);
    expect(partitionDirs(name).length).toBe(1200);
    // A ping may slip in before the work starts; a second one answered means the work let it through.
    expect(grown.roundTrips).toBeGreaterThanOrEqual(2);

    id = correlation++;
    const deleted = await answeredWhileOthersAreServed(deleteTopicsV1(id, [name]), id);
    deleted.response.int32(); // throttle
    expect(parseTopicErrors(deleted.response, false).map((t) => [t.name, t.errorCode])).toEqual([[name, 0]]);
    expect(partitionDirs(name)).toEqual([]);
    expect(deleted.roundTrips).toBeGreaterThanOrEqual(2);
  });

  test("Metadata does not auto-create past the cap: with num.partitions over 10,000 the topic stays LEADER_NOT_AVAILABLE", async () => {
    // num.partitions=10001 in this broker: one auto-created topic alone would pass the cap, as would a
    // CreateTopics asking for the default (-1).
    const name = topicName("auto");
    /** Metadata v4: topics [name], allow_auto_topic_creation. */
    const metadataV4 = (id: number) => requestFrame({ apiKey: 3, apiVersion: 4, correlationId: id }, concat(int32(1), str(name), int8(1)));
    const c = await connect();
    let id = correlation++;
    c.send(metadataV4(id));
    let r = await c.response();
    expect(r.int32()).toBe(id);
    // Response v4: throttle, brokers [id, host, port, rack], cluster_id, controller_id, topics [error, name, internal, partitions [...]].
    r.int32();
    const brokers = r.int32();
    for (let i = 0; i < brokers; i++) (r.int32(), r.string(), r.int32(), r.string());
    r.string();
    r.int32();
    expect(r.int32()).toBe(1);
    expect(r.int16()).toBe(LEADER_NOT_AVAILABLE);
    expect(r.string()).toBe(name);
    r.int8();
    expect(r.int32()).toBe(0);
    expect(partitionDirs(name)).toEqual([]);

    id = correlation++;
    c.send(createTopicsV1(id, [[name, -1]]));
    r = await c.response();
    expect(r.int32()).toBe(id);
    expect(parseTopicErrors(r, true)[0]!.errorCode).toBe(POLICY_VIOLATION);
    expect(partitionDirs(name)).toEqual([]);
    c.close();
  });
});

test("near the file descriptor limit, partitions are refused up front (a reserve stays for connections)", async () => {
  const fds = readdirSync(`/proc/${broker.proc.pid}/fd`).length;
  const limit = fds + 200;
  const hard = /Max open files\s+\d+\s+(\d+)/.exec(readFileSync(`/proc/${broker.proc.pid}/limits`, "utf8"))![1];
  // Only the soft limit moves, so it can be put back.
  const lowered = await run(["prlimit", `--pid=${broker.proc.pid}`, `--nofile=${limit}:`]);
  expect(lowered.exitCode).toBe(0);
  try {
    const c = await connect();
    const name = topicName("fds");
    let id = correlation++;
    c.send(createTopicsV1(id, [[name, 190]])); // fits under the limit, not under the reserve
    let r = await c.response();
    expect(r.int32()).toBe(id);
    const [refused] = parseTopicErrors(r, true);
    expect(refused!.errorCode).toBe(POLICY_VIOLATION);
    expect(refused!.message).toContain("file descriptors");
    expect(partitionDirs(name)).toEqual([]);
    id = correlation++;
    c.send(createTopicsV1(id, [[name, 10]]));
    r = await c.response();
    expect(r.int32()).toBe(id);
    expect(parseTopicErrors(r, true)[0]!.errorCode).toBe(0);
    // Still accepting connections.
    const other = await connect();
    other.send(requestFrame({ apiKey: 18, apiVersion: 0, correlationId: 7 }, new Uint8Array(0)));
    expect((await other.response()).int32()).toBe(7);
    other.close();
    c.close();
  } finally {
    await run(["prlimit", `--pid=${broker.proc.pid}`, `--nofile=${hard}:`]);
  }
});

test("a creation that fails part-way is rolled back: no partition directories left, the name free again", async () => {
  const c = await connect();
  const name = topicName("rollback");
  // Something in the way of partition 7's directory: its log cannot be opened.
  writeFileSync(dir.join(`${name}-7`), "not a directory");
  let id = correlation++;
  c.send(createTopicsV1(id, [[name, 20]]));
  let r = await c.response();
  expect(r.int32()).toBe(id);
  const [failed] = parseTopicErrors(r, true);
  expect(failed!.errorCode).toBe(UNKNOWN_SERVER_ERROR);
  expect(failed!.message).toContain("Could not create the partition logs");
  expect(partitionDirs(name)).toEqual([]);
  id = correlation++;
  c.send(createTopicsV1(id, [[name, 20]]));
  r = await c.response();
  expect(r.int32()).toBe(id);
  expect(parseTopicErrors(r, true)[0]!.errorCode).toBe(0);
  expect(partitionDirs(name).length).toBe(20);
  c.close();
});

test("a decompression bomb produced to a compacted topic is refused (CORRUPT_MESSAGE) without inflating it", async () => {
  const c = await connect();
  const topic = topicName("bomb");
  // CreateTopics v1 does not carry configs in the helper above: v0 with one config, by hand.
  let id = correlation++;
  c.send(
    requestFrame(
      { apiKey: 19, apiVersion: 0, correlationId: id },
      concat(int32(1), str(topic), int32(1), int16(1), int32(0), int32(1), str("cleanup.policy"), str("compact"), int32(30_000)),
    ),
  );
  let r = await c.response();
  expect(r.int32()).toBe(id);
  expect(parseTopicErrors(r, false)[0]!.errorCode).toBe(0);

  // One record with a key and 1 GiB of zeros as its value, zstd-compressed into a few dozen KiB.
  const value = 1 << 30;
  const head = concat(Uint8Array.of(0), varint(0), varint(0), varint(1), Uint8Array.of(0x6b), varint(value));
  const recordLength = head.length + value + 1;
  const section = new Uint8Array(varint(recordLength).length + recordLength);
  section.set(concat(varint(recordLength), head));
  const compressed = Bun.zstdCompressSync(section);
  expect(compressed.length).toBeLessThan(64 * 1024);
  const batch = batchOver(compressed, 4 /* zstd */);

  const hwmBefore = vmHwm(broker.proc.pid);
  id = correlation++;
  // Produce v7 (zstd needs v7+): transactional_id, acks, timeout_ms, topic_data [name, [index, records]].
  c.send(requestFrame({ apiKey: 0, apiVersion: 7, correlationId: id }, concat(int16(-1), int16(1), int32(10_000), int32(1), str(topic), int32(1), int32(0), bytes(batch))));
  r = await c.response();
  expect(r.int32()).toBe(id);
  // Response v7: responses [name, [index, error_code, base_offset, log_append_time, log_start_offset]], throttle.
  expect(r.int32()).toBe(1);
  expect(r.string()).toBe(topic);
  expect(r.int32()).toBe(1);
  expect(r.int32()).toBe(0);
  expect(r.int16()).toBe(2); // CORRUPT_MESSAGE
  // Inflating it would have taken at least 1 GiB; the broker stopped at its 64 MiB limit.
  expect(vmHwm(broker.proc.pid) - hwmBefore).toBeLessThan(256 << 20);
  c.close();
});

function vmHwm(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
}

/** A record batch v2 header (RECORDS.md) over an already compressed records section: one record. */
function batchOver(section: Uint8Array, codec: number): Uint8Array {
  const b = new Uint8Array(61 + section.length);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, 0n);
  v.setInt32(8, b.length - 12);
  v.setInt32(12, -1);
  v.setInt8(16, 2);
  v.setInt16(21, codec);
  v.setInt32(23, 0);
  v.setBigInt64(27, BigInt(Date.now()));
  v.setBigInt64(35, BigInt(Date.now()));
  v.setBigInt64(43, -1n);
  v.setInt16(51, -1);
  v.setInt32(53, -1);
  v.setInt32(57, 1);
  b.set(section, 61);
  v.setUint32(17, crc32c(b.subarray(21)));
  return b;
}
