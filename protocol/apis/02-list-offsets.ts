// ListOffsets (key 2), v0–v10, the full range. v0 answers with a list of old-style offsets (and takes a
// max count); v1+ returns one timestamp/offset pair. v2 adds the isolation level, v4 leader epochs, v6 is
// flexible, v7 allows the max-timestamp query (-3), v8 the earliest-local query (-4, KIP-405), v9 the
// latest-tiered query (-5, KIP-1005), v10 a timeout for remote lookups (KIP-1075).
import { api, arr, f, list } from "../define.ts";

export const ListOffsets = api({
  key: 2,
  name: "ListOffsets",
  versions: [0, 10],
  flexible: 6,
  request: [
    f("replicaId", "int32"),
    f("isolationLevel", "int8", { since: 2 }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("currentLeaderEpoch", "int32", { since: 4, default: -1 }),
        f("timestamp", "int64"),
        f("maxNumOffsets", "int32", { until: 0, default: 1 }),
      )),
    )),
    f("timeoutMs", "int32", { since: 10 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 2 }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
        f("oldStyleOffsets", arr("int64"), { until: 0 }),
        f("timestamp", "int64", { since: 1, default: -1 }),
        f("offset", "int64", { since: 1, default: -1 }),
        f("leaderEpoch", "int32", { since: 4, default: -1 }),
      )),
    )),
  ],
});
