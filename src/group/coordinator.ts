// The group coordinator: every group and its committed offsets (Brook is the only broker, so it
// coordinates them all). This file holds the groups, their durable store and the requests that span the
// parts; the parts are
// - classic-rebalance.ts: Kafka's classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat,
//   LeaveGroup) and the member checks of offset commits;
// - offsets.ts: committed offsets (commit, fetch, delete, expiry);
// - consumer-rebalance.ts: the consumer group protocol of KIP-848 (ConsumerGroupHeartbeat) for consumer
//   groups; classic-members.ts: classic-protocol members inside a consumer group (JoinGroup, SyncGroup,
//   Heartbeat and LeaveGroup to a consumer group with members); migration.ts: converting a group with
//   members between the two. A group id is either a classic group or a consumer group: a new-protocol
//   member joining an Empty classic group (or one that only holds offsets) turns it into a consumer group,
//   and a classic group with members too (online upgrade: its members stay, as classic members of the
//   consumer group); a classic member joining an Empty consumer group turns it back, and so does the
//   last new-protocol member leaving a group of classic members (online downgrade). Conversions of groups
//   with members follow group.consumer.migration.policy; committed offsets stay either way.
// Offsets: commits validated against generation and member (a "simple" commit — generation -1, no
// member — only while the group is Empty), stored durably (offset-store.ts) and expired per
// offsets.retention.minutes: for an Empty group counted from when it became empty (Kafka 2.1+), for a
// group without a protocol from each commit, for a Stable consumer group only for topics it no longer
// subscribes to; commits with an explicit retention (v2–v4) expire at that time.
// Transactional offset commits: TxnOffsetCommit is staged by the transaction coordinator (src/txn),
// checked here (validateTxnOffsetCommit) and stored here when the transaction commits (commitTxnOffsets).
// Not implemented: COORDINATOR_LOAD_IN_PROGRESS (the offsets are loaded before the broker listens, so
// there is never a loading window).
import { ErrorCode } from "../../protocol/errors.ts";
import type { BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { StorageError } from "../log/storage-error.ts";
import type { TopicStore } from "../topics.ts";
import { ClassicMembers } from "./classic-members.ts";
import { ClassicRebalance, type JoinRequest, type SyncRequest } from "./classic-rebalance.ts";
import { ConsumerGroup, type Assignment, type ConsumerMember, type MemberState } from "./consumer-group.ts";
import { CONSUMER_PROTOCOL_TYPE } from "./consumer-protocol.ts";
import { ConsumerRebalance, toTopicPartitions, type HeartbeatRequest, type HeartbeatResponse } from "./consumer-rebalance.ts";
import { consumerGroupSettings, groupSettings, type ConsumerContext, type ConsumerGroupSettings, type GroupSettings } from "./context.ts";
import { EMPTY_BYTES, Group, type GroupState, type JoinResult, type SyncResult } from "./group.ts";
import { classicGroupFromConsumer, MigrationError } from "./migration.ts";
import { OffsetStore, type LoadedState, type StoredAssignment, type StoredConsumerGroup, type StoredConsumerMember } from "./offset-store.ts";
import { OffsetManager, type CommitResult, type CommitTopic, type ExpiryRule, type FetchedTopic } from "./offsets.ts";

export { consumerGroupSettings, groupSettings, type ConsumerGroupSettings, type GroupSettings } from "./context.ts";
export type { HeartbeatRequest, HeartbeatResponse } from "./consumer-rebalance.ts";
export { NEW_MEMBER_JOIN_TIMEOUT_MS, type JoinRequest, type SyncRequest } from "./classic-rebalance.ts";
export { OFFSET_METADATA_TOO_LARGE, type CommitPartition, type FetchedPartition, type FetchedTopic } from "./offsets.ts";

export interface CommitRequest {
  /** the OffsetCommit version (v9+ answers GROUP_ID_NOT_FOUND and STALE_MEMBER_EPOCH) */
  apiVersion?: number;
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

export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] };
    targetAssignment: { topicPartitions: { topicId: string; topicName: string; partitions: number[] }[] };
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

const DEFAULT_CONSUMER_SETTINGS: ConsumerGroupSettings = {
  enabled: true,
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxSize: 2147483647,
  assignors: ["uniform", "range"],
  migrationPolicy: "bidirectional",
};

const toStored = (a: Assignment): StoredAssignment => [...a].map(([id, ps]) => [id, [...ps].sort((x, y) => x - y)]);
const fromStored = (a: StoredAssignment | undefined): Assignment => new Map((a ?? []).map(([id, ps]) => [id, new Set(ps)]));

