// DescribeGroups (key 15), v0–v5, the full range. v3 adds authorized operations (reported as "not
// requested" unless asked), v4 static membership, v5 is flexible.
import { api, arr, f, list } from "../define.ts";

export const DescribeGroups = api({
  key: 15,
  name: "DescribeGroups",
  versions: [0, 5],
  flexible: 5,
  request: [
    f("groups", arr("string")),
    f("includeAuthorizedOperations", "bool", { since: 3 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("groups", list(
      f("errorCode", "int16"),
      f("groupId", "string"),
      f("groupState", "string"),
      f("protocolType", "string"),
      f("protocolData", "string"),
      f("members", list(
        f("memberId", "string"),
        f("groupInstanceId", "string", { since: 4, nullable: true, default: null }),
        f("clientId", "string"),
        f("clientHost", "string"),
        f("memberMetadata", "bytes"),
        f("memberAssignment", "bytes"),
      )),
      f("authorizedOperations", "int32", { since: 3, default: -2147483648 }),
    )),
  ],
});
