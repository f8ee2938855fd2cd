// DescribeQuorum v0–v2 for `kafka-metadata-quorum.sh describe --status/--replication`: Brook is a
// single-node KRaft cluster in combined mode, so the quorum of __cluster_metadata-0 has one voter, this
// node, which leads it (epoch 1) and has no observers. Brook keeps no replicated metadata log, so the
// high watermark and the voter's log end offset are 0 (no follower can lag). The voter's directory id is
// derived from the cluster id and node id (stable across restarts); v2's node endpoints are the
// listener the request came in on. Any other topic or partition, or more than one, gets
// UNKNOWN_TOPIC_OR_PARTITION per partition, as Kafka's raft layer answers. With an authorizer it needs
// DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { createHash } from "node:crypto";
import { DescribeQuorum } from "../../protocol/apis/55-describe-quorum.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

const METADATA_TOPIC = "__cluster_metadata";
const LEADER_EPOCH = 1;

export default handler(DescribeQuorum, (req, ctx) => {
  const { broker, listener } = ctx;
  if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME))
    return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics: [] };
  const only = req.topics.length === 1 ? req.topics[0]! : null;
  const valid = only?.topicName === METADATA_TOPIC && only.partitions.length === 1 && only.partitions[0]!.partitionIndex === 0;
  if (!valid)
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: req.topics.map((t) => ({
        topicName: t.topicName,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: null,
          leaderId: -1,
          leaderEpoch: -1,
          highWatermark: -1,
          currentVoters: [],
          observers: [],
        })),
      })),
      nodes: [],
    };
  const directoryId = createHash("sha256").update(`${broker.clusterId}:${broker.nodeId}`).digest("hex").slice(0, 32);
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topics: [
      {
        topicName: METADATA_TOPIC,
        partitions: [
          {
            partitionIndex: 0,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            leaderId: broker.nodeId,
            leaderEpoch: LEADER_EPOCH,
            highWatermark: 0,
            // The leader's own entry: no fetch of its own (-1), caught up now.
            currentVoters: [{ replicaId: broker.nodeId, replicaDirectoryId: directoryId, logEndOffset: 0, lastFetchTimestamp: -1, lastCaughtUpTimestamp: Date.now() }],
            observers: [],
          },
        ],
      },
    ],
    nodes: [{ nodeId: broker.nodeId, listeners: [{ name: listener.name, host: listener.advertisedHost, port: listener.advertisedPort }] }],
  };
});
