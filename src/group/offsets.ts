// Committed offsets of every group, by group id (Kafka's OffsetMetadataManager): storing validated
// commits durably (offset-store.ts), OffsetFetch, OffsetDelete, transactional commits, the offsets of
// deleted topics, and expiry per offsets.retention.minutes. Who may commit is the group's business
// (the member checks live with the rebalance protocols); this file only keeps the offsets.
import { ErrorCode } from "../../protocol/errors.ts";
import type { Logger } from "../log.ts";
import type { TopicStore } from "../topics.ts";
import type { GroupSettings } from "./context.ts";
import type { OffsetStore, StoredOffset } from "./offset-store.ts";

/** Kafka's OFFSET_METADATA_TOO_LARGE (not in protocol/errors.ts). */
export const OFFSET_METADATA_TOO_LARGE = 12;

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 unless the commit carried a retention time (OffsetCommit v2–v4) */
  expireTimestamp: number;
}

export interface CommitPartition {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  /** OffsetCommit v1 only; -1 = now */
  commitTimestamp: number;
  committedMetadata: string | null;
}

export interface CommitTopic {
  name: string;
  partitions: CommitPartition[];
}

export type CommitResult = { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];

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

/**
 * How a group's offsets expire: counted from `base(offset)` unless the commit carried its own expiry;
 * offsets of topics in `keep` never expire (a Stable consumer group still subscribes to them).
 */
export interface ExpiryRule {
  base: (o: CommittedOffset) => number;
  keep: Set<string> | null;
}

/** topic → partition → committed offset */
type GroupOffsets = Map<string, Map<number, CommittedOffset>>;

export class OffsetManager {
  private readonly byGroup = new Map<string, GroupOffsets>();

  constructor(
    private readonly store: OffsetStore,
    private readonly settings: GroupSettings,
    private readonly log: Logger,
    private readonly topics: Pick<TopicStore, "get" | "partition">,
  ) {}

  load(offsets: StoredOffset[]): void {
    for (const o of offsets) this.set(o.group, o.topic, o.partition, o);
  }

  /** Group ids that have committed offsets. */
  groupIds(): IterableIterator<string> {
    return this.byGroup.keys();
  }

  hasOffsets(groupId: string): boolean {
    return this.byGroup.has(groupId);
  }

