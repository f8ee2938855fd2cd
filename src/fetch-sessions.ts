// Incremental fetch sessions (KIP-227), as Kafka's FetchSession/FetchSessionCache keep them. A full
// fetch (epoch 0) may create a session holding the requested partitions; later requests (epoch 1, 2, …)
// list only what changed (new partitions, new offsets) and what to forget, and the response carries only
// the partitions that have something to say (records, a moved high watermark or log start offset, an
// error, a diverging epoch). Epoch -1 closes a session.
//
// Cache policy (Kafka's FetchSessionCache.tryEvict): while there are fewer than
// `max.incremental.fetch.session.cache.slots` sessions a new one is created; when full, the session
// used least recently is evicted if it has been idle for more than 2 minutes; otherwise the least
// valuable session created more than 2 minutes ago (fewest partitions, unprivileged first) makes room
// for a new one that holds more partitions; otherwise no session is created (the response says 0 and
// the client keeps sending full requests). Privileged sessions are the followers'; Brook has none.
// Kafka splits the cache into 8 shards (slots / 8 each) to spread lock contention; Brook's single
// thread needs no such split, so a cache of N slots holds N sessions here.
import { randomInt } from "node:crypto";

/** The request's metadata: session 0 with epoch -1 is a plain full fetch outside any session. */
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;
/** How long a session stays safe from eviction (Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS). */
export const SESSION_EVICTION_MS = 120_000;

export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch === 0x7fffffff ? 1 : epoch + 1;
}

/** A partition held by a session: the fetcher's last request parameters and what it was last told. */
export interface CachedPartition {
  /** zero for sessions of requests without topic ids (v12 and older) */
  topicId: string;
  /** the topic name, null while a topic id could not be resolved */
  topic: string | null;
  partition: number;
  maxBytes: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** the high watermark last sent (-1: never, or an error was sent) */
  highWatermark: number;
  /** the log start offset last sent */
  logStartOffset: number;
}

export class FetchSession {
  /** partitions in the order the response walks them; those that returned records move to the back */
  readonly partitions = new Map<string, CachedPartition>();
  lastUsedMs: number;
  epoch = nextEpoch(INITIAL_EPOCH);
  /** the size at the last touch (what eviction compares), -1 when not in the cache */
  cachedSize = -1;

  constructor(
    readonly id: number,
    readonly privileged: boolean,
    readonly usesTopicIds: boolean,
    readonly creationMs: number,
  ) {
    this.lastUsedMs = creationMs;
  }

  /** The map key of a partition: by id in sessions that use topic ids, else by name. */
  key(topicId: string, topic: string | null, partition: number): string {
    return this.usesTopicIds ? `${topicId}:${partition}` : `${topic}:${partition}`;
  }

  /** Applies an incremental request: new and changed partitions, then the forgotten ones. */
  update(changed: readonly CachedPartition[], forgotten: readonly { topicId: string; topic: string | null; partition: number }[]): void {
    for (const p of changed) {
      const key = this.key(p.topicId, p.topic, p.partition);
      const cached = this.partitions.get(key);
      if (!cached) {
        this.partitions.set(key, p);
        continue;
      }
      cached.maxBytes = p.maxBytes;
      cached.fetchOffset = p.fetchOffset;
      cached.currentLeaderEpoch = p.currentLeaderEpoch;
      cached.lastFetchedEpoch = p.lastFetchedEpoch;
    }
    for (const f of forgotten) this.partitions.delete(this.key(f.topicId, f.topic, f.partition));
  }
}

export interface FetchSessionStats {
  /** sessions in the cache, and the partitions they hold */
  sessions: number;
  partitions: number;
  created: number;
  evicted: number;
  /** full fetch requests that asked for a session (epoch 0), incremental ones, and ones outside sessions */
  fullRequests: number;
  incrementalRequests: number;
  sessionlessRequests: number;
  /** FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH or FETCH_SESSION_TOPIC_ID_ERROR answers */
  sessionErrors: number;
  /** partition-level error codes sent in fetch responses, by code */
  partitionErrors: Record<number, number>;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  private readonly counters: Omit<FetchSessionStats, "sessions" | "partitions"> = {
    created: 0,
    evicted: 0,
    fullRequests: 0,
    incrementalRequests: 0,
    sessionlessRequests: 0,
    sessionErrors: 0,
    partitionErrors: {},
  };

