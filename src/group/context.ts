// What the parts of the group coordinator share: the settings they run with and the view of the
// coordinator (its groups, its durable store) that the rebalance state machines and the offsets manager
// use. coordinator.ts implements it; the parts depend on this file only, so nothing imports back up.
import type { BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TopicStore } from "../topics.ts";
import type { Group } from "./group.ts";

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

/** The coordinator as its parts see it. */
export interface CoordinatorContext {
  readonly settings: GroupSettings;
  readonly log: Logger;
  readonly topics: Pick<TopicStore, "get" | "partition">;
  /** every group by id (classic groups here; the map is the coordinator's) */
  readonly groups: Map<string, Group>;
  /** false once the coordinator is closed */
  readonly isActive: boolean;
  /** Kafka's validateGroupStatus: an id check (non-empty for the membership APIs), then availability. */
  validate(groupId: string | null, requireNonEmpty: boolean): number;
  /** Writes the group's metadata record (generation, protocol type, when it became empty). */
  persistGroup(group: Group): void;
}
