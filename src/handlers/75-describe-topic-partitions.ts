// DescribeTopicPartitions v0 (KIP-966), as Kafka's DescribeTopicPartitionsRequestHandler answers it: the
// named topics (or all of them when none are named) from the cursor's topic on, in name order, with at
// most min(ResponsePartitionLimit, max.request.partition.size.limit) partitions; where the limit cuts a
// topic short, NextCursor names the first partition left out (or the next topic, partition 0). The
// cursor's topic must be among the named ones (else INVALID_REQUEST for every named topic). A named topic
// that does not exist is UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an illegal name); when
// listing all topics there is nothing to report. With an authorizer, as Kafka: listing all topics leaves
// out those the principal may not DESCRIBE; a named one answers TOPIC_AUTHORIZATION_FAILED before its
// existence is looked at; TopicAuthorizedOperations says what the principal may do with each topic. No
// eligible leader replicas (KIP-966's ELR is a replication feature): those lists are null. Replicas are
// reported as Metadata reports them (brook.replication.factor.clamp).
import { DescribeTopicPartitions } from "../../protocol/apis/75-describe-topic-partitions.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { inSyncReplicaCount, validateTopicName } from "../topics.ts";
import { replicaNodes } from "./03-metadata.ts";
import { handler } from "./handler.ts";

type TopicResult = NonNullable<ResponseOf<typeof DescribeTopicPartitions>["topics"]>[number];

const ZERO_ID = "0".repeat(32);

export default handler(DescribeTopicPartitions, (req, ctx) => {
  const { broker } = ctx;
  const node = broker.nodeId;
  const cursor = req.cursor;
  const cursorTopic = cursor?.topicName ?? "";
  const listAll = req.topics.length === 0;
  const names = new Set<string>();
  for (const name of listAll ? [...broker.topics.all()].map((t) => t.name) : req.topics.map((t) => t.name))
    if (name >= cursorTopic && (!listAll || ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, name, false))) names.add(name);
  if (cursor && !listAll && !names.has(cursor.topicName)) {
    broker.log.warn(`DescribeTopicPartitions from ${ctx.peer}: the cursor topic ${cursor.topicName} is not among the requested topics`);
    const topics = req.topics.map((t) => ({ errorCode: ErrorCode.INVALID_REQUEST, name: t.name, topicId: ZERO_ID, isInternal: false, partitions: [] }));
    return { throttleTimeMs: 0, topics, nextCursor: null };
  }

  const topics: TopicResult[] = [];
  let nextCursor: { topicName: string; partitionIndex: number } | null = null;
  let remaining = Math.min(Number(broker.config.get("max.request.partition.size.limit")), req.responsePartitionLimit);
  for (const name of [...names].sort()) {
    if (remaining <= 0) {
      // Only when the limit ran out exactly at a topic boundary (a negative limit describes nothing).
      if (remaining === 0) nextCursor = { topicName: name, partitionIndex: 0 };
      break;
    }
    if (!listAll && !ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
      topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_ID, isInternal: false, partitions: [] });
      continue;
    }
    const topic = broker.topics.get(name);
    const topicAuthorizedOperations = ctx.authz.authorizedOperations(ResourceType.TOPIC, name);
    if (!topic) {
      if (!listAll) {
        const errorCode = validateTopicName(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        topics.push({ errorCode, name, topicId: ZERO_ID, isInternal: false, partitions: [], topicAuthorizedOperations });
      }
      continue;
    }
    const replicas = replicaNodes(broker, topic);
    const inSync = inSyncReplicaCount(topic, broker.config);
    const start = name === cursorTopic ? cursor!.partitionIndex : 0;
    const count = topic.partitions.length;
    const upper = Math.min(count, start + remaining);
    const partitions = [];
    for (let i = Math.max(start, 0); i < upper; i++)
      partitions.push({
        errorCode: ErrorCode.NONE,
        partitionIndex: i,
        leaderId: node,
        leaderEpoch: topic.partitions[i]!.log.leaderEpoch,
        replicaNodes: replicas,
        isrNodes: replicas.slice(0, inSync),
        eligibleLeaderReplicas: null,
        lastKnownElr: null,
        offlineReplicas: replicas.slice(inSync),
      });
    topics.push({ errorCode: ErrorCode.NONE, name, topicId: topic.id, isInternal: topic.internal, partitions, topicAuthorizedOperations });
    if (upper < count) {
      nextCursor = { topicName: name, partitionIndex: upper };
      break;
    }
    remaining -= partitions.length;
  }
  return { throttleTimeMs: 0, topics, nextCursor };
});
