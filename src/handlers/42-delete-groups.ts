// DeleteGroups v0–v2. Only a group without members can be deleted (else NON_EMPTY_GROUP); its committed
// offsets go with it (a tombstone in the offsets log). Unknown groups: GROUP_ID_NOT_FOUND.
import { DeleteGroups } from "../../protocol/apis/42-delete-groups.ts";
import { handler } from "./handler.ts";

export default handler(DeleteGroups, (req, ctx) => ({
  throttleTimeMs: 0,
  results: ctx.broker.groups.deleteGroups(req.groupsNames),
}));
