// A consumer-group member on Kafka's classic group protocol, for `brook consume --group`: FindCoordinator,
// JoinGroup (with the MEMBER_ID_REQUIRED round trip of v4+), the leader's partition assignment, SyncGroup,
// Heartbeat on a timer, OffsetCommit/OffsetFetch and LeaveGroup. Eager rebalancing only: on a rebalance
// the member commits, gives up everything and joins again. It offers the "range" and "roundrobin"
// assignors under the names the Java client and librdkafka use, so it can share a group with their
// consumers (kafkajs names its assignors differently, so a group mixing it with kafkajs cannot agree on
// a protocol). No static membership, no cooperative rebalancing, no KIP-848.
import { Heartbeat } from "../../protocol/apis/12-heartbeat.ts";
import { JoinGroup } from "../../protocol/apis/11-join-group.ts";
import { LeaveGroup } from "../../protocol/apis/13-leave-group.ts";
import { OffsetCommit } from "../../protocol/apis/08-offset-commit.ts";
import { SyncGroup } from "../../protocol/apis/14-sync-group.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { WireClient } from "../client.ts";
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type TopicPartitions,
} from "../group/consumer-protocol.ts";
import { CliError } from "./args.ts";
import { fetchCommittedOffsets, tpKey, type Cluster } from "./cluster.ts";
import { describeError, errorName } from "./common.ts";

export interface Assignor {
  /** the protocol name members agree on in JoinGroup */
  name: string;
  /** member id → its partitions, for members subscribed to the given topics */
  assign(members: { memberId: string; topics: string[] }[], partitionCounts: Map<string, number>): Map<string, TopicPartitions[]>;
}

const byId = <T extends { memberId: string }>(a: T, b: T) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

function collect(out: Map<string, TopicPartitions[]>, memberId: string, topic: string, partition: number): void {
  const list = out.get(memberId)!;
  let tp = list.find((x) => x.topic === topic);
  if (!tp) list.push((tp = { topic, partitions: [] }));
  tp.partitions.push(partition);
}

/** Kafka's RangeAssignor: per topic, consecutive ranges to the members in id order, the first ones one larger. */
export const RANGE: Assignor = {
  name: "range",
  assign(members, partitionCounts) {
    const out = new Map(members.map((m) => [m.memberId, [] as TopicPartitions[]]));
    for (const topic of [...partitionCounts.keys()].sort()) {
      const subscribed = members.filter((m) => m.topics.includes(topic)).sort(byId);
      if (subscribed.length === 0) continue;
      const n = partitionCounts.get(topic)!;
      const each = Math.floor(n / subscribed.length);
      const extra = n % subscribed.length;
      subscribed.forEach((m, i) => {
        const start = i * each + Math.min(i, extra);
        const count = each + (i < extra ? 1 : 0);
        for (let p = start; p < start + count; p++) collect(out, m.memberId, topic, p);
      });
    }
    return out;
  },
};

/** Kafka's RoundRobinAssignor: all partitions in topic order dealt to the members in id order. */
export const ROUND_ROBIN: Assignor = {
  name: "roundrobin",
  assign(members, partitionCounts) {
    const out = new Map(members.map((m) => [m.memberId, [] as TopicPartitions[]]));
    const sorted = [...members].sort(byId);
    let next = 0;
    for (const topic of [...partitionCounts.keys()].sort()) {
      for (let p = 0; p < partitionCounts.get(topic)!; p++) {
        // the next member (circularly) subscribed to this topic
        for (let tried = 0; tried < sorted.length; tried++) {
          const m = sorted[next++ % sorted.length]!;
          if (m.topics.includes(topic)) {
            collect(out, m.memberId, topic, p);
            break;
          }
        }
      }
    }
    return out;
  },
};

export interface MemberOptions {
  groupId: string;
  topics: string[];
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  assignors?: Assignor[];
}

/** Errors that mean: find the coordinator again. */
const COORDINATOR_MOVED = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);
/** Errors that mean: this generation is over, join again. */
const REJOIN = new Set<number>([ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID]);

