// AlterClientQuotas (key 49), v0–v1: set or remove quota values of entities, or only validate the
// change. v1 is flexible.
import { api, f, list } from "../define.ts";

const entity = list(
  f("entityType", "string"),
  f("entityName", "string", { nullable: true }),
);

export const AlterClientQuotas = api({
  key: 49,
  name: "AlterClientQuotas",
  versions: [0, 1],
  flexible: 1,
  request: [
    f("entries", list(
      f("entity", entity),
      f("ops", list(
        f("key", "string"),
        f("value", "float64"),
        f("remove", "bool"),
      )),
    )),
    f("validateOnly", "bool"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("entries", list(
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
      f("entity", entity),
    )),
  ],
});
