// Topics and their partitions: creation (validated like Kafka), deletion, lookup, and the durable topic
// catalogue. The catalogue is a small JSON file in the first log dir, replaced atomically
// (write + fsync + rename) so a crash leaves either the old or the new version.
// Each topic has a random id (Kafka's UUID rules) kept for its life and a fresh one when a topic of the
// same name is created again, and a partition leader epoch. With one broker leadership never moves, so
// the epoch changes only when the topic is re-created: one more than any epoch that name had before (the
// catalogue remembers the last epoch of deleted topics), so clients holding the old topic's epoch are
// fenced (KIP-320) instead of reading the new log at the old positions.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import { PartitionLog, type LogConfig } from "./log/partition-log.ts";
import type { Logger } from "./log.ts";
import type { BrokerConfig } from "./config.ts";

export interface Partition {
  topic: string;
  index: number;
  log: PartitionLog;
  /** the id of the topic this partition belongs to (a re-created topic has new Partition objects) */
  topicId: string;
}

export interface Topic {
  name: string;
  /** 32 hex digits */
  id: string;
  partitions: Partition[];
  configs: Record<string, string>;
  internal: boolean;
  /**
   * The replication factor the topic was created with. Brook keeps one copy whatever it says; above 1
   * it exists because brook.replication.factor.clamp accepted it, and Metadata reports that many replicas
   * (see inSyncReplicaCount).
   */
  replicationFactor: number;
  /** the partitions' leader epoch */
  leaderEpoch: number;
}

interface CatalogueEntry {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
  internal?: boolean;
  dirs: string[];
  replicationFactor?: number;
  leaderEpoch?: number;
}

/** The catalogue file; older versions wrote only the topic list. */
interface Catalogue {
  topics: CatalogueEntry[];
  /** the last leader epoch of each deleted topic name, so a re-created topic starts above it */
  retiredLeaderEpochs?: Record<string, number>;
}

const ZERO_TOPIC_ID = "0".repeat(32);
/** Kafka's reserved id of the metadata topic. */
const METADATA_TOPIC_ID = "0".repeat(31) + "1";

/** A random topic id as Kafka makes them: a version-4 UUID that is neither reserved nor "-"-prefixed in base64. */
export function newTopicId(): string {
  for (;;) {
    const b = randomBytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const id = b.toString("hex");
    if (id !== ZERO_TOPIC_ID && id !== METADATA_TOPIC_ID && !b.toString("base64url").startsWith("-")) return id;
  }
}

const CATALOGUE = "brook-topics.json";
const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

export class TopicError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function validateTopicName(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === "." || name === "..") return "Topic name cannot be \".\" or \"..\"";
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (!LEGAL_NAME.test(name))
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}

export class TopicStore {
  private readonly topics = new Map<string, Topic>();
  private readonly byTopicId = new Map<string, Topic>();
  private readonly dirOf = new Map<string, string[]>();
  private readonly retiredEpochs = new Map<string, number>();
  private nextDir = 0;

  constructor(
    private readonly logDirs: string[],
    private readonly logConfig: (topicConfigs: Record<string, string>) => LogConfig,
    private readonly log: Logger,
  ) {}

  /** Opens every topic in the catalogue, recovering each partition log. */
  load(): void {
    for (const dir of this.logDirs) mkdirSync(dir, { recursive: true });
    const path = join(this.logDirs[0]!, CATALOGUE);
    if (!existsSync(path)) return;
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Catalogue | CatalogueEntry[];
    const catalogue: Catalogue = Array.isArray(parsed) ? { topics: parsed } : parsed;
    for (const [name, epoch] of Object.entries(catalogue.retiredLeaderEpochs ?? {})) this.retiredEpochs.set(name, epoch);
    for (const e of catalogue.topics) {
      const topic: Topic = { name: e.name, id: e.id, partitions: [], configs: e.configs, internal: !!e.internal, leaderEpoch: e.leaderEpoch ?? 0, replicationFactor: e.replicationFactor ?? 1 };
      for (let i = 0; i < e.partitions; i++) {
        const dir = e.dirs[i] ?? this.logDirs[0]!;
        topic.partitions.push(this.openPartition(topic, i, dir));
      }
      this.topics.set(e.name, topic);
      this.byTopicId.set(e.id, topic);
      this.dirOf.set(e.name, e.dirs);
    }
    this.log.info(`loaded ${this.topics.size} topics from ${this.logDirs.join(",")}`);
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[index];
  }

  all(): IterableIterator<Topic> {
    return this.topics.values();
  }

  byId(id: string): Topic | undefined {
    return this.byTopicId.get(id);
  }

  /** Opens (creating if needed) a partition's log, led by this broker in the topic's epoch. */
  private openPartition(topic: Topic, index: number, dir: string): Partition {
    const log = PartitionLog.open(join(dir, `${topic.name}-${index}`), this.logConfig(topic.configs));
    log.becomeLeader(topic.leaderEpoch);
    return { topic: topic.name, index, log, topicId: topic.id };
  }

