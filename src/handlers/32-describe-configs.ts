// DescribeConfigs v0–v4 for TOPIC and BROKER resources. Topic configs: every config Kafka defines for a
// topic, with its effective value and where it comes from (DYNAMIC_TOPIC_CONFIG when set on the topic,
// else the broker layer that supplies it: DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG,
// STATIC_BROKER_CONFIG, or DEFAULT_CONFIG). Broker "<node id>": every broker property, read-only unless
// it can be altered at runtime (see dynamic-config.ts); broker "": the cluster-wide dynamic defaults.
// v0 answers is-default instead of the source; synonyms (v1+) only when asked for; v3+ the config
// type. CLIENT_METRICS (telemetry subscriptions): metrics, interval.ms, match. Not done: documentation
// (always null), BROKER_LOGGER / GROUP resources
// (INVALID_REQUEST), sensitive configs (Brook has none). With an authorizer a resource needs
// DESCRIBE_CONFIGS on the cluster (brokers and client metrics: CLUSTER_AUTHORIZATION_FAILED) or the topic
// (TOPIC_AUTHORIZATION_FAILED); refused resources follow the described ones, as Kafka orders them.
import { DescribeConfigs } from "../../protocol/apis/32-describe-configs.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation } from "../acl/acl.ts";
import { ResourceError, configAuthorizationError, describeResource } from "./config-resources.ts";
import { handler } from "./handler.ts";

export default handler(DescribeConfigs, (req, ctx) => {
  const { broker, version } = ctx;
  const refused: { resourceType: number; resourceName: string; errorCode: number; errorMessage: string; configs: [] }[] = [];
  const allowed = req.resources.filter((r) => {
    const denied = configAuthorizationError(ctx, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
    if (denied) refused.push({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: denied.code, errorMessage: denied.message, configs: [] });
    return !denied;
  });
  const results = allowed.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    try {
      const configs = describeResource(broker, r.resourceType, r.resourceName, r.configurationKeys, version >= 1 && req.includeSynonyms);
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
    } catch (e) {
      if (!(e instanceof ResourceError)) throw e;
      return { ...base, errorCode: e.code, errorMessage: e.message, configs: [] };
    }
  });
  return { throttleTimeMs: 0, results: [...results, ...refused] };
});
