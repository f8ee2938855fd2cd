// AlterPartitionReassignments v0, answered as Kafka's controller answers for a cluster of one broker.
// A target replica list is validated like a manual assignment (Kafka's messages: an empty list, a broker
// that is not registered — any but this one —, a broker named twice: INVALID_REPLICA_ASSIGNMENT); the
// only valid target, this broker, is where the partition already is, so the reassignment is complete at
// once (NONE). Cancelling (null replicas) finds nothing in progress: NO_REASSIGNMENT_IN_PROGRESS. An
// unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION. With an authorizer it needs ALTER on the
// cluster (CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { AlterPartitionReassignments } from "../../protocol/apis/45-alter-partition-reassignments.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

/** Kafka's validateManualPartitionAssignment: the error message, or null when the list is valid. */
export function invalidAssignment(replicas: number[], registered: (id: number) => boolean): string | null {
  if (replicas.length === 0) return "The manual partition assignment includes an empty replica list.";
  const sorted = [...replicas].sort((a, b) => a - b);
  let previous: number | null = null;
  for (const id of sorted) {
    if (!registered(id)) return `The manual partition assignment includes broker ${id}, but no such broker is registered.`;
    if (id === previous) return `The manual partition assignment includes the broker ${id} more than once.`;
    previous = id;
  }
  return null;
}

export default handler(AlterPartitionReassignments, (req, ctx) => {
  const { topics, nodeId } = ctx.broker;
  if (!ctx.authorize(AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME))
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    responses: req.topics.map((t) => {
      const topic = topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          const result = (errorCode: number, errorMessage: string | null = null) => ({ partitionIndex: p.partitionIndex, errorCode, errorMessage });
          if (!topic) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find a topic named ${t.name}.`);
          if (!topic.partitions[p.partitionIndex]) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find partition ${t.name}:${p.partitionIndex}.`);
          if (p.replicas === null) return result(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
          const invalid = invalidAssignment(p.replicas, (id) => id === nodeId);
          return invalid ? result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, invalid) : result(ErrorCode.NONE);
        }),
      };
    }),
  };
});
