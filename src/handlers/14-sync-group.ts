// SyncGroup v0–v5. A long poll: followers wait for the leader's assignment (a Promise); the leader's own
// request completes the generation. Assignments are copied out of the request buffer and returned byte
// for byte. v5 checks the protocol type/name against the group's (INCONSISTENT_GROUP_PROTOCOL) and echoes
// them. In a consumer group (KIP-848) the coordinator, not a leader, assigns: SyncGroup returns the
// member's share of the server-side assignment at once.
import { SyncGroup } from "../../protocol/apis/14-sync-group.ts";
import type { SyncResult } from "../group/group.ts";
import { handler } from "./handler.ts";

export default handler(SyncGroup, (req, ctx) => {
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
