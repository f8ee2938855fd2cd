// SyncGroup v0–v5. A long poll: followers wait for the leader's assignment (a Promise); the leader's own
// request completes the generation. Assignments are copied out of the request buffer and returned byte
// for byte. v5 checks the protocol type/name against the group's (INCONSISTENT_GROUP_PROTOCOL) and echoes
// them. In a consumer group (KIP-848) the coordinator, not a leader, assigns: SyncGroup returns the
// member's share of the server-side assignment at once.
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED).
import { SyncGroup } from "../../protocol/apis/14-sync-group.ts";
import type { SyncResult } from "../group/group.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(SyncGroup, (req, ctx) => {
  if (!ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId))
    return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
  const out = ctx.broker.groups.syncGroup({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    protocolType: req.protocolType,
    protocolName: req.protocolName,
    assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment.slice() })),
  });
  const respond = (r: SyncResult) => ({
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    protocolType: r.protocolType,
    protocolName: r.protocolName,
    assignment: r.assignment,
  });
  return out instanceof Promise ? out.then(respond) : respond(out);
});
