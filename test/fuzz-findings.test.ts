// Regression tests for what the protocol fuzzer (fuzz/) found, each as the smallest raw request that
// showed it. Frames by hand from shared/kafka-protocol/message/*.json; the record batch from RECORDS.md.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startBroker, type BrokerHandle } from "../src/broker.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { bytes, compactStr, concat, crc32c, int16, int32, int64, int8, nullableStr, RawClient, requestFrame, str, uvarint } from "./helpers/wire.ts";

let dir: TempDir;
let broker: BrokerHandle;
let correlation = 1;

beforeAll(async () => {
  dir = await tempDir("brook-fuzz-findings-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "silent", overrides: { "group.initial.rebalance.delay.ms": 0 } });
});
afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

const connect = () => RawClient.connect(broker.host, broker.port);
/** A STRING of raw bytes: int16 length, then the bytes (which need not be UTF-8). */
const rawStr = (b: Uint8Array) => concat(int16(b.length), b);

test("a group id of invalid UTF-8 that would not fit back into a response is refused, and ListGroups stays readable", async () => {
  // 12,000 bytes of 0xff decode to 12,000 U+FFFD: 36,000 bytes of UTF-8, past an int16 length. Before,
  // the group was created and every ListGroups answer after it carried a wrapped (negative) length.
  const c = await connect();
  let id = correlation++;
  // JoinGroup v0: group_id, session_timeout_ms, member_id, protocol_type, protocols [name, metadata].
  c.send(
    requestFrame(
      { apiKey: 11, apiVersion: 0, correlationId: id },
      concat(rawStr(new Uint8Array(12_000).fill(0xff)), int32(10_000), str(""), str("consumer"), int32(1), str("range"), bytes(new Uint8Array(0))),
    ),
  );
  // JoinGroup has a top-level error code: INVALID_REQUEST (42) for a body that cannot be read.
  let r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int16()).toBe(42);

  id = correlation++;
  // ListGroups v0: no body. Response: error_code, groups [group_id, protocol_type].
  c.send(requestFrame({ apiKey: 16, apiVersion: 0, correlationId: id }, new Uint8Array(0)));
  r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int16()).toBe(0);
  const n = r.int32();
  for (let i = 0; i < n; i++) {
    expect(r.string()).not.toBeNull();
    r.string();
  }
  expect(r.remaining).toBe(0);
  c.close();

  // The same in a request header's client id (echoed in member ids): the header is unreadable, closed.
  const h = await connect();
  const header = concat(int16(18), int16(0), int32(correlation++), rawStr(new Uint8Array(12_000).fill(0xff)));
  h.send(concat(int32(header.length), header));
  expect((await h.next()).kind).toBe("closed");
});

test("a string longer than 32,767 bytes is refused even in a flexible (compact) request, as Kafka does", async () => {
  // A valid 33,000-byte group id in JoinGroup v6 (compact strings): accepted before, then echoed in
  // non-flexible answers (ListGroups v0, JoinGroup v5 member lists) that cannot carry it.
  const c = await connect();
  const id = correlation++;
  const groupId = new TextEncoder().encode("g".repeat(33_000));
  // JoinGroup v6 (flexible): group_id, session_timeout_ms, rebalance_timeout_ms, member_id,
  // group_instance_id (nullable), protocol_type, protocols [name, metadata], tags.
  c.send(
    requestFrame(
      { apiKey: 11, apiVersion: 6, correlationId: id, flexibleHeader: true },
      concat(uvarint(groupId.length + 1), groupId, int32(10_000), int32(10_000), compactStr(""), uvarint(0), compactStr("consumer"), uvarint(2), compactStr("range"), uvarint(1), uvarint(0), uvarint(0)),
    ),
  );
  const r = await c.response();
  expect(r.int32()).toBe(id);
  r.int8(); // response header tags
  r.int32(); // throttle_time_ms
  expect(r.int16()).toBe(42); // INVALID_REQUEST
  c.close();
});

