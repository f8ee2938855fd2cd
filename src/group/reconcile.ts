// The reconciliation engine of the consumer group protocol (Kafka's CurrentAssignmentBuilder): moves one
// member from its current assignment towards its target, never giving it a partition another member
// still owns, and never bumping its epoch while it still holds partitions it must revoke:
// - partitions to revoke: the member stays at its epoch in UNREVOKED_PARTITIONS with what it keeps; once
//   its heartbeat no longer reports them it moves on;
// - partitions to gain that are free: assigned at once, the member moves to the target epoch;
// - partitions to gain that another member still owns: the member moves to the target epoch without them
//   (UNRELEASED_PARTITIONS) and gets them on a later heartbeat, once they are released.
import type { Assignment, ConsumerMember, MemberState } from "./consumer-group.ts";

export interface ReconcileInput {
  member: ConsumerMember;
  targetEpoch: number;
  target: Assignment;
  /** the epoch of the member owning a partition, -1 when free */
  currentPartitionEpoch: (topicId: string, partition: number) => number;
  /** topic ids the member subscribes to now */
  subscribedTopicIds: ReadonlySet<string>;
  /** the subscription changed in this heartbeat: drop unsubscribed topics even without a new target */
  subscriptionChanged: boolean;
  /** what the member reported owning (null = not reported in this heartbeat) */
  owned: { topicId: string; partitions: number[] }[] | null;
}

function ownsAnyOf(owned: ReconcileInput["owned"], revoking: Assignment): boolean {
  if (owned === null) return true;
  for (const tp of owned) {
    const parts = revoking.get(tp.topicId);
    if (parts && tp.partitions.some((p) => parts.has(p))) return true;
  }
  return false;
}

// Like Kafka's updateMemberEpoch, the previous epoch becomes the one the member had, even when it stays.
function withState(m: ConsumerMember, state: MemberState, epoch: number, assigned: Assignment, pendingRevocation: Assignment): ConsumerMember {
  return { ...m, state, memberEpoch: epoch, previousMemberEpoch: m.memberEpoch, assigned, pendingRevocation };
}

/** The member's next state (the same object when nothing changes). */
export function reconcile(input: ReconcileInput): ConsumerMember {
  const m = input.member;
  switch (m.state) {
    case "STABLE":
      if (m.memberEpoch !== input.targetEpoch) return computeNext(input);
      if (input.subscriptionChanged) return dropUnsubscribed(input);
      return m;
    case "UNREVOKED_PARTITIONS":
      if (ownsAnyOf(input.owned, m.pendingRevocation)) return input.subscriptionChanged ? dropUnsubscribed(input) : m;
      return computeNext(input);
    case "UNRELEASED_PARTITIONS":
      return computeNext(input);
  }
}

/** Removes topics the member no longer subscribes to (a cheaper step than a full reconciliation). */
function dropUnsubscribed(input: ReconcileInput): ConsumerMember {
  const m = input.member;
  const assigned = new Map(m.assigned);
  const revoking = new Map(m.pendingRevocation);
  let changed = false;
  for (const [topicId, parts] of m.assigned) {
    if (input.subscribedTopicIds.has(topicId)) continue;
    assigned.delete(topicId);
    revoking.set(topicId, new Set([...(revoking.get(topicId) ?? []), ...parts]));
    changed = true;
  }
  if (!changed) return m;
  if (revoking.size > 0 && ownsAnyOf(input.owned, revoking)) return withState(m, "UNREVOKED_PARTITIONS", m.memberEpoch, assigned, revoking);
  return { ...m, previousMemberEpoch: m.memberEpoch, assigned };
}

function computeNext(input: ReconcileInput): ConsumerMember {
  const m = input.member;
  const assigned = new Map<string, Set<number>>();
  const revoking = new Map<string, Set<number>>();
  const toAssign = new Map<string, Set<number>>();
  let unreleased = false;
  const topics = new Set([...input.target.keys(), ...m.assigned.keys()]);
  for (const topicId of topics) {
    const target = input.subscribedTopicIds.has(topicId) ? input.target.get(topicId) ?? new Set<number>() : new Set<number>();
    const current = m.assigned.get(topicId) ?? new Set<number>();
    const keep = new Set([...current].filter((p) => target.has(p)));
    const revoke = new Set([...current].filter((p) => !keep.has(p)));
    const gain = new Set<number>();
    for (const p of target) {
      if (keep.has(p)) continue;
      // Owned by someone else: wait until it is released. Its own partition pending revocation is not
      // someone else's.
      if (input.currentPartitionEpoch(topicId, p) !== -1 && !(m.pendingRevocation.get(topicId)?.has(p) ?? false)) unreleased = true;
      else gain.add(p);
    }
    if (keep.size > 0) assigned.set(topicId, keep);
    if (revoke.size > 0) revoking.set(topicId, revoke);
    if (gain.size > 0) toAssign.set(topicId, gain);
  }
  if (revoking.size > 0 && ownsAnyOf(input.owned, revoking)) return withState(m, "UNREVOKED_PARTITIONS", m.memberEpoch, assigned, revoking);
  for (const [topicId, parts] of toAssign) assigned.set(topicId, new Set([...(assigned.get(topicId) ?? []), ...parts]));
  return withState(m, unreleased ? "UNRELEASED_PARTITIONS" : "STABLE", input.targetEpoch, assigned, new Map());
}
