// Record batch v2 codec and compression, checked against bytes written out from the spec, against
// kafkajs's own record-batch encoder/decoder, and against the gzip/lz4/zstd command-line tools.
import { describe, expect, test } from "bun:test";
import { gzipSync, gunzipSync } from "node:zlib";
import {
  CorruptCompressedDataError,
  CompressionError,
  DecompressedTooLargeError,
  UnknownCodecError,
  compress,
  decompress,
} from "../protocol/records/compression.ts";
import {
  CorruptRecordError,
  type Cursor,
  controlRecordKey,
  controlRecordValue,
  decodeRecords,
  encodeBatch,
  encodeControlBatch,
  findMaxTimestampRecord,
  findRecordOffsetByTimestamp,
  parseControlRecordKey,
  parseControlRecordValue,
  readBatchHeader,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  verifyBatchCrc,
  writeVarint,
  writeVarlong,
} from "../protocol/records/records.ts";
import { crc32c } from "../protocol/records/crc32c.ts";

const Long = require("kafkajs/src/utils/long");
const KEncoder = require("kafkajs/src/protocol/encoder");
const KDecoder = require("kafkajs/src/protocol/decoder");
const { RecordBatch: kafkajsRecordBatch } = require("kafkajs/src/protocol/recordBatch/v0");
const kafkajsRecord = require("kafkajs/src/protocol/recordBatch/record/v0");
const kafkajsDecodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder");
const kafkajsCrc32C = require("kafkajs/src/protocol/recordBatch/crc32C");

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/#.*$/gm, "").replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const te = new TextEncoder();

// ------------------------------------------------------------------ varints

