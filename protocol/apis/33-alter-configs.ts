// AlterConfigs (key 33), v0–v2, the full range. Replaces the whole set of explicitly set configs of each
// resource with the one given (configs left out go back to their defaults); IncrementalAlterConfigs is
// the per-key variant. v2 is flexible.
import { api, f, list } from "../define.ts";

export const AlterConfigs = api({
  key: 33,
  name: "AlterConfigs",
  versions: [0, 2],
  flexible: 2,
  request: [
    f("resources", list(
      f("resourceType", "int8"),
      f("resourceName", "string"),
      f("configs", list(
        f("name", "string"),
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
