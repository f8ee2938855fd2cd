// Record batch v2 (magic 2): varints, batch header, records, control records, and the timestamp
// searches ListOffsets needs. Layout: shared/kafka-protocol/RECORDS.md.
//
// Numbers: int64 fields and varlongs come back as JS numbers, exact within ±2^53 (timestamps and
// offsets stay far inside that). Keys, values and header values returned by decodeRecords are
// views into the batch (or into its decompressed copy): copy them if the batch's memory is reused.
import { compress, decompress } from "./compression.ts";
import {
  CODEC_MASK as ATTR_CODEC_MASK,
  CONTROL_BIT as ATTR_CONTROL,
  CURRENT_MAGIC as MAGIC_V2,
  HEADER_SIZE as BATCH_HEADER_SIZE,
  TIMESTAMP_TYPE_BIT as ATTR_LOG_APPEND_TIME,
  TRANSACTIONAL_BIT as ATTR_TRANSACTIONAL,
  readBatchHeader as readRawHeader,
  writeInt64 as setInt64,
} from "./batch.ts";
import { crc32c } from "./crc32c.ts";

/** Malformed batch or record bytes: answer CORRUPT_MESSAGE. */
export class CorruptRecordError extends Error {
  readonly kafkaError = "CORRUPT_MESSAGE";
  constructor(message: string) {
    super(message);
    this.name = "CorruptRecordError";
  }
}

// ---------------------------------------------------------------- varint / varlong (zig-zag)

/** A read position over a byte array; readers advance `pos`. */
export interface Cursor {
  buf: Uint8Array;
  pos: number;
}

export function readVarint(c: Cursor): number {
  const b = c.buf;
  let pos = c.pos;
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= b.length) throw new CorruptRecordError("varint runs past the end");
    if (shift > 28) throw new CorruptRecordError("varint longer than 5 bytes");
    const byte = b[pos++]!;
    v |= (byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  c.pos = pos;
  return (v >>> 1) ^ -(v & 1);
}

export function readVarlong(c: Cursor): number {
  const b = c.buf;
  let pos = c.pos;
  // Float arithmetic (bit operations stop at 32 bits); exact up to 7 bytes = 49 bits.
  let v = 0;
  let mul = 1;
  for (let i = 0; ; i++) {
    if (pos >= b.length) throw new CorruptRecordError("varlong runs past the end");
    if (i === 7) return readVarlongBig(c);
    const byte = b[pos++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 128;
  }
  c.pos = pos;
  return v % 2 === 1 ? -(v + 1) / 2 : v / 2;
}

// |n| >= 2^48: rare (timestamps are 6 bytes), so BigInt keeps it exact without slowing the common case.
function readVarlongBig(c: Cursor): number {
  const b = c.buf;
  let v = 0n;
  for (let i = 0; ; i++) {
    if (c.pos >= b.length) throw new CorruptRecordError("varlong runs past the end");
    if (i === 10) throw new CorruptRecordError("varlong longer than 10 bytes");
    const byte = b[c.pos++]!;
    v |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) break;
  }
  return Number(BigInt.asIntN(64, (v >> 1n) ^ -(v & 1n)));
}

/** Writes n (an int32) at pos; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes n (a safe integer) at pos; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, n: number): number {
  if ((n | 0) === n) return writeVarint(buf, pos, n); // same bytes for int32 values, cheaper
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  if (v > Number.MAX_SAFE_INTEGER) return writeVarlongBig(buf, pos, n);
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

function writeVarlongBig(buf: Uint8Array, pos: number, n: number): number {
  const x = BigInt(n);
  let v = BigInt.asUintN(64, (x << 1n) ^ (x >> 63n));
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

export function sizeOfVarint(n: number): number {
  let v = ((n << 1) ^ (n >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

export function sizeOfVarlong(n: number): number {
  if ((n | 0) === n) return sizeOfVarint(n);
  let v = n >= 0 ? n * 2 : -n * 2 - 1; // may round above 2^53; the byte count stays right
  let size = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    size++;
  }
  return size;
}

// ---------------------------------------------------------------- batch header

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  codec: number;
  timestampType: 0 | 1; // 1 = LogAppendTime
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Parses the 61-byte header; checks magic and that the whole batch is present. */
export function readBatchHeader(batch: Uint8Array): BatchHeader {
  if (batch.length < BATCH_HEADER_SIZE) throw new CorruptRecordError(`batch of ${batch.length} bytes is shorter than its header`);
  const dv = view(batch);
  const magic = dv.getInt8(16);
  if (magic !== MAGIC_V2) throw new CorruptRecordError(`unsupported magic ${magic}`);
  const batchLength = dv.getInt32(8);
  if (batchLength < BATCH_HEADER_SIZE - 12 || 12 + batchLength > batch.length)
    throw new CorruptRecordError(`batchLength ${batchLength} does not fit in ${batch.length} bytes`);
  const raw = readRawHeader(batch, 0, dv);
  const attributes = raw.attributes;
  return {
    ...raw,
    codec: attributes & ATTR_CODEC_MASK,
    timestampType: attributes & ATTR_LOG_APPEND_TIME ? 1 : 0,
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
  };
}

