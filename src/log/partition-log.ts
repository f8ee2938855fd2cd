// The log of one partition: a directory of segments `<20-digit baseOffset>.log` with their indexes
// `.index` (as in Kafka), the last one active. Batches are stored exactly as produced apart from
// baseOffset and partitionLeaderEpoch (both outside the CRC), and fetches are served as views of the
// mappings.
//
// Durability: appends are write(2)s into the page cache, so they survive kill -9 without fsync; fsync
// happens per the flush policy, on roll (in the background, for the sealed segment) and on a clean
// close. The log's state — log start offset, recovery point (below it everything was fsynced), segment
// summaries, producer-state snapshot — is kept in its log dir's checkpoint (log-dir.ts), which decides
// how much recovery has to read on open: nothing after a clean shutdown; after a crash, nothing for a
// partition the dir's journal says did not change since the checkpoint, the active segment's new tail
// for one that was only appended to, the directory's listing and what the checkpoint does not vouch
// for otherwise; after a power loss, everything past the recovery point. A log start offset moved by
// DeleteRecords is also written at once to `log-start-offset.json`, before any segment goes, so it
// never moves back.
//
// Appends stamp the partition's leader epoch into each batch; `leader-epoch-checkpoint` records where
// each epoch began (leader-epochs.ts), trimmed along with the log start offset. It is read only when
// the history is first needed, so opening many partitions reads no more files than before.
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
  dataView,
  readInt64,
} from "../../protocol/records/batch.ts";
import { INDEX_SUFFIX } from "./index-file.ts";
import { Change, LogDir, writeDurably, type DirMember, type PartitionCheckpoint } from "./log-dir.ts";
import { SEGMENT_FILE_RE, Segment, indexPathOf, segmentFileName, segmentMetaJson, type SegmentMeta } from "./segment.ts";
import { StorageError } from "./storage-error.ts";
import { LeaderEpochCache } from "./leader-epochs.ts";
import { CRASH_POINTS, crashPoint } from "../crash-points.ts";

export interface LogConfig {
  /** segment.bytes: roll when the next append wouldn't fit. */
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

export interface OpenOptions {
  /** the log dir holding this partition directory (default: the log keeps its own checkpoint) */
  logDir?: LogDir;
  /** the topic's id: a checkpoint entry of another topic by the same name is ignored */
  topicId?: string;
  /** recover from the directory whatever the checkpoint says (its directory went missing) */
  recover?: boolean;
}

export interface AppendOptions {
  /** a write the broker itself needs (transaction markers): may use the log dir's reserve */
  internal?: boolean;
}

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

/** What the log keeps of a partition's producer state for its checkpoint (producer-state.ts). */
export interface ProducerSnapshotSource {
  /** changes with every change of the state */
  readonly version: number;
  toSnapshot(offset: number): object;
}

/**
 * The producer state of a log with no producer-id batch below `offset` (empty there). A checkpoint
 * stores it for a log whose producer state was never loaded (a topic created since the start, written
 * only by non-idempotent producers), so the next start need not replay the log to learn that.
 */
export interface NoProducerState {
  noProducersBefore: number;
}

/** Written by DeleteRecords before any segment below the new start goes. */
export const LOG_START_FILE = "log-start-offset.json";
/** The per-partition checkpoint of earlier versions (read once, then replaced by the log dir's). */
const LEGACY_CHECKPOINT = "checkpoint.json";
/** Suffix of a segment being rewritten by the cleaner (`<segment>.log.cleaned`). */
export const CLEANED_SUFFIX = ".cleaned";
const EMPTY = new Uint8Array(0);

interface LegacyCheckpoint {
  clean: boolean;
  recoveryPoint: number;
  logStartOffset: number;
}

export class PartitionLog implements DirMember {
  readonly dir: string;
  readonly dirName: string;
  private readonly logDir: LogDir;
  private readonly topicId: string | undefined;
  private cfg: LogConfig;
  private segs: Segment[];
  private startOffset: number;
  private recoveryPoint: number;
  private unflushed = 0;
  private lastFlushAt: number;
  private closed = false;
  private producerSource: ProducerSnapshotSource | null = null;
  private producerSnapshot: { version: number; json: string } | null = null;
  /** the snapshot the checkpoint had, until the producer state is loaded from it */
  private storedProducerSnapshot: unknown;
  private storedProducerJson: string | null = null;
  /** sealed segments whose background fsync has not completed */
  private sealing = 0;
  /** how open() found the log: as checkpointed, a tail walked since, or its directory recovered */
  openedFrom: "checkpoint" | "tail" | "recovery" = "recovery";
  /** what this log recorded in its log dir's journal of changes, for which checkpoint generation */
  journalMark: { generation: number; change: Change } = { generation: -1, change: Change.None };
  /** no batch with a producer id was appended since the log was opened empty (then: its end) */
  private producerFree: boolean;
  private epoch = 0;
  private epochs: LeaderEpochCache | null = null;
  private pendingLeadership: { epoch: number; startOffset: number } | null = null;
  /** the log end offset at open: epochs starting past it were lost to a crash (see epochHistory) */
  private readonly openedEndOffset: number;

