// Fetch v4–v17. Long-poll: the answer waits up to max_wait_ms until min_bytes are available and is
// sent as soon as an append makes them so (or at once when a partition has an error from reading it,
// a diverging epoch, or max_wait_ms is 0). Limits: partition_max_bytes per partition and max_bytes
// for the response, except that the first batch returned is always whole even if larger (KIP-74),
// so a consumer can never get stuck. Data is served as slices of the mapped log starting at the
// batch that contains the fetch offset. Empty results are empty bytes, never null.
//
// Fetch sessions (v7+, KIP-227; src/fetch-sessions.ts): epoch 0 asks for a session, which the answer
// names when the cache has room; later epochs list only changes and forgotten partitions and get only
// the partitions with something new; FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH and
// FETCH_SESSION_TOPIC_ID_ERROR (a session created with topic ids used by a request without, or the
// reverse) as Kafka answers them.
//
// Topic ids (v13+): topics are named by id; an id no topic has is UNKNOWN_TOPIC_ID; a session that
// resolved an id to a name which now belongs to a re-created topic (another id) gets
// INCONSISTENT_TOPIC_ID, as in Kafka. Leader epochs: a current leader epoch older than the partition's is
// FENCED_LEADER_EPOCH (v16+ answers name the current leader and its endpoint), a newer one
// UNKNOWN_LEADER_EPOCH; a last fetched epoch (v12+) that the log's epoch history contradicts gets the
// diverging epoch (KIP-595/KIP-320 truncation detection). Errors carry -1 offsets, as Kafka's do.
//
// A partition whose segment cannot be read (a file changed outside Brook: missing, or shorter than the
// log recorded) answers KAFKA_STORAGE_ERROR, logged once a minute; the other partitions are served.
//
// read_committed (isolation level 1) sees data only below the last stable offset (the first offset of
// the earliest open transaction, else the high watermark), with the aborted transactions overlapping
// what is returned (src/txn/read-committed.ts); every answer reports the LSO. Brook has no followers:
// the replica id / replica state are not used and every session is a consumer's.
//
// Metrics: bytes and records out per topic, counted once on the answer actually sent (a walk over the
// batch headers of the slices, no record decoding).
// Authorization (with an authorizer): a consumer needs READ on each topic, a follower (replica id >= 0)
// CLUSTER_ACTION on the cluster; otherwise the partitions answer TOPIC_AUTHORIZATION_FAILED, checked
// before the topic's existence (after the id is resolved, for topic ids), and again on every request of
// a session, as Kafka does.
//
// The broker's fetch.max.bytes caps max_bytes (Kafka's bound on one response).
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ATTRIBUTES, BATCH_LENGTH, CONTROL_BIT, HEADER_SIZE, LOG_OVERHEAD, RECORD_COUNT } from "../../protocol/records/batch.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { FINAL_EPOCH, INITIAL_EPOCH, nextEpoch, type CachedPartition, type FetchSession } from "../fetch-sessions.ts";
import type { Partition } from "../topics.ts";
import { committedView } from "../txn/read-committed.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler, type BrokerContext } from "./handler.ts";
import { checkCurrentLeaderEpoch } from "./leader-epoch.ts";
import { StorageError } from "../log/storage-error.ts";

type FetchResponse = ResponseOf<typeof Fetch>;
type TopicData = NonNullable<FetchResponse["responses"]>[number];
type PartitionData = NonNullable<TopicData["partitions"]>[number];
const EMPTY = new Uint8Array(0);
const ZERO_ID = "0".repeat(32);
/** Shared by every read_committed answer without data (never modified). */
const NO_ABORTED_TRANSACTIONS: { producerId: number; firstOffset: number }[] = [];

/** Kafka's answer for a partition it could not read: the error, -1 offsets, no records. */
const storageErrorLoggedAt = new WeakMap<Partition, number>();

/** Logs a partition's storage error, once a minute at most (a consumer retries it in a loop). */
function reportStorageError(broker: BrokerContext, part: Partition, e: StorageError): void {
  const now = Date.now();
  if (now - (storageErrorLoggedAt.get(part) ?? -Infinity) < 60_000) return;
  storageErrorLoggedAt.set(part, now);
  broker.log.error(`fetch from ${part.topic}-${part.index} answered KAFKA_STORAGE_ERROR: ${e.message}`);
}

function errorData(partitionIndex: number, errorCode: number): PartitionData {
  return { partitionIndex, errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: null, preferredReadReplica: -1, records: EMPTY };
}

