// The state of one KIP-848 consumer group, as Kafka's ConsumerGroup/ConsumerGroupMember keep it: the
// group epoch, the target assignment and its epoch, the members (each with its own epoch, subscription
// and current assignment) and, derived from them, which member currently owns each partition at which
// epoch and the group state. Members are immutable values: a change is a new member object, so "did it
// change" is a comparison. The transitions live in consumer-rebalance.ts.
import { CONSUMER_PROTOCOL_TYPE } from "./consumer-protocol.ts";
import type { Protocol } from "./group.ts";

/** topic id (32 hex digits) → partitions */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

export const EMPTY_ASSIGNMENT: Assignment = new Map();

/** Kafka's MemberState (the reconciliation state of one member). */
export type MemberState = "STABLE" | "UNREVOKED_PARTITIONS" | "UNRELEASED_PARTITIONS";

/** Kafka's ConsumerGroupState. */
export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable";

export const CONSUMER_GROUP_STATES: readonly ConsumerGroupState[] = ["Empty", "Assigning", "Reconciling", "Stable"];

/** Epochs with a meaning of their own in ConsumerGroupHeartbeat. */
export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** A member that speaks the classic protocol inside a consumer group (after an online upgrade). */
export interface ClassicMemberMetadata {
  sessionTimeoutMs: number;
  /** private copies of its JoinGroup protocols */
  supportedProtocols: Protocol[];
}

export interface ConsumerMember {
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  /** "" when the member does not subscribe by regex */
  readonly subscribedTopicRegex: string;
  readonly serverAssignor: string | null;
  readonly assigned: Assignment;
  readonly pendingRevocation: Assignment;
  readonly classic: ClassicMemberMetadata | null;
}

export function newMember(memberId: string): ConsumerMember {
  return {
    memberId,
    memberEpoch: 0,
    previousMemberEpoch: 0,
    state: "STABLE",
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    clientId: "",
    clientHost: "",
    subscribedTopicNames: [],
    subscribedTopicRegex: "",
    serverAssignor: null,
    assigned: EMPTY_ASSIGNMENT,
    pendingRevocation: EMPTY_ASSIGNMENT,
    classic: null,
  };
}

export function isReconciledTo(m: ConsumerMember, targetEpoch: number): boolean {
  return m.state === "STABLE" && m.memberEpoch === targetEpoch;
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [topic, parts] of a) {
    const other = b.get(topic);
    if (!other || other.size !== parts.size) return false;
    for (const p of parts) if (!other.has(p)) return false;
  }
  return true;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

export function sameSubscription(a: ConsumerMember, b: ConsumerMember): boolean {
  return sameStrings(a.subscribedTopicNames, b.subscribedTopicNames);
}

/** Everything Kafka persists of a member (its subscription record and its current assignment record). */
export function sameMember(a: ConsumerMember, b: ConsumerMember): boolean {
  return (
    a.memberId === b.memberId &&
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    a.state === b.state &&
    a.instanceId === b.instanceId &&
    a.rackId === b.rackId &&
    a.rebalanceTimeoutMs === b.rebalanceTimeoutMs &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    sameStrings(a.subscribedTopicNames, b.subscribedTopicNames) &&
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.serverAssignor === b.serverAssignor &&
    sameAssignment(a.assigned, b.assigned) &&
    sameAssignment(a.pendingRevocation, b.pendingRevocation) &&
    a.classic === b.classic
  );
}

export function assignmentSize(a: Assignment): number {
  let n = 0;
  for (const parts of a.values()) n += parts.size;
  return n;
}

/** Readable form for log lines: topicId-prefix:[partitions]. */
export function assignmentToString(a: Assignment, nameOf: (topicId: string) => string | undefined): string {
  const parts: string[] = [];
  for (const [id, ps] of a) parts.push(`${nameOf(id) ?? id}-[${[...ps].sort((x, y) => x - y).join(",")}]`);
  return parts.join(", ");
}

/** The topics a member subscribes to: its names plus what its regex resolves to. */
export interface ResolvedRegex {
  readonly topics: ReadonlySet<string>;
  /** the topic catalogue (fingerprint) it was resolved against */
  readonly catalogue: string;
}

export class ConsumerGroup {
  readonly kind = "consumer";
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** what the subscribed topics looked like (ids, partition counts) at the last group epoch bump */
  subscriptionSignature = "";
  state: ConsumerGroupState = "Empty";
  stateTimestamp = Date.now();
  readonly members = new Map<string, ConsumerMember>();
  /** instance id → member id */
  readonly staticMembers = new Map<string, string>();
  /** member id → its target assignment */
  readonly targetAssignment = new Map<string, Assignment>();
  readonly resolvedRegexes = new Map<string, ResolvedRegex>();
  /** topic id → partition → epoch of the member owning it (assigned or pending revocation) */
  private readonly partitionEpochs = new Map<string, Map<number, number>>();

