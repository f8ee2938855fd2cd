// Producer state of one partition, as Kafka's ProducerStateManager keeps it: per producer id the epoch,
// the sequence ranges and offsets of its last 5 batches (duplicate detection), the first offset of its
// open transaction here, and the partition's aborted-transaction index. From these come the last stable
// offset (the first offset of the earliest open transaction, else the high watermark) and the aborted
// transactions a read_committed fetch must return.
//
// Rules mirrored from Kafka (ProducerAppendInfo):
// - an epoch older than the producer's current one is INVALID_PRODUCER_EPOCH;
// - a batch whose (epoch, first sequence, last sequence) matches one of the last 5 is a duplicate: it is
//   acknowledged with the offsets it got the first time and not appended again;
// - otherwise, within an epoch, the first sequence must follow the last one (sequences wrap from
//   2147483647 to 0), else OUT_OF_ORDER_SEQUENCE_NUMBER; a new epoch must start at sequence 0 (once the
//   producer has an epoch here); an unknown producer may start at any sequence (its earlier batches
//   may have been removed by retention), as in Kafka since KIP-360;
// - a non-transactional batch from a producer with an open transaction here is INVALID_TXN_STATE;
// - a transaction marker (control batch) ends the producer's open transaction; an ABORT marker adds
//   (producerId, firstOffset, markerOffset) to the aborted index; a marker with a newer epoch
//   becomes the producer's epoch and clears its batch metadata.
//
// Durability: a snapshot holds the state as of an offset; it travels in the log dir's checkpoint
// (log-dir.ts), which takes a fresh one at the log end whenever it is written (so after a clean shutdown
// it describes the whole log). Recovery loads it and replays batch headers from its offset to the log
// end (a header-only scan; only control batches are decoded, for their marker type). Without a usable
// snapshot the whole log is scanned. Earlier versions kept it in `producer-state.json` in the partition
// directory; that file is still read when the checkpoint has none.
import fs from "node:fs";
import path from "node:path";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ATTRIBUTES,
  BASE_SEQUENCE,
  CONTROL_BIT,
  LAST_OFFSET_DELTA,
  MAX_TIMESTAMP,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  TRANSACTIONAL_BIT,
  iterateBatchHeaders,
  readInt64,
} from "../../protocol/records/batch.ts";
import { ControlType, decodeRecords, parseControlRecordKey, parseControlRecordValue } from "../../protocol/records/records.ts";
import type { NoProducerState, PartitionLog } from "./partition-log.ts";

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN. */
export const BATCHES_RETAINED = 5;
export const SNAPSHOT_FILE = "producer-state.json";
const SNAPSHOT_VERSION = 1;
const INT32_MAX = 2147483647;

export interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  /** oldest first, at most BATCHES_RETAINED */
  batches: BatchMeta[];
  coordinatorEpoch: number;
  /** first offset of the producer's open transaction in this partition; -1 when none */
  txnFirstOffset: number;
  /** max timestamp of the producer's last batch or marker (DescribeProducers) */
  lastTimestamp: number;
  /** wall clock of the last append (producer.id.expiration.ms) */
  lastUpdated: number;
}

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  /** offset of the ABORT marker */
  lastOffset: number;
}

/** What the produce path knows of a batch from its header (validateBatches). */
export interface ProducedBatch {
  producerId: number;
  producerEpoch: number;
  firstSeq: number;
  lastSeq: number;
  transactional: boolean;
  maxTimestamp: number;
}

export type AppendCheck =
  | { kind: "append" }
  | { kind: "duplicate"; firstOffset: number; lastOffset: number }
  | { kind: "error"; errorCode: number; message: string };

const APPEND: AppendCheck = { kind: "append" };

const inSequence = (lastSeq: number, nextSeq: number) => nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);

export class ProducerStateManager {
  readonly producers = new Map<number, ProducerEntry>();
  /** producer id → first offset of its open transaction; insertion order is offset order */
  private readonly ongoing = new Map<number, number>();
  /** sorted by lastOffset (markers are appended in order) */
  private aborted: AbortedTxn[] = [];
  /** largest lastOffset - firstOffset in the aborted index: bounds the index scan of a fetch */
  private maxAbortedSpan = 0;
  /** changed since the last snapshot */
  dirty = false;
  /** counts changes: the log's checkpoint re-serializes the state only when it moved */
  version = 0;

  private touch(): void {
    this.dirty = true;
    this.version++;
  }

  /** First offset of the earliest open transaction, or `highWatermark` when none is open. */
  lastStableOffset(highWatermark: number): number {
    for (const first of this.ongoing.values()) return Math.min(first, highWatermark);
    return highWatermark;
  }

