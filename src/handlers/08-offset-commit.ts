// OffsetCommit v0–v9. Commits are checked against the group's generation and member (a "simple" commit —
// generation -1, empty member id — only while the group has no members), written to the durable offsets
// log and acknowledged per partition. v9 carries a consumer group member's epoch (KIP-848): a stale one
// gets STALE_MEMBER_EPOCH (UNKNOWN_MEMBER_ID before v9; a new-protocol member must use v9, else
// UNSUPPORTED_VERSION), and a generation for a group that does not exist GROUP_ID_NOT_FOUND (before v9:
// ILLEGAL_GENERATION). Unknown topics/partitions get UNKNOWN_TOPIC_OR_PARTITION, metadata
// over offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE (12). v1's per-partition commit timestamp and
// v2–v4's retention time are honoured (an explicit retention expires the offset at commit time +
// retention). Not served: v10+ (topic ids).
import { OffsetCommit } from "../../protocol/apis/08-offset-commit.ts";
import { handler } from "./handler.ts";

export default handler(OffsetCommit, (req, ctx) => ({
  throttleTimeMs: 0,
  topics: ctx.broker.groups.commitOffsets({
    apiVersion: ctx.version,
    groupId: req.groupId,
    generationId: req.generationIdOrMemberEpoch,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    retentionTimeMs: req.retentionTimeMs,
    topics: req.topics,
  }),
}));
