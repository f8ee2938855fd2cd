// The transaction coordinator (Kafka's TransactionCoordinator), for every transactional id: Brook is the
// only broker, so it coordinates them all, and the transaction markers it writes are local appends.
//
// Mirrors Kafka:
// - states Empty → Ongoing → PrepareCommit/PrepareAbort → CompleteCommit/CompleteAbort (→ Ongoing …);
//   the Prepare states are written (fsynced) to the transaction log before the markers, so a restart
//   finishes what was decided. Markers are control batches appended to every partition in the
//   transaction; committed offsets staged by TxnOffsetCommit go to the group coordinator on commit.
// - InitProducerId with a transactional id: a producer id per transactional id, its epoch bumped by every
//   init (a new producer id once the epoch is exhausted); an init while a transaction is open fences the
//   old producer (epoch bump), aborts the transaction with the bumped epoch and answers
//   CONCURRENT_TRANSACTIONS, so the client retries and gets a second bump. v3+ (KIP-360): a producer may
//   present its id and epoch; a retry of a completed bump gets the same epoch back, a stale one
//   PRODUCER_FENCED. transaction.timeout.ms is checked against transaction.max.timeout.ms.
// - PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH for requests older than KIP-588 (InitProducerId < v4,
//   AddPartitionsToTxn/AddOffsetsToTxn/EndTxn < v2).
// - Timed-out transactions are fenced and aborted from a timer that runs every
//   transaction.abort.timed.out.transaction.cleanup.interval.ms; transactional ids idle (and without an
//   open transaction) for transactional.id.expiration.ms are removed.
// - Produce of a transactional batch is checked against the coordinator (as Kafka 3.6+ verifies it):
//   the producer id and epoch must be the transactional id's current ones and the partition must have
//   been added to the ongoing transaction (INVALID_PRODUCER_EPOCH / INVALID_TXN_STATE otherwise), so a
//   zombie can never leave a transaction hanging.
// On start: the transaction log is replayed, every partition's producer state is loaded, transactions
// found in PrepareCommit/PrepareAbort are completed (markers only where still missing), and a partition
// holding an open transaction the coordinator does not know as ongoing there (a "hanging" transaction)
// gets an abort marker. Ongoing transactions stay open: their producer may still finish them, and the
// timeout aborts them otherwise.
// Transactions v2 (KIP-890; Brook finalizes transaction.version 2, as a new Kafka 4.0 cluster does):
// - EndTxn v5 bumps the epoch with every transaction: the Prepare state and the markers carry epoch + 1,
//   which the answer hands to the producer for its next transaction. An exhausted epoch (32766) moves the
//   transactional id to a new producer id with epoch 0 once the markers are written; a retried EndTxn
//   (the previous epoch, or the old producer id at 32766) gets the current id and epoch again. v5 may
//   abort without an open transaction (Empty, or after a completed one), still bumping the epoch.
// - Produce v12 adds a transactional batch's partition to the transaction, TxnOffsetCommit v5 the group
//   (no AddPartitionsToTxn / AddOffsetsToTxn round trips); a transaction the coordinator ends itself (a
//   timeout, a fencing InitProducerId) is completed with the v2 bump as well, since that is the finalized
//   version.
// - AddPartitionsToTxn v4+ (the batched broker form): VerifyOnly answers TRANSACTION_ABORTABLE for a
//   partition not in the transaction. Produce v11 / TxnOffsetCommit v4 get TRANSACTION_ABORTABLE where
//   older versions get INVALID_TXN_STATE (Kafka's AddPartitionsToTxnManager error mapping).
// Not implemented: two-phase marker retries over the network (local appends cannot partially fail short
// of a crash, which the restart path covers).
import { ErrorCode } from "../../protocol/errors.ts";
import { encodeControlBatch } from "../../protocol/records/records.ts";
import type { AppendCheck, ProducedBatch } from "../log/producer-state.ts";
import type { BrokerConfig } from "../config.ts";
import type { GroupCoordinator } from "../group/coordinator.ts";
import type { Logger } from "../log.ts";
import type { ProducerIdAllocator } from "../producer-ids.ts";
import type { Partition, TopicStore } from "../topics.ts";
import { PartitionStates } from "./partition-states.ts";
import { TxnLog, type StoredTxn } from "./txn-log.ts";
import { CRASH_POINTS, crashPoint } from "../crash-points.ts";

export type TxnState = "Empty" | "Ongoing" | "PrepareCommit" | "PrepareAbort" | "CompleteCommit" | "CompleteAbort" | "Dead" | "PrepareEpochFence";
export const TXN_STATES: readonly TxnState[] = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"];

