// Metadata v0–v12. Brook is the only broker, the controller and the leader of every partition.
// Auto-creation happens when `auto.create.topics.enable` is on and the request allows it (v4+); the
// topic is created before answering, so the first response already has its partitions (Kafka answers
// LEADER_NOT_AVAILABLE once and lets the client retry). One request auto-creates at most 10,000
// partitions (Kafka's per-request cap); topics past that, still being created or deleted by another
// request, or lacking file descriptors, get LEADER_NOT_AVAILABLE and are retried by the client.
// Topic ids (v10+) may be looked up by id.
// Authorized-operation fields are answered with Kafka's "not requested" sentinel.
import { Metadata } from "../../protocol/apis/03-metadata.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { MAX_PARTITIONS_PER_REQUEST, fileDescriptorShortage, validateTopicName, type Topic } from "../topics.ts";
import { handler, type BrokerContext } from "./handler.ts";

type TopicMetadata = NonNullable<ResponseOf<typeof Metadata>["topics"]>[number];
const ZERO_ID = "0".repeat(32);

export function describeTopic(broker: BrokerContext, topic: Topic): TopicMetadata {
  const node = broker.nodeId;
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: node,
      leaderEpoch: 0,
      replicaNodes: [node],
      isrNodes: [node],
      offlineReplicas: [],
    })),
  };
}

export default handler(Metadata, (req, ctx) => {
  const { broker, version, listener } = ctx;
  const topics: TopicMetadata[] = [];
  // auto-created topics and their places in `topics`, filled once their logs exist
  const creating = new Map<string, number[]>();
  let budget = MAX_PARTITIONS_PER_REQUEST;
  const all = req.topics === null || (version === 0 && req.topics.length === 0);
  if (all) {
    for (const t of broker.topics.all()) topics.push(describeTopic(broker, t));
  } else {
    for (const wanted of req.topics!) {
      if (wanted.name === null || wanted.name === undefined) {
        const t = wanted.topicId !== ZERO_ID ? broker.topics.byId(wanted.topicId) : undefined;
        topics.push(
          t ? describeTopic(broker, t) : { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: wanted.topicId, partitions: [] },
        );
        continue;
      }
      const name = wanted.name;
      const t = broker.topics.get(name);
      if (!t) {
        const invalid = validateTopicName(name);
        if (invalid) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, partitions: [] });
          continue;
        }
        if (broker.config.autoCreateTopics && req.allowAutoTopicCreation && !broker.isStopping) {
          const places = creating.get(name);
          if (places) places.push(topics.length);
          else if (!broker.topics.isBusy(name) && budget >= broker.config.numPartitions) {
            budget -= broker.config.numPartitions;
            creating.set(name, [topics.length]);
          }
          topics.push({ errorCode: ErrorCode.LEADER_NOT_AVAILABLE, name, partitions: [] });
          continue;
        } else {
          topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] });
          continue;
        }
      }
      topics.push(describeTopic(broker, t));
    }
  }
  const response = () => ({
    throttleTimeMs: 0,
    brokers: [{ nodeId: broker.nodeId, host: listener.advertisedHost, port: listener.advertisedPort, rack: null }],
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    topics,
  });
  if (creating.size === 0) return response();
  if (fileDescriptorShortage(creating.size * broker.config.numPartitions)) return response(); // all stay LEADER_NOT_AVAILABLE
  const names = [...creating.keys()];
  return broker.topics.createTopics(names.map((name) => ({ name, partitions: broker.config.numPartitions, configs: {} }))).then((created) => {
    names.forEach((name, i) => {
      const t = created[i]!;
      // A topic whose logs could not be opened stays LEADER_NOT_AVAILABLE: the client retries.
      if (!(t instanceof Error)) for (const at of creating.get(name)!) topics[at] = describeTopic(broker, t);
    });
    return response();
  });
});
