// The ACL binding filter shared by DescribeAcls (the request itself) and DeleteAcls (each of its
// filters): v1 adds the pattern type (LITERAL for v0; filters may also say ANY or MATCH).
import { f } from "./define.ts";

export const LITERAL_PATTERN = 3;

export const aclBindingFilter = [
  f("resourceTypeFilter", "int8"),
  f("resourceNameFilter", "string", { nullable: true }),
  f("patternTypeFilter", "int8", { since: 1, default: LITERAL_PATTERN }),
  f("principalFilter", "string", { nullable: true }),
  f("hostFilter", "string", { nullable: true }),
  f("operation", "int8"),
  f("permissionType", "int8"),
] as const;