/** Short.MaxValue; an epoch at MAX_EPOCH - 1 is exhausted (the last one is kept for fencing). */
export const MAX_EPOCH = 32767;
const isEpochExhausted = (epoch: number) => epoch >= MAX_EPOCH - 1;
/** Brook's coordinator never moves, so its epoch (written into markers) never changes. */
export const COORDINATOR_EPOCH = 0;
/** How often producer state snapshots are written (and idle producers expired). */
export const SNAPSHOT_INTERVAL_MS = 30_000;
/** Kafka's OFFSET_METADATA_TOO_LARGE (not in protocol/errors.ts). */
const OFFSET_METADATA_TOO_LARGE = 12;

export interface StagedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export class TxnMetadata {
  lastProducerId = -1;
  producerEpoch = -1;
  lastProducerEpoch = -1;
  state: TxnState = "Empty";
  readonly partitions = new Map<string, Set<number>>();
  readonly groups = new Set<string>();
  /** group → "topic\0partition" → offset staged by TxnOffsetCommit */
  readonly offsets = new Map<string, Map<string, StagedOffset>>();
  startTimestamp = -1;
  /** the producer id the transactional id moves to once the Prepare state completes (v2 epoch overflow) */
  nextProducerId = -1;

  constructor(
    readonly transactionalId: string,
    public producerId: number,
    public timeoutMs: number,
    public lastUpdateTimestamp: number,
  ) {}

  hasPartition(topic: string, partition: number): boolean {
    return this.partitions.get(topic)?.has(partition) ?? false;
  }

  get isPreparing(): boolean {
    return this.state === "PrepareCommit" || this.state === "PrepareAbort";
  }

  clearTransaction(): void {
    this.partitions.clear();
    this.groups.clear();
    this.offsets.clear();
  }

  toStored(): StoredTxn {
    const offsets: StoredTxn["offsets"] = [];
    for (const [group, m] of this.offsets)
      for (const o of m.values()) offsets.push([group, o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata, o.commitTimestamp]);
    return {
      transactionalId: this.transactionalId,
      producerId: this.producerId,
      lastProducerId: this.lastProducerId,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      timeoutMs: this.timeoutMs,
      state: this.state,
      partitions: [...this.partitions].map(([t, ps]) => [t, [...ps].sort((a, b) => a - b)]),
      groups: [...this.groups],
      offsets,
      startTimestamp: this.startTimestamp,
      lastUpdateTimestamp: this.lastUpdateTimestamp,
      ...(this.nextProducerId >= 0 ? { nextProducerId: this.nextProducerId } : {}),
    };
  }

  static fromStored(s: StoredTxn): TxnMetadata {
    const t = new TxnMetadata(s.transactionalId, s.producerId, s.timeoutMs, s.lastUpdateTimestamp);
    t.lastProducerId = s.lastProducerId;
    t.producerEpoch = s.producerEpoch;
    t.lastProducerEpoch = s.lastProducerEpoch;
    t.state = (TXN_STATES as readonly string[]).includes(s.state) ? (s.state as TxnState) : "Empty";
    for (const [topic, ps] of s.partitions ?? []) t.partitions.set(topic, new Set(ps));
    for (const g of s.groups ?? []) t.groups.add(g);
    for (const [group, topic, partition, offset, leaderEpoch, metadata, commitTimestamp] of s.offsets ?? [])
      stage(t, group, { topic, partition, offset, leaderEpoch, metadata, commitTimestamp });
    t.startTimestamp = s.startTimestamp;
    t.nextProducerId = s.nextProducerId ?? -1;
    return t;
  }
}

function stage(t: TxnMetadata, group: string, o: StagedOffset): void {
  let m = t.offsets.get(group);
  if (!m) t.offsets.set(group, (m = new Map()));
  m.set(`${o.topic}\0${o.partition}`, o);
}

export interface TxnSettings {
  maxTimeoutMs: number;
  abortIntervalMs: number;
  idExpirationMs: number;
  producerIdExpirationMs: number;
  metadataMaxBytes: number;
}

export function txnSettings(config: BrokerConfig): TxnSettings {
  const n = (name: string) => config.get(name) as number;
  return {
    maxTimeoutMs: n("transaction.max.timeout.ms"),
    abortIntervalMs: n("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
    idExpirationMs: n("transactional.id.expiration.ms"),
    producerIdExpirationMs: n("producer.id.expiration.ms"),
    metadataMaxBytes: n("offset.metadata.max.bytes"),
  };
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface EndTxnResult {
  errorCode: number;
  /** v5: the producer id and epoch for the next transaction (-1 with an error) */
  producerId: number;
  producerEpoch: number;
}

export interface TopicPartitions {
  name: string;
  partitions: number[];
}

export interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: number;
  producerEpoch: number;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }[];
  }[];
}

