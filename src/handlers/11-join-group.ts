// JoinGroup v0–v9. A long poll: the response comes when the rebalance completes (a Promise), or at once
// for errors and for a member that rejoins a Stable group unchanged. v0 has no rebalance timeout (the
// session timeout stands in, as in Kafka); v4+ dynamic members first get MEMBER_ID_REQUIRED (79) with a
// member id to rejoin with (KIP-394); v5+ static membership; v7+ echoes the protocol type. Protocol
// metadata is copied out of the request buffer and kept opaque. skipAssignment (v9) is always false:
// the leader assigns. The join reason (v8) goes to the log. A consumer group (KIP-848) with members
// answers at once, from its server-side assignment: the member's epoch as the generation, its first
// protocol, no leader (src/group/classic-members.ts).
// With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED).
import { JoinGroup } from "../../protocol/apis/11-join-group.ts";
import type { JoinResult } from "../group/group.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(JoinGroup, (req, ctx) => {
  const v = ctx.version;
  if (!ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      generationId: -1,
      protocolType: null,
      protocolName: v >= 7 ? null : "",
      leader: "",
      skipAssignment: false,
      memberId: "",
      members: [],
    };
  const out = ctx.broker.groups.joinGroup({
    groupId: req.groupId,
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: v === 0 || req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
    protocolType: req.protocolType,
    protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata.slice() })),
    clientId: ctx.header.clientId ?? "",
    clientHost: `/${ctx.peer}`,
    requireKnownMemberId: v >= 4 && req.groupInstanceId === null,
    reason: req.reason,
  });
  const respond = (r: JoinResult) => ({
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: r.protocolType,
    protocolName: r.protocolName ?? (v >= 7 ? null : ""),
    leader: r.leader,
    skipAssignment: false,
    memberId: r.memberId,
    members: r.members,
  });
  return out instanceof Promise ? out.then(respond) : respond(out);
});
