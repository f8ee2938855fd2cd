// The log of one partition: a directory of segments `<20-digit baseOffset>.log` (as in Kafka), the
// last one active. Batches are stored exactly as produced apart from baseOffset and
// partitionLeaderEpoch (both outside the CRC), and fetches are served as views of the mappings.
//
// Durability: appends land in MAP_SHARED pages, so they survive kill -9 without fsync; fsync happens
// per the flush policy, on roll (async, for the sealed segment) and on close. `checkpoint.json` keeps
// the recovery point (below it everything was fsynced), the log start offset and a clean-shutdown
// flag; on open, segments at or past the recovery point of an unclean shutdown get CRC-checked.
import fs from "node:fs";
import path from "node:path";
import {
  BATCH_LENGTH,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAX_TIMESTAMP,
  dataView,
  readInt64,
} from "../../protocol/records/batch.ts";
import { SEGMENT_FILE_RE, Segment, segmentFileName } from "./segment.ts";

export interface LogConfig {
  /** segment.bytes: preallocated size of a segment; roll when the next append wouldn't fit. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first append is older than this. */
  segmentMs: number;
  /** index.interval.bytes: log bytes between sparse index entries. */
  indexIntervalBytes: number;
  /** flush.messages: fsync after this many appended offsets (Infinity = leave it to the OS). */
  flushIntervalMessages: number;
  /** flush.ms: flushIfDue() fsyncs when the last flush is at least this old. */
  flushIntervalMs: number;
  /** Clock in ms, injectable for tests. */
  now: () => number;
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = {
  segmentBytes: 1 << 30,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  flushIntervalMessages: Infinity,
  flushIntervalMs: Infinity,
  now: Date.now,
};

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
}

export interface BatchRef {
  /** The whole batch, a view into the log (valid until the log is deleted and GC runs). */
  batch: Uint8Array;
  baseOffset: number;
  lastOffset: number;
}

export interface SegmentInfo {
  baseOffset: number;
  nextOffset: number;
  size: number;
  maxTimestamp: number;
  path: string;
}

interface Checkpoint {
  /** false when there was no readable checkpoint file */
  found?: boolean;
  clean: boolean;
  recoveryPoint: number;
  logStartOffset: number;
}

const CHECKPOINT = "checkpoint.json";
/** Suffix of a segment being rewritten by the cleaner (`<segment>.log.cleaned`). */
export const CLEANED_SUFFIX = ".cleaned";
const EMPTY = new Uint8Array(0);

export class PartitionLog {
  readonly dir: string;
  private cfg: LogConfig;
  private segs: Segment[];
  private startOffset: number;
  private recoveryPoint: number;
  private unflushed = 0;
  private lastFlushAt: number;
  private closed = false;

  private constructor(dir: string, config: LogConfig, segs: Segment[], ckpt: Checkpoint) {
    this.dir = dir;
    this.cfg = config;
    this.segs = segs;
    this.recoveryPoint = ckpt.recoveryPoint;
    // The checkpoint is authoritative for the log start offset (retention and DeleteRecords write it
    // before unlinking anything); it may lie below the first segment's base once compaction emptied and
    // removed that segment. Without a checkpoint the first segment's base is the best guess.
    const start = ckpt.found ? ckpt.logStartOffset : Math.max(segs[0]!.baseOffset, ckpt.logStartOffset);
    this.startOffset = Math.min(start, this.logEndOffset);
    this.lastFlushAt = config.now();
  }

