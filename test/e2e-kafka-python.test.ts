// End to end with kafka-python 2.0.2 (a pure-Python client; run by /usr/bin/python3) against the broker
// started through its CLI. kafka-python fingerprints the broker from its ApiVersions answer (it also
// sends a Metadata v0 while probing) and then picks Produce v7, Fetch v4, ListOffsets v1, Metadata v1.
// Compression: kafka-python 2.0.2 can only do gzip here (snappy/lz4/zstd need python modules that are
// not installed), so the codecs tested are none and gzip.
// Consumer: no group (group_id=None), assign() + seek_to_beginning()/seek().
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import {
  kafkaPythonConsume,
  kafkaPythonProduce,
  kafkaPythonQuery,
  kcatConsume,
  kcatHeaders,
  requireTools,
  type OutMessage,
} from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

// bunfig's [test] timeout is not applied to these files: set it here (stock clients are slow to start).
setDefaultTimeout(30000);

const BASE_TS = 1_700_000_000_000;
const CREATE_TIME = 0; // kafka-python's record.timestamp_type for CreateTime

let dir: TempDir;
let broker: SpawnedBroker;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-kafka-python-");
  broker = await spawnBroker({ dataDir: dir.path, overrides: { "num.partitions": 2 } });
});

afterAll(async () => {
  const exitCode = await broker?.stop();
  await dir?.remove();
  expect(exitCode).toBe(0); // SIGTERM → clean exit 0 (also fails if the broker died during the tests)
});

function messages(n: number, tag: string): OutMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 4 ? null : `key-${i % 3}`,
    value: `${tag} value ${i} ${"z".repeat(i % 30)}`,
    headers: i % 3 === 0 ? [] : [["i", String(i)], ["tag", tag]],
    partition: i % 2,
    timestamp: BASE_TS + i * 1000,
  }));
}

describe("kafka-python", () => {
  for (const acks of [1, "all"] as const) {
    for (const compression of [null, "gzip"] as const) {
      test(`acks=${acks} compression=${compression ?? "none"}: produce, then read back exactly`, async () => {
        const topic = topicName(`kp-${acks}-${compression ?? "none"}`);
        const sent = messages(30, `${acks}/${compression}`);
        const prod = await kafkaPythonProduce({
          bootstrap: broker.address,
          topic,
          config: { acks, compression_type: compression, linger_ms: 10 },
          messages: sent,
        });
        expect(prod.summary.failed).toBe(0);
        // kafka-python inferred a broker new enough for record batches v2 (>= 0.11).
        expect(prod.summary.api_version.length).toBeGreaterThanOrEqual(2);
        expect(prod.summary.api_version[0] * 100 + prod.summary.api_version[1]).toBeGreaterThanOrEqual(11);
        const byI = new Map(prod.lines.map((d) => [d.i, d]));
        for (const p of [0, 1]) {
          const offs = sent.map((_, i) => i).filter((i) => i % 2 === p).map((i) => byI.get(i)!.offset);
          expect(offs).toEqual(offs.map((_, k) => k)); // dense, in send order
        }

        const cons = await kafkaPythonConsume({ bootstrap: broker.address, topic });
        expect(cons.lines.length).toBe(sent.length);
        expect(cons.summary.end_offsets).toEqual({ "0": 15, "1": 15 });
        for (const c of cons.lines) {
          const i = sent.findIndex((_, j) => byI.get(j)!.partition === c.partition && byI.get(j)!.offset === c.offset);
          expect(i).toBeGreaterThanOrEqual(0);
          const m = sent[i]!;
          expect(c.partition).toBe(m.partition!);
          expect(c.key).toBe(m.key ?? null);
          expect(c.value).toBe(m.value!);
          expect(c.headers).toEqual(m.headers!);
          expect(c.timestamp).toBe(m.timestamp!);
          expect(c.tstype).toBe(CREATE_TIME);
        }
        // Per partition, read in offset order.
        for (const p of [0, 1]) {
          const offs = cons.lines.filter((c) => c.partition === p).map((c) => c.offset);
          expect(offs).toEqual(Array.from({ length: 15 }, (_, k) => k));
        }

        // What kafka-python wrote is also exactly what librdkafka reads.
        const viaKcat = await kcatConsume(broker.address, topic, { partition: 1 });
        expect(viaKcat.map((m) => [m.offset, m.key, m.payload, kcatHeaders(m), m.ts])).toEqual(
          sent
            .filter((m) => m.partition === 1)
            .map((m, k) => [k, m.key ?? null, m.value!, m.headers!, m.timestamp!]),
        );
      });
    }
  }

  test("seek() to an offset in the middle of a batch returns exactly the records from there", async () => {
    const topic = topicName("kp-seek");
    const sent = messages(40, "seek").map((m) => ({ ...m, partition: 0 }));
    await kafkaPythonProduce({
      bootstrap: broker.address,
      topic,
      config: { acks: 1, compression_type: "gzip", linger_ms: 50, batch_size: 1 << 20 },
      messages: sent,
    });
    const cons = await kafkaPythonConsume({ bootstrap: broker.address, topic, partitions: [0], start: { "0": 17 } });
    expect(cons.lines.map((c) => c.offset)).toEqual(Array.from({ length: 23 }, (_, k) => 17 + k));
    expect(cons.lines.map((c) => c.value)).toEqual(sent.slice(17).map((m) => m.value!));
  });

  test("beginning_offsets, end_offsets and offsets_for_times", async () => {
    const topic = topicName("kp-offsets");
    // Partition 0: 8 messages at BASE_TS, +10 s, … ; partition 1 stays empty.
    const sent: OutMessage[] = Array.from({ length: 8 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: 0,
      timestamp: BASE_TS + i * 10_000,
    }));
    const prod = await kafkaPythonProduce({ bootstrap: broker.address, topic, config: { acks: "all" }, messages: sent });
    expect(prod.summary.failed).toBe(0);

    const q = await kafkaPythonQuery({
      bootstrap: broker.address,
      ops: [
        { op: "partitions", topic },
        { op: "beginning_offsets", topic, partitions: [0, 1] },
        { op: "end_offsets", topic, partitions: [0, 1] },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS + 25_000 } },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS } },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS + 70_000 } },
        { op: "offsets_for_times", topic, times: { "0": BASE_TS + 70_001, "1": BASE_TS } },
      ],
    });
    const [parts, begin, end, oftMid, oftFirst, oftLast, oftNone] = q.lines as any[];
    expect(parts.partitions).toEqual([0, 1]);
    expect(begin.offsets).toEqual({ "0": 0, "1": 0 });
    expect(end.offsets).toEqual({ "0": 8, "1": 0 });
    // ListOffsets v1 answers the earliest offset whose timestamp >= target, with that timestamp.
    expect(oftMid.offsets).toEqual({ "0": { offset: 3, timestamp: BASE_TS + 30_000 } });
    expect(oftFirst.offsets).toEqual({ "0": { offset: 0, timestamp: BASE_TS } });
    expect(oftLast.offsets).toEqual({ "0": { offset: 7, timestamp: BASE_TS + 70_000 } });
    expect(oftNone.offsets).toEqual({ "0": null, "1": null });
  });
});
