// Record batch v2 header: field offsets, attribute bits, CRC-32C, and validation of produced batches.
// Only the 61-byte header is looked at; records (possibly compressed) are left to records.ts.

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORD_COUNT = 57;
export const HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

export const Codec = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export const CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08; // 1 = LogAppendTime
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

export const codecOf = (attributes: number): number => attributes & CODEC_MASK;
/** 0 = CreateTime, 1 = LogAppendTime. */
export const timestampType = (attributes: number): 0 | 1 => ((attributes & TIMESTAMP_TYPE_BIT) ? 1 : 0);
export const isTransactional = (attributes: number): boolean => (attributes & TRANSACTIONAL_BIT) !== 0;
export const isControl = (attributes: number): boolean => (attributes & CONTROL_BIT) !== 0;
export const hasDeleteHorizon = (attributes: number): boolean => (attributes & DELETE_HORIZON_BIT) !== 0;

export { crc32c } from "./crc32c.ts";
import { crc32c } from "./crc32c.ts";

// --- header access --------------------------------------------------------------------------------
/** int64 at pos as a JS number (exact up to 2^53; -1 stays -1) without allocating a BigInt. */
export function readInt64(view: DataView, pos: number): number {
  return view.getInt32(pos) * 4294967296 + view.getUint32(pos + 4);
}
export function writeInt64(view: DataView, pos: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  view.setInt32(pos, hi);
  view.setUint32(pos + 4, value - hi * 4294967296);
}
export function dataView(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Decoded header fields; meant for occasional use (tests, tools) — hot paths read fields directly. */
export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function readBatchHeader(buf: Uint8Array, pos = 0, view = dataView(buf)): BatchHeader {
  return {
    baseOffset: readInt64(view, pos + BASE_OFFSET),
    batchLength: view.getInt32(pos + BATCH_LENGTH),
    partitionLeaderEpoch: view.getInt32(pos + PARTITION_LEADER_EPOCH),
    magic: view.getInt8(pos + MAGIC),
    crc: view.getUint32(pos + CRC),
    attributes: view.getInt16(pos + ATTRIBUTES),
    lastOffsetDelta: view.getInt32(pos + LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(view, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(view, pos + MAX_TIMESTAMP),
    producerId: readInt64(view, pos + PRODUCER_ID),
    producerEpoch: view.getInt16(pos + PRODUCER_EPOCH),
    baseSequence: view.getInt32(pos + BASE_SEQUENCE),
    recordCount: view.getInt32(pos + RECORD_COUNT),
  };
}

/** Total bytes of the batch at pos (batchLength + 12). Caller ensures pos+12 <= buf end. */
export function batchSizeAt(view: DataView, pos: number): number {
  return view.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD;
}

/** Switch a batch to LogAppendTime: set the attribute bit and maxTimestamp, then re-CRC. */
export function stampLogAppendTime(buf: Uint8Array, pos: number, now: number): void {
  const view = dataView(buf);
  const end = pos + batchSizeAt(view, pos);
  view.setInt16(pos + ATTRIBUTES, view.getInt16(pos + ATTRIBUTES) | TIMESTAMP_TYPE_BIT);
  writeInt64(view, pos + MAX_TIMESTAMP, now);
  view.setUint32(pos + CRC, crc32c(buf, pos + ATTRIBUTES, end));
}

// --- scanning -------------------------------------------------------------------------------------
/**
 * Calls cb(pos, size) for each whole batch in buf[start, end), reading only lengths. Stops (and returns
 * the position reached) at the end, at a truncated header/batch, at a length too small to be a v2
 * batch, or when cb returns false. The returned position is where the next batch would start.
 */
export function iterateBatchHeaders(
  buf: Uint8Array,
  start: number,
  end: number,
  cb: (pos: number, size: number, view: DataView) => boolean | void,
  view: DataView = dataView(buf),
): number {
  let pos = start;
  while (pos + HEADER_SIZE <= end) {
    const size = batchSizeAt(view, pos);
    if (size < HEADER_SIZE || pos + size > end) break;
    if (cb(pos, size, view) === false) break;
    pos += size;
  }
  return pos;
}

// --- validation of produced data ------------------------------------------------------------------
export type BatchErrorName =
  | "CORRUPT_MESSAGE"
  | "MESSAGE_TOO_LARGE"
  | "INVALID_RECORD"
  | "UNSUPPORTED_COMPRESSION_TYPE";

export interface ValidateOptions {
  /** message.max.bytes / max.message.bytes: limit on one batch's total size incl. LOG_OVERHEAD. */
  maxBatchBytes: number;
  /** Kafka allows exactly one batch per partition from Produce v3 on; set to enforce that. */
  singleBatch?: boolean;
  /** zstd needs Produce v7+; pass false for older requests. Default true. */
  allowZstd?: boolean;
  /** Control batches come only from the transaction coordinator, never from producers. */
  allowControl?: boolean;
}

export interface ValidatedBatches {
  ok: true;
  batches: number;
  /** Sum of recordCount. */
  records: number;
  /** Offsets the append consumes: sum of lastOffsetDelta + 1. */
  offsetCount: number;
  bytes: number;
  /** Largest maxTimestamp over the batches (-1 when none carries a timestamp). */
  maxTimestamp: number;
  /** Bit i set when some batch uses codec i. */
  codecs: number;
  transactional: boolean;
  firstProducerId: number;
  firstProducerEpoch: number;
  firstBaseSequence: number;
  lastProducerId: number;
  lastProducerEpoch: number;
  /** baseSequence + lastOffsetDelta of the last batch (-1 when not idempotent). */
  lastSequence: number;
}

export interface BatchValidationError {
  ok: false;
  error: BatchErrorName;
  message: string;
  /** Index of the offending batch (0-based). */
  batchIndex: number;
}

const fail = (error: BatchErrorName, batchIndex: number, message: string): BatchValidationError => ({
  ok: false,
  error,
  message,
  batchIndex,
});

/**
 * Checks the batches of one partition's produce data: framing, magic 2, size limit, CRC-32C, offset
 * range vs record count, codec, no control batches. Header-only: never decodes or copies records.
 */
export function validateBatches(buf: Uint8Array, opts: ValidateOptions): ValidatedBatches | BatchValidationError {
  const end = buf.length;
  if (end === 0) return fail("INVALID_RECORD", 0, "produce data has no record batch");
  const view = dataView(buf);
  let pos = 0, n = 0, records = 0, offsetCount = 0, maxTimestamp = -1, codecs = 0, transactional = false;
  let firstPid = -1, firstEpoch = -1, firstSeq = -1, lastPid = -1, lastEpoch = -1, lastSeq = -1;
  while (pos < end) {
    if (opts.singleBatch && n === 1) return fail("INVALID_RECORD", n, "only one record batch per partition is allowed");
    if (end - pos < HEADER_SIZE)
      return fail("CORRUPT_MESSAGE", n, `truncated batch: ${end - pos} bytes left, header needs ${HEADER_SIZE}`);
    const batchLength = view.getInt32(pos + BATCH_LENGTH);
    const size = batchLength + LOG_OVERHEAD;
    if (size < HEADER_SIZE) return fail("CORRUPT_MESSAGE", n, `batchLength ${batchLength} is below the v2 minimum`);
    const magic = view.getInt8(pos + MAGIC);
    if (magic !== CURRENT_MAGIC)
      return fail("CORRUPT_MESSAGE", n, `record batch magic ${magic} is not supported (only magic 2)`);
    if (size > opts.maxBatchBytes)
      return fail("MESSAGE_TOO_LARGE", n, `batch of ${size} bytes exceeds the limit of ${opts.maxBatchBytes}`);
    if (size > end - pos)
      return fail("CORRUPT_MESSAGE", n, `truncated batch: batchLength says ${size} bytes, ${end - pos} present`);
    const stored = view.getUint32(pos + CRC);
    const actual = crc32c(buf, pos + ATTRIBUTES, pos + size);
    if (stored !== actual)
      return fail("CORRUPT_MESSAGE", n, `CRC-32C mismatch: stored ${hex(stored)}, computed ${hex(actual)}`);
    const attributes = view.getInt16(pos + ATTRIBUTES);
    const codec = attributes & CODEC_MASK;
    if (codec > Codec.Zstd) return fail("UNSUPPORTED_COMPRESSION_TYPE", n, `unknown compression codec ${codec}`);
    if (codec === Codec.Zstd && opts.allowZstd === false)
      return fail("UNSUPPORTED_COMPRESSION_TYPE", n, "zstd needs Produce v7 or later");
    if ((attributes & CONTROL_BIT) && !opts.allowControl)
      return fail("INVALID_RECORD", n, "clients may not write control batches");
    const lastOffsetDelta = view.getInt32(pos + LAST_OFFSET_DELTA);
    const count = view.getInt32(pos + RECORD_COUNT);
    if (count < 1) return fail("INVALID_RECORD", n, `record count ${count} must be at least 1`);
    if (lastOffsetDelta + 1 !== count)
      return fail("INVALID_RECORD", n, `lastOffsetDelta ${lastOffsetDelta} does not match record count ${count}`);
    const ts = readInt64(view, pos + MAX_TIMESTAMP);
    if (ts > maxTimestamp) maxTimestamp = ts;
    codecs |= 1 << codec;
    if (attributes & TRANSACTIONAL_BIT) transactional = true;
    lastPid = readInt64(view, pos + PRODUCER_ID);
    lastEpoch = view.getInt16(pos + PRODUCER_EPOCH);
    const baseSeq = view.getInt32(pos + BASE_SEQUENCE);
    lastSeq = baseSeq < 0 ? -1 : (baseSeq + lastOffsetDelta) % 2147483648; // sequences wrap at int32 max
    if (n === 0) {
      firstPid = lastPid;
      firstEpoch = lastEpoch;
      firstSeq = baseSeq;
    }
    records += count;
    offsetCount += lastOffsetDelta + 1;
    pos += size;
    n++;
  }
  return {
    ok: true,
    batches: n,
    records,
    offsetCount,
    bytes: end,
    maxTimestamp,
    codecs,
    transactional,
    firstProducerId: firstPid,
    firstProducerEpoch: firstEpoch,
    firstBaseSequence: firstSeq,
    lastProducerId: lastPid,
    lastProducerEpoch: lastEpoch,
    lastSequence: lastSeq,
  };
}

/**
 * Structural + CRC check of one stored batch at pos (recovery). Returns its size, or 0 when the bytes
 * there are not a whole valid v2 batch (zero fill, torn write, garbage).
 */
export function checkStoredBatch(buf: Uint8Array, view: DataView, pos: number, end: number, verifyCrc: boolean): number {
  if (end - pos < HEADER_SIZE) return 0;
  const size = batchSizeAt(view, pos);
  if (size < HEADER_SIZE || size > end - pos) return 0;
  if (view.getInt8(pos + MAGIC) !== CURRENT_MAGIC) return 0;
  if (view.getInt32(pos + LAST_OFFSET_DELTA) < 0) return 0;
  if (verifyCrc && view.getUint32(pos + CRC) !== crc32c(buf, pos + ATTRIBUTES, pos + size)) return 0;
  return size;
}

const hex = (n: number) => "0x" + n.toString(16).padStart(8, "0");
