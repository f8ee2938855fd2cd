// Log compaction (cleanup.policy=compact): keep the latest record of every key.
//
// compactLog(log, options) is the reusable primitive, for topic partitions and any other PartitionLog:
//  1. The cleanable range is the sealed segments (never the active one), cut short at the first segment
//     newer than min.compaction.lag.ms and at the first one holding a transactional batch whose
//     transaction has no commit/abort marker yet (Kafka's last stable offset).
//  2. An offset map key → latest offset is built over that range. Keyless records and records of
//     aborted transactions never enter it.
//  3. Each segment of the range is rewritten: a record stays when it is the latest of its key; a
//     tombstone (null value) stays until its batch's delete horizon has passed. The first pass that keeps
//     a tombstone stamps its batch with a horizon of now + delete.retention.ms (KIP-534), so consumers
//     have at least that long to see it. Aborted transactional data goes; control batches (transaction
//     markers) are always kept as they are. Batches keep their offsets (base offset, lastOffsetDelta);
//     batches left with no record go, and so do segments left with no batch (offsets have gaps, which
//     every client handles; the log start offset is unaffected).
//     A batch whose records cannot be read (CRC-valid garbage, stored while the topic was not compacted:
//     produce reads the records only of compacted topics) is kept as it is and counted; the rest of the
//     partition is still compacted.
//  4. A segment that changes is written to `<segment>.log.cleaned`, fsynced, renamed over the original
//     and then swapped in memory, all in one synchronous step that first checks the segment is still
//     part of the log. A crash before the rename leaves the original (the `.cleaned` file is removed on
//     open); after it, the cleaned file. Fetches in flight keep reading the old mapping: the old file is
//     replaced by rename, never truncated.
// The work runs in slices of at most ~sliceMs of synchronous work (whole batches: a batch is the unit),
// yielding to the event loop between them, so produce and fetch are never held up for long; the
// longest slice is measured and reported.
//
// LogCleaner schedules compactLog over the broker's compacted partitions: the partition with the
// highest dirty ratio (bytes not yet cleaned / bytes of the cleanable range) at or above
// min.cleanable.dirty.ratio goes first, or one whose tombstones' delete horizon has passed; when none
// qualifies it sleeps log.cleaner.backoff.ms.
import fs from "node:fs";
import {
  ATTRIBUTES,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  CONTROL_BIT,
  DELETE_HORIZON_BIT,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  PRODUCER_ID,
  RECORD_COUNT,
  TRANSACTIONAL_BIT,
  dataView,
  readInt64,
} from "../../protocol/records/batch.ts";
import { decodeRecords, parseControlRecordKey } from "../../protocol/records/records.ts";
import type { Logger } from "../log.ts";
import { keyString, parseBatchRecords, rebuildBatch, type RecordSlice } from "./batch-rewrite.ts";
import { CLEANED_SUFFIX, type PartitionLog } from "./partition-log.ts";
import { Segment } from "./segment.ts";
import { CRASH_POINTS, crashPoint } from "../crash-points.ts";

export interface CompactOptions {
  /** delete.retention.ms: how long a tombstone stays after the first pass that kept it */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: segments with newer records are not cleaned yet */
  minCompactionLagMs?: number;
  /** clock (ms) */
  now?: () => number;
  /** synchronous work per slice before yielding to the event loop (default 5 ms) */
  sliceMs?: number;
  /** checked between slices: true abandons the pass (the log stays as it was, segment by segment) */
  shouldStop?: () => boolean;
  log?: Logger;
}

export interface CompactResult {
  /** the offset up to which the log is now clean (end of the cleanable range) */
  cleanedUpTo: number;
  segmentsScanned: number;
  segmentsRewritten: number;
  segmentsRemoved: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** earliest delete horizon of a tombstone still kept (Infinity when none) */
  nextDeleteHorizon: number;
  /** the longest stretch of synchronous work (ms) */
  longestSliceMs: number;
  /** how many stretches the pass was cut into */
  slices: number;
  durationMs: number;
  aborted: boolean;
  /** batches kept as they were because their records could not be read */
  unreadableBatches: number;
}

/** The batch's records, or null when they cannot be read (framing, varints or compressed data damaged). */
function readableRecords(batch: Uint8Array): ReturnType<typeof parseBatchRecords> | null {
  try {
    return parseBatchRecords(batch);
  } catch {
    return null;
  }
}

/** Measures and bounds the synchronous stretches of a pass. */
class Pacer {
  longest = 0;
  /** slices ended so far (each one a chance for other work to run) */
  slices = 0;
  private sliceStart = performance.now();
  constructor(
    private readonly sliceMs: number,
    private readonly shouldStop: () => boolean,
  ) {}

