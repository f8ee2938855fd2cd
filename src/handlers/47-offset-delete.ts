// OffsetDelete v0. Deletes committed offsets of partitions the group does not subscribe to: allowed for an
// Empty group, and for a consumer group for topics none of its members subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC otherwise); a non-consumer group with members is NON_EMPTY_GROUP.
import { OffsetDelete } from "../../protocol/apis/47-offset-delete.ts";
import { handler } from "./handler.ts";

export default handler(OffsetDelete, (req, ctx) => {
  const r = ctx.broker.groups.deleteOffsets(req.groupId, req.topics);
  return { throttleTimeMs: 0, errorCode: r.errorCode, topics: r.topics };
});
