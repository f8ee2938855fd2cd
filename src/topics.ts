// Topics and their partitions: creation (validated like Kafka), deletion, lookup, and the durable topic
// catalogue. The catalogue is a small JSON file in the first log dir, replaced atomically
// (write + fsync + rename) so a crash leaves either the old or the new version. Each log dir is a LogDir
// (src/log/log-dir.ts): the partitions' recovery checkpoint, written periodically and at a clean close,
// and the dir's free space, below which produce is refused (diskFull, readable through logDirStates()).
// Each topic has a random id (Kafka's UUID rules) kept for its life and a fresh one when a topic of the
// same name is created again, and a partition leader epoch. With one broker leadership never moves, so
// the epoch changes only when the topic is re-created: one more than any epoch that name had before (the
// catalogue remembers the last epoch of deleted topics), so clients holding the old topic's epoch are
// fenced (KIP-320) instead of reading the new log at the old positions. Creating, growing and deleting
// topics with many partitions is done in slices (a name is busy meanwhile) so one request never holds
// the event loop.
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import { CHECKPOINT_EVERY_BYTES, LogDir } from "./log/log-dir.ts";
import { PartitionLog, type LogConfig } from "./log/partition-log.ts";
import { logReadStats } from "./log/segment.ts";
import type { Logger } from "./log.ts";
import type { BrokerConfig } from "./config.ts";
import { LeaderEpochCache } from "./log/leader-epochs.ts";
import { syncDir } from "./log/log-dir.ts";
import {
  CATALOGUE,
  REBUILT_TOPIC_CONFIGS,
  catalogueRefusal,
  deletingName,
  describeTopics,
  holdsData,
  isDirectory,
  readCatalogue,
  scanLogDirs,
  type Catalogue,
  type CatalogueEntry,
  type LogDirContents,
} from "./topic-catalogue.ts";
import { CRASH_POINTS, crashPoint } from "./crash-points.ts";

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

/**
 * Kafka's controller refuses a CreateTopics (and, as one oversized batch, a CreatePartitions) that would
 * make more partitions than this in one request (POLICY_VIOLATION); Brook applies it to every request
 * that creates partitions, Metadata's auto-creation included.
 */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

/** Opening or removing thousands of partition logs takes seconds: do it in slices this long. */
const SLICE_MS = 10;
/** How many deleted topics' leader epochs are remembered (see TopicStore.retiredEpochs). */
export const RETIRED_EPOCHS_KEPT = 1000;

/** Runs fn(i) for i < n, letting the event loop serve other connections between slices. */
async function inSlices(n: number, fn: (i: number) => void): Promise<void> {
  let sliceEnd = performance.now() + SLICE_MS;
  for (let i = 0; i < n; i++) {
    fn(i);
    if (performance.now() >= sliceEnd) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceEnd = performance.now() + SLICE_MS;
    }
  }
}

/**
 * Each partition log holds a file descriptor. Past the process's limit nothing can be opened, and the
 * listener cannot accept connections any more (it retries in a loop), so partitions are only created
 * while a reserve stays free for connections: 10% of the limit, and at least this many.
 */
const FD_RESERVE_MIN = 64;

