// DeleteAcls (key 31), v0–v3, the full range. Each filter deletes every ACL it matches and lists them.
// v1 adds pattern types (filters may say ANY or MATCH), v2 is flexible.
import { aclBindingFilter, LITERAL_PATTERN as LITERAL } from "../acl-filter.ts";
import { api, f, list } from "../define.ts";

export const DeleteAcls = api({
  key: 31,
  name: "DeleteAcls",
  versions: [0, 3],
  flexible: 2,
  request: [
    f("filters", list(...aclBindingFilter)),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("filterResults", list(
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
      f("matchingAcls", list(
        f("errorCode", "int16"),
        f("errorMessage", "string", { nullable: true }),
        f("resourceType", "int8"),
        f("resourceName", "string"),
        f("patternType", "int8", { since: 1, default: LITERAL }),
        f("principal", "string"),
        f("host", "string"),
        f("operation", "int8"),
        f("permissionType", "int8"),
      )),
    )),
  ],
});
