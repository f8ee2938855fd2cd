// Topics and their partitions: creation (validated like Kafka), deletion, lookup, and the durable topic
// catalogue. The catalogue is a small JSON file in the first log dir, replaced atomically
// (write + fsync + rename) so a crash leaves either the old or the new version.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import { PartitionLog, type LogConfig } from "./log/partition-log.ts";
import type { Logger } from "./log.ts";

export interface Partition {
  topic: string;
  index: number;
  log: PartitionLog;
}

export interface Topic {
  name: string;
  /** 32 hex digits */
  id: string;
  partitions: Partition[];
  configs: Record<string, string>;
  internal: boolean;
}

interface CatalogueEntry {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
  internal?: boolean;
  dirs: string[];
}

const CATALOGUE = "brook-topics.json";

/**
 * Kafka's controller refuses a CreateTopics (and, as one oversized batch, a CreatePartitions) that would
 * make more partitions than this in one request (POLICY_VIOLATION); Brook applies it to every request
 * that creates partitions, Metadata's auto-creation included.
 */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

/** Opening or removing thousands of partition logs takes seconds: do it in slices this long. */
const SLICE_MS = 10;

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
}

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
  private readonly dirOf = new Map<string, string[]>();
  /** collision key → topic name, for Kafka's '.'/'_' collision check without a scan */
  private readonly byCollisionKey = new Map<string, string>();
  /** names with a creation, deletion or partition change under way (done in slices) */
  private readonly busy = new Map<string, Promise<void>>();
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
    const entries = JSON.parse(readFileSync(path, "utf8")) as CatalogueEntry[];
    for (const e of entries) {
      const topic: Topic = { name: e.name, id: e.id, partitions: [], configs: e.configs, internal: !!e.internal };
      for (let i = 0; i < e.partitions; i++) {
        const dir = e.dirs[i] ?? this.logDirs[0]!;
        topic.partitions.push({ topic: e.name, index: i, log: PartitionLog.open(join(dir, `${e.name}-${i}`), this.logConfig(e.configs)) });
      }
      this.topics.set(e.name, topic);
      this.dirOf.set(e.name, e.dirs);
      this.byCollisionKey.set(collisionKey(e.name), e.name);
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
    for (const t of this.topics.values()) if (t.id === id) return t;
    return undefined;
  }

  /** Checks a create request the way Kafka does; throws TopicError with Kafka's code and message. */
  validateCreate(name: string, partitions: number, replicationFactor: number): void {
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
    if (replicationFactor > 1)
      throw new TopicError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only 1 broker(s) are registered.`,
      );
  }

  create(name: string, partitions: number, configs: Record<string, string> = {}, internal = false): Topic {
    const topic: Topic = { name, id: randomBytes(16).toString("hex"), partitions: [], configs, internal };
    const dirs: string[] = [];
    for (let i = 0; i < partitions; i++) {
      const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
      dirs.push(dir);
      topic.partitions.push({ topic: name, index: i, log: PartitionLog.open(join(dir, `${name}-${i}`), this.logConfig(configs)) });
    }
    this.topics.set(name, topic);
    this.dirOf.set(name, dirs);
    this.byCollisionKey.set(collisionKey(name), name);
    this.persist();
    this.log.info(`created topic ${name} with ${partitions} partition(s)`);
    return topic;
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
   * topic whose logs cannot be opened (out of file descriptors, say) is rolled back and gets an error.
   */
  async createTopics(specs: readonly NewTopic[]): Promise<(Topic | Error)[]> {
    const release = this.claim(specs.map((s) => s.name));
    try {
      const opened: { spec: NewTopic; partitions: Partition[]; dirs: string[]; error?: Error }[] = specs.map((spec) => ({ spec, partitions: [], dirs: [] }));
      const jobs: [number, number][] = [];
      specs.forEach((s, t) => {
        for (let i = 0; i < s.partitions; i++) jobs.push([t, i]);
      });
      await inSlices(jobs.length, (j) => {
        const [t, i] = jobs[j]!;
        const o = opened[t]!;
        if (o.error) return;
        const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
        const path = join(dir, `${o.spec.name}-${i}`);
        try {
          o.partitions.push({ topic: o.spec.name, index: i, log: PartitionLog.open(path, this.logConfig(o.spec.configs)) });
          o.dirs.push(dir);
        } catch (e) {
          o.error = e as Error;
          this.discard(o.partitions);
          try {
            rmSync(path, { recursive: true, force: true }); // what the failed open left behind
          } catch {}
        }
      });
      const results: (Topic | Error)[] = [];
      let created = 0;
      for (const o of opened) {
        if (o.error) {
          this.log.warn(`could not create topic ${o.spec.name}: ${o.error.message}`);
          results.push(o.error);
          continue;
        }
        const topic: Topic = { name: o.spec.name, id: randomBytes(16).toString("hex"), partitions: o.partitions, configs: o.spec.configs, internal: false };
        this.topics.set(topic.name, topic);
        this.dirOf.set(topic.name, o.dirs);
        this.byCollisionKey.set(collisionKey(topic.name), topic.name);
        results.push(topic);
        created++;
      }
      if (created > 0) {
        try {
          this.persist();
        } catch (e) {
          // Without the catalogue the topics would vanish on restart: take them back.
          for (const r of results) if (!(r instanceof Error)) this.forget(r.name);
          for (const o of opened) if (!o.error) this.discard(o.partitions);
          throw e;
        }
        for (const r of results) if (!(r instanceof Error)) this.log.info(`created topic ${r.name} with ${r.partitions.length} partition(s)`);
      }
      return results;
    } finally {
      release();
    }
  }

  /** addPartitions without holding the event loop (the caller validated the count). */
  async addPartitionsInSlices(name: string, count: number): Promise<Topic> {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    const release = this.claim([name]);
    try {
      const first = topic.partitions.length;
      const added: Partition[] = [];
      const dirs: string[] = [];
      try {
        await inSlices(count - first, (k) => {
          const dir = this.logDirs[this.nextDir++ % this.logDirs.length]!;
          added.push({ topic: name, index: first + k, log: PartitionLog.open(join(dir, `${name}-${first + k}`), this.logConfig(topic.configs)) });
          dirs.push(dir);
        });
      } catch (e) {
        this.discard(added);
        throw e;
      }
      if (this.topics.get(name) !== topic) {
        this.discard(added); // deleted meanwhile
        throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
      }
      topic.partitions.push(...added);
      const all = this.dirOf.get(name) ?? [];
      dirs.forEach((d, k) => (all[first + k] = d));
      this.dirOf.set(name, all);
      this.persist();
      this.log.info(`topic ${name} now has ${count} partition(s)`);
      return topic;
    } finally {
      release();
    }
  }

  /** Deletes topics: gone from lookups and the catalogue at once, their files removed in slices. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    const doomed = names.map((n) => this.topics.get(n)).filter((t): t is Topic => t !== undefined);
    if (doomed.length === 0) return;
    const release = this.claim(doomed.map((t) => t.name));
    try {
      for (const t of doomed) this.forget(t.name);
      this.persist();
      const logs = doomed.flatMap((t) => t.partitions);
      await inSlices(logs.length, (i) => logs[i]!.log.delete());
      for (const t of doomed) this.log.info(`deleted topic ${t.name}`);
    } finally {
      release();
    }
  }

  private forget(name: string): void {
    this.topics.delete(name);
    this.dirOf.delete(name);
    this.byCollisionKey.delete(collisionKey(name));
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
      topic.partitions.push({ topic: name, index: i, log: PartitionLog.open(join(dir, `${name}-${i}`), this.logConfig(topic.configs)) });
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
    this.forget(name);
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
    const entries: CatalogueEntry[] = [...this.topics.values()].map((t) => ({
      name: t.name,
      id: t.id,
      partitions: t.partitions.length,
      configs: t.configs,
      internal: t.internal || undefined,
      dirs: this.dirOf.get(t.name) ?? [],
    }));
    writeFileAtomic(join(this.logDirs[0]!, CATALOGUE), JSON.stringify(entries, null, 1));
  }
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

