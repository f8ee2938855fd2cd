// The consumer group protocol of KIP-848 (ConsumerGroupHeartbeat), as Kafka 4.0's GroupMetadataManager
// runs it. Each heartbeat:
// 1. gets or creates the group (epoch 0 creates it; an Empty classic group of the same id is replaced,
//    keeping its committed offsets; a classic group with members is converted, its members staying as
//    classic members, when group.consumer.migration.policy allows, else GROUP_ID_NOT_FOUND) and the
//    member (epoch 0 joins; a static member replaces the one with its instance id once that one has left
//    with epoch -2, or at once when that one is a classic member, else UNRELEASED_INSTANCE_ID), checks the
//    member epoch (FENCED_MEMBER_EPOCH unless it is the current one, or the previous one with a subset of
//    its partitions) and applies what changed (fields left null are unchanged);
// 2. bumps the group epoch when a subscription changed or the subscribed topics changed (created,
//    deleted, re-created, more partitions, a regex matching new topics); a bumped epoch gets a new target
//    assignment from the server-side assignor (uniform or range, the members' choice, else the first of
//    group.consumer.assignors);
// 3. reconciles the member towards its target (reconcile.ts): partitions are revoked before they are
//    given to another member, so nobody stops consuming what they keep;
// 4. answers with the member epoch, the heartbeat interval and, when it changed or the request was a
//    full one, the assignment.
// Members whose heartbeats stop for group.consumer.session.timeout.ms, or that do not revoke within their
// rebalance timeout, are fenced (removed; the group epoch is bumped). Leaving: epoch -1; a static member
// leaving with -2 keeps its partitions for its successor until its session times out. When the members
// left all use the classic protocol, the group becomes a classic group instead (online downgrade), if the
// policy allows. Classic members (classic-members.ts) share steps 1–3 and the timers.
// Every change is written to the offsets log (a consumer group record and one record per member), so
// groups, members and assignments survive a restart and members go on heartbeating as before.
// Regex subscriptions are resolved when they first appear and again whenever the topic catalogue has
// changed (Kafka resolves them in the background, at most every 10 s; here it is synchronous and cheap).
// Not implemented: rack-aware assignment, per-group configs (consumer.session.timeout.ms and
// consumer.heartbeat.interval.ms group overrides), client-side assignors.
import { randomUUID } from "node:crypto";
import { ErrorCode } from "../../protocol/errors.ts";
import type { Topic } from "../topics.ts";
import { ASSIGNORS } from "./assignors.ts";
import { downgradeEnabled, upgradeEnabled, type ConsumerContext } from "./context.ts";
import {
  ConsumerGroup,
  EMPTY_ASSIGNMENT,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  assignmentToString,
  isReconciledTo,
  newMember,
  sameAssignment,
  sameMember,
  sameSubscription,
  type Assignment,
  type ConsumerMember,
} from "./consumer-group.ts";
import type { Group } from "./group.ts";
import { consumerGroupFromClassic, MigrationError } from "./migration.ts";
import { reconcile } from "./reconcile.ts";
import { CONSUMER_PROTOCOL_TYPE } from "./consumer-protocol.ts";
import { regexError, resolveRegex } from "./topic-regex.ts";

/** An error answered with its code and message (Kafka's ApiException). */
export class GroupError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface TopicPartitions {
  topicId: string;
  partitions: number[];
}

export interface HeartbeatRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: TopicPartitions[] | null;
  clientId: string;
  clientHost: string;
  /** the ConsumerGroupHeartbeat version (v1+ requires a client-generated member id) */
  version: number;
}

export interface HeartbeatResponse {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: TopicPartitions[] } | null;
}

interface MemberTimers {
  session?: ReturnType<typeof setTimeout>;
  rebalance?: ReturnType<typeof setTimeout>;
  /** a classic member told to rejoin must JoinGroup within its rebalance timeout */
  join?: ReturnType<typeof setTimeout>;
  /** a classic member that joined must SyncGroup within its rebalance timeout */
  sync?: ReturnType<typeof setTimeout>;
}

const errorResponse = (code: number, message: string | null): HeartbeatResponse => ({
  errorCode: code,
  errorMessage: message,
  memberId: null,
  memberEpoch: 0,
  heartbeatIntervalMs: 0,
  assignment: null,
});

