// DescribeQuorum (key 55), v0–v2 (flexible throughout): the state of the KRaft metadata quorum
// (__cluster_metadata-0): leader, epoch, high watermark, voters and observers. v1 adds the replicas'
// last fetch and caught-up times (KIP-836); v2 adds error messages, the voters' directory ids and their
// controller endpoints (KIP-853).
import { api, f, list } from "../define.ts";

const replicaState = list(
  f("replicaId", "int32"),
  f("replicaDirectoryId", "uuid", { since: 2 }),
  f("logEndOffset", "int64"),
  f("lastFetchTimestamp", "int64", { since: 1, default: -1 }),
  f("lastCaughtUpTimestamp", "int64", { since: 1, default: -1 }),
);

export const DescribeQuorum = api({
  key: 55,
  name: "DescribeQuorum",
  versions: [0, 2],
  flexible: 0,
  request: [
    f("topics", list(
      f("topicName", "string"),
      f("partitions", list(f("partitionIndex", "int32"))),
    )),
  ],
  response: [
    f("errorCode", "int16"),
    f("errorMessage", "string", { since: 2, nullable: 2 }),
    f("topics", list(
      f("topicName", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
        f("errorMessage", "string", { since: 2, nullable: 2 }),
        f("leaderId", "int32"),
        f("leaderEpoch", "int32"),
        f("highWatermark", "int64"),
        f("currentVoters", replicaState),
        f("observers", replicaState),
      )),
    )),
    f("nodes", list(
      f("nodeId", "int32"),
      f("listeners", list(
        f("name", "string"),
        f("host", "string"),
        f("port", "uint16"),
      )),
    ), { since: 2 }),
  ],
});