test("an error message quoting a 32,760-byte config name is cut to fit instead of failing the answer", async () => {
  // CreateTopics answers "Unknown topic config name: <name>": with a 32,760-byte name that no longer fit
  // an int16 string, and the (asynchronous) answer failed, closing the connection.
  const c = await connect();
  const id = correlation++;
  const topic = topicName("long-config");
  // CreateTopics v1: topics [name, num_partitions, replication_factor, assignments [], configs [name, value]],
  // timeout_ms, validate_only. Response v1: topics [name, error_code, error_message].
  c.send(
    requestFrame(
      { apiKey: 19, apiVersion: 1, correlationId: id },
      concat(int32(1), str(topic), int32(1), int16(1), int32(0), int32(1), str("x".repeat(32_760)), str("1"), int32(10_000), int8(0)),
    ),
  );
  const r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int32()).toBe(1);
  expect(r.string()).toBe(topic);
  expect(r.int16()).toBe(40); // INVALID_CONFIG
  const message = r.string()!;
  expect(message.startsWith("Unknown topic config name: xxx")).toBe(true);
  expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(32_767);
  expect(r.remaining).toBe(0);
  c.close();
});

test("a member id made from a 32 kB client id still fits the JoinGroup answer", async () => {
  // The member id is "<client id>-<uuid>"; a client id near the string limit made one no answer could carry.
  const c = await connect();
  const id = correlation++;
  const group = topicName("long-client-id");
  // JoinGroup v0 (header v1 with the long client id): group_id, session_timeout_ms, member_id,
  // protocol_type, protocols [name, metadata]. Response v0: error_code, generation_id, protocol_name,
  // leader, member_id, members [member_id, metadata].
  c.send(
    requestFrame(
      { apiKey: 11, apiVersion: 0, correlationId: id, clientId: "c".repeat(32_700) },
      concat(str(group), int32(10_000), str(""), str("consumer"), int32(1), str("range"), bytes(new Uint8Array(0))),
    ),
  );
  const r = await c.response();
  expect(r.int32()).toBe(id);
  expect(r.int16()).toBe(0);
  r.int32();
  r.string();
  r.string();
  const memberId = r.string()!;
  expect(memberId.startsWith("ccc")).toBe(true);
  expect(memberId.length).toBeLessThan(300);
  c.close();
});

test("ListOffsets on a batch whose compressed records cannot be read answers from the batch header", async () => {
  // A producer may store a batch with a correct CRC over garbage "zstd" data (Brook validates batch
  // headers, not records). Before, a timestamp lookup landing on it answered UNKNOWN_SERVER_ERROR.
  const topic = topicName("garbage");
  broker.broker.topics.create(topic, 1);
  const c = await connect();
  const garbage = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff);
  const ts = 1_700_000_000_000;
  const batch = batchOver(garbage, 4, 3, ts);
  let id = correlation++;
  // Produce v7: transactional_id, acks, timeout_ms, topic_data [name, [index, records]].
  c.send(requestFrame({ apiKey: 0, apiVersion: 7, correlationId: id }, concat(nullableStr(null), int16(1), int32(10_000), int32(1), str(topic), int32(1), int32(0), bytes(batch))));
  let r = await c.response();
  expect(r.int32()).toBe(id);
  r.int32(), r.string(), r.int32(), r.int32();
  expect(r.int16()).toBe(0);

  // ListOffsets v5: replica_id, isolation_level, topics [name, [partition, current_leader_epoch, timestamp]].
  // Response v5: throttle, topics [name, [partition, error_code, timestamp, offset, leader_epoch]].
  const lid = correlation++;
  c.send(requestFrame({ apiKey: 2, apiVersion: 5, correlationId: lid }, concat(int32(-1), int8(0), int32(1), str(topic), int32(1), int32(0), int32(-1), int64(ts - 5))));
  r = await c.response();
  expect(r.int32()).toBe(lid);
  r.int32();
  expect(r.int32()).toBe(1);
  r.string();
  expect(r.int32()).toBe(1);
  r.int32();
  // the batch's first offset, with its max timestamp
  expect({ errorCode: r.int16(), timestamp: Number(r.int64()), offset: Number(r.int64()) }).toEqual({ errorCode: 0, timestamp: ts, offset: 0 });

  // ListOffsets v7 (flexible: compact arrays and strings, tagged-field bytes, request header v2) for the
  // max timestamp (-3): the batch's last offset.
  const mid = correlation++;
  c.send(
    requestFrame(
      { apiKey: 2, apiVersion: 7, correlationId: mid, flexibleHeader: true },
      concat(int32(-1), int8(0), uvarint(2), compactStr(topic), uvarint(2), int32(0), int32(-1), int64(-3), uvarint(0), uvarint(0), uvarint(0)),
    ),
  );
  const m = await c.response();
  expect(m.int32()).toBe(mid);
  m.int8(); // response header tags
  m.int32(); // throttle
  m.int8(); // topics: compact length 2
  m.offset += 1 + new TextEncoder().encode(topic).length; // compact name
  m.int8(); // partitions: compact length 2
  m.int32();
  expect({ errorCode: m.int16(), timestamp: Number(m.int64()), offset: Number(m.int64()) }).toEqual({ errorCode: 0, timestamp: ts, offset: 2 });
  c.close();
});

