// DescribeGroups v0–v5. State, protocol type, and members (client id, host as "/address"); member metadata,
// assignments and the protocol name only for a Stable group, as Kafka does. An unknown group is described
// as Dead with no error (Kafka's answer before v6). With an authorizer each group needs DESCRIBE (else
// GROUP_AUTHORIZATION_FAILED with an empty description). Authorized operations (v3+, when asked for) are
// the group's operations this principal may perform (all of them without an authorizer).
import { DescribeGroups } from "../../protocol/apis/15-describe-groups.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DescribeGroups, (req, ctx) => ({
  throttleTimeMs: 0,
  groups: req.groups.map((id) => {
    if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, id))
      return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId: id, groupState: "", protocolType: "", protocolData: "", members: [] };
    const group = ctx.broker.groups.describeGroup(id);
    if (ctx.version < 3 || !req.includeAuthorizedOperations || group.errorCode !== ErrorCode.NONE) return group;
    return { ...group, authorizedOperations: ctx.authz.authorizedOperations(ResourceType.GROUP, id) };
  }),
}));
