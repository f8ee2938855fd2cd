// ListTransactions v0–v1: every transactional id the coordinator knows, filtered by state names (unknown
// names are returned in unknownStateFilters), producer ids, and (v1, KIP-994) a minimum running time.
import { ListTransactions } from "../../protocol/apis/66-list-transactions.ts";
import { handler } from "./handler.ts";

export default handler(ListTransactions, (req, ctx) => ({
  throttleTimeMs: 0,
  ...ctx.broker.txn.list(req.stateFilters, req.producerIdFilters, ctx.version >= 1 ? req.durationFilter : -1),
}));