  constructor(
    /** max.incremental.fetch.session.cache.slots (read on every creation, so it can change at runtime) */
    private readonly maxEntries: () => number,
    private readonly now: () => number = Date.now,
    private readonly evictionMs = SESSION_EVICTION_MS,
  ) {}

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  remove(id: number): boolean {
    return this.sessions.delete(id);
  }

  /** Marks a session used now and records its size for eviction decisions (Kafka's touch). */
  touch(session: FetchSession): void {
    session.lastUsedMs = this.now();
    session.cachedSize = session.partitions.size;
  }

  /** A new session for a full fetch, or null when the cache has no room for it (Kafka's maybeCreateSession). */
  maybeCreate(privileged: boolean, usesTopicIds: boolean, size: number): FetchSession | null {
    const now = this.now();
    if (this.sessions.size >= this.maxEntries() && !this.tryEvict(privileged, size, now)) return null;
    let id: number;
    do id = randomInt(1, 0x7fffffff);
    while (this.sessions.has(id));
    const session = new FetchSession(id, privileged, usesTopicIds, now);
    this.sessions.set(id, session);
    this.counters.created++;
    return session;
  }

  private tryEvict(privileged: boolean, size: number, now: number): boolean {
    let stalest: FetchSession | undefined;
    for (const s of this.sessions.values())
      if (!stalest || s.lastUsedMs < stalest.lastUsedMs || (s.lastUsedMs === stalest.lastUsedMs && s.id < stalest.id)) stalest = s;
    if (!stalest) return false;
    if (now - stalest.lastUsedMs > this.evictionMs) return this.evict(stalest);
    // As in Kafka, whether a session may be evicted was decided when it was last touched: unprivileged
    // sessions by privileged newcomers at any time, any session once it had lived past the eviction time.
    let least: FetchSession | undefined;
    for (const s of this.sessions.values()) {
      const old = s.lastUsedMs - s.creationMs > this.evictionMs;
      if (!(old || (privileged && !s.privileged))) continue;
      if (!least || compareEvictable(s.privileged, s.cachedSize, s.id, least) < 0) least = s;
    }
    // The newcomer (id 0 in Kafka's comparison) must be worth more than what it replaces.
    if (!least || compareEvictable(privileged, size, 0, least) < 0) return false;
    return this.evict(least);
  }

  private evict(session: FetchSession): true {
    this.sessions.delete(session.id);
    this.counters.evicted++;
    return true;
  }

  /** Counts a request by kind, for the stats. */
  countRequest(kind: "full" | "incremental" | "sessionless" | "error"): void {
    if (kind === "full") this.counters.fullRequests++;
    else if (kind === "incremental") this.counters.incrementalRequests++;
    else if (kind === "sessionless") this.counters.sessionlessRequests++;
    else this.counters.sessionErrors++;
  }

  countPartitionError(code: number): void {
    const e = this.counters.partitionErrors;
    e[code] = (e[code] ?? 0) + 1;
  }

  stats(): FetchSessionStats {
    let partitions = 0;
    for (const s of this.sessions.values()) partitions += s.partitions.size;
    return { ...this.counters, partitionErrors: { ...this.counters.partitionErrors }, sessions: this.sessions.size, partitions };
  }
}

/** Kafka's EvictableKey order: unprivileged before privileged, then fewer partitions, then lower id. */
function compareEvictable(privileged: boolean, size: number, id: number, other: FetchSession): number {
  if (privileged !== other.privileged) return privileged ? 1 : -1;
  if (size !== other.cachedSize) return size - other.cachedSize;
  return id - other.id;
}