  private constructor(dir: string, dirName: string, logDir: LogDir, topicId: string | undefined, config: LogConfig, segs: Segment[], start: number, recoveryPoint: number) {
    this.dir = dir;
    this.dirName = dirName;
    this.logDir = logDir;
    this.topicId = topicId;
    this.cfg = config;
    this.segs = segs;
    this.startOffset = Math.min(start, this.logEndOffset);
    this.recoveryPoint = Math.min(recoveryPoint, this.logEndOffset);
    this.lastFlushAt = config.now();
    this.producerFree = this.startOffset === this.logEndOffset;
    this.openedEndOffset = this.logEndOffset;
  }

  /** Opens (creating if needed) the log in dir, recovering from an unclean shutdown. */
  static open(dir: string, config: Partial<LogConfig> = {}, opts: OpenOptions = {}): PartitionLog {
    const cfg: LogConfig = { ...DEFAULT_LOG_CONFIG, ...config };
    const logDir = opts.logDir ?? LogDir.standalone(dir);
    const dirName = opts.logDir ? path.basename(dir) : "";
    const entry = logDir.take(dirName, opts.topicId);
    // After a crash: unchanged since the checkpoint (per the journals) is as good as a clean shutdown;
    // only appended, the active segment's tail is walked; anything else, the directory is recovered.
    let change = entry && entry.segments.length > 0 && !opts.recover ? (logDir.clean ? Change.None : logDir.changeSince(dirName)) : null;
    // After a crash the journal is checked against the files: a lost or cut journal line must not hide
    // an append or a roll (two stats, no data read).
    if (change === Change.None && !logDir.clean) change = changeSeenOnDisk(dir, entry!);
    let log: PartitionLog | null = null;
    if (change === Change.None) log = PartitionLog.fromCheckpoint(dir, dirName, logDir, opts.topicId, cfg, entry!);
    else if (change === Change.Appended) log = PartitionLog.recoverTail(dir, dirName, logDir, opts.topicId, cfg, entry!);
    if (log) log.openedFrom = change === Change.None ? "checkpoint" : "tail";
    log ??= PartitionLog.recover(dir, dirName, logDir, opts.topicId, cfg, entry);
    logDir.register(log);
    return log;
  }

  /** Nothing changed since the checkpoint: it says everything; nothing is read or opened. */
  private static fromCheckpoint(dir: string, dirName: string, logDir: LogDir, topicId: string | undefined, cfg: LogConfig, e: PartitionCheckpoint): PartitionLog {
    const n = e.segments.length;
    const segs = e.segments.map((m, i) =>
      Segment.fromMeta(path.join(dir, segmentFileName(m.baseOffset)), m, { sealed: i < n - 1, capacity: cfg.segmentBytes, indexIntervalBytes: cfg.indexIntervalBytes }),
    );
    // A clean shutdown that synced everything vouches for all of it; otherwise the checkpoint's recovery point holds.
    const log = new PartitionLog(dir, dirName, logDir, topicId, cfg, segs, e.logStartOffset, logDir.cleanSynced ? Infinity : e.recoveryPoint);
    log.storedProducerSnapshot = e.producers;
    return log;
  }

