// ListOffsets v0–v7: earliest (-2), latest (-1; the last stable offset under read_committed), a
// timestamp (the first record at or after it, found through the time index and then inside its
// batch), and max timestamp (-3, v7, KIP-734). v0's old-style answer is a one-element offset list.
// Under read_committed (v2+) a timestamp lookup answers only offsets below the last stable offset, as
// Kafka's fetchOffsetForTimestamp does. A batch whose records cannot be read answers from its header.
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { BASE_OFFSET, LAST_OFFSET_DELTA, MAX_TIMESTAMP as MAX_TIMESTAMP_AT, dataView, readInt64 } from "../../protocol/records/batch.ts";
import { findMaxTimestampRecord, findRecordOffsetByTimestamp, type OffsetAndTimestamp } from "../../protocol/records/records.ts";
import { handler } from "./handler.ts";

/**
 * A lookup inside one batch; when its records cannot be read (the log holds whatever CRC-valid batch a
 * producer sent), the batch header answers instead: its first offset for a timestamp lookup, its last
 * for the max timestamp, with the batch's max timestamp.
 */
function lookupInBatch(batch: Uint8Array, find: (b: Uint8Array) => OffsetAndTimestamp | null, which: "first" | "last"): OffsetAndTimestamp | null {
  try {
    return find(batch);
  } catch {
    const v = dataView(batch);
    const base = readInt64(v, BASE_OFFSET);
    return { offset: which === "first" ? base : base + v.getInt32(LAST_OFFSET_DELTA), timestamp: readInt64(v, MAX_TIMESTAMP_AT) };
  }
}

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

export default handler(ListOffsets, (req, ctx) => {
  const { broker, version } = ctx;
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      const part = broker.topics.partition(t.name, p.partitionIndex);
      const answer = (offset: number, timestamp: number, errorCode: number = ErrorCode.NONE) => ({
        partitionIndex: p.partitionIndex,
        errorCode,
        oldStyleOffsets: offset >= 0 ? [offset] : [],
        timestamp,
        offset,
        leaderEpoch: errorCode === ErrorCode.NONE ? 0 : -1,
      });
      if (!part) return answer(-1, -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const log = part.log;
      const readCommitted = req.isolationLevel === 1;
      switch (p.timestamp) {
        case LATEST:
          return answer(readCommitted ? broker.txn.lastStableOffset(part) : log.logEndOffset, -1);
        case EARLIEST:
          return answer(log.logStartOffset, -1);
        case MAX_TIMESTAMP: {
          if (version < 7) return answer(-1, -1, ErrorCode.UNSUPPORTED_VERSION);
          const ref = log.maxTimestampBatch();
          const found = ref ? lookupInBatch(ref.batch, findMaxTimestampRecord, "last") : null;
          return found ? answer(found.offset, found.timestamp) : answer(-1, -1);
        }
        default: {
          if (p.timestamp < 0) return answer(-1, -1, ErrorCode.INVALID_REQUEST);
          const ref = log.offsetForTimestamp(p.timestamp);
          const found = ref ? lookupInBatch(ref.batch, (b) => findRecordOffsetByTimestamp(b, p.timestamp), "first") : null;
          // A batch can straddle the log start offset (DeleteRecords); never answer below it.
          if (found && readCommitted && found.offset >= broker.txn.lastStableOffset(part)) return answer(-1, -1);
          return found ? answer(Math.max(found.offset, log.logStartOffset), found.timestamp) : answer(-1, -1);
        }
      }
    }),
  }));
  return { throttleTimeMs: 0, topics };
});