describe("varint / varlong", () => {
  // zig-zag then little-endian base-128, written out by hand
  const varints: Array<[number, string]> = [
    [0, "00"],
    [-1, "01"],
    [1, "02"],
    [63, "7e"],
    [-64, "7f"],
    [64, "8001"],
    [-65, "8101"],
    [2 ** 31 - 1, "feffffff0f"],
    [-(2 ** 31), "ffffffff0f"],
  ];
  test.each(varints)("varint %d", (n, bytes) => {
    const buf = new Uint8Array(10);
    const end = writeVarint(buf, 0, n);
    expect(toHex(buf.subarray(0, end))).toBe(bytes);
    expect(sizeOfVarint(n)).toBe(end);
    expect(toHex(new KEncoder().writeVarInt(n).buffer)).toBe(bytes); // kafkajs agrees
    const c: Cursor = { buf: hex(bytes), pos: 0 };
    expect(readVarint(c)).toBe(n);
    expect(c.pos).toBe(end);
  });

  const varlongs = [0, -1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 1_700_000_000_000, -1_700_000_000_000, 2 ** 48 - 1, 2 ** 48, -(2 ** 48) - 1, 2 ** 53 - 1, -(2 ** 53)];
  test.each(varlongs)("varlong %d matches kafkajs's encoder and decoder", (n) => {
    const buf = new Uint8Array(10);
    const end = writeVarlong(buf, 0, n);
    const theirs = new KEncoder().writeVarLong(Long.fromNumber(n)).buffer;
    expect(toHex(buf.subarray(0, end))).toBe(toHex(theirs));
    expect(sizeOfVarlong(n)).toBe(end);
    const c: Cursor = { buf: new Uint8Array(theirs), pos: 0 };
    expect(readVarlong(c)).toBe(n);
    expect(c.pos).toBe(end);
    expect(new KDecoder(Buffer.from(buf.subarray(0, end))).readVarLong().toString()).toBe(String(n));
  });

  test("1.7e12 as a varlong is 6 bytes", () => {
    // 1.7e12 zig-zags to 3.4e12 < 2^42 -> ceil(42/7) = 6 bytes
    expect(sizeOfVarlong(1_700_000_000_000)).toBe(6);
  });

  test("truncated and over-long varints are corrupt", () => {
    expect(() => readVarint({ buf: hex("80"), pos: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarint({ buf: hex("ffffffffff01"), pos: 0 })).toThrow(CorruptRecordError);
    expect(() => readVarlong({ buf: hex("ffffffffffffffffffff01"), pos: 0 })).toThrow(CorruptRecordError);
  });
});

// ------------------------------------------------------------------ a batch written out from the spec

// Two records, baseOffset 16, leader epoch 3, idempotent producer 7/1, sequence 42, CreateTime.
const FIXED = hex(`
  00 00 00 00 00 00 00 10   # baseOffset 16
  00 00 00 4c               # batchLength 76 = 88 - 12
  00 00 00 03               # partitionLeaderEpoch 3
  02                        # magic
  ce e5 f2 e3               # crc32c of bytes 21..87 (also checked with kafkajs's crc32C below)
  00 00                     # attributes: no codec, CreateTime, not transactional
  00 00 00 01               # lastOffsetDelta 1
  00 00 01 8b cf e5 68 00   # baseTimestamp 1700000000000
  00 00 01 8b cf e5 68 05   # maxTimestamp 1700000000005
  00 00 00 00 00 00 00 07   # producerId 7
  00 01                     # producerEpoch 1
  00 00 00 2a               # baseSequence 42
  00 00 00 02               # recordCount 2
  # record 0: body 10 bytes
  14                        # length 10
  00                        # attributes
  00                        # timestampDelta 0
  00                        # offsetDelta 0
  04 6b 31                  # key "k1"
  04 76 31                  # value "v1"
  00                        # 0 headers
  # record 1: body 15 bytes
  1e                        # length 15
  00                        # attributes
  0a                        # timestampDelta 5
  02                        # offsetDelta 1
  01                        # key null
  04 68 69                  # value "hi"
  04                        # 2 headers
  02 68 02 78               # "h" = "x"
  02 6e 01                  # "n" = null
`);

const FIXED_INPUT = {
  baseOffset: 16,
  partitionLeaderEpoch: 3,
  producerId: 7,
  producerEpoch: 1,
  baseSequence: 42,
  records: [
    { key: "k1", value: "v1", timestamp: 1_700_000_000_000 },
    {
      key: null,
      value: "hi",
      timestamp: 1_700_000_000_005,
      headers: [
        { key: "h", value: "x" },
        { key: "n", value: null },
      ],
    },
  ],
};

describe("fixed batch from the spec", () => {
  test("the hand-written CRC is the CRC-32C of bytes 21..end (ours and kafkajs's)", () => {
    expect(FIXED.length).toBe(88);
    expect(kafkajsCrc32C(Buffer.from(FIXED.subarray(21)))).toBe(0xcee5f2e3);
    expect(crc32c(FIXED, 21)).toBe(0xcee5f2e3);
    expect(crc32c(te.encode("123456789"))).toBe(0xe3069283); // the CRC-32C check value
    expect(verifyBatchCrc(FIXED)).toBe(true);
  });

  test("decodeRecords reads it", () => {
    const b = decodeRecords(FIXED);
    expect(b).toMatchObject({
      baseOffset: 16,
      batchLength: 76,
      partitionLeaderEpoch: 3,
      attributes: 0,
      lastOffsetDelta: 1,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_005,
      producerId: 7,
      producerEpoch: 1,
      baseSequence: 42,
      recordCount: 2,
      isTransactional: false,
      isControl: false,
    });
    expect(b.records.map((r) => ({ ...r, key: text(r.key), value: text(r.value), headers: r.headers.map((h) => [h.key, text(h.value)]) }))).toEqual([
      { offset: 16, timestamp: 1_700_000_000_000, key: "k1", value: "v1", headers: [] },
      { offset: 17, timestamp: 1_700_000_000_005, key: null, value: "hi", headers: [["h", "x"], ["n", null]] },
    ]);
  });

  test("encodeBatch writes exactly those bytes", () => {
    expect(toHex(encodeBatch(FIXED_INPUT))).toBe(toHex(FIXED));
  });

  test("corrupt inputs are rejected with CorruptRecordError", () => {
    expect(() => decodeRecords(FIXED.subarray(0, 80))).toThrow(CorruptRecordError); // truncated
    const badMagic = FIXED.slice();
    badMagic[16] = 1;
    expect(() => decodeRecords(badMagic)).toThrow(CorruptRecordError);
    const badCount = FIXED.slice();
    badCount[60] = 3;
    expect(() => decodeRecords(badCount)).toThrow(CorruptRecordError);
    const badLen = FIXED.slice();
    badLen[61] = 0x16; // record 0 claims 11 bytes
    expect(() => decodeRecords(badLen)).toThrow(CorruptRecordError);
    const flipped = FIXED.slice();
    flipped[70] ^= 1;
    expect(verifyBatchCrc(flipped)).toBe(false);
  });

  test("decodeRecords ignores bytes after the batch (a view into a segment)", () => {
    const withTail = new Uint8Array(FIXED.length + 5);
    withTail.set(FIXED);
    expect(decodeRecords(withTail).records.length).toBe(2);
  });
});

// ------------------------------------------------------------------ compression against other implementations

const sample = te.encode(
  Array.from({ length: 3000 }, (_, i) => `{"id":${i},"user":"u${(i * 7919) % 1000}","event":"${["click", "view", "buy"][i % 3]}"}`).join("\n"),
);
const run = (cmd: string[], stdin: Uint8Array) => {
  const r = Bun.spawnSync(cmd, { stdin });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
};
const same = (a: Uint8Array, b: Uint8Array) => expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);

describe("gzip", () => {
  test("reads node:zlib and the gzip binary; node:zlib reads ours", () => {
    same(decompress(1, gzipSync(sample)), sample);
    if (Bun.which("gzip")) same(decompress(1, run(["gzip", "-c"], sample)), sample);
    same(gunzipSync(compress(1, sample)), sample);
  });
  test("reads a stream of several gzip members whole", () => {
    const two = Buffer.concat([gzipSync(sample.subarray(0, 1000)), gzipSync(sample.subarray(1000))]);
    same(decompress(1, two), sample);
  });
});

describe("snappy", () => {
  // Raw snappy blocks written by hand: varint length, then tagged elements.
  const rawAbc = hex("0c 08 616263 15 03"); // len 12; literal "abc"; copy len 9 offset 3
  const rawXyz = hex("03 08 78797a"); // len 3; literal "xyz"
  const xerial = (...blocks: Uint8Array[]) => {
    const head = hex("82 53 4e 41 50 50 59 00  00000001  00000001");
    const parts = blocks.flatMap((b) => [hex(b.length.toString(16).padStart(8, "0")), b]);
    return new Uint8Array(Buffer.concat([head, ...parts]));
  };

  test("a single raw block", () => {
    expect(text(decompress(2, rawAbc))).toBe("abcabcabcabc");
  });
  test("xerial framing around raw blocks", () => {
    expect(text(decompress(2, xerial(rawAbc)))).toBe("abcabcabcabc");
    expect(text(decompress(2, xerial(rawAbc, rawXyz)))).toBe("abcabcabcabcxyz");
  });
  test("compress writes xerial framing with 32 KiB chunks that decode", () => {
    const out = compress(2, sample);
    expect(toHex(out.subarray(0, 16))).toBe("82534e41505059000000000100000001");
    same(decompress(2, out), sample);
    // walk the framing: chunks are each raw blocks of at most 32 KiB
    const dv = new DataView(out.buffer, out.byteOffset);
    let pos = 16;
    let chunks = 0;
    while (pos < out.length) {
      const len = dv.getInt32(pos);
      const raw = decompress(2, out.subarray(pos + 4, pos + 4 + len));
      expect(raw.length).toBeLessThanOrEqual(32 * 1024);
      pos += 4 + len;
      chunks++;
    }
    expect(chunks).toBe(Math.ceil(sample.length / 32768));
  });
  test("truncated framing and garbage are corrupt", () => {
    expect(() => decompress(2, xerial(rawAbc).subarray(0, 22))).toThrow(CorruptCompressedDataError);
    expect(() => decompress(2, hex("ff ff ff ff ff"))).toThrow(CorruptCompressedDataError);
  });
});

describe("lz4 frame", () => {
  test.each([[["-c"]], [["-c", "-B4", "-BD", "--content-size"]], [["-c", "-BX", "--no-frame-crc"]], [["-c", "-9"]]])(
    "reads the lz4 CLI's frames (%p)",
    (args) => {
      const big = new Uint8Array(Buffer.concat([sample, sample, sample])); // > 64 KiB: several blocks with -B4
      same(decompress(3, run(["lz4", ...args], big)), big);
    },
  );
  test("our frames: magic, independent blocks, header checksum the CLI accepts", () => {
    const out = compress(3, sample);
    expect(toHex(out.subarray(0, 4))).toBe("04224d18");
    expect(out[4]! & 0xc0).toBe(0x40); // version 01
    expect(out[4]! & 0x20).toBe(0x20); // block independence
    same(run(["lz4", "-d", "-c"], out), sample);
    const bad = out.slice();
    bad[6] ^= 1; // header checksum byte
    expect(Bun.spawnSync(["lz4", "-d", "-c"], { stdin: bad }).exitCode).not.toBe(0);
    expect(() => decompress(3, bad)).toThrow(CorruptCompressedDataError);
  });
});

describe("zstd", () => {
  test("reads the zstd CLI's frames (streamed: no content size) and the CLI reads ours", () => {
    same(decompress(4, run(["zstd", "-c", "-q"], sample)), sample);
    same(run(["zstd", "-d", "-c", "-q"], compress(4, sample)), sample);
  });
});

describe("decompression bombs", () => {
  // A section that inflates far past the limit must be refused without inflating it whole.
  const zeros = new Uint8Array(4 << 20);
  const LIMIT = 1 << 20;
  test.each([
    ["gzip", 1, () => gzipSync(zeros)],
    ["snappy (raw)", 2, () => new Uint8Array(require("snappyjs").compress(zeros))],
    ["snappy (xerial)", 2, () => compress(2, zeros)],
    ["lz4 (the CLI's frame)", 3, () => run(["lz4", "-c"], zeros)],
    ["lz4 (ours)", 3, () => compress(3, zeros)],
    ["zstd", 4, () => compress(4, zeros)],
  ] as [string, number, () => Uint8Array][])("%s past the limit is DecompressedTooLargeError", (_label, codec, make) => {
    const data = make();
    expect(data.length).toBeLessThan(LIMIT);
    expect(() => decompress(codec, data, LIMIT)).toThrow(DecompressedTooLargeError);
    try {
      decompress(codec, data, LIMIT);
    } catch (e) {
      expect((e as CompressionError).kafkaError).toBe("CORRUPT_MESSAGE");
    }
    same(decompress(codec, data, zeros.length), zeros); // exactly at the limit is fine
  });
  test("a 256 MiB zstd bomb (a few KiB) is refused at the default limit", () => {
    const bomb = compress(4, new Uint8Array(256 << 20));
    expect(bomb.length).toBeLessThan(16 * 1024);
    expect(() => decompress(4, bomb)).toThrow(DecompressedTooLargeError);
  });
  test.each([[["-c"]], [["-c", "-B4", "-BD"]], [["-c", "-BX", "--no-frame-crc"]], [["-c", "-9", "--content-size"]]])(
    "the bounded LZ4 decoder reads the CLI's frames (%p) like the native one",
    (args) => {
      const big = new Uint8Array(Buffer.concat([sample, sample, sample, new Uint8Array(70000).fill(7)]));
      const frame = run(["lz4", ...args], big);
      // A limit below 255 x the input sends it through the JS decoder.
      const limit = big.length;
      expect(frame.length * 255 + 65536).toBeGreaterThan(limit);
      same(decompress(3, frame, limit), big);
      expect(() => decompress(3, frame, limit - 1)).toThrow(DecompressedTooLargeError);
    },
  );
});

describe("codec errors", () => {
  test("unknown codec ids", () => {
    for (const c of [5, 6, 7]) {
      expect(() => decompress(c, sample)).toThrow(UnknownCodecError);
      expect(() => compress(c, sample)).toThrow(UnknownCodecError);
    }
    try {
      decompress(5, sample);
    } catch (e) {
      expect(e).toBeInstanceOf(CompressionError);
      expect((e as CompressionError).kafkaError).toBe("CORRUPT_MESSAGE");
    }
  });
  test("garbage in each codec is CorruptCompressedDataError", () => {
    for (const c of [1, 3, 4]) expect(() => decompress(c, hex("0102030405060708"))).toThrow(CorruptCompressedDataError);
  });
  test("a batch with codec bits 7 is corrupt", () => {
    const b = encodeBatch({ records: [{ value: "x", timestamp: 1 }] });
    b[22] = 7;
    expect(() => decodeRecords(b)).toThrow(UnknownCodecError);
  });
});

// ------------------------------------------------------------------ kafkajs as an independent encoder/decoder

async function kafkajsBatch(compression: number) {
  const firstTimestamp = 1_700_000_000_000;
  const messages = [
    { key: "key-0", value: "value-0", headers: { trace: "abc", multi: ["1", "2"] }, ts: firstTimestamp },
    { key: null, value: "value-1", headers: {}, ts: firstTimestamp + 250 },
    { key: "key-2", value: null, headers: { h: Buffer.from([0, 255]) }, ts: firstTimestamp - 3 },
  ];
  const records = messages.map((m, i) =>
    kafkajsRecord({ offsetDelta: i, timestampDelta: m.ts - firstTimestamp, key: m.key, value: m.value, headers: m.headers }),
  );
  const enc = await kafkajsRecordBatch({
    compression,
    firstOffset: Long.fromNumber(1000),
    firstTimestamp,
    maxTimestamp: firstTimestamp + 250,
    partitionLeaderEpoch: 0,
    lastOffsetDelta: 2,
    producerId: Long.fromNumber(12345678901),
    producerEpoch: 4,
    firstSequence: 9,
    transactional: true,
    records,
  });
  return new Uint8Array(enc.buffer);
}

describe("kafkajs interop", () => {
  test.each([0, 1])("decodeRecords reads kafkajs's batch (compression %d)", async (codec) => {
    const batch = await kafkajsBatch(codec);
    expect(verifyBatchCrc(batch)).toBe(true);
    const b = decodeRecords(batch);
    expect(b).toMatchObject({
      baseOffset: 1000,
      codec,
      isTransactional: true,
      producerId: 12345678901,
      producerEpoch: 4,
      baseSequence: 9,
      lastOffsetDelta: 2,
      recordCount: 3,
      partitionLeaderEpoch: 0,
    });
    const rs = b.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: text(r.key),
      value: text(r.value),
      headers: r.headers.map((h) => [h.key, toHex(h.value!)]),
    }));
    expect(rs).toEqual([
      { offset: 1000, timestamp: 1_700_000_000_000, key: "key-0", value: "value-0", headers: [["trace", toHex(te.encode("abc"))], ["multi", "31"], ["multi", "32"]] },
      { offset: 1001, timestamp: 1_700_000_000_250, key: null, value: "value-1", headers: [] },
      { offset: 1002, timestamp: 1_699_999_999_997, key: "key-2", value: null, headers: [["h", "00ff"]] },
    ]);
    expect(findRecordOffsetByTimestamp(batch, 1_700_000_000_001)).toEqual({ offset: 1001, timestamp: 1_700_000_000_250 });
    expect(findMaxTimestampRecord(batch)).toEqual({ offset: 1001, timestamp: 1_700_000_000_250 });
  });

  test.each([0, 1])("kafkajs's decoder reads encodeBatch output (codec %d)", async (codec) => {
    const ours = encodeBatch({
      baseOffset: 2 ** 40,
      codec,
      transactional: true,
      producerId: 99,
      producerEpoch: 2,
      baseSequence: 5,
      records: [
        { key: "a", value: "1", timestamp: 1_700_000_000_100, headers: [{ key: "x", value: "y" }] },
        { key: null, value: te.encode("2"), timestamp: 1_700_000_000_050 },
        { key: "c", value: null, timestamp: 1_700_000_000_200, headers: [{ key: "n", value: null }] },
      ],
    });
    expect(kafkajsCrc32C(Buffer.from(ours.subarray(21)))).toBe(new DataView(ours.buffer).getUint32(17));
    const b = await kafkajsDecodeBatch(new KDecoder(Buffer.from(ours)));
    expect(b).toMatchObject({
      firstOffset: String(2 ** 40),
      firstTimestamp: "1700000000100",
      maxTimestamp: "1700000000200",
      lastOffsetDelta: 2,
      inTransaction: true,
      isControlBatch: false,
      producerId: "99",
      producerEpoch: 2,
      firstSequence: 5,
    });
    expect(
      b.records.map((r: any) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null, Object.keys(r.headers)]),
    ).toEqual([
      [String(2 ** 40), "1700000000100", "a", "1", ["x"]],
      [String(2 ** 40 + 1), "1700000000050", null, "2", []],
      [String(2 ** 40 + 2), "1700000000200", "c", null, ["n"]],
    ]);
    expect(b.records[0].headers.x.toString()).toBe("y");
    expect(b.records[2].headers.n).toBeNull();
  });

  test("kafkajs sees our abort marker as an abort marker", async () => {
    const abort = encodeControlBatch({ producerId: 5, producerEpoch: 0, commit: false, coordinatorEpoch: 3, timestamp: 1 });
    const b = await kafkajsDecodeBatch(new KDecoder(Buffer.from(abort)));
    expect(b.isControlBatch).toBe(true);
    expect(b.records[0].isControlRecord).toBe(true);
    expect(Buffer.from(b.records[0].key).equals(Buffer.from([0, 0, 0, 0]))).toBe(true);
  });
});

