// EndTxn v0–v3: commits or aborts the producer's open transaction. The decision (PrepareCommit /
// PrepareAbort) is fsynced to the transaction log, the markers are appended to every partition of the
// transaction, offsets staged by TxnOffsetCommit become the group's on commit, and the answer is sent
// once all that is done (CompleteCommit / CompleteAbort). A retry of a completed EndTxn gets NONE; ending
// with the other outcome, or without an open transaction, INVALID_TXN_STATE; another epoch
// PRODUCER_FENCED (v2+; INVALID_PRODUCER_EPOCH before). With an authorizer the transactional id needs
// WRITE (TRANSACTIONAL_ID_AUTHORIZATION_FAILED). Not served: v4+ (KIP-890).
import { EndTxn } from "../../protocol/apis/26-end-txn.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(EndTxn, (req, ctx) => ({
  throttleTimeMs: 0,
  errorCode: ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)
    ? ctx.broker.txn.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed, ctx.version)
    : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
}));
