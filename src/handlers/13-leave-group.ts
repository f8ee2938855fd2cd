// LeaveGroup v0–v5. v0–v2 name one member and carry its error at the top level (as Kafka's response
// does for those versions); v3+ batch members (a static member may leave by group.instance.id alone)
// and answer per member. The leave reason (v5) goes to the log. In a consumer group (KIP-848) members of
// either protocol can be removed this way.
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED at the top level, no members).
import { LeaveGroup } from "../../protocol/apis/13-leave-group.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(LeaveGroup, (req, ctx) => {
  if (!ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId))
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
  const leaving = ctx.version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
  const r = ctx.broker.groups.leaveGroup(req.groupId, leaving);
  if (ctx.version >= 3) return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
  const memberError = r.members.find((m) => m.errorCode !== 0)?.errorCode ?? 0;
  return { throttleTimeMs: 0, errorCode: r.errorCode !== 0 ? r.errorCode : memberError };
});