// ------------------------------------------------------------------ control batches

describe("control records", () => {
  test("marker key and value bytes", () => {
    expect(toHex(controlRecordKey(false))).toBe("00000000");
    expect(toHex(controlRecordKey(true))).toBe("00000001");
    expect(toHex(controlRecordValue(7))).toBe("000000000007");
    expect(parseControlRecordKey(hex("00000001"))).toEqual({ version: 0, type: 1 });
    expect(parseControlRecordValue(hex("0000 7fffffff"))).toEqual({ version: 0, coordinatorEpoch: 2 ** 31 - 1 });
  });

  test("encodeControlBatch", () => {
    const batch = encodeControlBatch({ producerId: 42, producerEpoch: 3, commit: true, coordinatorEpoch: 9, timestamp: 1_700_000_000_000, baseOffset: 77 });
    expect(verifyBatchCrc(batch)).toBe(true);
    const b = decodeRecords(batch);
    expect(b).toMatchObject({ attributes: 0x30, isControl: true, isTransactional: true, producerId: 42, producerEpoch: 3, baseSequence: -1, recordCount: 1, lastOffsetDelta: 0 });
    expect(toHex(b.records[0]!.key!)).toBe("00000001");
    expect(toHex(b.records[0]!.value!)).toBe("000000000009");
    expect(b.records[0]!.offset).toBe(77);
    expect(b.records[0]!.timestamp).toBe(1_700_000_000_000);
  });
});

