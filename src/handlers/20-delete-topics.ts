// DeleteTopics v0–v6: by name, or (v6) by name or topic id. Deletion is immediate: the partitions'
// files are removed once the catalogue no longer lists the topic. With an authorizer (Kafka's controller
// rules): DELETE on the cluster allows every topic; otherwise a topic named without DESCRIBE on it is
// TOPIC_AUTHORIZATION_FAILED before its existence is looked at, and one that exists needs DELETE on it
// (TOPIC_AUTHORIZATION_FAILED); a known topic id without DELETE answers TOPIC_AUTHORIZATION_FAILED, with
// the name only if the principal may DESCRIBE the topic.
import { DeleteTopics } from "../../protocol/apis/20-delete-topics.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

const ZERO_ID = "0".repeat(32);

export default handler(DeleteTopics, (req, ctx) => {
  const { broker, version } = ctx;
  const wanted =
    version >= 6
      ? (req.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_ID }));
  let clusterDelete: boolean | undefined;
  const may = (op: AclOperation, topic: string) =>
    (clusterDelete ??= ctx.authorize(AclOperation.DELETE, ResourceType.CLUSTER, CLUSTER_NAME, false)) || ctx.authorize(op, ResourceType.TOPIC, topic);
  const refused = { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: "Topic authorization failed." };
  const responses = wanted.map(({ name, topicId }) => {
    const topic = name !== null ? broker.topics.get(name) : broker.topics.byId(topicId);
    const out = { name: topic?.name ?? name, topicId: topic?.id ?? topicId };
    if (!broker.config.deleteTopicEnable)
      return { ...out, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: "Topic deletion is disabled." };
    if (name !== null && !may(AclOperation.DESCRIBE, name)) return { name, topicId: ZERO_ID, ...refused };
    if (topic && !may(AclOperation.DELETE, topic.name))
      return { ...out, name: name !== null || may(AclOperation.DESCRIBE, topic.name) ? topic.name : null, ...refused };
    if (!topic)
      return name === null
        ? { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: "This server does not host this topic ID." }
        : { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition." };
    if (name !== null && topicId !== ZERO_ID && topic.id !== topicId)
      return { ...out, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Topic name and id do not match." };
    broker.topics.delete(topic.name);
    broker.groups.deleteTopicOffsets(topic.name); // as Kafka: a deleted topic's committed offsets go too
    broker.metrics.forgetTopic(topic.name); // and its BrokerTopicMetrics
    return { ...out, errorCode: ErrorCode.NONE, errorMessage: null };
  });
  return { throttleTimeMs: 0, responses };
});
