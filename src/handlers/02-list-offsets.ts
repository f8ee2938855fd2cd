// ListOffsets v0–v7: earliest (-2), latest (-1; the last stable offset under read_committed), a
// timestamp (the first record at or after it, found through the time index and then inside its
// batch), and max timestamp (-3, v7, KIP-734). v0's old-style answer is a one-element offset list.
// Under read_committed (v2+) a timestamp lookup answers only offsets below the last stable offset, as
// Kafka's fetchOffsetForTimestamp does. With an authorizer each topic needs DESCRIBE
// (TOPIC_AUTHORIZATION_FAILED per partition, before the existence check).
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { findMaxTimestampRecord, findRecordOffsetByTimestamp } from "../../protocol/records/records.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

export default handler(ListOffsets, (req, ctx) => {
  const { broker, version } = ctx;
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t.name))
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
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
          const found = ref ? findMaxTimestampRecord(ref.batch) : null;
          return found ? answer(found.offset, found.timestamp) : answer(-1, -1);
        }
        default: {
          if (p.timestamp < 0) return answer(-1, -1, ErrorCode.INVALID_REQUEST);
          const ref = log.offsetForTimestamp(p.timestamp);
          const found = ref ? findRecordOffsetByTimestamp(ref.batch, p.timestamp) : null;
          // A batch can straddle the log start offset (DeleteRecords); never answer below it.
          if (found && readCommitted && found.offset >= broker.txn.lastStableOffset(part)) return answer(-1, -1);
          return found ? answer(Math.max(found.offset, log.logStartOffset), found.timestamp) : answer(-1, -1);
        }
      }
    }),
  }));
  return { throttleTimeMs: 0, topics };
});
