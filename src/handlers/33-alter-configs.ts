// AlterConfigs v0–v2: for a TOPIC the given configs replace all that were set before (those left out go
// back to their defaults), validated by name and value (INVALID_CONFIG with the reason); accepted
// configs are persisted in the topic catalogue and applied to the partitions' logs at once (segment.bytes
// and segment.ms take effect at the next roll decision). For the BROKER (node id) or the cluster default
// (""), the dynamic broker configs of that scope are replaced likewise; read-only broker configs get
// INVALID_REQUEST. validate_only checks without changing anything. A resource named twice in a request
// gets INVALID_REQUEST. With an authorizer a resource needs ALTER_CONFIGS on the cluster (brokers:
// CLUSTER_AUTHORIZATION_FAILED) or the topic (TOPIC_AUTHORIZATION_FAILED).
import { AlterConfigs } from "../../protocol/apis/33-alter-configs.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation } from "../acl/acl.ts";
import { ResourceError, alterResource, configAuthorizationError, duplicateResources } from "./config-resources.ts";
import { handler } from "./handler.ts";

export default handler(AlterConfigs, (req, ctx) => {
  const { broker } = ctx;
  const dups = duplicateResources(req.resources);
  const responses = req.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (dups.has(`${r.resourceType}:${r.resourceName}`))
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Duplicate resource in the request" };
    const denied = configAuthorizationError(ctx, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName);
    if (denied) return { ...base, errorCode: denied.code, errorMessage: denied.message };
    try {
      const changes = r.configs.map((c) => ({ name: c.name, op: 0, value: c.value }));
      alterResource(broker, r.resourceType, r.resourceName, changes, false, req.validateOnly);
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
    } catch (e) {
      if (!(e instanceof ResourceError)) throw e;
      broker.log.info(`AlterConfigs ${r.resourceType}:${r.resourceName} refused: ${e.message}`);
      return { ...base, errorCode: e.code, errorMessage: e.message };
    }
  });
  return { throttleTimeMs: 0, responses };
});
