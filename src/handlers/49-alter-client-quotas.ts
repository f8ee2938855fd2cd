// AlterClientQuotas v0–v1: sets and removes quota values per entity (user, client-id, ip; a null name is
// the default entity), validated as Kafka's controller does (INVALID_REQUEST with its messages, per
// entity). Accepted changes are written (brook-client-quotas.json) before the answer and take effect on
// the next Produce/Fetch; validate_only checks without changing anything. With an authorizer it needs
// ALTER_CONFIGS on the cluster (every entity CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { AlterClientQuotas } from "../../protocol/apis/49-alter-client-quotas.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(AlterClientQuotas, (req, ctx) => {
  if (!ctx.authorize(AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME))
    return {
      throttleTimeMs: 0,
      entries: req.entries.map((e) => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: "Cluster authorization failed.", entity: e.entity })),
    };
  const results = ctx.broker.quotas.store.alter(req.entries, req.validateOnly);
  return {
    throttleTimeMs: 0,
    entries: req.entries.map((e, i) => ({ ...results[i]!, entity: e.entity })),
  };
});
