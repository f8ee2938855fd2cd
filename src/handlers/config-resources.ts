// Config resources as the admin APIs see them (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs):
// TOPIC (2), BROKER (4) and CLIENT_METRICS (16, the telemetry subscriptions of src/telemetry: metrics,
// interval.ms, match; set values have source CLIENT_METRICS_CONFIG). A broker is named by its node id, or "" for the cluster-wide default of the
// dynamic broker configs. Errors are Kafka's: UNKNOWN_TOPIC_OR_PARTITION for a missing topic,
// INVALID_CONFIG for unknown names and bad values, INVALID_REQUEST for read-only broker configs, other
// broker ids, duplicate keys or resources and unsupported resource types.
import { ErrorCode } from "../../protocol/errors.ts";
import type { BrokerContext, RequestContext } from "./handler.ts";
import { AclOperation, CLUSTER_NAME, ResourceType as AclResource } from "../acl/acl.ts";
import { PROPERTIES } from "../config.ts";
import { CLIENT_METRICS_CONFIGS, TelemetryConfigError } from "../telemetry/client-telemetry.ts";
import { DYNAMIC_BROKER_CONFIGS, type Scope } from "../dynamic-config.ts";
import {
  ConfigChangeError,
  ConfigSource,
  TOPIC_CONFIGS,
  applyTopicConfigChanges,
  brokerPropertyLayers,
  brokerValueString,
  configTypeOf,
  isListConfig,
  topicConfigSource,
  topicConfigSynonyms,
  topicConfigType,
  topicConfigValue,
  type Synonym,
} from "../topic-config.ts";

/** DescribeConfigs' config type of a password (Kafka's ConfigDef.Type.PASSWORD) */
const PASSWORD_CONFIG_TYPE = 9;

export const ResourceType = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;
export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: Synonym[];
  configType: number;
  documentation: string | null;
}

export class ResourceError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function fromChangeError(e: unknown): never {
  if (e instanceof ConfigChangeError) throw new ResourceError(ErrorCode[e.error], e.message);
  throw e;
}

/** "broker" for this node's id, "default" for "", else an INVALID_REQUEST error. */
export function brokerScope(broker: BrokerContext, name: string): Scope {
  if (name === "") return "default";
  if (!/^-?\d+$/.test(name)) throw new ResourceError(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`);
  if (Number(name) !== broker.nodeId)
    throw new ResourceError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${name}`);
  return "broker";
}

function unsupportedType(type: number): ResourceError {
  return new ResourceError(ErrorCode.INVALID_REQUEST, `Resource type ${type} is not supported by Brook (only TOPIC (2), BROKER (4) and CLIENT_METRICS (16))`);
}

const CLIENT_METRICS_CONFIG_SOURCE = 7;
const LIST_TYPE = 7;
const INT_TYPE = 3;

function clientMetricsEntries(broker: BrokerContext, name: string, wanted: (n: string) => boolean): ConfigEntry[] {
  return CLIENT_METRICS_CONFIGS.filter(wanted).map((n) => {
    const { value, set } = broker.telemetry.configValue(name, n);
    return {
      name: n,
      value,
      readOnly: false,
      isDefault: !set,
      configSource: set ? CLIENT_METRICS_CONFIG_SOURCE : ConfigSource.DEFAULT_CONFIG,
      isSensitive: false,
      synonyms: [],
      configType: n === "interval.ms" ? INT_TYPE : LIST_TYPE,
      documentation: null,
    };
  });
}