  get count(): number {
    let n = 0;
    for (const g of this.byGroup.values()) for (const parts of g.values()) n += parts.size;
    return n;
  }

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(topic)?.get(partition);
  }

  private set(groupId: string, topic: string, partition: number, o: CommittedOffset): void {
    let g = this.byGroup.get(groupId);
    if (!g) this.byGroup.set(groupId, (g = new Map()));
    let parts = g.get(topic);
    if (!parts) g.set(topic, (parts = new Map()));
    parts.set(partition, {
      offset: o.offset,
      leaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      commitTimestamp: o.commitTimestamp,
      expireTimestamp: o.expireTimestamp,
    });
  }

  private remove(groupId: string, topic: string, partition: number): boolean {
    const g = this.byGroup.get(groupId);
    const parts = g?.get(topic);
    if (!g || !parts || !parts.delete(partition)) return false;
    if (parts.size === 0) g.delete(topic);
    if (g.size === 0) this.byGroup.delete(groupId);
    return true;
  }

  /**
   * Stores a validated commit: per partition, UNKNOWN_TOPIC_OR_PARTITION for a partition that does not
   * exist, OFFSET_METADATA_TOO_LARGE over offset.metadata.max.bytes, otherwise stored. `retentionTimeMs`
   * (OffsetCommit v2–v4; -1 = the broker's rule) sets an explicit expiry. Returns the results and whether
   * anything was stored.
   */
  commit(groupId: string, topics: CommitTopic[], retentionTimeMs: number): { results: CommitResult; stored: number } {
    const now = Date.now();
    const stored: StoredOffset[] = [];
    const results = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let errorCode: number = ErrorCode.NONE;
        const metadata = p.committedMetadata ?? "";
        if (!this.topics.partition(t.name, p.partitionIndex)) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (Buffer.byteLength(metadata) > this.settings.metadataMaxBytes) errorCode = OFFSET_METADATA_TOO_LARGE;
        if (errorCode === ErrorCode.NONE) {
          const commitTimestamp = p.commitTimestamp >= 0 ? p.commitTimestamp : now;
          stored.push({
            group: groupId,
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata,
            commitTimestamp,
            expireTimestamp: retentionTimeMs >= 0 ? commitTimestamp + retentionTimeMs : -1,
          });
        }
        return { partitionIndex: p.partitionIndex, errorCode };
      }),
    }));
    if (stored.length > 0) {
      this.store.appendOffsets(stored);
      for (const o of stored) this.set(groupId, o.topic, o.partition, o);
    }
    return { results, stored: stored.length };
  }

  /** The commit of a transaction: offsets staged by TxnOffsetCommit become the group's committed offsets. */
  commitTxn(
    groupId: string,
    offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string; commitTimestamp: number }[],
  ): void {
    const stored: StoredOffset[] = offsets.map((o) => ({ group: groupId, ...o, expireTimestamp: -1 }));
    this.store.appendOffsets(stored);
    for (const o of stored) this.set(groupId, o.topic, o.partition, o);
  }

  /** Committed offsets; a null topic list means all of the group's. Unknown partitions: offset -1, metadata "". */
  fetch(groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null): FetchedTopic[] {
    const g = this.byGroup.get(groupId);
    const entry = (topic: string, partition: number): FetchedPartition => {
      const o = g?.get(topic)?.get(partition);
      return o
        ? { partitionIndex: partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: 0 }
        : { partitionIndex: partition, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: 0 };
    };
    if (topics === null) {
      const out: FetchedTopic[] = [];
      if (g) {
        for (const name of [...g.keys()].sort()) {
          const parts = [...g.get(name)!.keys()].sort((a, b) => a - b);
          out.push({ name, partitions: parts.map((p) => entry(name, p)) });
        }
      }
      return out;
    }
    return topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(t.name, p)) }));
  }

  /**
   * OffsetDelete of a group that may lose these offsets: partitions of topics the group still subscribes
   * to (`subscribed`; null = cannot tell, so all of them) answer GROUP_SUBSCRIBED_TO_TOPIC.
   */
  delete(
    groupId: string,
    topics: { name: string; partitions: { partitionIndex: number }[] }[],
    subscribed: Set<string> | null,
  ): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
    const gone: { group: string; topic: string; partition: number }[] = [];
    const out = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map(({ partitionIndex }) => {
        if (!this.topics.partition(t.name, partitionIndex)) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (subscribed === null || subscribed.has(t.name)) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        if (this.remove(groupId, t.name, partitionIndex)) gone.push({ group: groupId, topic: t.name, partition: partitionIndex });
        return { partitionIndex, errorCode: ErrorCode.NONE };
      }),
    }));
    this.store.appendOffsetTombstones(gone);
    return out;
  }

  /** Forgets every group's committed offsets of a deleted topic (Kafka does this when a topic is deleted). */
  deleteTopic(topic: string): number {
    const gone: { group: string; topic: string; partition: number }[] = [];
    for (const [groupId, g] of [...this.byGroup]) {
      const parts = g.get(topic);
      if (!parts) continue;
      for (const partition of parts.keys()) gone.push({ group: groupId, topic, partition });
      g.delete(topic);
      if (g.size === 0) this.byGroup.delete(groupId);
    }
    this.store.appendOffsetTombstones(gone);
    return gone.length;
  }

  /** Drops a deleted group's offsets from memory (its group tombstone removes them from the store). */
  dropGroup(groupId: string): void {
    this.byGroup.delete(groupId);
  }

  /**
   * Expires offsets: those of topics that no longer exist, and (where the group has a rule) those past
   * their explicit expiry or offsets.retention.minutes after the rule's base time. Tombstones are
   * written; the expired entries are returned.
   */
  expire(now: number, ruleFor: (groupId: string) => ExpiryRule | null): { group: string; topic: string; partition: number }[] {
    const retention = this.settings.offsetsRetentionMs;
    const gone: { group: string; topic: string; partition: number }[] = [];
    for (const [groupId, g] of [...this.byGroup]) {
      const rule = ruleFor(groupId);
      for (const [topic, parts] of [...g]) {
        const topicGone = !this.topics.get(topic);
        for (const [partition, o] of [...parts]) {
          let expired = topicGone;
          if (!expired && rule !== null && !(rule.keep?.has(topic) ?? false))
            expired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - rule.base(o) >= retention;
          if (expired) {
            this.remove(groupId, topic, partition);
            gone.push({ group: groupId, topic, partition });
          }
        }
      }
    }
    if (gone.length > 0) this.log.info(`expired ${gone.length} committed offsets`);
    this.store.appendOffsetTombstones(gone);
    return gone;
  }

  /** Every committed offset, for a snapshot of the store. */
  live(): StoredOffset[] {
    const out: StoredOffset[] = [];
    for (const [group, g] of this.byGroup) for (const [topic, parts] of g) for (const [partition, o] of parts) out.push({ group, topic, partition, ...o });
    return out;
  }
}
