// ListOffsets v0–v10: earliest (-2), latest (-1; the last stable offset under read_committed), a
// timestamp (the first record at or after it, found through the time index and then inside its
// batch), max timestamp (-3, v7, KIP-734), earliest local (-4, v8: the log start offset, Brook keeps
// no remote tier) and latest tiered (-5, v9: -1, nothing is tiered). v0's old-style answer is a
// one-element offset list. Under read_committed (v2+) a timestamp lookup answers only offsets below the
// last stable offset, as Kafka's fetchOffsetForTimestamp does. v4+ answers carry the leader epoch as
// Kafka finds it (the current one for latest, the epoch history for earliest, the found batch's stamp
// otherwise) and fence a stale current leader epoch. A batch whose records cannot be read answers from
// its header. v10's timeout only bounds remote lookups. With an
// authorizer each topic needs DESCRIBE (TOPIC_AUTHORIZATION_FAILED per partition, before the existence check).
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { BASE_OFFSET, LAST_OFFSET_DELTA, MAX_TIMESTAMP as MAX_TIMESTAMP_AT, PARTITION_LEADER_EPOCH, dataView, readInt64 } from "../../protocol/records/batch.ts";
import { findMaxTimestampRecord, findRecordOffsetByTimestamp, type OffsetAndTimestamp } from "../../protocol/records/records.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";
import { checkCurrentLeaderEpoch } from "./leader-epoch.ts";

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
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

/** The partition leader epoch stamped in a stored batch (-1 where none was). */
const stampedEpoch = (batch: Uint8Array) => Math.max(-1, dataView(batch).getInt32(PARTITION_LEADER_EPOCH));

export default handler(ListOffsets, (req, ctx) => {
  const { broker, version } = ctx;
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t.name))
        return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
      const part = broker.topics.partition(t.name, p.partitionIndex);
      const answer = (offset: number, timestamp: number, leaderEpoch: number, errorCode: number = ErrorCode.NONE) => ({
        partitionIndex: p.partitionIndex,
        errorCode,
        oldStyleOffsets: offset >= 0 ? [offset] : [],
        timestamp,
        offset,
        leaderEpoch: errorCode === ErrorCode.NONE ? leaderEpoch : -1,
      });
      const fail = (errorCode: number) => answer(-1, -1, -1, errorCode);
      if (!part) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const fenced = checkCurrentLeaderEpoch(part, p.currentLeaderEpoch);
      if (fenced !== ErrorCode.NONE) return fail(fenced);
      const log = part.log;
      // The epoch of the log start offset, when the history reaches back that far (Kafka's check). The
      // history is loaded only here: loading it the first time may write it (the leadership taken at
      // open), an fsync per partition that a LATEST lookup of 10,000 partitions must not wait for.
      const startEpoch = () => {
        const history = log.epochHistory;
        const epoch = history.epochForOffset(log.logStartOffset);
        return epoch >= 0 && history.earliest!.startOffset <= log.logStartOffset ? epoch : -1;
      };
      const readCommitted = req.isolationLevel === 1;
      switch (p.timestamp) {
        case LATEST:
          return answer(readCommitted ? broker.txn.lastStableOffset(part) : log.logEndOffset, -1, log.leaderEpoch);
        case EARLIEST:
          return answer(log.logStartOffset, -1, startEpoch());
        case MAX_TIMESTAMP: {
          if (version < 7) return fail(ErrorCode.UNSUPPORTED_VERSION);
          const ref = log.maxTimestampBatch();
          const found = ref ? lookupInBatch(ref.batch, findMaxTimestampRecord, "last") : null;
          return found ? answer(found.offset, found.timestamp, stampedEpoch(ref!.batch)) : answer(-1, -1, -1);
        }
        case EARLIEST_LOCAL:
          if (version < 8) return fail(ErrorCode.UNSUPPORTED_VERSION);
          return answer(log.logStartOffset, -1, startEpoch());
        case LATEST_TIERED:
          if (version < 9) return fail(ErrorCode.UNSUPPORTED_VERSION);
          return answer(-1, -1, -1);
        default: {
          if (p.timestamp < 0) return fail(ErrorCode.INVALID_REQUEST);
          const ref = log.offsetForTimestamp(p.timestamp);
          const found = ref ? lookupInBatch(ref.batch, (b) => findRecordOffsetByTimestamp(b, p.timestamp), "first") : null;
          // A batch can straddle the log start offset (DeleteRecords); never answer below it.
          if (found && readCommitted && found.offset >= broker.txn.lastStableOffset(part)) return answer(-1, -1, -1);
          return found ? answer(Math.max(found.offset, log.logStartOffset), found.timestamp, stampedEpoch(ref!.batch)) : answer(-1, -1, -1);
        }
      }
    }),
  }));
  return { throttleTimeMs: 0, topics };
});