function topicOf(broker: BrokerContext, name: string) {
  const topic = broker.topics.get(name);
  if (!topic) throw new ResourceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${name} does not exist.`);
  return topic;
}

/** The configs of a resource (all, or those named in keys). Throws ResourceError. */
export function describeResource(broker: BrokerContext, type: number, name: string, keys: string[] | null, includeSynonyms: boolean): ConfigEntry[] {
  const wanted = (n: string) => keys === null || keys.length === 0 || keys.includes(n);
  const config = broker.config;
  if (type === ResourceType.TOPIC) {
    const topic = topicOf(broker, name);
    return Object.keys(TOPIC_CONFIGS)
      .filter(wanted)
      .map((n) => {
        const source = topicConfigSource(topic.configs, n, config);
        return {
          name: n,
          value: topicConfigValue(topic.configs, n, config),
          readOnly: false,
          isDefault: source === ConfigSource.DEFAULT_CONFIG,
          configSource: source,
          isSensitive: false,
          synonyms: includeSynonyms ? topicConfigSynonyms(topic.configs, n, config) : [],
          configType: topicConfigType(n),
          documentation: null,
        };
      });
  }
  if (type === ResourceType.BROKER) {
    const scope = brokerScope(broker, name);
    const names =
      scope === "default" ? [...(config.dynamic?.clusterDefault.keys() ?? [])] : Object.keys(PROPERTIES);
    return names.filter(wanted).map((n) => {
      const spec = PROPERTIES[n]!;
      let layers = brokerPropertyLayers(n, config);
      if (scope === "default") layers = layers.filter((l) => l.source !== ConfigSource.DYNAMIC_BROKER_CONFIG);
      const source = layers[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
      const value =
        scope === "default" ? (config.dynamic?.clusterDefault.get(n) ?? null) : brokerValueString(config.get(n), spec.kind);
      // Passwords and keys: as in Kafka, reported as sensitive, never with their value.
      const sensitive = spec.sensitive === true;
      return {
        name: n,
        value: sensitive ? null : value,
        readOnly: !DYNAMIC_BROKER_CONFIGS.has(n),
        isDefault: source === ConfigSource.DEFAULT_CONFIG,
        configSource: source,
        isSensitive: sensitive,
        synonyms: includeSynonyms ? (sensitive ? layers.map((l) => ({ ...l, value: null })) : layers) : [],
        configType: sensitive ? PASSWORD_CONFIG_TYPE : configTypeOf(spec.kind),
        documentation: null,
      };
    });
  }
  if (type === ResourceType.CLIENT_METRICS) return clientMetricsEntries(broker, name, wanted);
  throw unsupportedType(type);
}

export interface ConfigChange {
  name: string;
  op: number;
  value: string | null;
}

function checkDuplicateKeys(changes: ConfigChange[]): void {
  const seen = new Set<string>();
  const dup = changes.filter((c) => (seen.has(c.name) ? true : (seen.add(c.name), false))).map((c) => c.name);
  if (dup.length > 0) throw new ResourceError(ErrorCode.INVALID_REQUEST, `Error due to duplicate config keys: ${[...new Set(dup)].join(", ")}`);
}

/** Resolves incremental operations against the current values into name → value | null (= default). */
function resolveOps(changes: ConfigChange[], current: (name: string) => string, isList: (name: string) => boolean): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const c of changes) {
    switch (c.op) {
      case ConfigOp.SET:
        if (c.value === null) throw new ResourceError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${c.name}`);
        out.set(c.name, c.value);
        break;
      case ConfigOp.DELETE:
        out.set(c.name, null);
        break;
      case ConfigOp.APPEND:
      case ConfigOp.SUBTRACT: {
        if (!isList(c.name))
          throw new ResourceError(ErrorCode.INVALID_CONFIG, `Config value ${c.op === ConfigOp.APPEND ? "append" : "subtract"} is not allowed for config key: ${c.name}`);
        const items = current(c.name).split(",").map((s) => s.trim()).filter((s) => s !== "");
        const given = (c.value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
        const next = c.op === ConfigOp.APPEND ? [...items, ...given.filter((g) => !items.includes(g))] : items.filter((i) => !given.includes(i));
        out.set(c.name, next.join(","));
        break;
      }
      default:
        throw new ResourceError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${c.op} for ${c.name}`);
    }
  }
  return out;
}

/**
 * Alters one resource. incremental=false is AlterConfigs: the given set replaces everything set before.
 * Throws ResourceError; nothing changes unless all of the resource's changes are valid.
 */
export function alterResource(broker: BrokerContext, type: number, name: string, changes: ConfigChange[], incremental: boolean, validateOnly: boolean): void {
  checkDuplicateKeys(changes);
  if (type === ResourceType.TOPIC) {
    const topic = topicOf(broker, name);
    let next: Record<string, string>;
    try {
      if (incremental) {
        const resolved = resolveOps(changes, (n) => topicConfigValue(topic.configs, n, broker.config), isListConfig);
        next = applyTopicConfigChanges(topic.configs, resolved);
      } else {
        next = applyTopicConfigChanges({}, new Map(changes.map((c) => [c.name, c.value])));
      }
    } catch (e) {
      fromChangeError(e);
    }
    if (validateOnly) return;
    broker.topics.setConfigs(name, next);
    broker.log.info(`altered configs of topic ${name}: ${JSON.stringify(next)}`);
    broker.maintenance.cleaner?.wake();
    return;
  }
  if (type === ResourceType.BROKER) {
    const scope = brokerScope(broker, name);
    const config = broker.config;
    try {
      const resolved = incremental
        ? resolveOps(
            changes,
            (n) => brokerValueString(n in PROPERTIES ? config.get(n) : null) ?? "",
            (n) => PROPERTIES[n]?.kind === "list",
          )
        : new Map(changes.map((c) => [c.name, c.value] as [string, string | null]));
      broker.dynamicConfig.alter(scope, resolved, validateOnly, !incremental);
    } catch (e) {
      fromChangeError(e);
    }
    if (validateOnly) return;
    broker.topics.refreshLogConfigs();
    broker.log.info(`altered dynamic broker configs (${scope === "default" ? "cluster default" : `node ${broker.nodeId}`})`);
    broker.maintenance.cleaner?.wake();
    return;
  }
  if (type === ResourceType.CLIENT_METRICS) {
    const t = broker.telemetry;
    try {
      const resolved = incremental
        ? resolveOps(changes, (n) => t.configValue(name, n).value, (n) => n === "metrics" || n === "match")
        : new Map(changes.map((c) => [c.name, c.value] as [string, string | null]));
      t.alterSubscription(name, resolved, !incremental, validateOnly);
    } catch (e) {
      if (e instanceof TelemetryConfigError) throw new ResourceError(e.errorCode, e.message);
      throw e;
    }
    return;
  }
  throw unsupportedType(type);
}

/** Marks resources named more than once in one request (Kafka refuses all of them). */
export function duplicateResources(resources: { resourceType: number; resourceName: string }[]): Set<string> {
  const count = new Map<string, number>();
  for (const r of resources) {
    const k = `${r.resourceType}:${r.resourceName}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  return new Set([...count].filter(([, n]) => n > 1).map(([k]) => k));
}

