// OffsetFetch v0–v9. Returns committed offsets with their leader epoch (v5+) and commit metadata; a
// partition without a committed offset gets offset -1, metadata "" and no error. A null topic list (v2+)
// means every offset the group committed. v2–v7 carry a top-level error; v8 batches groups, each with
// its own error; v9 names the member of a consumer group (KIP-848), checked like Kafka does
// (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). requireStable (v7+): partitions with offsets pending in an open transaction answer
// UNSTABLE_OFFSET_COMMIT (see below).
import { OffsetFetch } from "../../protocol/apis/09-offset-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { FetchedTopic } from "../group/coordinator.ts";
import { handler } from "./handler.ts";

export default handler(OffsetFetch, (req, ctx) => {
  const groups = ctx.broker.groups;
  // requireStable (v7+): a partition whose offset is pending in an open transaction (TxnOffsetCommit,
  // src/txn) answers UNSTABLE_OFFSET_COMMIT with offset -1, as Kafka does; the client retries.
  const stable = <R extends { topics: FetchedTopic[] }>(groupId: string, r: R): R => {
    if (req.requireStable)
      for (const t of r.topics)
        for (const p of t.partitions)
          if (ctx.broker.txn.hasPendingOffsets(groupId, t.name, p.partitionIndex))
            Object.assign(p, { committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    return r;
  };
  if (ctx.version >= 8) {
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => {
        const r = stable(g.groupId, groups.fetchOffsets(g.groupId, g.topics, { memberId: g.memberId, memberEpoch: g.memberEpoch }));
        return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
      }),
    };
  }
  const r = stable(req.groupId, groups.fetchOffsets(req.groupId, req.topics));
  return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
});