// ------------------------------------------------------------------ encodeBatch details and timestamp searches

describe("encodeBatch", () => {
  test.each([0, 1, 2, 3, 4])("codec %d round trip and header fields", (codec) => {
    const records = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: sample.subarray(i * 100, i * 100 + 300), timestamp: 1_700_000_000_000 + ((i * 37) % 11) }));
    const batch = encodeBatch({ codec, records, baseOffset: 5 });
    expect(verifyBatchCrc(batch)).toBe(true);
    const h = readBatchHeader(batch);
    expect(h).toMatchObject({ codec, baseOffset: 5, lastOffsetDelta: 49, recordCount: 50, baseTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_010, producerId: -1, producerEpoch: -1, baseSequence: -1, partitionLeaderEpoch: -1 });
    expect(h.batchLength).toBe(batch.length - 12);
    const b = decodeRecords(batch);
    expect(b.records.map((r) => r.offset)).toEqual(records.map((_, i) => 5 + i));
    expect(b.records.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp));
    b.records.forEach((r, i) => same(r.value!, records[i]!.value));
  });

  test("offset gaps (compacted) keep lastOffsetDelta", () => {
    const batch = encodeBatch({ baseOffset: 100, lastOffsetDelta: 9, records: [0, 4, 7].map((d) => ({ value: "v", offsetDelta: d, timestamp: 10 + d })) });
    const b = decodeRecords(batch);
    expect(b.lastOffsetDelta).toBe(9);
    expect(b.records.map((r) => r.offset)).toEqual([100, 104, 107]);
    expect(findRecordOffsetByTimestamp(batch, 12)).toEqual({ offset: 104, timestamp: 14 });
  });
});

