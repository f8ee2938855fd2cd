// Fetch v4–v12. Long-poll: the answer waits up to max_wait_ms until min_bytes are available and is
// sent as soon as an append makes them so. Limits: partition_max_bytes per partition and max_bytes
// for the response, except that the first batch returned is always whole even if larger (KIP-74),
// so a consumer can never get stuck. Data is served as slices of the mapped log starting at the
// batch that contains the fetch offset. Empty results are empty bytes, never null.
// The broker's fetch.max.bytes caps max_bytes (Kafka's bound on one response).
// Fetch sessions (v7+, KIP-227) are not created: the response carries session id 0, which tells
// clients to keep sending full fetch requests; an incremental request for a session gets
// FETCH_SESSION_ID_NOT_FOUND. read_committed (isolation level 1) sees data only below the last stable
// offset (the first offset of the earliest open transaction, else the high watermark), with the aborted
// transactions overlapping what is returned (src/txn/read-committed.ts); every answer reports the LSO.
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import type { Partition } from "../topics.ts";
import { committedView } from "../txn/read-committed.ts";
import { handler } from "./handler.ts";

type FetchResponse = ResponseOf<typeof Fetch>;
type PartitionData = NonNullable<NonNullable<FetchResponse["responses"]>[number]["partitions"]>[number];
const EMPTY = new Uint8Array(0);

export default handler(Fetch, async (req, ctx) => {
  const { broker, version } = ctx;
  if (version >= 7 && req.sessionId !== 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
  }
  const readCommitted = req.isolationLevel === 1;
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  const watched: Partition[] = [];
  for (const t of req.topics)
    for (const p of t.partitions) {
      const part = broker.topics.partition(t.topic, p.partition);
      if (part) watched.push(part);
    }

  for (;;) {
    let total = 0;
    let errors = false;
    // fetch.max.bytes caps what one response may hold, whatever the client asks for (as in Kafka).
    let budget = Math.min(req.maxBytes > 0 ? req.maxBytes : 0x7fffffff, broker.config.get("fetch.max.bytes") as number);
    const responses = req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p): PartitionData => {
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
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
    }
    await broker.waitForData(watched, deadline - now);
  }
});
