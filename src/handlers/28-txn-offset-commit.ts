// TxnOffsetCommit v0–v5: offsets staged in the producer's open transaction; the group sees them only when
// the transaction commits (and never if it aborts). The producer id/epoch must be the transactional
// id's current ones (INVALID_PRODUCER_ID_MAPPING / INVALID_PRODUCER_EPOCH), the group must have been added
// with AddOffsetsToTxn (INVALID_TXN_STATE). v3's member id, group instance id and generation are checked
// like OffsetCommit's when present (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION). Unknown
// partitions get UNKNOWN_TOPIC_OR_PARTITION, metadata over offset.metadata.max.bytes
// OFFSET_METADATA_TOO_LARGE. While staged, OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT
// for those partitions. v4 answers a group the transaction lacks TRANSACTION_ABORTABLE instead of
// INVALID_TXN_STATE; v5 (transactions v2) adds the group to the transaction itself. With an authorizer the
// transactional id needs WRITE, the group READ (every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED /
// GROUP_AUTHORIZATION_FAILED) and each topic READ (its partitions TOPIC_AUTHORIZATION_FAILED, the others
// are staged).
import { TxnOffsetCommit } from "../../protocol/apis/28-txn-offset-commit.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(TxnOffsetCommit, (req, ctx) => {
  const every = (t: (typeof req.topics)[number], errorCode: number) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
  });
  const all = (errorCode: number) => ({ throttleTimeMs: 0, topics: req.topics.map((t) => every(t, errorCode)) });
  if (!ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return all(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId)) return all(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  const allowed = req.topics.map((t) => ctx.authorize(AclOperation.READ, ResourceType.TOPIC, t.name));
  const topics = req.topics.filter((_, i) => allowed[i]);
  const staged = topics.length === 0 ? [] : ctx.broker.txn.txnOffsetCommit({ ...req, topics }, ctx.version);
  let next = 0;
  return { throttleTimeMs: 0, topics: req.topics.map((t, i) => (allowed[i] ? staged[next++]! : every(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED))) };
});
