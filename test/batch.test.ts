import { describe, expect, test } from "bun:test";
import { createRequire } from "node:module";
import {
  CONTROL_BIT,
  Codec,
  HEADER_SIZE,
  TIMESTAMP_TYPE_BIT,
  TRANSACTIONAL_BIT,
  codecOf,
  crc32c,
  isControl,
  isTransactional,
  iterateBatchHeaders,
  readBatchHeader,
  stampLogAppendTime,
  timestampType,
  validateBatches,
  type ValidateOptions,
} from "../protocol/records/batch.ts";
import { concat, makeBatch } from "./fixtures/make-batch.ts";

// Bit-at-a-time CRC-32C straight from the definition (reflected Castagnoli polynomial 0x82F63B78),
// independent of both libraries crc32c() may use.
function referenceCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const ascii = (s: string) => new TextEncoder().encode(s);
const limit: ValidateOptions = { maxBatchBytes: 1 << 20 };

describe("crc32c", () => {
  test("standard check value and RFC 3720 (iSCSI) test vectors", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(referenceCrc32c(ascii("123456789"))).toBe(0xe3069283);
  });

  test("matches the reference on both sides of the native threshold, with start/end", () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 23);
    for (const [s, e] of [[0, 5000], [0, 100], [7, 511], [3, 512], [1, 513], [100, 4999], [21, 21]] as const) {
      expect(crc32c(data, s, e)).toBe(referenceCrc32c(data.subarray(s, e)));
    }
  });
});

describe("header helpers", () => {
  test("attribute bits", () => {
    const a = Codec.Lz4 | TIMESTAMP_TYPE_BIT | TRANSACTIONAL_BIT | CONTROL_BIT;
    expect([codecOf(a), timestampType(a), isTransactional(a), isControl(a)]).toEqual([3, 1, true, true]);
    expect([codecOf(0), timestampType(0), isTransactional(0), isControl(0)]).toEqual([0, 0, false, false]);
  });

  test("a byte-for-byte batch from the spec layout decodes and validates", () => {
    // 61-byte header + one 9-byte record: length 8 (zigzag 0x10), attributes 0, timestampDelta 0,
    // offsetDelta 0, key null (-1 -> 0x01), value length 2 (0x04) "hi", 0 headers.
    const hex =
      "0000000000000000" + // baseOffset
      "0000003a" + // batchLength: 70 - 12
      "ffffffff" + // partitionLeaderEpoch -1
      "02" + // magic
      "00000000" + // crc (filled below)
      "0000" + // attributes
      "00000000" + // lastOffsetDelta
      "0000018bcfe56800" + // baseTimestamp 1700000000000
      "0000018bcfe56800" + // maxTimestamp
      "ffffffffffffffff" + // producerId
      "ffff" + // producerEpoch
      "ffffffff" + // baseSequence
      "00000001" + // recordCount
      "10" + "00" + "00" + "00" + "01" + "04" + "6869" + "00";
    const buf = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    expect(buf.length).toBe(70);
    new DataView(buf.buffer).setUint32(17, referenceCrc32c(buf.subarray(21)));
    const h = readBatchHeader(buf);
    expect(h).toMatchObject({
      baseOffset: 0, batchLength: 58, partitionLeaderEpoch: -1, magic: 2, attributes: 0, lastOffsetDelta: 0,
      baseTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_000, producerId: -1, producerEpoch: -1,
      baseSequence: -1, recordCount: 1,
    });
    expect(validateBatches(buf, limit)).toMatchObject({ ok: true, batches: 1, records: 1, offsetCount: 1, bytes: 70 });
    // The test helper builds the same bytes.
    expect(makeBatch({ payload: buf.subarray(61) })).toEqual(buf);
  });

  test("batches built by kafkajs (an independent encoder) validate", async () => {
    const require = createRequire(import.meta.url);
    const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js");
    const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js");
    const records = [0, 1, 2].map((i) =>
      Record({ offsetDelta: i, timestampDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(`value-${i}`), headers: { h: "v" } }),
    );
    const enc = await RecordBatch({ records, lastOffsetDelta: 2, firstTimestamp: 1000, maxTimestamp: 1002, producerId: 7, producerEpoch: 1, firstSequence: 5 });
    const buf = new Uint8Array(enc.buffer);
    // kafkajs writes recordCount as the records array length prefix, which is our RECORD_COUNT field.
    expect(validateBatches(buf, limit)).toMatchObject({
      ok: true, batches: 1, records: 3, offsetCount: 3, maxTimestamp: 1002,
      firstProducerId: 7, firstProducerEpoch: 1, firstBaseSequence: 5, lastSequence: 7,
    });
  });

  test("iterateBatchHeaders walks whole batches and stops at a torn one", () => {
    const a = makeBatch({ size: 10 }), b = makeBatch({ size: 300 }), c = makeBatch({ size: 50 });
    const buf = concat(a, b, c.subarray(0, 40));
    const seen: [number, number][] = [];
    const stop = iterateBatchHeaders(buf, 0, buf.length, (pos, size) => void seen.push([pos, size]));
    expect(seen).toEqual([[0, a.length], [a.length, b.length]]);
    expect(stop).toBe(a.length + b.length);
    expect(iterateBatchHeaders(buf, 0, buf.length, () => false)).toBe(0);
  });

  test("stampLogAppendTime sets the bit and maxTimestamp and keeps the CRC valid", () => {
    const b = makeBatch({ count: 2, maxTimestamp: 5 });
    stampLogAppendTime(b, 0, 123456789);
    const h = readBatchHeader(b);
    expect(timestampType(h.attributes)).toBe(1);
    expect(h.maxTimestamp).toBe(123456789);
    expect(validateBatches(b, limit).ok).toBe(true);
  });
});