export class GroupMember {
  memberId = "";
  generationId = -1;
  protocol: string | null = null;
  assignment: TopicPartitions[] = [];
  private coordinator: WireClient | null = null;
  private rejoin = true;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private heartbeatInFlight = false;
  private joining = false;
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly assignors: Assignor[];

  constructor(
    private readonly cluster: Cluster,
    readonly opts: MemberOptions,
  ) {
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 30_000;
    this.rebalanceTimeoutMs = opts.rebalanceTimeoutMs ?? 60_000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 3_000;
    this.assignors = opts.assignors ?? [RANGE, ROUND_ROBIN];
  }

  get groupId(): string {
    return this.opts.groupId;
  }

  /** True when the group is rebalancing (or this member fell out of it): commit, then join() again. */
  get needsRejoin(): boolean {
    return this.rejoin;
  }

  private async coordinatorClient(): Promise<WireClient> {
    if (this.coordinator?.isOpen) return this.coordinator;
    this.coordinator?.close();
    const where = await this.cluster.coordinator(this.groupId);
    // JoinGroup may be held for up to the rebalance timeout.
    this.coordinator = await this.cluster.connectDedicated(where.address, this.rebalanceTimeoutMs + 10_000);
    return this.coordinator;
  }

  private dropCoordinator(): void {
    this.coordinator?.close();
    this.coordinator = null;
  }

  /** Joins (or rejoins) the group; resolves with this member's partitions. */
  async join(): Promise<TopicPartitions[]> {
    this.joining = true;
    try {
      return await this.joinOnce();
    } finally {
      this.joining = false;
    }
  }