  constructor(readonly groupId: string) {}

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** The epoch of the member currently owning the partition, or -1 when it is free. */
  currentPartitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(topicId)?.get(partition) ?? -1;
  }

  staticMember(instanceId: string | null): ConsumerMember | undefined {
    if (instanceId === null) return undefined;
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  target(memberId: string): Assignment {
    return this.targetAssignment.get(memberId) ?? EMPTY_ASSIGNMENT;
  }

  updateMember(m: ConsumerMember): void {
    const old = this.members.get(m.memberId);
    if (old) this.releasePartitions(old);
    this.members.set(m.memberId, m);
    this.claimPartitions(m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
    this.updateState();
  }

  removeMember(memberId: string): ConsumerMember | undefined {
    const old = this.members.get(memberId);
    if (!old) return undefined;
    this.members.delete(memberId);
    this.releasePartitions(old);
    if (old.instanceId !== null && this.staticMembers.get(old.instanceId) === memberId) this.staticMembers.delete(old.instanceId);
    this.updateState();
    return old;
  }

  setTargetAssignment(memberId: string, a: Assignment): void {
    this.targetAssignment.set(memberId, a);
  }

  removeTargetAssignment(memberId: string): void {
    this.targetAssignment.delete(memberId);
  }

  private claimPartitions(m: ConsumerMember): void {
    const claim = (a: Assignment) => {
      for (const [topicId, parts] of a) {
        let epochs = this.partitionEpochs.get(topicId);
        if (!epochs) this.partitionEpochs.set(topicId, (epochs = new Map()));
        for (const p of parts) {
          const prev = epochs.get(p);
          // Two owners of one partition would break the protocol's guarantee; fail loudly.
          if (prev !== undefined) throw new Error(`group ${this.groupId}: partition ${topicId}-${p} is already owned at epoch ${prev}`);
          epochs.set(p, m.memberEpoch);
        }
      }
    };
    claim(m.assigned);
    claim(m.pendingRevocation);
  }

  private releasePartitions(m: ConsumerMember): void {
    const release = (a: Assignment) => {
      for (const [topicId, parts] of a) {
        const epochs = this.partitionEpochs.get(topicId);
        if (!epochs) continue;
        for (const p of parts) epochs.delete(p);
        if (epochs.size === 0) this.partitionEpochs.delete(topicId);
      }
    };
    release(m.assigned);
    release(m.pendingRevocation);
  }

  /** Kafka's maybeUpdateGroupState. */
  updateState(now = Date.now()): void {
    let next: ConsumerGroupState = "Stable";
    if (this.members.size === 0) next = "Empty";
    else if (this.groupEpoch > this.assignmentEpoch) next = "Assigning";
    else for (const m of this.members.values()) if (!isReconciledTo(m, this.assignmentEpoch)) next = "Reconciling";
    if (next !== this.state) {
      this.state = next;
      this.stateTimestamp = now;
    }
  }

  setGroupEpoch(epoch: number): void {
    this.groupEpoch = epoch;
    this.updateState();
  }

  setAssignmentEpoch(epoch: number): void {
    this.assignmentEpoch = epoch;
    this.updateState();
  }

  /** How many members subscribe with this regex. */
  numRegexSubscribers(regex: string): number {
    let n = 0;
    for (const m of this.members.values()) if (m.subscribedTopicRegex === regex) n++;
    return n;
  }

  /** The topics a member subscribes to, by name (its names and its resolved regex). */
  memberTopics(m: ConsumerMember): Set<string> {
    const out = new Set(m.subscribedTopicNames);
    if (m.subscribedTopicRegex !== "") for (const t of this.resolvedRegexes.get(m.subscribedTopicRegex)?.topics ?? []) out.add(t);
    return out;
  }

  /** The topics the group subscribes to, with `replacing` swapped for `by` (either may be undefined). */
  subscribedTopics(replacing?: ConsumerMember, by?: ConsumerMember): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values()) {
      if (replacing && m.memberId === replacing.memberId) continue;
      for (const t of this.memberTopics(m)) out.add(t);
    }
    if (by) for (const t of this.memberTopics(by)) out.add(t);
    return out;
  }

  isSubscribedToTopic(topic: string): boolean {
    for (const m of this.members.values()) if (this.memberTopics(m).has(topic)) return true;
    return false;
  }

  /** The most common server assignor among the members (Kafka's computePreferredServerAssignor), if any. */
  preferredServerAssignor(replacing?: ConsumerMember, by?: ConsumerMember): string | null {
    const counts = new Map<string, number>();
    const count = (m: ConsumerMember) => m.serverAssignor !== null && counts.set(m.serverAssignor, (counts.get(m.serverAssignor) ?? 0) + 1);
    for (const m of this.members.values()) if (!(replacing && m.memberId === replacing.memberId)) count(m);
    if (by) count(by);
    let best: string | null = null;
    let bestCount = 0;
    for (const [name, n] of counts) if (n > bestCount) [best, bestCount] = [name, n];
    return best;
  }

  /** Members using the classic protocol (after an online upgrade). */
  get numClassicMembers(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.classic !== null) n++;
    return n;
  }

  /**
   * Kafka's supportsClassicProtocols: a JoinGroup may enter when its protocol type is "consumer" and one
   * of its protocols is supported by every classic member (the joining one's previous protocols count).
   */
  supportsClassicProtocols(protocolType: string, names: readonly string[]): boolean {
    if (protocolType !== CONSUMER_PROTOCOL_TYPE) return false;
    if (this.isEmpty) return names.length > 0;
    const classic = [...this.members.values()].filter((m) => m.classic !== null);
    return names.some((n) => classic.every((m) => m.classic!.supportedProtocols.some((p) => p.name === n)));
  }

  /** Every member but these uses the classic protocol (Kafka's allMembersUseClassicProtocolExcept). */
  allClassicExcept(leaving: ReadonlySet<string>): boolean {
    for (const m of this.members.values()) if (!leaving.has(m.memberId) && m.classic === null) return false;
    return true;
  }

  /** The member still waits for a partition of its target that another member owns. */
  waitingOnUnreleasedPartition(m: ConsumerMember): boolean {
    if (m.state !== "UNRELEASED_PARTITIONS") return false;
    for (const [topicId, parts] of this.target(m.memberId)) {
      const assigned = m.assigned.get(topicId);
      for (const p of parts) if (!(assigned?.has(p) ?? false) && this.currentPartitionEpoch(topicId, p) !== -1) return true;
    }
    return false;
  }
}
