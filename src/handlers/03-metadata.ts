// Metadata v0–v12. Brook is the only broker, the controller and the leader of every partition. A topic
// created with a replication factor above 1 (brook.replication.factor.clamp) lists that many replicas,
// this broker first and then ids of brokers that do not exist: tools count the replica list to show a
// topic's replication factor (kafka-topics, sarama/franz-go admin, the Terraform provider), and clients
// only ever connect to the leader. While the clamp is on those replicas are reported in sync (the
// topic is served as if they were); with it off they are out of the ISR and offline, which is how
// Kafka reports replicas on brokers that are gone.
// Auto-creation happens when `auto.create.topics.enable` is on and the request allows it (v4+); the
// topic is created before answering, so the first response already has its partitions (Kafka answers
// LEADER_NOT_AVAILABLE once and lets the client retry). One request auto-creates at most 10,000
// partitions (Kafka's per-request cap); topics past that, still being created or deleted by another
// request, or lacking file descriptors, get LEADER_NOT_AVAILABLE and are retried by the client. Topic
// ids (v10+) may be looked up by id.
// Authorization as in Kafka: only topics the principal may DESCRIBE are answered; asked for by name, the
// others get TOPIC_AUTHORIZATION_FAILED (without their id), left out of "all topics" silently, and by id
// they get TOPIC_AUTHORIZATION_FAILED with the id but no name. Auto-creation also needs CREATE on the
// cluster or the topic (TOPIC_AUTHORIZATION_FAILED otherwise). Authorized-operation bitfields (v8+) are
// filled in when asked for (every supported operation without an authorizer); the cluster's (v8–v10)
// is 0 without DESCRIBE on the cluster. As Kafka orders them: described topics, then those refused
// creation, then those refused description.
// Leader epochs (v7+) are the topic's (see topics.ts: they change only when a topic is re-created).
import { Metadata } from "../../protocol/apis/03-metadata.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { MAX_PARTITIONS_PER_REQUEST, TopicError, fileDescriptorShortage, inSyncReplicaCount, validateTopicName, type Topic } from "../topics.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler, type BrokerContext } from "./handler.ts";

type TopicMetadata = NonNullable<ResponseOf<typeof Metadata>["topics"]>[number];
const ZERO_ID = "0".repeat(32);

/** The topic's replica list: this broker first (the leader), then absent ones up to its replication factor. */
export function replicaNodes(broker: BrokerContext, topic: Topic): number[] {
  const replicas = [broker.nodeId];
  for (let i = 1; i < topic.replicationFactor; i++) replicas.push(broker.nodeId + i);
  return replicas;
}

export function describeTopic(broker: BrokerContext, topic: Topic): TopicMetadata {
  const node = broker.nodeId;
  const replicas = replicaNodes(broker, topic);
  const inSync = inSyncReplicaCount(topic, broker.config);
  const isr = replicas.slice(0, inSync);
  const offline = replicas.slice(inSync);
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: node,
      leaderEpoch: topic.leaderEpoch,
      replicaNodes: replicas,
      isrNodes: isr,
      offlineReplicas: offline,
    })),
  };
}

export default handler(Metadata, (req, ctx) => {
  const { broker, version, listener } = ctx;
  const topics: TopicMetadata[] = [];
  const refusedCreate: TopicMetadata[] = [];
  const refusedDescribe: TopicMetadata[] = [];
  const refused = (name: string | null, topicId: string): TopicMetadata => ({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId, isInternal: false, partitions: [] });
  const mayDescribe = (name: string, logIfDenied: boolean) => ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, name, logIfDenied);
  let mayCreateAny: boolean | undefined;
  const mayCreate = (name: string) =>
    (mayCreateAny ??= ctx.authorize(AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, false)) || ctx.authorize(AclOperation.CREATE, ResourceType.TOPIC, name);
  // auto-created topics and their places in `topics`, filled once their logs exist
  const creating = new Map<string, number[]>();
  let budget = MAX_PARTITIONS_PER_REQUEST;
  const all = req.topics === null || (version === 0 && req.topics.length === 0);
  if (all) {
    for (const t of broker.topics.all()) if (mayDescribe(t.name, false)) topics.push(describeTopic(broker, t));
  } else {
    for (const wanted of req.topics!) {
      if (wanted.name === null || wanted.name === undefined) {
        const t = wanted.topicId !== ZERO_ID ? broker.topics.byId(wanted.topicId) : undefined;
        if (!t) topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: wanted.topicId, partitions: [] });
        else if (!mayDescribe(t.name, true)) refusedDescribe.push(refused(null, t.id));
        else topics.push(describeTopic(broker, t));
        continue;
      }
      const name = wanted.name;
      if (!mayDescribe(name, true)) {
        refusedDescribe.push(refused(name, ZERO_ID));
        continue;
      }
      const t = broker.topics.get(name);
      if (!t) {
        const invalid = validateTopicName(name);
        if (invalid) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, partitions: [] });
          continue;
        }
        if (broker.config.autoCreateTopics && req.allowAutoTopicCreation && !broker.isStopping) {
          if (!mayCreate(name)) {
            refusedCreate.push(refused(name, ZERO_ID));
            continue;
          }
          const places = creating.get(name);
          if (places) {
            places.push(topics.length);
          } else if (!broker.topics.isBusy(name) && budget >= broker.config.numPartitions) {
            try {
              broker.topics.validateCreate(name, broker.config.numPartitions, broker.config.defaultReplicationFactor, broker.config.get("brook.replication.factor.clamp") === true);
            } catch (e) {
              // Like Kafka (before KRaft made auto-creation asynchronous): the creation error is the topic's error.
              if (!(e instanceof TopicError)) throw e;
              topics.push({ errorCode: e.code, name, partitions: [] });
              continue;
            }
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
  const response = () => {
    if (version >= 8 && req.includeTopicAuthorizedOperations)
      for (const t of topics) if (t.name) t.topicAuthorizedOperations = ctx.authz.authorizedOperations(ResourceType.TOPIC, t.name);
    let clusterAuthorizedOperations = -2147483648; // "not requested"
    if (version >= 8 && version <= 10 && req.includeClusterAuthorizedOperations)
      clusterAuthorizedOperations = ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
        ? ctx.authz.authorizedOperations(ResourceType.CLUSTER, CLUSTER_NAME)
        : 0;
    return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: broker.nodeId, host: listener.advertisedHost, port: listener.advertisedPort, rack: null }],
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
      topics: [...topics, ...refusedCreate, ...refusedDescribe],
      clusterAuthorizedOperations,
    };
  };
  if (creating.size === 0) return response();
  if (fileDescriptorShortage(creating.size * broker.config.numPartitions)) return response(); // all stay LEADER_NOT_AVAILABLE
  const names = [...creating.keys()];
  const rf = broker.config.defaultReplicationFactor;
  const specs = names.map((name) => ({ name, partitions: broker.config.numPartitions, configs: {}, replicationFactor: rf }));
  return broker.topics.createTopics(specs).then(
    (created) => {
      names.forEach((name, i) => {
        const t = created[i]!;
        // A topic whose logs could not be opened stays LEADER_NOT_AVAILABLE: the client retries.
        if (!(t instanceof Error)) for (const at of creating.get(name)!) topics[at] = describeTopic(broker, t);
      });
      return response();
    },
    (e) => {
      if (!(e instanceof TopicError)) throw e;
      for (const name of names) for (const at of creating.get(name)!) topics[at] = { errorCode: e.code, name, partitions: [] }; // e.g. a full log dir
      return response();
    },
  );
});
