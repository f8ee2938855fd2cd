// DescribeClientQuotas v0–v1: the stored quotas of the entities a filter matches (src/quotas): per
// component an exact name (0), the default entity (1) or any entity of the type (2); `strict` leaves out
// entities with other entity types. A bad filter (empty or repeated type, a match string where none
// belongs, ip with user or client-id) is INVALID_REQUEST, an unknown entity type UNSUPPORTED_VERSION,
// with Kafka's messages and no entries. With an authorizer it needs DESCRIBE_CONFIGS on the cluster
// (CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { DescribeClientQuotas } from "../../protocol/apis/48-describe-client-quotas.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { InvalidQuotaRequest } from "../quotas/client-quotas.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DescribeClientQuotas, (req, ctx) => {
  if (!ctx.authorize(AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME))
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null };
  try {
    const found = ctx.broker.quotas.store.describe(req.components, req.strict);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      entries: found.map(({ entity, values }) => ({
        entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
        values: values.map(([key, value]) => ({ key, value })),
      })),
    };
  } catch (e) {
    if (!(e instanceof InvalidQuotaRequest)) throw e;
    return { throttleTimeMs: 0, errorCode: e.errorCode, errorMessage: e.message, entries: null };
  }
});
