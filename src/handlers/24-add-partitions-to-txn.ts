// AddPartitionsToTxn v0–v5: adds partitions to the producer's transaction, starting it (Ongoing) if
// none is open. A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and every other one of
// the transaction OPERATION_NOT_ATTEMPTED; an unknown transactional id or another producer id
// INVALID_PRODUCER_ID_MAPPING; another epoch PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before);
// a transaction being completed CONCURRENT_TRANSACTIONS. v4+ is the batched form (KIP-890): each
// transaction is answered on its own; VerifyOnly checks membership without adding (a partition not in
// the transaction: TRANSACTION_ABORTABLE). With an authorizer, v0–v3 need WRITE on the transactional id
// (every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and WRITE on each topic: one refused topic fails
// the request as Kafka does (its partitions TOPIC_AUTHORIZATION_FAILED, unknown ones
// UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED); v4+ is a broker-to-broker request in
// Kafka and needs CLUSTER_ACTION on the cluster (CLUSTER_AUTHORIZATION_FAILED). Without an authorizer any
// client may send v4+, as @platformatic/kafka does to add partitions.
import { AddPartitionsToTxn } from "../../protocol/apis/24-add-partitions-to-txn.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(AddPartitionsToTxn, (req, ctx) => {
  const txn = ctx.broker.txn;
  if (ctx.version < 4) {
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
      resultsByTopicV3AndBelow: txn.addPartitions(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, topics, ctx.version),
    };
  }
  if (!ctx.authorize(AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME))
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] };
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    resultsByTransaction: req.transactions.map((t) => ({
      transactionalId: t.transactionalId,
      topicResults: t.verifyOnly
        ? txn.verifyPartitions(t.transactionalId, t.producerId, t.producerEpoch, t.topics)
        : txn.addPartitions(t.transactionalId, t.producerId, t.producerEpoch, t.topics, ctx.version),
    })),
  };
});
