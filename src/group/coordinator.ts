// The group coordinator: every group and its committed offsets (Brook is the only broker, so it
// coordinates them all). This file holds the groups, their durable store and the requests that span the
// parts; the parts are
// - classic-rebalance.ts: Kafka's classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat,
//   LeaveGroup) and the member checks of offset commits;
// - offsets.ts: committed offsets (commit, fetch, delete, expiry).
// Offsets: commits validated against generation and member (a "simple" commit — generation -1, no
// member — only while the group is Empty), stored durably (offset-store.ts) and expired per
// offsets.retention.minutes: for an Empty group counted from when it became empty (Kafka 2.1+), for a
// group without a protocol from each commit, for a Stable consumer group only for topics it no longer
// subscribes to; commits with an explicit retention (v2–v4) expire at that time.
// Transactional offset commits: TxnOffsetCommit is staged by the transaction coordinator (src/txn),
// checked here (validateTxnOffsetCommit) and stored here when the transaction commits (commitTxnOffsets).
// Not implemented: the new consumer rebalance protocol (KIP-848, ConsumerGroupHeartbeat),
// COORDINATOR_LOAD_IN_PROGRESS (the offsets are loaded before the broker listens, so there is never a
// loading window).
import { ErrorCode } from "../../protocol/errors.ts";
import type { BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TopicStore } from "../topics.ts";
import { ClassicRebalance, type JoinRequest, type SyncRequest } from "./classic-rebalance.ts";
import { CONSUMER_PROTOCOL_TYPE } from "./consumer-protocol.ts";
import { groupSettings, type CoordinatorContext, type GroupSettings } from "./context.ts";
import { EMPTY_BYTES, Group, type GroupState, type JoinResult, type SyncResult } from "./group.ts";
import { OffsetStore, type LoadedState } from "./offset-store.ts";
import { OffsetManager, type CommitResult, type CommitTopic, type ExpiryRule, type FetchedTopic } from "./offsets.ts";

export { groupSettings, type GroupSettings } from "./context.ts";
export { NEW_MEMBER_JOIN_TIMEOUT_MS, type JoinRequest, type SyncRequest } from "./classic-rebalance.ts";
export { OFFSET_METADATA_TOO_LARGE, type CommitPartition, type FetchedPartition, type FetchedTopic } from "./offsets.ts";

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2–v4; -1 = the broker's retention rule */
  retentionTimeMs: number;
  topics: CommitTopic[];
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Uint8Array;
    memberAssignment: Uint8Array;
  }[];
}

export class GroupCoordinator implements CoordinatorContext {
  readonly groups = new Map<string, Group>();
  private readonly store: OffsetStore;
  private readonly offsets: OffsetManager;
  private readonly classic: ClassicRebalance;
  private active = true;
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  /** groups whose metadata record is in the store (so compaction keeps one for them) */
  private readonly persisted = new Set<string>();

  constructor(
    readonly settings: GroupSettings,
    logDir: string,
    readonly log: Logger,
    readonly topics: Pick<TopicStore, "get" | "partition">,
  ) {
    const { store, state } = OffsetStore.open(logDir, log);
    this.store = store;
    this.offsets = new OffsetManager(store, settings, log, topics);
    this.classic = new ClassicRebalance(this);
    this.load(state);
    this.retentionTimer = setInterval(() => this.expireOffsets(), Math.max(1, settings.retentionCheckIntervalMs));
    this.retentionTimer.unref?.();
  }

  static forBroker(config: BrokerConfig, log: Logger, topics: TopicStore): GroupCoordinator {
    return new GroupCoordinator(groupSettings(config), config.logDirs[0]!, log, topics);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The group, for tests and tools; undefined when unknown. */
  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  private load(state: LoadedState): void {
    const now = Date.now();
    for (const g of state.groups) {
      const group = new Group(g.group);
      group.generationId = g.generationId;
      group.protocolType = g.protocolType;
      // Members are not kept across restarts: a group that had members is Empty from now on.
      group.transition("Empty", g.emptySince >= 0 ? g.emptySince : now);
      this.groups.set(g.group, group);
      this.persisted.add(g.group);
    }
    for (const o of state.offsets) if (!this.groups.has(o.group)) this.groups.set(o.group, new Group(o.group));
    this.offsets.load(state.offsets);
    if (state.offsets.length > 0 || state.groups.length > 0)
      this.log.info(`loaded ${state.offsets.length} committed offsets of ${this.groups.size} groups from ${this.store.path}`);
  }

  validate(groupId: string | null, requireNonEmpty: boolean): number {
    if (groupId === null || (requireNonEmpty && groupId === "")) return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return ErrorCode.NONE;
  }

  // ---- the classic rebalance protocol (classic-rebalance.ts) ---------------------------------------

  joinGroup(req: JoinRequest): JoinResult | Promise<JoinResult> {
    return this.classic.joinGroup(req);
  }

  syncGroup(req: SyncRequest): SyncResult | Promise<SyncResult> {
    return this.classic.syncGroup(req);
  }

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    return this.classic.heartbeat(groupId, generationId, memberId, groupInstanceId);
  }