/** True when the stored CRC-32C matches bytes 21..end of the batch. */
export function verifyBatchCrc(batch: Uint8Array): boolean {
  const dv = view(batch);
  return crc32c(batch, 21, 12 + dv.getInt32(8)) === dv.getUint32(17);
}

// ---------------------------------------------------------------- decoding

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface DecodedBatch extends BatchHeader {
  records: DecodedRecord[];
}

/** The records section, decompressed when the codec bits say so. */
function recordsSection(batch: Uint8Array, h: BatchHeader): Uint8Array {
  if (h.recordCount < 0) throw new CorruptRecordError(`negative record count ${h.recordCount}`);
  const section = batch.subarray(BATCH_HEADER_SIZE, 12 + h.batchLength);
  return h.codec === 0 ? section : decompress(h.codec, section);
}

const utf8 = new TextDecoder();

function readNullableBytes(c: Cursor, end: number): Uint8Array | null {
  const len = readVarint(c);
  if (len < 0) return null;
  const start = c.pos;
  if (start + len > end) throw new CorruptRecordError("record field runs past the record");
  c.pos = start + len;
  return c.buf.subarray(start, start + len);
}

/** Reads a record's length prefix; returns where the record ends. */
function recordEnd(c: Cursor): number {
  const len = readVarint(c);
  const end = c.pos + len;
  if (len < 1 || end > c.buf.length) throw new CorruptRecordError(`record length ${len} does not fit`);
  return end;
}

function checkAllRead(c: Cursor, n: number, count: number): void {
  if (c.pos !== c.buf.length) throw new CorruptRecordError(`${c.buf.length - c.pos} bytes left after ${count} records`);
  if (n !== count) throw new CorruptRecordError(`recordCount ${count} but found ${n}`);
}