  /** Producer ids with an open transaction here, with its first offset. */
  openTransactions(): IterableIterator<[number, number]> {
    return this.ongoing.entries();
  }

  get abortedIndexSize(): number {
    return this.aborted.length;
  }

  // ---- the produce path ---------------------------------------------------------------------------

  /** Checks an idempotent/transactional batch before it is appended. */
  check(b: ProducedBatch): AppendCheck {
    if (b.firstSeq < 0)
      return { kind: "error", errorCode: ErrorCode.INVALID_RECORD, message: `Invalid sequence number ${b.firstSeq} in a batch of producer ${b.producerId}` };
    const e = this.producers.get(b.producerId);
    if (!e) return APPEND;
    if (b.producerEpoch < e.epoch)
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_PRODUCER_EPOCH,
        message: `Epoch of producer ${b.producerId} is ${b.producerEpoch}, which is smaller than the last seen epoch ${e.epoch}`,
      };
    if (b.producerEpoch === e.epoch) {
      for (const m of e.batches)
        if (m.firstSeq === b.firstSeq && m.lastSeq === b.lastSeq) return { kind: "duplicate", firstOffset: m.firstOffset, lastOffset: m.lastOffset };
    }
    if (!b.transactional && e.txnFirstOffset >= 0)
      return {
        kind: "error",
        errorCode: ErrorCode.INVALID_TXN_STATE,
        message: `Expected a transactional write from producer ${b.producerId}, which has an open transaction at offset ${e.txnFirstOffset}`,
      };
    if (b.producerEpoch !== e.epoch) {
      if (b.firstSeq !== 0)
        return {
          kind: "error",
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `Invalid sequence number for new epoch of producer ${b.producerId}: ${b.producerEpoch} (request epoch), ${b.firstSeq} (seq. number), ${e.epoch} (current producer epoch)`,
        };
      return APPEND;
    }
    const lastSeq = e.batches.length > 0 ? e.batches[e.batches.length - 1]!.lastSeq : -1;
    if (!inSequence(lastSeq, b.firstSeq))
      return {
        kind: "error",
        errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        message: `Out of order sequence number for producer ${b.producerId}: ${b.firstSeq} (incoming seq. number), ${lastSeq} (current end sequence number)`,
      };
    return APPEND;
  }

  /** Records an appended batch of a producer (produce path and recovery). */
  onBatch(b: ProducedBatch, firstOffset: number, lastOffset: number, now: number): void {
    let e = this.producers.get(b.producerId);
    if (!e) {
      e = { producerId: b.producerId, epoch: b.producerEpoch, batches: [], coordinatorEpoch: -1, txnFirstOffset: -1, lastTimestamp: -1, lastUpdated: now };
      this.producers.set(b.producerId, e);
    }
    if (b.producerEpoch !== e.epoch) {
      e.epoch = b.producerEpoch;
      e.batches = [];
    }
    e.batches.push({ firstSeq: b.firstSeq, lastSeq: b.lastSeq, firstOffset, lastOffset, timestamp: b.maxTimestamp });
    if (e.batches.length > BATCHES_RETAINED) e.batches.shift();
    e.lastTimestamp = b.maxTimestamp;
    e.lastUpdated = now;
    if (b.transactional && e.txnFirstOffset < 0) {
      e.txnFirstOffset = firstOffset;
      this.ongoing.set(b.producerId, firstOffset);
    }
    this.touch();
  }

  /**
   * Records a transaction marker appended at `offset`. Returns the completed transaction's first offset
   * (-1 when the producer had no open transaction here).
   */
  onMarker(producerId: number, epoch: number, commit: boolean, coordinatorEpoch: number, offset: number, timestamp: number, now: number): number {
    let e = this.producers.get(producerId);
    if (!e) {
      e = { producerId, epoch, batches: [], coordinatorEpoch, txnFirstOffset: -1, lastTimestamp: timestamp, lastUpdated: now };
      this.producers.set(producerId, e);
    }
    const first = e.txnFirstOffset;
    if (epoch !== e.epoch) {
      if (epoch > e.epoch) e.batches = [];
      e.epoch = Math.max(e.epoch, epoch);
    }
    e.txnFirstOffset = -1;
    e.coordinatorEpoch = coordinatorEpoch;
    e.lastTimestamp = timestamp;
    e.lastUpdated = now;
    this.ongoing.delete(producerId);
    if (first >= 0 && !commit) {
      this.aborted.push({ producerId, firstOffset: first, lastOffset: offset });
      this.maxAbortedSpan = Math.max(this.maxAbortedSpan, offset - first);
    }
    this.touch();
    return first;
  }

  // ---- the fetch path -----------------------------------------------------------------------------

  /**
   * Aborted transactions overlapping [fetchOffset, upperBound): those whose ABORT marker is at or after
   * fetchOffset and whose first offset is below upperBound (Kafka's collectAbortedTxns).
   */
  abortedTransactions(fetchOffset: number, upperBound: number): { producerId: number; firstOffset: number }[] {
    const out: { producerId: number; firstOffset: number }[] = [];
    const list = this.aborted;
    let lo = 0, hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const a = list[i]!;
      // Later entries end later still; none of them can start below upperBound once this bound passes.
      if (a.lastOffset - this.maxAbortedSpan >= upperBound) break;
      if (a.firstOffset < upperBound) out.push({ producerId: a.producerId, firstOffset: a.firstOffset });
    }
    return out;
  }

  // ---- housekeeping -------------------------------------------------------------------------------

  /**
   * Drops producers without an open transaction not heard from for expirationMs (Kafka's
   * producer.id.expiration.ms) and aborted-index entries wholly below the log start offset.
   */
  expire(now: number, expirationMs: number, logStartOffset: number): void {
    for (const [pid, e] of this.producers)
      if (e.txnFirstOffset < 0 && now - e.lastUpdated >= expirationMs) {
        this.producers.delete(pid);
        this.touch();
      }
    let n = 0;
    while (n < this.aborted.length && this.aborted[n]!.lastOffset < logStartOffset) n++;
    if (n > 0) {
      this.aborted = this.aborted.slice(n);
      this.touch();
    }
  }

  // ---- snapshots and recovery ---------------------------------------------------------------------

  toSnapshot(offset: number): object {
    return {
      version: SNAPSHOT_VERSION,
      offset,
      producers: [...this.producers.values()].map((e) => [
        e.producerId,
        e.epoch,
        e.coordinatorEpoch,
        e.txnFirstOffset,
        e.lastTimestamp,
        e.lastUpdated,
        e.batches.map((b) => [b.firstSeq, b.lastSeq, b.firstOffset, b.lastOffset, b.timestamp]),
      ]),
      aborted: this.aborted.map((a) => [a.producerId, a.firstOffset, a.lastOffset]),
    };
  }

  /** Restores a snapshot; returns the offset it describes, or null when it is unusable. */
  static fromSnapshot(json: unknown): { state: ProducerStateManager; offset: number } | null {
    const s = json as { version?: number; offset?: number; producers?: unknown[]; aborted?: unknown[] };
    if (!s || s.version !== SNAPSHOT_VERSION || !Number.isSafeInteger(s.offset) || !Array.isArray(s.producers) || !Array.isArray(s.aborted)) return null;
    // Every number where one belongs (a damaged snapshot is replayed from the log instead).
    const ints = (a: unknown, n: number) => Array.isArray(a) && a.length >= n && a.slice(0, n).every((x) => typeof x === "number" && Number.isFinite(x));
    for (const p of s.producers)
      if (!ints(p, 6) || !Array.isArray((p as unknown[])[6]) || !((p as unknown[])[6] as unknown[]).every((b) => ints(b, 5))) return null;
    if (!s.aborted.every((a) => ints(a, 3))) return null;
    const state = new ProducerStateManager();
    const open: [number, number][] = [];
    for (const p of s.producers as any[]) {
      const [producerId, epoch, coordinatorEpoch, txnFirstOffset, lastTimestamp, lastUpdated, batches] = p;
      const e: ProducerEntry = {
        producerId,
        epoch,
        coordinatorEpoch,
        txnFirstOffset,
        lastTimestamp,
        lastUpdated,
        batches: (batches as number[][]).map(([firstSeq, lastSeq, firstOffset, lastOffset, timestamp]) => ({
          firstSeq: firstSeq!,
          lastSeq: lastSeq!,
          firstOffset: firstOffset!,
          lastOffset: lastOffset!,
          timestamp: timestamp!,
        })),
      };
      state.producers.set(producerId, e);
      if (txnFirstOffset >= 0) open.push([producerId, txnFirstOffset]);
    }
    open.sort((a, b) => a[1] - b[1]);
    for (const [pid, first] of open) state.ongoing.set(pid, first);
    for (const [producerId, firstOffset, lastOffset] of s.aborted as number[][]) {
      state.aborted.push({ producerId: producerId!, firstOffset: firstOffset!, lastOffset: lastOffset! });
      state.maxAbortedSpan = Math.max(state.maxAbortedSpan, lastOffset! - firstOffset!);
    }
    return { state, offset: s.offset! };
  }

  /** Replays the batches of `log` from `from` to its end (header-only, control batches decoded). */
  replay(log: PartitionLog, from: number, now: number): number {
    let offset = Math.max(from, log.logStartOffset);
    let batches = 0;
    while (offset < log.logEndOffset) {
      const data = log.read(offset, 8 << 20, true);
      if (!data || data.length === 0) break;
      let next = offset;
      iterateBatchHeaders(data, 0, data.length, (pos, size, view) => {
        const base = readInt64(view, pos);
        const last = base + view.getInt32(pos + LAST_OFFSET_DELTA);
        next = last + 1;
        if (base < offset) return; // already part of the snapshot
        const pid = readInt64(view, pos + PRODUCER_ID);
        if (pid < 0) return;
        batches++;
        const attributes = view.getInt16(pos + ATTRIBUTES);
        const epoch = view.getInt16(pos + PRODUCER_EPOCH);
        const ts = readInt64(view, pos + MAX_TIMESTAMP);
        if (attributes & CONTROL_BIT) {
          const marker = readMarker(data.subarray(pos, pos + size));
          if (marker) this.onMarker(pid, epoch, marker.commit, marker.coordinatorEpoch, base, ts, now);
          return;
        }
        const firstSeq = view.getInt32(pos + BASE_SEQUENCE);
        this.onBatch(
          {
            producerId: pid,
            producerEpoch: epoch,
            firstSeq,
            lastSeq: firstSeq < 0 ? -1 : (firstSeq + (last - base)) % (INT32_MAX + 1),
            transactional: (attributes & TRANSACTIONAL_BIT) !== 0,
            maxTimestamp: ts,
          },
          base,
          last,
          now,
        );
      });
      if (next <= offset) break; // no progress: never loop
      offset = next;
    }
    return batches;
  }
}

