// EndTxn v0–v5: commits or aborts the producer's open transaction. The decision (PrepareCommit /
// PrepareAbort) is fsynced to the transaction log, the markers are appended to every partition of the
// transaction, offsets staged by TxnOffsetCommit become the group's on commit, and the answer is sent
// once all that is done (CompleteCommit / CompleteAbort). A retry of a completed EndTxn gets NONE; ending
// with the other outcome, or without an open transaction, INVALID_TXN_STATE; another epoch
// PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before). v4 only allows TRANSACTION_ABORTABLE, which the
// local coordinator has no occasion to send. v5 is transactions v2 (KIP-890): the epoch is bumped with
// every transaction and the answer carries the producer id and epoch to use next (a new producer id
// once the epoch is exhausted); see src/txn/coordinator.ts for its retry and empty-abort rules.
// With an authorizer the transactional id needs WRITE (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
import { EndTxn } from "../../protocol/apis/26-end-txn.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(EndTxn, (req, ctx) => ({
  throttleTimeMs: 0,
  ...(ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)
    ? ctx.broker.txn.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed, ctx.version)
    : { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED }),
}));