  /** Ends the current slice if it is long enough; false when the pass should stop. */
  async maybeYield(): Promise<boolean> {
    if (performance.now() - this.sliceStart >= this.sliceMs) await this.wait(new Promise<void>((r) => setImmediate(r)));
    return !this.shouldStop();
  }

  /** Awaits p as the end of a slice (any await lets other work run). */
  async wait<T>(p: Promise<T>): Promise<T> {
    this.endSlice();
    try {
      return await p;
    } finally {
      this.sliceStart = performance.now();
    }
  }

  endSlice(): void {
    this.slices++;
    const d = performance.now() - this.sliceStart;
    if (d > this.longest) this.longest = d;
  }
}

class Aborted extends Error {}

interface TxnMarkers {
  /** per producer id: marker offsets (ascending) and whether each commits */
  offsets: Map<number, { offset: number; commit: boolean }[]>;
}

/** Every transaction marker in the log (headers only, plus the one-record control batches). */
async function collectMarkers(segments: readonly Segment[], activeBytes: Uint8Array, pacer: Pacer): Promise<TxnMarkers> {
  const offsets = new Map<number, { offset: number; commit: boolean }[]>();
  const scan = (bytes: Uint8Array) => {
    const v = dataView(bytes);
    for (let pos = 0; pos < bytes.length; pos += v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD) {
      if (!(v.getInt16(pos + ATTRIBUTES) & CONTROL_BIT)) continue;
      const batch = bytes.subarray(pos, pos + v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD);
      const rec = decodeRecords(batch).records[0];
      if (!rec?.key) continue;
      const { type } = parseControlRecordKey(rec.key);
      const pid = readInt64(v, pos + PRODUCER_ID);
      let list = offsets.get(pid);
      if (!list) offsets.set(pid, (list = []));
      list.push({ offset: rec.offset, commit: type === 1 });
    }
  };
  for (const s of segments) {
    scan(s.contents());
    if (!(await pacer.maybeYield())) throw new Aborted();
  }
  scan(activeBytes);
  return { offsets };
}

/** "commit" | "abort" | null (no marker yet) for a transactional batch ending at lastOffset. */
function txnOutcome(m: TxnMarkers, pid: number, lastOffset: number): "commit" | "abort" | null {
  const list = m.offsets.get(pid);
  if (!list) return null;
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.offset > lastOffset) hi = mid;
    else lo = mid + 1;
  }
  return lo < list.length ? (list[lo]!.commit ? "commit" : "abort") : null;
}

/** Visits every batch of a segment: (pos, size, view). */
function* batchesOf(bytes: Uint8Array): Generator<[number, number]> {
  const v = dataView(bytes);
  for (let pos = 0; pos < bytes.length; ) {
    const size = v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD;
    yield [pos, size];
    pos += size;
  }
}

