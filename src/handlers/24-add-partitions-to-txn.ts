// AddPartitionsToTxn v0–v3: adds partitions to the producer's transaction, starting it (Ongoing) if
// none is open. A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and every other one of
// the request OPERATION_NOT_ATTEMPTED; an unknown transactional id or another producer id
// INVALID_PRODUCER_ID_MAPPING; another epoch PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before);
// a transaction being completed CONCURRENT_TRANSACTIONS. With an authorizer the transactional id needs
// WRITE (every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and each topic WRITE: one refused topic
// fails the request as Kafka does (its partitions TOPIC_AUTHORIZATION_FAILED, unknown ones
// UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED). Not served: v4+ (the broker-side
// batched form).
import { AddPartitionsToTxn } from "../../protocol/apis/24-add-partitions-to-txn.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(AddPartitionsToTxn, (req, ctx) => {
  const topics = req.v3AndBelowTopics;
  const answer = (code: (topic: string, p: number) => number) => ({
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })) })),
  });
  if (!ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.v3AndBelowTransactionalId))
    return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const denied = new Set(topics.filter((t) => !ctx.authorize(AclOperation.WRITE, ResourceType.TOPIC, t.name)).map((t) => t.name));
  if (denied.size > 0)
    return answer((topic, p) =>
      denied.has(topic)
        ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
        : ctx.broker.topics.partition(topic, p)
          ? ErrorCode.OPERATION_NOT_ATTEMPTED
          : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  return {
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: ctx.broker.txn.addPartitions(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, topics, ctx.version),
  };
});
