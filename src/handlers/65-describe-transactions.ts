// DescribeTransactions v0: each transactional id's state (Kafka's names: Empty, Ongoing, PrepareCommit,
// PrepareAbort, CompleteCommit, CompleteAbort), timeout, start time (-1 before the first transaction),
// producer id/epoch and the partitions of the open transaction. Unknown ids get
// TRANSACTIONAL_ID_NOT_FOUND.
import { DescribeTransactions } from "../../protocol/apis/65-describe-transactions.ts";
import { handler } from "./handler.ts";

export default handler(DescribeTransactions, (req, ctx) => ({
  throttleTimeMs: 0,
  transactionStates: req.transactionalIds.map((id) => ctx.broker.txn.describe(id)),
}));
