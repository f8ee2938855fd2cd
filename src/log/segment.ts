// One log segment: a `<baseOffset>.log` file, preallocated (sparse) and memory-mapped, holding whole
// v2 batches back to back. A sparse in-memory index (rebuilt on load) maps offsets and timestamps to
// file positions so lookups walk at most ~indexIntervalBytes of batch headers.
//
// Bun.mmap caveats honoured here: mappings can't be unmapped (dropping the reference lets GC do it),
// empty files can't be mapped, and touching a mapped page past EOF raises SIGBUS. Hence: never read
// at or beyond `size`, and only ever shrink a file to a length >= `size`.
import fs from "node:fs";
import path from "node:path";
import {
  BATCH_LENGTH,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  checkStoredBatch,
  dataView,
  readInt64,
  writeInt64,
} from "../../protocol/records/batch.ts";

export const segmentFileName = (baseOffset: number): string => `${String(baseOffset).padStart(20, "0")}.log`;
export const SEGMENT_FILE_RE = /^(\d{20})\.log$/;

export interface SegmentLoadOptions {
  indexIntervalBytes: number;
  /** Check CRC-32C of every batch (segments that may hold torn or unflushed writes). */
  verifyCrc: boolean;
  /** The active segment: keep an fd, zero anything after the last valid batch, preallocate. */
  active: boolean;
  /** Preallocation size for the active segment. */
  capacity: number;
  now: number;
}

export class Segment {
  readonly baseOffset: number;
  readonly path: string;
  /** Open only while this is the active segment. */
  private fd: number | null;
  private map: Uint8Array;
  private view: DataView;
  /** File length the mapping was made for. */
  private capacity: number;
  /** Logical size: bytes of whole batches; nothing at or past it is ever read. */
  size = 0;
  /** Offset after the last batch (baseOffset when empty). */
  nextOffset: number;
  /** Clock value of the first append (for segment.ms); -1 while empty. */
  firstAppendAt = -1;
  /** Largest batch maxTimestamp (-1 when none) and the position of the first batch carrying it. */
  maxTimestamp = -1;
  maxTimestampPos = -1;

  // Sparse index, one entry per ~indexIntervalBytes: batch baseOffset, its position, and the largest
  // maxTimestamp of all batches BEFORE it (non-decreasing, so binary-searchable for time lookups).
  private idxOffset = new Float64Array(16);
  private idxPos = new Int32Array(16);
  private idxTsBefore = new Float64Array(16);
  private idxCount = 0;
  private lastIndexedPos = 0;
  private runningMaxTs = -Infinity;
  private readonly indexIntervalBytes: number;

  private constructor(file: string, baseOffset: number, fd: number | null, capacity: number, indexIntervalBytes: number) {
    this.path = file;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.fd = fd;
    this.capacity = capacity;
    this.map = capacity > 0 ? Bun.mmap(file) : new Uint8Array(0);
    this.view = dataView(this.map);
    this.indexIntervalBytes = indexIntervalBytes;
  }

  /** A fresh, empty active segment preallocated to `capacity` bytes. */
  static create(dir: string, baseOffset: number, capacity: number, indexIntervalBytes: number): Segment {
    const file = path.join(dir, segmentFileName(baseOffset));
    const fd = fs.openSync(file, "w+");
    fs.ftruncateSync(fd, capacity); // sparse: no blocks until pages are written
    return new Segment(file, baseOffset, fd, capacity, indexIntervalBytes);
  }

