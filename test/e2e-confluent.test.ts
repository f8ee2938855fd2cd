// End to end with librdkafka through confluent_kafka (run by /usr/bin/python3), against the broker
// started through its CLI. Producer: keys, headers (including a null value), explicit timestamps and
// partitions, acks=1 and acks=all, the four compression codecs, idempotence off. Consumer: assign()
// from OFFSET_BEGINNING with a dummy group.id that is never used (no subscribe, no commits).
// Plus list_topics(), get_watermark_offsets() and offsets_for_times().
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import {
  byKey,
  confluentConsume,
  confluentProduce,
  confluentQuery,
  requireTools,
  type Consumed,
  type Delivery,
  type OutMessage,
} from "./helpers/clients.ts";
import { CODEC_ID, storedCodecs } from "./helpers/stored.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

// bunfig's [test] timeout is not applied to these files: set it here (stock clients are slow to start).
setDefaultTimeout(30000);

const TIMESTAMP_CREATE_TIME = 1; // confluent_kafka.TIMESTAMP_CREATE_TIME
const BASE_TS = 1_700_000_000_000;

let dir: TempDir;
let broker: SpawnedBroker;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-confluent-");
  broker = await spawnBroker({ dataDir: dir.path, overrides: { "num.partitions": 2 } });
});

afterAll(async () => {
  const exitCode = await broker?.stop();
  await dir?.remove();
  expect(exitCode).toBe(0); // SIGTERM → clean exit 0 (also fails if the broker died during the tests)
});

function okDeliveries(lines: Delivery[], n: number): Delivery[] {
  for (const d of lines) expect(d.error).toBeNull();
  expect(lines.length).toBe(n);
  return [...lines].sort((a, b) => a.i - b.i);
}

/** Asserts that what was consumed is exactly what was produced, at the offsets the acks reported. */
function expectSameAsProduced(consumed: Consumed[], sent: OutMessage[], deliveries: Delivery[]) {
  expect(consumed.length).toBe(sent.length);
  const at = new Map(consumed.map((c) => [`${c.partition}/${c.offset}`, c]));
  deliveries.forEach((d) => {
    const m = sent[d.i]!;
    const c = at.get(`${d.partition}/${d.offset}`);
    expect(c).toBeDefined();
    expect(c!.key).toBe(m.key ?? null);
    expect(c!.value).toBe(m.value ?? null);
    expect(c!.headers).toEqual(m.headers ?? []);
    if (m.timestamp !== undefined) {
      expect(c!.timestamp).toBe(m.timestamp);
      expect(c!.tstype).toBe(TIMESTAMP_CREATE_TIME);
    }
    if (m.partition !== undefined) expect(c!.partition).toBe(m.partition);
  });
  // Offsets are dense from 0 in every partition.
  for (const p of new Set(consumed.map((c) => c.partition))) {
    const offs = consumed.filter((c) => c.partition === p).map((c) => c.offset);
    expect(offs).toEqual(offs.map((_, i) => i));
  }
}