  /**
   * Only appended to since the checkpoint (same boot): the checkpoint's segments as they were, and
   * the active one walked (CRC-checked) from where the checkpoint saw it end. Null when the files do
   * not match (the directory is then recovered).
   */
  private static recoverTail(dir: string, dirName: string, logDir: LogDir, topicId: string | undefined, cfg: LogConfig, e: PartitionCheckpoint): PartitionLog | null {
    const n = e.segments.length;
    const opts = { capacity: cfg.segmentBytes, indexIntervalBytes: cfg.indexIntervalBytes };
    const last = e.segments[n - 1]!;
    let active: Segment | null;
    try {
      active = Segment.recover(path.join(dir, segmentFileName(last.baseOffset)), last.baseOffset, { ...opts, sealed: false, verifyCrc: true, trusted: last, now: cfg.now() });
    } catch {
      return null; // e.g. the file the first append was to create is not there
    }
    if (!active || active.size < last.size) return null;
    if (active.cutBytes) logDir.warn(`${active.path}: ${active.cutBytes} bytes from position ${active.size} on are not valid batches (a write cut short): cut off`);
    const segs = e.segments.slice(0, -1).map((m) => Segment.fromMeta(path.join(dir, segmentFileName(m.baseOffset)), m, { ...opts, sealed: true }));
    segs.push(active);
    const log = new PartitionLog(dir, dirName, logDir, topicId, cfg, segs, e.logStartOffset, e.recoveryPoint);
    log.storedProducerSnapshot = active.walkedProducerIds ? e.producers : advanceSnapshot(e.producers, last.nextOffset, log.logEndOffset);
    return log;
  }