  private async joinOnce(): Promise<TopicPartitions[]> {
    this.stopHeartbeat();
    const metadata = encodeSubscription(this.opts.topics);
    for (let attempt = 0; ; attempt++) {
      if (attempt >= 50) throw new CliError(`could not join group '${this.groupId}' after ${attempt} attempts`);
      const c = await this.coordinatorClient();
      const j = await c.request(JoinGroup, {
        groupId: this.groupId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: this.assignors.map((a) => ({ name: a.name, metadata })),
        reason: null,
      });
      if (j.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = j.memberId;
        continue;
      }
      if (j.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = "";
        continue;
      }
      if (j.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (COORDINATOR_MOVED.has(j.errorCode)) {
        this.dropCoordinator();
        await Bun.sleep(Math.min(100 * (attempt + 1), 1000)); // retry back-off
        continue;
      }
      if (j.errorCode === ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
        throw new CliError(
          `group '${this.groupId}' uses a partition assignor this consumer does not offer (it offers ${this.assignors.map((a) => a.name).join(", ")})`,
        );
      if (j.errorCode !== ErrorCode.NONE) throw new CliError(`cannot join group '${this.groupId}': ${errorName(j.errorCode)}`);

      this.memberId = j.memberId;
      this.generationId = j.generationId;
      this.protocol = j.protocolName;
      const assignments = j.leader === j.memberId ? await this.assign(j.protocolName ?? "", j.members) : [];
      const s = await c.request(SyncGroup, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: this.protocol,
        assignments,
      });
      if (s.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = "";
      if (REJOIN.has(s.errorCode)) continue;
      if (COORDINATOR_MOVED.has(s.errorCode)) {
        this.dropCoordinator();
        continue;
      }
      if (s.errorCode !== ErrorCode.NONE) throw new CliError(`cannot join group '${this.groupId}' (SyncGroup): ${errorName(s.errorCode)}`);
      this.assignment = decodeAssignment(s.assignment).partitions.filter((tp) => tp.partitions.length > 0);
      this.rejoin = false;
      this.startHeartbeat();
      return this.assignment;
    }
  }

  /** The leader's job: split the subscribed topics' partitions among the members. */
  private async assign(protocol: string, members: { memberId: string; metadata: Uint8Array }[]): Promise<{ memberId: string; assignment: Uint8Array }[]> {
    const assignor = this.assignors.find((a) => a.name === protocol);
    if (!assignor) throw new CliError(`group '${this.groupId}' chose assignor '${protocol}', which this consumer does not have`);
    const subscriptions = members.map((m) => {
      let topics: string[] = [];
      try {
        topics = decodeSubscription(m.metadata).topics;
      } catch {
        topics = []; // unreadable metadata: that member gets nothing
      }
      return { memberId: m.memberId, topics };
    });
    const wanted = [...new Set(subscriptions.flatMap((s) => s.topics))];
    const counts = new Map<string, number>();
    if (wanted.length > 0)
      for (const t of await this.cluster.metadata(wanted)) if (t.errorCode === ErrorCode.NONE) counts.set(t.name, t.partitions.length);
    const result = assignor.assign(subscriptions, counts);
    return subscriptions.map((s) => ({ memberId: s.memberId, assignment: encodeAssignment(result.get(s.memberId) ?? []) }));
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatIntervalMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeatInFlight || this.rejoin) return;
    this.heartbeatInFlight = true;
    try {
      const c = await this.coordinatorClient();
      const r = await c.request(Heartbeat, { groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null });
      if (r.errorCode === ErrorCode.NONE) return;
      if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = "";
      if (COORDINATOR_MOVED.has(r.errorCode)) this.dropCoordinator();
      this.rejoin = true;
    } catch {
      // the coordinator connection broke: find it again and rejoin
      this.dropCoordinator();
      this.rejoin = true;
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** Committed offsets of the given partitions ("topic\0partition" → offset). */
  async committed(partitions: TopicPartitions[]): Promise<Map<string, number>> {
    if (partitions.length === 0) return new Map();
    return fetchCommittedOffsets(
      await this.coordinatorClient(),
      this.groupId,
      partitions.map((tp) => ({ name: tp.topic, partitionIndexes: tp.partitions })),
    );
  }

  /**
   * Commits offsets (the next offset to read, per partition) for this generation. Returns false when
   * the group has moved on (the member must rejoin; the commit did not happen).
   */
  async commit(offsets: Map<string, number>): Promise<boolean> {
    if (offsets.size === 0) return true;
    const topics = new Map<string, { partitionIndex: number; committedOffset: number; committedMetadata: string }[]>();
    for (const [key, offset] of offsets) {
      const [topic, partition] = key.split("\0") as [string, string];
      let list = topics.get(topic);
      if (!list) topics.set(topic, (list = []));
      list.push({ partitionIndex: Number(partition), committedOffset: offset, committedMetadata: "" });
    }
    const c = await this.coordinatorClient();
    const r = await c.request(OffsetCommit, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of r.topics)
      for (const p of t.partitions) {
        if (p.errorCode === ErrorCode.NONE) continue;
        if (REJOIN.has(p.errorCode)) {
          if (p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = "";
          this.rejoin = true;
          return false;
        }
        if (COORDINATOR_MOVED.has(p.errorCode)) {
          this.dropCoordinator();
          this.rejoin = true;
          return false;
        }
        throw new CliError(`cannot commit ${tpKey(t.name, p.partitionIndex).replace("\0", "-")} for group '${this.groupId}': ${describeError(p.errorCode)}`);
      }
    return true;
  }

  /** Leaves the group so the others rebalance at once instead of after the session timeout. */
  async leave(): Promise<void> {
    this.stopHeartbeat();
    if (this.joining) {
      // A LeaveGroup would queue behind the pending JoinGroup on this connection; closing it is enough
      // (the coordinator drops the member after its session timeout).
      this.dropCoordinator();
      return;
    }
    if (!this.memberId || !this.coordinator?.isOpen) return;
    const c = this.coordinator;
    const v = c.versionFor(LeaveGroup);
    try {
      await c.request(LeaveGroup, v >= 3 ? { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: null }] } : { groupId: this.groupId, memberId: this.memberId });
    } catch {
      // leaving is a courtesy; the session timeout covers a failure
    }
    this.memberId = "";
    this.rejoin = true;
  }
}
