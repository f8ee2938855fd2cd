// CreateTopics v0–v7: partitions (or -1 for num.partitions), replication factor (-1 means
// default.replication.factor; above 1, which one broker cannot satisfy, is accepted and kept as the
// topic's nominal factor while brook.replication.factor.clamp is on, and refused with
// INVALID_REPLICATION_FACTOR as Kafka does when it is off), manual assignments naming this broker,
// topic configs validated by name and value, validate_only. v5+ returns the resulting partition count,
// replication factor and effective configs; v7 the topic id.
// With an authorizer a topic needs CREATE on the cluster or on the topic (TOPIC_AUTHORIZATION_FAILED
// "Authorization failed."), and its configs are returned only with DESCRIBE_CONFIGS on it (else
// topic_config_error_code TOPIC_AUTHORIZATION_FAILED, v5+).
import { CreateTopics } from "../../protocol/apis/19-create-topics.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { effectiveTopicConfigs, validateTopicConfig } from "../topic-config.ts";
import { TopicError } from "../topics.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

type Result = NonNullable<ResponseOf<typeof CreateTopics>["topics"]>[number];

export default handler(CreateTopics, (req, ctx) => {
  const { broker } = ctx;
  const counts = new Map<string, number>();
  for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const results: Result[] = [];
  let mayCreateAny: boolean | undefined;
  for (const t of req.topics) {
    const fail = (errorCode: number, errorMessage: string): Result => ({ name: t.name, errorCode, errorMessage });
    if (counts.get(t.name)! > 1) {
      results.push(fail(ErrorCode.INVALID_REQUEST, `Create topics request contains multiple entries for the topic ${t.name}`));
      continue;
    }
    if (!(mayCreateAny ??= ctx.authorize(AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, false)) && !ctx.authorize(AclOperation.CREATE, ResourceType.TOPIC, t.name)) {
      results.push(fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."));
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
      const topic = req.validateOnly ? null : broker.topics.create(t.name, partitions, configs, false, rf);
      results.push({
        name: t.name,
        topicId: topic?.id,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        numPartitions: partitions,
        replicationFactor: rf,
        topicConfigErrorCode: describable ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        configs: (describable ? effectiveTopicConfigs(configs, broker.config) : []).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: false,
          configSource: c.configSource,
          isSensitive: false,
        })),
      });
    } catch (e) {
      if (!(e instanceof TopicError)) throw e;
      results.push(fail(e.code, e.message));
    }
  }
  return { throttleTimeMs: 0, topics: results };
});
