// OffsetDelete v0. Deletes committed offsets of partitions the group does not subscribe to: allowed for an
// Empty group, and for a consumer group for topics none of its members subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC otherwise); a non-consumer group with members is NON_EMPTY_GROUP. With an
// authorizer the group needs DELETE (GROUP_AUTHORIZATION_FAILED at the top level) and each topic READ
// (its partitions TOPIC_AUTHORIZATION_FAILED).
import { OffsetDelete } from "../../protocol/apis/47-offset-delete.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(OffsetDelete, (req, ctx) => {
  if (!ctx.authorize(AclOperation.DELETE, ResourceType.GROUP, req.groupId))
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
  const allowed = req.topics.map((t) => ctx.authorize(AclOperation.READ, ResourceType.TOPIC, t.name));
  const r = ctx.broker.groups.deleteOffsets(req.groupId, req.topics.filter((_, i) => allowed[i]));
  if (r.errorCode !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: r.errorCode, topics: [] };
  let next = 0;
  const topics = req.topics.map((t, i) =>
    allowed[i]
      ? r.topics[next++]!
      : { name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) },
  );
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, topics };
});