  /**
   * Loads an existing file, walking its batches to rebuild the index. Stops at the first zero length,
   * truncated, malformed or (if verifyCrc) CRC-failing batch, or one whose offsets go backwards; all
   * bytes from there on are dropped. Returns null for a non-active segment without any valid batch.
   */
  static load(file: string, baseOffset: number, o: SegmentLoadOptions): Segment | null {
    const fileSize = fs.statSync(file).size;
    if (fileSize === 0 && !o.active) return null;
    const fd = o.active ? fs.openSync(file, "r+") : null;
    if (fileSize === 0) fs.ftruncateSync(fd!, o.capacity);
    const seg = new Segment(file, baseOffset, fd, fileSize || o.capacity, o.indexIntervalBytes);
    const { map, view } = seg;
    let pos = 0;
    for (;;) {
      const size = checkStoredBatch(map, view, pos, fileSize, o.verifyCrc);
      if (size === 0) break;
      const first = readInt64(view, pos);
      if (first < seg.nextOffset) break; // offsets never go backwards: not a batch we wrote
      seg.indexBatch(pos, first, readInt64(view, pos + MAX_TIMESTAMP));
      seg.nextOffset = first + view.getInt32(pos + LAST_OFFSET_DELTA) + 1;
      pos += size;
    }
    seg.size = pos;
    if (o.active) {
      const capacity = Math.max(o.capacity, pos);
      if (pos < fileSize || capacity !== fileSize) {
        // Drop the tail (torn batch, garbage) by shrinking, then re-extend with zeros so appends
        // continue and a later recovery can't mistake stale bytes for batches. Remap at the new size.
        fs.ftruncateSync(fd!, pos);
        fs.ftruncateSync(fd!, capacity);
        seg.remap(capacity);
      }
      if (pos > 0) seg.firstAppendAt = fileBirthTime(file) ?? o.now;
    } else {
      if (pos === 0) return null;
      if (pos < fileSize) fs.truncateSync(file, pos); // never read past pos, so the mapping stays safe
    }
    return seg;
  }

  private remap(capacity: number): void {
    this.capacity = capacity;
    this.map = Bun.mmap(this.path);
    this.view = dataView(this.map);
  }

  /** Free preallocated space left in the active segment. */
  get free(): number {
    return this.capacity - this.size;
  }

  /** Grows the (active) file so `bytes` more fit; existing slices stay valid as the file only grows. */
  ensureFree(bytes: number): void {
    if (this.free >= bytes) return;
    const capacity = this.size + bytes;
    fs.ftruncateSync(this.activeFd(), capacity);
    this.remap(capacity);
  }

  /**
   * Copies already-validated batches to the end, giving them consecutive offsets from firstOffset and
   * the partition's leader epoch. Per batch the length field is written last, so a process killed mid-copy
   * leaves a zero length there and recovery stops cleanly before it. Returns the next offset.
   */
  append(src: Uint8Array, firstOffset: number, now: number, leaderEpoch = 0): number {
    const sv = dataView(src);
    const m = this.map, v = this.view;
    let offset = firstOffset;
    for (let p = 0; p < src.length; ) {
      const size = sv.getInt32(p + BATCH_LENGTH) + LOG_OVERHEAD;
      const dst = this.size;
      writeInt64(v, dst, offset);
      v.setInt32(dst + PARTITION_LEADER_EPOCH, leaderEpoch);
      m.set(src.subarray(p + MAGIC, p + size), dst + MAGIC);
      v.setInt32(dst + BATCH_LENGTH, size - LOG_OVERHEAD);
      this.indexBatch(dst, offset, readInt64(sv, p + MAX_TIMESTAMP));
      this.size = dst + size;
      offset += sv.getInt32(p + LAST_OFFSET_DELTA) + 1;
      p += size;
    }
    if (this.firstAppendAt < 0) this.firstAppendAt = now;
    this.nextOffset = offset;
    return offset;
  }

  private indexBatch(pos: number, baseOffset: number, maxTs: number): void {
    if (this.idxCount === 0 || pos - this.lastIndexedPos >= this.indexIntervalBytes) {
      if (this.idxCount === this.idxPos.length) this.growIndex();
      const i = this.idxCount++;
      this.idxOffset[i] = baseOffset;
      this.idxPos[i] = pos;
      this.idxTsBefore[i] = this.runningMaxTs;
      this.lastIndexedPos = pos;
    }
    if (maxTs > this.runningMaxTs) this.runningMaxTs = maxTs;
    if (maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs;
      this.maxTimestampPos = pos;
    }
  }

