// TxnOffsetCommit v0–v5: offsets staged in the producer's open transaction; the group sees them only when
// the transaction commits (and never if it aborts). The producer id/epoch must be the transactional
// id's current ones (INVALID_PRODUCER_ID_MAPPING / INVALID_PRODUCER_EPOCH), the group must have been added
// with AddOffsetsToTxn (INVALID_TXN_STATE). v3's member id, group instance id and generation are checked
// like OffsetCommit's when present (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION). Unknown
// partitions get UNKNOWN_TOPIC_OR_PARTITION, metadata over offset.metadata.max.bytes
// OFFSET_METADATA_TOO_LARGE. While staged, OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT
// for those partitions. v4 answers a group the transaction lacks TRANSACTION_ABORTABLE instead of
// INVALID_TXN_STATE; v5 (transactions v2) adds the group to the transaction itself.
import { TxnOffsetCommit } from "../../protocol/apis/28-txn-offset-commit.ts";
import { handler } from "./handler.ts";

export default handler(TxnOffsetCommit, (req, ctx) => ({
  throttleTimeMs: 0,
  topics: ctx.broker.txn.txnOffsetCommit(req, ctx.version),
}));