/** One compaction pass over `log`. Returns null when there is nothing sealed to clean. */
export async function compactLog(log: PartitionLog, opts: CompactOptions): Promise<CompactResult | null> {
  const now = (opts.now ?? Date.now)();
  const started = performance.now();
  const pacer = new Pacer(opts.sliceMs ?? 5, () => log.isClosed || (opts.shouldStop?.() ?? false));
  const result: CompactResult = {
    cleanedUpTo: log.logStartOffset,
    segmentsScanned: 0,
    segmentsRewritten: 0,
    segmentsRemoved: 0,
    bytesBefore: 0,
    bytesAfter: 0,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    nextDeleteHorizon: Infinity,
    longestSliceMs: 0,
    slices: 0,
    durationMs: 0,
    aborted: false,
    unreadableBatches: 0,
  };
  try {
    let segments = [...log.sealedSegments()];
    if (segments.length === 0) return null;
    const minLag = opts.minCompactionLagMs ?? 0;
    if (minLag > 0) {
      const i = segments.findIndex((s) => s.maxTimestamp > now - minLag);
      if (i >= 0) segments = segments.slice(0, i);
    }
    const activeBytes = log.read(log.activeBaseOffset, 0x7fffffff) ?? new Uint8Array(0);
    const markers = await collectMarkers(log.sealedSegments(), activeBytes, pacer);

    // Cut the range before the first segment holding an undecided transaction.
    for (let i = 0; i < segments.length; i++) {
      const bytes = segments[i]!.contents();
      const v = dataView(bytes);
      let open = false;
      for (const [pos] of batchesOf(bytes)) {
        const attrs = v.getInt16(pos + ATTRIBUTES);
        if (!(attrs & TRANSACTIONAL_BIT) || attrs & CONTROL_BIT) continue;
        const last = readInt64(v, pos) + v.getInt32(pos + LAST_OFFSET_DELTA);
        if (txnOutcome(markers, readInt64(v, pos + PRODUCER_ID), last) === null) {
          open = true;
          break;
        }
      }
      if (open) {
        segments = segments.slice(0, i);
        break;
      }
    }
    if (segments.length === 0) return null;
    result.cleanedUpTo = segments[segments.length - 1]!.nextOffset;

    const aborted = (v: DataView, pos: number): boolean => {
      const attrs = v.getInt16(pos + ATTRIBUTES);
      if (!(attrs & TRANSACTIONAL_BIT) || attrs & CONTROL_BIT) return false;
      const last = readInt64(v, pos) + v.getInt32(pos + LAST_OFFSET_DELTA);
      return txnOutcome(markers, readInt64(v, pos + PRODUCER_ID), last) === "abort";
    };

    // The offset map: latest offset of every key in the range.
    const latest = new Map<string, number>();
    for (const seg of segments) {
      const bytes = seg.contents();
      const v = dataView(bytes);
      for (const [pos, size] of batchesOf(bytes)) {
        if (v.getInt16(pos + ATTRIBUTES) & CONTROL_BIT || aborted(v, pos)) continue;
        const base = readInt64(v, pos);
        const parsed = readableRecords(bytes.subarray(pos, pos + size));
        if (parsed === null) {
          result.unreadableBatches++;
          continue;
        }
        for (const r of parsed.records) {
          const k = keyString(parsed.section, r);
          if (k !== null) latest.set(k, base + r.offsetDelta);
        }
        if (!(await pacer.maybeYield())) throw new Aborted();
      }
    }

    // Rewrite segment by segment.
    for (const seg of segments) {
      result.segmentsScanned++;
      result.bytesBefore += seg.size;
      const out = await cleanSegment(log, seg, latest, aborted, now, opts.deleteRetentionMs, pacer, result);
      result.bytesAfter += out;
    }
    return result;
  } catch (e) {
    // A log closed or deleted under the pass (DeleteTopics, shutdown) makes its file operations fail: that
    // is an abandoned pass, not an error.
    if (!(e instanceof Aborted) && !log.isClosed) throw e;
    result.aborted = true;
    return result;
  } finally {
    pacer.endSlice();
    result.longestSliceMs = pacer.longest;
    result.slices = pacer.slices;
    result.durationMs = performance.now() - started;
  }
}