  private growIndex(): void {
    const n = this.idxPos.length * 2;
    const o = new Float64Array(n), p = new Int32Array(n), t = new Float64Array(n);
    o.set(this.idxOffset), p.set(this.idxPos), t.set(this.idxTsBefore);
    (this.idxOffset = o), (this.idxPos = p), (this.idxTsBefore = t);
  }

  /** Index entries so far (for tests and stats). */
  get indexEntries(): number {
    return this.idxCount;
  }

  /** Position of the batch containing `offset`, or of the first batch after it; -1 if none here. */
  find(offset: number): number {
    // Last entry with baseOffset <= offset (entry 0 when offset precedes them all).
    let lo = 0, hi = this.idxCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.idxOffset[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const v = this.view;
    for (let pos = this.idxCount ? this.idxPos[lo]! : this.size; pos < this.size; ) {
      if (readInt64(v, pos) + v.getInt32(pos + LAST_OFFSET_DELTA) >= offset) return pos;
      pos += v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD;
    }
    return -1;
  }

  /** Position of the first batch with maxTimestamp >= ts and lastOffset >= minOffset; -1 if none. */
  findByTimestamp(ts: number, minOffset: number): number {
    if (this.size === 0 || this.maxTimestamp < ts) return -1;
    // Last entry whose preceding batches all have maxTimestamp < ts: the answer is at or after it.
    let lo = 0, hi = this.idxCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.idxTsBefore[mid]! < ts) lo = mid;
      else hi = mid - 1;
    }
    let pos = this.idxPos[lo]!;
    if (minOffset > this.idxOffset[lo]!) {
      const p = this.find(minOffset); // skip batches wholly below the log start offset
      if (p < 0) return -1;
      if (p > pos) pos = p;
    }
    const v = this.view;
    for (; pos < this.size; pos += v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD) {
      if (readInt64(v, pos + MAX_TIMESTAMP) >= ts) return pos;
    }
    return -1;
  }

  /**
   * Whole batches from pos, as a view into the mapping (no copy), up to maxBytes — but at least the
   * first batch when minOneBatch, however big (KIP-74).
   */
  slice(pos: number, maxBytes: number, minOneBatch: boolean): Uint8Array {
    const v = this.view;
    let end = pos;
    while (end < this.size) {
      const next = end + v.getInt32(end + BATCH_LENGTH) + LOG_OVERHEAD;
      if (next - pos > maxBytes && !(minOneBatch && end === pos)) break;
      end = next;
    }
    return this.map.subarray(pos, end);
  }

  /** The batch at pos as a view into the mapping. */
  batchAt(pos: number): Uint8Array {
    return this.map.subarray(pos, pos + this.view.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD);
  }

  /** Every batch in the segment, as one view into the mapping (the cleaner and retention read it). */
  contents(): Uint8Array {
    return this.map.subarray(0, this.size);
  }

  /** Base offset of the batch at pos. */
  offsetAt(pos: number): number {
    return readInt64(this.view, pos);
  }

  /** fsync: on Linux this also writes back the dirty pages of the shared mapping. */
  flush(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  /**
   * Stops being the active segment: trims the file to its logical size and hands the fd to an async
   * fsync (closed when it completes, so no other code may close it). onDurable runs after the fsync.
   */
  seal(onDurable: () => void): void {
    const fd = this.activeFd();
    this.fd = null;
    fs.ftruncateSync(fd, this.size);
    fs.fsync(fd, (err) => {
      fs.close(fd, () => {});
      if (!err) onDurable();
    });
  }

  /** Clean close of the active segment: fsync, trim to the logical size, close the fd. */
  closeActive(): void {
    if (this.fd === null) return;
    fs.fsyncSync(this.fd);
    fs.ftruncateSync(this.fd, this.size);
    fs.closeSync(this.fd);
    this.fd = null;
  }

  /** Drops the fd without flushing (the file is about to be deleted). */
  abandon(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private activeFd(): number {
    if (this.fd === null) throw new Error(`segment ${this.path} is not active`);
    return this.fd;
  }
}

function fileBirthTime(file: string): number | null {
  const t = fs.statSync(file).birthtimeMs;
  return t > 0 ? t : null;
}
