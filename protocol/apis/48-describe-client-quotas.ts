// DescribeClientQuotas (key 48), v0–v1: the quotas of the entities (user, client-id, ip; a null name is
// the default entity) matching a filter. v1 is flexible.
import { api, f, list } from "../define.ts";

export const DescribeClientQuotas = api({
  key: 48,
  name: "DescribeClientQuotas",
  versions: [0, 1],
  flexible: 1,
  request: [
    f("components", list(
      f("entityType", "string"),
      f("matchType", "int8"),
      f("match", "string", { nullable: true }),
    )),
    f("strict", "bool"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true }),
    f("entries", list(
      f("entity", list(
        f("entityType", "string"),
        f("entityName", "string", { nullable: true }),
      )),
      f("values", list(
        f("key", "string"),
        f("value", "float64"),
      )),
    ), { nullable: true }),
  ],
});
