// The group coordinator: Kafka's classic rebalance protocol and committed offsets, for every group (Brook
// is the only broker, so it coordinates them all).
//
// Mirrors Kafka's GroupCoordinator:
// - states Empty → PreparingRebalance → CompletingRebalance → Stable (and Dead when a group is deleted or
//   expires); generations; the first member to join leads, a rejoined member takes over if the leader
//   does not come back; the protocol is chosen by Kafka's vote among the protocols every member supports.
// - JoinGroup parks until every known member has rejoined or the rebalance timeout (the largest of the
//   members') runs out; members that did not rejoin are dropped. The first rebalance of an Empty group
//   waits group.initial.rebalance.delay.ms, extended while new members keep arriving (up to the
//   rebalance timeout). v4+ dynamic members get MEMBER_ID_REQUIRED and a member id first (KIP-394).
// - SyncGroup parks until the leader sends the assignment; members that do not sync within the
//   rebalance timeout are dropped and the group rebalances.
// - Session timeouts expire members whose heartbeats stop (not while they are parked in a JoinGroup or a
//   SyncGroup; a brand-new member parked in JoinGroup goes after 5 minutes, as in Kafka).
// - Static membership (KIP-345): a rejoin with a known group.instance.id and no member id replaces the
//   old member (which is fenced: FENCED_INSTANCE_ID) without a rebalance when nothing else changes.
// - Offsets: commits validated against generation and member (a "simple" commit — generation -1, no
//   member — only while the group is Empty), stored durably (offset-store.ts) and expired per
//   offsets.retention.minutes: for an Empty group counted from when it became empty (Kafka 2.1+), for a
//   group without a protocol from each commit, for a Stable consumer group only for topics it no longer
//   subscribes to; commits with an explicit retention (v2–v4) expire at that time.
// - Transactional offset commits: TxnOffsetCommit is staged by the transaction coordinator (src/txn),
//   checked here (validateTxnOffsetCommit) and stored here when the transaction commits (commitTxnOffsets).
// Not implemented: the new consumer rebalance protocol (KIP-848, ConsumerGroupHeartbeat),
// COORDINATOR_LOAD_IN_PROGRESS (the offsets are loaded before the broker listens, so there is never a
// loading window).
import { randomUUID } from "node:crypto";
import { ErrorCode } from "../../protocol/errors.ts";
import type { BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TopicStore } from "../topics.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from "./consumer-protocol.ts";
import {
  EMPTY_BYTES,
  Group,
  Member,
  type CommittedOffset,
  type GroupState,
  type JoinResult,
  type Protocol,
  type SyncResult,
} from "./group.ts";
import { OffsetStore, type LoadedState, type StoredOffset } from "./offset-store.ts";

/** Kafka's OFFSET_METADATA_TOO_LARGE (not in protocol/errors.ts). */
export const OFFSET_METADATA_TOO_LARGE = 12;
/** How long a new member may stay parked in its first JoinGroup (Kafka's NewMemberJoinTimeoutMs). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface GroupSettings {
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxSize: number;
  offsetsRetentionMs: number;
  retentionCheckIntervalMs: number;
  metadataMaxBytes: number;
}

export function groupSettings(config: BrokerConfig): GroupSettings {
  const n = (name: string) => config.get(name) as number;
  return {
    initialRebalanceDelayMs: n("group.initial.rebalance.delay.ms"),
    minSessionTimeoutMs: n("group.min.session.timeout.ms"),
    maxSessionTimeoutMs: n("group.max.session.timeout.ms"),
    maxSize: n("group.max.size"),
    offsetsRetentionMs: n("offsets.retention.minutes") * 60_000,
    retentionCheckIntervalMs: n("offsets.retention.check.interval.ms"),
    metadataMaxBytes: n("offset.metadata.max.bytes"),
  };
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  /** private copies of the protocol metadata */
  protocols: Protocol[];
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+ without a group instance id: hand out a member id first (MEMBER_ID_REQUIRED) */
  requireKnownMemberId: boolean;
  reason?: string | null;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  /** private copies of the assignments */
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface CommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  /** OffsetCommit v1 only; -1 = now */
  commitTimestamp: number;
  committedMetadata: string | null;
}

export interface CommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2–v4; -1 = the broker's retention rule */
  retentionTimeMs: number;
  topics: { name: string; partitions: CommitPartition[] }[];
}

