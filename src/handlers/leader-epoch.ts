// Leader-epoch fencing shared by the APIs that carry a requester's current leader epoch (Fetch v9+,
// ListOffsets v4+, OffsetForLeaderEpoch v2+), as Kafka's Partition.checkCurrentLeaderEpoch does it.
import { ErrorCode } from "../../protocol/errors.ts";
import type { Partition } from "../topics.ts";

/** -1 means the requester did not say; an older epoch is fenced, a newer one is not known here yet. */
export function checkCurrentLeaderEpoch(p: Partition, requested: number): number {
  if (requested === -1) return ErrorCode.NONE;
  const current = p.log.leaderEpoch;
  if (current > requested) return ErrorCode.FENCED_LEADER_EPOCH;
  if (current < requested) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}
