// Server-side assignors of the consumer group protocol (group.consumer.assignors), by Kafka's names:
// - uniform: balance first (member partition counts differ by at most one among members that can take a
//   partition), then stickiness (a member keeps what it had as far as balance allows). Members may
//   subscribe to different topics; a partition only goes to a member subscribed to its topic.
// - range: per topic, each subscribed member gets a contiguous share (the first members one more when it
//   does not divide), keeping what it had up to its share; co-partitioned topics line up.
// Both are deterministic: members and topics are taken in sorted order.
import type { Assignment } from "./consumer-group.ts";

export interface AssignorMember {
  memberId: string;
  /** topic ids the member subscribes to (existing topics only) */
  topics: ReadonlySet<string>;
  /** its current target assignment */
  current: Assignment;
}

export interface AssignorInput {
  members: AssignorMember[];
  /** partition count of a topic id */
  partitions(topicId: string): number;
}

export interface Assignor {
  readonly name: string;
  assign(input: AssignorInput): Map<string, Assignment>;
}

const byId = (a: AssignorMember, b: AssignorMember) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);
const key = (topicId: string, p: number) => `${topicId}:${p}`;

function toAssignment(owned: Map<string, Set<number>>): Assignment {
  return owned;
}

export const uniformAssignor: Assignor = {
  name: "uniform",
  assign(input) {
    const members = [...input.members].sort(byId);
    const owned = new Map<string, Map<string, Set<number>>>(members.map((m) => [m.memberId, new Map()]));
    const count = new Map<string, number>(members.map((m) => [m.memberId, 0]));
    const owner = new Map<string, string>();
    const give = (memberId: string, topicId: string, p: number) => {
      const a = owned.get(memberId)!;
      let parts = a.get(topicId);
      if (!parts) a.set(topicId, (parts = new Set()));
      parts.add(p);
      count.set(memberId, count.get(memberId)! + 1);
      owner.set(key(topicId, p), memberId);
    };
    const take = (memberId: string, topicId: string, p: number) => {
      const a = owned.get(memberId)!;
      const parts = a.get(topicId)!;
      parts.delete(p);
      if (parts.size === 0) a.delete(topicId);
      count.set(memberId, count.get(memberId)! - 1);
      owner.delete(key(topicId, p));
    };

    // Every partition of a subscribed topic, in a stable order.
    const topics = new Set<string>();
    for (const m of members) for (const t of m.topics) topics.add(t);
    const all: [string, number][] = [];
    for (const t of [...topics].sort()) for (let p = 0; p < input.partitions(t); p++) all.push([t, p]);

    // Stickiness: keep what is still valid.
    for (const m of members)
      for (const [t, parts] of m.current) {
        if (!m.topics.has(t)) continue;
        const n = input.partitions(t);
        for (const p of parts) if (p < n && !owner.has(key(t, p))) give(m.memberId, t, p);
      }

    const candidates = new Map<string, AssignorMember[]>();
    for (const t of topics) candidates.set(t, members.filter((m) => m.topics.has(t)));
    const least = (list: AssignorMember[]) => list.reduce((best, m) => (count.get(m.memberId)! < count.get(best.memberId)! ? m : best));

    // New partitions go to the least loaded member that can take them.
    for (const [t, p] of all) if (!owner.has(key(t, p))) give(least(candidates.get(t)!).memberId, t, p);

    // Balance: move a partition from a member with at least two more than a member that could own it.
    for (;;) {
      let moved = false;
      const donors = [...members].sort((a, b) => count.get(b.memberId)! - count.get(a.memberId)! || byId(a, b));
      for (const donor of donors) {
        const dc = count.get(donor.memberId)!;
        let best: { to: string; t: string; p: number } | null = null;
        let bestCount = dc - 1;
        for (const [t, parts] of [...owned.get(donor.memberId)!].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
          for (const m of candidates.get(t)!) {
            const c = count.get(m.memberId)!;
            if (c < bestCount) {
              bestCount = c;
              best = { to: m.memberId, t, p: Math.max(...parts) };
            }
          }
        }
        if (best && dc - bestCount >= 2) {
          take(donor.memberId, best.t, best.p);
          give(best.to, best.t, best.p);
          moved = true;
          break;
        }
      }
      if (!moved) break;
    }
    return new Map([...owned].map(([id, a]) => [id, toAssignment(a)]));
  },
};

export const rangeAssignor: Assignor = {
  name: "range",
  assign(input) {
    const members = [...input.members].sort(byId);
    const out = new Map<string, Map<string, Set<number>>>(members.map((m) => [m.memberId, new Map()]));
    const topics = new Set<string>();
    for (const m of members) for (const t of m.topics) topics.add(t);
    for (const t of [...topics].sort()) {
      const subscribed = members.filter((m) => m.topics.has(t));
      const n = input.partitions(t);
      const quota = Math.floor(n / subscribed.length);
      let extra = n % subscribed.length;
      const taken = new Set<number>();
      const unfilled: { memberId: string; remaining: number }[] = [];
      const add = (memberId: string, p: number) => {
        const a = out.get(memberId)!;
        let parts = a.get(t);
        if (!parts) a.set(t, (parts = new Set()));
        parts.add(p);
        taken.add(p);
      };
      for (const m of subscribed) {
        const had = [...(m.current.get(t) ?? [])].filter((p) => p < n).sort((a, b) => a - b);
        for (const p of had.slice(0, quota)) add(m.memberId, p);
        const remaining = quota - had.length;
        if (remaining < 0 && extra > 0) {
          extra--;
          add(m.memberId, had[quota]!);
        } else unfilled.push({ memberId: m.memberId, remaining: Math.max(remaining, 0) });
      }
      const free: number[] = [];
      for (let p = 0; p < n; p++) if (!taken.has(p)) free.push(p);
      let next = 0;
      for (const u of unfilled) {
        let want = u.remaining;
        if (extra > 0) {
          want++;
          extra--;
        }
        for (let i = 0; i < want && next < free.length; i++) add(u.memberId, free[next++]!);
      }
    }
    return new Map([...out].map(([id, a]) => [id, toAssignment(a)]));
  },
};

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([uniformAssignor, rangeAssignor].map((a) => [a.name, a]));
