// Heartbeat v0–v4. Keeps a member alive for another session timeout; REBALANCE_IN_PROGRESS tells it to
// rejoin, ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID that it is out of date, FENCED_INSTANCE_ID (v3+) that
// another instance took its group.instance.id. Classic members of a consumer group (KIP-848) are told
// REBALANCE_IN_PROGRESS when their assignment must change.
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED).
import { Heartbeat } from "../../protocol/apis/12-heartbeat.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(Heartbeat, (req, ctx) => ({
  throttleTimeMs: 0,
  errorCode: ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId)
    ? ctx.broker.groups.heartbeat(req.groupId, req.generationId, req.memberId, req.groupInstanceId)
    : ErrorCode.GROUP_AUTHORIZATION_FAILED,
}));