export class GroupCoordinator implements ConsumerContext {
  readonly groups = new Map<string, Group>();
  readonly consumerGroups = new Map<string, ConsumerGroup>();
  private readonly store: OffsetStore;
  private readonly offsets: OffsetManager;
  private readonly classic: ClassicRebalance;
  private readonly consumer: ConsumerRebalance;
  /** classic-protocol members of consumer groups (mixed groups, KIP-848's online migration) */
  private readonly classicMembers: ClassicMembers;
  /** the group record last written for each consumer group (to write it only when it changes) */
  private readonly persistedConsumer = new Map<string, string>();
  private active = true;
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  /** groups whose metadata record is in the store (so compaction keeps one for them) */
  private readonly persisted = new Set<string>();

  constructor(
    readonly settings: GroupSettings,
    logDir: string,
    readonly log: Logger,
    readonly topics: Pick<TopicStore, "get" | "partition" | "all">,
    readonly consumerSettings: ConsumerGroupSettings = DEFAULT_CONSUMER_SETTINGS,
  ) {
    const { store, state } = OffsetStore.open(logDir, log);
    this.store = store;
    this.offsets = new OffsetManager(store, settings, log, topics);
    this.classic = new ClassicRebalance(this);
    this.consumer = new ConsumerRebalance(this);
    this.classicMembers = new ClassicMembers(this, this.consumer);
    this.load(state);
    this.retentionTimer = setInterval(() => {
      try {
        this.expireOffsets();
      } catch (e) {
        this.log.error(`offset expiry failed: ${(e as Error).message}`); // a full volume: next time
      }
    }, Math.max(1, settings.retentionCheckIntervalMs));
    this.retentionTimer.unref?.();
  }

  static forBroker(config: BrokerConfig, log: Logger, topics: TopicStore): GroupCoordinator {
    return new GroupCoordinator(groupSettings(config), config.logDirs[0]!, log, topics, consumerGroupSettings(config));
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The classic group, for tests and tools; undefined when unknown. */
  group(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  /** The consumer group (KIP-848), for tests and tools; undefined when unknown. */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.consumerGroups.get(groupId);
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
    for (const g of state.consumerGroups ?? []) this.consumerGroups.set(g.group, this.loadConsumerGroup(g));
    for (const o of state.offsets)
      if (!this.groups.has(o.group) && !this.consumerGroups.has(o.group)) this.groups.set(o.group, new Group(o.group));
    this.offsets.load(state.offsets);
    if (state.offsets.length > 0 || state.groups.length > 0)
      this.log.info(`loaded ${state.offsets.length} committed offsets of ${this.groups.size} groups from ${this.store.path}`);
  }

  private loadConsumerGroup(g: StoredConsumerGroup): ConsumerGroup {
    const group = new ConsumerGroup(g.group);
    group.groupEpoch = g.groupEpoch;
    group.assignmentEpoch = g.assignmentEpoch;
    group.subscriptionSignature = g.subscriptionSignature;
    for (const m of g.members) {
      group.updateMember({
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        previousMemberEpoch: m.previousMemberEpoch,
        state: m.state as MemberState,
        instanceId: m.instanceId,
        rackId: m.rackId,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        serverAssignor: m.serverAssignor,
        assigned: fromStored(m.assigned),
        pendingRevocation: fromStored(m.pendingRevocation),
        classic: m.classic
          ? { sessionTimeoutMs: m.classic.sessionTimeoutMs, supportedProtocols: m.classic.protocols.map(([name, metadata]) => ({ name, metadata })) }
          : null,
      });
      group.setTargetAssignment(m.memberId, fromStored(m.target));
    }
    group.updateState();
    this.persistedConsumer.set(g.group, `${g.groupEpoch}:${g.assignmentEpoch}:${g.subscriptionSignature}`);
    this.consumer.adopt(group);
    if (g.members.length > 0) this.log.info(`loaded consumer group ${g.group} (epoch ${g.groupEpoch}) with ${g.members.length} members`);
    return group;
  }

  validate(groupId: string | null, requireNonEmpty: boolean): number {
    if (groupId === null || (requireNonEmpty && groupId === "")) return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return ErrorCode.NONE;
  }

  // ---- the classic rebalance protocol (classic-rebalance.ts) ---------------------------------------

  // A consumer group with members serves classic members itself (classic-members.ts); an empty one gives
  // way to a classic group at the first JoinGroup.

  joinGroup(req: JoinRequest): JoinResult | Promise<JoinResult> {
    const consumer = this.consumerGroups.get(req.groupId);
    if (consumer && this.active) {
      if (!consumer.isEmpty) return this.classicMembers.join(consumer, req);
      // Kafka's maybeDeleteEmptyConsumerGroup: an empty consumer group gives way to a classic one.
      this.dropConsumerGroup(consumer);
      this.log.info(`group ${req.groupId}: the empty consumer group becomes a classic group`);
    }
    return this.classic.joinGroup(req);
  }

  syncGroup(req: SyncRequest): SyncResult | Promise<SyncResult> {
    const consumer = this.consumerGroups.get(req.groupId);
    if (consumer && this.active) return this.classicMembers.sync(consumer, req);
    return this.classic.syncGroup(req);
  }

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const consumer = this.consumerGroups.get(groupId);
    if (consumer && this.active) return this.classicMembers.heartbeat(consumer, generationId, memberId, groupInstanceId);
    return this.classic.heartbeat(groupId, generationId, memberId, groupInstanceId);
  }

