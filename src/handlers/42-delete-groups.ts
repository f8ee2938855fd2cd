// DeleteGroups v0–v2. Only a group without members can be deleted (else NON_EMPTY_GROUP); its committed
// offsets go with it (a tombstone in the offsets log). Unknown groups: GROUP_ID_NOT_FOUND. With an
// authorizer each group needs DELETE (GROUP_AUTHORIZATION_FAILED).
import { DeleteGroups } from "../../protocol/apis/42-delete-groups.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DeleteGroups, (req, ctx) => {
  const allowed = req.groupsNames.map((id) => ctx.authorize(AclOperation.DELETE, ResourceType.GROUP, id));
  const deleted = ctx.broker.groups.deleteGroups(req.groupsNames.filter((_, i) => allowed[i]));
  let next = 0;
  return {
    throttleTimeMs: 0,
    results: req.groupsNames.map((groupId, i) => (allowed[i] ? deleted[next++]! : { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED })),
  };
});