/** Cleans one segment; returns its size afterwards. */
async function cleanSegment(
  log: PartitionLog,
  seg: Segment,
  latest: Map<string, number>,
  aborted: (v: DataView, pos: number) => boolean,
  now: number,
  deleteRetentionMs: number,
  pacer: Pacer,
  result: CompactResult,
): Promise<number> {
  const bytes = seg.contents();
  const v = dataView(bytes);
  const tmp = seg.path + CLEANED_SUFFIX;
  let fh: fs.promises.FileHandle | null = null;
  let written = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    await pacer.wait(fh!.write(chunk, 0, chunk.length));
  };
  const emit = async (b: Uint8Array) => {
    pending.push(b);
    pendingBytes += b.length;
    written += b.length;
    if (pendingBytes >= 1 << 20) await flush();
  };
  let removedHere = 0, tombstonesHere = 0;
  try {
    for (const [pos, size] of batchesOf(bytes)) {
      const batch = bytes.subarray(pos, pos + size);
      let replacement: Uint8Array | null | undefined; // undefined: keep as is; null: drop
      let parsed: ReturnType<typeof parseBatchRecords> | null;
      const attrs = v.getInt16(pos + ATTRIBUTES);
      if (attrs & CONTROL_BIT) {
        replacement = undefined; // transaction markers stay (see the file header)
      } else if (aborted(v, pos)) {
        replacement = null;
        removedHere += v.getInt32(pos + RECORD_COUNT);
      } else if ((parsed = readableRecords(batch)) === null) {
        replacement = undefined; // counted while the offset map was built
      } else {
        const base = readInt64(v, pos);
        const hasHorizon = (attrs & DELETE_HORIZON_BIT) !== 0;
        const horizon = hasHorizon ? readInt64(v, pos + BASE_TIMESTAMP) : Infinity;
        const keep: RecordSlice[] = [];
        let tombstonesKept = 0;
        for (const r of parsed.records) {
          const k = keyString(parsed.section, r);
          const isLatest = k !== null && latest.get(k) === base + r.offsetDelta;
          if (isLatest && r.nullValue && hasHorizon && now >= horizon) {
            tombstonesHere++;
            continue;
          }
          if (!isLatest) continue;
          keep.push(r);
          if (r.nullValue) tombstonesKept++;
        }
        removedHere += parsed.records.length - keep.length;
        const stamp = tombstonesKept > 0 && !hasHorizon;
        if (keep.length === 0) replacement = null;
        else if (keep.length === parsed.records.length && !stamp) replacement = undefined;
        else replacement = rebuildBatch(batch, parsed, stamp ? { keep, deleteHorizon: now + deleteRetentionMs } : { keep });
        if (tombstonesKept > 0) {
          const h = stamp ? now + deleteRetentionMs : horizon;
          if (h < result.nextDeleteHorizon) result.nextDeleteHorizon = h;
        }
      }
      if (replacement !== undefined && fh === null) {
        // First change in this segment: from here on the output differs; the prefix goes as it was.
        log.segmentsChanging(); // before any file appears: a crash from here on recovers the directory
        fh = await pacer.wait(fs.promises.open(tmp, "w"));
        if (pos > 0) await emit(bytes.subarray(0, pos));
      }
      if (fh !== null) {
        if (replacement === undefined) await emit(batch);
        else if (replacement !== null) await emit(replacement);
      }
      if (!(await pacer.maybeYield())) throw new Aborted();
    }
    if (fh === null) return seg.size; // nothing to change
    await flush();
    await pacer.wait(fh.sync());
    await pacer.wait(fh.close());
    fh = null;

    // The swap: one synchronous step, so nothing can change the log in between.
    if (log.isClosed || !log.sealedSegments().includes(seg)) throw new Aborted();
    // Announced again: a checkpoint taken since the first announcement describes the old segment, and the
    // journal after it must say that the segments changed (once per checkpoint, so usually no write).
    log.segmentsChanging();
    if (CRASH_POINTS) crashPoint("cleaner.before-swap");
    // The old index goes first: a crash after the rename must not pair it with the new file.
    fs.rmSync(seg.indexPath, { force: true });
    if (written === 0) {
      fs.rmSync(tmp, { force: true });
      log.replaceSegment(seg, null);
      fs.rmSync(seg.path, { force: true });
      result.segmentsRemoved++;
    } else {
      fs.renameSync(tmp, seg.path);
      const fresh = Segment.recover(seg.path, seg.baseOffset, {
        sealed: true,
        verifyCrc: false,
        capacity: 0,
        indexIntervalBytes: log.config.indexIntervalBytes,
        now,
        minNextOffset: seg.nextOffset, // a dropped last batch must not shrink the segment's range
        deferIndexWrite: true, // below, off the event loop
      });
      if (!fresh) throw new Error(`cleaned segment ${seg.path} did not load`);
      log.replaceSegment(seg, fresh);
      if (CRASH_POINTS) crashPoint("cleaner.after-swap");
      result.segmentsRewritten++;
      await pacer.wait(fresh.writeSealedIndexAsync());
    }
    result.recordsRemoved += removedHere;
    result.tombstonesRemoved += tombstonesHere;
    await pacer.wait(fsyncDir(log.dir));
    return written;
  } catch (e) {
    if (fh !== null) await (fh as fs.promises.FileHandle).close().catch(() => {});
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const h = await fs.promises.open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // best effort (the directory may be gone with its topic)
  }
}

// ---- scheduling --------------------------------------------------------------------------------------

export interface CleanerTarget {
  /** a label for log lines, e.g. "topic-0" */
  name: string;
  log: PartitionLog;
  /** the partition's current settings (read at every decision, so altered configs apply at once) */
  settings(): { minCleanableRatio: number; deleteRetentionMs: number; minCompactionLagMs: number };
}

interface TargetState {
  cleanedUpTo: number;
  nextDeleteHorizon: number;
}

export interface CleanerStats {
  passes: number;
  segmentsRewritten: number;
  segmentsRemoved: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  bytesReclaimed: number;
  longestSliceMs: number;
  lastPass: (CompactResult & { name: string }) | null;
}