describe("timestamp searches", () => {
  const ts = [100, 300, 200, 300];
  for (const codec of [0, 3]) {
    const batch = encodeBatch({ codec, baseOffset: 10, records: ts.map((t) => ({ value: "v", timestamp: t })) });
    test(`first record at or after a timestamp (codec ${codec})`, () => {
      expect(findRecordOffsetByTimestamp(batch, 0)).toEqual({ offset: 10, timestamp: 100 });
      expect(findRecordOffsetByTimestamp(batch, 100)).toEqual({ offset: 10, timestamp: 100 });
      expect(findRecordOffsetByTimestamp(batch, 150)).toEqual({ offset: 11, timestamp: 300 });
      expect(findRecordOffsetByTimestamp(batch, 300)).toEqual({ offset: 11, timestamp: 300 });
      expect(findRecordOffsetByTimestamp(batch, 301)).toBeNull();
    });
    test(`max timestamp: first of equals (codec ${codec})`, () => {
      expect(findMaxTimestampRecord(batch)).toEqual({ offset: 11, timestamp: 300 });
    });
  }

  test("LogAppendTime: every record has the batch maxTimestamp", () => {
    const batch = encodeBatch({ timestampType: 1, baseOffset: 3, records: [{ value: "a", timestamp: 500 }, { value: "b", timestamp: 500 }] });
    expect(readBatchHeader(batch).timestampType).toBe(1);
    expect(decodeRecords(batch).records.map((r) => r.timestamp)).toEqual([500, 500]);
    expect(findRecordOffsetByTimestamp(batch, 499)).toEqual({ offset: 3, timestamp: 500 });
    expect(findRecordOffsetByTimestamp(batch, 501)).toBeNull();
    expect(findMaxTimestampRecord(batch)).toEqual({ offset: 3, timestamp: 500 });
  });

  test("LogAppendTime set by a broker over CreateTime records", () => {
    // the broker flips bit 3 and rewrites maxTimestamp; record deltas stay as produced
    const batch = encodeBatch({ baseOffset: 0, records: [{ value: "a", timestamp: 1 }, { value: "b", timestamp: 2 }] });
    const dv = new DataView(batch.buffer);
    dv.setInt16(21, 0x08);
    dv.setBigInt64(35, 9000n);
    dv.setUint32(17, crc32c(batch, 21));
    expect(decodeRecords(batch).records.map((r) => r.timestamp)).toEqual([9000, 9000]);
    expect(findRecordOffsetByTimestamp(batch, 5000)).toEqual({ offset: 0, timestamp: 9000 });
    expect(findMaxTimestampRecord(batch)).toEqual({ offset: 0, timestamp: 9000 });
  });

  test("empty batch", () => {
    const batch = encodeBatch({ records: [], lastOffsetDelta: 4 });
    expect(decodeRecords(batch).records).toEqual([]);
    expect(findMaxTimestampRecord(batch)).toBeNull();
    expect(findRecordOffsetByTimestamp(batch, -5)).toBeNull();
  });
});