/**
 * Kafka's authorization of a config resource: the cluster for BROKER, BROKER_LOGGER and CLIENT_METRICS,
 * the topic or group otherwise. The refusal (error code and Kafka's message), or null when allowed or
 * when the type is one Kafka refuses anyway (INVALID_REQUEST comes from describe/alter).
 */
export function configAuthorizationError(
  ctx: Pick<RequestContext, "authorize">,
  op: typeof AclOperation.DESCRIBE_CONFIGS | typeof AclOperation.ALTER_CONFIGS,
  type: number,
  name: string,
): { code: number; message: string } | null {
  switch (type) {
    case ResourceType.BROKER:
    case ResourceType.BROKER_LOGGER:
    case ResourceType.CLIENT_METRICS:
      return ctx.authorize(op, AclResource.CLUSTER, CLUSTER_NAME) ? null : { code: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message: "Cluster authorization failed." };
    case ResourceType.TOPIC:
      return ctx.authorize(op, AclResource.TOPIC, name) ? null : { code: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: "Topic authorization failed." };
    case ResourceType.GROUP:
      return ctx.authorize(op, AclResource.GROUP, name) ? null : { code: ErrorCode.GROUP_AUTHORIZATION_FAILED, message: "Group authorization failed." };
    default:
      return null;
  }
}