export function toTopicPartitions(a: Assignment): TopicPartitions[] {
  return [...a].map(([topicId, parts]) => ({ topicId, partitions: [...parts].sort((x, y) => x - y) }));
}

export class ConsumerRebalance {
  private readonly timers = new WeakMap<ConsumerGroup, Map<string, MemberTimers>>();
  /** the topic catalogue fingerprint and the topics by id, recomputed when the catalogue changes */
  private catalogueCache: { fingerprint: string; byId: Map<string, Topic> } | null = null;

  constructor(private readonly ctx: ConsumerContext) {}

  private get settings() {
    return this.ctx.consumerSettings;
  }

  private get log() {
    return this.ctx.log;
  }

  // ---- topics ---------------------------------------------------------------------------------------

  /** The catalogue as of now: a fingerprint that changes when topics are created or deleted, and ids. */
  catalogue(): { fingerprint: string; byId: Map<string, Topic> } {
    const topics = [...this.ctx.topics.all()];
    const fingerprint = topics.map((t) => t.id).join(",");
    if (this.catalogueCache?.fingerprint !== fingerprint) this.catalogueCache = { fingerprint, byId: new Map(topics.map((t) => [t.id, t])) };
    return this.catalogueCache;
  }

  topicName(topicId: string): string | undefined {
    return this.catalogue().byId.get(topicId)?.name;
  }

  private topicIds(names: Iterable<string>): Set<string> {
    const ids = new Set<string>();
    for (const n of names) {
      const t = this.ctx.topics.get(n);
      if (t) ids.add(t.id);
    }
    return ids;
  }

  /** Kafka's subscription metadata, as a string: the subscribed topics that exist, with id and size. */
  private signature(topics: Set<string>): string {
    const parts: string[] = [];
    for (const name of [...topics].sort()) {
      const t = this.ctx.topics.get(name);
      if (t) parts.push(`${name}:${t.id}:${t.partitions.length}`);
    }
    return parts.join(",");
  }

  /** Resolves the group's regexes that are new or were resolved against an older catalogue. */
  private refreshRegexes(group: ConsumerGroup, extra: string | null): void {
    const { fingerprint } = this.catalogue();
    const inUse = new Set<string>();
    for (const m of group.members.values()) if (m.subscribedTopicRegex !== "") inUse.add(m.subscribedTopicRegex);
    if (extra) inUse.add(extra);
    for (const regex of group.resolvedRegexes.keys()) if (!inUse.has(regex)) group.resolvedRegexes.delete(regex);
    for (const regex of inUse) {
      if (group.resolvedRegexes.get(regex)?.catalogue === fingerprint) continue;
      const topics = resolveRegex(regex, [...this.ctx.topics.all()].map((t) => t.name));
      group.resolvedRegexes.set(regex, { topics, catalogue: fingerprint });
      this.log.debug(`group ${group.groupId}: regex ${regex} matches ${topics.size} topic(s)`);
    }
  }

  // ---- ConsumerGroupHeartbeat -----------------------------------------------------------------------

