// OffsetForLeaderEpoch (key 23), v0–v4, the full range: for each partition and leader epoch, the end
// offset of that epoch (KIP-101), which consumers use to detect log truncation (KIP-320). v1 returns the
// epoch the answer belongs to, v2 adds the requester's current leader epoch for fencing and the throttle
// time, v3 the replica id (-2, a debugging consumer, when absent), v4 is flexible.
import { api, f, list } from "../define.ts";

export const OffsetForLeaderEpoch = api({
  key: 23,
  name: "OffsetForLeaderEpoch",
  versions: [0, 4],
  flexible: 4,
  request: [
    f("replicaId", "int32", { since: 3, default: -2 }),
    f("topics", list(
      f("topic", "string"),
      f("partitions", list(
        f("partition", "int32"),
        f("currentLeaderEpoch", "int32", { since: 2, default: -1 }),
        f("leaderEpoch", "int32"),
      )),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 2 }),
    f("topics", list(
      f("topic", "string"),
      f("partitions", list(
        f("errorCode", "int16"),
        f("partition", "int32"),
        f("leaderEpoch", "int32", { since: 1, default: -1 }),
        f("endOffset", "int64", { default: -1 }),
      )),
    )),
  ],
});
