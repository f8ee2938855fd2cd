// CreatePartitions v0–v3: raises a topic's partition count. The count must be above the current one
// (INVALID_PARTITIONS otherwise, with Kafka's messages); manual assignments must give one broker list
// per new partition naming only this broker (INVALID_REPLICA_ASSIGNMENT). validate_only checks without
// creating; a topic named twice gets INVALID_REQUEST. New partitions get the topic's configs and are
// persisted in the catalogue before the answer. Like Kafka's controller, a request adding more than
// 10,000 partitions in all is refused as one oversized batch (POLICY_VIOLATION for every topic); the
// new logs are opened in slices so other connections are served meanwhile, and a change to a topic
// that is still being created, changed or deleted waits for that to finish first. Partitions are not
// added when their file descriptors would eat into the reserve kept for connections. With an authorizer
// each topic needs ALTER (TOPIC_AUTHORIZATION_FAILED, before its existence is looked at).
import { CreatePartitions } from "../../protocol/apis/37-create-partitions.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { MAX_PARTITIONS_PER_REQUEST, TopicError, fileDescriptorShortage } from "../topics.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

const MAX_PARTITIONS = 100_000;

export default handler(CreatePartitions, async (req, ctx) => {
  const { broker } = ctx;
  await broker.topics.settled(req.topics.map((t) => t.name));
  const counts = new Map<string, number>();
  for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const additions: { name: string; count: number; adding: number }[] = [];
  const results = req.topics.map((t) => {
    try {
      if (counts.get(t.name)! > 1) throw new TopicError(ErrorCode.INVALID_REQUEST, "Duplicate topic in request.");
      if (!ctx.authorize(AclOperation.ALTER, ResourceType.TOPIC, t.name)) return { name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
      const topic = broker.topics.get(t.name);
      if (!topic) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`);
      const current = topic.partitions.length;
      if (t.count < current)
        throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${t.count}.`);
      if (t.count === current) throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
      if (t.count > MAX_PARTITIONS)
        throw new TopicError(ErrorCode.INVALID_PARTITIONS, `Brook refuses more than ${MAX_PARTITIONS} partitions per topic.`);
      if (t.assignments !== null) {
        const adding = t.count - current;
        if (t.assignments.length !== adding)
          throw new TopicError(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Attempted to add ${adding} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
          );
        for (const a of t.assignments) {
          if (a.brokerIds.length === 0 || a.brokerIds.some((id) => id !== broker.nodeId))
            throw new TopicError(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `The manual partition assignment includes broker(s) ${JSON.stringify(a.brokerIds)}, but only broker ${broker.nodeId} exists.`,
            );
        }
      }
      if (!req.validateOnly) additions.push({ name: t.name, count: t.count, adding: t.count - current });
      return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (e) {
      if (!(e instanceof TopicError)) throw e;
      return { name: t.name, errorCode: e.code, errorMessage: e.message };
    }
  });
  const adding = additions.reduce((n, a) => n + a.adding, 0);
  if (adding > MAX_PARTITIONS_PER_REQUEST) {
    const message = "Unable to perform excessively large batch operation.";
    return { throttleTimeMs: 0, results: req.topics.map((t) => ({ name: t.name, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: message })) };
  }
  const shortage = adding > 0 ? fileDescriptorShortage(adding) : null;
  if (shortage) for (const a of additions) Object.assign(results.find((x) => x.name === a.name)!, { errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: shortage });
  if (shortage) return { throttleTimeMs: 0, results };
  // Started together, so each topic is marked busy before anything else can validate against it.
  await Promise.all(
    additions.map(async (a) => {
      const r = results.find((x) => x.name === a.name)!;
      try {
        await broker.topics.addPartitionsInSlices(a.name, a.count);
      } catch (e) {
        if (e instanceof TopicError) Object.assign(r, { errorCode: e.code, errorMessage: e.message });
        else Object.assign(r, { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `Could not create the partition logs: ${(e as Error).message}` });
      }
    }),
  );
  return { throttleTimeMs: 0, results };
});
