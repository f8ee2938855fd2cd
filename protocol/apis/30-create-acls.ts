// CreateAcls (key 30), v0–v3, the full range. One result per creation, in request order. v1 adds the
// resource pattern type (v0 creations are literal), v2 is flexible.
import { api, f, list } from "../define.ts";

const LITERAL = 3;

export const CreateAcls = api({
  key: 30,
  name: "CreateAcls",
  versions: [0, 3],
  flexible: 2,
  request: [
    f("creations", list(
      f("resourceType", "int8"),
      f("resourceName", "string"),
      f("resourcePatternType", "int8", { since: 1, default: LITERAL }),
      f("principal", "string"),
      f("host", "string"),
      f("operation", "int8"),
      f("permissionType", "int8"),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("results", list(
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
    )),
  ],
});
