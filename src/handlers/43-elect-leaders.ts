// ElectLeaders v0–v2, answered as Kafka's controller answers for a cluster of one broker: every
// partition's only replica (this broker) is its preferred replica and its leader, so a named partition
// gets ELECTION_NOT_NEEDED ("Leader election not needed for topic partition."), an unknown topic or
// partition UNKNOWN_TOPIC_OR_PARTITION ("No such topic as t" / "No such partition as t-9"). With a null
// topic list (every partition) Kafka leaves out the partitions that need no election, so each topic
// comes back with no partitions. An election type other than preferred (0) or unclean (1) is
// INVALID_REQUEST. v0 has no election type (preferred) and no top-level error code. With an authorizer it
// needs ALTER on the cluster (CLUSTER_AUTHORIZATION_FAILED, per partition in v0), as in Kafka.
import { ElectLeaders } from "../../protocol/apis/43-elect-leaders.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

const NOT_NEEDED = "Leader election not needed for topic partition.";

export default handler(ElectLeaders, (req, ctx) => {
  const { topics } = ctx.broker;
  if (!ctx.authorize(AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })),
      })),
    };
  if (req.electionType !== 0 && req.electionType !== 1) {
    const message = `Unknown election type ${req.electionType}`;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.INVALID_REQUEST,
      replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message })),
      })),
    };
  }
  if (req.topicPartitions === null)
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: [...topics.all()].map((t) => ({ topic: t.name, partitionResult: [] })),
    };
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    replicaElectionResults: req.topicPartitions.map((t) => {
      const topic = topics.get(t.topic);
      return {
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => {
          if (!topic) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${t.topic}` };
          if (!topic.partitions[partitionId])
            return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${t.topic}-${partitionId}` };
          return { partitionId, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: NOT_NEEDED };
        }),
      };
    }),
  };
});
