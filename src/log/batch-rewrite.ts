// Record-level surgery on stored v2 batches, for the log cleaner (and anything else that must rewrite
// a batch: a topic's compression.type). Records are located without being copied; a rewritten batch
// keeps the original's base offset, lastOffsetDelta (so its offset range is preserved even when the
// records at its ends are gone), producer id/epoch/base sequence and attribute bits, and is compressed
// again with the original codec — for snappy in the original framing (xerial or a raw block).
//
// Timestamps: record timestamps are baseTimestamp + delta. A batch can carry a delete horizon (KIP-534):
// the attribute bit 0x40 is set and baseTimestamp holds the horizon; the deltas are then relative to
// it, so every reader computes the same record timestamps whether or not it knows about horizons.
// @ts-ignore snappyjs ships no type declarations
import SnappyUntyped from "snappyjs";
import {
  ATTRIBUTES,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  CRC,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAX_TIMESTAMP,
  RECORD_COUNT,
  CODEC_MASK,
  DELETE_HORIZON_BIT,
  TIMESTAMP_TYPE_BIT,
  crc32c,
  dataView,
  readInt64,
  writeInt64,
} from "../../protocol/records/batch.ts";
import { compress, decompress } from "../../protocol/records/compression.ts";
import {
  CorruptRecordError,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
  type Cursor,
} from "../../protocol/records/records.ts";

const Snappy = SnappyUntyped as { compress(data: Uint8Array): Uint8Array };
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];

/** Where one record lies in a (decompressed) records section, and what the cleaner needs of it. */
export interface RecordSlice {
  /** position of the length varint */
  start: number;
  /** end of the record */
  end: number;
  /** position just after the offset delta: key, value and headers follow, copied as they are */
  restStart: number;
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  /** key position and length in the section; keyLength -1 = null key */
  keyStart: number;
  keyLength: number;
  /** value is null: a tombstone */
  nullValue: boolean;
}

export interface ParsedBatch {
  /** the records section, decompressed */
  section: Uint8Array;
  records: RecordSlice[];
  codec: number;
  /** snappy batches: the original used xerial framing */
  xerial: boolean;
}

/** Locates every record of the batch at the start of `batch` (decompressing as needed). */
export function parseBatchRecords(batch: Uint8Array): ParsedBatch {
  const v = dataView(batch);
  const size = v.getInt32(BATCH_LENGTH) + LOG_OVERHEAD;
  const codec = v.getInt16(ATTRIBUTES) & CODEC_MASK;
  const raw = batch.subarray(HEADER_SIZE, size);
  const section = codec === 0 ? raw : decompress(codec, raw);
  const xerial = codec === 2 && raw.length >= 8 && XERIAL_MAGIC.every((b, i) => raw[i] === b);
  const count = v.getInt32(RECORD_COUNT);
  const records: RecordSlice[] = [];
  const c: Cursor = { buf: section, pos: 0 };
  for (let i = 0; i < count; i++) {
    const start = c.pos;
    const len = readVarint(c);
    const end = c.pos + len;
    if (len < 1 || end > section.length) throw new CorruptRecordError(`record length ${len} does not fit`);
    const attributes = section[c.pos++]!;
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);
    const restStart = c.pos;
    const keyLength = readVarint(c);
    const keyStart = c.pos;
    if (keyLength > 0) c.pos += keyLength;
    const valueLength = readVarint(c);
    if (c.pos > end) throw new CorruptRecordError("record fields run past the record");
    records.push({ start, end, restStart, attributes, timestampDelta, offsetDelta, keyStart, keyLength, nullValue: valueLength < 0 });
    c.pos = end;
  }
  if (c.pos !== section.length) throw new CorruptRecordError(`${section.length - c.pos} bytes left after ${count} records`);
  return { section, records, codec, xerial };
}

export interface RebuildOptions {
  /** the records to keep, in order (slices of parsed.section) */
  keep: readonly RecordSlice[];
  /** set a delete horizon: baseTimestamp becomes this and the 0x40 attribute bit is set */
  deleteHorizon?: number;
  /** compress with this codec instead of the original's */
  codec?: number;
}

/**
 * A new batch holding `keep` of the original's records. Offsets (base, deltas, lastOffsetDelta) and
 * the producer fields stay; recordCount, maxTimestamp (CreateTime), attributes, length and CRC are
 * recomputed.
 */
export function rebuildBatch(orig: Uint8Array, parsed: ParsedBatch, opts: RebuildOptions): Uint8Array {
  const ov = dataView(orig);
  const attributes = ov.getInt16(ATTRIBUTES);
  const logAppendTime = (attributes & TIMESTAMP_TYPE_BIT) !== 0;
  const oldBase = readInt64(ov, BASE_TIMESTAMP);
  const newBase = opts.deleteHorizon ?? oldBase;
  const section = parsed.section;
  const codec = opts.codec ?? parsed.codec;

  // Records section: verbatim copies when the timestamp base is unchanged, else re-based deltas.
  let total = 0;
  let maxTs = -1;
  const rebase = newBase !== oldBase;
  const sizes: number[] = [];
  for (const r of opts.keep) {
    const ts = oldBase + r.timestampDelta;
    if (ts > maxTs) maxTs = ts;
    if (!rebase) {
      total += r.end - r.start;
      continue;
    }
    const body = 1 + sizeOfVarlong(ts - newBase) + sizeOfVarint(r.offsetDelta) + (r.end - r.restStart);
    sizes.push(body);
    total += sizeOfVarint(body) + body;
  }
  let records: Uint8Array = new Uint8Array(total);
  let pos = 0;
  opts.keep.forEach((r, i) => {
    if (!rebase) {
      records.set(section.subarray(r.start, r.end), pos);
      pos += r.end - r.start;
      return;
    }
    pos = writeVarint(records, pos, sizes[i]!);
    records[pos++] = r.attributes;
    pos = writeVarlong(records, pos, oldBase + r.timestampDelta - newBase);
    pos = writeVarint(records, pos, r.offsetDelta);
    records.set(section.subarray(r.restStart, r.end), pos);
    pos += r.end - r.restStart;
  });
  if (codec !== 0) records = codec === 2 && !parsed.xerial ? Snappy.compress(records) : compress(codec, records);

  const out = new Uint8Array(HEADER_SIZE + records.length);
  out.set(orig.subarray(0, HEADER_SIZE));
  out.set(records, HEADER_SIZE);
  const v = dataView(out);
  v.setInt32(BATCH_LENGTH, out.length - LOG_OVERHEAD);
  let attrs = (attributes & ~CODEC_MASK) | codec;
  if (opts.deleteHorizon !== undefined) attrs |= DELETE_HORIZON_BIT;
  v.setInt16(ATTRIBUTES, attrs);
  writeInt64(v, BASE_TIMESTAMP, newBase);
  if (!logAppendTime) writeInt64(v, MAX_TIMESTAMP, opts.keep.length > 0 ? maxTs : readInt64(ov, MAX_TIMESTAMP));
  v.setInt32(RECORD_COUNT, opts.keep.length);
  v.setUint32(CRC, crc32c(out, ATTRIBUTES, out.length));
  return out;
}

/** The key bytes of a record as a map key (latin1: one char per byte, exact). */
export function keyString(section: Uint8Array, r: RecordSlice): string | null {
  if (r.keyLength < 0) return null;
  return Buffer.from(section.buffer, section.byteOffset + r.keyStart, r.keyLength).toString("latin1");
}
