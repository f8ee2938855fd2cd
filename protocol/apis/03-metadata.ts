// Metadata (key 3), v0–v12, the full range. A null topic list (v1+) means "all topics"; v0 used an empty
// list for that. v4 adds the auto-create switch, v7 leader epochs, v8 authorized-operations bitfields
// (returned as "not requested"), v9 is flexible, v10 topic ids, v11 drops the cluster-level operations,
// v12 allows null topic names in responses. Brook reports itself as the only broker and controller.
import { api, arr, f, list } from "../define.ts";

export const Metadata = api({
  key: 3,
  name: "Metadata",
  versions: [0, 12],
  flexible: 9,
  request: [
    f("topics", list(
      f("topicId", "uuid", { since: 10 }),
      f("name", "string", { nullable: 10 }),
    ), { nullable: 1 }),
    f("allowAutoTopicCreation", "bool", { since: 4, default: true }),
    f("includeClusterAuthorizedOperations", "bool", { since: 8, until: 10 }),
    f("includeTopicAuthorizedOperations", "bool", { since: 8 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 3 }),
    f("brokers", list(
      f("nodeId", "int32"),
      f("host", "string"),
      f("port", "int32"),
      f("rack", "string", { since: 1, nullable: true, default: null }),
    )),
    f("clusterId", "string", { since: 2, nullable: true, default: null }),
    f("controllerId", "int32", { since: 1, default: -1 }),
    f("topics", list(
      f("errorCode", "int16"),
      f("name", "string", { nullable: 12 }),
      f("topicId", "uuid", { since: 10 }),
      f("isInternal", "bool", { since: 1 }),
      f("partitions", list(
        f("errorCode", "int16"),
        f("partitionIndex", "int32"),
        f("leaderId", "int32"),
        f("leaderEpoch", "int32", { since: 7, default: -1 }),
        f("replicaNodes", arr("int32")),
        f("isrNodes", arr("int32")),
        f("offlineReplicas", arr("int32"), { since: 5 }),
      )),
      f("topicAuthorizedOperations", "int32", { since: 8, default: -2147483648 }),
    )),
    f("clusterAuthorizedOperations", "int32", { since: 8, until: 10, default: -2147483648 }),
  ],
});