  heartbeat(req: HeartbeatRequest): HeartbeatResponse {
    try {
      if (!this.ctx.isActive) return errorResponse(ErrorCode.COORDINATOR_NOT_AVAILABLE, null);
      this.validateRequest(req);
      if (req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(req);
      return this.regularHeartbeat(req);
    } catch (e) {
      if (e instanceof GroupError) {
        this.log.debug(`ConsumerGroupHeartbeat of group ${req.groupId}, member ${req.memberId}: ${e.message}`);
        return errorResponse(e.code, e.message);
      }
      throw e;
    }
  }

  /** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid. */
  private validateRequest(req: HeartbeatRequest): void {
    const invalid = (message: string) => new GroupError(ErrorCode.INVALID_REQUEST, message);
    if (req.version >= 1 || req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH)
      if (req.memberId === "") throw invalid("MemberId can't be empty.");
    if (req.groupId === "") throw invalid("GroupId can't be empty.");
    if (req.instanceId === "") throw invalid("InstanceId can't be empty.");
    if (req.rackId === "") throw invalid("RackId can't be empty.");
    if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) throw invalid("RebalanceTimeoutMs must be provided in first request.");
      if (req.topicPartitions === null || req.topicPartitions.length > 0) throw invalid("TopicPartitions must be empty when (re-)joining.");
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null)
        throw invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.");
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.instanceId === null) throw invalid("InstanceId can't be null.");
    } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) throw invalid("MemberEpoch is invalid.");
    if (req.serverAssignor !== null && !this.settings.assignors.includes(req.serverAssignor))
      throw new GroupError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.settings.assignors.join(", ")}.`,
      );
  }

  /**
   * The consumer group, or a new one (not yet in the map) when joining: an Empty classic group gives way
   * to it, a classic group with members is converted (online upgrade) when the migration policy allows.
   * `upgraded` is the classic group a new group replaces.
   */
  private consumerGroupFor(groupId: string, create: boolean): { group: ConsumerGroup; isNew: boolean; upgraded?: Group } {
    const existing = this.ctx.consumerGroups.get(groupId);
    if (existing) return { group: existing, isNew: false };
    const classic = this.ctx.groups.get(groupId);
    if (!classic) {
      if (!create) throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${groupId} not found.`);
      return { group: new ConsumerGroup(groupId), isNew: true };
    }
    if (!create) throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
    if (classic.is("Empty")) return { group: new ConsumerGroup(groupId), isNew: true, upgraded: classic };
    this.validateOnlineUpgrade(classic);
    try {
      return { group: consumerGroupFromClassic(classic, (name) => this.ctx.topics.get(name)?.id), isNew: true, upgraded: classic };
    } catch (e) {
      if (!(e instanceof MigrationError)) throw e;
      this.log.warn(`group ${groupId}: ${e.message}`);
      throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, e.message);
    }
  }

  /** Kafka's validateOnlineUpgrade: GROUP_ID_NOT_FOUND when a classic group with members cannot convert. */
  private validateOnlineUpgrade(classic: Group): void {
    const refuse = (why: string) => {
      this.log.info(`Cannot upgrade classic group ${classic.groupId} to consumer group because ${why}.`);
      return new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${classic.groupId} to consumer group because ${why}.`);
    };
    if (!upgradeEnabled(this.settings.migrationPolicy)) throw refuse("online upgrade is disabled");
    if (classic.protocolType !== CONSUMER_PROTOCOL_TYPE) throw refuse("the group does not use the consumer embedded protocol");
    if (classic.members.size > this.settings.maxSize) throw refuse("the group size exceeds the consumer group maximum size");
  }

  private throwIfFull(group: ConsumerGroup, memberId: string): void {
    const max = this.settings.maxSize;
    if (group.members.size >= max && (memberId === "" || !group.members.has(memberId)))
      throw new GroupError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${max} members.`);
  }

  /** Kafka's throwIfConsumerGroupMemberEpochIsInvalid; epoch 0 always rejoins (KAFKA-19233). */
  private throwIfEpochInvalid(m: ConsumerMember, epoch: number, owned: TopicPartitions[] | null): void {
    if (epoch === 0) return;
    if (epoch > m.memberEpoch)
      throw new GroupError(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a greater member epoch (${epoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      );
    if (epoch < m.memberEpoch && (epoch !== m.previousMemberEpoch || !isSubset(owned, m.assigned)))
      throw new GroupError(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a smaller member epoch (${epoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      );
  }

  /**
   * The member the heartbeat is about. For a static member joining in place of a departed one, `replaces`
   * is that one (the replacement is applied once the whole request is known to be valid).
   */
  private memberFor(group: ConsumerGroup, req: HeartbeatRequest, memberId: string, create: boolean): { member: ConsumerMember; replaces?: ConsumerMember } {
    if (req.instanceId === null) {
      const m = group.members.get(memberId);
      if (!m) {
        if (!create) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${group.groupId}.`);
        return { member: newMember(memberId) };
      }
      this.throwIfEpochInvalid(m, req.memberEpoch, req.topicPartitions);
      return { member: m };
    }
    const existing = group.staticMember(req.instanceId);
    if (create) {
      if (!existing) return { member: group.members.get(memberId) ?? newMember(memberId) };
      // The same member coming back (a lost response, or fenced): it keeps its place.
      if (existing.memberId === memberId)
        return { member: existing.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH ? { ...existing, memberEpoch: 0, previousMemberEpoch: 0 } : existing };
      if (existing.classic === null && existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH)
        throw new GroupError(
          ErrorCode.UNRELEASED_INSTANCE_ID,
          `Static member ${memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${existing.memberId} member.`,
        );
      return { member: { ...existing, memberId, memberEpoch: 0, previousMemberEpoch: 0 }, replaces: existing };
    }
    if (!existing) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
    if (existing.memberId !== memberId)
      throw new GroupError(
        ErrorCode.FENCED_INSTANCE_ID,
        `Static member ${memberId} with instance id ${req.instanceId} was fenced by member ${existing.memberId}.`,
      );
    this.throwIfEpochInvalid(existing, req.memberEpoch, req.topicPartitions);
    return { member: existing };
  }

  private regularHeartbeat(req: HeartbeatRequest): HeartbeatResponse {
    const create = req.memberEpoch === 0;
    const { group, isNew, upgraded } = this.consumerGroupFor(req.groupId, create);
    this.throwIfFull(group, req.memberId);
    const memberId = req.memberId === "" ? randomUUID() : req.memberId;
    const { member, replaces } = this.memberFor(group, req, memberId, create);

    let updated: ConsumerMember = {
      ...member,
      instanceId: req.instanceId ?? member.instanceId,
      rackId: req.rackId ?? member.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      serverAssignor: req.serverAssignor ?? member.serverAssignor,
      subscribedTopicNames: req.subscribedTopicNames ?? member.subscribedTopicNames,
      subscribedTopicRegex: req.subscribedTopicRegex ?? member.subscribedTopicRegex,
      clientId: req.clientId,
      clientHost: req.clientHost,
      classic: null,
    };
    const regexChanged = member.subscribedTopicRegex !== updated.subscribedTopicRegex;
    if (regexChanged && updated.subscribedTopicRegex !== "" && !group.resolvedRegexes.has(updated.subscribedTopicRegex)) {
      const error = regexError(updated.subscribedTopicRegex);
      if (error !== null) throw new GroupError(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${updated.subscribedTopicRegex}\` is not a valid regular expression: ${error}.`);
    }

    // The request is valid: from here on the group changes.
    const dirty = new Set<string>();
    if (isNew) this.install(group, upgraded, dirty);
    this.admit(group, updated, replaces, dirty);
    updated = this.applyMember(group, member, updated, req.topicPartitions, dirty);
    this.scheduleSessionTimeout(group, updated.memberId);
    this.ctx.persistConsumerGroup(group, [...dirty].filter((id) => id !== ""));

    const full =
      req.rebalanceTimeoutMs !== -1 && (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) && req.topicPartitions !== null;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: updated.memberId,
      memberEpoch: updated.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment:
        req.memberEpoch === 0 || full || !sameAssignment(member.assigned, updated.assigned) ? { topicPartitions: toTopicPartitions(updated.assigned) } : null,
    };
  }

  /**
   * Puts a new consumer group in place of the classic group it replaces, if any: an Empty one, or one
   * converted with its members (online upgrade), whose parked requests are told to rejoin. Converted
   * members are written and their sessions run from now.
   */
  private install(group: ConsumerGroup, upgraded: Group | undefined, dirty: Set<string>): void {
    if (upgraded) {
      const members = upgraded.members.size;
      this.ctx.replaceClassicGroup(group.groupId);
      if (members > 0) this.log.info(`group ${group.groupId}: the classic group with ${members} members becomes a consumer group (online upgrade)`);
      else this.log.info(`group ${group.groupId}: the empty classic group becomes a consumer group`);
    }
    this.ctx.consumerGroups.set(group.groupId, group);
    for (const m of group.members.values()) {
      dirty.add(m.memberId);
      this.scheduleSessionTimeout(group, m.memberId);
    }
    if (group.members.size > 0) dirty.add("");
  }

  /** A static member replacing the one of its instance id takes over its target assignment. */
  admit(group: ConsumerGroup, updated: ConsumerMember, replaces: ConsumerMember | undefined, dirty: Set<string>): void {
    const protocol = updated.classic ? "classic" : "consumer";
    if (replaces) {
      const target = group.target(replaces.memberId);
      this.removeMember(group, replaces.memberId, dirty);
      group.setTargetAssignment(updated.memberId, target);
      this.log.info(
        `group ${group.groupId}: static member with instance id ${updated.instanceId} rejoins as ${updated.memberId} (${protocol} protocol), replacing ${replaces.memberId}`,
      );
    } else if (!group.members.has(updated.memberId)) {
      this.log.info(`group ${group.groupId}: member ${updated.memberId} joins with the ${protocol} protocol${updated.instanceId ? ` (instance id ${updated.instanceId})` : ""}`);
    }
  }

  /**
   * Steps 1–3 of a heartbeat, shared by ConsumerGroupHeartbeat and a classic member's JoinGroup: stores
   * the member's update, bumps the group epoch when a subscription or the subscribed topics changed,
   * computes a new target assignment when the epoch moved and reconciles the member with its target,
   * given what it reported owning. Returns the member as it now is.
   */
  applyMember(group: ConsumerGroup, previous: ConsumerMember, updated: ConsumerMember, owned: TopicPartitions[] | null, dirty: Set<string>): ConsumerMember {
    const namesChanged = !sameSubscription(previous, updated);
    const regexChanged = previous.subscribedTopicRegex !== updated.subscribedTopicRegex;
    if (!group.members.has(updated.memberId) || !sameMember(group.members.get(updated.memberId)!, updated)) dirty.add(updated.memberId);
    group.updateMember(updated);

    // Subscriptions and the topics behind them decide whether the group epoch moves.
    this.refreshRegexes(group, null);
    const signature = this.signature(group.subscribedTopics());
    if (group.groupEpoch === 0 || namesChanged || regexChanged || signature !== group.subscriptionSignature) {
      group.subscriptionSignature = signature;
      group.setGroupEpoch(group.groupEpoch + 1);
      dirty.add("");
      this.log.info(`group ${group.groupId}: group epoch ${group.groupEpoch}`);
    }
    if (group.groupEpoch > group.assignmentEpoch) this.updateTargetAssignment(group, dirty);

    // Reconcile the member with its target.
    const subscriptionChanged = namesChanged || regexChanged;
    const current = group.members.get(updated.memberId)!;
    if (subscriptionChanged || !isReconciledTo(current, group.assignmentEpoch)) {
      const next = reconcile({
        member: current,
        targetEpoch: group.assignmentEpoch,
        target: group.target(current.memberId),
        currentPartitionEpoch: (t, p) => group.currentPartitionEpoch(t, p),
        subscribedTopicIds: this.topicIds(group.memberTopics(current)),
        subscriptionChanged,
        owned,
      });
      if (next !== current && !sameMember(next, current)) {
        group.updateMember(next);
        dirty.add(next.memberId);
        this.log.debug(
          `group ${group.groupId}: member ${next.memberId} epoch ${next.memberEpoch} ${next.state}, assigned ${assignmentToString(next.assigned, (id) => this.topicName(id))}` +
            (next.pendingRevocation.size > 0 ? `, revoking ${assignmentToString(next.pendingRevocation, (id) => this.topicName(id))}` : ""),
        );
        // Classic members have join and sync timeouts instead: they revoke before they rejoin.
        if (next.classic === null) {
          if (next.state === "UNREVOKED_PARTITIONS") this.scheduleRebalanceTimeout(group, next);
          else this.cancelTimer(group, next.memberId, "rebalance");
        }
      }
    }
    return group.members.get(updated.memberId)!;
  }

  /** A new target assignment for every member, at the group epoch. */
  private updateTargetAssignment(group: ConsumerGroup, dirty: Set<string>): void {
    const name = group.preferredServerAssignor() ?? this.settings.assignors[0]!;
    const assignor = ASSIGNORS.get(name) ?? ASSIGNORS.get(this.settings.assignors[0]!)!;
    const { byId } = this.catalogue();
    const result = assignor.assign({
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        topics: this.topicIds(group.memberTopics(m)),
        current: group.target(m.memberId),
      })),
      partitions: (topicId) => byId.get(topicId)?.partitions.length ?? 0,
    });
    for (const m of group.members.values()) {
      const next = result.get(m.memberId) ?? EMPTY_ASSIGNMENT;
      if (!sameAssignment(group.target(m.memberId), next)) {
        group.setTargetAssignment(m.memberId, next);
        dirty.add(m.memberId);
      }
    }
    group.setAssignmentEpoch(group.groupEpoch);
    dirty.add("");
    this.log.info(`group ${group.groupId}: target assignment of epoch ${group.groupEpoch} computed with the ${assignor.name} assignor`);
  }

  // ---- leaving and fencing --------------------------------------------------------------------------

  private leave(req: HeartbeatRequest): HeartbeatResponse {
    const group = this.ctx.consumerGroups.get(req.groupId);
    if (!group) {
      const message = this.ctx.groups.has(req.groupId) ? `Group ${req.groupId} is not a consumer group.` : `Consumer group ${req.groupId} not found.`;
      throw new GroupError(ErrorCode.GROUP_ID_NOT_FOUND, message);
    }
    const response = (memberId: string, memberEpoch: number): HeartbeatResponse => ({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (req.instanceId === null) {
      const m = group.members.get(req.memberId);
      if (!m) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${group.groupId}.`);
      this.fence(group, [m], "it left the group");
      return response(req.memberId, req.memberEpoch);
    }
    const m = group.staticMember(req.instanceId);
    if (!m) throw new GroupError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
    if (m.memberId !== req.memberId)
      throw new GroupError(ErrorCode.FENCED_INSTANCE_ID, `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by member ${m.memberId}.`);
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // It will be back: its partitions wait for it (or its successor) until its session times out.
      group.updateMember({ ...m, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, pendingRevocation: EMPTY_ASSIGNMENT });
      this.cancelTimer(group, m.memberId, "rebalance");
      this.ctx.persistConsumerGroup(group, [m.memberId]);
      this.log.info(`group ${group.groupId}: static member ${m.memberId} with instance id ${req.instanceId} temporarily left the group`);
      return response(m.memberId, LEAVE_GROUP_STATIC_MEMBER_EPOCH);
    }
    this.fence(group, [m], "it left the group");
    return response(req.memberId, req.memberEpoch);
  }

  private removeMember(group: ConsumerGroup, memberId: string, dirty: Set<string>): void {
    group.removeMember(memberId);
    group.removeTargetAssignment(memberId);
    for (const timer of ["session", "rebalance", "join", "sync"] as const) this.cancelTimer(group, memberId, timer);
    dirty.add(memberId);
  }

  /**
   * Removes members and bumps the group epoch (the others get the partitions at their next heartbeat).
   * When only classic members would be left, the group becomes a classic group instead, which rebalances
   * (Kafka's online downgrade), if group.consumer.migration.policy allows.
   */
  fence(group: ConsumerGroup, members: ConsumerMember[], reason: string): void {
    if (members.length === 0) return;
    const leaving = new Set(members.map((m) => m.memberId));
    for (const id of leaving) this.log.info(`group ${group.groupId}: member ${id} fenced because ${reason}`);
    if (this.canDowngrade(group, leaving, group.members.size - leaving.size)) {
      if (this.ctx.convertToClassicGroup(group, leaving, null, `Downgrade group ${group.groupId} from consumer to classic for member leaving.`)) return;
    }
    const dirty = new Set<string>();
    for (const id of leaving) this.removeMember(group, id, dirty);
    this.refreshRegexes(group, null);
    group.subscriptionSignature = this.signature(group.subscribedTopics());
    group.setGroupEpoch(group.groupEpoch + 1);
    this.ctx.persistConsumerGroup(group, dirty);
  }

  /**
   * Kafka's validateOnlineDowngrade: the members that stay (`remaining` of them) all use the classic
   * protocol, there is one at least, the policy allows downgrades and a classic group may be that big.
   */
  canDowngrade(group: ConsumerGroup, except: ReadonlySet<string>, remaining: number): boolean {
    if (!group.allClassicExcept(except)) return false;
    if (remaining <= 0) return false;
    if (!downgradeEnabled(this.settings.migrationPolicy)) {
      this.log.info(`Cannot downgrade consumer group ${group.groupId} to classic group because the online downgrade is disabled.`);
      return false;
    }
    if (remaining > this.ctx.settings.maxSize) {
      this.log.info(`Cannot downgrade consumer group ${group.groupId} to classic group because its group size is greater than classic group max size.`);
      return false;
    }
    return true;
  }

  // ---- timers ---------------------------------------------------------------------------------------

  private memberTimers(group: ConsumerGroup, memberId: string): MemberTimers {
    let byMember = this.timers.get(group);
    if (!byMember) this.timers.set(group, (byMember = new Map()));
    let t = byMember.get(memberId);
    if (!t) byMember.set(memberId, (t = {}));
    return t;
  }

  cancelTimer(group: ConsumerGroup, memberId: string, which: keyof MemberTimers): void {
    const t = this.timers.get(group)?.get(memberId);
    if (!t?.[which]) return;
    clearTimeout(t[which]);
    delete t[which];
    if (!t.session && !t.rebalance && !t.join && !t.sync) this.timers.get(group)!.delete(memberId);
  }

  /**
   * A classic member's join timeout (scheduled once, when it is told to rejoin) or sync timeout (after
   * its JoinGroup): if it does not come within its rebalance timeout it is fenced.
   */
  scheduleClassicTimeout(group: ConsumerGroup, memberId: string, which: "join" | "sync", timeoutMs: number): void {
    const t = this.memberTimers(group, memberId);
    if (which === "join" && t.join) return;
    if (t[which]) clearTimeout(t[which]);
    const timeout = Math.max(timeoutMs, 0);
    t[which] = setTimeout(() => {
      delete t[which];
      const member = group.members.get(memberId);
      if (!member || this.ctx.consumerGroups.get(group.groupId) !== group || !this.ctx.isActive) return;
      this.fence(group, [member], which === "join" ? "the classic member failed to join within the rebalance timeout" : "the member failed to sync within timeout");
    }, timeout);
    t[which].unref?.();
  }

  /** group.consumer.session.timeout.ms from now (classic-protocol members bring their own). */
  scheduleSessionTimeout(group: ConsumerGroup, memberId: string): void {
    const t = this.memberTimers(group, memberId);
    if (t.session) clearTimeout(t.session);
    const m = group.members.get(memberId);
    const timeout = m?.classic?.sessionTimeoutMs ?? this.settings.sessionTimeoutMs;
    t.session = setTimeout(() => {
      delete t.session;
      const member = group.members.get(memberId);
      if (!member || this.ctx.consumerGroups.get(group.groupId) !== group || !this.ctx.isActive) return;
      this.fence(group, [member], `its session expired (${timeout} ms)`);
    }, timeout);
    t.session.unref?.();
  }

  /** A member that does not revoke within its rebalance timeout is fenced (unless it moved on). */
  scheduleRebalanceTimeout(group: ConsumerGroup, m: ConsumerMember): void {
    const t = this.memberTimers(group, m.memberId);
    if (t.rebalance) clearTimeout(t.rebalance);
    const epoch = m.memberEpoch;
    const timeout = Math.max(m.rebalanceTimeoutMs, 0);
    t.rebalance = setTimeout(() => {
      delete t.rebalance;
      const member = group.members.get(m.memberId);
      if (!member || member.memberEpoch !== epoch || this.ctx.consumerGroups.get(group.groupId) !== group || !this.ctx.isActive) return;
      this.fence(group, [member], `it failed to revoke its partitions of epoch ${epoch} within ${timeout} ms`);
    }, timeout);
    t.rebalance.unref?.();
  }

  /** Timers for a group loaded from the offsets log (Kafka's onLoaded). */
  adopt(group: ConsumerGroup): ConsumerGroup {
    for (const m of group.members.values()) {
      this.scheduleSessionTimeout(group, m.memberId);
      if (m.state === "UNREVOKED_PARTITIONS") this.scheduleRebalanceTimeout(group, m);
    }
    return group;
  }

  /** Stops the timers of a group that is deleted, converted or unloaded. */
  clearTimers(group: ConsumerGroup): void {
    for (const t of this.timers.get(group)?.values() ?? []) for (const timer of [t.session, t.rebalance, t.join, t.sync]) if (timer) clearTimeout(timer);
    this.timers.delete(group);
  }
}

function isSubset(owned: TopicPartitions[] | null, assigned: Assignment): boolean {
  if (owned === null) return false;
  for (const tp of owned) {
    const parts = assigned.get(tp.topicId);
    if (!parts) return false;
    for (const p of tp.partitions) if (!parts.has(p)) return false;
  }
  return true;
}
