// JoinGroup (key 11), v0–v9, the full range. v1 adds the rebalance timeout, v4 lets the broker demand a
// second join carrying the assigned member id, v5 static membership (group instance id), v6 is flexible,
// v7 echoes the protocol type, v8 carries a join reason, v9 the skip-assignment flag (always false here:
// the client-side leader assigns partitions).
import { api, f, list } from "../define.ts";

export const JoinGroup = api({
  key: 11,
  name: "JoinGroup",
  versions: [0, 9],
  flexible: 6,
  request: [
    f("groupId", "string"),
    f("sessionTimeoutMs", "int32"),
    f("rebalanceTimeoutMs", "int32", { since: 1, default: -1 }),
    f("memberId", "string"),
    f("groupInstanceId", "string", { since: 5, nullable: true, default: null }),
    f("protocolType", "string"),
    f("protocols", list(
      f("name", "string"),
      f("metadata", "bytes"),
    )),
    f("reason", "string", { since: 8, nullable: true, default: null }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 2 }),
    f("errorCode", "int16"),
    f("generationId", "int32", { default: -1 }),
    f("protocolType", "string", { since: 7, nullable: true, default: null }),
    f("protocolName", "string", { nullable: 7 }),
    f("leader", "string"),
    f("skipAssignment", "bool", { since: 9 }),
    f("memberId", "string"),
    f("members", list(
      f("memberId", "string"),
      f("groupInstanceId", "string", { since: 5, nullable: true, default: null }),
      f("metadata", "bytes"),
    )),
  ],
});