test("ListOffsets for the max timestamp on a log whose batches carry no timestamp (-1) answers no offset", async () => {
  // Before, the segment's max-timestamp position (-1, none) was read as a batch: a RangeError, and
  // UNKNOWN_SERVER_ERROR.
  const topic = topicName("no-timestamps");
  broker.broker.topics.create(topic, 1);
  const c = await connect();
  // One uncompressed record: length, attributes, timestamp delta, offset delta, key -1, value "v", no headers.
  const record = Uint8Array.of(0x0e, 0, 0, 0, 0x01, 0x02, 0x76, 0);
  const batch = batchOver(record, 0, 1, -1);
  let id = correlation++;
  c.send(requestFrame({ apiKey: 0, apiVersion: 7, correlationId: id }, concat(nullableStr(null), int16(1), int32(10_000), int32(1), str(topic), int32(1), int32(0), bytes(batch))));
  let r = await c.response();
  expect(r.int32()).toBe(id);
  r.int32(), r.string(), r.int32(), r.int32();
  expect(r.int16()).toBe(0);
  id = correlation++;
  // ListOffsets v7 (flexible) for -3, as above.
  c.send(
    requestFrame(
      { apiKey: 2, apiVersion: 7, correlationId: id, flexibleHeader: true },
      concat(int32(-1), int8(0), uvarint(2), compactStr(topic), uvarint(2), int32(0), int32(-1), int64(-3), uvarint(0), uvarint(0), uvarint(0)),
    ),
  );
  r = await c.response();
  expect(r.int32()).toBe(id);
  r.int8(), r.int32(), r.int8();
  r.offset += 1 + new TextEncoder().encode(topic).length;
  r.int8(), r.int32();
  expect({ errorCode: r.int16(), timestamp: Number(r.int64()), offset: Number(r.int64()) }).toEqual({ errorCode: 0, timestamp: -1, offset: -1 });
  c.close();
});

/** A record batch v2 header (RECORDS.md) over a records section as given, claiming `count` records. */
function batchOver(section: Uint8Array, codec: number, count: number, timestamp: number): Uint8Array {
  const b = new Uint8Array(61 + section.length);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, 0n); // base offset
  v.setInt32(8, b.length - 12); // batch length
  v.setInt32(12, -1); // partition leader epoch
  v.setInt8(16, 2); // magic
  v.setInt16(21, codec); // attributes
  v.setInt32(23, count - 1); // last offset delta
  v.setBigInt64(27, BigInt(timestamp)); // base timestamp
  v.setBigInt64(35, BigInt(timestamp)); // max timestamp
  v.setBigInt64(43, -1n); // producer id
  v.setInt16(51, -1); // producer epoch
  v.setInt32(53, -1); // base sequence
  v.setInt32(57, count); // record count
  b.set(section, 61);
  v.setUint32(17, crc32c(b.subarray(21)));
  return b;
}

