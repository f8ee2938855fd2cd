// AlterClientQuotas v0–v1: sets and removes quota values per entity (user, client-id, ip; a null name is
// the default entity), validated as Kafka's controller does (INVALID_REQUEST with its messages, per
// entity). Accepted changes are written (brook-client-quotas.json) before the answer and take effect on
// the next Produce/Fetch; validate_only checks without changing anything.
import { AlterClientQuotas } from "../../protocol/apis/49-alter-client-quotas.ts";
import { handler } from "./handler.ts";

export default handler(AlterClientQuotas, (req, ctx) => {
  const results = ctx.broker.quotas.store.alter(req.entries, req.validateOnly);
  return {
    throttleTimeMs: 0,
    entries: req.entries.map((e, i) => ({ ...results[i]!, entity: e.entity })),
  };
});