describe("validateBatches", () => {
  const err = (buf: Uint8Array, opts = limit) => {
    const r = validateBatches(buf, opts);
    if (r.ok) throw new Error("expected a validation error");
    return r;
  };

  test("several contiguous batches: totals and first/last producer fields", () => {
    const buf = concat(
      makeBatch({ count: 3, maxTimestamp: 50, producerId: 9, producerEpoch: 2, baseSequence: 10 }),
      makeBatch({ count: 2, maxTimestamp: 70, producerId: 9, producerEpoch: 2, baseSequence: 13, attributes: Codec.Gzip }),
      makeBatch({ count: 1, maxTimestamp: 60, producerId: 9, producerEpoch: 2, baseSequence: 2147483647 }),
    );
    expect(validateBatches(buf, limit)).toEqual({
      ok: true, batches: 3, records: 6, offsetCount: 6, bytes: buf.length, maxTimestamp: 70,
      codecs: (1 << Codec.None) | (1 << Codec.Gzip), transactional: false,
      firstProducerId: 9, firstProducerEpoch: 2, firstBaseSequence: 10,
      lastProducerId: 9, lastProducerEpoch: 2, lastSequence: 2147483647,
    });
    expect(err(buf, { ...limit, singleBatch: true })).toMatchObject({ error: "INVALID_RECORD", batchIndex: 1 });
  });

  test("bad CRC", () => {
    const b = makeBatch({ size: 100 });
    b[100] ^= 1;
    expect(err(b)).toMatchObject({ error: "CORRUPT_MESSAGE", batchIndex: 0 });
    expect(err(b).message).toContain("CRC");
    // Fields before byte 21 are outside the CRC: any leader epoch and base offset pass.
    const c = makeBatch({ partitionLeaderEpoch: 0, baseOffset: 42 });
    expect(validateBatches(c, limit).ok).toBe(true);
  });

  test("bad magic", () => {
    expect(err(makeBatch({ magic: 1 }))).toMatchObject({ error: "CORRUPT_MESSAGE" });
    expect(err(makeBatch({ magic: 1 })).message).toContain("magic 1");
  });

  test("truncated: short header, batchLength past the end, trailing bytes, empty input", () => {
    const b = makeBatch({ size: 100 });
    expect(err(b.subarray(0, 40))).toMatchObject({ error: "CORRUPT_MESSAGE" });
    expect(err(b.subarray(0, b.length - 1))).toMatchObject({ error: "CORRUPT_MESSAGE" });
    expect(err(concat(b, b.subarray(0, 10)))).toMatchObject({ error: "CORRUPT_MESSAGE", batchIndex: 1 });
    const tiny = makeBatch();
    new DataView(tiny.buffer).setInt32(8, 10); // below the 49-byte minimum
    expect(err(tiny)).toMatchObject({ error: "CORRUPT_MESSAGE" });
    expect(err(new Uint8Array(0))).toMatchObject({ error: "INVALID_RECORD" });
  });

  test("too large counts the 12-byte log overhead", () => {
    const b = makeBatch({ size: 1000 });
    expect(validateBatches(b, { maxBatchBytes: b.length }).ok).toBe(true);
    expect(err(b, { maxBatchBytes: b.length - 1 })).toMatchObject({ error: "MESSAGE_TOO_LARGE" });
  });

  test("offset range vs record count", () => {
    expect(err(makeBatch({ count: 3, lastOffsetDelta: 1 }))).toMatchObject({ error: "INVALID_RECORD" });
    expect(err(makeBatch({ count: 0, lastOffsetDelta: -1 }))).toMatchObject({ error: "INVALID_RECORD" });
  });

  test("control batches, codecs", () => {
    const ctl = makeBatch({ attributes: CONTROL_BIT | TRANSACTIONAL_BIT, producerId: 1, producerEpoch: 0 });
    expect(err(ctl)).toMatchObject({ error: "INVALID_RECORD" });
    expect(validateBatches(ctl, { ...limit, allowControl: true })).toMatchObject({ ok: true, transactional: true });
    expect(err(makeBatch({ attributes: 5 }))).toMatchObject({ error: "UNSUPPORTED_COMPRESSION_TYPE" });
    const zstd = makeBatch({ attributes: Codec.Zstd });
    expect(validateBatches(zstd, limit).ok).toBe(true);
    expect(err(zstd, { ...limit, allowZstd: false })).toMatchObject({ error: "UNSUPPORTED_COMPRESSION_TYPE" });
  });

  test("a header-only batch is the minimum size", () => {
    const b = makeBatch({ payload: new Uint8Array(0) });
    expect(b.length).toBe(HEADER_SIZE);
    expect(validateBatches(b, limit).ok).toBe(true);
  });
});
