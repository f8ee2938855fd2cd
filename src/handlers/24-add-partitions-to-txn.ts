// AddPartitionsToTxn v0–v5: adds partitions to the producer's transaction, starting it (Ongoing) if
// none is open. A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and every other one of
// the transaction OPERATION_NOT_ATTEMPTED; an unknown transactional id or another producer id
// INVALID_PRODUCER_ID_MAPPING; another epoch PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before);
// a transaction being completed CONCURRENT_TRANSACTIONS. v4+ is the batched form (KIP-890): each
// transaction is answered on its own; VerifyOnly checks membership without adding (a partition not in
// the transaction: TRANSACTION_ABORTABLE). Kafka authorizes v4+ as a broker request (CLUSTER_ACTION);
// without an authorizer every client may send it, as @platformatic/kafka does to add partitions.
import { AddPartitionsToTxn } from "../../protocol/apis/24-add-partitions-to-txn.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

export default handler(AddPartitionsToTxn, (req, ctx) => {
  const txn = ctx.broker.txn;
  if (ctx.version < 4)
    return {
      throttleTimeMs: 0,
      resultsByTopicV3AndBelow: txn.addPartitions(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics, ctx.version),
    };
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
