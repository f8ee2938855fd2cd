// DescribeTransactions v0: each transactional id's state (Kafka's names: Empty, Ongoing, PrepareCommit,
// PrepareAbort, CompleteCommit, CompleteAbort), timeout, start time (-1 before the first transaction),
// producer id/epoch and the partitions of the open transaction. Unknown ids get
// TRANSACTIONAL_ID_NOT_FOUND. With an authorizer each id needs DESCRIBE
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and only the topics the principal may DESCRIBE are listed.
import { DescribeTransactions } from "../../protocol/apis/65-describe-transactions.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DescribeTransactions, (req, ctx) => ({
  throttleTimeMs: 0,
  transactionStates: req.transactionalIds.map((id) => {
    if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id))
      return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionalId: id, transactionState: "", transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] };
    const state = ctx.broker.txn.describe(id);
    return { ...state, topics: state.topics.filter((t) => ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic, false)) };
  }),
}));
