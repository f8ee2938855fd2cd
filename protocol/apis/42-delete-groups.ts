// DeleteGroups (key 42), v0–v2, the full range. Only empty groups can be deleted; their committed offsets
// go with them. v2 is flexible.
import { api, arr, f, list } from "../define.ts";

export const DeleteGroups = api({
  key: 42,
  name: "DeleteGroups",
  versions: [0, 2],
  flexible: 2,
  request: [
    f("groupsNames", arr("string")),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("results", list(
      f("groupId", "string"),
      f("errorCode", "int16"),
    )),
  ],
});
