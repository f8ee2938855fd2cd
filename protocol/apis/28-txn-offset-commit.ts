// TxnOffsetCommit (key 28), v0–v3: offsets a transactional producer commits for a consumer group; they
// become the group's committed offsets only when the transaction commits. v2 adds the committed leader
// epoch, v3 is flexible and adds the member id, group instance id and generation for fencing zombie
// consumers; v4 allows TRANSACTION_ABORTABLE (KIP-890). v5 (Kafka 4.0, newer than the message specs
// beside the repository; the same fields as v4) is transactions v2: the commit adds the group to the
// transaction itself, without AddOffsetsToTxn.
import { api, f, list } from "../define.ts";

export const TxnOffsetCommit = api({
  key: 28,
  name: "TxnOffsetCommit",
  versions: [0, 5],
  flexible: 3,
  request: [
    f("transactionalId", "string"),
    f("groupId", "string"),
    f("producerId", "int64"),
    f("producerEpoch", "int16"),
    f("generationId", "int32", { since: 3, default: -1 }),
    f("memberId", "string", { since: 3 }),
    f("groupInstanceId", "string", { since: 3, nullable: 3, default: null }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("committedOffset", "int64"),
        f("committedLeaderEpoch", "int32", { since: 2, default: -1 }),
        f("committedMetadata", "string", { nullable: true }),
      )),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
      )),
    )),
  ],
});
