// ListTransactions v0–v1: every transactional id the coordinator knows, filtered by state names (unknown
// names are returned in unknownStateFilters), producer ids, and (v1, KIP-994) a minimum running time.
// With an authorizer only the ids the principal may DESCRIBE are listed.
import { ListTransactions } from "../../protocol/apis/66-list-transactions.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(ListTransactions, (req, ctx) => {
  const r = ctx.broker.txn.list(req.stateFilters, req.producerIdFilters, ctx.version >= 1 ? req.durationFilter : -1);
  const transactionStates = r.transactionStates.filter((t) => ctx.authorize(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId, false));
  return { throttleTimeMs: 0, ...r, transactionStates };
});
