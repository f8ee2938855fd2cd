// `<baseOffset>.index`: a segment's sparse index on disk, so a restart need not walk the log to rebuild
// it (Kafka keeps .index and .timeindex for the same reason; Brook keeps both in one file).
//
// Layout (big-endian):
//   header, 64 bytes:
//     0  uint32 magic "BRKI"     4 uint16 version (1)     6 uint16 flags (bit 0: sealed)
//     8  float64 baseOffset     16 float64 size           24 float64 nextOffset
//     32 float64 maxTimestamp   40 float64 maxTimestampPos 48 uint32 entry count   52..60 reserved
//     60 uint32 CRC-32C of bytes 0..60
//   then entries, 24 bytes each:
//     0 float64 batch baseOffset   8 float64 largest maxTimestamp of the batches before it
//     16 uint32 position           20 uint32 CRC-32C of bytes 0..20 of the entry
// The active segment's file grows by whole entries (written at checkpoints); its header is written
// once, unsealed, and says nothing about the segment's extent. When a segment is sealed the header is
// rewritten with the summary and the exact entry count. Every entry carries its own CRC, so a torn or
// corrupt file is detected entry by entry and only the part after the last good entry is rebuilt.
import { crc32c } from "../../protocol/records/crc32c.ts";

export const INDEX_SUFFIX = ".index";
export const INDEX_HEADER = 64;
export const INDEX_ENTRY = 24;
const MAGIC = 0x42524b49;
const VERSION = 1;
const SEALED = 1;

export interface SegmentSummary {
  size: number;
  nextOffset: number;
  maxTimestamp: number;
  maxTimestampPos: number;
}

export interface IndexHeader {
  baseOffset: number;
  /** the summary and entry count are valid only for a sealed segment */
  sealed: boolean;
  summary: SegmentSummary;
  count: number;
}

export function encodeHeader(baseOffset: number, sealed: boolean, s: SegmentSummary, count: number): Uint8Array {
  const buf = new Uint8Array(INDEX_HEADER);
  const v = new DataView(buf.buffer);
  v.setUint32(0, MAGIC);
  v.setUint16(4, VERSION);
  v.setUint16(6, sealed ? SEALED : 0);
  v.setFloat64(8, baseOffset);
  v.setFloat64(16, s.size);
  v.setFloat64(24, s.nextOffset);
  v.setFloat64(32, s.maxTimestamp);
  v.setFloat64(40, s.maxTimestampPos);
  v.setUint32(48, count);
  v.setUint32(60, crc32c(buf, 0, 60));
  return buf;
}

/** The header, or null when it is missing, torn, of another version or for another segment. */
export function decodeHeader(buf: Uint8Array, baseOffset: number): IndexHeader | null {
  if (buf.length < INDEX_HEADER) return null;
  const v = new DataView(buf.buffer, buf.byteOffset, INDEX_HEADER);
  if (v.getUint32(0) !== MAGIC || v.getUint16(4) !== VERSION) return null;
  if (v.getUint32(60) !== crc32c(buf, 0, 60)) return null;
  if (v.getFloat64(8) !== baseOffset) return null;
  const summary = { size: v.getFloat64(16), nextOffset: v.getFloat64(24), maxTimestamp: v.getFloat64(32), maxTimestampPos: v.getFloat64(40) };
  return { baseOffset, sealed: (v.getUint16(6) & SEALED) !== 0, summary, count: v.getUint32(48) };
}

/** Entries [from, to) of the in-memory index, encoded. */
export function encodeEntries(offsets: Float64Array, tsBefore: Float64Array, positions: Int32Array, from: number, to: number): Uint8Array {
  const buf = new Uint8Array((to - from) * INDEX_ENTRY);
  const v = new DataView(buf.buffer);
  for (let i = from, p = 0; i < to; i++, p += INDEX_ENTRY) {
    v.setFloat64(p, offsets[i]!);
    v.setFloat64(p + 8, tsBefore[i]!);
    v.setUint32(p + 16, positions[i]!);
    v.setUint32(p + 20, crc32c(buf, p, p + 20));
  }
  return buf;
}

/**
 * Reads entries from `buf` (the whole file) while each is intact and consistent with the ones before
 * it and with the segment (positions below `size`, offsets below `nextOffset`, the first entry at
 * position 0). Calls add() for each good one; returns how many were good.
 */
export function decodeEntries(
  buf: Uint8Array,
  baseOffset: number,
  size: number,
  nextOffset: number,
  max: number,
  add: (offset: number, tsBefore: number, pos: number) => void,
): number {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let n = 0, lastOffset = -Infinity, lastPos = -1, lastTs = -Infinity;
  for (let p = INDEX_HEADER; p + INDEX_ENTRY <= buf.length && n < max; p += INDEX_ENTRY) {
    if (v.getUint32(p + 20) !== crc32c(buf, p, p + 20)) break;
    const offset = v.getFloat64(p), ts = v.getFloat64(p + 8), pos = v.getUint32(p + 16);
    if (n === 0 ? pos !== 0 || offset < baseOffset : offset <= lastOffset || pos <= lastPos || ts < lastTs) break;
    if (pos >= size || offset >= nextOffset) break;
    add(offset, ts, pos);
    (lastOffset = offset), (lastPos = pos), (lastTs = ts), n++;
  }
  return n;
}