/** What the coordinator needs of the broker (which satisfies it). */
interface Deps {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly topics: TopicStore;
  readonly groups: GroupCoordinator;
  readonly producerIds: ProducerIdAllocator;
  notifyAppend(partition: Partition): void;
}

/** PRODUCER_FENCED for clients that know it (KIP-588), INVALID_PRODUCER_EPOCH for older request versions. */
export function fencedError(version: number, firstVersionWithFenced: number): number {
  return version >= firstVersionWithFenced ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH;
}

export class TransactionCoordinator {
  readonly states: PartitionStates;
  readonly settings: TxnSettings;
  private readonly txns = new Map<string, TxnMetadata>();
  private readonly byProducerId = new Map<number, TxnMetadata>();
  private txnLog: TxnLog | null = null;
  private abortTimer: ReturnType<typeof setInterval> | null = null;
  private snapshotTimer: ReturnType<typeof setInterval> | null = null;
  private active = false;

  constructor(private readonly broker: Deps) {
    this.states = new PartitionStates(broker.log);
    this.settings = txnSettings(broker.config);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** A transactional id's metadata (tests, tools). */
  transaction(transactionalId: string): TxnMetadata | undefined {
    return this.txns.get(transactionalId);
  }

  // ---- start and stop -----------------------------------------------------------------------------

  /** Loads the transaction log and every partition's producer state, finishes what a crash left. */
  start(): void {
    const { log, topics } = this.broker;
    const { txnLog, state } = TxnLog.open(this.broker.config.logDirs[0]!, log);
    this.txnLog = txnLog;
    for (const s of state) {
      const t = TxnMetadata.fromStored(s);
      this.txns.set(t.transactionalId, t);
      this.byProducerId.set(t.producerId, t);
    }
    for (const topic of topics.all()) for (const p of topic.partitions) this.states.of(p);
    this.active = true;
    for (const t of this.txns.values()) {
      if (!t.isPreparing) continue;
      const commit = t.state === "PrepareCommit";
      log.info(`completing transaction ${t.transactionalId} (producer ${t.producerId}/${t.producerEpoch}) found in ${t.state}`);
      this.completeTransaction(t, commit, true, false);
    }
    for (const topic of topics.all())
      for (const p of topic.partitions) {
        const s = this.states.of(p);
        for (const [pid, first] of [...s.openTransactions()]) {
          const t = this.byProducerId.get(pid);
          if (t && t.producerId === pid && t.state === "Ongoing" && t.hasPartition(p.topic, p.index)) continue;
          const epoch = s.producers.get(pid)!.epoch;
          log.warn(`${p.topic}-${p.index}: aborting a hanging transaction of producer ${pid}/${epoch} open since offset ${first}`);
          this.writeMarker(p, pid, epoch, false);
        }
      }
    if (this.txns.size > 0) log.info(`loaded ${this.txns.size} transactional ids from ${txnLog.path}`);
    this.abortTimer = setInterval(() => this.runTimers(), Math.max(1, this.settings.abortIntervalMs));
    this.abortTimer.unref?.();
    this.snapshotTimer = setInterval(() => this.snapshotStates(false), SNAPSHOT_INTERVAL_MS);
    this.snapshotTimer.unref?.();
  }

  /** The largest producer id a transactional id or a loaded partition's producer state holds (-1: none). */
  maxProducerIdInUse(): number {
    let max = -1;
    for (const t of this.txns.values()) max = Math.max(max, t.producerId, t.lastProducerId, t.nextProducerId);
    for (const topic of this.broker.topics.all())
      for (const p of topic.partitions) {
        const s = this.states.peek(p);
        if (s) for (const pid of s.producers.keys()) if (pid > max) max = pid;
      }
    return max;
  }

  /** Stops the timers (the broker is closing); requests from now on get COORDINATOR_NOT_AVAILABLE. */
  stop(): void {
    this.active = false;
    if (this.abortTimer) clearInterval(this.abortTimer);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    this.abortTimer = this.snapshotTimer = null;
  }

  /** Final step of a clean shutdown, before the logs close: snapshots and the transaction log. */
  close(): void {
    this.stop();
    this.snapshotStates(true);
    this.txnLog?.close();
    this.txnLog = null;
  }

  private snapshotStates(all: boolean): void {
    const now = Date.now();
    for (const topic of this.broker.topics.all())
      for (const p of topic.partitions) this.states.maintain(p, now, this.settings.producerIdExpirationMs, all && this.states.peek(p) !== undefined);
  }

  /** The periodic work: abort timed-out transactions, expire idle transactional ids. */
  runTimers(now = Date.now()): void {
    if (!this.active) return;
    try {
      this.runTimersNow(now);
    } catch (e) {
      this.broker.log.error(`transaction timers: ${(e as Error).message}`); // a full volume: next time
    }
  }

  private runTimersNow(now: number): void {
    for (const t of [...this.txns.values()]) {
      if (t.state === "Ongoing" && now >= t.startTimestamp + t.timeoutMs) {
        this.broker.log.info(`aborting transaction ${t.transactionalId} (producer ${t.producerId}/${t.producerEpoch}): timed out after ${t.timeoutMs} ms`);
        this.fenceAndAbort(t, now);
      }
    }
    const expired: string[] = [];
    for (const t of [...this.txns.values()]) {
      const idle = t.state === "Empty" || t.state === "CompleteCommit" || t.state === "CompleteAbort";
      if (idle && now - t.lastUpdateTimestamp >= this.settings.idExpirationMs) {
        this.txns.delete(t.transactionalId);
        if (this.byProducerId.get(t.producerId) === t) this.byProducerId.delete(t.producerId);
        expired.push(t.transactionalId);
      }
    }
    if (expired.length > 0) {
      this.broker.log.info(`expired ${expired.length} idle transactional ids`);
      this.txnLog?.appendTombstones(expired);
    }
  }

  // ---- durability ---------------------------------------------------------------------------------

  private persist(t: TxnMetadata, sync: boolean): void {
    const txnLog = this.txnLog;
    if (!txnLog) return;
    txnLog.append(t.toStored(), sync);
    try {
      txnLog.maybeCompact(() => [...this.txns.values()].map((x) => x.toStored()), this.txns.size);
    } catch (e) {
      this.broker.log.error(`compacting ${txnLog.path} failed: ${(e as Error).message}`);
    }
  }

  private setProducerId(t: TxnMetadata, producerId: number): void {
    if (this.byProducerId.get(t.producerId) === t) this.byProducerId.delete(t.producerId);
    t.lastProducerId = t.producerId;
    t.producerId = producerId;
    this.byProducerId.set(producerId, t);
  }

  // ---- InitProducerId -----------------------------------------------------------------------------

  initProducerId(transactionalId: string | null, timeoutMs: number, expectedProducerId: number, expectedEpoch: number, version: number): InitProducerIdResult {
    const fail = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    // Like Kafka, an idempotent producer always gets a fresh producer id (it bumps epochs on its own).
    if (transactionalId === null) return { errorCode: ErrorCode.NONE, producerId: this.broker.producerIds.allocate(), producerEpoch: 0 };
    if (transactionalId === "") return fail(ErrorCode.INVALID_REQUEST);
    if ((expectedProducerId < 0) !== (expectedEpoch < 0)) return fail(ErrorCode.INVALID_REQUEST);
    if (!this.active) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (timeoutMs <= 0 || timeoutMs > this.settings.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const expected = expectedProducerId >= 0 ? { producerId: expectedProducerId, epoch: expectedEpoch } : null;
    const now = Date.now();
    let t = this.txns.get(transactionalId);
    if (!t) {
      t = new TxnMetadata(transactionalId, this.broker.producerIds.allocate(), timeoutMs, now);
      this.txns.set(transactionalId, t);
      this.byProducerId.set(t.producerId, t);
    }
    if (expected) {
      const valid =
        t.producerEpoch === -1 ||
        expected.producerId === t.producerId ||
        (expected.producerId === t.lastProducerId && isEpochExhausted(expected.epoch));
      if (!valid) return fail(fencedError(version, 4));
    }
    switch (t.state) {
      case "PrepareCommit":
      case "PrepareAbort":
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case "Ongoing":
        // Fence the current producer and abort its transaction with the bumped epoch; the client retries
        // and then gets an epoch bumped once more (or a new producer id if that exhausts the epochs).
        this.broker.log.info(`transactional id ${transactionalId}: a new producer fences producer ${t.producerId}/${t.producerEpoch} and aborts its transaction`);
        this.fenceAndAbort(t, now);
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case "Empty":
      case "CompleteCommit":
      case "CompleteAbort":
        break;
      default:
        return fail(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
    if (isEpochExhausted(t.producerEpoch) && (!expected || expected.epoch === t.producerEpoch)) {
      const lastEpoch = expected ? t.producerEpoch : -1;
      this.setProducerId(t, this.broker.producerIds.allocate());
      t.producerEpoch = 0;
      t.lastProducerEpoch = lastEpoch;
    } else if (!expected) {
      t.producerEpoch += 1;
      t.lastProducerEpoch = -1;
    } else if (t.producerEpoch === -1 || expected.epoch === t.producerEpoch) {
      t.lastProducerEpoch = t.producerEpoch;
      t.producerEpoch += 1;
    } else if (expected.epoch !== t.lastProducerEpoch) {
      return fail(fencedError(version, 4));
    } // else: a retry of a bump that succeeded; the same epoch again
    t.state = "Empty";
    t.timeoutMs = timeoutMs;
    t.clearTransaction();
    t.startTimestamp = -1;
    t.lastUpdateTimestamp = now;
    this.persist(t, true);
    return { errorCode: ErrorCode.NONE, producerId: t.producerId, producerEpoch: t.producerEpoch };
  }

  // ---- AddPartitionsToTxn, AddOffsetsToTxn --------------------------------------------------------

  /** Kafka's checks shared by AddPartitionsToTxn and AddOffsetsToTxn; NONE when the transaction may grow. */
  private checkAdd(transactionalId: string, producerId: number, producerEpoch: number, version: number): { errorCode: number; txn?: TxnMetadata } {
    if (transactionalId === "") return { errorCode: ErrorCode.INVALID_REQUEST };
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    const t = this.txns.get(transactionalId);
    if (!t || t.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (t.producerEpoch !== producerEpoch) return { errorCode: fencedError(version, 2) };
    if (t.isPreparing) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    if (t.state === "Dead" || t.state === "PrepareEpochFence") return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    return { errorCode: ErrorCode.NONE, txn: t };
  }

  private beginIfNeeded(t: TxnMetadata, now: number): void {
    if (t.state !== "Ongoing") {
      t.state = "Ongoing";
      t.clearTransaction();
      t.startTimestamp = now;
    }
    t.lastUpdateTimestamp = now;
  }

  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topics: TopicPartitions[],
    version: number,
  ): { name: string; resultsByPartition: { partitionIndex: number; partitionErrorCode: number }[] }[] {
    const answer = (code: (topic: string, p: number) => number) =>
      topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })) }));
    const exists = (topic: string, p: number) => this.broker.topics.partition(topic, p) !== undefined;
    if (topics.some((t) => t.partitions.some((p) => !exists(t.name, p))))
      return answer((topic, p) => (exists(topic, p) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    const { errorCode, txn: t } = this.checkAdd(transactionalId, producerId, producerEpoch, version);
    if (!t) return answer(() => errorCode);
    this.addToTransaction(t, topics);
    return answer(() => ErrorCode.NONE);
  }

  /** Adds partitions to the transaction (starting it when none is open); persisted when anything changed. */
  private addToTransaction(t: TxnMetadata, topics: TopicPartitions[]): void {
    const missing = topics.some((x) => x.partitions.some((p) => !t.hasPartition(x.name, p)));
    if (t.state === "Ongoing" && !missing) return;
    this.beginIfNeeded(t, Date.now());
    for (const x of topics) {
      let set = t.partitions.get(x.name);
      if (!set) t.partitions.set(x.name, (set = new Set()));
      for (const p of x.partitions) set.add(p);
    }
    this.persist(t, false);
  }

  /**
   * AddPartitionsToTxn v4+ with VerifyOnly (Kafka's handleVerifyPartitionsInTransaction): whether the
   * partitions are in the producer's transaction, without adding them.
   */
  verifyPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    topics: TopicPartitions[],
  ): { name: string; resultsByPartition: { partitionIndex: number; partitionErrorCode: number }[] }[] {
    const answer = (code: (topic: string, p: number) => number) =>
      topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })) }));
    const exists = (topic: string, p: number) => this.broker.topics.partition(topic, p) !== undefined;
    if (topics.some((t) => t.partitions.some((p) => !exists(t.name, p))))
      return answer((topic, p) => (exists(topic, p) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    if (transactionalId === "") return answer(() => ErrorCode.INVALID_REQUEST);
    if (!this.active) return answer(() => ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const t = this.txns.get(transactionalId);
    if (!t || t.producerId !== producerId) return answer(() => ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (t.producerEpoch !== producerEpoch) return answer(() => ErrorCode.PRODUCER_FENCED);
    if (t.isPreparing) return answer(() => ErrorCode.CONCURRENT_TRANSACTIONS);
    return answer((topic, p) => (t.hasPartition(topic, p) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE));
  }

  addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, version: number): number {
    const { errorCode, txn: t } = this.checkAdd(transactionalId, producerId, producerEpoch, version);
    if (!t) return errorCode;
    this.addGroup(t, groupId);
    return ErrorCode.NONE;
  }

  private addGroup(t: TxnMetadata, groupId: string): void {
    if (t.state === "Ongoing" && t.groups.has(groupId)) return;
    this.beginIfNeeded(t, Date.now());
    t.groups.add(groupId);
    this.persist(t, false);
  }

  // ---- TxnOffsetCommit ----------------------------------------------------------------------------

  /**
   * `version`: v5+ (transactions v2) adds the group to the transaction itself; v4 answers a group the
   * transaction never added TRANSACTION_ABORTABLE, older versions INVALID_TXN_STATE.
   */
  txnOffsetCommit(req: TxnOffsetCommitRequest, version = 3): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
    const all = (code: number) =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (!this.active) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const t = this.txns.get(req.transactionalId);
    if (!t || t.producerId !== req.producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    // Kafka answers a stale epoch here with the log layer's INVALID_PRODUCER_EPOCH, in every version.
    if (t.producerEpoch !== req.producerEpoch) return all(ErrorCode.INVALID_PRODUCER_EPOCH);
    if (t.isPreparing) return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (version >= 5) this.addGroup(t, req.groupId);
    // Offsets of a group the transaction never added (AddOffsetsToTxn) would never be completed.
    else if (t.state !== "Ongoing" || !t.groups.has(req.groupId))
      return all(version >= 4 ? ErrorCode.TRANSACTION_ABORTABLE : ErrorCode.INVALID_TXN_STATE);
    const groupError = this.broker.groups.validateTxnOffsetCommit(req.groupId, req.generationId, req.memberId, req.groupInstanceId);
    if (groupError !== ErrorCode.NONE) return all(groupError);
    const now = Date.now();
    let staged = 0;
    const out = req.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => {
        const metadata = p.committedMetadata ?? "";
        let errorCode: number = ErrorCode.NONE;
        if (!this.broker.topics.partition(topic.name, p.partitionIndex)) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (Buffer.byteLength(metadata) > this.settings.metadataMaxBytes) errorCode = OFFSET_METADATA_TOO_LARGE;
        else {
          stage(t, req.groupId, {
            topic: topic.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata,
            commitTimestamp: now,
          });
          staged++;
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    if (staged > 0) {
      t.lastUpdateTimestamp = now;
      this.persist(t, false);
    }
    return out;
  }

  /** True when an open transaction holds offsets for this group partition (OffsetFetch requireStable). */
  hasPendingOffsets(groupId: string, topic: string, partition: number): boolean {
    for (const t of this.txns.values()) {
      if (t.state !== "Ongoing" && !t.isPreparing) continue;
      if (t.offsets.get(groupId)?.has(`${topic}\0${partition}`)) return true;
    }
    return false;
  }

  // ---- EndTxn -------------------------------------------------------------------------------------

  endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean, version: number): EndTxnResult {
    if (version >= 5) return this.endTxnV2(transactionalId, producerId, producerEpoch, commit);
    const errorCode = this.endTxnV1(transactionalId, producerId, producerEpoch, commit, version);
    return { errorCode, producerId: -1, producerEpoch: -1 };
  }

  private endTxnV1(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean, version: number): number {
    if (transactionalId === "") return ErrorCode.INVALID_REQUEST;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const t = this.txns.get(transactionalId);
    if (!t || t.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (t.producerEpoch !== producerEpoch) return fencedError(version, 2);
    switch (t.state) {
      case "Ongoing":
        this.completeTransaction(t, commit, false, false);
        return ErrorCode.NONE;
      case "CompleteCommit": // a retry of an EndTxn that succeeded
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case "CompleteAbort":
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case "PrepareCommit":
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case "PrepareAbort":
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  /**
   * EndTxn v5 (Kafka's endTransaction for transaction version 2). A request with the epoch before the
   * current one (or, after an overflow, the old producer id at 32766) is a retry of one that succeeded.
   */
  private endTxnV2(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): EndTxnResult {
    const fail = (errorCode: number): EndTxnResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === "") return fail(ErrorCode.INVALID_REQUEST);
    if (!this.active) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const t = this.txns.get(transactionalId);
    if (!t) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const current = (): EndTxnResult => ({ errorCode: ErrorCode.NONE, producerId: t.producerId, producerEpoch: t.producerEpoch });
    const retryOnOverflow = t.lastProducerId === producerId && producerEpoch === MAX_EPOCH - 1 && t.producerEpoch === 0;
    const retryOnEpochBump = t.producerEpoch === producerEpoch + 1;
    const isRetry = retryOnEpochBump || retryOnOverflow;
    let validEpoch: boolean;
    switch (t.state) {
      case "PrepareCommit":
      case "PrepareAbort":
        validEpoch = retryOnEpochBump;
        break;
      case "CompleteCommit":
      case "CompleteAbort":
        validEpoch = isRetry || producerEpoch === t.producerEpoch;
        break;
      default:
        validEpoch = producerEpoch === t.producerEpoch;
    }
    if (t.producerId !== producerId && !retryOnOverflow) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (!validEpoch) return fail(ErrorCode.PRODUCER_FENCED);
    const complete = (abortOnly: boolean): EndTxnResult => {
      this.completeTransaction(t, abortOnly ? false : commit, false, true);
      return current();
    };
    switch (t.state) {
      case "Ongoing":
        return complete(false);
      case "CompleteCommit":
        if (commit) return isRetry ? current() : fail(ErrorCode.INVALID_TXN_STATE);
        return isRetry ? fail(ErrorCode.INVALID_TXN_STATE) : complete(true);
      case "CompleteAbort":
        if (!commit) return isRetry ? current() : complete(true);
        return fail(ErrorCode.INVALID_TXN_STATE);
      case "Empty":
        return commit ? fail(ErrorCode.INVALID_TXN_STATE) : complete(true);
      case "PrepareCommit":
        return fail(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case "PrepareAbort":
        return fail(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        return fail(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /**
   * Bumps the epoch (fencing the current producer) and aborts the open transaction with it; the abort
   * bumps once more, as Kafka completes a transaction it ends itself with the finalized version (2).
   */
  private fenceAndAbort(t: TxnMetadata, now: number): void {
    if (t.producerEpoch < MAX_EPOCH) {
      t.producerEpoch += 1;
      t.lastProducerEpoch = -1;
    }
    t.lastUpdateTimestamp = now;
    this.completeTransaction(t, false, false, true, true);
  }

  /**
   * Prepare (durably), write the markers, hand committed offsets to the group coordinator, complete.
   * `recovering`: markers only where the partition still has the producer's transaction open.
   * `bump` (transactions v2): the Prepare state and the markers carry the next epoch; an exhausted epoch
   * moves the transactional id to a new producer id (epoch 0) on completion. `fencing`: the epoch was just
   * bumped to fence the producer, so no new producer id is taken.
   */
  private completeTransaction(t: TxnMetadata, commit: boolean, recovering: boolean, bump: boolean, fencing = false): void {
    const now = Date.now();
    if (!recovering) {
      if (t.state !== "Ongoing") {
        // v2 may end a transaction that has no partitions: it still needs a start time.
        t.clearTransaction();
        t.startTimestamp = now;
      }
      if (bump && t.producerEpoch < MAX_EPOCH) {
        if (!fencing && isEpochExhausted(t.producerEpoch)) t.nextProducerId = this.broker.producerIds.allocate();
        t.lastProducerEpoch = t.producerEpoch;
        t.producerEpoch += 1;
      }
      t.state = commit ? "PrepareCommit" : "PrepareAbort";
      t.lastUpdateTimestamp = now;
      this.persist(t, true);
      if (CRASH_POINTS) crashPoint("txn.after-prepare");
    }
    let markers = 0;
    for (const [topic, parts] of t.partitions)
      for (const index of parts) {
        const p = this.broker.topics.partition(topic, index);
        if (!p) continue; // deleted meanwhile
        if (recovering && (this.states.of(p).producers.get(t.producerId)?.txnFirstOffset ?? -1) < 0) continue;
        if (CRASH_POINTS && markers++ === 1) crashPoint("txn.between-markers");
        this.writeMarker(p, t.producerId, t.producerEpoch, commit);
      }
    if (CRASH_POINTS) crashPoint("txn.before-complete");
    if (commit) {
      for (const [group, offsets] of t.offsets) {
        const list = [...offsets.values()].filter((o) => this.broker.topics.partition(o.topic, o.partition) !== undefined);
        if (list.length > 0) this.broker.groups.commitTxnOffsets(group, list);
      }
    }
    if (t.nextProducerId >= 0) {
      // The client last saw MAX - 1 (kept as the last epoch), then the new id with epoch 0.
      this.setProducerId(t, t.nextProducerId);
      t.producerEpoch = 0;
      t.nextProducerId = -1;
    }
    t.state = commit ? "CompleteCommit" : "CompleteAbort";
    t.clearTransaction();
    t.lastUpdateTimestamp = now;
    this.persist(t, false);
  }

  private writeMarker(p: Partition, producerId: number, producerEpoch: number, commit: boolean): void {
    const now = Date.now();
    const batch = encodeControlBatch({ producerId, producerEpoch, commit, coordinatorEpoch: COORDINATOR_EPOCH, timestamp: now });
    const { baseOffset } = p.log.append(batch, 1, undefined, { internal: true }); // markers may use the reserve
    this.states.of(p).onMarker(producerId, producerEpoch, commit, COORDINATOR_EPOCH, baseOffset, now, now);
    this.broker.notifyAppend(p);
  }

  // ---- the produce and fetch paths ----------------------------------------------------------------

  /**
   * Checks an idempotent or transactional batch (producer id >= 0) before it is appended. `version` is the
   * Produce version: v12+ (transactions v2) adds the partition to the transaction; for a partition the
   * transaction lacks, v11 gets TRANSACTION_ABORTABLE and older versions INVALID_TXN_STATE.
   */
  checkProduce(p: Partition, transactionalId: string | null, b: ProducedBatch, version = 9): AppendCheck {
    if (b.transactional) {
      const error = (errorCode: number, message: string): AppendCheck => ({ kind: "error", errorCode, message });
      if (transactionalId === null) return error(ErrorCode.INVALID_REQUEST, "a transactional batch needs the request's transactional id");
      if (!this.active) return error(ErrorCode.COORDINATOR_NOT_AVAILABLE, "the transaction coordinator is not available");
      const t = this.txns.get(transactionalId);
      if (!t || t.producerId !== b.producerId)
        return error(ErrorCode.INVALID_PRODUCER_ID_MAPPING, `producer ${b.producerId} is not the producer of transactional id ${transactionalId}`);
      if (b.producerEpoch !== t.producerEpoch)
        return error(ErrorCode.INVALID_PRODUCER_EPOCH, `producer epoch ${b.producerEpoch} is not the current epoch ${t.producerEpoch} of transactional id ${transactionalId}`);
      if (t.state !== "Ongoing" || !t.hasPartition(p.topic, p.index)) {
        if (version >= 12) {
          if (t.isPreparing) return error(ErrorCode.CONCURRENT_TRANSACTIONS, `transaction of ${transactionalId} is being completed`);
          this.addToTransaction(t, [{ name: p.topic, partitions: [p.index] }]);
        } else if (version >= 11) return error(ErrorCode.TRANSACTION_ABORTABLE, `${p.topic}-${p.index} is not part of an ongoing transaction of ${transactionalId}`);
        else return error(ErrorCode.INVALID_TXN_STATE, "Partition was not added to the transaction");
      }
    }
    return this.states.of(p).check(b);
  }

  /** Records an appended idempotent or transactional batch. */
  recordProduce(p: Partition, b: ProducedBatch, firstOffset: number, lastOffset: number): void {
    this.states.of(p).onBatch(b, firstOffset, lastOffset, Date.now());
  }

  lastStableOffset(p: Partition): number {
    return this.states.of(p).lastStableOffset(p.log.logEndOffset);
  }

  abortedTransactions(p: Partition, fetchOffset: number, upperBound: number): { producerId: number; firstOffset: number }[] {
    return this.states.of(p).abortedTransactions(fetchOffset, upperBound);
  }

  // ---- DescribeTransactions, ListTransactions -----------------------------------------------------

  describe(transactionalId: string) {
    const t = this.txns.get(transactionalId);
    if (!this.active || !t)
      return {
        errorCode: this.active ? ErrorCode.TRANSACTIONAL_ID_NOT_FOUND : ErrorCode.COORDINATOR_NOT_AVAILABLE,
        transactionalId,
        transactionState: "",
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1,
        producerId: -1,
        producerEpoch: -1,
        topics: [],
      };
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      transactionState: t.state,
      transactionTimeoutMs: t.timeoutMs,
      transactionStartTimeMs: t.startTimestamp,
      producerId: t.producerId,
      producerEpoch: t.producerEpoch,
      topics: [...t.partitions].map(([topic, ps]) => ({ topic, partitions: [...ps].sort((a, b) => a - b) })),
    };
  }

  list(stateFilters: string[], producerIdFilters: number[], durationFilterMs: number) {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, unknownStateFilters: [], transactionStates: [] };
    const known = new Set<string>(TXN_STATES);
    const unknownStateFilters = stateFilters.filter((s) => !known.has(s));
    const states = new Set(stateFilters.filter((s) => known.has(s)));
    const pids = new Set(producerIdFilters);
    const now = Date.now();
    const transactionStates = [];
    for (const t of this.txns.values()) {
      if (t.state === "Dead") continue;
      if (pids.size > 0 && !pids.has(t.producerId)) continue;
      if (stateFilters.length > 0 && !states.has(t.state)) continue;
      if (durationFilterMs >= 0 && now - t.startTimestamp <= durationFilterMs) continue;
      transactionStates.push({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state });
    }
    return { errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  }
}
