// One log segment: `<baseOffset>.log` holding whole v2 batches back to back, and `<baseOffset>.index`,
// its sparse offset/time index (index-file.ts). Appends are pwrite(2)s, so a full disk is an ENOSPC
// error and never a SIGBUS; reads are views of a read-only use of a shared mapping (Bun.mmap), so
// fetches are served without copies.
//
// Everything is opened lazily: a segment restored from a checkpoint has its summary (size, offsets,
// timestamps) and nothing else until something reads it (mapping, index) or appends to it (fd, index).
// That keeps a restart with thousands of partitions free of per-segment I/O, and the number of open
// files and mappings bounded: the least recently used ones are let go when a budget is exceeded.
//
// Appends grow the file with the data. To read the active segment, its file is extended ahead of the
// data (ftruncate, sparse: no blocks until written) to a window that one mapping covers across many
// appends; the window is trimmed when the segment is sealed and never holds anything but zeros.
//
// Bun.mmap caveats honoured here: mappings can't be unmapped (dropping the reference lets GC do it),
// empty files can't be mapped, and touching a mapped page past EOF raises SIGBUS. Hence: never read
// at or beyond `size`, and only ever shrink a file below a mapping's length when nothing reads there.
import fs from "node:fs";
import path from "node:path";
import {
  BATCH_LENGTH,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  PRODUCER_ID,
  checkStoredBatch,
  dataView,
  readInt64,
  writeInt64,
} from "../../protocol/records/batch.ts";
import {
  INDEX_ENTRY,
  INDEX_HEADER,
  INDEX_SUFFIX,
  decodeEntries,
  decodeHeader,
  encodeEntries,
  encodeHeader,
  type IndexHeader,
  type SegmentSummary,
} from "./index-file.ts";
import { mapCountLimit, openFileLimit } from "./os.ts";
import { StorageError } from "./storage-error.ts";

export const segmentFileName = (baseOffset: number): string => `${String(baseOffset).padStart(20, "0")}.log`;
export const SEGMENT_FILE_RE = /^(\d{20})\.log$/;
export const indexPathOf = (logPath: string): string => logPath.slice(0, -".log".length) + INDEX_SUFFIX;

/**
 * What recovery and lazy loading read: a clean restart must leave the record counters at zero (tests
 * assert it; an operator can read them).
 */
export const logReadStats = {
  /** record data walked by recovery or by an index rebuild */
  recordBytesScanned: 0,
  batchesScanned: 0,
  /** indexes rebuilt (in whole or in part) from the log because the file was missing, torn or short */
  indexesRebuilt: 0,
  /** index files read */
  indexFilesLoaded: 0,
  /** segment mappings made */
  mappingsCreated: 0,
};

/** The mapping window of an active segment reaches at least this far past its data. */
const MIN_WINDOW = 1 << 20;
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
const NO_F64 = new Float64Array(0);
const NO_I32 = new Int32Array(0);
/** Read buffer of walks, shared (everything here is synchronous); grows for a bigger batch. */
let walkBuffer = new Uint8Array(1 << 20);
let walkView = dataView(walkBuffer);
/**
 * A walk's first read is small and each next one twice as big (up to the buffer): after a crash most
 * tails are short, and past the end of a read window's file lie holes, which cost page-cache pages.
 */
const FIRST_WALK_READ = 64 << 10;

/** A segment's summary as the log's checkpoint keeps it. */
export interface SegmentMeta extends SegmentSummary {
  baseOffset: number;
  /** clock value of the first append (segment.ms); -1 while empty */
  firstAppendAt: number;
  /** entries known to be in the index file (a sealed file's header says it itself) */
  indexEntries: number;
  /** position of the last index entry (-1 when none) */
  lastIndexedPos: number;
  /** entries after those in the file, kept in the checkpoint instead: [offset, tsBefore, position]... */
  indexTail: number[];
}

/** At most this many index entries travel in the checkpoint; more are written to the index file. */
export const INLINE_INDEX_ENTRIES = 16;

export interface RecoverOptions {
  sealed: boolean;
  /** check the CRC-32C of every batch walked (anything that may hold torn or unflushed writes) */
  verifyCrc: boolean;
  /** trusted state of a prefix of the file (a checkpoint): only what follows it is walked */
  trusted?: SegmentMeta | null;
  capacity: number;
  indexIntervalBytes: number;
  now: number;
  /** the segment's range reaches at least this far (a cleaned segment whose last batch was dropped) */
  minNextOffset?: number;
  /** a walked sealed segment's index file is written later (writeSealedIndexAsync) */
  deferIndexWrite?: boolean;
}

// ---- budgets for open files and mappings ---------------------------------------------------------

let useClock = 0;

/**
 * Segments holding a resource; beyond the limit the least recently used let go of it, down to seven
 * eighths of the limit (so the sort is rare).
 */