/** The marker of a control batch, or null for a control record that is not a transaction marker. */
function readMarker(batch: Uint8Array): { commit: boolean; coordinatorEpoch: number } | null {
  try {
    const rec = decodeRecords(batch).records[0];
    if (!rec?.key) return null;
    const { type } = parseControlRecordKey(rec.key);
    if (type !== ControlType.ABORT && type !== ControlType.COMMIT) return null;
    const coordinatorEpoch = rec.value ? parseControlRecordValue(rec.value).coordinatorEpoch : 0;
    return { commit: type === ControlType.COMMIT, coordinatorEpoch };
  } catch {
    return null;
  }
}

/**
 * Loads the producer state of a partition log: its snapshot (when it describes an offset inside the
 * current log) plus a replay of the batches after it; or a replay of the whole log. From then on the
 * log's checkpoints carry the state.
 */
export function loadProducerState(log: PartitionLog, now = Date.now()): { state: ProducerStateManager; fromSnapshot: boolean; replayed: number } {
  let state: ProducerStateManager | null = null;
  let from = log.logStartOffset;
  const legacyFile = path.join(log.dir, SNAPSHOT_FILE);
  let stored = log.takeProducerSnapshot();
  let fromLegacyFile = false;
  if (stored === undefined) {
    try {
      stored = JSON.parse(fs.readFileSync(legacyFile, "utf8"));
      fromLegacyFile = true;
    } catch {
      // no snapshot anywhere: scan the log
    }
  }
  const none = (stored as Partial<NoProducerState> | undefined)?.noProducersBefore;
  const restored = Number.isSafeInteger(none)
    ? { state: new ProducerStateManager(), offset: none! }
    : stored === undefined
      ? null
      : ProducerStateManager.fromSnapshot(stored);
  // A snapshot past the log end describes batches recovery cut off (a torn tail): unusable.
  if (restored && restored.offset <= log.logEndOffset) {
    state = restored.state;
    from = restored.offset;
  }
  const fromSnapshot = state !== null;
  state ??= new ProducerStateManager();
  const replayed = state.replay(log, from, now);
  state.dirty = replayed > 0 || !fromSnapshot;
  log.attachProducerState(state);
  if (fromLegacyFile) fs.rmSync(legacyFile, { force: true }); // the checkpoint carries the state from now on
  return { state, fromSnapshot, replayed };
}

/** Marks the state as snapshotted: the log's next checkpoint (periodic, or at a clean close) writes it. */
export function writeProducerSnapshot(log: PartitionLog, state: ProducerStateManager): void {
  log.attachProducerState(state);
  state.dirty = false;
}

/** The producer fields of a validated single-batch produce, or null when the batch has no producer id. */
export function producedBatchOf(v: {
  firstProducerId: number;
  firstProducerEpoch: number;
  firstBaseSequence: number;
  lastSequence: number;
  transactional: boolean;
  maxTimestamp: number;
}): ProducedBatch | null {
  if (v.firstProducerId < 0) return null;
  return {
    producerId: v.firstProducerId,
    producerEpoch: v.firstProducerEpoch,
    firstSeq: v.firstBaseSequence,
    lastSeq: v.lastSequence,
    transactional: v.transactional,
    maxTimestamp: v.maxTimestamp,
  };
}
