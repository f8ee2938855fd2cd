// OffsetFetch v0–v9. Returns committed offsets with their leader epoch (v5+) and commit metadata; a
// partition without a committed offset gets offset -1, metadata "" and no error. A null topic list (v2+)
// means every offset the group committed. v2–v7 carry a top-level error; v8 batches groups, each with
// its own error; v9 names the member of a consumer group (KIP-848), checked like Kafka does
// (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). requireStable (v7+): partitions with offsets pending in an open
// transaction answer UNSTABLE_OFFSET_COMMIT (see below). With an authorizer the group needs DESCRIBE
// (GROUP_AUTHORIZATION_FAILED: at the top level from v2, per group in v8, per partition before v2) and
// each topic DESCRIBE: a named topic otherwise answers TOPIC_AUTHORIZATION_FAILED per partition, and
// "all offsets" leaves it out.
import { OffsetFetch } from "../../protocol/apis/09-offset-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { FetchedTopic } from "../group/coordinator.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler, type RequestContext } from "./handler.ts";

type Wanted = { name: string; partitionIndexes: number[] }[] | null;

const failedTopic = (t: { name: string; partitionIndexes: number[] }, errorCode: number): FetchedTopic => ({
  name: t.name,
  partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode })),
});

/** One group's offsets as this principal may see them. */
function fetchFor(
  ctx: RequestContext,
  groupId: string,
  wanted: Wanted,
  requireStable: boolean,
  member?: { memberId: string | null; memberEpoch: number },
): { errorCode: number; topics: FetchedTopic[] } {
  const { groups, txn } = ctx.broker;
  if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
    // Before v2 there is no top-level error: every partition carries it.
    const topics = ctx.version < 2 ? (wanted ?? []).map((t) => failedTopic(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)) : [];
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics };
  }
  const mayDescribe = (topic: string, logIfDenied: boolean) => ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, topic, logIfDenied);
  const allowed = wanted?.map((t) => mayDescribe(t.name, true)) ?? null;
  const r = groups.fetchOffsets(groupId, wanted && wanted.filter((_, i) => allowed![i]), member);
  // A group-level refusal (v9: an unknown member, a stale epoch) comes without partitions.
  if (r.errorCode !== ErrorCode.NONE && r.topics.length === 0) return r;
  // requireStable (v7+): a partition whose offset is pending in an open transaction (TxnOffsetCommit,
  // src/txn) answers UNSTABLE_OFFSET_COMMIT with offset -1, as Kafka does; the client retries.
  if (requireStable)
    for (const t of r.topics)
      for (const p of t.partitions)
        if (txn.hasPendingOffsets(groupId, t.name, p.partitionIndex))
          Object.assign(p, { committedOffset: -1, committedLeaderEpoch: -1, metadata: "", errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
  if (wanted === null) return { errorCode: r.errorCode, topics: r.topics.filter((t) => mayDescribe(t.name, false)) };
  let next = 0;
  return {
    errorCode: r.errorCode,
    topics: wanted.map((t, i) => (allowed![i] ? r.topics[next++]! : failedTopic(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED))),
  };
}

export default handler(OffsetFetch, (req, ctx) => {
  if (ctx.version >= 8) {
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => {
        const r = fetchFor(ctx, g.groupId, g.topics, req.requireStable, { memberId: g.memberId, memberEpoch: g.memberEpoch });
        return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
      }),
    };
  }
  const r = fetchFor(ctx, req.groupId, req.topics, req.requireStable);
  return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode };
});
