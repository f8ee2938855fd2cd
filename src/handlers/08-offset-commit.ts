// OffsetCommit v0–v9. Commits are checked against the group's generation and member (a "simple" commit —
// generation -1, empty member id — only while the group has no members), written to the durable offsets
// log and acknowledged per partition. v9 carries a consumer group member's epoch (KIP-848): a stale one
// gets STALE_MEMBER_EPOCH (UNKNOWN_MEMBER_ID before v9; a new-protocol member must use v9, else
// UNSUPPORTED_VERSION), and a generation for a group that does not exist GROUP_ID_NOT_FOUND (before v9:
// ILLEGAL_GENERATION). Unknown topics/partitions get UNKNOWN_TOPIC_OR_PARTITION, metadata
// over offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE (12). v1's per-partition commit timestamp and
// v2–v4's retention time are honoured (an explicit retention expires the offset at commit time +
// retention). With an authorizer the group needs READ (else every partition GROUP_AUTHORIZATION_FAILED)
// and each topic READ (its partitions TOPIC_AUTHORIZATION_FAILED, the others are still committed).
// Not served: v10+ (topic ids).
import { OffsetCommit } from "../../protocol/apis/08-offset-commit.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(OffsetCommit, (req, ctx) => {
  const every = (t: (typeof req.topics)[number], errorCode: number) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  });
  if (!ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId))
    return { throttleTimeMs: 0, topics: req.topics.map((t) => every(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)) };
  const allowed = req.topics.map((t) => ctx.authorize(AclOperation.READ, ResourceType.TOPIC, t.name));
  const topics = req.topics.filter((_, i) => allowed[i]);
  const committed =
    topics.length === 0
      ? []
      : ctx.broker.groups.commitOffsets({
          apiVersion: ctx.version,
          groupId: req.groupId,
          generationId: req.generationIdOrMemberEpoch,
          memberId: req.memberId,
          groupInstanceId: req.groupInstanceId,
          retentionTimeMs: req.retentionTimeMs,
          topics,
        });
  let next = 0;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t, i) => (allowed[i] ? committed[next++]! : every(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED))),
  };
});