export interface FetchedPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchedTopic {
  name: string;
  partitions: FetchedPartition[];
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

function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: "", memberId, members: [] };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly store: OffsetStore;
  private readonly settings: GroupSettings;
  private active = true;
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  /** groups whose metadata record is in the store (so compaction keeps one for them) */
  private readonly persisted = new Set<string>();

  constructor(
    settings: GroupSettings,
    logDir: string,
    private readonly log: Logger,
    private readonly topics: Pick<TopicStore, "get" | "partition">,
  ) {
    this.settings = settings;
    const { store, state } = OffsetStore.open(logDir, log);
    this.store = store;
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
    for (const o of state.offsets) {
      let group = this.groups.get(o.group);
      if (!group) this.groups.set(o.group, (group = new Group(o.group)));
      group.setOffset(o.topic, o.partition, {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        commitTimestamp: o.commitTimestamp,
        expireTimestamp: o.expireTimestamp,
      });
    }
    if (state.offsets.length > 0 || state.groups.length > 0)
      this.log.info(`loaded ${state.offsets.length} committed offsets of ${this.groups.size} groups from ${this.store.path}`);
  }

  // ---- validation ---------------------------------------------------------------------------------

  /** Kafka's validateGroupStatus: an id check (non-empty for the membership APIs), then availability. */
  private validate(groupId: string | null, requireNonEmpty: boolean): number {
    if (groupId === null || (requireNonEmpty && groupId === "")) return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return ErrorCode.NONE;
  }

  // ---- JoinGroup ----------------------------------------------------------------------------------

  joinGroup(req: JoinRequest): JoinResult | Promise<JoinResult> {
    const invalid = this.validate(req.groupId, true);
    if (invalid) return joinError(req.memberId, invalid);
    const s = this.settings;
    if (req.sessionTimeoutMs < s.minSessionTimeoutMs || req.sessionTimeoutMs > s.maxSessionTimeoutMs)
      return joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    const isUnknown = req.memberId === "";
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (!isUnknown) return joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      group = new Group(req.groupId);
      this.groups.set(req.groupId, group);
    }
    if (!this.acceptJoiningMember(group, req.memberId)) {
      const m = group.members.get(req.memberId);
      if (m) this.removeMemberAndUpdateGroup(group, m, "the group is at group.max.size");
      return joinError("", ErrorCode.GROUP_MAX_SIZE_REACHED);
    }
    const out = isUnknown ? this.joinUnknownMember(group, req) : this.joinKnownMember(group, req);
    // Kafka's checkAndComplete after every join: this one may have been the last one awaited.
    if (group.is("PreparingRebalance")) this.tryCompleteJoin(group);
    return out;
  }

  private acceptJoiningMember(group: Group, memberId: string): boolean {
    const max = this.settings.maxSize;
    switch (group.state) {
      case "Empty":
      case "Dead":
        return true;
      case "PreparingRebalance":
        return (group.members.get(memberId)?.isAwaitingJoin ?? false) || group.numAwaitingJoin < max;
      case "CompletingRebalance":
      case "Stable":
        return group.has(memberId) || group.members.size < max;
    }
  }

  private joinUnknownMember(group: Group, req: JoinRequest): JoinResult | Promise<JoinResult> {
    if (group.is("Dead")) return joinError(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supportsProtocols(req.protocolType, req.protocols))
      return joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // Capped: a 32 kB client id would make a member id no response can carry.
    const newMemberId = `${String(req.groupInstanceId ?? req.clientId).slice(0, 255)}-${randomUUID()}`;
    if (req.groupInstanceId !== null && group.staticMembers.has(req.groupInstanceId))
      return this.replaceStaticMember(group, newMemberId, req);
    if (req.requireKnownMemberId) {
      // KIP-394: the member must come back with this id; until then it holds up the rebalance, for at
      // most a session timeout.
      const timer = setTimeout(() => this.expirePendingMember(group, newMemberId), req.sessionTimeoutMs);
      timer.unref?.();
      group.pendingMembers.set(newMemberId, timer);
      this.log.debug(`group ${group.groupId}: member id ${newMemberId} handed out (MEMBER_ID_REQUIRED)`);
      return joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED);
    }
    return this.addMemberAndRebalance(group, newMemberId, req);
  }

  private joinKnownMember(group: Group, req: JoinRequest): JoinResult | Promise<JoinResult> {
    const memberId = req.memberId;
    if (group.is("Dead")) return joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supportsProtocols(req.protocolType, req.protocols, memberId))
      return joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const pending = group.pendingMembers.get(memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      group.pendingMembers.delete(memberId);
      return this.addMemberAndRebalance(group, memberId, req);
    }
    if (group.isStaticMemberFenced(req.groupInstanceId, memberId)) return joinError(memberId, ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(memberId);
    if (!member || (req.groupInstanceId !== null && !group.staticMembers.has(req.groupInstanceId)))
      return joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    switch (group.state) {
      case "PreparingRebalance":
        return this.updateMemberAndRebalance(group, member, req);
      case "CompletingRebalance":
        // The same metadata: it probably missed the JoinGroup response; answer with this generation.
        if (member.matches(req.protocols)) return this.currentGeneration(group, member);
        return this.updateMemberAndRebalance(group, member, req);
      case "Stable":
        if (group.isLeader(memberId) || !member.matches(req.protocols)) return this.updateMemberAndRebalance(group, member, req);
        return this.currentGeneration(group, member);
      default:
        return joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    }
  }

  private currentGeneration(group: Group, member: Member): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      memberId: member.memberId,
      members: group.isLeader(member.memberId) ? this.memberMetadata(group) : [],
    };
  }

  private memberMetadata(group: Group): JoinResult["members"] {
    const protocol = group.protocolName ?? "";
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
    }));
  }

  /** Parks the member's JoinGroup; a JoinGroup it had parked already is answered REBALANCE_IN_PROGRESS. */
  private awaitJoin(member: Member): Promise<JoinResult> {
    const previous = member.joinWaiter;
    if (previous) {
      member.joinWaiter = null;
      previous(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    }
    return new Promise((resolve) => (member.joinWaiter = resolve));
  }

  private answerJoin(member: Member, result: JoinResult): void {
    const waiter = member.joinWaiter;
    if (!waiter) return;
    member.joinWaiter = null;
    waiter(result);
  }

  private answerSync(member: Member, result: SyncResult): void {
    const waiter = member.syncWaiter;
    if (!waiter) return;
    member.syncWaiter = null;
    waiter(result);
  }

  private addMemberAndRebalance(group: Group, memberId: string, req: JoinRequest): Promise<JoinResult> {
    const member = new Member(
      memberId,
      req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    member.isNew = true;
    // More members arriving during the first rebalance extend the initial delay.
    if (group.is("PreparingRebalance") && group.generationId === 0) group.newMemberAdded = true;
    const parked = this.awaitJoin(member);
    group.add(member);
    this.heartbeatReceived(group, member);
    this.log.debug(`group ${group.groupId}: member ${memberId} joins (${req.reason ?? "no reason given"})`);
    this.maybePrepareRebalance(group, `adding new member ${memberId}`);
    return parked;
  }

  private updateMemberAndRebalance(group: Group, member: Member, req: JoinRequest): Promise<JoinResult> {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    const parked = this.awaitJoin(member);
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoins${req.reason ? ` (${req.reason})` : ""}`);
    return parked;
  }

  private replaceStaticMember(group: Group, newMemberId: string, req: JoinRequest): JoinResult | Promise<JoinResult> {
    const instanceId = req.groupInstanceId!;
    const oldMemberId = group.staticMembers.get(instanceId)!;
    const old = group.members.get(oldMemberId)!;
    const currentLeader = group.leaderId ?? "";
    // The old incarnation is fenced: whatever it had parked is answered FENCED_INSTANCE_ID.
    this.answerJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.answerSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    if (old.expiryTimer) clearTimeout(old.expiryTimer);
    old.expiryTimer = null;

    const member = new Member(
      newMemberId,
      instanceId,
      req.clientId,
      req.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    member.assignment = old.assignment;
    member.isNew = false;
    // Keep the member's place in the map order (the leader is re-elected from it).
    const entries = [...group.members.entries()].map(([id, m]): [string, Member] => (id === oldMemberId ? [newMemberId, member] : [id, m]));
    group.members.clear();
    for (const [id, m] of entries) group.members.set(id, m);
    group.staticMembers.set(instanceId, newMemberId);
    if (group.leaderId === oldMemberId) group.leaderId = newMemberId;
    if (group.pendingSyncMembers.delete(oldMemberId)) group.pendingSyncMembers.add(newMemberId);
    this.heartbeatReceived(group, member);
    this.log.info(`group ${group.groupId}: static member ${instanceId} rejoins as ${newMemberId}, replacing ${oldMemberId}`);

    switch (group.state) {
      case "Stable": {
        if (group.selectProtocol() === group.protocolName) {
          // Nothing changes for the others: no rebalance. The old leader id is returned, so that a
          // replaced leader does not assign partitions of a generation it cannot broadcast any more.
          return {
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: currentLeader,
            memberId: newMemberId,
            members: [],
          };
        }
        const parked = this.awaitJoin(member);
        this.maybePrepareRebalance(group, `static member ${instanceId} rejoins with other protocols`);
        return parked;
      }
      case "CompletingRebalance": {
        const parked = this.awaitJoin(member);
        this.prepareRebalance(group, `static member ${instanceId} rejoins during CompletingRebalance`);
        return parked;
      }
      default:
        return this.awaitJoin(member);
    }
  }

  private expirePendingMember(group: Group, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    this.log.debug(`group ${group.groupId}: pending member ${memberId} did not rejoin within its session timeout`);
    if (group.is("PreparingRebalance")) this.tryCompleteJoin(group);
  }

  // ---- rebalance ----------------------------------------------------------------------------------

  private maybePrepareRebalance(group: Group, reason: string): void {
    if (group.is("Stable") || group.is("CompletingRebalance") || group.is("Empty")) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is("CompletingRebalance")) {
      // The leader's assignment of this generation will never come: members waiting in SyncGroup rejoin.
      for (const m of group.members.values()) {
        m.assignment = EMPTY_BYTES;
        this.answerSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    this.clearSyncTimer(group);
    group.pendingSyncMembers.clear();
    if (group.joinTimer) clearTimeout(group.joinTimer);
    const wasEmpty = group.is("Empty");
    group.transition("PreparingRebalance");
    this.log.info(`group ${group.groupId}: preparing to rebalance in generation ${group.generationId} (${reason})`);
    if (wasEmpty) {
      const delay = this.settings.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs - delay, 0);
      group.newMemberAdded = false;
      this.armInitialDelay(group, delay, remaining);
    } else {
      group.joinTimer = setTimeout(() => this.completeJoin(group), group.rebalanceTimeoutMs);
      group.joinTimer.unref?.();
      this.tryCompleteJoin(group);
    }
  }

  /** group.initial.rebalance.delay.ms: the join completes only when the delay runs out (Kafka's InitialDelayedJoin). */
  private armInitialDelay(group: Group, delayMs: number, remainingMs: number): void {
    initialDelay.add(group);
    group.joinTimer = setTimeout(() => {
      group.joinTimer = null;
      if (!group.is("PreparingRebalance")) return;
      if (group.newMemberAdded && remainingMs > 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.settings.initialRebalanceDelayMs, remainingMs);
        this.armInitialDelay(group, next, Math.max(remainingMs - delayMs, 0));
      } else {
        initialDelay.delete(group);
        this.completeJoin(group);
      }
    }, delayMs);
    group.joinTimer.unref?.();
  }

  private tryCompleteJoin(group: Group): void {
    if (group.is("PreparingRebalance") && !initialDelay.has(group) && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (!group.is("PreparingRebalance")) return;
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
    initialDelay.delete(group);
    // Dynamic members that did not rejoin in time are out; static ones keep their place.
    for (const m of [...group.members.values()]) {
      if (!m.isAwaitingJoin && m.groupInstanceId === null) {
        this.log.info(`group ${group.groupId}: member ${m.memberId} did not rejoin in time and is removed`);
        group.remove(m.memberId);
      }
    }
    if (!group.electJoinedLeader() && group.members.size > 0) {
      // Only static members that have not rejoined are left: wait for them another rebalance timeout.
      this.log.warn(`group ${group.groupId}: no member rejoined; waiting another rebalance timeout`);
      group.joinTimer = setTimeout(() => this.completeJoin(group), group.rebalanceTimeoutMs);
      group.joinTimer.unref?.();
      return;
    }
    group.generationId++;
    if (group.members.size > 0) {
      group.protocolName = group.selectProtocol();
      group.transition("CompletingRebalance");
    } else {
      group.protocolName = null;
      group.transition("Empty");
    }
    this.persistGroup(group);
    this.log.info(
      `group ${group.groupId}: generation ${group.generationId} (${group.state}) with ${group.members.size} members` +
        (group.protocolName ? `, protocol ${group.protocolName}, leader ${group.leaderId}` : ""),
    );
    if (group.is("Empty")) return;
    const all = this.memberMetadata(group);
    for (const m of group.members.values()) {
      this.answerJoin(m, {
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? "",
        memberId: m.memberId,
        members: group.isLeader(m.memberId) ? all : [],
      });
      this.heartbeatReceived(group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    const generation = group.generationId;
    group.syncTimer = setTimeout(() => this.expirePendingSync(group, generation), group.rebalanceTimeoutMs);
    group.syncTimer.unref?.();
  }

  private expirePendingSync(group: Group, generation: number): void {
    group.syncTimer = null;
    if (generation !== group.generationId) return;
    if (!group.is("CompletingRebalance") && !group.is("Stable")) return;
    if (group.pendingSyncMembers.size === 0) return;
    const late = [...group.pendingSyncMembers];
    this.log.info(`group ${group.groupId}: removing members that did not send SyncGroup in time: ${late.join(", ")}`);
    for (const id of late) {
      const m = group.members.get(id);
      if (!m) continue;
      this.answerJoin(m, joinError(id, ErrorCode.UNKNOWN_MEMBER_ID));
      group.remove(id);
    }
    this.prepareRebalance(group, "members did not sync in time");
  }

  private clearSyncTimer(group: Group): void {
    if (group.syncTimer) clearTimeout(group.syncTimer);
    group.syncTimer = null;
  }

  /** Removes a member (leave, session expiry) and moves the group on: rebalance, or finish the one under way. */
  private removeMemberAndUpdateGroup(group: Group, member: Member, reason: string): void {
    this.answerJoin(member, joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    this.answerSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
    this.log.info(`group ${group.groupId}: member ${member.memberId} removed (${reason})`);
    switch (group.state) {
      case "Dead":
      case "Empty":
        return;
      case "PreparingRebalance":
        this.tryCompleteJoin(group);
        return;
      case "Stable":
      case "CompletingRebalance":
        this.prepareRebalance(group, `removing member ${member.memberId}: ${reason}`);
    }
  }

  // ---- session timeouts ---------------------------------------------------------------------------

  /** Kafka's completeAndScheduleNextHeartbeatExpiration: the member is alive for another session timeout. */
  private heartbeatReceived(group: Group, member: Member): void {
    member.lastHeartbeat = Date.now();
    if (!member.expiryTimer) this.armExpiry(group, member, member.sessionTimeoutMs);
  }

  private armExpiry(group: Group, member: Member, delayMs: number): void {
    if (member.expiryTimer) clearTimeout(member.expiryTimer);
    member.expiryTimer = setTimeout(() => this.checkExpiry(group, member), Math.max(1, delayMs));
    member.expiryTimer.unref?.();
  }

  private checkExpiry(group: Group, member: Member): void {
    member.expiryTimer = null;
    if (group.members.get(member.memberId) !== member || !this.active) return;
    const now = Date.now();
    if (member.isAwaitingJoin) {
      // Parked in JoinGroup: the rebalance timeout governs it, except a new member parked for too long.
      if (member.isNew && now - member.lastHeartbeat >= NEW_MEMBER_JOIN_TIMEOUT_MS)
        return this.removeMemberAndUpdateGroup(group, member, "new member did not complete its join");
      return this.armExpiry(group, member, member.isNew ? NEW_MEMBER_JOIN_TIMEOUT_MS - (now - member.lastHeartbeat) : member.sessionTimeoutMs);
    }
    if (member.isAwaitingSync) return this.armExpiry(group, member, member.sessionTimeoutMs);
    const due = member.lastHeartbeat + member.sessionTimeoutMs;
    if (now >= due) return this.removeMemberAndUpdateGroup(group, member, `session timeout of ${member.sessionTimeoutMs} ms expired`);
    this.armExpiry(group, member, due - now);
  }

  // ---- SyncGroup ----------------------------------------------------------------------------------

  syncGroup(req: SyncRequest): SyncResult | Promise<SyncResult> {
    const invalid = this.validate(req.groupId, true);
    if (invalid) return syncError(invalid);
    const group = this.groups.get(req.groupId);
    if (!group) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is("Dead")) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return syncError(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(req.memberId);
    if (!member) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    )
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const ok = (assignment: Uint8Array): SyncResult => ({
      errorCode: ErrorCode.NONE,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment,
    });
    switch (group.state) {
      case "Empty":
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
      case "PreparingRebalance":
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case "CompletingRebalance": {
        const previous = member.syncWaiter;
        if (previous) {
          member.syncWaiter = null;
          previous(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        }
        const parked = new Promise<SyncResult>((resolve) => (member.syncWaiter = resolve));
        this.syncReceived(group, req.memberId);
        if (group.isLeader(req.memberId)) {
          const given = new Map<string, Uint8Array>();
          for (const a of req.assignments) given.set(a.memberId, a.assignment);
          for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY_BYTES;
          group.transition("Stable");
          this.persistGroup(group);
          this.log.info(`group ${group.groupId}: generation ${group.generationId} is stable`);
          for (const m of group.members.values()) {
            if (!m.isAwaitingSync) continue;
            this.answerSync(m, ok(m.assignment));
            this.heartbeatReceived(group, m);
          }
        }
        return parked;
      }
      case "Stable":
        this.syncReceived(group, req.memberId);
        this.heartbeatReceived(group, member);
        return ok(member.assignment);
      default:
        return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private syncReceived(group: Group, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearSyncTimer(group);
  }

  // ---- Heartbeat, LeaveGroup ----------------------------------------------------------------------

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const invalid = this.validate(groupId, true);
    if (invalid) return invalid;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case "Empty":
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case "CompletingRebalance":
      case "Stable":
        this.heartbeatReceived(group, member);
        return ErrorCode.NONE;
      case "PreparingRebalance":
        this.heartbeatReceived(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  leaveGroup(
    groupId: string,
    leaving: { memberId: string; groupInstanceId: string | null; reason?: string | null }[],
  ): { errorCode: number; members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] } {
    const invalid = this.validate(groupId, true);
    if (invalid) return { errorCode: invalid, members: [] };
    const group = this.groups.get(groupId);
    const each = (code: number) => leaving.map((l) => ({ memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode: code }));
    if (!group) return { errorCode: ErrorCode.NONE, members: each(ErrorCode.UNKNOWN_MEMBER_ID) };
    if (group.is("Dead")) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = leaving.map((l) => {
      const result = (errorCode: number) => ({ memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode });
      const why = `leaving the group${l.reason ? ` (${l.reason})` : ""}`;
      if (l.memberId === "") {
        const id = group.staticMemberId(l.groupInstanceId);
        const m = id === undefined ? undefined : group.members.get(id);
        if (!m) return result(ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, m, why);
        return result(ErrorCode.NONE);
      }
      if (group.isStaticMemberFenced(l.groupInstanceId, l.memberId)) return result(ErrorCode.FENCED_INSTANCE_ID);
      const pending = group.pendingMembers.get(l.memberId);
      if (pending !== undefined) {
        clearTimeout(pending);
        group.pendingMembers.delete(l.memberId);
        if (group.is("PreparingRebalance")) this.tryCompleteJoin(group);
        return result(ErrorCode.NONE);
      }
      const m = group.members.get(l.memberId);
      if (!m) return result(ErrorCode.UNKNOWN_MEMBER_ID);
      this.removeMemberAndUpdateGroup(group, m, why);
      return result(ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---- offsets ------------------------------------------------------------------------------------

  commitOffsets(req: CommitRequest): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
    const all = (code: number) =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    const invalid = this.validate(req.groupId, false);
    if (invalid) return all(invalid);

    let group = this.groups.get(req.groupId);
    let code: number = ErrorCode.NONE;
    if (!group) {
      // A group that does not use Kafka for membership may commit; anything else is from an old generation.
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
    } else if (group.is("Dead")) code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    else if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) code = ErrorCode.FENCED_INSTANCE_ID;
    else if (req.generationId < 0 && group.is("Empty")) code = ErrorCode.NONE;
    else {
      const member = group.members.get(req.memberId);
      if (!member) code = ErrorCode.UNKNOWN_MEMBER_ID;
      else if (req.generationId !== group.generationId) code = ErrorCode.ILLEGAL_GENERATION;
      else if (group.is("CompletingRebalance")) code = ErrorCode.REBALANCE_IN_PROGRESS;
      else this.heartbeatReceived(group, member);
    }
    if (code !== ErrorCode.NONE) return all(code);

    const now = Date.now();
    const stored: StoredOffset[] = [];
    const out = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode: number = ErrorCode.NONE;
        const metadata = p.committedMetadata ?? "";
        if (!this.topics.partition(t.name, p.partitionIndex)) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (Buffer.byteLength(metadata) > this.settings.metadataMaxBytes) errorCode = OFFSET_METADATA_TOO_LARGE;
        if (errorCode === ErrorCode.NONE) {
          const commitTimestamp = p.commitTimestamp >= 0 ? p.commitTimestamp : now;
          stored.push({
            group: req.groupId,
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata,
            commitTimestamp,
            expireTimestamp: req.retentionTimeMs >= 0 ? commitTimestamp + req.retentionTimeMs : -1,
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    if (stored.length > 0) {
      if (!group) {
        group = new Group(req.groupId);
        this.groups.set(req.groupId, group);
      }
      this.store.appendOffsets(stored);
      for (const o of stored)
        group.setOffset(o.topic, o.partition, {
          offset: o.offset,
          leaderEpoch: o.leaderEpoch,
          metadata: o.metadata,
          commitTimestamp: o.commitTimestamp,
          expireTimestamp: o.expireTimestamp,
        });
      this.maybeCompact();
    }
    return out;
  }

  // ---- transactional offsets (TxnOffsetCommit; the transaction coordinator in src/txn stages them) ----

  /**
   * Kafka's member check of a transactional offset commit (validateOffsetCommit with isTransactional):
   * member and generation are checked only when the request names them (TxnOffsetCommit v3+); a group
   * that does not exist yet is created by the commit. NONE when the offsets may be staged.
   */
  validateTxnOffsetCommit(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const invalid = this.validate(groupId, false);
    if (invalid) return invalid;
    const group = this.groups.get(groupId);
    if (group?.is("Dead")) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && memberId === "" && groupInstanceId === null) return ErrorCode.NONE;
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (groupInstanceId !== null) {
      if (!group.staticMembers.has(groupInstanceId)) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (group.isStaticMemberFenced(groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (!group.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  /** The commit of a transaction: offsets staged by TxnOffsetCommit become the group's committed offsets. */
  commitTxnOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string; commitTimestamp: number }[],
  ): void {
    if (!this.active || offsets.length === 0) return;
    let group = this.groups.get(groupId);
    if (!group) {
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    const stored: StoredOffset[] = offsets.map((o) => ({ group: groupId, ...o, expireTimestamp: -1 }));
    this.store.appendOffsets(stored);
    for (const o of stored)
      group.setOffset(o.topic, o.partition, {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        commitTimestamp: o.commitTimestamp,
        expireTimestamp: -1,
      });
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
    const group = this.groups.get(groupId);
    const entry = (topic: string, partition: number): FetchedPartition => {
      const o = group?.getOffset(topic, partition);
      return o
        ? { partitionIndex: partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: 0 }
        : { partitionIndex: partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: 0 };
    };
    if (topics === null) {
      const out: FetchedTopic[] = [];
      if (group) {
        for (const name of [...group.offsets.keys()].sort()) {
          const parts = [...group.offsets.get(name)!.keys()].sort((a, b) => a - b);
          out.push({ name, partitions: parts.map((p) => entry(name, p)) });
        }
      }
      return { errorCode: ErrorCode.NONE, topics: out };
    }
    return { errorCode: ErrorCode.NONE, topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(t.name, p)) })) };
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
    const subscribed = group.is("Empty") ? new Set<string>() : this.subscribedTopics(group);
    const gone: { group: string; topic: string; partition: number }[] = [];
    const out = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map(({ partitionIndex }) => {
        if (!this.topics.partition(t.name, partitionIndex)) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (subscribed === null || subscribed.has(t.name)) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        if (group.deleteOffset(t.name, partitionIndex)) gone.push({ group: groupId, topic: t.name, partition: partitionIndex });
        return { partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    this.store.appendOffsetTombstones(gone);
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  /**
   * Forgets every group's committed offsets of a deleted topic (Kafka does this when a topic is deleted).
   * For the DeleteTopics handler to call; until it does, the retention check drops them.
   */
  deleteTopicOffsets(topic: string): number {
    if (!this.active) return 0;
    const gone: { group: string; topic: string; partition: number }[] = [];
    for (const group of this.groups.values()) {
      const parts = group.offsets.get(topic);
      if (!parts) continue;
      for (const partition of [...parts.keys()]) gone.push({ group: group.groupId, topic, partition });
      group.offsets.delete(topic);
    }
    this.store.appendOffsetTombstones(gone);
    return gone.length;
  }

  /** Topics the members of a consumer group subscribe to; null when that cannot be told. */
  private subscribedTopics(group: Group): Set<string> | null {
    if (group.protocolType !== CONSUMER_PROTOCOL_TYPE || group.protocolName === null) return null;
    const topics = new Set<string>();
    try {
      for (const m of group.members.values()) for (const t of decodeSubscription(m.metadataFor(group.protocolName)).topics) topics.add(t);
    } catch {
      return null;
    }
    return topics;
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

  private dropGroup(group: Group): void {
    group.transition("Dead");
    if (group.joinTimer) clearTimeout(group.joinTimer);
    this.clearSyncTimer(group);
    for (const t of group.pendingMembers.values()) clearTimeout(t);
    group.pendingMembers.clear();
    this.groups.delete(group.groupId);
    this.persisted.delete(group.groupId);
  }

  // ---- durability and retention -------------------------------------------------------------------

  private persistGroup(group: Group): void {
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
    const state: LoadedState = { offsets: [], groups: [] };
    for (const g of this.groups.values()) {
      if (this.persisted.has(g.groupId))
        state.groups.push({
          group: g.groupId,
          protocolType: g.protocolType,
          generationId: g.generationId,
          emptySince: g.is("Empty") ? g.stateTimestamp : -1,
        });
      for (const [topic, parts] of g.offsets)
        for (const [partition, o] of parts) state.offsets.push({ group: g.groupId, topic, partition, ...o });
    }
    return state;
  }

  private maybeCompact(): void {
    let live = this.persisted.size;
    for (const g of this.groups.values()) live += g.offsetCount();
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

  /**
   * Kafka's offset expiration (cleanupGroupMetadata), run every offsets.retention.check.interval.ms.
   * Offsets of topics that no longer exist go too (Kafka drops them when the topic is deleted).
   * An Empty group left without offsets is removed.
   */
  expireOffsets(now = Date.now()): number {
    if (!this.active) return 0;
    const retention = this.settings.offsetsRetentionMs;
    const gone: { group: string; topic: string; partition: number }[] = [];
    const deadGroups: string[] = [];
    for (const group of [...this.groups.values()]) {
      let base: ((o: CommittedOffset) => number) | null = null;
      let keepTopics: Set<string> | null = null;
      if (group.protocolType !== null && group.is("Empty")) base = () => group.stateTimestamp;
      else if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.is("Stable")) {
        keepTopics = this.subscribedTopics(group);
        if (keepTopics !== null) base = (o) => o.commitTimestamp;
      } else if (group.protocolType === null) base = (o) => o.commitTimestamp;
      for (const [topic, parts] of [...group.offsets]) {
        const topicGone = !this.topics.get(topic);
        for (const [partition, o] of [...parts]) {
          let expired = topicGone;
          if (!expired && base !== null && !(keepTopics?.has(topic) ?? false))
            expired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= retention;
          if (expired) {
            group.deleteOffset(topic, partition);
            gone.push({ group: group.groupId, topic, partition });
          }
        }
      }
      if (group.is("Empty") && !group.hasOffsets && group.pendingMembers.size === 0) {
        this.dropGroup(group);
        deadGroups.push(group.groupId);
      }
    }
    if (gone.length > 0) this.log.info(`expired ${gone.length} committed offsets`);
    this.store.appendOffsetTombstones(gone);
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
    for (const group of this.groups.values()) {
      if (group.joinTimer) clearTimeout(group.joinTimer);
      group.joinTimer = null;
      initialDelay.delete(group);
      this.clearSyncTimer(group);
      for (const t of group.pendingMembers.values()) clearTimeout(t);
      group.pendingMembers.clear();
      for (const m of group.members.values()) {
        if (m.expiryTimer) clearTimeout(m.expiryTimer);
        m.expiryTimer = null;
        this.answerJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        this.answerSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
    this.store.close();
  }
}

/** Groups whose first rebalance is still in group.initial.rebalance.delay.ms (Kafka's InitialDelayedJoin). */
const initialDelay = new WeakSet<Group>();

export type { GroupState };
