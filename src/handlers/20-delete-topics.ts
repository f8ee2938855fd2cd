// DeleteTopics v0–v6: by name, or (v6) by name or by topic id, validated as Kafka's controller does: an
// entry with neither or both is INVALID_REQUEST, a name or id given twice gets one INVALID_REQUEST
// answer ("Duplicate topic name." / "Duplicate topic id."), so does a name that maps to an id also
// given; an unknown id is UNKNOWN_TOPIC_ID, an unknown name UNKNOWN_TOPIC_OR_PARTITION. Deletion is
// immediate: the partitions' files are removed once the catalogue no longer lists the topic, in slices
// so other connections are served meanwhile (the answer comes when they are gone; until then the name
// cannot be re-created). Kafka
// shuffles its answers; Brook keeps the request's order. A catalogue that cannot be written (a full
// volume) leaves the topic in place and answers KAFKA_STORAGE_ERROR.
// With an authorizer (Kafka's controller rules): DELETE on the cluster allows every topic; otherwise a
// topic named without DESCRIBE on it is TOPIC_AUTHORIZATION_FAILED before its existence is looked at,
// and one that exists needs DELETE on it (TOPIC_AUTHORIZATION_FAILED); a known topic id without DELETE
// answers TOPIC_AUTHORIZATION_FAILED, with the name only if the principal may DESCRIBE the topic.
import { DeleteTopics } from "../../protocol/apis/20-delete-topics.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { StorageError } from "../log/storage-error.ts";
import { TopicError } from "../topics.ts";
import { handler } from "./handler.ts";

const ZERO_ID = "0".repeat(32);

interface Result {
  name: string | null;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
}

export default handler(DeleteTopics, async (req, ctx) => {
  const { broker, version } = ctx;
  const wanted =
    version >= 6
      ? (req.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
      : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_ID }));
  if (!broker.config.deleteTopicEnable) {
    const responses = wanted.map(({ name, topicId }) => ({ name, topicId, errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: "Topic deletion is disabled." }));
    return { throttleTimeMs: 0, responses };
  }
  let clusterDelete: boolean | undefined;
  const may = (op: AclOperation, topic: string) =>
    (clusterDelete ??= ctx.authorize(AclOperation.DELETE, ResourceType.CLUSTER, CLUSTER_NAME, false)) || ctx.authorize(op, ResourceType.TOPIC, topic);
  const refused = (name: string | null, topicId: string): Result => ({ name, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: "Topic authorization failed." });
  const responses: Result[] = [];
  const invalid = (name: string | null, topicId: string, errorMessage: string) =>
    responses.push({ name, topicId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

  // What each entry names, in request order; repeated names/ids are answered once, as errors.
  const seen = new Map<string, number>();
  const targets: ({ by: "name"; name: string } | { by: "id"; id: string })[] = [];
  for (const { name, topicId } of wanted) {
    if (name === null && topicId === ZERO_ID) invalid(null, ZERO_ID, "Neither topic name nor id were specified.");
    else if (name !== null && topicId !== ZERO_ID) invalid(name, topicId, "You may not specify both topic name and topic id.");
    else {
      const key = name !== null ? `n:${name}` : `i:${topicId}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (seen.get(key) === 1) targets.push(name !== null ? { by: "name", name } : { by: "id", id: topicId });
    }
  }
  const doomed = new Map<string, Result>();
  const ids = new Set(targets.flatMap((t) => (t.by === "id" && seen.get(`i:${t.id}`) === 1 ? [t.id] : [])));
  for (const t of targets) {
    if (t.by === "name") {
      if (seen.get(`n:${t.name}`)! > 1) {
        invalid(t.name, ZERO_ID, "Duplicate topic name.");
        continue;
      }
      if (!may(AclOperation.DESCRIBE, t.name)) {
        responses.push(refused(t.name, ZERO_ID));
        continue;
      }
      const topic = broker.topics.get(t.name);
      if (!topic) {
        responses.push({ name: t.name, topicId: ZERO_ID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition." });
        continue;
      }
      if (!may(AclOperation.DELETE, topic.name)) {
        responses.push(refused(topic.name, topic.id));
        continue;
      }
      if (ids.has(topic.id)) {
        invalid(t.name, ZERO_ID, "The provided topic name maps to an ID that was already supplied.");
        continue;
      }
      responses.push(remove(topic.name, topic.id));
    } else {
      if (seen.get(`i:${t.id}`)! > 1) {
        invalid(null, t.id, "Duplicate topic id.");
        continue;
      }
      const topic = broker.topics.byId(t.id);
      if (!topic) {
        responses.push({ name: null, topicId: t.id, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: "This server does not host this topic ID." });
        continue;
      }
      if (!may(AclOperation.DELETE, topic.name)) {
        responses.push(refused(may(AclOperation.DESCRIBE, topic.name) ? topic.name : null, topic.id));
        continue;
      }
      responses.push(remove(topic.name, topic.id));
    }
  }

  // Everything is resolved before anything is deleted, so the order of the entries does not matter.
  if (doomed.size > 0) {
    const partitions = [...doomed.keys()].flatMap((name) => broker.topics.get(name)?.partitions ?? []);
    let deleted = true;
    try {
      await broker.topics.deleteTopics([...doomed.keys()]); // gone from lookups at once, files in slices
    } catch (e) {
      if (!(e instanceof TopicError)) throw e;
      for (const result of doomed.values()) Object.assign(result, { errorCode: e.code, errorMessage: e.message }); // the catalogue could not be written
      deleted = false;
    }
    if (deleted) {
      for (const p of partitions) broker.notifyAppend(p); // long-polling fetches answer now, with the error
      for (const name of doomed.keys()) {
        try {
          broker.groups.deleteTopicOffsets(name); // as Kafka: a deleted topic's committed offsets go too
        } catch (e) {
          if (!(e instanceof StorageError)) throw e;
          broker.log.warn(`the committed offsets of deleted topic ${name} go at the next offset expiry: ${e.message}`);
        }
        broker.metrics.forgetTopic(name); // and its BrokerTopicMetrics
      }
    }
  }
  function remove(name: string, topicId: string): Result {
    const result = { name, topicId, errorCode: ErrorCode.NONE, errorMessage: null };
    doomed.set(name, result);
    return result;
  }
  return { throttleTimeMs: 0, responses };
});
