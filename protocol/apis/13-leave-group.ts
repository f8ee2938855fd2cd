// LeaveGroup (key 13), v0–v5, the full range. Up to v2 a single member leaves; v3 batches members (with
// static membership) and answers per member. v4 is flexible, v5 carries a leave reason.
import { api, f, list } from "../define.ts";

export const LeaveGroup = api({
  key: 13,
  name: "LeaveGroup",
  versions: [0, 5],
  flexible: 4,
  request: [
    f("groupId", "string"),
    f("memberId", "string", { until: 2 }),
    f("members", list(
      f("memberId", "string"),
      f("groupInstanceId", "string", { nullable: true, default: null }),
      f("reason", "string", { since: 5, nullable: true, default: null }),
    ), { since: 3 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16"),
    f("members", list(
      f("memberId", "string"),
      f("groupInstanceId", "string", { nullable: true }),
      f("errorCode", "int16"),
    ), { since: 3 }),
  ],
});