  leaveGroup(
    groupId: string,
    leaving: { memberId: string; groupInstanceId: string | null; reason?: string | null }[],
  ): { errorCode: number; members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] } {
    const consumer = this.consumerGroups.get(groupId);
    if (consumer && this.active) return this.classicMembers.leave(consumer, leaving);
    return this.classic.leaveGroup(groupId, leaving);
  }

  // ---- the consumer group protocol (consumer-rebalance.ts) -----------------------------------------

  consumerGroupHeartbeat(req: HeartbeatRequest): HeartbeatResponse {
    return this.consumer.heartbeat(req);
  }

  describeConsumerGroup(groupId: string): ConsumerGroupDescription {
    const failed = (errorCode: number, errorMessage: string | null): ConsumerGroupDescription => ({
      errorCode,
      errorMessage,
      groupId,
      groupState: "",
      groupEpoch: 0,
      assignmentEpoch: 0,
      assignorName: "",
      members: [],
    });
    const invalid = this.validate(groupId, false);
    if (invalid) return failed(invalid, null);
    const group = this.consumerGroups.get(groupId);
    if (!group)
      return failed(ErrorCode.GROUP_ID_NOT_FOUND, this.groups.has(groupId) ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`);
    const described = (a: Assignment) => ({
      topicPartitions: toTopicPartitions(a).flatMap((tp) => {
        const topicName = this.consumer.topicName(tp.topicId);
        return topicName === undefined ? [] : [{ topicId: tp.topicId, topicName, partitions: tp.partitions }];
      }),
    });
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.preferredServerAssignor() ?? this.consumerSettings.assignors[0]!,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex === "" ? null : m.subscribedTopicRegex,
        assignment: described(m.assigned),
        targetAssignment: described(group.target(m.memberId)),
      })),
    };
  }

  /** Writes the consumer group's record (when it changed) and the records of these members. */
  persistConsumerGroup(group: ConsumerGroup, memberIds: Iterable<string>): void {
    if (!this.active) return;
    const key = `${group.groupEpoch}:${group.assignmentEpoch}:${group.subscriptionSignature}`;
    if (this.persistedConsumer.get(group.groupId) !== key) {
      this.store.appendConsumerGroup({
        group: group.groupId,
        groupEpoch: group.groupEpoch,
        assignmentEpoch: group.assignmentEpoch,
        subscriptionSignature: group.subscriptionSignature,
      });
      this.persistedConsumer.set(group.groupId, key);
    }
    const members: StoredConsumerMember[] = [];
    const gone: string[] = [];
    for (const id of memberIds) {
      const m = group.members.get(id);
      if (m) members.push(this.storedMember(group, m));
      else gone.push(id);
    }
    this.store.appendConsumerMembers(group.groupId, members, gone);
    this.maybeCompact();
  }

  private storedMember(group: ConsumerGroup, m: ConsumerMember): StoredConsumerMember {
    return {
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      instanceId: m.instanceId,
      rackId: m.rackId,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: [...m.subscribedTopicNames],
      subscribedTopicRegex: m.subscribedTopicRegex,
      serverAssignor: m.serverAssignor,
      assigned: toStored(m.assigned),
      pendingRevocation: toStored(m.pendingRevocation),
      target: toStored(group.target(m.memberId)),
      classic: m.classic
        ? { sessionTimeoutMs: m.classic.sessionTimeoutMs, protocols: m.classic.supportedProtocols.map((p) => [p.name, p.metadata]) }
        : null,
    };
  }

  replaceClassicGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    this.classic.retire(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.groups.delete(groupId);
    this.persisted.delete(groupId);
  }

  convertToClassicGroup(group: ConsumerGroup, leaving: ReadonlySet<string>, joining: ConsumerMember | null, rebalanceReason: string | null): boolean {
    let classic: Group;
    try {
      classic = classicGroupFromConsumer(group, leaving, joining, (id) => this.consumer.topicName(id));
    } catch (e) {
      if (!(e instanceof MigrationError)) throw e;
      this.log.warn(`Cannot downgrade consumer group ${group.groupId} to classic group: ${e.message}`);
      return false;
    }
    this.dropConsumerGroup(group);
    this.groups.set(classic.groupId, classic);
    // The classic group's record replaces the consumer group's in the offsets log.
    this.persistGroup(classic);
    this.classic.adopt(classic, rebalanceReason);
    this.log.info(`group ${group.groupId}: the consumer group becomes a classic group with ${classic.members.size} members (online downgrade)`);
    return true;
  }

  /** Removes a consumer group from memory, keeping its offsets (callers write the record that replaces it). */
  private dropConsumerGroup(group: ConsumerGroup): void {
    this.consumer.clearTimers(group);
    this.consumerGroups.delete(group.groupId);
    this.persistedConsumer.delete(group.groupId);
  }

  // ---- offsets ------------------------------------------------------------------------------------

  /** Kafka's ConsumerGroup.validateOffsetCommit. */
  private validateConsumerCommit(group: ConsumerGroup, memberId: string, epoch: number, transactional: boolean, version: number): number {
    if (epoch < 0 && group.isEmpty) return ErrorCode.NONE;
    const m = group.members.get(memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!transactional && m.classic === null && version < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (epoch !== m.memberEpoch) {
      if (m.classic !== null) return ErrorCode.ILLEGAL_GENERATION;
      // STALE_MEMBER_EPOCH exists from OffsetCommit v9 on; older versions learn UNKNOWN_MEMBER_ID.
      return transactional || version >= 9 ? ErrorCode.STALE_MEMBER_EPOCH : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    return ErrorCode.NONE;
  }

  commitOffsets(req: CommitRequest): CommitResult {
    const all = (code: number) =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    const invalid = this.validate(req.groupId, false);
    if (invalid) return all(invalid);
    const version = req.apiVersion ?? 8;

    const consumer = this.consumerGroups.get(req.groupId);
    let group = this.groups.get(req.groupId);
    if (consumer) {
      const code = this.validateConsumerCommit(consumer, req.memberId, req.generationId, false, version);
      if (code !== ErrorCode.NONE) return all(code);
    } else if (!group) {
      // A group that does not use Kafka for membership may commit; anything else is from an old
      // generation (from v9 on: the group does not exist).
      if (req.generationId >= 0) return all(version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
    } else {
      const code = this.classic.validateOffsetCommit(group, req.generationId, req.memberId, req.groupInstanceId);
      if (code !== ErrorCode.NONE) return all(code);
    }
    let committed: ReturnType<OffsetManager["commit"]>;
    try {
      committed = this.offsets.commit(req.groupId, req.topics, req.retentionTimeMs);
    } catch (e) {
      if (!(e instanceof StorageError)) throw e;
      // As Kafka answers a commit its offsets topic could not take: the client finds the coordinator again and retries.
      this.log.warn(`offset commit of group ${req.groupId} not stored: ${e.message}`);
      return all(ErrorCode.NOT_COORDINATOR);
    }
    const { results, stored } = committed;
    if (stored > 0) {
      if (!group && !consumer) {
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
    const consumer = this.consumerGroups.get(groupId);
    if (consumer) return this.validateConsumerCommit(consumer, memberId, generationId, true, 9);
    return this.classic.validateTxnOffsetCommit(this.groups.get(groupId), generationId, memberId, groupInstanceId);
  }

  /** The commit of a transaction: offsets staged by TxnOffsetCommit become the group's committed offsets. */
  commitTxnOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string; commitTimestamp: number }[],
  ): void {
    if (!this.active || offsets.length === 0) return;
    if (!this.groups.has(groupId) && !this.consumerGroups.has(groupId)) this.groups.set(groupId, new Group(groupId));
    this.offsets.commitTxn(groupId, offsets);
    this.maybeCompact();
  }

  /**
   * Committed offsets; a null topic list means all of the group's. Unknown partitions: offset -1, metadata
   * "". OffsetFetch v9 names the member of a consumer group (Kafka's validateOffsetFetch): an unknown one
   * gets UNKNOWN_MEMBER_ID, a stale epoch STALE_MEMBER_EPOCH (ILLEGAL_GENERATION for a classic member).
   */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } = { memberId: null, memberEpoch: -1 },
  ): { errorCode: number; topics: FetchedTopic[] } {
    const consumer = this.consumerGroups.get(groupId);
    if (consumer && this.active && !(member.memberId === null && member.memberEpoch < 0)) {
      const m = member.memberId === null ? undefined : consumer.members.get(member.memberId);
      const code = !m
        ? ErrorCode.UNKNOWN_MEMBER_ID
        : m.memberEpoch !== member.memberEpoch
          ? m.classic !== null
            ? ErrorCode.ILLEGAL_GENERATION
            : ErrorCode.STALE_MEMBER_EPOCH
          : ErrorCode.NONE;
      if (code !== ErrorCode.NONE) return { errorCode: code, topics: [] };
    }
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
    const consumer = this.consumerGroups.get(groupId);
    if (consumer) return { errorCode: ErrorCode.NONE, topics: this.offsets.delete(groupId, topics, this.consumerSubscribedTopics(consumer)) };
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

  /**
   * Every group, with its state and type (classic or consumer); filters are case-insensitive, an unknown
   * type matches nothing (as in Kafka).
   */
  listGroups(statesFilter: string[], typesFilter: string[] = []): { errorCode: number; groups: ListedGroup[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const wanted = new Set(statesFilter.map((s) => s.trim().toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.trim().toLowerCase()));
    const groups: ListedGroup[] = [];
    const keep = (state: string, type: string) => (wanted.size === 0 || wanted.has(state.toLowerCase())) && (types.size === 0 || types.has(type));
    for (const g of this.groups.values()) {
      if (g.is("Dead") || !keep(g.state, "classic")) continue;
      groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? "", groupState: g.state, groupType: "classic" });
    }
    for (const g of this.consumerGroups.values()) {
      if (!keep(g.state, "consumer")) continue;
      groups.push({ groupId: g.groupId, protocolType: CONSUMER_PROTOCOL_TYPE, groupState: g.state, groupType: "consumer" });
    }
    return { errorCode: ErrorCode.NONE, groups };
  }

  deleteGroups(groupIds: string[]): { groupId: string; errorCode: number }[] {
    const deleted: string[] = [];
    const out = groupIds.map((groupId) => {
      const invalid = this.validate(groupId, false);
      if (invalid) return { groupId, errorCode: invalid };
      const consumer = this.consumerGroups.get(groupId);
      if (consumer) {
        if (!consumer.isEmpty) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
        this.dropConsumerGroup(consumer);
        this.offsets.dropGroup(groupId);
        deleted.push(groupId);
        return { groupId, errorCode: ErrorCode.NONE };
      }
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
    try {
      this.store.appendGroup({
        group: group.groupId,
        protocolType: group.protocolType,
        generationId: group.generationId,
        emptySince: group.is("Empty") ? group.stateTimestamp : -1,
      });
    } catch (e) {
      // Runs from timers too; a lost group record only means an older generation after a restart.
      if (!(e instanceof StorageError)) throw e;
      this.log.warn(`group ${group.groupId}: ${e.message}`);
      return;
    }
    this.persisted.add(group.groupId);
    this.maybeCompact();
  }

  private liveState(): LoadedState {
    const state: LoadedState = { offsets: this.offsets.live(), groups: [], consumerGroups: [] };
    for (const g of this.consumerGroups.values())
      state.consumerGroups!.push({
        group: g.groupId,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        subscriptionSignature: g.subscriptionSignature,
        members: [...g.members.values()].map((m) => this.storedMember(g, m)),
      });
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
    let live = this.persisted.size + this.offsets.count + this.consumerGroups.size;
    for (const g of this.consumerGroups.values()) live += g.members.size;
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

  /** The topics a consumer group subscribes to, by name (including what its regexes match). */
  private consumerSubscribedTopics(group: ConsumerGroup): Set<string> {
    return group.subscribedTopics();
  }

  /** How a group's offsets expire (Kafka's offsetExpirationCondition); null = only with their topic. */
  private expiryRule(groupId: string): ExpiryRule | null {
    const consumer = this.consumerGroups.get(groupId);
    // A consumer group keeps the offsets of the topics it subscribes to; the others expire from their commit.
    if (consumer) return { base: (o) => o.commitTimestamp, keep: this.consumerSubscribedTopics(consumer) };
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
    for (const group of [...this.consumerGroups.values()]) {
      if (group.isEmpty && !this.offsets.hasOffsets(group.groupId)) {
        this.dropConsumerGroup(group);
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
    for (const g of this.consumerGroups.values()) this.consumer.clearTimers(g);
    this.store.close();
  }
}

export type { GroupState };
