// OffsetCommit v0–v8. Commits are checked against the group's generation and member (a "simple" commit —
// generation -1, empty member id — only while the group has no members), written to the durable offsets
// log and acknowledged per partition. Unknown topics/partitions get UNKNOWN_TOPIC_OR_PARTITION, metadata
// over offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE (12). v1's per-partition commit timestamp and
// v2–v4's retention time are honoured (an explicit retention expires the offset at commit time +
// retention). Not implemented: v9+ (member epochs of the new consumer protocol).
import { OffsetCommit } from "../../protocol/apis/08-offset-commit.ts";
import { handler } from "./handler.ts";

export default handler(OffsetCommit, (req, ctx) => ({
  throttleTimeMs: 0,
  topics: ctx.broker.groups.commitOffsets({
    groupId: req.groupId,
    generationId: req.generationIdOrMemberEpoch,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    retentionTimeMs: req.retentionTimeMs,
    topics: req.topics,
  }),
}));
