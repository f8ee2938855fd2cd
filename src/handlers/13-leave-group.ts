// LeaveGroup v0–v5. v0–v2 name one member and carry its error at the top level (as Kafka's response
// does for those versions); v3+ batch members (a static member may leave by group.instance.id alone)
// and answer per member. The leave reason (v5) goes to the log. In a consumer group (KIP-848) members of
// either protocol can be removed this way.
import { LeaveGroup } from "../../protocol/apis/13-leave-group.ts";
import { handler } from "./handler.ts";

export default handler(LeaveGroup, (req, ctx) => {
  const leaving = ctx.version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
  const r = ctx.broker.groups.leaveGroup(req.groupId, leaving);
  if (ctx.version >= 3) return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
  const memberError = r.members.find((m) => m.errorCode !== 0)?.errorCode ?? 0;
  return { throttleTimeMs: 0, errorCode: r.errorCode !== 0 ? r.errorCode : memberError };
});