export default handler(Fetch, async (req, ctx) => {
  const { broker, version } = ctx;
  const cache = broker.fetchSessions;
  const usesTopicIds = version >= 13;

  // The partitions this request names, with their parameters (also what a new session keeps).
  const requested: CachedPartition[] = [];
  for (const t of req.topics) {
    const topicId = usesTopicIds ? t.topicId : ZERO_ID;
    const topic = usesTopicIds ? (broker.topics.byId(topicId)?.name ?? null) : t.topic;
    for (const p of t.partitions)
      requested.push({
        topicId,
        topic,
        partition: p.partition,
        maxBytes: p.partitionMaxBytes,
        fetchOffset: p.fetchOffset,
        currentLeaderEpoch: p.currentLeaderEpoch,
        lastFetchedEpoch: p.lastFetchedEpoch,
        highWatermark: -1,
        logStartOffset: -1,
      });
  }

  // Which kind of fetch this is (Kafka's FetchManager.newContext).
  let session: FetchSession | null = null;
  let kind: "sessionless" | "full" | "incremental";
  if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
    if (req.sessionId !== 0 && cache.remove(req.sessionId)) broker.log.debug(`fetch session ${req.sessionId} closed by ${ctx.peer}`);
    kind = req.sessionEpoch === FINAL_EPOCH ? "sessionless" : "full";
  } else {
    const s = cache.get(req.sessionId);
    const error = !s
      ? ErrorCode.FETCH_SESSION_ID_NOT_FOUND
      : s.epoch !== req.sessionEpoch
        ? ErrorCode.INVALID_FETCH_SESSION_EPOCH
        : s.usesTopicIds !== usesTopicIds
          ? ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR
          : ErrorCode.NONE;
    if (error !== ErrorCode.NONE) {
      cache.countRequest("error");
      broker.log.debug(`fetch session ${req.sessionId} epoch ${req.sessionEpoch} from ${ctx.peer}: error ${error}${s ? ` (session epoch ${s.epoch})` : ""}`);
      return { throttleTimeMs: 0, errorCode: error, sessionId: 0, responses: [] };
    }
    const forgotten = (req.forgottenTopicsData ?? []).flatMap((t) => {
      const topicId = usesTopicIds ? t.topicId : ZERO_ID;
      return t.partitions.map((partition) => ({ topicId, topic: usesTopicIds ? null : t.topic, partition }));
    });
    s!.update(requested, forgotten);
    if (s!.partitions.size === 0) {
      cache.remove(s!.id);
      kind = "sessionless";
    } else {
      cache.touch(s!);
      s!.epoch = nextEpoch(s!.epoch);
      session = s!;
      kind = "incremental";
    }
  }
  cache.countRequest(kind);

  // What to read: the request's partitions, or every partition of the session in its order.
  const reads = session ? [...session.partitions.values()] : requested;
  const parts: (Partition | undefined)[] = new Array(reads.length);
  /** Looks partitions up again: all of them first, later only those deleted or not there before. */
  const resolve = (all: boolean) => {
    for (let i = 0; i < reads.length; i++) {
      const known = parts[i];
      if (!all && known && !known.log.isClosed) continue;
      const r = reads[i]!;
      if (r.topic === null && r.topicId !== ZERO_ID) r.topic = broker.topics.byId(r.topicId)?.name ?? null;
      parts[i] = r.topic === null ? undefined : broker.topics.partition(r.topic, r.partition);
    }
  };
  resolve(true);

  // Topics this principal may not read, decided once per request (a session's partitions are checked
  // again on each of its requests).
  let mayRead: (topic: string) => boolean = () => true;
  if (ctx.authz.enabled) {
    const decided = new Map<string, boolean>();
    const follower = req.replicaId >= 0;
    const clusterAction = follower && ctx.authorize(AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME);
    mayRead = (topic) => {
      let ok = decided.get(topic);
      if (ok === undefined) decided.set(topic, (ok = follower ? clusterAction : ctx.authorize(AclOperation.READ, ResourceType.TOPIC, topic)));
      return ok;
    };
  }
  const watched = parts.filter((p, i): p is Partition => p !== undefined && mayRead(reads[i]!.topic!));

  const readCommitted = req.isolationLevel === 1;
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  let results: PartitionData[];
  for (;;) {
    results = new Array(reads.length);
    let total = 0;
    let respondNow = false; // an error from reading a partition, or a diverging epoch
    // fetch.max.bytes caps what one response may hold, whatever the client asks for (as in Kafka).
    let budget = Math.min(req.maxBytes > 0 ? req.maxBytes : 0x7fffffff, broker.config.get("fetch.max.bytes") as number);
    for (let i = 0; i < reads.length; i++) {
      const r = reads[i]!;
      const part = parts[i];
      if (r.topic !== null && !mayRead(r.topic)) {
        results[i] = errorData(r.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        respondNow = true;
        continue;
      }
      if (!part) {
        results[i] = errorData(r.partition, r.topic === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        continue;
      }
      if (r.topicId !== ZERO_ID && part.topicId !== r.topicId) {
        results[i] = errorData(r.partition, ErrorCode.INCONSISTENT_TOPIC_ID);
        respondNow = true;
        continue;
      }
      const fenced = checkCurrentLeaderEpoch(part, r.currentLeaderEpoch);
      if (fenced !== ErrorCode.NONE) {
        results[i] = errorData(r.partition, fenced);
        respondNow = true;
        continue;
      }
      const log = part.log;
      const hw = log.logEndOffset;
      const logStartOffset = log.logStartOffset;
      const lastStableOffset = broker.txn.lastStableOffset(part);
      if (r.lastFetchedEpoch >= 0 && (r.lastFetchedEpoch !== log.leaderEpoch || r.fetchOffset > hw)) {
        // Kafka's Partition.readRecords: where did the fetcher's last epoch end on this log? (A fetcher in
        // the current epoch, at or below the log end, cannot have diverged: the common case skips this.)
        const [epoch, endOffset] = log.epochHistory.endOffsetFor(r.lastFetchedEpoch, hw);
        if (epoch < 0 || endOffset < 0 || r.fetchOffset < logStartOffset) {
          results[i] = errorData(r.partition, ErrorCode.OFFSET_OUT_OF_RANGE);
          respondNow = true;
          continue;
        }
        if (epoch < r.lastFetchedEpoch || endOffset < r.fetchOffset) {
          results[i] = {
            partitionIndex: r.partition, errorCode: ErrorCode.NONE, highWatermark: hw, lastStableOffset, logStartOffset,
            divergingEpoch: { epoch, endOffset }, abortedTransactions: readCommitted ? NO_ABORTED_TRANSACTIONS : null, preferredReadReplica: -1, records: EMPTY,
          };
          respondNow = true;
          continue;
        }
      }
      const limit = Math.min(r.maxBytes, budget);
      let data: Uint8Array | null;
      try {
        data = r.fetchOffset === hw ? EMPTY : limit > 0 || total === 0 ? log.read(r.fetchOffset, Math.max(limit, 0), total === 0) : EMPTY;
      } catch (e) {
        // A segment that cannot be read (changed outside Brook): this partition's error, as in Kafka.
        if (!(e instanceof StorageError)) throw e;
        reportStorageError(broker, part, e);
        results[i] = errorData(r.partition, ErrorCode.KAFKA_STORAGE_ERROR);
        respondNow = true;
        continue;
      }
      if (data === null) {
        results[i] = errorData(r.partition, ErrorCode.OFFSET_OUT_OF_RANGE);
        respondNow = true;
        continue;
      }
      let abortedTransactions: { producerId: number; firstOffset: number }[] | null = null;
      if (readCommitted) {
        if (data.length === 0) abortedTransactions = NO_ABORTED_TRANSACTIONS;
        else ({ records: data, abortedTransactions } = committedView(broker.txn, part, r.fetchOffset, data, lastStableOffset));
      }
      total += data.length;
      budget -= data.length;
      results[i] = { partitionIndex: r.partition, errorCode: ErrorCode.NONE, highWatermark: hw, lastStableOffset, logStartOffset, abortedTransactions, preferredReadReplica: -1, records: data };
    }
    const now = Date.now();
    if (req.maxWaitMs <= 0 || watched.length === 0 || total >= req.minBytes || respondNow || now >= deadline || broker.isStopping) break;
    await broker.waitForData(watched, deadline - now);
    resolve(false); // topics may have been deleted or created while this fetch waited
  }

  // Which partitions the answer carries, and the session's new state.
  let sessionId = 0;
  let include: Uint8Array | null = null;
  if (kind === "full") {
    const created = cache.maybeCreate(false, usesTopicIds, requested.length);
    if (created) {
      for (let i = 0; i < requested.length; i++) {
        const r = requested[i]!;
        r.highWatermark = results[i]!.highWatermark!;
        r.logStartOffset = results[i]!.logStartOffset!;
        created.partitions.set(created.key(r.topicId, r.topic, r.partition), r);
      }
      cache.touch(created);
      sessionId = created.id;
      broker.log.debug(`fetch session ${created.id} created for ${ctx.peer} with ${created.partitions.size} partition(s)`);
    }
  } else if (session) {
    // A request of the same session answered meanwhile (a duplicate) moved the epoch on.
    if (session.epoch !== nextEpoch(req.sessionEpoch)) {
      broker.log.info(`fetch session ${session.id}: expected epoch ${nextEpoch(req.sessionEpoch)}, found ${session.epoch}; possible duplicate request from ${ctx.peer}`);
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: session.id, responses: [] };
    }
    sessionId = session.id;
    include = new Uint8Array(reads.length);
    for (let i = 0; i < reads.length; i++) {
      const cached = reads[i]!;
      const data = results[i]!;
      const hasRecords = (data.records as Uint8Array).length > 0;
      let respond = hasRecords || data.divergingEpoch !== undefined;
      if (cached.highWatermark !== data.highWatermark) {
        respond = true;
        cached.highWatermark = data.highWatermark!;
      }
      if (cached.logStartOffset !== data.logStartOffset) {
        respond = true;
        cached.logStartOffset = data.logStartOffset!;
      }
      if (data.errorCode !== ErrorCode.NONE) {
        respond = true;
        cached.highWatermark = -1; // so the partition is sent again once the error is gone
      }
      if (!respond) continue;
      include[i] = 1;
      if (hasRecords) {
        // Round robin: partitions that just returned data go to the back of the session.
        const key = session.key(cached.topicId, cached.topic, cached.partition);
        session.partitions.delete(key);
        session.partitions.set(key, cached);
      }
    }
  }

  // Group consecutive partitions of one topic, as Kafka's FetchResponse does.
  const responses: TopicData[] = [];
  let current: TopicData | null = null;
  let currentKey: string | null = null;
  let fenced = false;
  for (let i = 0; i < reads.length; i++) {
    if (include && include[i] === 0) continue;
    const r = reads[i]!;
    const data = results[i]!;
    countFetched(broker, r.topic, data);
    if (data.errorCode !== ErrorCode.NONE) {
      cache.countPartitionError(data.errorCode!);
      if (data.errorCode === ErrorCode.FENCED_LEADER_EPOCH && version >= 16) {
        data.currentLeader = { leaderId: broker.nodeId, leaderEpoch: parts[i]!.log.leaderEpoch };
        fenced = true;
      }
    }
    const key = usesTopicIds ? r.topicId : r.topic!;
    if (key !== currentKey) {
      current = usesTopicIds ? { topicId: r.topicId, partitions: [] } : { topic: r.topic!, partitions: [] };
      currentKey = key;
      responses.push(current);
    }
    current!.partitions!.push(data);
  }
  const nodeEndpoints = fenced ? [{ nodeId: broker.nodeId, host: ctx.listener.advertisedHost, port: ctx.listener.advertisedPort, rack: null }] : undefined;
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId, responses, nodeEndpoints };
});

