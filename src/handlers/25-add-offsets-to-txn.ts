// AddOffsetsToTxn v0–v4: the producer's transaction will commit offsets of this consumer group
// (TxnOffsetCommit to follow); starts the transaction if none is open. Errors as AddPartitionsToTxn
// (PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before). v4 only allows TRANSACTION_ABORTABLE.
import { AddOffsetsToTxn } from "../../protocol/apis/25-add-offsets-to-txn.ts";
import { handler } from "./handler.ts";

export default handler(AddOffsetsToTxn, (req, ctx) => ({
  throttleTimeMs: 0,
  errorCode: ctx.broker.txn.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId, ctx.version),
}));
