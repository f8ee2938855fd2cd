// ListGroups (key 16), v0–v5. v3 is flexible, v4 filters by group state and returns each group's state,
// v5 filters by group type (classic, consumer) and returns each group's type.
import { api, arr, f, list } from "../define.ts";

export const ListGroups = api({
  key: 16,
  name: "ListGroups",
  versions: [0, 5],
  flexible: 3,
  request: [
    f("statesFilter", arr("string"), { since: 4 }),
    f("typesFilter", arr("string"), { since: 5 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16"),
    f("groups", list(
      f("groupId", "string"),
      f("protocolType", "string"),
      f("groupState", "string", { since: 4 }),
      f("groupType", "string", { since: 5 }),
    )),
  ],
});
