// OffsetFetch (key 9), v0–v9. A null topic list (v2+) asks for every committed offset of the group. v2
// adds a top-level error code, v5 leader epochs, v6 is flexible, v7 the require-stable flag, v8 batches
// several groups per request (replacing the single group id and top-level fields), v9 the member id and
// epoch of the new consumer protocol (KIP-848).
import { api, arr, f, list } from "../define.ts";

export const OffsetFetch = api({
  key: 9,
  name: "OffsetFetch",
  versions: [0, 9],
  flexible: 6,
  request: [
    f("groupId", "string", { until: 7 }),
    f("topics", list(
      f("name", "string"),
      f("partitionIndexes", arr("int32")),
    ), { until: 7, nullable: 2 }),
    f("groups", list(
      f("groupId", "string"),
      f("memberId", "string", { since: 9, nullable: 9, default: null }),
      f("memberEpoch", "int32", { since: 9, default: -1 }),
      f("topics", list(
        f("name", "string"),
        f("partitionIndexes", arr("int32")),
      ), { nullable: true }),
    ), { since: 8 }),
    f("requireStable", "bool", { since: 7 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 3 }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("committedOffset", "int64"),
        f("committedLeaderEpoch", "int32", { since: 5, default: -1 }),
        f("metadata", "string", { nullable: true }),
        f("errorCode", "int16"),
      )),
    ), { until: 7 }),
    f("errorCode", "int16", { since: 2, until: 7 }),
    f("groups", list(
      f("groupId", "string"),
      f("topics", list(
        f("name", "string"),
        f("partitions", list(
          f("partitionIndex", "int32"),
          f("committedOffset", "int64"),
          f("committedLeaderEpoch", "int32", { default: -1 }),
          f("metadata", "string", { nullable: true }),
          f("errorCode", "int16"),
        )),
      )),
      f("errorCode", "int16"),
    ), { since: 8 }),
  ],
});