/** Decodes one v2 batch (the first one in `batch`), decompressing its records if needed. */
export function decodeRecords(batch: Uint8Array): DecodedBatch {
  const h = readBatchHeader(batch);
  const c: Cursor = { buf: recordsSection(batch, h), pos: 0 };
  const logAppend = h.timestampType === 1;
  const records: DecodedRecord[] = [];
  for (let i = 0; i < h.recordCount; i++) {
    const end = recordEnd(c);
    c.pos++; // record attributes: unused
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);
    const key = readNullableBytes(c, end);
    const value = readNullableBytes(c, end);
    const headerCount = readVarint(c);
    if (headerCount < 0) throw new CorruptRecordError(`negative header count ${headerCount}`);
    const headers: RecordHeader[] = [];
    for (let j = 0; j < headerCount; j++) {
      const k = readNullableBytes(c, end);
      if (k === null) throw new CorruptRecordError("null header key");
      headers.push({ key: utf8.decode(k), value: readNullableBytes(c, end) });
    }
    if (c.pos !== end) throw new CorruptRecordError("record length disagrees with its fields");
    records.push({
      offset: h.baseOffset + offsetDelta,
      timestamp: logAppend ? h.maxTimestamp : h.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  checkAllRead(c, records.length, h.recordCount);
  return { ...h, records };
}

/**
 * Visits (offsetDelta, timestampDelta) of each record without materialising keys and values;
 * stops when visit returns true.
 */
function scanRecords(batch: Uint8Array, h: BatchHeader, visit: (offsetDelta: number, timestampDelta: number) => boolean): void {
  const c: Cursor = { buf: recordsSection(batch, h), pos: 0 };
  for (let i = 0; i < h.recordCount; i++) {
    const end = recordEnd(c);
    c.pos++;
    const timestampDelta = readVarlong(c);
    if (visit(readVarint(c), timestampDelta)) return;
    c.pos = end;
  }
}

export interface OffsetAndTimestamp {
  offset: number;
  timestamp: number;
}

/**
 * First record whose timestamp is >= ts, or null. Like Kafka's time index, a batch whose header
 * maxTimestamp is below ts is skipped without reading its records.
 */
export function findRecordOffsetByTimestamp(batch: Uint8Array, ts: number): OffsetAndTimestamp | null {
  const h = readBatchHeader(batch);
  if (h.maxTimestamp < ts || h.recordCount === 0) return null;
  let found: OffsetAndTimestamp | null = null;
  scanRecords(batch, h, (offsetDelta, timestampDelta) => {
    // Under LogAppendTime every record carries maxTimestamp, which is >= ts here.
    const t = h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + timestampDelta;
    if (t < ts) return false;
    found = { offset: h.baseOffset + offsetDelta, timestamp: t };
    return true;
  });
  return found;
}

/** The record with the largest timestamp (the first of equals), or null for an empty batch. */
export function findMaxTimestampRecord(batch: Uint8Array): OffsetAndTimestamp | null {
  const h = readBatchHeader(batch);
  let best: OffsetAndTimestamp | null = null;
  scanRecords(batch, h, (offsetDelta, timestampDelta) => {
    if (h.timestampType === 1) {
      best = { offset: h.baseOffset + offsetDelta, timestamp: h.maxTimestamp };
      return true;
    }
    const t = h.baseTimestamp + timestampDelta;
    if (best === null || t > best.timestamp) best = { offset: h.baseOffset + offsetDelta, timestamp: t };
    return false;
  });
  return best;
}

// ---------------------------------------------------------------- encoding

export type Bytes = Uint8Array | string | null | undefined;

export interface RecordInput {
  key?: Bytes;
  value?: Bytes;
  headers?: Array<{ key: string; value?: Bytes }>;
  /** Defaults to the time encodeBatch is called. */
  timestamp?: number;
  /** Defaults to the record's index; must increase. */
  offsetDelta?: number;
}

export interface BatchInput {
  baseOffset?: number; // 0
  codec?: number; // 0
  timestampType?: 0 | 1; // 0 = CreateTime
  transactional?: boolean;
  control?: boolean;
  producerId?: number; // -1
  producerEpoch?: number; // -1
  baseSequence?: number; // -1
  partitionLeaderEpoch?: number; // -1
  /** Defaults to the last record's offsetDelta; set it to keep a compacted batch's offset range. */
  lastOffsetDelta?: number;
  records: RecordInput[];
}

const utf8Enc = new TextEncoder();
const toBytes = (b: Bytes): Uint8Array | null => (b == null ? null : typeof b === "string" ? utf8Enc.encode(b) : b);
const sizeOfBytes = (b: Uint8Array | null) => (b === null ? 1 : sizeOfVarint(b.length) + b.length);

function writeBytes(buf: Uint8Array, pos: number, b: Uint8Array | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

interface Prepared {
  size: number; // body size, after the length varint
  tsDelta: number;
  offsetDelta: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<[Uint8Array, Uint8Array | null]>;
}

/** Builds one complete v2 batch: header, records (compressed when codec != 0) and CRC-32C. */
export function encodeBatch(input: BatchInput): Uint8Array {
  const now = Date.now();
  const recs = input.records;
  const baseTimestamp = recs.length ? (recs[0]!.timestamp ?? now) : -1;
  let maxTimestamp = baseTimestamp;
  const prepared: Prepared[] = [];
  let total = 0;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    const ts = r.timestamp ?? now;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const p: Prepared = {
      size: 0,
      tsDelta: ts - baseTimestamp,
      offsetDelta: r.offsetDelta ?? i,
      key: toBytes(r.key),
      value: toBytes(r.value),
      headers: (r.headers ?? []).map((hd) => [utf8Enc.encode(hd.key), toBytes(hd.value)]),
    };
    let size = 1 + sizeOfVarlong(p.tsDelta) + sizeOfVarint(p.offsetDelta) + sizeOfBytes(p.key) + sizeOfBytes(p.value);
    size += sizeOfVarint(p.headers.length);
    for (const [k, v] of p.headers) size += sizeOfBytes(k) + sizeOfBytes(v);
    p.size = size;
    total += sizeOfVarint(size) + size;
    prepared.push(p);
  }

  const codec = input.codec ?? 0;
  // Uncompressed records go straight after the header; compressed ones via a scratch buffer.
  let out = new Uint8Array(codec === 0 ? BATCH_HEADER_SIZE + total : total);
  let pos = codec === 0 ? BATCH_HEADER_SIZE : 0;
  for (const p of prepared) {
    pos = writeVarint(out, pos, p.size);
    out[pos++] = 0; // record attributes
    pos = writeVarlong(out, pos, p.tsDelta);
    pos = writeVarint(out, pos, p.offsetDelta);
    pos = writeBytes(out, pos, p.key);
    pos = writeBytes(out, pos, p.value);
    pos = writeVarint(out, pos, p.headers.length);
    for (const [k, v] of p.headers) {
      pos = writeBytes(out, pos, k);
      pos = writeBytes(out, pos, v);
    }
  }
  if (codec !== 0) {
    const compressed = compress(codec, out);
    out = new Uint8Array(BATCH_HEADER_SIZE + compressed.length);
    out.set(compressed, BATCH_HEADER_SIZE);
  }

  const attributes =
    (codec & ATTR_CODEC_MASK) |
    (input.timestampType === 1 ? ATTR_LOG_APPEND_TIME : 0) |
    (input.transactional ? ATTR_TRANSACTIONAL : 0) |
    (input.control ? ATTR_CONTROL : 0);
  const lastDelta = prepared.length ? prepared[prepared.length - 1]!.offsetDelta : 0;
  const dv = view(out);
  setInt64(dv, 0, input.baseOffset ?? 0);
  dv.setInt32(8, out.length - 12);
  dv.setInt32(12, input.partitionLeaderEpoch ?? -1);
  dv.setInt8(16, MAGIC_V2);
  dv.setInt16(21, attributes);
  dv.setInt32(23, input.lastOffsetDelta ?? lastDelta);
  setInt64(dv, 27, baseTimestamp);
  setInt64(dv, 35, maxTimestamp);
  setInt64(dv, 43, input.producerId ?? -1);
  dv.setInt16(51, input.producerEpoch ?? -1);
  dv.setInt32(53, input.baseSequence ?? -1);
  dv.setInt32(57, prepared.length);
  dv.setUint32(17, crc32c(out, 21));
  return out;
}

// ---------------------------------------------------------------- control records (transaction markers)

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/** Key of a transaction marker: int16 version 0, int16 type (0 abort, 1 commit). */
export function controlRecordKey(commit: boolean): Uint8Array {
  return Uint8Array.of(0, 0, 0, commit ? ControlType.COMMIT : ControlType.ABORT);
}

/** Value of a transaction marker: int16 version 0, int32 coordinatorEpoch. */
export function controlRecordValue(coordinatorEpoch: number): Uint8Array {
  const b = new Uint8Array(6);
  view(b).setInt32(2, coordinatorEpoch);
  return b;
}

export function parseControlRecordKey(key: Uint8Array): { version: number; type: number } {
  if (key.length < 4) throw new CorruptRecordError(`control record key of ${key.length} bytes`);
  const dv = view(key);
  return { version: dv.getInt16(0), type: dv.getInt16(2) };
}

export function parseControlRecordValue(value: Uint8Array): { version: number; coordinatorEpoch: number } {
  if (value.length < 6) throw new CorruptRecordError(`control record value of ${value.length} bytes`);
  const dv = view(value);
  return { version: dv.getInt16(0), coordinatorEpoch: dv.getInt32(2) };
}

/** A commit or abort marker batch: transactional + control, one record, no sequence. */
export function encodeControlBatch(m: {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestamp: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}): Uint8Array {
  return encodeBatch({
    baseOffset: m.baseOffset,
    partitionLeaderEpoch: m.partitionLeaderEpoch,
    transactional: true,
    control: true,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: -1,
    records: [{ key: controlRecordKey(m.commit), value: controlRecordValue(m.coordinatorEpoch), timestamp: m.timestamp }],
  });
}