describe("confluent_kafka (librdkafka)", () => {
  for (const acks of ["1", "all"]) {
    test(`acks=${acks}: keys, headers, explicit timestamps and partitions read back exactly`, async () => {
      const topic = topicName(`cf-acks${acks}`);
      const sent: OutMessage[] = Array.from({ length: 24 }, (_, i) => ({
        key: i % 6 === 5 ? null : `key-${i % 3}`,
        value: i === 7 ? null : `value-${i}`,
        headers: i % 4 === 0 ? [] : [["seq", String(i)], ["empty", ""], ["nothing", null], ["seq", "dup"]],
        partition: i % 2,
        timestamp: BASE_TS + i * 1000,
      }));
      const prod = await confluentProduce({
        bootstrap: broker.address,
        topic,
        config: { acks, "enable.idempotence": false, "linger.ms": 5 },
        messages: sent,
      });
      const deliveries = okDeliveries(prod.lines, sent.length);
      // Each partition's offsets follow send order (no retries happened).
      for (const p of [0, 1]) {
        const offs = deliveries.filter((d) => d.partition === p).map((d) => d.offset);
        expect(offs).toEqual(offs.map((_, i) => i));
      }
      for (const d of deliveries) expect(d.timestamp).toEqual([TIMESTAMP_CREATE_TIME, sent[d.i]!.timestamp!]);

      const cons = await confluentConsume({ bootstrap: broker.address, topic });
      expectSameAsProduced(cons.lines, sent, deliveries);
      expect(cons.summary.eof).toEqual([0, 1]);
    });
  }

  for (const codec of ["gzip", "snappy", "lz4", "zstd"]) {
    test(`compression.type=${codec}: 300 keyed messages, per-key order and exact contents`, async () => {
      const topic = topicName(`cf-${codec}`);
      const sent: OutMessage[] = Array.from({ length: 300 }, (_, i) => ({
        key: `user-${i % 7}`,
        value: `${codec} payload ${i} ${"abc".repeat(i % 40)}`,
        headers: [["codec", codec]],
      }));
      const prod = await confluentProduce({
        bootstrap: broker.address,
        topic,
        config: { acks: "all", "compression.type": codec, "linger.ms": 20, "enable.idempotence": false },
        messages: sent,
      });
      const deliveries = okDeliveries(prod.lines, sent.length);
      const cons = await confluentConsume({ bootstrap: broker.address, topic });
      expectSameAsProduced(cons.lines, sent, deliveries);
      for (const [, msgs] of byKey(cons.lines)) {
        expect(new Set(msgs.map((m) => m.partition)).size).toBe(1);
        const seq = msgs.map((m) => Number(m.value!.split(" ")[2]));
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
      }
      // librdkafka really compressed: stored batches carry this codec (a batch that would not shrink
      // is sent uncompressed by design, so 0 may appear too, but no other codec).
      const stored = new Set<number>();
      for (const partition of new Set(cons.lines.map((c) => c.partition)))
        for (const c of await storedCodecs(broker.address, topic, partition)) stored.add(c);
      expect(stored.has(CODEC_ID[codec]!)).toBe(true);
      expect([...stored].every((c) => c === 0 || c === CODEC_ID[codec])).toBe(true);
      // Start in the middle of a compressed batch: the client must see exactly offsets 150.. of p0.
      const p0 = cons.lines.filter((c) => c.partition === 0);
      if (p0.length > 150) {
        const mid = await confluentConsume({ bootstrap: broker.address, topic, partitions: [0], start: { "0": 150 } });
        expect(mid.lines.map((c) => c.offset)).toEqual(p0.slice(150).map((c) => c.offset));
        expect(mid.lines.map((c) => c.value)).toEqual(p0.slice(150).map((c) => c.value));
      }
    });
  }

  test("list_topics(), get_watermark_offsets() and offsets_for_times()", async () => {
    const topic = topicName("cf-offsets");
    // Partition 0: 10 messages at BASE_TS + 0, 10 s, …, 90 s. Partition 1 stays empty.
    const sent: OutMessage[] = Array.from({ length: 10 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: 0,
      timestamp: BASE_TS + i * 10_000,
    }));
    const prod = await confluentProduce({ bootstrap: broker.address, topic, messages: sent, flush_every: 3 });
    okDeliveries(prod.lines, 10);

    const q = await confluentQuery({
      bootstrap: broker.address,
      ops: [
        { op: "metadata", topic },
        { op: "metadata", topic: null },
        { op: "watermarks", topic, partition: 0 },
        { op: "watermarks", topic, partition: 1 },
        {
          op: "offsets_for_times",
          topic,
          times: { "0": BASE_TS + 35_000, "1": BASE_TS },
        },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS - 1 } },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS + 90_000 } },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS + 90_001 } },
      ],
    });
    const [mdOne, mdAll, wm0, wm1, oft, oftFirst, oftLast, oftAfter] = q.lines as any[];

    expect(mdOne.brokers).toEqual([{ id: mdOne.orig_broker_id, host: broker.host, port: broker.port }]);
    const t = mdOne.topics[topic];
    expect(t.error).toBeNull();
    expect(Object.keys(t.partitions).sort()).toEqual(["0", "1"]);
    for (const p of Object.values(t.partitions) as any[]) {
      expect(p.error).toBeNull();
      expect(p.leader).toBe(mdOne.orig_broker_id);
      expect(p.replicas).toEqual([mdOne.orig_broker_id]);
      expect(p.isrs).toEqual([mdOne.orig_broker_id]);
    }
    expect(mdAll.topics[topic]).toBeDefined();
    expect(mdAll.controller_id).toBe(mdOne.orig_broker_id);

    expect([wm0.low, wm0.high]).toEqual([0, 10]);
    expect([wm1.low, wm1.high]).toEqual([0, 0]);

    // The earliest offset whose timestamp is >= the target.
    expect(oft.offsets["0"]).toEqual({ offset: 4, error: null });
    expect(oft.offsets["1"].error).toBeNull();
    expect(oft.offsets["1"].offset).toBe(-1); // empty partition: no such message (OFFSET_END)
    expect(oftFirst.offsets["0"]).toEqual({ offset: 0, error: null });
    expect(oftLast.offsets["0"]).toEqual({ offset: 9, error: null });
    expect(oftAfter.offsets["0"]).toEqual({ offset: -1, error: null });
  });
});