  /**
   * Without a clean shutdown: lists the directory, takes what the checkpoint (same boot) or the
   * sealed index files vouch for, and walks the rest, checking CRCs.
   */
  private static recover(dir: string, dirName: string, logDir: LogDir, topicId: string | undefined, cfg: LogConfig, entry: PartitionCheckpoint | undefined): PartitionLog {
    let files: string[];
    try {
      files = fs.readdirSync(dir);
    } catch {
      fs.mkdirSync(dir, { recursive: true });
      files = [];
    }
    // Leftovers of writes a crash interrupted: a cleaner's output never renamed into place (the
    // original is intact), a sealed index or a small file never renamed.
    for (const f of files) if (f.endsWith(CLEANED_SUFFIX) || f.endsWith(".tmp")) fs.rmSync(path.join(dir, f), { force: true });
    // An index whose segment is gone (deleted while its index was being written).
    for (const f of files) if (f.endsWith(INDEX_SUFFIX) && !files.includes(f.slice(0, -INDEX_SUFFIX.length) + ".log")) fs.rmSync(path.join(dir, f), { force: true });
    const legacy = files.includes(LEGACY_CHECKPOINT) ? readLegacyCheckpoint(dir) : null;
    const startFile = files.includes(LOG_START_FILE) ? readLogStartFile(dir) : null;
    const bases = files
      .map((f) => SEGMENT_FILE_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const recoveryPoint = entry?.recoveryPoint ?? legacy?.recoveryPoint ?? 0;
    // Same boot: what the checkpoint saw appended is in the page cache, whole.
    const trustCheckpoint = entry !== undefined && logDir.sameBoot;
    // A clean shutdown of the earlier format: CRCs trusted, indexes rebuilt.
    const legacyClean = entry === undefined && legacy?.clean === true;
    const known = new Map<number, SegmentMeta>((entry?.segments ?? []).map((m) => [m.baseOffset, m]));
    const now = cfg.now();
    const segs: Segment[] = [];
    bases.forEach((base, i) => {
      const file = path.join(dir, segmentFileName(base));
      const last = i === bases.length - 1;
      const opts = { capacity: cfg.segmentBytes, indexIntervalBytes: cfg.indexIntervalBytes, now };
      let seg: Segment | null;
      if (last) {
        seg = Segment.recover(file, base, { ...opts, sealed: false, verifyCrc: !legacyClean, trusted: trustCheckpoint ? known.get(base) : null });
      } else {
        const nextBase = bases[i + 1]!;
        // Written whole before the checkpoint, or fsynced (below the recovery point): no need to walk.
        const durable = trustCheckpoint || nextBase <= recoveryPoint;
        const size = fs.statSync(file).size;
        let meta = known.get(base);
        if (durable && size > 0 && meta?.size !== size) {
          const header = Segment.readIndexHeader(file, base);
          if (header?.sealed && header.summary.size === size)
            meta = { ...header.summary, baseOffset: base, firstAppendAt: -1, indexEntries: header.count, lastIndexedPos: -1, indexTail: [] };
        }
        if (durable && size > 0 && meta && meta.size === size) {
          seg = Segment.fromMeta(file, meta, { ...opts, sealed: true });
        } else {
          seg = Segment.recover(file, base, { ...opts, sealed: true, verifyCrc: !legacyClean && nextBase > recoveryPoint });
        }
      }
      if (seg?.cutBytes) logDir.warn(`${file}: ${seg.cutBytes} bytes from position ${seg.size} on are not valid batches (a write cut short, or damage): cut off`);
      if (seg) segs.push(seg);
      else {
        logDir.warn(`${file}: no valid batch in it (a write cut short, or damage): removed`);
        removeSegmentFiles(file); // a sealed segment without a single valid batch
      }
    });
    let start = Math.max(entry?.logStartOffset ?? 0, legacy?.logStartOffset ?? 0, startFile ?? 0);
    if (segs.length === 0) {
      // Never hand out an offset twice, even if the segment files were removed behind our back; and
      // nothing below the new segment exists.
      const lastKnown = entry?.segments.at(-1)?.nextOffset ?? 0;
      const base = Math.max(0, start, recoveryPoint, lastKnown);
      segs.push(Segment.create(dir, base, cfg.segmentBytes, cfg.indexIntervalBytes));
      start = base;
    } else {
      // The recorded start may lie below the first segment once compaction emptied and removed it; if
      // the first segment is not the one recorded, retention removed segments since: start at it.
      const firstKnown = entry ? entry.segments[0]?.baseOffset === segs[0]!.baseOffset : legacy !== null;
      if (!firstKnown) start = Math.max(start, segs[0]!.baseOffset);
    }
    const log = new PartitionLog(dir, dirName, logDir, topicId, cfg, segs, start, recoveryPoint);
    log.storedProducerSnapshot = entry?.producers;
    // The snapshot was taken at the checkpoint's log end. If all recovery found after it is the same
    // segment's tail without a producer-id batch, the snapshot holds at the new end: no replay needed.
    const lastMeta = entry?.segments.at(-1);
    const active = segs[segs.length - 1]!;
    if (trustCheckpoint && lastMeta && lastMeta.baseOffset === active.baseOffset && !active.walkedProducerIds)
      log.storedProducerSnapshot = advanceSnapshot(entry!.producers, lastMeta.nextOffset, log.logEndOffset);
    if (legacy) {
      // The log dir's checkpoint takes over; a start inside a segment must survive until it is written.
      if (log.startOffset > segs[0]!.baseOffset) log.writeLogStartFile();
      fs.rmSync(path.join(dir, LEGACY_CHECKPOINT), { force: true });
    }
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The leader epoch appends are stamped with. */
  get leaderEpoch(): number {
    return this.epoch;
  }

  /** Where each leader epoch began (OffsetForLeaderEpoch, fetches with a last fetched epoch). */
  get epochHistory(): LeaderEpochCache {
    if (!this.epochs) {
      this.epochs = LeaderEpochCache.load(this.dir);
      this.epochs.truncateFromEnd(this.openedEndOffset);
      const pending = this.pendingLeadership;
      this.pendingLeadership = null;
      if (pending) this.recordEpoch(pending.epoch, pending.startOffset);
    }
    return this.epochs;
  }

  /** This broker leads the partition in `epoch` from the current log end on (Kafka's makeLeader). */
  becomeLeader(epoch: number): void {
    if (!this.epochs && !this.pendingLeadership) {
      // The leadership taken when the log is opened is written down when the history is first needed.
      this.pendingLeadership = { epoch, startOffset: this.logEndOffset };
    } else {
      this.epochHistory; // loads it (and records what was pending) before a later leadership
      this.recordEpoch(epoch, this.logEndOffset);
    }
    this.epoch = epoch;
  }

  private recordEpoch(epoch: number, startOffset: number): void {
    const epochs = this.epochs!;
    // Batches but no history: a log from before leader epochs (Brook stamped 0 then), or a checkpoint
    // lost with the machine; the first batch says which epoch the log starts in.
    if (epochs.latestEpoch < 0 && this.logEndOffset > this.startOffset) {
      const first = this.read(this.startOffset, 1, true);
      if (first && first.length >= HEADER_SIZE) epochs.assign(Math.max(0, dataView(first).getInt32(PARTITION_LEADER_EPOCH)), this.startOffset, false);
    }
    // Written without an fsync (one per partition made the first load of 10,000 histories take 30 s):
    // with one broker, leadership never moves, so a lost file is derived again from the same two facts
    // when the history is next loaded: the first batch's epoch stamp and the epoch taken at open.
    epochs.assign(epoch, startOffset, false);
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
    this.active.setCapacity(this.cfg.segmentBytes);
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

  /** The log dir's state: full or not, free space (for log lines and metrics). */
  get directory(): LogDir {
    return this.logDir;
  }

  private get active(): Segment {
    return this.segs[this.segs.length - 1]!;
  }

  /**
   * Appends batches that passed validateBatches (one or more, contiguous), assigning offsets from
   * logEndOffset (stamped into `batches` in place). offsetCount/maxTimestamp from validation are
   * optional cross-checks. Throws a StorageError when the log dir refuses the write (full) or it fails.
   */
  append(batches: Uint8Array, offsetCount?: number, maxTimestamp?: number, opts: AppendOptions = {}): AppendResult {
    if (this.closed) throw new Error(`log ${this.dir} is closed`);
    // Header walk (no per-record work): the offsets consumed, and a guard against unvalidated input.
    const v = dataView(batches);
    let count = 0, maxTs = -1, pos = 0, producerIds = false;
    while (pos + HEADER_SIZE <= batches.length) {
      count += v.getInt32(pos + LAST_OFFSET_DELTA) + 1;
      maxTs = Math.max(maxTs, readInt64(v, pos + MAX_TIMESTAMP));
      if (v.getInt32(pos + PRODUCER_ID) >= 0) producerIds = true; // the high word: pid >= 0
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
    this.logDir.beforeAppend(batches.length, opts.internal === true, now);
    let seg = this.active;
    const roll = seg.size > 0 && (seg.size + batches.length > this.config.segmentBytes || now - seg.firstAppendAt > this.config.segmentMs);
    this.logDir.journal(this, roll ? Change.Segments : Change.Appended);
    if (CRASH_POINTS) crashPoint("append.after-journal");
    try {
      if (roll) seg = this.roll(batches.length);
      seg.append(batches, seg.nextOffset, now, this.epoch);
      if (CRASH_POINTS) crashPoint("append.after-write");
    } catch (e) {
      throw this.logDir.writeFailed(e, seg.path);
    }
    const baseOffset = this.logEndOffset - count;
    if (producerIds) this.producerFree = false;
    this.logDir.appended(batches.length);
    this.unflushed += count;
    if (this.unflushed >= this.config.flushIntervalMessages) {
      try {
        this.flush();
      } catch (e) {
        // appended and acknowledged-to-be: the data is in the page cache; only the fsync failed
        this.logDir.writeFailed(e, seg.path);
      }
    }
    return { baseOffset, lastOffset: baseOffset + count - 1 };
  }

  private roll(needBytes: number): Segment {
    const old = this.active;
    const next = Segment.create(this.dir, old.nextOffset, Math.max(this.config.segmentBytes, needBytes), this.config.indexIntervalBytes);
    if (CRASH_POINTS) crashPoint("roll.after-create");
    const durableUpTo = next.baseOffset;
    const sealed = old.seal();
    this.segs.push(next);
    this.sealing++;
    void sealed.then((ok) => {
      this.sealing--;
      if (ok && !this.closed && durableUpTo > this.recoveryPoint) this.recoveryPoint = durableUpTo;
    });
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

  /**
   * fsync the active segment, and sealed ones whose background fsync is still under way; everything
   * appended so far is then below the recovery point.
   */
  flush(): void {
    if (this.closed) return;
    const upTo = this.logEndOffset;
    if (this.sealing > 0) {
      for (let i = this.segmentIndexFor(this.recoveryPoint); i < this.segs.length - 1; i++) this.segs[i]!.fsyncFile();
    }
    this.active.flush();
    this.unflushed = 0;
    this.lastFlushAt = this.config.now();
    this.recoveryPoint = Math.max(this.recoveryPoint, upTo);
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
    this.logDir.journal(this, Change.Segments);
    const before = this.startOffset;
    this.startOffset = offset;
    try {
      this.writeLogStartFile(); // before any segment goes, so the start never moves back
    } catch (e) {
      this.startOffset = before;
      throw this.logDir.writeFailed(e, path.join(this.dir, LOG_START_FILE));
    }
    this.deleteSegmentsBefore(offset);
    this.epochHistory.truncateFromStart(offset);
  }

  private writeLogStartFile(): void {
    const file = path.join(this.dir, LOG_START_FILE);
    writeDurably(file, `${file}.tmp`, JSON.stringify({ logStartOffset: this.startOffset }));
  }

  /**
   * Removes sealed segments whose offsets all lie below `offset` (retention). The active segment always
   * stays, and so the log start offset can be derived from the first remaining one after a crash.
   * Unlinking a mapped file is safe: outstanding views keep the pages (the Segment objects are dropped,
   * never truncated). Returns the number of segments removed.
   */
  deleteSegmentsBefore(offset: number): number {
    let n = 0;
    while (n < this.segs.length - 1 && this.segs[n]!.nextOffset <= offset) n++;
    if (n === 0) return 0;
    this.logDir.journal(this, Change.Segments);
    const gone = this.segs.splice(0, n);
    if (this.segs[0]!.baseOffset > this.startOffset) this.startOffset = this.segs[0]!.baseOffset;
    this.epochHistory.truncateFromStart(this.startOffset);
    for (const s of gone) {
      s.release();
      removeSegmentFiles(s.path);
      if (CRASH_POINTS && gone.length > 1) crashPoint("retention.between-segments");
    }
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
  /** The cleaner is about to replace segment files (recorded first, so a crash recovers the directory). */
  segmentsChanging(): void {
    this.logDir.journal(this, Change.Segments);
  }

  replaceSegment(old: Segment, replacement: Segment | null): boolean {
    const i = this.segs.indexOf(old);
    if (this.closed || i < 0 || i === this.segs.length - 1) return false;
    if (replacement) this.segs[i] = replacement;
    else this.segs.splice(i, 1);
    old.release();
    return true;
  }

  // ---- the producer state's snapshot --------------------------------------------------------------

  /** The producer-state snapshot the checkpoint held (once); undefined when there was none. */
  takeProducerSnapshot(): unknown {
    const s = this.storedProducerSnapshot;
    this.storedProducerSnapshot = undefined;
    return s;
  }

  /** From now on each checkpoint carries a snapshot of this state, taken at the log end. */
  attachProducerState(source: ProducerSnapshotSource): void {
    if (this.producerSource !== source) this.producerSnapshot = null;
    this.producerSource = source;
  }

  /**
   * The producer-state snapshot for a checkpoint, as the JSON of its `"p"` (and `"po"`) fields; empty
   * when there is none. Re-serialized only when the state moved.
   */
  private producerSnapshotFields(): string {
    const src = this.producerSource;
    const leo = this.logEndOffset;
    if (!src) {
      if (this.storedProducerSnapshot !== undefined) {
        this.storedProducerJson ??= JSON.stringify(this.storedProducerSnapshot);
        return `,"p":${this.storedProducerJson}`;
      }
      return this.producerFree ? `,"p":{"noProducersBefore":${leo}}` : "";
    }
    // Batches without a producer id leave the state as it was: the same snapshot holds at the new end,
    // which "po" says (the offset the snapshot holds at).
    if (!this.producerSnapshot || this.producerSnapshot.version !== src.version)
      this.producerSnapshot = { version: src.version, json: JSON.stringify(src.toSnapshot(leo)) };
    return `,"p":${this.producerSnapshot.json},"po":${leo}`;
  }

  // ---- the log dir's checkpoint -------------------------------------------------------------------

  /**
   * The log's state for a checkpoint, as the JSON of its entry (built once `written` settled: the
   * index entries being written then need not travel inline).
   */
  captureCheckpoint(): { json: () => string; written: Promise<void> | null } {
    const write = this.closed ? null : this.active.checkpointIndexWrite();
    const n = this.segs.length;
    let sealed = "";
    for (let i = 0; i < n - 1; i++) sealed += this.segs[i]!.metaJson() + ",";
    const last = this.active.meta();
    const head =
      `{${this.topicId !== undefined ? `"t":${JSON.stringify(this.topicId)},` : ""}"s":${this.startOffset},"r":${this.recoveryPoint},"g":[${sealed}`;
    const tail = `]${this.producerSnapshotFields()}}`;
    const written = write
      ? write.then(
          (entries) => {
            // Written up to what the capture saw: nothing left to carry inline.
            if (entries >= last.indexEntries + last.indexTail.length / 3) (last.indexEntries = entries), (last.indexTail = []);
          },
          () => {}, // the checkpoint carries the entries inline instead
        )
      : null;
    return { json: () => head + segmentMetaJson(last) + tail, written };
  }

  get unsyncedFiles(): number {
    // Data below the log end not known to be fsynced: written since the last fsync, or left unsynced by
    // an earlier clean stop (the log then opens with its recovery point below its end).
    return (this.active.hasUnsyncedData || this.recoveryPoint < this.logEndOffset ? 1 : 0) + this.sealing;
  }

  get unsyncedBytes(): number {
    if (this.unsyncedFiles === 0) return 0;
    let bytes = 0;
    for (let i = this.segmentIndexFor(this.recoveryPoint); i < this.segs.length; i++) bytes += this.segs[i]!.size;
    return bytes;
  }

  fsyncFiles(): void {
    // Sealed segments still being fsynced in the background, and the active one.
    const from = this.segmentIndexFor(this.recoveryPoint);
    for (let i = from; i < this.segs.length; i++) this.segs[i]!.fsyncFile();
    this.recoveryPoint = this.logEndOffset;
  }

  markSynced(): void {
    this.active.markSynced();
    this.recoveryPoint = this.logEndOffset;
    this.unflushed = 0;
    this.lastFlushAt = this.config.now();
  }

  /** Clean close: the active segment's index written and its file trimmed; the log dir syncs. */
  close(): void {
    if (this.closed) return;
    this.active.closeActive();
    this.closed = true;
    for (const s of this.segs) s.dropMap();
    if (this.logDir.isStandalone) this.logDir.close();
  }

  /** DeleteTopics: forget the log and remove its directory (`at`: where it was renamed to, if it was). */
  delete(at = this.dir): void {
    this.closed = true;
    for (const s of this.segs) s.release();
    this.segs = [Segment.create(this.dir, this.logEndOffset, 0, this.cfg.indexIntervalBytes)];
    this.logDir.unregister(this);
    if (this.logDir.isStandalone) this.logDir.abandon();
    fs.rmSync(at, { recursive: true, force: true });
  }
}

function batchRef(seg: Segment, pos: number): BatchRef {
  const batch = seg.batchAt(pos);
  const baseOffset = seg.offsetAt(pos);
  return { batch, baseOffset, lastOffset: baseOffset + dataView(batch).getInt32(LAST_OFFSET_DELTA) };
}

/**
 * How a partition the journal calls unchanged looks on disk: its active segment longer than the
 * checkpoint says (or shorter, or gone) or a segment after it means the journal missed something.
 */
function changeSeenOnDisk(dir: string, e: PartitionCheckpoint): Change | null {
  const last = e.segments[e.segments.length - 1]!;
  const size = fs.statSync(path.join(dir, segmentFileName(last.baseOffset)), { throwIfNoEntry: false })?.size;
  if (fs.statSync(path.join(dir, segmentFileName(last.nextOffset)), { throwIfNoEntry: false }) !== undefined && last.nextOffset !== last.baseOffset) return null;
  if (size === undefined) return last.size === 0 ? Change.None : null;
  return size === last.size ? Change.None : size > last.size ? Change.Appended : null;
}

/** A producer-state snapshot taken at `from`, moved to `to` (nothing with a producer id in between). */
function advanceSnapshot(snapshot: unknown, from: number, to: number): unknown {
  if (snapshot === null || typeof snapshot !== "object") return snapshot;
  const s = snapshot as { offset?: unknown; noProducersBefore?: unknown };
  if (s.noProducersBefore === from) return { noProducersBefore: to };
  if (s.offset === from) return { ...s, offset: to };
  return snapshot;
}

function removeSegmentFiles(logPath: string): void {
  fs.rmSync(logPath, { force: true });
  fs.rmSync(indexPathOf(logPath), { force: true });
}

function readLegacyCheckpoint(dir: string): LegacyCheckpoint | null {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(dir, LEGACY_CHECKPOINT), "utf8")) as Partial<LegacyCheckpoint>;
    return {
      clean: c.clean === true,
      recoveryPoint: Number.isSafeInteger(c.recoveryPoint) ? c.recoveryPoint! : 0,
      logStartOffset: Number.isSafeInteger(c.logStartOffset) ? c.logStartOffset! : 0,
    };
  } catch {
    return null;
  }
}

function readLogStartFile(dir: string): number | null {
  try {
    const n = (JSON.parse(fs.readFileSync(path.join(dir, LOG_START_FILE), "utf8")) as { logStartOffset?: unknown }).logStartOffset;
    return Number.isSafeInteger(n) ? (n as number) : null;
  } catch {
    return null;
  }
}

export { StorageError, INDEX_SUFFIX };