test("a long poll that has ended leaves nothing behind in the waiter table", async () => {
  // Found while watching the broker's heap grow over a long fuzz run: the table of long-polling fetches
  // kept an empty entry, and with it the partition and its log object, for every partition ever waited
  // on, deleted topics' included.
  await using b = await startBroker({ dataDir: dir.join(`waiters-${process.pid}`), logLevel: "silent" });
  const topic = topicName("long-polled");
  b.broker.topics.create(topic, 1);
  const c = await RawClient.connect(b.host, b.port);
  let id = correlation++;
  // Fetch v4 with a 50 ms long poll on the empty partition: replica_id, max_wait_ms, min_bytes, max_bytes,
  // isolation_level, topics [name, [partition, fetch_offset, partition_max_bytes]].
  c.send(requestFrame({ apiKey: 1, apiVersion: 4, correlationId: id }, concat(int32(-1), int32(50), int32(1), int32(1 << 20), int8(0), int32(1), str(topic), int32(1), int32(0), int64(0), int32(1 << 20))));
  expect((await c.response()).int32()).toBe(id);
  id = correlation++;
  // DeleteTopics v1: topic_names, timeout_ms.
  c.send(requestFrame({ apiKey: 20, apiVersion: 1, correlationId: id }, concat(int32(1), str(topic), int32(10_000))));
  expect((await c.response()).int32()).toBe(id);
  c.close();
  expect((b.broker as unknown as { waiters: Map<unknown, unknown> }).waiters.size).toBe(0); // white box: nothing else shows it
});

test("a topic with a 249-character name is deleted: its directories' deleting names are cut to fit 255 bytes (was ENAMETOOLONG, and the other topics of the request kept)", async () => {
  const long = "a".repeat(249);
  const other = topicName("del-with-long");
  broker.broker.topics.create(long, 2);
  broker.broker.topics.create(other, 2);
  const { KafkaClient } = await import("../src/client.ts");
  const { DeleteTopics } = await import("../protocol/apis/20-delete-topics.ts");
  await using c = await KafkaClient.connect(broker.address);
  const res = await c.request(DeleteTopics, 4, { topicNames: [other, long], timeoutMs: 5000 });
  expect(res.responses.map((r) => [r.name, r.errorCode])).toEqual([[other, 0], [long, 0]]);
  const fs = await import("node:fs");
  expect(fs.readdirSync(dir.path).filter((f) => f.startsWith(other) || f.startsWith("aaaa"))).toEqual([]);
  expect(broker.broker.topics.get(long)).toBeUndefined();
});

test("a topic deleted and created again while partitions are still being added to it keeps its directories (the unfinished addition removed them as its own; the next deletion failed with ENOENT)", async () => {
  const name = topicName("grow-del");
  broker.broker.topics.create(name, 1);
  const { KafkaClient } = await import("../src/client.ts");
  const { CreatePartitions } = await import("../protocol/apis/37-create-partitions.ts");
  const { CreateTopics } = await import("../protocol/apis/19-create-topics.ts");
  const { DeleteTopics } = await import("../protocol/apis/20-delete-topics.ts");
  const fs = await import("node:fs");
  await using a = await KafkaClient.connect(broker.address);
  await using b = await KafkaClient.connect(broker.address);
  const growing = a.request(CreatePartitions, 1, { topics: [{ name, count: 3000, assignments: null }], timeoutMs: 30_000, validateOnly: false });
  const { until } = await import("./helpers/poll.ts");
  await until("the addition under way (it takes many slices)", () => broker.broker.topics.isBusy(name), 10_000);
  const del = await b.request(DeleteTopics, 4, { topicNames: [name], timeoutMs: 30_000 });
  expect(del.responses[0]!.errorCode).toBe(0);
  const created = await b.request(CreateTopics, 4, { topics: [{ name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false });
  expect(created.topics[0]!.errorCode).toBe(0);
  await growing;
  expect(broker.broker.topics.get(name)!.partitions.length).toBe(3);
  expect([0, 1, 2].map((i) => fs.existsSync(`${dir.path}/${name}-${i}`))).toEqual([true, true, true]);
  const again = await b.request(DeleteTopics, 4, { topicNames: [name], timeoutMs: 30_000 });
  expect(again.responses[0]!.errorCode).toBe(0);
}, 60_000);
