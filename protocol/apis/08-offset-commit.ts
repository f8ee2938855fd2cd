// OffsetCommit (key 8), v0–v9. v1 adds the generation/member (and, in v1 only, a per-partition commit
// timestamp), v2–v4 a retention time (-1 = broker default), v6 leader epochs, v7 static membership, v8
// is flexible, v9 carries the member epoch of the new consumer protocol (KIP-848) in the generation
// field (same layout).
import { api, f, list } from "../define.ts";

export const OffsetCommit = api({
  key: 8,
  name: "OffsetCommit",
  versions: [0, 9],
  flexible: 8,
  request: [
    f("groupId", "string"),
    f("generationIdOrMemberEpoch", "int32", { since: 1, default: -1 }),
    f("memberId", "string", { since: 1 }),
    f("groupInstanceId", "string", { since: 7, nullable: true, default: null }),
    f("retentionTimeMs", "int64", { since: 2, until: 4, default: -1 }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("committedOffset", "int64"),
        f("committedLeaderEpoch", "int32", { since: 6, default: -1 }),
        f("commitTimestamp", "int64", { since: 1, until: 1, default: -1 }),
        f("committedMetadata", "string", { nullable: true }),
      )),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 3 }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
      )),
    )),
  ],
});