  leaveGroup(
    groupId: string,
    leaving: { memberId: string; groupInstanceId: string | null; reason?: string | null }[],
  ): { errorCode: number; members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] } {
    return this.classic.leaveGroup(groupId, leaving);
  }

  // ---- offsets ------------------------------------------------------------------------------------

  commitOffsets(req: CommitRequest): CommitResult {
    const all = (code: number) =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    const invalid = this.validate(req.groupId, false);
    if (invalid) return all(invalid);

    let group = this.groups.get(req.groupId);
    if (!group) {
      // A group that does not use Kafka for membership may commit; anything else is from an old generation.
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
    } else {
      const code = this.classic.validateOffsetCommit(group, req.generationId, req.memberId, req.groupInstanceId);
      if (code !== ErrorCode.NONE) return all(code);
    }
    const { results, stored } = this.offsets.commit(req.groupId, req.topics, req.retentionTimeMs);
    if (stored > 0) {
      if (!group) {
        group = new Group(req.groupId);
        this.groups.set(req.groupId, group);
      }
      this.maybeCompact();
    }
    return results;
  }

  /**
   * Kafka's member check of a transactional offset commit (validateOffsetCommit with isTransactional):
   * member and generation are checked only when the request names them (TxnOffsetCommit v3+); a group
   * that does not exist yet is created by the commit. NONE when the offsets may be staged.
   */
  validateTxnOffsetCommit(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const invalid = this.validate(groupId, false);
    if (invalid) return invalid;
    return this.classic.validateTxnOffsetCommit(this.groups.get(groupId), generationId, memberId, groupInstanceId);
  }

  /** The commit of a transaction: offsets staged by TxnOffsetCommit become the group's committed offsets. */
  commitTxnOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string; commitTimestamp: number }[],
  ): void {
    if (!this.active || offsets.length === 0) return;
    if (!this.groups.has(groupId)) this.groups.set(groupId, new Group(groupId));
    this.offsets.commitTxn(groupId, offsets);
    this.maybeCompact();
  }

  /** Committed offsets; a null topic list means all of the group's. Unknown partitions: offset -1, metadata "". */
  fetchOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null): { errorCode: number; topics: FetchedTopic[] } {
    const invalid = this.validate(groupId, false);
    if (invalid) {
      const topicsOut = (topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: invalid })),
      }));
      return { errorCode: invalid, topics: topicsOut };
    }
    return { errorCode: ErrorCode.NONE, topics: this.offsets.fetch(groupId, topics) };
  }

  deleteOffsets(
    groupId: string,
    topics: { name: string; partitions: { partitionIndex: number }[] }[],
  ): { errorCode: number; topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] } {
    const invalid = this.validate(groupId, true);
    if (invalid) return { errorCode: invalid, topics: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is("Dead")) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    if (group.protocolType !== CONSUMER_PROTOCOL_TYPE && !group.is("Empty")) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    const subscribed = group.is("Empty") ? new Set<string>() : this.classic.subscribedTopics(group);
    return { errorCode: ErrorCode.NONE, topics: this.offsets.delete(groupId, topics, subscribed) };
  }

  /**
   * Forgets every group's committed offsets of a deleted topic (Kafka does this when a topic is deleted).
   * For the DeleteTopics handler to call; until it does, the retention check drops them.
   */
  deleteTopicOffsets(topic: string): number {
    if (!this.active) return 0;
    return this.offsets.deleteTopic(topic);
  }

  // ---- DescribeGroups, ListGroups, DeleteGroups ---------------------------------------------------

  describeGroup(groupId: string): GroupDescription {
    const dead = (errorCode: number): GroupDescription => ({ errorCode, groupId, groupState: "Dead", protocolType: "", protocolData: "", members: [] });
    const invalid = this.validate(groupId, false);
    if (invalid) return dead(invalid);
    const group = this.groups.get(groupId);
    if (!group || group.is("Dead")) return dead(ErrorCode.NONE);
    const stable = group.is("Stable");
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? "",
      protocolData: stable ? group.protocolName ?? "" : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(group.protocolName ?? "") : EMPTY_BYTES,
        memberAssignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  listGroups(statesFilter: string[]): { errorCode: number; groups: { groupId: string; protocolType: string; groupState: string }[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const groups = [];
    for (const g of this.groups.values()) {
      if (g.is("Dead")) continue;
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? "", groupState: g.state });
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  deleteGroups(groupIds: string[]): { groupId: string; errorCode: number }[] {
    const deleted: string[] = [];
    const out = groupIds.map((groupId) => {
      const invalid = this.validate(groupId, false);
      if (invalid) return { groupId, errorCode: invalid };
      const group = this.groups.get(groupId);
      if (!group || group.is("Dead")) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
      if (!group.is("Empty")) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
      this.dropGroup(group);
      deleted.push(groupId);
      return { groupId, errorCode: ErrorCode.NONE };
    });
    this.store.appendGroupTombstones(deleted);
    return out;
  }

  /** Removes a group with its offsets (the caller writes the group tombstone, which deletes both). */
  private dropGroup(group: Group): void {
    group.transition("Dead");
    this.classic.clearTimers(group);
    this.groups.delete(group.groupId);
    this.persisted.delete(group.groupId);
    this.offsets.dropGroup(group.groupId);
  }

  // ---- durability and retention -------------------------------------------------------------------

  persistGroup(group: Group): void {
    if (!this.active) return;
    this.store.appendGroup({
      group: group.groupId,
      protocolType: group.protocolType,
      generationId: group.generationId,
      emptySince: group.is("Empty") ? group.stateTimestamp : -1,
    });
    this.persisted.add(group.groupId);
    this.maybeCompact();
  }

  private liveState(): LoadedState {
    const state: LoadedState = { offsets: this.offsets.live(), groups: [] };
    for (const g of this.groups.values()) {
      if (this.persisted.has(g.groupId))
        state.groups.push({
          group: g.groupId,
          protocolType: g.protocolType,
          generationId: g.generationId,
          emptySince: g.is("Empty") ? g.stateTimestamp : -1,
        });
    }
    return state;
  }

  private maybeCompact(): void {
    const live = this.persisted.size + this.offsets.count;
    try {
      this.store.maybeCompact(() => this.liveState(), live);
    } catch (e) {
      this.log.error(`compacting ${this.store.path} failed: ${(e as Error).message}`);
    }
  }

  /** Rewrites the offsets log with only the live state (tests and tools). */
  compact(): void {
    this.store.compact(this.liveState());
  }

  get storeStats(): { path: string; bytes: number; records: number } {
    return { path: this.store.path, bytes: this.store.fileSize, records: this.store.recordCount };
  }

  /** How a group's offsets expire (Kafka's offsetExpirationCondition); null = only with their topic. */
  private expiryRule(groupId: string): ExpiryRule | null {
    const group = this.groups.get(groupId);
    if (!group) return null;
    if (group.protocolType !== null && group.is("Empty")) return { base: () => group.stateTimestamp, keep: null };
    if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.is("Stable")) {
      const keep = this.classic.subscribedTopics(group);
      return keep === null ? null : { base: (o) => o.commitTimestamp, keep };
    }
    if (group.protocolType === null) return { base: (o) => o.commitTimestamp, keep: null };
    return null;
  }

  /**
   * Kafka's offset expiration (cleanupGroupMetadata), run every offsets.retention.check.interval.ms.
   * Offsets of topics that no longer exist go too (Kafka drops them when the topic is deleted).
   * An Empty group left without offsets is removed.
   */
  expireOffsets(now = Date.now()): number {
    if (!this.active) return 0;
    const gone = this.offsets.expire(now, (id) => this.expiryRule(id));
    const deadGroups: string[] = [];
    for (const group of [...this.groups.values()]) {
      if (group.is("Empty") && !this.offsets.hasOffsets(group.groupId) && group.pendingMembers.size === 0) {
        this.dropGroup(group);
        deadGroups.push(group.groupId);
      }
    }
    this.store.appendGroupTombstones(deadGroups);
    this.maybeCompact();
    return gone.length;
  }

  // ---- shutdown -----------------------------------------------------------------------------------

  /**
   * Stops the coordinator: parked JoinGroup/SyncGroup requests are answered NOT_COORDINATOR (as when Kafka
   * unloads a group), later requests get COORDINATOR_NOT_AVAILABLE, timers stop and the offsets log is
   * fsynced and closed.
   */
  close(): void {
    if (!this.active) return;
    this.active = false;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    this.classic.shutdown();
    this.store.close();
  }
}

export type { GroupState };
