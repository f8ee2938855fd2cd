// Fetch (key 1), v4–v17. v4 adds the isolation level and aborted-transaction lists, v5 the log start
// offset, v7 incremental fetch sessions (session id/epoch, forgotten topics), v9 the current leader
// epoch, v11 the rack id (and preferred read replica, always -1 here), v12 is flexible and brings the
// tagged diverging-epoch/current-leader/snapshot-id fields. v13 names topics by id instead of by name
// (KIP-516), v14 allows OFFSET_MOVED_TO_TIERED_STORAGE, v15 moves the replica id into a tagged replica
// state (KIP-903), v16 adds the tagged node endpoints of KIP-951, v17 a follower's directory id (KIP-853).
import { api, arr, f, list, struct } from "../define.ts";

export const Fetch = api({
  key: 1,
  name: "Fetch",
  versions: [4, 17],
  flexible: 12,
  request: [
    f("clusterId", "string", { since: 12, nullable: true, tag: 0, default: null }),
    f("replicaId", "int32", { until: 14, default: -1 }),
    f("replicaState", struct(
      f("replicaId", "int32", { default: -1 }),
      f("replicaEpoch", "int64", { default: -1 }),
    ), { since: 15, tag: 1 }),
    f("maxWaitMs", "int32"),
    f("minBytes", "int32"),
    f("maxBytes", "int32", { since: 3, default: 0x7fffffff }),
    f("isolationLevel", "int8", { since: 4 }),
    f("sessionId", "int32", { since: 7 }),
    f("sessionEpoch", "int32", { since: 7, default: -1 }),
    f("topics", list(
      f("topic", "string", { until: 12 }),
      f("topicId", "uuid", { since: 13 }),
      f("partitions", list(
        f("partition", "int32"),
        f("currentLeaderEpoch", "int32", { since: 9, default: -1 }),
        f("fetchOffset", "int64"),
        f("lastFetchedEpoch", "int32", { since: 12, default: -1 }),
        f("logStartOffset", "int64", { since: 5, default: -1 }),
        f("partitionMaxBytes", "int32"),
        f("replicaDirectoryId", "uuid", { since: 17, tag: 0 }),
      )),
    )),
    f("forgottenTopicsData", list(
      f("topic", "string", { until: 12 }),
      f("topicId", "uuid", { since: 13 }),
      f("partitions", arr("int32")),
    ), { since: 7 }),
    f("rackId", "string", { since: 11 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16", { since: 7 }),
    f("sessionId", "int32", { since: 7 }),
    f("responses", list(
      f("topic", "string", { until: 12 }),
      f("topicId", "uuid", { since: 13 }),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
        f("highWatermark", "int64"),
        f("lastStableOffset", "int64", { since: 4, default: -1 }),
        f("logStartOffset", "int64", { since: 5, default: -1 }),
        f("divergingEpoch", struct(
          f("epoch", "int32", { default: -1 }),
          f("endOffset", "int64", { default: -1 }),
        ), { since: 12, tag: 0 }),
        f("currentLeader", struct(
          f("leaderId", "int32", { default: -1 }),
          f("leaderEpoch", "int32", { default: -1 }),
        ), { since: 12, tag: 1 }),
        f("snapshotId", struct(
          f("endOffset", "int64", { default: -1 }),
          f("epoch", "int32", { default: -1 }),
        ), { since: 12, tag: 2 }),
        f("abortedTransactions", list(
          f("producerId", "int64"),
          f("firstOffset", "int64"),
        ), { since: 4, nullable: true }),
        f("preferredReadReplica", "int32", { since: 11, default: -1 }),
        f("records", "records", { nullable: true }),
      )),
    )),
    f("nodeEndpoints", list(
      f("nodeId", "int32"),
      f("host", "string"),
      f("port", "int32"),
      f("rack", "string", { nullable: true, default: null }),
    ), { since: 16, tag: 0 }),
  ],
});
