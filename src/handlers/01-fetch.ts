// Fetch v4–v12. Long-poll: the answer waits up to max_wait_ms until min_bytes are available and is
// sent as soon as an append makes them so. Limits: partition_max_bytes per partition and max_bytes
// for the response, except that the first batch returned is always whole even if larger (KIP-74),
// so a consumer can never get stuck. Data is served as slices of the mapped log starting at the
// batch that contains the fetch offset. Empty results are empty bytes, never null.
// Fetch sessions (v7+, KIP-227) are not created: the response carries session id 0, which tells
// clients to keep sending full fetch requests; an incremental request for a session gets
// FETCH_SESSION_ID_NOT_FOUND. read_committed (isolation level 1) sees data only below the last stable
// offset (the first offset of the earliest open transaction, else the high watermark), with the aborted
// transactions overlapping what is returned (src/txn/read-committed.ts); every answer reports the LSO.
// Metrics: bytes and records out per topic, counted once on the answer actually sent (a walk over the
// batch headers of the slices, no record decoding).
// Authorization (with an authorizer): a consumer needs READ on each topic, a follower (replica id >= 0)
// CLUSTER_ACTION on the cluster; otherwise the partitions answer TOPIC_AUTHORIZATION_FAILED, checked
// before the topic's existence.
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ATTRIBUTES, BATCH_LENGTH, CONTROL_BIT, HEADER_SIZE, LOG_OVERHEAD, RECORD_COUNT } from "../../protocol/records/batch.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import type { Partition } from "../topics.ts";
import { committedView } from "../txn/read-committed.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler, type BrokerContext } from "./handler.ts";

type FetchResponse = ResponseOf<typeof Fetch>;
type TopicResponse = NonNullable<FetchResponse["responses"]>[number];
type PartitionData = NonNullable<NonNullable<FetchResponse["responses"]>[number]["partitions"]>[number];
const EMPTY = new Uint8Array(0);

export default handler(Fetch, async (req, ctx) => {
  const { broker, version } = ctx;
  if (version >= 7 && req.sessionId !== 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
  }
  const readCommitted = req.isolationLevel === 1;
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  // Topics this principal may not read; decided once, not on every pass of the long poll.
  let denied: Set<string> | null = null;
  if (ctx.authz.enabled) {
    const follower = req.replicaId >= 0;
    const clusterAction = follower && ctx.authorize(AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME);
    for (const t of req.topics)
      if (follower ? !clusterAction : !ctx.authorize(AclOperation.READ, ResourceType.TOPIC, t.topic)) (denied ??= new Set()).add(t.topic);
  }
  const watched: Partition[] = [];
  for (const t of req.topics)
    for (const p of t.partitions) {
      const part = denied?.has(t.topic) ? undefined : broker.topics.partition(t.topic, p.partition);
      if (part) watched.push(part);
    }

  for (;;) {
    let total = 0;
    let errors = false;
    let budget = req.maxBytes > 0 ? req.maxBytes : 0x7fffffff;
    const responses = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p): PartitionData => {
        if (denied?.has(t.topic)) {
          errors = true;
          return { partitionIndex: p.partition, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: null, records: EMPTY };
        }
        const part = broker.topics.partition(t.topic, p.partition);
        if (!part) {
          errors = true;
          return { partitionIndex: p.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: null, records: EMPTY };
        }
        const log = part.log;
        const hw = log.logEndOffset;
        const base = {
          partitionIndex: p.partition,
          highWatermark: hw,
          lastStableOffset: broker.txn.lastStableOffset(part),
          logStartOffset: log.logStartOffset,
          abortedTransactions: readCommitted ? [] : null,
          preferredReadReplica: -1,
        };
        const limit = Math.min(p.partitionMaxBytes, budget);
        let data = limit > 0 || total === 0 ? log.read(p.fetchOffset, Math.max(limit, 0), total === 0) : EMPTY;
        if (data === null) {
          errors = true;
          return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: EMPTY };
        }
        let abortedTransactions: { producerId: number; firstOffset: number }[] | null = base.abortedTransactions;
        if (readCommitted) ({ records: data, abortedTransactions } = committedView(broker.txn, part, p.fetchOffset, data, base.lastStableOffset));
        total += data.length;
        budget -= data.length;
        return { ...base, abortedTransactions, errorCode: ErrorCode.NONE, records: data };
      }),
    }));
    const now = Date.now();
    if (total >= req.minBytes || errors || now >= deadline || broker.isStopping) {
      countFetched(broker, responses);
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
    }
    await broker.waitForData(watched, deadline - now);
  }
});

/** BytesOut and MessagesOut of what is sent: batch headers only (record counts of data batches). */
function countFetched(broker: BrokerContext, responses: TopicResponse[]): void {
  const metrics = broker.metrics;
  const all = metrics.allTopics;
  for (let i = 0; i < responses.length; i++) {
    const t = responses[i]!;
    const partitions = t.partitions!;
    const stats = broker.topics.get(t.topic!) ? metrics.topic(t.topic!) : null;
    for (let j = 0; j < partitions.length; j++) {
      const p = partitions[j]!;
      all.fetchRequests++;
      if (stats) stats.fetchRequests++;
      if (p.errorCode !== ErrorCode.NONE) {
        all.failedFetchRequests++;
        if (stats) stats.failedFetchRequests++;
        continue;
      }
      const data = p.records as Uint8Array;
      if (data.length === 0 || !stats) continue;
      const messages = recordsIn(data);
      all.bytesOut += data.length;
      all.messagesOut += messages;
      stats.bytesOut += data.length;
      stats.messagesOut += messages;
    }
  }
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