/** BytesOut and MessagesOut of what is sent: batch headers only (record counts of data batches). */
function countFetched(broker: BrokerContext, topic: string | null, p: PartitionData): void {
  const metrics = broker.metrics;
  const all = metrics.allTopics;
  const stats = topic !== null && broker.topics.get(topic) ? metrics.topic(topic) : null;
  all.fetchRequests++;
  if (stats) stats.fetchRequests++;
  if (p.errorCode !== ErrorCode.NONE) {
    all.failedFetchRequests++;
    if (stats) stats.failedFetchRequests++;
    return;
  }
  const data = p.records as Uint8Array;
  if (data.length === 0 || !stats) return;
  const messages = recordsIn(data);
  all.bytesOut += data.length;
  all.messagesOut += messages;
  stats.bytesOut += data.length;
  stats.messagesOut += messages;
}

/** Records in the data batches of a slice of whole batches (control batches hold markers, not messages). */
function recordsIn(d: Uint8Array): number {
  let n = 0;
  for (let pos = 0; pos + HEADER_SIZE <= d.length; ) {
    if ((d[pos + ATTRIBUTES + 1]! & CONTROL_BIT) === 0)
      n += ((d[pos + RECORD_COUNT]! << 24) | (d[pos + RECORD_COUNT + 1]! << 16) | (d[pos + RECORD_COUNT + 2]! << 8) | d[pos + RECORD_COUNT + 3]!) >>> 0;
    const size = (((d[pos + BATCH_LENGTH]! << 24) | (d[pos + BATCH_LENGTH + 1]! << 16) | (d[pos + BATCH_LENGTH + 2]! << 8) | d[pos + BATCH_LENGTH + 3]!) | 0) + LOG_OVERHEAD;
    if (size < HEADER_SIZE) break;
    pos += size;
  }
  return n;
}