class Budget {
  readonly members = new Set<Segment>();
  constructor(
    public limit: number,
    private readonly lastUse: (s: Segment) => number,
    private readonly release: (s: Segment) => void,
  ) {}
  add(s: Segment): void {
    this.members.add(s);
    if (this.members.size <= this.limit) return;
    const target = this.limit - (this.limit >> 3);
    for (const v of [...this.members].sort((a, b) => this.lastUse(a) - this.lastUse(b))) {
      if (this.members.size <= target) break;
      if (v !== s) this.release(v); // which takes it out of the set
    }
  }
}

// Half of each limit: connections, the runtime and the other logs' files need the rest.
const fdBudget = new Budget(Math.max(64, openFileLimit() >> 1), (s) => s.lastAppendUse, (s) => s.closeFd());
const mapBudget = new Budget(Math.max(256, mapCountLimit() >> 1), (s) => s.lastReadUse, (s) => s.dropMap());

/** Overrides the budgets (tests); returns the limits in force before and the current counts. */
export function segmentBudgets(limits: { openFiles?: number; mappings?: number } = {}): {
  openFiles: number;
  mappings: number;
  limits: { openFiles: number; mappings: number };
} {
  const before = { openFiles: fdBudget.limit, mappings: mapBudget.limit };
  if (limits.openFiles !== undefined) fdBudget.limit = limits.openFiles;
  if (limits.mappings !== undefined) mapBudget.limit = limits.mappings;
  return { openFiles: fdBudget.members.size, mappings: mapBudget.members.size, limits: before };
}

export class Segment {
  readonly baseOffset: number;
  readonly path: string;
  readonly indexPath: string;
  /** Logical size: bytes of whole batches; nothing at or past it is ever read. */
  size = 0;
  /** Offset after the last batch (baseOffset when empty). */
  nextOffset: number;
  /** Clock value of the first append (for segment.ms); -1 while empty. */
  firstAppendAt = -1;
  /** Largest batch maxTimestamp (-1 when none) and the position of the first batch carrying it. */
  maxTimestamp = -1;
  maxTimestampPos = -1;
  lastAppendUse = 0;
  lastReadUse = 0;
  /** recovery walked a batch with a producer id (so a producer-state snapshot from before it is stale) */
  walkedProducerIds = false;
  /** bytes recovery cut off that were not zeros: a write cut short or damage (for its warning) */
  cutBytes = 0;

  private sealed: boolean;
  /** segment.bytes when this segment was made active: the window's upper bound */
  private capacity: number;
  private readonly indexIntervalBytes: number;
  /** the append fd (active segment only, opened on demand) */
  private fd: number | null = null;
  private fileExists: boolean;
  /** the file's length as last set or seen (active: the window, at least `size`) */
  private fileLength: number;
  private map: Uint8Array | null = null;
  private view: DataView = EMPTY_VIEW;
  /** appended since the last fsync */
  private unsynced = false;

  // Sparse index, one entry per ~indexIntervalBytes: batch baseOffset, its position, and the largest
  // maxTimestamp of all batches BEFORE it (non-decreasing, so binary-searchable for time lookups).
  private idxLoaded: boolean;
  // Allocated on the first entry: thousands of segments restored from a checkpoint may never need one.
  private idxOffset = NO_F64;
  private idxPos = NO_I32;
  private idxTsBefore = NO_F64;
  private idxCount = 0;
  private lastIndexedPos = -1;
  private runningMaxTs = -Infinity;
  /** entries of the in-memory index known to be in the index file, and whether its header is */
  private idxPersisted = 0;
  private idxHeaderWritten = false;
  /** entries the file is expected to hold when loaded lazily (sealed: from its header) */
  private idxExpected = 0;
  /** while the index is not loaded: entries after the file's ([offset, tsBefore, position]...) */
  private pending: number[] = [];
  private idxWrite: Promise<number> | null = null;
  /** sealed or closed: background index writes stop */
  private retired = false;
  /** a sealed segment's metaJson() (reset whenever its index bookkeeping changes) */
  private metaJsonCache: string | null = null;

  private constructor(file: string, baseOffset: number, o: { sealed: boolean; capacity: number; indexIntervalBytes: number; exists: boolean; length: number; indexLoaded: boolean }) {
    this.path = file;
    this.indexPath = indexPathOf(file);
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.sealed = o.sealed;
    this.capacity = o.capacity;
    this.indexIntervalBytes = o.indexIntervalBytes;
    this.fileExists = o.exists;
    this.fileLength = o.length;
    this.idxLoaded = o.indexLoaded;
  }

  /** A fresh, empty active segment. Its file is created by the first append. */
  static create(dir: string, baseOffset: number, capacity: number, indexIntervalBytes: number): Segment {
    return new Segment(path.join(dir, segmentFileName(baseOffset)), baseOffset, {
      sealed: false,
      capacity,
      indexIntervalBytes,
      exists: false,
      length: 0,
      indexLoaded: true,
    });
  }

  /** A segment known from a trustworthy summary (a clean shutdown's checkpoint): nothing is read now. */
  static fromMeta(file: string, meta: SegmentMeta, o: { sealed: boolean; capacity: number; indexIntervalBytes: number }): Segment {
    const seg = new Segment(file, meta.baseOffset, { ...o, exists: meta.size > 0, length: meta.size, indexLoaded: false });
    seg.applyMeta(meta);
    return seg;
  }

