// Online migration of a group with members between the classic protocol and the consumer protocol
// (KIP-848), as Kafka 4.0 converts one (ConsumerGroup.fromClassicGroup, ClassicGroup.fromConsumerGroup).
// These functions only build the other kind of group; the coordinator swaps it in and moves the timers.
// - Upgrade: every classic member becomes a member of the consumer group at the classic generation as
//   its member epoch (also the group and assignment epoch), Stable, owning its last classic assignment,
//   which is also its target. The new-protocol member whose heartbeat triggered the upgrade then bumps
//   the epoch, and the classic members, now behind it, are told to rejoin.
// - Downgrade: the remaining members (all classic) form a Stable classic group at the group epoch, each
//   with its target assignment encoded in the subscription version it joined with; the protocol is the
//   members' vote.
import { ConsumerGroup, type Assignment, type ConsumerMember } from "./consumer-group.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, encodeAssignment } from "./consumer-protocol.ts";
import { Group, Member } from "./group.ts";

/** Why a group cannot be converted (the message is the one Kafka answers or logs). */
export class MigrationError extends Error {}

/** The newest ConsumerProtocolAssignment version; newer subscriptions get this one. */
const MAX_ASSIGNMENT_VERSION = 3;

/**
 * The consumer group a classic group becomes (online upgrade). Throws MigrationError when a member's
 * subscription or assignment cannot be read, when a custom assignor's user data would be lost, or when
 * two members claim one partition.
 */
export function consumerGroupFromClassic(classic: Group, topicId: (name: string) => string | undefined): ConsumerGroup {
  const groupId = classic.groupId;
  const malformed = () => new MigrationError(`Cannot upgrade classic group ${groupId} to consumer group because the embedded consumer protocol is malformed.`);
  // A group still in its first rebalance has no protocol yet; every protocol of a member carries the same subscription.
  const protocol = classic.protocolName;
  const group = new ConsumerGroup(groupId);
  group.groupEpoch = classic.generationId;
  group.assignmentEpoch = classic.generationId;
  for (const m of classic.members.values()) {
    let assigned: Assignment = new Map();
    let subscription;
    try {
      // An empty assignment: the member joined and never synced.
      if (m.assignment.length > 0) {
        const a = decodeAssignment(m.assignment);
        if (a.userData !== null && a.userData.length > 0)
          throw new MigrationError(
            `Cannot upgrade classic group ${groupId} to consumer group because an unsupported custom assignor is in use. ` +
              "Please refer to the documentation or switch to a default assignor before re-attempting the upgrade.",
          );
        assigned = byTopicId(a.partitions, topicId);
      }
      subscription = decodeSubscription(protocol !== null ? m.metadataFor(protocol) : m.protocols[0]!.metadata);
    } catch (e) {
      if (e instanceof MigrationError) throw e;
      throw malformed();
    }
    const member: ConsumerMember = {
      memberId: m.memberId,
      memberEpoch: classic.generationId,
      previousMemberEpoch: classic.generationId,
      state: "STABLE",
      instanceId: m.groupInstanceId,
      rackId: subscription.rackId,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: subscription.topics,
      subscribedTopicRegex: "",
      serverAssignor: null,
      assigned,
      pendingRevocation: new Map(),
      classic: { sessionTimeoutMs: m.sessionTimeoutMs, supportedProtocols: m.protocols },
    };
    group.setTargetAssignment(m.memberId, assigned);
    try {
      group.updateMember(member);
    } catch {
      throw new MigrationError(`Cannot upgrade classic group ${groupId} to consumer group because its members' assignments overlap.`);
    }
  }
  group.updateState();
  return group;
}

/**
 * The classic group a consumer group becomes (online downgrade) without the `leaving` members and with
 * `joining`, a classic static member replacing the member of its instance id (its target assignment
 * goes to it). Throws MigrationError when the members have no protocol in common or a subscription
 * cannot be read.
 */
export function classicGroupFromConsumer(
  group: ConsumerGroup,
  leaving: ReadonlySet<string>,
  joining: ConsumerMember | null,
  topicName: (topicId: string) => string | undefined,
): Group {
  const classic = new Group(group.groupId);
  classic.generationId = group.groupEpoch;
  classic.protocolType = CONSUMER_PROTOCOL_TYPE;
  const targetOf = new Map<string, Assignment>();
  const add = (m: ConsumerMember, target: Assignment) => {
    if (m.classic === null) throw new MigrationError(`member ${m.memberId} of group ${group.groupId} does not use the classic protocol`);
    const member = new Member(m.memberId, m.instanceId, m.clientId, m.clientHost, m.rebalanceTimeoutMs, m.classic.sessionTimeoutMs, CONSUMER_PROTOCOL_TYPE, m.classic.supportedProtocols);
    member.isNew = false;
    classic.add(member);
    targetOf.set(m.memberId, target);
  };
  const replaced = joining ? group.staticMember(joining.instanceId) : undefined;
  for (const m of group.members.values()) if (!leaving.has(m.memberId) && m !== replaced) add(m, group.target(m.memberId));
  if (joining) add(joining, replaced ? group.target(replaced.memberId) : group.target(joining.memberId));
  if (classic.members.size === 0) throw new MigrationError(`group ${group.groupId} would have no members`);
  try {
    classic.protocolName = classic.selectProtocol();
  } catch (e) {
    throw new MigrationError((e as Error).message);
  }
  for (const m of classic.members.values()) {
    const partitions = [...targetOf.get(m.memberId)!]
      .map(([id, ps]) => ({ topic: topicName(id), partitions: [...ps].sort((a, b) => a - b) }))
      .filter((tp): tp is { topic: string; partitions: number[] } => tp.topic !== undefined)
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    m.assignment = encodeAssignment(partitions, assignmentVersion(m.metadataFor(classic.protocolName)));
  }
  classic.transition("Stable");
  return classic;
}

/** A classic member's assignment in the consumer protocol, encoded in the version of its subscription. */
export function classicAssignment(m: ConsumerMember, topicName: (topicId: string) => string | undefined): Uint8Array {
  const partitions: { topic: string; partitions: number[] }[] = [];
  for (const [id, ps] of m.assigned) {
    const topic = topicName(id);
    if (topic !== undefined) partitions.push({ topic, partitions: [...ps].sort((a, b) => a - b) });
  }
  partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  return encodeAssignment(partitions, assignmentVersion(m.classic?.supportedProtocols[0]?.metadata));
}

/** The version of embedded-protocol bytes (their leading int16), capped at the newest assignment version. */
function assignmentVersion(metadata: Uint8Array | undefined): number {
  if (!metadata || metadata.length < 2) return 0;
  const v = new DataView(metadata.buffer, metadata.byteOffset, 2).getInt16(0);
  return Math.min(Math.max(v, 0), MAX_ASSIGNMENT_VERSION);
}

/** Topic-name partitions as an assignment by topic id; topics that no longer exist are left out. */
export function byTopicId(partitions: { topic: string; partitions: number[] }[], topicId: (name: string) => string | undefined): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const tp of partitions) {
    const id = topicId(tp.topic);
    if (id === undefined) continue;
    let set = out.get(id);
    if (!set) out.set(id, (set = new Set()));
    for (const p of tp.partitions) set.add(p);
  }
  return out;
}