function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m && m[1] !== "unlimited" ? Number(m[1]) : Number.POSITIVE_INFINITY;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Why `partitions` more logs cannot be opened now, or null if they can. */
export function fileDescriptorShortage(partitions: number): string | null {
  const limit = openFileLimit();
  if (!Number.isFinite(limit)) return null;
  let open: number;
  try {
    open = readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
  const reserve = Math.max(FD_RESERVE_MIN, Math.ceil(limit / 10));
  if (open + partitions <= limit - reserve) return null;
  return `Not enough file descriptors for ${partitions} more partition(s): ${open} of the process's ${limit} are open and ${reserve} are kept for connections.`;
}

/** Topic names that collide in metric names: '.' and '_' are the same there. */
const collisionKey = (name: string): string => name.replace(/\./g, "_");

export interface NewTopic {
  name: string;
  partitions: number;
  configs: Record<string, string>;
  /** nominal, above 1 only with brook.replication.factor.clamp */
  replicationFactor?: number;
}

const LEGAL_NAME = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Storage settings of the log dirs. */
export interface StorageOptions {
  /** brook.log.dir.min.free.bytes; null: 1% of the volume, at most 1 GiB */
  minFreeBytes?: number | null;
  /** log.flush.offset.checkpoint.interval.ms: how often the recovery checkpoint is written */
  checkpointIntervalMs?: number;
  /** brook.topic.catalogue.rebuild: a missing or unreadable catalogue is rebuilt from the partition directories */
  rebuildCatalogue?: boolean;
}

/** One log dir's state, for log lines and metrics. */
export interface LogDirState {
  path: string;
  /** appends are refused: free space below minFreeBytes, or a write failed with ENOSPC */
  diskFull: boolean;
  reason: string | null;
  freeBytes: number;
  totalBytes: number;
  minFreeBytes: number;
}

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
  /**
   * Leader epochs of deleted topics by name, so that a re-created topic starts one higher and fences
   * clients holding the old epoch. Only the last RETIRED_EPOCHS_KEPT deletions are kept: every name
   * ever deleted (tests create thousands of unique topics) made the catalogue, rewritten on each topic
   * change, and the heap grow without bound.
   */
  private readonly retiredEpochs = new Map<string, number>();
  /** collision key → topic name, for Kafka's '.'/'_' collision check without a scan */
  private readonly byCollisionKey = new Map<string, string>();
  /** names with a creation, deletion or partition change under way (done in slices) */
  private readonly busy = new Map<string, Promise<void>>();
  private nextDir = 0;
  private readonly dirs = new Map<string, LogDir>();
  private checkpointTimer: ReturnType<typeof setInterval> | null = null;
  /** meta.properties' cluster id, which the catalogue keeps a copy of (set before load) */
  clusterId: string | null = null;

  constructor(
    private readonly logDirs: string[],
    private readonly logConfig: (topicConfigs: Record<string, string>) => LogConfig,
    private readonly log: Logger,
    private readonly storage: StorageOptions = {},
  ) {}

  private logDir(dir: string): LogDir {
    let d = this.dirs.get(dir);
    if (!d) {
      d = LogDir.open(dir, { minFreeBytes: this.storage.minFreeBytes, log: this.log, checkpointEveryBytes: CHECKPOINT_EVERY_BYTES });
      this.dirs.set(dir, d);
    }
    return d;
  }

  private openLog(dir: string, topic: Topic, index: number, recover = false): PartitionLog {
    return PartitionLog.open(join(dir, `${topic.name}-${index}`), this.logConfig(topic.configs), { logDir: this.logDir(dir), topicId: topic.id, recover });
  }

  /**
   * Opens every topic in the catalogue, recovering each partition log; finishes deletions a crash
   * interrupted and removes what they left. A missing or unreadable catalogue next to partition data
   * stops the start (see src/topic-catalogue.ts), unless a rebuild was asked for.
   */
  load(): void {
    for (const dir of this.logDirs) this.logDir(dir);
    const t0 = performance.now();
    const walked0 = logReadStats.recordBytesScanned;
    const file = join(this.logDirs[0]!, CATALOGUE);
    const found = scanLogDirs(this.logDirs.map((d) => ({ dir: d, names: this.logDir(d).entriesAtOpen })));
    const read = readCatalogue(file);
    let catalogue: Catalogue;
    let rewrite = false;
    if (read.kind === "ok") catalogue = read.catalogue;
    else {
      const withData = [...found.partitions].filter(([name, parts]) => [...parts].some(([i, dir]) => holdsData(join(dir, `${name}-${i}`)))).map(([name]) => name).sort();
      if (read.kind === "missing" && withData.length === 0) catalogue = { topics: [] };
      else if (!this.storage.rebuildCatalogue) throw new Error(catalogueRefusal(file, read.kind === "missing" ? null : read.reason, withData));
      else {
        if (read.kind === "unreadable") {
          const aside = `${file}.unreadable-${Date.now()}`;
          renameSync(file, aside);
          this.log.warn(`${file} is unreadable (${read.reason}): kept as ${aside}`);
        }
        catalogue = this.rebuild(found);
        rewrite = true;
      }
    }
    for (const [name, epoch] of Object.entries(catalogue.retiredLeaderEpochs ?? {})) this.retireEpoch(name, epoch);
    if (this.finishDeletions(catalogue, found)) rewrite = true;
    if (this.settleStrays(catalogue, found)) rewrite = true;
    if (catalogue.clusterId === undefined && this.clusterId !== null && catalogue.topics.length > 0) rewrite = true; // keep a copy from now on
    const opened = { checkpoint: 0, tail: 0, recovery: 0 };
    for (const e of catalogue.topics) {
      const topic: Topic = { name: e.name, id: e.id, partitions: [], configs: e.configs, internal: !!e.internal, leaderEpoch: e.leaderEpoch ?? 0, replicationFactor: e.replicationFactor ?? 1 };
      const dirs: string[] = [];
      for (let i = 0; i < e.partitions; i++) {
        const { dir, missing } = this.locate(e.name, i, e.dirs[i], found);
        if (missing) this.log.warn(`partition directory ${join(dir, `${e.name}-${i}`)} is missing: the partition starts empty, after the offsets it had`);
        if (dir !== e.dirs[i]) rewrite = true;
        dirs.push(dir);
        const partition = this.openPartition(topic, i, dir, missing);
        opened[partition.log.openedFrom]++;
        topic.partitions.push(partition);
      }
      this.topics.set(e.name, topic);
      this.byTopicId.set(e.id, topic);
      this.dirOf.set(e.name, dirs);
      this.byCollisionKey.set(collisionKey(e.name), e.name);
    }
    if (rewrite) this.persist();
    for (const d of found.deleting) rmSync(d.path, { recursive: true, force: true });
    if (catalogue.topics.length > 0) {
      const clean = [...this.dirs.values()].every((d) => d.clean);
      const partitions = opened.checkpoint + opened.tail + opened.recovery;
      const how = clean
        ? "after a clean shutdown"
        : `after an unclean shutdown: ${opened.checkpoint} unchanged since the checkpoint, ${opened.tail} appended to (their tails checked), ` +
          `${opened.recovery} recovered; ${((logReadStats.recordBytesScanned - walked0) / 2 ** 20).toFixed(1)} MiB read`;
      this.log.info(`loaded ${this.topics.size} topics (${partitions} partitions) from ${this.logDirs.join(",")} ${how}, in ${(performance.now() - t0).toFixed(0)} ms`);
    }
    for (const d of this.dirs.values()) d.dropUntaken();
    const interval = this.storage.checkpointIntervalMs;
    if (interval !== undefined && interval < 2 ** 31) {
      this.checkpointTimer = setInterval(() => void this.checkpoint(), Math.max(1, interval));
      this.checkpointTimer.unref?.();
    }
  }

  /**
   * Where a partition's directory is: the log dir the catalogue names when it holds it, else whichever
   * configured log dir does (log.dirs changed, or the data was moved); missing when none does.
   */
  private locate(name: string, index: number, recorded: string | undefined, found: LogDirContents): { dir: string; missing: boolean } {
    const at = found.partitions.get(name)?.get(index);
    if (at !== undefined && at === recorded) return { dir: recorded, missing: false };
    if (at !== undefined) {
      if (recorded !== undefined) this.log.warn(`partition ${name}-${index} is recorded in ${recorded} but found in ${at}: using it there`);
      return { dir: at, missing: false };
    }
    return { dir: recorded !== undefined && this.logDirs.includes(recorded) ? recorded : this.logDirs[0]!, missing: true };
  }

  /** Topics whose partition directories were renamed for deletion: the deletion is finished. */
  private finishDeletions(catalogue: Catalogue, found: LogDirContents): boolean {
    let changed = false;
    for (const d of found.deleting) {
      const i = catalogue.topics.findIndex((t) => t.id === d.topicId && t.name.startsWith(d.name)); // the name may be cut (deletingName)
      if (i < 0) continue;
      const t = catalogue.topics[i]!;
      this.log.warn(`topic ${t.name}: finishing its deletion, which a crash interrupted`);
      catalogue.topics.splice(i, 1);
      catalogue.retiredLeaderEpochs = { ...catalogue.retiredLeaderEpochs, [t.name]: t.leaderEpoch ?? 0 };
      this.retireEpoch(t.name, t.leaderEpoch ?? 0);
      for (let p = 0; p < t.partitions; p++) {
        const dir = found.partitions.get(t.name)?.get(p);
        if (dir) rmSync(join(dir, `${t.name}-${p}`), { recursive: true, force: true });
        found.partitions.get(t.name)?.delete(p);
      }
      changed = true;
    }
    return changed;
  }

  /**
   * Partition directories the catalogue does not list: left by a creation the crash interrupted (no data:
   * removed) or by something the catalogue cannot account for (data: the start stops, unless rebuilding).
   */
  private settleStrays(catalogue: Catalogue, found: LogDirContents): boolean {
    const listed = new Map(catalogue.topics.map((t) => [t.name, t]));
    const withData: string[] = [];
    let changed = false;
    for (const [name, parts] of found.partitions)
      for (const [index, dir] of parts) {
        const t = listed.get(name);
        if (t && index < t.partitions) continue;
        const p = join(dir, `${name}-${index}`);
        if (!isDirectory(p)) continue;
        if (!holdsData(p)) {
          this.log.info(`removing ${p}: a partition directory without data that the topic catalogue does not list (a topic creation a crash interrupted)`);
          rmSync(p, { recursive: true, force: true });
          parts.delete(index);
        } else if (this.storage.rebuildCatalogue) {
          if (t) {
            t.partitions = Math.max(t.partitions, index + 1);
            this.log.warn(`topic ${name}: partition ${index} found with data in ${dir} and taken back into the catalogue`);
          } else {
            const e = this.rebuiltEntry(name, parts);
            catalogue.topics.push(e);
            listed.set(name, e);
          }
          changed = true;
        } else withData.push(p);
      }
    if (withData.length > 0)
      throw new Error(
        `${join(this.logDirs[0]!, CATALOGUE)} does not list partition directories that hold data: ${withData.slice(0, 10).join(", ")}` +
          `${withData.length > 10 ? ` and ${withData.length - 10} more` : ""}. Restore the catalogue from a backup, remove those directories, ` +
          "or start with --override brook.topic.catalogue.rebuild=true to add them to it (their configs are lost: see the README's Durability section)",
      );
    return changed;
  }

  /** A catalogue made from the partition directories (brook.topic.catalogue.rebuild). */
  private rebuild(found: LogDirContents): Catalogue {
    const topics = [...found.partitions].map(([name, parts]) => this.rebuiltEntry(name, parts));
    this.log.warn(
      `rebuilt ${CATALOGUE} from the partition directories: ${topics.length} topic(s) (${describeTopics(topics.map((t) => t.name))}). ` +
        `Their configs were only in the catalogue: each gets ${JSON.stringify(REBUILT_TOPIC_CONFIGS)} so nothing is deleted, ` +
        "until you set its configs again (kafka-configs.sh or `brook topics alter`)",
    );
    return { topics };
  }

  private rebuiltEntry(name: string, parts: Map<number, string>): CatalogueEntry {
    const count = Math.max(...parts.keys()) + 1;
    const dirs = Array.from({ length: count }, (_, i) => parts.get(i) ?? this.logDirs[0]!);
    let id: string | undefined;
    let epoch = 0;
    for (const [i, dir] of parts) {
      id ??= this.logDir(dir).topicIdOf(`${name}-${i}`);
      epoch = Math.max(epoch, LeaderEpochCache.load(join(dir, `${name}-${i}`)).latestEpoch);
    }
    const missing = dirs.map((_, i) => i).filter((i) => !parts.has(i));
    this.log.warn(
      `topic ${name}: rebuilt with ${count} partition(s)${missing.length ? ` (${missing.join(", ")} had no directory: empty)` : ""}, ` +
        `${id ? "its id from the log checkpoint" : "a new id"}, configs ${JSON.stringify(REBUILT_TOPIC_CONFIGS)}`,
    );
    return { name, id: id ?? newTopicId(), partitions: count, configs: { ...REBUILT_TOPIC_CONFIGS }, dirs, leaderEpoch: epoch };
  }

  /** Writes every log dir's recovery checkpoint now (the timer does it every checkpointIntervalMs). */
  checkpoint(): Promise<void> {
    return Promise.all([...this.dirs.values()].map((d) => d.checkpoint())).then(() => {});
  }

  /** Each log dir: whether it refuses appends (full) and its space, for log lines and metrics. */
  logDirStates(): LogDirState[] {
    return this.logDirs.map((p) => {
      const d = this.logDir(p);
      return { path: p, diskFull: d.diskFull, reason: d.diskFullReason, freeBytes: d.freeBytes, totalBytes: d.totalBytes, minFreeBytes: d.minFreeBytes };
    });
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
  private openPartition(topic: Topic, index: number, dir: string, recover = false): Partition {
    const log = this.openLog(dir, topic, index, recover);
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
    if (this.topics.has(name) || this.busy.has(name)) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    const collides = this.byCollisionKey.get(collisionKey(name));
    if (collides !== undefined)
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
    try {
      for (let i = 0; i < partitions; i++) {
        const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
        dirs.push(dir);
        topic.partitions.push(this.openPartition(topic, i, dir));
      }
      this.topics.set(name, topic);
      this.byTopicId.set(topic.id, topic);
      this.dirOf.set(name, dirs);
      this.byCollisionKey.set(collisionKey(name), name);
      if (CRASH_POINTS) crashPoint("topic.create.before-persist");
      this.persist();
      this.retiredEpochs.delete(name);
    } catch (e) {
      // Nothing of a topic the catalogue does not list may stay behind (a full volume, most likely).
      this.forget(topic);
      for (const p of topic.partitions) p.log.delete();
      throw this.storageFailure(`creating topic ${name}`, e);
    }
    this.log.info(`created topic ${name} with ${partitions} partition(s)`);
    if (replicationFactor > 1)
      this.log.warn(
        `topic ${name}: replication factor ${replicationFactor} accepted, but this single broker keeps one copy of its data ` +
          "(brook.replication.factor.clamp=true)",
      );
    return topic;
  }

  private storageFailure(what: string, e: unknown): TopicError {
    this.log.error(`${what} failed: ${(e as Error).message}`);
    return new TopicError(ErrorCode.KAFKA_STORAGE_ERROR, `${what} failed: ${(e as Error).message}`);
  }

  /** Whether a creation, deletion or partition change of this name is under way. */
  isBusy(name: string): boolean {
    return this.busy.has(name);
  }

  /** Resolves once no creation, deletion or partition change of these names is under way. */
  async settled(names: Iterable<string>): Promise<void> {
    for (;;) {
      const pending = [...names].map((n) => this.busy.get(n)).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Marks names busy until the returned function is called. */
  private claim(names: string[]): () => void {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    for (const n of names) this.busy.set(n, done);
    return () => {
      for (const n of names) if (this.busy.get(n) === done) this.busy.delete(n);
      release();
    };
  }

  /**
   * Creates topics (validated by the caller) without holding the event loop: the partition logs are
   * opened in slices, and the topics appear together, with one catalogue write, once all are open. A
   * topic whose logs cannot be opened (out of file descriptors, say) is rolled back and gets an error;
   * a catalogue that cannot be written takes them all back (KAFKA_STORAGE_ERROR).
   */
  async createTopics(specs: readonly NewTopic[]): Promise<(Topic | Error)[]> {
    const release = this.claim(specs.map((s) => s.name));
    try {
      const opened = specs.map((spec) => {
        const retired = this.retiredEpochs.get(spec.name);
        const topic: Topic = {
          name: spec.name, id: newTopicId(), partitions: [], configs: spec.configs, internal: false,
          leaderEpoch: retired === undefined ? 0 : retired + 1, replicationFactor: spec.replicationFactor ?? 1,
        };
        return { topic, dirs: [] as string[], error: undefined as Error | undefined };
      });
      const jobs: [number, number][] = [];
      specs.forEach((s, t) => {
        for (let i = 0; i < s.partitions; i++) jobs.push([t, i]);
      });
      await inSlices(jobs.length, (j) => {
        const [t, i] = jobs[j]!;
        const o = opened[t]!;
        if (o.error) return;
        const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
        try {
          o.topic.partitions.push(this.openPartition(o.topic, i, dir));
          o.dirs.push(dir);
        } catch (e) {
          o.error = e as Error;
          this.discard(o.topic.partitions);
          try {
            rmSync(join(dir, `${o.topic.name}-${i}`), { recursive: true, force: true }); // what the failed open left behind
          } catch {}
        }
      });
      const results: (Topic | Error)[] = [];
      const created: Topic[] = [];
      for (const o of opened) {
        if (o.error) {
          this.log.warn(`could not create topic ${o.topic.name}: ${o.error.message}`);
          results.push(o.error);
          continue;
        }
        this.topics.set(o.topic.name, o.topic);
        this.byTopicId.set(o.topic.id, o.topic);
        this.dirOf.set(o.topic.name, o.dirs);
        this.byCollisionKey.set(collisionKey(o.topic.name), o.topic.name);
        results.push(o.topic);
        created.push(o.topic);
      }
      if (created.length > 0) {
        try {
          if (CRASH_POINTS) crashPoint("topic.create.before-persist");
          this.persist();
        } catch (e) {
          // Without the catalogue the topics would vanish on restart: take them back.
          for (const t of created) {
            this.forget(t);
            this.discard(t.partitions);
          }
          throw this.storageFailure(`creating topic(s) ${created.map((t) => t.name).join(", ")}`, e);
        }
        for (const t of created) {
          this.retiredEpochs.delete(t.name);
          this.log.info(`created topic ${t.name} with ${t.partitions.length} partition(s)`);
          if (t.replicationFactor > 1)
            this.log.warn(
              `topic ${t.name}: replication factor ${t.replicationFactor} accepted, but this single broker keeps one copy of its data ` +
                "(brook.replication.factor.clamp=true)",
            );
        }
      }
      return results;
    } finally {
      release();
    }
  }

  /** addPartitions without holding the event loop (the caller validated the count). */
  async addPartitionsInSlices(name: string, count: number): Promise<Topic> {
    // Another change of this topic first (the CreatePartitions handler waits too; an embedder calling
    // this twice at once would count both from the same partition count). The check and the claim below
    // run without an await between them.
    while (this.busy.has(name)) await this.settled([name]);
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    if (count <= topic.partitions.length)
      throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${topic.partitions.length} partitions, which is higher than the requested ${count}.`);
    const release = this.claim([name]);
    try {
      const first = topic.partitions.length;
      const added: Partition[] = [];
      const dirs: string[] = [];
      try {
        await inSlices(count - first, (k) => {
          const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
          added.push(this.openPartition(topic, first + k, dir));
          dirs.push(dir);
        });
      } catch (e) {
        this.discard(added);
        throw this.storageFailure(`adding partitions to ${name}`, e);
      }
      if (this.topics.get(name) !== topic) {
        this.discard(added); // deleted meanwhile
        throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
      }
      const all = this.dirOf.get(name) ?? [];
      topic.partitions.push(...added);
      dirs.forEach((d, k) => (all[first + k] = d));
      this.dirOf.set(name, all);
      try {
        this.persist();
      } catch (e) {
        topic.partitions.length = first;
        all.length = first;
        this.discard(added);
        throw this.storageFailure(`adding partitions to ${name}`, e);
      }
      this.log.info(`topic ${name} now has ${count} partition(s)`);
      return topic;
    } finally {
      release();
    }
  }

  /**
   * Deletes topics: gone from lookups and the catalogue at once, their files removed in slices. A
   * catalogue that cannot be written leaves them all in place (KAFKA_STORAGE_ERROR).
   */
  async deleteTopics(names: readonly string[]): Promise<void> {
    // A change under way first (partitions being added): deleting meanwhile released the name early,
    // the topic could be created again, and the unfinished addition then removed the new topic's
    // directories as its own (found by the fuzzer). The check and the claim run without an await between.
    while (names.some((n) => this.busy.has(n))) await this.settled(names);
    const doomed = names.map((n) => this.topics.get(n)).filter((t): t is Topic => t !== undefined);
    if (doomed.length === 0) return;
    const release = this.claim(doomed.map((t) => t.name));
    try {
      const dirs = doomed.map((t) => this.dirOf.get(t.name));
      const retired = doomed.map((t) => this.retiredEpochs.get(t.name));
      for (const t of doomed) {
        this.forget(t);
        this.retireEpoch(t.name, t.leaderEpoch);
      }
      const renamed: [string, string][] = [];
      try {
        this.retireDirectories(doomed, renamed);
        this.persist();
      } catch (e) {
        this.unretire(renamed);
        doomed.forEach((t, i) => {
          this.remember(t, dirs[i]);
          if (retired[i] === undefined) this.retiredEpochs.delete(t.name);
          else this.retiredEpochs.set(t.name, retired[i]!);
        });
        throw this.storageFailure(`deleting topic(s) ${doomed.map((t) => t.name).join(", ")}`, e);
      }
      if (CRASH_POINTS) crashPoint("topic.delete.after-persist");
      const logs = doomed.flatMap((t) => t.partitions);
      await inSlices(logs.length, (i) => logs[i]!.log.delete(renamed[i]![1]));
      for (const t of doomed) this.log.info(`deleted topic ${t.name}`);
    } finally {
      release();
    }
  }

  /**
   * Renames the topics' partition directories to their deleting names (listed in `renamed`) and syncs
   * their parents. Done before the catalogue stops listing the topics: after a crash, a renamed
   * directory next to a catalogue that still lists its topic finishes the deletion, and nothing of the
   * topic can be taken for a new one.
   */
  private retireDirectories(topics: readonly Topic[], renamed: [string, string][]): void {
    for (const topic of topics)
      for (const p of topic.partitions) {
        const to = deletingName(p.log.dir, topic.id);
        renameSync(p.log.dir, to);
        renamed.push([p.log.dir, to]);
        if (CRASH_POINTS) crashPoint("topic.delete.after-rename");
      }
    for (const d of new Set(topics.flatMap((t) => t.partitions.map((p) => dirname(p.log.dir))))) syncDir(d);
  }

  /** Undoes retireDirectories after a failure (what cannot be undone, the next start finishes). */
  private unretire(renamed: [string, string][]): void {
    for (const [from, to] of [...renamed].reverse()) {
      try {
        renameSync(to, from);
      } catch {
        // the next start finishes the deletion
      }
    }
  }

  private forget(topic: Topic): void {
    this.topics.delete(topic.name);
    this.byTopicId.delete(topic.id);
    this.dirOf.delete(topic.name);
    this.byCollisionKey.delete(collisionKey(topic.name));
  }

  private remember(topic: Topic, dirs: string[] | undefined): void {
    this.topics.set(topic.name, topic);
    this.byTopicId.set(topic.id, topic);
    if (dirs) this.dirOf.set(topic.name, dirs);
    this.byCollisionKey.set(collisionKey(topic.name), topic.name);
  }

  /** Removes partition logs that never became part of a topic. */
  private discard(partitions: Partition[]): void {
    for (const p of partitions) {
      try {
        p.log.delete();
      } catch (e) {
        this.log.warn(`could not remove ${p.log.dir}: ${(e as Error).message}`);
      }
    }
  }

  /** Replaces a topic's explicit configs (AlterConfigs), applies them to its logs and persists them. */
  setConfigs(name: string, configs: Record<string, string>): void {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const before = topic.configs;
    topic.configs = configs;
    try {
      this.persist();
    } catch (e) {
      topic.configs = before;
      throw this.storageFailure(`altering the configs of ${name}`, e);
    }
    for (const p of topic.partitions) p.log.setConfig(this.logConfig(configs));
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
    const had = topic.partitions.length;
    try {
      for (let i = had; i < count; i++) {
        const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
        dirs[i] = dir;
        topic.partitions.push(this.openPartition(topic, i, dir));
      }
      this.dirOf.set(name, dirs);
      if (CRASH_POINTS) crashPoint("partitions.add.before-persist");
      this.persist();
    } catch (e) {
      for (const p of topic.partitions.splice(had)) p.log.delete();
      dirs.length = had;
      throw this.storageFailure(`adding partitions to ${name}`, e);
    }
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
    const dirs = this.dirOf.get(name);
    this.forget(topic);
    const retired = this.retiredEpochs.get(name);
    this.retireEpoch(name, topic.leaderEpoch);
    const renamed: [string, string][] = [];
    try {
      this.retireDirectories([topic], renamed);
      this.persist();
    } catch (e) {
      this.unretire(renamed);
      this.remember(topic, dirs);
      if (retired === undefined) this.retiredEpochs.delete(name);
      else this.retiredEpochs.set(name, retired);
      throw this.storageFailure(`deleting topic ${name}`, e);
    }
    if (CRASH_POINTS) crashPoint("topic.delete.after-persist");
    for (const [i, p] of topic.partitions.entries()) p.log.delete(renamed[i]![1]);
    this.log.info(`deleted topic ${name}`);
    return true;
  }

  /** fsync every log (log.flush.interval.ms): one syncfs per log dir when many logs have new data. */
  flushAll(): void {
    for (const [path, dir] of this.dirs) {
      const logs: PartitionLog[] = [];
      for (const t of this.topics.values()) for (const p of t.partitions) if (p.log.directory === dir) logs.push(p.log);
      try {
        dir.flush(logs);
      } catch (e) {
        this.log.error(`flushing the logs in ${path} failed: ${(e as Error).message}`);
      }
    }
  }

  /** Clean shutdown: every log closed, then each log dir made durable and marked clean. */
  closeAll(): void {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = null;
    const t0 = performance.now();
    let logs = 0;
    for (const t of this.topics.values())
      for (const p of t.partitions) {
        try {
          p.log.close();
          logs++;
        } catch (e) {
          this.log.error(`closing ${p.topic}-${p.index} failed: ${(e as Error).message}`);
        }
      }
    const t1 = performance.now();
    for (const [path, dir] of this.dirs) {
      try {
        dir.close();
      } catch (e) {
        this.log.error(`closing log dir ${path} failed (the next start recovers it): ${(e as Error).message}`);
      }
    }
    this.log.info(`closed ${logs} logs in ${(t1 - t0).toFixed(0)} ms; checkpointed ${this.dirs.size} log dir(s) in ${(performance.now() - t1).toFixed(0)} ms`);
  }

  /** Remembers a deleted topic's epoch as the newest entry, forgetting the oldest beyond the bound. */
  private retireEpoch(name: string, epoch: number): void {
    this.retiredEpochs.delete(name);
    this.retiredEpochs.set(name, epoch);
    for (const oldest of this.retiredEpochs.keys()) {
      if (this.retiredEpochs.size <= RETIRED_EPOCHS_KEPT) break;
      this.retiredEpochs.delete(oldest);
    }
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
      ...(this.clusterId !== null ? { clusterId: this.clusterId } : {}),
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
  if (CRASH_POINTS) crashPoint("atomic-write.before-rename");
  renameSync(tmp, path);
  syncDir(dirname(path)); // the rename survives a power loss too
}

