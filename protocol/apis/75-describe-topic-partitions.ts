// DescribeTopicPartitions (key 75), v0, the full range (KIP-966): Metadata's topic and partition details
// for admin clients (the Java AdminClient's describeTopics uses it), paged: at most
// ResponsePartitionLimit partitions per answer and a cursor (topic, partition) where the next page
// starts. Flexible from v0. The cursors are nullable structs (a presence byte, then the fields).
import { api, arr, f, list, struct } from "../define.ts";

const cursor = struct(
  f("topicName", "string"),
  f("partitionIndex", "int32"),
);

export const DescribeTopicPartitions = api({
  key: 75,
  name: "DescribeTopicPartitions",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("topics", list(
      f("name", "string"),
    )),
    f("responsePartitionLimit", "int32", { default: 2000 }),
    f("cursor", cursor, { nullable: true, default: null }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("topics", list(
      f("errorCode", "int16"),
      f("name", "string", { nullable: true }),
      f("topicId", "uuid"),
      f("isInternal", "bool"),
      f("partitions", list(
        f("errorCode", "int16"),
        f("partitionIndex", "int32"),
        f("leaderId", "int32"),
        f("leaderEpoch", "int32", { default: -1 }),
        f("replicaNodes", arr("int32")),
        f("isrNodes", arr("int32")),
        f("eligibleLeaderReplicas", arr("int32"), { nullable: true, default: null }),
        f("lastKnownElr", arr("int32"), { nullable: true, default: null }),
        f("offlineReplicas", arr("int32")),
      )),
      f("topicAuthorizedOperations", "int32", { default: -2147483648 }),
    )),
    f("nextCursor", cursor, { nullable: true, default: null }),
  ],
});