  /** The header of a segment's index file, or null (missing, torn, another segment's). */
  static readIndexHeader(file: string, baseOffset: number): IndexHeader | null {
    let fd: number;
    try {
      fd = fs.openSync(indexPathOf(file), "r");
    } catch {
      return null;
    }
    try {
      const buf = new Uint8Array(INDEX_HEADER);
      return fs.readSync(fd, buf, 0, INDEX_HEADER, 0) === INDEX_HEADER ? decodeHeader(buf, baseOffset) : null;
    } catch {
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Recovery: takes the trusted prefix as it is (a checkpoint's summary; its index stays on disk until
   * needed) and walks the rest of the file, stopping at the first zero length, truncated, malformed or
   * (if verifyCrc) CRC-failing batch, or one whose offsets go backwards; all bytes from there on are
   * dropped. Returns null for a sealed segment without any valid batch.
   */
  static recover(file: string, baseOffset: number, o: RecoverOptions): Segment | null {
    const fd = fs.openSync(file, "r+");
    try {
      const fileSize = fs.fstatSync(fd).size;
      if (fileSize === 0 && o.sealed) return null;
      const seg = new Segment(file, baseOffset, { sealed: o.sealed, capacity: o.capacity, indexIntervalBytes: o.indexIntervalBytes, exists: true, length: fileSize, indexLoaded: true });
      let pos = 0;
      if (o.trusted && o.trusted.size <= fileSize) {
        // The index file is left for later: what the walk adds waits with the checkpoint's inline entries.
        seg.idxLoaded = false;
        seg.applyMeta(o.trusted);
        pos = o.trusted.size;
      } else if (!o.sealed) {
        truncateIndex(seg.indexPath, 0); // rebuilt from scratch by the walk
      }
      const walked = seg.walk(fd, pos, fileSize, o.verifyCrc, true);
      seg.walkedProducerIds = walked.producerIds;
      pos = walked.end;
      seg.size = pos;
      if (o.sealed && pos === 0) return null;
      // Garbage after the data (a torn batch) is cut off, so that nothing but zeros ever follows it and a
      // later recovery can't mistake stale bytes for batches; zeros (the active segment's unused window)
      // can stay. A sealed segment ends at its data.
      if (pos < fileSize && (o.sealed || !walked.zeroAfter)) {
        fs.ftruncateSync(fd, pos);
        seg.fileLength = pos;
        if (!walked.zeroAfter) seg.cutBytes = fileSize - pos;
      }
      if (o.minNextOffset !== undefined && o.minNextOffset > seg.nextOffset) seg.nextOffset = o.minNextOffset;
      if (o.sealed) {
        try {
          if (!o.deferIndexWrite) seg.writeSealedIndex();
        } catch {
          // rebuilt from the log when next loaded
        }
      } else if (pos > 0 && seg.firstAppendAt < 0) seg.firstAppendAt = fileBirthTime(file) ?? o.now;
      return seg;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Takes a summary as it is; the index stays unloaded (the file's entries, then the inline ones). */
  private applyMeta(m: SegmentMeta): void {
    this.size = m.size;
    this.nextOffset = m.nextOffset;
    this.maxTimestamp = m.maxTimestamp;
    this.maxTimestampPos = m.maxTimestampPos;
    this.firstAppendAt = m.firstAppendAt;
    this.idxExpected = m.indexEntries;
    this.pending = m.indexTail.slice();
    this.lastIndexedPos = m.lastIndexedPos;
    // The largest timestamp so far is the segment's, by definition.
    this.runningMaxTs = m.size > 0 ? m.maxTimestamp : -Infinity;
  }

  /** The summary for the log's checkpoint. */
  meta(): SegmentMeta {
    return {
      baseOffset: this.baseOffset,
      size: this.size,
      nextOffset: this.nextOffset,
      maxTimestamp: this.maxTimestamp,
      maxTimestampPos: this.maxTimestampPos,
      firstAppendAt: this.firstAppendAt,
      indexEntries: this.idxLoaded ? this.idxPersisted : this.idxExpected,
      lastIndexedPos: this.lastIndexedPos,
      indexTail: this.idxLoaded ? this.unpersistedEntries() : this.pending.slice(),
    };
  }

  /** meta() as the checkpoint's JSON array (a sealed segment's is kept: it rarely changes). */
  metaJson(): string {
    if (this.sealed && this.metaJsonCache !== null) return this.metaJsonCache;
    const json = segmentMetaJson(this.meta());
    if (this.sealed) this.metaJsonCache = json;
    return json;
  }

  private unpersistedEntries(): number[] {
    const out: number[] = [];
    for (let i = this.idxPersisted; i < this.idxCount; i++) out.push(this.idxOffset[i]!, this.idxTsBefore[i]!, this.idxPos[i]!);
    return out;
  }

  /** Index entries the checkpoint would have to carry inline. */
  get unpersistedIndexEntries(): number {
    return this.idxLoaded ? this.idxCount - this.idxPersisted : this.pending.length / 3;
  }

  get isSealed(): boolean {
    return this.sealed;
  }

  /**
   * Walks batches from `from` to `end` reading the file (no mapping: recovery may touch thousands of
   * segments once), adding them to the index. `recovering`: the walk decides the segment's extent
   * (offsets must not go backwards; nextOffset follows); otherwise the extent is known and only the
   * index is rebuilt. Returns the position after the last good batch, whether only zeros (or the end
   * of the file) follow it, and whether any batch had a producer id.
   */
  private walk(fd: number, from: number, end: number, verifyCrc: boolean, recovering: boolean): { end: number; zeroAfter: boolean; producerIds: boolean } {
    let buf = walkBuffer;
    let view = walkView;
    let bufStart = from, bufLen = 0, chunk = FIRST_WALK_READ;
    const fill = (at: number, need: number) => {
      if (need > buf.length) {
        buf = walkBuffer = new Uint8Array(1 << Math.ceil(Math.log2(need)));
        view = walkView = dataView(buf);
      }
      bufStart = at;
      bufLen = fs.readSync(fd, buf, 0, Math.min(Math.max(chunk, need), buf.length, end - at), at);
      chunk = Math.min(chunk * 2, buf.length);
    };
    let pos = from, producerIds = false, zeroAfter = true;
    while (pos < end) {
      if (pos + HEADER_SIZE > bufStart + bufLen) fill(pos, HEADER_SIZE);
      let rel = pos - bufStart;
      if (bufLen - rel < HEADER_SIZE) {
        zeroAfter = buf.subarray(rel, bufLen).every((b) => b === 0);
        break;
      }
      const size = view.getInt32(rel + BATCH_LENGTH) + LOG_OVERHEAD;
      if (size < HEADER_SIZE || size > end - pos) {
        zeroAfter = buf.subarray(rel, rel + LOG_OVERHEAD).every((b) => b === 0);
        break;
      }
      if (rel + size > bufLen) {
        fill(pos, size);
        rel = 0;
      }
      if (checkStoredBatch(buf, view, rel, rel + size, verifyCrc) === 0) {
        zeroAfter = false;
        break;
      }
      const first = readInt64(view, rel);
      if (recovering && first < this.nextOffset) {
        zeroAfter = false; // offsets never go backwards: not a batch we wrote
        break;
      }
      if (view.getInt32(rel + PRODUCER_ID) >= 0) producerIds = true;
      this.indexBatch(pos, first, readInt64(view, rel + MAX_TIMESTAMP));
      if (recovering) this.nextOffset = first + view.getInt32(rel + LAST_OFFSET_DELTA) + 1;
      pos += size;
      logReadStats.batchesScanned++;
    }
    logReadStats.recordBytesScanned += pos - from;
    return { end: pos, zeroAfter, producerIds };
  }

  // ---- the index ----------------------------------------------------------------------------------

  /**
   * Loads the index file (entries inside the segment's current extent), then the entries that waited
   * in memory, and rebuilds from the log what is missing: a sealed segment's file must match its header
   * exactly, an active one must hold at least `expected` entries (what the checkpoint saw written).
   */
  private loadIndex(expected: number, fd?: number): void {
    this.metaJsonCache = null;
    const pending = this.pending;
    this.pending = [];
    this.idxCount = 0;
    this.idxLoaded = true;
    let buf: Uint8Array | null = null;
    try {
      buf = fs.readFileSync(this.indexPath);
      logReadStats.indexFilesLoaded++;
    } catch {
      // missing: rebuilt below
    }
    let header = buf ? decodeHeader(buf, this.baseOffset) : null;
    // A sealed header describing another extent belongs to an earlier version of the file.
    if (header?.sealed && (header.summary.size !== this.size || header.summary.nextOffset !== this.nextOffset)) header = null;
    if (header && buf!.length > INDEX_HEADER) this.reserveIndex(Math.floor((buf!.length - INDEX_HEADER) / INDEX_ENTRY) + pending.length / 3 + 16);
    // The inline entries follow exactly `expected` entries of the file.
    const max = header?.sealed ? header.count : pending.length > 0 ? expected : Infinity;
    const n = header ? decodeEntries(buf!, this.baseOffset, this.size, this.nextOffset, max, (offset, ts, pos) => this.pushEntry(offset, pos, ts)) : 0;
    const complete = this.sealed ? header?.sealed === true && n === header.count : (header !== null || expected === 0) && n >= expected;
    const fileEntries = buf && buf.length > INDEX_HEADER ? Math.floor((buf.length - INDEX_HEADER) / INDEX_ENTRY) : 0;
    this.idxHeaderWritten = header !== null && !header.sealed && !this.sealed;
    this.idxPersisted = this.idxHeaderWritten ? n : 0;
    // An active segment's file grows by appending entries after the good ones: cut what follows them.
    if (!this.sealed && buf && (this.idxHeaderWritten ? fileEntries > n : buf.length > 0)) truncateIndex(this.indexPath, this.idxHeaderWritten ? INDEX_HEADER + n * INDEX_ENTRY : 0);
    if (this.size === 0) return;
    if (complete) {
      // Entries the file already holds are not taken twice: a summary from when the segment was active
      // (its entries inline) meets the complete index file written when it was sealed.
      const lastPos = this.idxCount > 0 ? this.idxPos[this.idxCount - 1]! : -1;
      for (let i = 0; i < pending.length; i += 3) if (pending[i + 2]! > lastPos) this.pushEntry(pending[i]!, pending[i + 2]!, pending[i + 1]!);
      this.lastIndexedPos = this.idxPos[this.idxCount - 1]!;
      return;
    }
    // Missing, torn or short: walk from the last good entry (everything in the extent is trusted).
    const from = n === 0 ? 0 : this.idxPos[n - 1]!;
    this.lastIndexedPos = from;
    this.runningMaxTs = n === 0 ? -Infinity : this.idxTsBefore[n - 1]!;
    const ownFd = fd === undefined ? fs.openSync(this.path, "r") : fd;
    let reached: number;
    try {
      reached = this.walk(ownFd, from, this.size, false, false).end;
    } finally {
      if (fd === undefined) fs.closeSync(ownFd);
    }
    logReadStats.indexesRebuilt++;
    if (reached < this.size) throw new StorageError(`${this.path} is corrupt at byte ${reached} (its index could not be rebuilt past it)`, this.path, false);
    if (this.sealed) {
      try {
        this.writeSealedIndex();
      } catch {
        // rebuilt again next time
      }
    }
  }

  private ensureIndex(): void {
    if (!this.idxLoaded) this.loadIndex(this.idxExpected);
  }

  private pushEntry(offset: number, pos: number, tsBefore: number): void {
    if (this.idxCount === this.idxPos.length) this.growIndex();
    const i = this.idxCount++;
    this.idxOffset[i] = offset;
    this.idxPos[i] = pos;
    this.idxTsBefore[i] = tsBefore;
  }

  private indexBatch(pos: number, baseOffset: number, maxTs: number): void {
    const entries = this.idxLoaded ? this.idxCount : this.idxExpected + this.pending.length / 3;
    if (entries === 0 || pos - this.lastIndexedPos >= this.indexIntervalBytes) {
      if (this.idxLoaded) this.pushEntry(baseOffset, pos, this.runningMaxTs);
      else this.pending.push(baseOffset, this.runningMaxTs, pos);
      this.lastIndexedPos = pos;
    }
    if (maxTs > this.runningMaxTs) this.runningMaxTs = maxTs;
    if (maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs;
      this.maxTimestampPos = pos;
    }
  }

  private growIndex(): void {
    this.reserveIndex(Math.max(16, this.idxPos.length * 2));
  }

  private reserveIndex(n: number): void {
    if (n <= this.idxPos.length) return;
    const o = new Float64Array(n), p = new Int32Array(n), t = new Float64Array(n);
    o.set(this.idxOffset), p.set(this.idxPos), t.set(this.idxTsBefore);
    (this.idxOffset = o), (this.idxPos = p), (this.idxTsBefore = t);
  }

  /** Index entries so far (for tests and stats). */
  get indexEntries(): number {
    this.ensureIndex();
    return this.idxCount;
  }

  private summary(): SegmentSummary {
    return { size: this.size, nextOffset: this.nextOffset, maxTimestamp: this.maxTimestamp, maxTimestampPos: this.maxTimestampPos };
  }

  /** The whole index file of a sealed segment: header with the summary, then every entry. */
  private sealedIndexBytes(): Uint8Array {
    const entries = encodeEntries(this.idxOffset, this.idxTsBefore, this.idxPos, 0, this.idxCount);
    const out = new Uint8Array(INDEX_HEADER + entries.length);
    out.set(encodeHeader(this.baseOffset, true, this.summary(), this.idxCount));
    out.set(entries, INDEX_HEADER);
    return out;
  }

  /**
   * Writes a sealed segment's index file (no fsync), through a temporary file renamed over the old one,
   * so a checkpoint's write still in flight to the active index lands in the unlinked old file. Returns
   * the new file's fd when keepOpen.
   */
  writeSealedIndex(keepOpen = false): number | null {
    this.ensureIndex();
    const tmp = this.indexPath + ".tmp";
    const fd = fs.openSync(tmp, "w");
    try {
      writeFully(fd, this.sealedIndexBytes(), 0);
      fs.renameSync(tmp, this.indexPath);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    this.idxPersisted = this.idxCount;
    this.idxHeaderWritten = true;
    this.metaJsonCache = null;
    if (keepOpen) return fd;
    fs.closeSync(fd);
    return null;
  }

  /** writeSealedIndex off the event loop (the cleaner's rewritten segments). Never rejects. */
  async writeSealedIndexAsync(): Promise<void> {
    this.ensureIndex();
    const tmp = this.indexPath + ".tmp";
    try {
      await fs.promises.writeFile(tmp, this.sealedIndexBytes());
      await fs.promises.rename(tmp, this.indexPath);
      this.idxPersisted = this.idxCount;
      this.idxHeaderWritten = true;
      this.metaJsonCache = null;
    } catch {
      await fs.promises.rm(tmp, { force: true }).catch(() => {});
    }
  }

  /** Entries of the active segment not yet in its index file, as [position, bytes] writes. */
  private indexTail(): { writes: [number, Uint8Array][]; upTo: number } | null {
    if (!this.idxLoaded || this.sealed) return null;
    const from = this.idxPersisted, to = this.idxCount;
    if (from === to && this.idxHeaderWritten) return null;
    const writes: [number, Uint8Array][] = [];
    if (!this.idxHeaderWritten) writes.push([0, encodeHeader(this.baseOffset, false, this.summary(), 0)]);
    if (to > from) writes.push([INDEX_HEADER + from * INDEX_ENTRY, encodeEntries(this.idxOffset, this.idxTsBefore, this.idxPos, from, to)]);
    return { writes, upTo: to };
  }

  /** Writes the active segment's new index entries now (clean close). */
  persistIndexSync(): void {
    const tail = this.indexTail();
    if (!tail) return;
    const fd = fs.openSync(this.indexPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    try {
      for (const [at, bytes] of tail.writes) writeFully(fd, bytes, at);
    } finally {
      fs.closeSync(fd);
    }
    this.idxPersisted = tail.upTo;
    this.idxHeaderWritten = true;
  }

  /**
   * For a checkpoint: starts writing the index entries it should not carry inline (more than a few);
   * null when they fit inline (or a write is under way).
   */
  checkpointIndexWrite(): Promise<number> | null {
    if (this.sealed || this.retired || this.unpersistedIndexEntries <= INLINE_INDEX_ENTRIES) return null;
    this.ensureIndex();
    return this.persistIndexAsync();
  }

  /**
   * Writes the active segment's new index entries in the background (checkpoints). Resolves with the
   * number of entries the file then holds; null when there is nothing to write (or a write is under way).
   */
  persistIndexAsync(): Promise<number> | null {
    if (this.idxWrite || this.retired) return null;
    const tail = this.indexTail();
    if (!tail) return null;
    const file = this.indexPath;
    const write = (async () => {
      const h = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
      try {
        for (const [at, bytes] of tail.writes) {
          for (let done = 0; done < bytes.length; ) {
            // Sealing replaces the file and closing writes it itself: stop here once either happened.
            if (this.retired) return this.idxPersisted;
            done += (await h.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
          }
        }
      } finally {
        await h.close();
      }
      if (!this.retired) {
        this.idxPersisted = Math.max(this.idxPersisted, tail.upTo);
        this.idxHeaderWritten = true;
      }
      return tail.upTo;
    })().finally(() => {
      this.idxWrite = null;
    });
    this.idxWrite = write;
    return write;
  }

  // ---- the file and its mapping -------------------------------------------------------------------

  /**
   * The mapping (made on demand), covering at least `size` bytes. Bun.mmap maps the file's length, so
   * for the active segment — read as it grows, by consumers at the log end — the file is first extended
   * (sparse) to a window ahead of the data, doubling up to segment.bytes: one mapping then serves many
   * appends. Appends alone never extend the file past the data, so recovery after a crash reads no
   * holes for partitions nobody was reading.
   */
  private mapping(): Uint8Array {
    this.lastReadUse = ++useClock;
    if (this.map && this.map.length >= this.size) return this.map;
    if (!this.fileExists || this.size === 0) return EMPTY;
    if (this.map) this.dropMap();
    if (!this.sealed) {
      const fd = this.appendFd(); // (an fd opened now also learns the file's actual length)
      if (this.fileLength < Math.min(this.size * 2, this.capacity)) {
        const window = Math.max(this.size, Math.min(Math.max(this.size * 2, this.size + MIN_WINDOW), this.capacity));
        fs.ftruncateSync(fd, window);
        this.fileLength = window;
      }
    }
    let m: Uint8Array;
    try {
      m = Bun.mmap(this.path);
    } catch (e) {
      throw new StorageError(`${this.path} cannot be mapped (${(e as Error).message}); the log recorded ${this.size} bytes in it`, this.path, false);
    }
    logReadStats.mappingsCreated++;
    if (m.length < this.size)
      throw new StorageError(`${this.path} holds ${m.length} bytes, fewer than the ${this.size} the log recorded`, this.path, false);
    this.map = m;
    this.view = dataView(m);
    mapBudget.add(this);
    return m;
  }

  /** Lets go of the mapping (views handed out stay valid; GC unmaps once they are gone). */
  dropMap(): void {
    if (!this.map) return;
    this.map = null;
    this.view = EMPTY_VIEW;
    mapBudget.members.delete(this);
  }

  private appendFd(): number {
    this.lastAppendUse = ++useClock;
    if (this.fd !== null) return this.fd;
    // A file that holds data is never created here: gone is an error, not an empty segment.
    const known = this.fileExists && this.size > 0;
    let fd: number;
    try {
      fd = fs.openSync(this.path, known ? fs.constants.O_RDWR : fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    } catch (e) {
      if (!known) throw e;
      throw new StorageError(`${this.path} cannot be opened (${(e as Error).message}); the log recorded ${this.size} bytes in it`, this.path, false);
    }
    this.fileLength = this.fileExists ? fs.fstatSync(fd).size : 0;
    if (this.fileLength < this.size) {
      fs.closeSync(fd);
      throw new StorageError(`${this.path} holds ${this.fileLength} bytes, fewer than the ${this.size} the log recorded`, this.path, false);
    }
    this.fileExists = true;
    this.fd = fd;
    fdBudget.add(this);
    return fd;
  }

  /** Closes the append fd (it is reopened on demand; the data is in the page cache). */
  closeFd(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fdBudget.members.delete(this);
    fs.closeSync(fd);
  }

  /**
   * Appends already-validated batches, giving them consecutive offsets from firstOffset and the
   * partition's leader epoch (stamped into `src` in place, as Kafka assigns offsets in the request's
   * buffer). One pwrite: on ENOSPC (or any error) nothing of it counts and the error is thrown.
   * Returns the next offset.
   */
  append(src: Uint8Array, firstOffset: number, now: number, leaderEpoch = 0): number {
    this.ensureIndex();
    const fd = this.appendFd();
    const dst = this.size;
    const end = dst + src.length;
    const lengthBefore = this.fileLength;
    const sv = dataView(src);
    let offset = firstOffset;
    for (let p = 0; p < src.length; p += sv.getInt32(p + BATCH_LENGTH) + LOG_OVERHEAD) {
      writeInt64(sv, p, offset);
      sv.setInt32(p + PARTITION_LEADER_EPOCH, leaderEpoch);
      offset += sv.getInt32(p + LAST_OFFSET_DELTA) + 1;
    }
    try {
      writeFully(fd, src, dst);
    } catch (e) {
      this.discardAfter(fd, dst, lengthBefore);
      throw e;
    }
    if (end > this.fileLength) this.fileLength = end;
    for (let p = 0; p < src.length; p += sv.getInt32(p + BATCH_LENGTH) + LOG_OVERHEAD) {
      this.indexBatch(dst + p, readInt64(sv, p), readInt64(sv, p + MAX_TIMESTAMP));
    }
    this.size = end;
    this.nextOffset = offset;
    this.unsynced = true;
    if (this.firstAppendAt < 0) this.firstAppendAt = now;
    return offset;
  }

  /** Zeroes whatever a failed write left past `pos` (shrink, then back to the length it had: no space needed). */
  private discardAfter(fd: number, pos: number, length: number): void {
    try {
      fs.ftruncateSync(fd, pos);
      if (length > pos) fs.ftruncateSync(fd, length);
    } catch {
      // recovery stops at the torn bytes anyway (CRC), and the next append overwrites them
    }
  }

  /** A raised segment.bytes applies to the active segment's window from now on. */
  setCapacity(capacity: number): void {
    this.capacity = capacity;
  }

  // ---- reads --------------------------------------------------------------------------------------

  /** Position of the batch containing `offset`, or of the first batch after it; -1 if none here. */
  find(offset: number): number {
    if (this.size === 0) return -1;
    this.ensureIndex();
    // Last entry with baseOffset <= offset (entry 0 when offset precedes them all).
    let lo = 0, hi = this.idxCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.idxOffset[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.mapping();
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
    this.ensureIndex();
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
    this.mapping();
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
    const map = this.mapping();
    const v = this.view;
    let end = pos;
    while (end < this.size) {
      const next = end + v.getInt32(end + BATCH_LENGTH) + LOG_OVERHEAD;
      if (next - pos > maxBytes && !(minOneBatch && end === pos)) break;
      end = next;
    }
    return map.subarray(pos, end);
  }

  /** The batch at pos as a view into the mapping. */
  batchAt(pos: number): Uint8Array {
    const map = this.mapping();
    return map.subarray(pos, pos + this.view.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD);
  }

  /** Every batch in the segment, as one view into the mapping (the cleaner and retention read it). */
  contents(): Uint8Array {
    if (this.size === 0) return EMPTY;
    return this.mapping().subarray(0, this.size);
  }

  /** Base offset of the batch at pos. */
  offsetAt(pos: number): number {
    this.mapping();
    return readInt64(this.view, pos);
  }

  // ---- durability and lifecycle -------------------------------------------------------------------

  /** fsync the active segment's data, if anything was appended since the last one. */
  flush(): void {
    if (this.sealed || !this.unsynced) return;
    fs.fsyncSync(this.appendFd());
    this.unsynced = false;
  }

  /** Everything appended is on disk (a syncfs of the whole volume covered it). */
  markSynced(): void {
    this.unsynced = false;
  }

  /**
   * Stops being the active segment: trims the file to the data, writes the sealed index, and fsyncs
   * both in the background. The promise (which never rejects) says whether the fsyncs succeeded.
   */
  seal(): Promise<boolean> {
    this.ensureIndex();
    let fd = this.fd;
    if (fd === null && this.fileExists) {
      fd = fs.openSync(this.path, "r+");
      this.fileLength = fs.fstatSync(fd).size;
    }
    if (fd !== null && this.fileLength !== this.size) fs.ftruncateSync(fd, this.size);
    if (this.fd !== null) fdBudget.members.delete(this);
    this.fd = null;
    this.fileLength = this.size;
    this.sealed = true;
    this.retired = true;
    this.unsynced = false;
    this.metaJsonCache = null;
    let indexFd: number | null = null;
    try {
      indexFd = this.writeSealedIndex(true);
    } catch {
      // rebuilt from the log when next loaded
    }
    const fsync = (f: number | null) =>
      f === null ? Promise.resolve(true) : new Promise<boolean>((resolve) => fs.fsync(f, (err) => fs.close(f, () => resolve(!err))));
    return Promise.all([fsync(fd), fsync(indexFd)]).then(([a, b]) => a && b);
  }

  /**
   * Clean close of the active segment: fd closed, new index entries written (unless the checkpoint can
   * carry them inline). The file keeps its window (zeros past the data): trimming costs a journal
   * commit per file, and the checkpoint records the size.
   */
  closeActive(): void {
    if (this.sealed) return;
    this.retired = true;
    if (this.unpersistedIndexEntries > INLINE_INDEX_ENTRIES) {
      this.ensureIndex();
      this.persistIndexSync();
    }
    this.closeFd();
    this.dropMap();
  }

  /** Appended to since the last fsync. */
  get hasUnsyncedData(): boolean {
    return this.unsynced;
  }

  /** fsync the segment's files by path (a clean close where no volume-wide sync was done). */
  fsyncFile(): void {
    for (const f of [this.path, this.indexPath]) {
      let fd: number;
      try {
        fd = fs.openSync(f, "r");
      } catch {
        continue;
      }
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    this.unsynced = false;
  }

  /** Lets go of the fd and mapping without flushing (the file is deleted or replaced). */
  release(): void {
    this.retired = true;
    this.closeFd();
    this.dropMap();
  }
}

function writeFully(fd: number, data: Uint8Array, position: number): void {
  for (let done = 0; done < data.length; ) {
    const n = fs.writeSync(fd, data, done, data.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error(`short write at ${position + done}`), { code: "EIO" });
    done += n;
  }
}

/**
 * A segment summary as the checkpoint stores it: [base, size, next offset, max timestamp, its position,
 * first append, index entries in the file, last entry's position, [inline entries]]. The inline entries
 * are deltas from the entry before them (the first one absolute), which keeps the numbers short: JSON
 * of thousands of partitions is assembled on the event loop.
 */
export function segmentMetaJson(m: SegmentMeta): string {
  return `[${m.baseOffset},${m.size},${m.nextOffset},${m.maxTimestamp},${m.maxTimestampPos},${m.firstAppendAt},${m.indexEntries},${m.lastIndexedPos},[${encodeIndexTail(m.indexTail).map(String).join(",")}]]`;
}

/**
 * [offset, tsBefore, position]... as deltas from the previous entry; a timestamp after -Infinity (the
 * first entry's "largest before it", which JSON cannot say: null) is absolute.
 */
function encodeIndexTail(t: number[]): (number | null)[] {
  const out: (number | null)[] = new Array(t.length);
  for (let i = 0; i < t.length; i += 3) {
    const ts = t[i + 1]!;
    if (i === 0) (out[0] = t[0]!), (out[1] = ts === -Infinity ? null : ts), (out[2] = t[2]!);
    else {
      const prevTs = t[i - 2]!;
      out[i] = t[i]! - t[i - 3]!;
      // -Infinity has no JSON: null stands for it wherever it comes (always absolute)
      out[i + 1] = ts === -Infinity ? null : prevTs === -Infinity ? ts : ts - prevTs;
      out[i + 2] = t[i + 2]! - t[i - 1]!;
    }
  }
  return out;
}

/** The inverse of encodeIndexTail; null when the list is malformed. */
export function decodeIndexTail(d: unknown): number[] | null {
  if (!Array.isArray(d) || d.length % 3 !== 0) return null;
  const out: number[] = new Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const [o, ts, pos] = [d[i], d[i + 1], d[i + 2]];
    if (typeof o !== "number" || typeof pos !== "number" || (typeof ts !== "number" && ts !== null)) return null;
    if (i === 0) (out[0] = o), (out[1] = ts ?? -Infinity), (out[2] = pos);
    else {
      const prevTs = out[i - 2]!;
      out[i] = out[i - 3]! + o;
      out[i + 1] = ts === null ? -Infinity : prevTs === -Infinity ? ts : prevTs + ts;
      out[i + 2] = out[i - 1]! + pos;
    }
  }
  return out;
}

function truncateIndex(file: string, length: number): void {
  try {
    fs.truncateSync(file, length);
  } catch {
    // no file: nothing to cut
  }
}

function fileBirthTime(file: string): number | null {
  const t = fs.statSync(file).birthtimeMs;
  return t > 0 ? t : null;
}
