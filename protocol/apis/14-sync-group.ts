// SyncGroup (key 14), v0–v5, the full range. The leader sends every member's assignment; each member
// gets its own back. v3 adds static membership, v4 is flexible, v5 carries the protocol type/name on
// both sides so the broker can check them.
import { api, f, list } from "../define.ts";

export const SyncGroup = api({
  key: 14,
  name: "SyncGroup",
  versions: [0, 5],
  flexible: 4,
  request: [
    f("groupId", "string"),
    f("generationId", "int32"),
    f("memberId", "string"),
    f("groupInstanceId", "string", { since: 3, nullable: true, default: null }),
    f("protocolType", "string", { since: 5, nullable: true, default: null }),
    f("protocolName", "string", { since: 5, nullable: true, default: null }),
    f("assignments", list(
      f("memberId", "string"),
      f("assignment", "bytes"),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16"),
    f("protocolType", "string", { since: 5, nullable: true, default: null }),
    f("protocolName", "string", { since: 5, nullable: true, default: null }),
    f("assignment", "bytes"),
  ],
});
