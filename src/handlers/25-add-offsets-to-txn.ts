// AddOffsetsToTxn v0–v4: the producer's transaction will commit offsets of this consumer group
// (TxnOffsetCommit to follow); starts the transaction if none is open. Errors as AddPartitionsToTxn
// (PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before). v4 only allows TRANSACTION_ABORTABLE. With an
// authorizer the transactional id needs
// WRITE (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then the group READ (GROUP_AUTHORIZATION_FAILED).
import { AddOffsetsToTxn } from "../../protocol/apis/25-add-offsets-to-txn.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(AddOffsetsToTxn, (req, ctx) => ({
  throttleTimeMs: 0,
  errorCode: !ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)
    ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    : !ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : ctx.broker.txn.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId, ctx.version),
}));