export class LogCleaner {
  readonly stats: CleanerStats = {
    passes: 0,
    segmentsRewritten: 0,
    segmentsRemoved: 0,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    bytesReclaimed: 0,
    longestSliceMs: 0,
    lastPass: null,
  };
  private readonly state = new WeakMap<PartitionLog, TargetState>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly targets: () => Iterable<CleanerTarget>,
    private readonly backoffMs: () => number,
    private readonly log: Logger,
    private readonly sliceMs = 5,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops scheduling and waits for a pass in progress to give up (at its next slice). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Calls fn after every pass (tests wait on this instead of sleeping). */
  onPass(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Runs a check now instead of at the end of the backoff (e.g. after a config change). */
  wake(): void {
    if (this.stopped || this.running) return;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce()
        .then((didWork) => {
          this.running = null;
          this.schedule(didWork ? 0 : this.backoffMs());
        })
        .catch((e) => {
          this.running = null;
          this.log.error(`log cleaner: ${(e as Error).stack ?? e}`);
          this.schedule(this.backoffMs());
        });
    }, ms);
    this.timer.unref?.();
  }

  /** The dirty ratio of a log and whether it is due for cleaning now. */
  assess(t: CleanerTarget, now = Date.now()): { ratio: number; due: boolean } {
    const st = this.state.get(t.log) ?? { cleanedUpTo: 0, nextDeleteHorizon: Infinity };
    const s = t.settings();
    let clean = 0, dirty = 0;
    for (const seg of t.log.sealedSegments()) {
      if (s.minCompactionLagMs > 0 && seg.maxTimestamp > now - s.minCompactionLagMs) break;
      if (seg.baseOffset >= st.cleanedUpTo) dirty += seg.size;
      else clean += seg.size;
    }
    const ratio = dirty + clean === 0 ? 0 : dirty / (dirty + clean);
    const due = (dirty > 0 && ratio >= s.minCleanableRatio) || now >= st.nextDeleteHorizon;
    return { ratio, due };
  }

  /** Cleans the dirtiest due log, if any; true when it did some work. */
  async runOnce(): Promise<boolean> {
    const now = Date.now();
    let best: CleanerTarget | null = null;
    let bestRatio = -1;
    for (const t of this.targets()) {
      if (t.log.isClosed) continue;
      const { ratio, due } = this.assess(t, now);
      if (due && ratio > bestRatio) {
        best = t;
        bestRatio = ratio;
      }
    }
    if (!best) return false;
    const s = best.settings();
    const r = await compactLog(best.log, {
      deleteRetentionMs: s.deleteRetentionMs,
      minCompactionLagMs: s.minCompactionLagMs,
      sliceMs: this.sliceMs,
      shouldStop: () => this.stopped,
      log: this.log,
    });
    const st = this.state.get(best.log) ?? { cleanedUpTo: 0, nextDeleteHorizon: Infinity };
    if (r && !r.aborted) {
      st.cleanedUpTo = r.cleanedUpTo;
      st.nextDeleteHorizon = r.nextDeleteHorizon;
      this.state.set(best.log, st);
    } else if (!r) {
      // nothing sealed: not due again until something changes
      st.nextDeleteHorizon = Infinity;
      this.state.set(best.log, st);
    }
    if (r) {
      const x = this.stats;
      x.passes++;
      x.segmentsRewritten += r.segmentsRewritten;
      x.segmentsRemoved += r.segmentsRemoved;
      x.recordsRemoved += r.recordsRemoved;
      x.tombstonesRemoved += r.tombstonesRemoved;
      x.bytesReclaimed += r.bytesBefore - r.bytesAfter;
      x.longestSliceMs = Math.max(x.longestSliceMs, r.longestSliceMs);
      x.lastPass = { ...r, name: best.name };
      if (r.segmentsRewritten + r.segmentsRemoved > 0)
        this.log.info(
          `cleaned ${best.name} up to offset ${r.cleanedUpTo}: ${r.bytesBefore} -> ${r.bytesAfter} bytes, ` +
            `${r.recordsRemoved} records and ${r.tombstonesRemoved} tombstones removed, ` +
            `${r.segmentsRewritten} segments rewritten, ${r.segmentsRemoved} removed in ${r.durationMs.toFixed(1)} ms ` +
            `(longest slice ${r.longestSliceMs.toFixed(2)} ms)`,
        );
      if (r.unreadableBatches > 0)
        this.log.warn(
          `cleaning ${best.name}: kept ${r.unreadableBatches} batch(es) as they were because their records cannot be read ` +
            `(written before the topic was compacted?); the rest of the partition was compacted`,
        );
    }
    for (const fn of [...this.listeners]) fn();
    // Look again at once only when this pass changed something; otherwise wait for the backoff.
    return r !== null && !r.aborted && r.segmentsRewritten + r.segmentsRemoved > 0;
  }
}
