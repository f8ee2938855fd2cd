// CreateTopics v0–v7: partitions (or -1 for num.partitions), replication factor (-1 means
// default.replication.factor; above 1, which one broker cannot satisfy, is accepted and kept as the
// topic's nominal factor while brook.replication.factor.clamp is on, and refused with
// INVALID_REPLICATION_FACTOR as Kafka does when it is off), manual assignments naming this broker,
// topic configs validated by name and value, validate_only. v5+ returns the resulting partition count,
// replication factor and effective configs; v7 the topic id.
// With an authorizer a topic needs CREATE on the cluster or on the topic (TOPIC_AUTHORIZATION_FAILED
// "Authorization failed."), and its configs are returned only with DESCRIBE_CONFIGS on it (else
// topic_config_error_code TOPIC_AUTHORIZATION_FAILED, v5+).
// Like Kafka's controller, a request asking for more than 10,000 partitions in all is refused up front
// (POLICY_VIOLATION for every topic). The partition logs are opened in slices so other connections are
// served meanwhile; the topics of one request appear together once all their logs exist. Partitions are
// not created when their file descriptors would eat into the reserve kept for connections.
import { CreateTopics } from "../../protocol/apis/19-create-topics.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { RequestOf, ResponseOf } from "../../protocol/types.ts";
import { effectiveTopicConfigs, validateTopicConfig } from "../topic-config.ts";
import { MAX_PARTITIONS_PER_REQUEST, TopicError, fileDescriptorShortage, type NewTopic, type Topic } from "../topics.ts";
import { StorageError } from "../log/storage-error.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler, type BrokerContext } from "./handler.ts";

type Result = NonNullable<ResponseOf<typeof CreateTopics>["topics"]>[number];
type Creatable = RequestOf<typeof CreateTopics>["topics"][number];

/** Kafka's count: assignments if given, else num_partitions (-1: the default); bad counts add nothing. */
function requestedPartitions(topics: readonly Creatable[], defaultPartitions: number): number {
  let total = 0;
  for (const t of topics) {
    if (t.assignments.length > 0) total += t.assignments.length;
    else if (t.numPartitions === -1) total += defaultPartitions;
    else if (t.numPartitions > 0) total += t.numPartitions;
  }
  return total;
}

function success(broker: BrokerContext, spec: NewTopic, topicId: string | undefined, describable: boolean): Result {
  return {
    name: spec.name,
    topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    numPartitions: spec.partitions,
    replicationFactor: spec.replicationFactor ?? 1,
    topicConfigErrorCode: describable ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    configs: (describable ? effectiveTopicConfigs(spec.configs, broker.config) : []).map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: false,
      configSource: c.configSource,
      isSensitive: false,
    })),
  };
}

export default handler(CreateTopics, async (req, ctx) => {
  const { broker } = ctx;
  const fail = (name: string, errorCode: number, errorMessage: string): Result => ({ name, errorCode, errorMessage });
  if (requestedPartitions(req.topics, broker.config.numPartitions) > MAX_PARTITIONS_PER_REQUEST)
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => fail(t.name, ErrorCode.POLICY_VIOLATION, "Excessively large number of partitions per request.")),
    };
  const counts = new Map<string, number>();
  for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const results: (Result | NewTopic)[] = [];
  const configsHidden = new Set<string>(); // topics whose configs the principal may not DESCRIBE_CONFIGS
  let mayCreateAny: boolean | undefined;
  for (const t of req.topics) {
    if (counts.get(t.name)! > 1) {
      results.push(fail(t.name, ErrorCode.INVALID_REQUEST, `Create topics request contains multiple entries for the topic ${t.name}`));
      continue;
    }
    if (!(mayCreateAny ??= ctx.authorize(AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, false)) && !ctx.authorize(AclOperation.CREATE, ResourceType.TOPIC, t.name)) {
      results.push(fail(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."));
      continue;
    }
    const describable = ctx.authorize(AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, t.name, false);
    try {
      let partitions = t.numPartitions === -1 ? broker.config.numPartitions : t.numPartitions;
      let rf = t.replicationFactor === -1 ? broker.config.defaultReplicationFactor : t.replicationFactor;
      if (t.assignments.length > 0) {
        if (t.numPartitions !== -1 || t.replicationFactor !== -1)
          throw new TopicError(ErrorCode.INVALID_REQUEST, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
        partitions = t.assignments.length;
        const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
        sorted.forEach((a, i) => {
          if (a.partitionIndex !== i)
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "Partitions should be a consecutive 0-based integer sequence");
          if (a.brokerIds.length === 0 || a.brokerIds.some((id) => id !== broker.nodeId))
            throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Replica assignment ${JSON.stringify(a.brokerIds)} names brokers that do not exist (only ${broker.nodeId})`);
        });
        broker.topics.validateCreate(t.name, partitions, 1);
        rf = 1;
      } else {
        broker.topics.validateCreate(t.name, partitions, rf, broker.config.get("brook.replication.factor.clamp") === true);
      }
      const configs: Record<string, string> = {};
      for (const c of t.configs) {
        const bad = validateTopicConfig(c.name, c.value);
        if (bad) throw new TopicError(ErrorCode.INVALID_CONFIG, bad);
        if (c.value !== null) configs[c.name] = c.value.trim();
      }
      if (!describable) configsHidden.add(t.name);
      results.push({ name: t.name, partitions, configs, replicationFactor: rf });
    } catch (e) {
      if (!(e instanceof TopicError)) throw e;
      results.push(fail(t.name, e.code, e.message));
    }
  }
  const specs = results.filter((r): r is NewTopic => "partitions" in r);
  if (req.validateOnly || specs.length === 0)
    return { throttleTimeMs: 0, topics: results.map((r) => ("partitions" in r ? success(broker, r, undefined, !configsHidden.has(r.name)) : r)) };
  const shortage = fileDescriptorShortage(specs.reduce((n, s) => n + s.partitions, 0));
  if (shortage) return { throttleTimeMs: 0, topics: results.map((r) => ("partitions" in r ? fail(r.name, ErrorCode.POLICY_VIOLATION, shortage) : r)) };
  let created: (Topic | Error)[];
  try {
    created = await broker.topics.createTopics(specs);
  } catch (e) {
    if (!(e instanceof TopicError)) throw e; // the catalogue could not be written (a full volume)
    return { throttleTimeMs: 0, topics: results.map((r) => ("partitions" in r ? fail(r.name, e.code, e.message) : r)) };
  }
  const outcome = new Map(specs.map((s, i) => [s, created[i]!]));
  return {
    throttleTimeMs: 0,
    topics: results.map((r) => {
      if (!("partitions" in r)) return r;
      const topic = outcome.get(r)!;
      if (topic instanceof StorageError) return fail(r.name, ErrorCode.KAFKA_STORAGE_ERROR, `Could not create the partition logs: ${topic.message}`);
      if (topic instanceof Error) return fail(r.name, ErrorCode.UNKNOWN_SERVER_ERROR, `Could not create the partition logs: ${topic.message}`);
      return success(broker, r, topic.id, !configsHidden.has(r.name));
    }),
  };
});