  /** Opens (creating if needed) the log in dir, recovering from an unclean shutdown. */
  static open(dir: string, config: Partial<LogConfig> = {}): PartitionLog {
    const cfg: LogConfig = { ...DEFAULT_LOG_CONFIG, ...config };
    fs.mkdirSync(dir, { recursive: true });
    const ckpt = readCheckpoint(dir);
    // A cleaner's output that never got renamed into place (crash mid-clean): the original is intact.
    for (const f of fs.readdirSync(dir)) if (f.endsWith(CLEANED_SUFFIX)) fs.rmSync(path.join(dir, f), { force: true });
    const bases = fs
      .readdirSync(dir)
      .map((f) => SEGMENT_FILE_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const segs: Segment[] = [];
    bases.forEach((base, i) => {
      const last = i === bases.length - 1;
      const file = path.join(dir, segmentFileName(base));
      // Everything below the recovery point was fsynced; after a clean close nothing needs checking.
      const endsPastRecoveryPoint = last || bases[i + 1]! > ckpt.recoveryPoint;
      const seg = Segment.load(file, base, {
        indexIntervalBytes: cfg.indexIntervalBytes,
        verifyCrc: !ckpt.clean && endsPastRecoveryPoint,
        active: last,
        capacity: cfg.segmentBytes,
        now: cfg.now(),
      });
      if (seg) segs.push(seg);
      else fs.rmSync(file, { force: true }); // a sealed segment without a single valid batch
    });
    if (segs.length === 0) {
      // Never hand out an offset twice, even if the segment files were removed behind our back.
      const base = Math.max(0, ckpt.logStartOffset, ckpt.recoveryPoint);
      segs.push(Segment.create(dir, base, cfg.segmentBytes, cfg.indexIntervalBytes));
    }
    const log = new PartitionLog(dir, cfg, segs, ckpt);
    if (ckpt.clean) log.recoveryPoint = log.logEndOffset;
    log.writeCheckpoint(false, true); // from now on a crash is an unclean shutdown
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get config(): Readonly<LogConfig> {
    return this.cfg;
  }

  /**
   * Applies changed settings (AlterConfigs) at once: segment.bytes and segment.ms decide the next roll
   * (the active segment is rolled on the next append if it is already past the new limits).
   */
  setConfig(changes: Partial<LogConfig>): void {
    this.cfg = { ...this.cfg, ...changes };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The next offset to be assigned (= high watermark on a single broker). */
  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  /** Bytes of batches held (logical, not preallocated). */
  get size(): number {
    let n = 0;
    for (const s of this.segs) n += s.size;
    return n;
  }

  get segments(): SegmentInfo[] {
    return this.segs.map((s) => ({
      baseOffset: s.baseOffset,
      nextOffset: s.nextOffset,
      size: s.size,
      maxTimestamp: s.maxTimestamp,
      path: s.path,
    }));
  }

  private get active(): Segment {
    return this.segs[this.segs.length - 1]!;
  }

  /**
   * Appends batches that passed validateBatches (one or more, contiguous), assigning offsets from
   * logEndOffset. offsetCount/maxTimestamp from validation are optional cross-checks.
   */
  append(batches: Uint8Array, offsetCount?: number, maxTimestamp?: number): AppendResult {
    if (this.closed) throw new Error(`log ${this.dir} is closed`);
    // Header walk (no per-record work): the offsets consumed, and a guard against unvalidated input.
    const v = dataView(batches);
    let count = 0, maxTs = -1, pos = 0;
    while (pos + HEADER_SIZE <= batches.length) {
      count += v.getInt32(pos + LAST_OFFSET_DELTA) + 1;
      maxTs = Math.max(maxTs, readInt64(v, pos + MAX_TIMESTAMP));
      const size = v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD;
      if (size < HEADER_SIZE) break;
      pos += size;
    }
    if (pos !== batches.length || count < 1) throw new Error("append: input is not a sequence of whole batches");
    if (offsetCount !== undefined && offsetCount !== count)
      throw new Error(`append: offsetCount ${offsetCount} but the batches span ${count} offsets`);
    if (maxTimestamp !== undefined && maxTimestamp !== maxTs)
      throw new Error(`append: maxTimestamp ${maxTimestamp} but the batches say ${maxTs}`);

    const now = this.config.now();
    let seg = this.active;
    if (seg.size > 0 && (seg.size + batches.length > this.config.segmentBytes || now - seg.firstAppendAt > this.config.segmentMs)) {
      seg = this.roll(batches.length);
    }
    // A batch bigger than segment.bytes gets a segment its size; a segment.bytes raised since this
    // segment was created grows it to the new size in one step.
    if (seg.free < batches.length) seg.ensureFree(Math.max(batches.length, this.config.segmentBytes - seg.size));
    const baseOffset = seg.nextOffset;
    seg.append(batches, baseOffset, now);
    this.unflushed += count;
    if (this.unflushed >= this.config.flushIntervalMessages) this.flush();
    return { baseOffset, lastOffset: baseOffset + count - 1 };
  }

  private roll(needBytes: number): Segment {
    const old = this.active;
    const next = Segment.create(this.dir, old.nextOffset, Math.max(this.config.segmentBytes, needBytes), this.config.indexIntervalBytes);
    const durableUpTo = next.baseOffset;
    old.seal(() => {
      if (this.closed || durableUpTo <= this.recoveryPoint) return;
      this.recoveryPoint = durableUpTo;
      this.writeCheckpoint(false, false);
    });
    this.segs.push(next);
    return next;
  }

  /**
   * Whole batches starting with the one that contains fetchOffset (or the first after it, should
   * offsets have gaps), up to maxBytes but at least one batch when minOneBatch. Empty at the log end;
   * null when fetchOffset is outside [logStartOffset, logEndOffset] (OFFSET_OUT_OF_RANGE).
   */
  read(fetchOffset: number, maxBytes: number, minOneBatch = true): Uint8Array | null {
    if (fetchOffset < this.startOffset || fetchOffset > this.logEndOffset) return null;
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segs.length; i++) {
      const seg = this.segs[i]!;
      const pos = seg.find(fetchOffset);
      if (pos >= 0) return seg.slice(pos, maxBytes, minOneBatch);
    }
    return EMPTY;
  }

  /** The first batch (at or after logStartOffset) whose maxTimestamp >= ts, or null. */
  offsetForTimestamp(ts: number): BatchRef | null {
    for (let i = this.segmentIndexFor(this.startOffset); i < this.segs.length; i++) {
      const seg = this.segs[i]!;
      const pos = seg.findByTimestamp(ts, this.startOffset);
      if (pos >= 0) return batchRef(seg, pos);
    }
    return null;
  }

  /**
   * The first batch carrying the largest maxTimestamp (ListOffsets MAX_TIMESTAMP), or null if empty or
   * no batch carries a timestamp (a segment of such batches has no max timestamp position).
   */
  maxTimestampBatch(): BatchRef | null {
    let best: Segment | null = null;
    for (const s of this.segs) if (s.size > 0 && s.maxTimestampPos >= 0 && (best === null || s.maxTimestamp > best.maxTimestamp)) best = s;
    return best ? batchRef(best, best.maxTimestampPos) : null;
  }

  /** Index of the last segment whose baseOffset <= offset (0 if none). */
  private segmentIndexFor(offset: number): number {
    let lo = 0, hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segs[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** fsync the active segment (sealed ones were fsynced when rolled). */
  flush(): void {
    if (this.closed) return;
    this.active.flush();
    this.unflushed = 0;
    this.lastFlushAt = this.config.now();
  }

  /** For a timer: flush when flush.ms has passed since the last flush and something is unflushed. */
  flushIfDue(now = this.config.now()): boolean {
    if (this.closed || this.unflushed === 0 || now - this.lastFlushAt < this.config.flushIntervalMs) return false;
    this.flush();
    return true;
  }

  /** Advances the log start offset (DeleteRecords), dropping segments wholly below it. */
  setLogStartOffset(offset: number): void {
    if (offset > this.logEndOffset) throw new RangeError(`log start offset ${offset} is past the log end ${this.logEndOffset}`);
    if (offset <= this.startOffset) return;
    this.startOffset = offset;
    this.deleteSegmentsBefore(offset);
    this.writeCheckpoint(false, true);
  }

  /**
   * Removes sealed segments whose offsets all lie below `offset` (retention). The active segment always
   * stays. The new log start offset is checkpointed before any file goes, so a crash in between never
   * resurrects a lower one. Unlinking a mapped file is safe: outstanding views keep the pages (the
   * Segment objects are dropped, never truncated). Returns the number of segments removed.
   */
  deleteSegmentsBefore(offset: number): number {
    let n = 0;
    while (n < this.segs.length - 1 && this.segs[n]!.nextOffset <= offset) n++;
    if (n === 0) return 0;
    const gone = this.segs.splice(0, n);
    if (this.segs[0]!.baseOffset > this.startOffset) this.startOffset = this.segs[0]!.baseOffset;
    this.writeCheckpoint(false, true);
    for (const s of gone) fs.rmSync(s.path, { force: true });
    return n;
  }

  /** The sealed segments, oldest first (everything but the active one); for retention and the cleaner. */
  sealedSegments(): readonly Segment[] {
    return this.segs.slice(0, -1);
  }

  /** The active segment's base offset: nothing at or above it is sealed. */
  get activeBaseOffset(): number {
    return this.active.baseOffset;
  }

  /**
   * Swaps a sealed segment for its rewritten version (log compaction), or drops it when nothing of it
   * was kept. The caller has already renamed the new file over the old one (or unlinked the old one);
   * this only changes what later reads see. Returns false, changing nothing, when `old` is no longer
   * part of the log (retention or DeleteRecords removed it meanwhile, or the log was closed).
   */
  replaceSegment(old: Segment, replacement: Segment | null): boolean {
    const i = this.segs.indexOf(old);
    if (this.closed || i < 0 || i === this.segs.length - 1) return false;
    if (replacement) this.segs[i] = replacement;
    else this.segs.splice(i, 1);
    return true;
  }

  /** Clean shutdown: fsync and trim the active segment, then mark the log clean. */
  close(): void {
    if (this.closed) return;
    this.active.closeActive();
    this.recoveryPoint = this.logEndOffset;
    this.writeCheckpoint(true, true);
    this.closed = true;
  }

  /** DeleteTopics: forget the log and remove its directory. */
  delete(): void {
    this.closed = true;
    this.active.abandon();
    this.segs = [];
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private writeCheckpoint(clean: boolean, durable: boolean): void {
    const ckpt: Checkpoint = { clean, recoveryPoint: this.recoveryPoint, logStartOffset: this.startOffset };
    const tmp = path.join(this.dir, CHECKPOINT + ".tmp");
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, JSON.stringify(ckpt));
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, CHECKPOINT));
  }
}

function batchRef(seg: Segment, pos: number): BatchRef {
  const batch = seg.batchAt(pos);
  const baseOffset = seg.offsetAt(pos);
  return { batch, baseOffset, lastOffset: baseOffset + dataView(batch).getInt32(LAST_OFFSET_DELTA) };
}

function readCheckpoint(dir: string): Checkpoint {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT), "utf8")) as Partial<Checkpoint>;
    return {
      found: Number.isSafeInteger(c.logStartOffset),
      clean: c.clean === true,
      recoveryPoint: Number.isSafeInteger(c.recoveryPoint) ? c.recoveryPoint! : 0,
      logStartOffset: Number.isSafeInteger(c.logStartOffset) ? c.logStartOffset! : 0,
    };
  } catch {
    return { clean: false, recoveryPoint: 0, logStartOffset: 0 };
  }
}
