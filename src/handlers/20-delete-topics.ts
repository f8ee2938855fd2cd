// DeleteTopics v0–v6: by name, or (v6) by name or topic id. Deletion is immediate: the partitions'
// files are removed once the catalogue no longer lists the topic, in slices so other connections are
// served meanwhile (the answer comes when they are gone; until then the name cannot be re-created).
import { DeleteTopics } from "../../protocol/apis/20-delete-topics.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

const ZERO_ID = "0".repeat(32);

export default handler(DeleteTopics, async (req, ctx) => {
  const { broker, version } = ctx;
  const wanted =
    version >= 6
      ? (req.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_ID }));
  const doomed = new Set<string>();
  const responses = wanted.map(({ name, topicId }) => {
    const topic = name !== null ? broker.topics.get(name) : broker.topics.byId(topicId);
    const out = { name: topic?.name ?? name, topicId: topic?.id ?? topicId };
    if (!broker.config.deleteTopicEnable)
      return { ...out, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: "Topic deletion is disabled." };
    if (!topic)
      return name === null
        ? { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: "This server does not host this topic ID." }
        : { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition." };
    if (name !== null && topicId !== ZERO_ID && topic.id !== topicId)
      return { ...out, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Topic name and id do not match." };
    if (doomed.has(topic.name))
      return { ...out, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition." };
    doomed.add(topic.name);
    return { ...out, errorCode: ErrorCode.NONE, errorMessage: null };
  });
  if (doomed.size > 0) {
    const removed = broker.topics.deleteTopics([...doomed]); // gone from lookups at once, files in slices
    for (const name of doomed) broker.groups.deleteTopicOffsets(name); // as Kafka: a deleted topic's committed offsets go too
    await removed;
  }
  return { throttleTimeMs: 0, responses };
});
