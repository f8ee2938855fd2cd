// Classic-protocol members inside a consumer group (KIP-848's mixed groups, during an online upgrade or
// downgrade), as Kafka 4.0 serves them: JoinGroup, SyncGroup, Heartbeat and LeaveGroup to a consumer
// group with members.
// - JoinGroup is answered at once: the member's subscription (from its first protocol's metadata) joins
//   the group like a ConsumerGroupHeartbeat would, the server-side assignor computes the target and the
//   member is reconciled against the partitions it reports owning. The response carries its member
//   epoch as the generation, its first protocol and no leader, so the client acts as a follower.
//   v4+ dynamic members get MEMBER_ID_REQUIRED first. A protocol type other than "consumer", or no
//   protocol every classic member supports, is INCONSISTENT_GROUP_PROTOCOL. A classic static member
//   replaces the member of its instance id at once; replacing the last new-protocol member that way
//   converts the group back to a classic group when the migration policy allows.
// - SyncGroup returns the member's assignment in the consumer protocol (in the version it subscribed
//   with); REBALANCE_IN_PROGRESS while the group epoch is ahead of the member's (unless it still has
//   partitions to revoke: it learns which from this assignment).
// - Heartbeat: REBALANCE_IN_PROGRESS when the member must rejoin (the group epoch moved, it must revoke,
//   or partitions it waited for were released).
// - LeaveGroup removes members (a static one by instance id alone too) and bumps the group epoch; when
//   only classic members remain, the group converts back to a classic group (policy permitting).
// The member's session timeout is its own; told to rejoin, it must JoinGroup within its rebalance
// timeout, and SyncGroup within it after joining, else it is fenced.
import { randomUUID } from "node:crypto";
import { ErrorCode } from "../../protocol/errors.ts";
import { joinError, syncError, type JoinRequest, type SyncRequest } from "./classic-rebalance.ts";
import { newMember, type ConsumerGroup, type ConsumerMember } from "./consumer-group.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription, type Subscription } from "./consumer-protocol.ts";
import type { ConsumerRebalance, TopicPartitions } from "./consumer-rebalance.ts";
import type { ConsumerContext } from "./context.ts";
import type { JoinResult, SyncResult } from "./group.ts";
import { byTopicId, classicAssignment } from "./migration.ts";

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export class ClassicMembers {
  constructor(
    private readonly ctx: ConsumerContext,
    private readonly rebalance: ConsumerRebalance,
  ) {}

  private get log() {
    return this.ctx.log;
  }

  /** The member a request names: by instance id when it has one (FENCED_INSTANCE_ID for another member id). */
  private memberOf(group: ConsumerGroup, memberId: string, instanceId: string | null): ConsumerMember | number {
    if (instanceId === null) return group.members.get(memberId) ?? ErrorCode.UNKNOWN_MEMBER_ID;
    const m = group.staticMember(instanceId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (m.memberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    return m;
  }

  // ---- JoinGroup ------------------------------------------------------------------------------------

  join(group: ConsumerGroup, req: JoinRequest): JoinResult {
    const invalid = this.ctx.validate(req.groupId, true);
    if (invalid) return joinError(req.memberId, invalid);
    const s = this.ctx.settings;
    if (req.sessionTimeoutMs < s.minSessionTimeoutMs || req.sessionTimeoutMs > s.maxSessionTimeoutMs) return joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    const isUnknown = req.memberId === "";
    const memberId = isUnknown ? randomUUID() : req.memberId;
    const max = this.ctx.consumerSettings.maxSize;
    if (group.members.size >= max && !group.members.has(memberId)) return joinError(req.memberId, ErrorCode.GROUP_MAX_SIZE_REACHED);
    if (!group.supportsClassicProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      this.log.info(`group ${group.groupId}: member ${memberId}'s protocols are not supported`);
      return joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (isUnknown && req.requireKnownMemberId) {
      this.log.debug(`group ${group.groupId}: member id ${memberId} handed out (MEMBER_ID_REQUIRED)`);
      return joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED);
    }
    let subscription: Subscription;
    try {
      subscription = decodeSubscription(req.protocols[0]!.metadata);
    } catch {
      this.log.warn(`group ${group.groupId}: member ${memberId} joined with a malformed consumer protocol subscription`);
      return joinError(req.memberId, ErrorCode.UNKNOWN_SERVER_ERROR);
    }

    // A static member joining without a member id takes the place of the member of its instance id at
    // once (whatever protocol that one speaks); rejoining with one, it must be that member.
    const existing = group.staticMember(req.groupInstanceId);
    let base: ConsumerMember;
    let replaces: ConsumerMember | undefined;
    if (req.groupInstanceId === null) base = group.members.get(memberId) ?? newMember(memberId);
    else if (isUnknown) {
      replaces = existing;
      base = existing ? { ...existing, memberId, memberEpoch: 0, previousMemberEpoch: 0 } : newMember(memberId);
    } else {
      if (!existing) return joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      if (existing.memberId !== memberId) return joinError(req.memberId, ErrorCode.FENCED_INSTANCE_ID);
      base = existing;
    }
    const updated: ConsumerMember = {
      ...base,
      instanceId: req.groupInstanceId ?? base.instanceId,
      rackId: subscription.rackId ?? base.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : base.rebalanceTimeoutMs,
      subscribedTopicNames: subscription.topics,
      clientId: req.clientId,
      clientHost: req.clientHost,
      classic: { sessionTimeoutMs: req.sessionTimeoutMs, supportedProtocols: req.protocols },
    };

    // Replacing the last new-protocol member by a classic one leaves only classic members: back to a
    // classic group.
    if (existing && existing.classic === null && this.rebalance.canDowngrade(group, new Set([existing.memberId]), group.members.size)) {
      const changed = !sameTopics(existing.subscribedTopicNames, updated.subscribedTopicNames);
      const reason = changed ? `Downgrade group ${group.groupId} from consumer to classic for static member replacement with different subscription.` : null;
      const generationId = group.groupEpoch;
      if (this.ctx.convertToClassicGroup(group, new Set([existing.memberId]), updated, reason)) {
        const classic = this.ctx.groups.get(group.groupId)!;
        return {
          errorCode: ErrorCode.NONE,
          generationId,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocolName: classic.protocolName,
          leader: "",
          memberId,
          members: [],
        };
      }
    }

    const dirty = new Set<string>();
    this.rebalance.admit(group, updated, replaces, dirty);
    const owned: TopicPartitions[] = [...byTopicId(subscription.ownedPartitions, (name) => this.ctx.topics.get(name)?.id)].map(([topicId, ps]) => ({
      topicId,
      partitions: [...ps],
    }));
    const member = this.rebalance.applyMember(group, base, updated, owned, dirty);
    this.ctx.persistConsumerGroup(group, [...dirty].filter((id) => id !== ""));
    this.rebalance.cancelTimer(group, memberId, "join");
    this.rebalance.scheduleSessionTimeout(group, memberId);
    this.rebalance.scheduleClassicTimeout(group, memberId, "sync", req.rebalanceTimeoutMs);
    return {
      errorCode: ErrorCode.NONE,
      generationId: member.memberEpoch,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: req.protocols[0]!.name,
      leader: "",
      memberId,
      members: [],
    };
  }

  // ---- SyncGroup ------------------------------------------------------------------------------------

  sync(group: ConsumerGroup, req: SyncRequest): SyncResult {
    const invalid = this.ctx.validate(req.groupId, true);
    if (invalid) return syncError(invalid);
    if (group.isEmpty) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    const m = this.memberOf(group, req.memberId, req.groupInstanceId);
    if (typeof m === "number") return syncError(m);
    if (m.classic === null) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== m.memberEpoch) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if ((req.protocolType !== null && req.protocolType !== CONSUMER_PROTOCOL_TYPE) || (req.protocolName !== null && req.protocolName !== m.classic.supportedProtocols[0]!.name))
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // A member with partitions to revoke has rejoined already: it finishes revoking first.
    if (group.groupEpoch > m.memberEpoch && m.state !== "UNREVOKED_PARTITIONS") {
      this.rebalance.scheduleClassicTimeout(group, m.memberId, "join", m.rebalanceTimeoutMs);
      return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    this.rebalance.cancelTimer(group, m.memberId, "sync");
    this.rebalance.scheduleSessionTimeout(group, m.memberId);
    return {
      errorCode: ErrorCode.NONE,
      protocolType: req.protocolType,
      protocolName: req.protocolName,
      assignment: classicAssignment(m, (id) => this.rebalance.topicName(id)),
    };
  }

  // ---- Heartbeat ------------------------------------------------------------------------------------

  heartbeat(group: ConsumerGroup, generationId: number, memberId: string, instanceId: string | null): number {
    const invalid = this.ctx.validate(group.groupId, true);
    if (invalid) return invalid;
    const m = this.memberOf(group, memberId, instanceId);
    if (typeof m === "number") return m;
    if (m.classic === null) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== m.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
    this.rebalance.scheduleSessionTimeout(group, m.memberId);
    if (
      m.memberEpoch < group.groupEpoch ||
      m.state === "UNREVOKED_PARTITIONS" ||
      (m.state === "UNRELEASED_PARTITIONS" && !group.waitingOnUnreleasedPartition(m))
    ) {
      this.rebalance.scheduleClassicTimeout(group, m.memberId, "join", m.rebalanceTimeoutMs);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    return ErrorCode.NONE;
  }

  // ---- LeaveGroup -----------------------------------------------------------------------------------

  /** Members of either protocol may be removed (an admin removes static ones by instance id alone). */
  leave(group: ConsumerGroup, leaving: { memberId: string; groupInstanceId: string | null; reason?: string | null }[]): LeaveResult {
    const invalid = this.ctx.validate(group.groupId, true);
    if (invalid) return { errorCode: invalid, members: [] };
    const valid = new Map<string, ConsumerMember>();
    const members = leaving.map((l) => {
      const result = (errorCode: number) => ({ memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode });
      const m = l.groupInstanceId === null ? group.members.get(l.memberId) : group.staticMember(l.groupInstanceId);
      if (!m) return result(ErrorCode.UNKNOWN_MEMBER_ID);
      if (l.groupInstanceId !== null && l.memberId !== "" && m.memberId !== l.memberId) return result(ErrorCode.FENCED_INSTANCE_ID);
      this.log.info(`group ${group.groupId}: member ${m.memberId} leaves through LeaveGroup (${l.reason ?? "no reason given"})`);
      valid.set(m.memberId, m);
      return result(ErrorCode.NONE);
    });
    this.rebalance.fence(group, [...valid.values()], "it left the group");
    return { errorCode: ErrorCode.NONE, members };
  }
}

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return a.length === b.length && b.every((t) => set.has(t));
}