  /**
   * Checks a create request the way Kafka does; throws TopicError with Kafka's code and message. With
   * `clampReplicationFactor` a factor above the one broker there is passes (brook.replication.factor.clamp).
   */
  validateCreate(name: string, partitions: number, replicationFactor: number, clampReplicationFactor = false): void {
    const bad = validateTopicName(name);
    if (bad) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, bad);
    if (this.topics.has(name)) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    const collides = [...this.topics.keys()].find((t) => t.replace(/\./g, "_") === name.replace(/\./g, "_"));
    if (collides)
      throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${collides}`);
    if (!Number.isInteger(partitions) || partitions < 1)
      throw new TopicError(ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
    if (replicationFactor !== 1 && replicationFactor < 1)
      throw new TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, "Replication factor must be larger than 0.");
    if (replicationFactor > 1 && !clampReplicationFactor)
      throw new TopicError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only 1 broker(s) are registered.`,
      );
  }

  create(name: string, partitions: number, configs: Record<string, string> = {}, internal = false, replicationFactor = 1): Topic {
    const retired = this.retiredEpochs.get(name);
    const topic: Topic = { name, id: newTopicId(), partitions: [], configs, internal, leaderEpoch: retired === undefined ? 0 : retired + 1, replicationFactor };
    const dirs: string[] = [];
    for (let i = 0; i < partitions; i++) {
      const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
      dirs.push(dir);
      topic.partitions.push(this.openPartition(topic, i, dir));
    }
    this.topics.set(name, topic);
    this.byTopicId.set(topic.id, topic);
    this.retiredEpochs.delete(name);
    this.dirOf.set(name, dirs);
    this.persist();
    this.log.info(`created topic ${name} with ${partitions} partition(s)`);
    if (replicationFactor > 1)
      this.log.warn(
        `topic ${name}: replication factor ${replicationFactor} accepted, but this single broker keeps one copy of its data ` +
          "(brook.replication.factor.clamp=true)",
      );
    return topic;
  }

  /** Replaces a topic's explicit configs (AlterConfigs), applies them to its logs and persists them. */
  setConfigs(name: string, configs: Record<string, string>): void {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    topic.configs = configs;
    for (const p of topic.partitions) p.log.setConfig(this.logConfig(configs));
    this.persist();
  }

  /** Re-reads every log's settings (after a broker-wide default changed). */
  refreshLogConfigs(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.log.setConfig(this.logConfig(t.configs));
  }

  /** CreatePartitions: adds partitions up to `count` (validated by the caller) and persists. */
  addPartitions(name: string, count: number): Topic {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const dirs = this.dirOf.get(name) ?? [];
    for (let i = topic.partitions.length; i < count; i++) {
      const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
      dirs[i] = dir;
      topic.partitions.push(this.openPartition(topic, i, dir));
    }
    this.dirOf.set(name, dirs);
    this.persist();
    this.log.info(`topic ${name} now has ${count} partition(s)`);
    return topic;
  }

  /** The log dir holding a partition. */
  logDirOf(name: string, index: number): string {
    return this.dirOf.get(name)?.[index] ?? this.logDirs[0]!;
  }

  get logDirectories(): readonly string[] {
    return this.logDirs;
  }

  delete(name: string): boolean {
    const topic = this.topics.get(name);
    if (!topic) return false;
    this.topics.delete(name);
    this.byTopicId.delete(topic.id);
    this.dirOf.delete(name);
    this.retiredEpochs.set(name, topic.leaderEpoch);
    this.persist();
    for (const p of topic.partitions) p.log.delete();
    this.log.info(`deleted topic ${name}`);
    return true;
  }

  flushAll(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.log.flush();
  }

  closeAll(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.log.close();
  }

  private persist(): void {
    const catalogue: Catalogue = {
      topics: [...this.topics.values()].map((t) => ({
        name: t.name,
        id: t.id,
        partitions: t.partitions.length,
        configs: t.configs,
        internal: t.internal || undefined,
        dirs: this.dirOf.get(t.name) ?? [],
        leaderEpoch: t.leaderEpoch,
        replicationFactor: t.replicationFactor > 1 ? t.replicationFactor : undefined,
      })),
      retiredLeaderEpochs: Object.fromEntries(this.retiredEpochs),
    };
    writeFileAtomic(join(this.logDirs[0]!, CATALOGUE), JSON.stringify(catalogue, null, 1));
  }
}

/**
 * How many of a topic's replicas count as in sync. One broker holds every partition; a topic created with
 * a larger replication factor (brook.replication.factor.clamp) has its absent replicas counted as in sync
 * while the clamp is on, so acks=all with the topic's min.insync.replicas behaves as on the cluster it was
 * written for. With the clamp off they count as what they are: absent.
 */
export function inSyncReplicaCount(topic: Topic, config: BrokerConfig): number {
  return topic.replicationFactor > 1 && config.get("brook.replication.factor.clamp") === true ? topic.replicationFactor : 1;
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

