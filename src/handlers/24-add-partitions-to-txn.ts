// AddPartitionsToTxn v0–v3: adds partitions to the producer's transaction, starting it (Ongoing) if
// none is open. A partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and every other one of
// the request OPERATION_NOT_ATTEMPTED; an unknown transactional id or another producer id
// INVALID_PRODUCER_ID_MAPPING; another epoch PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before);
// a transaction being completed CONCURRENT_TRANSACTIONS. Not served: v4+ (the broker-side batched form).
import { AddPartitionsToTxn } from "../../protocol/apis/24-add-partitions-to-txn.ts";
import { handler } from "./handler.ts";

export default handler(AddPartitionsToTxn, (req, ctx) => ({
  throttleTimeMs: 0,
  resultsByTopicV3AndBelow: ctx.broker.txn.addPartitions(
    req.v3AndBelowTransactionalId,
    req.v3AndBelowProducerId,
    req.v3AndBelowProducerEpoch,
    req.v3AndBelowTopics,
    ctx.version,
  ),
}));
