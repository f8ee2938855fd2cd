// IncrementalAlterConfigs (key 44), v0–v1, the full range. Per key: SET (0), DELETE (1, back to the
// default), APPEND (2) and SUBTRACT (3) for list-valued configs. v1 is flexible.
import { api, f, list } from "../define.ts";

export const IncrementalAlterConfigs = api({
  key: 44,
  name: "IncrementalAlterConfigs",
  versions: [0, 1],
  flexible: 1,
  request: [
    f("resources", list(
      f("resourceType", "int8"),
      f("resourceName", "string"),
      f("configs", list(
        f("name", "string"),
        f("configOperation", "int8"),
        f("value", "string", { nullable: true }),
      )),
    )),
    f("validateOnly", "bool"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("responses", list(
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
      f("resourceType", "int8"),
      f("resourceName", "string"),
    )),
  ],
});
