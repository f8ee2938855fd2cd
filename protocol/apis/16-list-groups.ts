// ListGroups (key 16), v0–v4. v3 is flexible, v4 filters by group state and returns each group's state.
// Not served: v5 (group-type filter of the new group protocols).
import { api, arr, f, list } from "../define.ts";

export const ListGroups = api({
  key: 16,
  name: "ListGroups",
  versions: [0, 4],
  flexible: 3,
  request: [
    f("statesFilter", arr("string"), { since: 4 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16"),
    f("groups", list(
      f("groupId", "string"),
      f("protocolType", "string"),
      f("groupState", "string", { since: 4 }),
    )),
  ],
});
