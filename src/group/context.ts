// What the parts of the group coordinator share: the settings they run with and the view of the
// coordinator (its groups, its durable store) that the rebalance state machines and the offsets manager
// use. coordinator.ts implements it; the parts depend on this file only, so nothing imports back up.
import { ConfigError, type BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TopicStore } from "../topics.ts";
import type { ConsumerGroup, ConsumerMember } from "./consumer-group.ts";
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

/** group.consumer.migration.policy: which online conversions of a group with members are allowed. */
export type MigrationPolicy = "disabled" | "upgrade" | "downgrade" | "bidirectional";

export const upgradeEnabled = (p: MigrationPolicy) => p === "upgrade" || p === "bidirectional";
export const downgradeEnabled = (p: MigrationPolicy) => p === "downgrade" || p === "bidirectional";

/** Kafka's builtin server-side assignors, by short name and by class name. */
const ASSIGNOR_NAMES: Record<string, string> = {
  uniform: "uniform",
  range: "range",
  "org.apache.kafka.coordinator.group.assignor.UniformAssignor": "uniform",
  "org.apache.kafka.coordinator.group.assignor.RangeAssignor": "range",
};

/** The consumer group protocol (KIP-848). */
export interface ConsumerGroupSettings {
  /** "consumer" is in group.coordinator.rebalance.protocols */
  enabled: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxSize: number;
  /** server-side assignors by name; the first is the default */
  assignors: string[];
  migrationPolicy: MigrationPolicy;
}

/** Reads and cross-checks the consumer protocol's settings the way Kafka's GroupCoordinatorConfig does. */
export function consumerGroupSettings(config: BrokerConfig): ConsumerGroupSettings {
  const n = (name: string) => config.get(name) as number;
  const protocols = (config.get("group.coordinator.rebalance.protocols") as string[]).map((p) => p.toLowerCase());
  for (const p of protocols)
    if (!["classic", "consumer", "share", "streams"].includes(p))
      throw new ConfigError(`invalid value "${p}" in group.coordinator.rebalance.protocols: expected classic, consumer, share or streams`);
  if (!protocols.includes("classic")) throw new ConfigError("group.coordinator.rebalance.protocols: disabling the 'classic' protocol is not supported");
  const assignors = (config.get("group.consumer.assignors") as string[]).map((a) => {
    const name = ASSIGNOR_NAMES[a];
    if (!name) throw new ConfigError(`group.consumer.assignors: unknown assignor ${a} (the builtin ones are uniform and range)`);
    return name;
  });
  if (assignors.length === 0) throw new ConfigError("group.consumer.assignors must name at least one assignor");
  const require = (ok: boolean, what: string) => {
    if (!ok) throw new ConfigError(what);
  };
  const hb = n("group.consumer.heartbeat.interval.ms");
  const session = n("group.consumer.session.timeout.ms");
  const [minHb, maxHb] = [n("group.consumer.min.heartbeat.interval.ms"), n("group.consumer.max.heartbeat.interval.ms")];
  const [minSession, maxSession] = [n("group.consumer.min.session.timeout.ms"), n("group.consumer.max.session.timeout.ms")];
  require(maxHb >= minHb, "group.consumer.max.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms");
  require(hb >= minHb, "group.consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms");
  require(hb <= maxHb, "group.consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms");
  require(maxSession >= minSession, "group.consumer.max.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms");
  require(session >= minSession, "group.consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms");
  require(session <= maxSession, "group.consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms");
  require(hb < session, "group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms");
  return {
    enabled: protocols.includes("consumer"),
    sessionTimeoutMs: session,
    heartbeatIntervalMs: hb,
    maxSize: n("group.consumer.max.size"),
    assignors,
    // Kafka parses the policy case-insensitively.
    migrationPolicy: (config.get("group.consumer.migration.policy") as string).toLowerCase() as MigrationPolicy,
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

/** What the consumer group protocol needs beyond that. */
export interface ConsumerContext extends CoordinatorContext {
  readonly consumerSettings: ConsumerGroupSettings;
  readonly consumerGroups: Map<string, ConsumerGroup>;
  readonly topics: Pick<TopicStore, "get" | "partition" | "all">;
  /** Writes the group record and the records of these members (tombstones for those no longer in it). */
  persistConsumerGroup(group: ConsumerGroup, memberIds: Iterable<string>): void;
  /**
   * Removes a classic group, keeping its committed offsets (it converts to a consumer group): requests
   * its members have parked are answered REBALANCE_IN_PROGRESS, its timers stop.
   */
  replaceClassicGroup(groupId: string): void;
  /**
   * Replaces a consumer group by the classic group its classic members form (online downgrade), without
   * `leaving` and with `joining` (a classic static member taking the place of the member of its instance
   * id); the classic group rebalances when `rebalanceReason` is given. False when it cannot be built.
   */
  convertToClassicGroup(group: ConsumerGroup, leaving: ReadonlySet<string>, joining: ConsumerMember | null, rebalanceReason: string | null): boolean;
}
