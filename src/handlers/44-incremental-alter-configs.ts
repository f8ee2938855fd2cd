// IncrementalAlterConfigs v0–v1: per key SET, DELETE (back to the default), APPEND and SUBTRACT (list
// configs only, e.g. cleanup.policy; INVALID_CONFIG otherwise), on TOPIC and BROKER resources with the
// same validation, persistence and live effect as AlterConfigs. A key named twice in one resource, a SET
// with a null value, or a resource named twice gets INVALID_REQUEST. All of a resource's changes apply,
// or none. With an authorizer a resource needs ALTER_CONFIGS on the cluster (brokers:
// CLUSTER_AUTHORIZATION_FAILED) or the topic (TOPIC_AUTHORIZATION_FAILED).
import { IncrementalAlterConfigs } from "../../protocol/apis/44-incremental-alter-configs.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation } from "../acl/acl.ts";
import { ResourceError, alterResource, configAuthorizationError, duplicateResources } from "./config-resources.ts";
import { handler } from "./handler.ts";

export default handler(IncrementalAlterConfigs, (req, ctx) => {
  const { broker } = ctx;
  const dups = duplicateResources(req.resources);
  const responses = req.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (dups.has(`${r.resourceType}:${r.resourceName}`))
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Duplicate resource in the request" };
    const denied = configAuthorizationError(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName);
    if (denied) return { ...base, errorCode: denied.code, errorMessage: denied.message };
    try {
      const changes = r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }));
      alterResource(broker, r.resourceType, r.resourceName, changes, true, req.validateOnly);
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (e) {
      if (!(e instanceof ResourceError)) throw e;
      broker.log.info(`IncrementalAlterConfigs ${r.resourceType}:${r.resourceName} refused: ${e.message}`);
      return { ...base, errorCode: e.code, errorMessage: e.message };
    }
  });
  return { throttleTimeMs: 0, responses };
});
