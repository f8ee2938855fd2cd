// Heartbeat (key 12), v0–v4, the full range. The error code tells a member to rejoin when a rebalance is
// under way. v3 adds static membership, v4 is flexible.
import { api, f } from "../define.ts";

export const Heartbeat = api({
  key: 12,
  name: "Heartbeat",
  versions: [0, 4],
  flexible: 4,
  request: [
    f("groupId", "string"),
    f("generationId", "int32"),
    f("memberId", "string"),
    f("groupInstanceId", "string", { since: 3, nullable: true, default: null }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16"),
  ],
});
