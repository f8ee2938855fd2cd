// DescribeAcls (key 29), v0–v3, the full range. One filter per request; the answer groups the matching
// ACLs by resource pattern. v1 adds the pattern type (LITERAL, PREFIXED, and in filters ANY / MATCH;
// v0 filters and answers are literal only), v2 is flexible.
import { aclBindingFilter, LITERAL_PATTERN as LITERAL } from "../acl-filter.ts";
import { api, f, list } from "../define.ts";

export const DescribeAcls = api({
  key: 29,
  name: "DescribeAcls",
  versions: [0, 3],
  flexible: 2,
  request: aclBindingFilter,
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true }),
    f("resources", list(
      f("resourceType", "int8"),
      f("resourceName", "string"),
      f("patternType", "int8", { since: 1, default: LITERAL }),
      f("acls", list(
        f("principal", "string"),
        f("host", "string"),
        f("operation", "int8"),
        f("permissionType", "int8"),
      )),
    )),
  ],
});
