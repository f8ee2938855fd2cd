// Broker configuration under Apache Kafka's property names. Every property has a type and a default;
// an unknown name or an unreadable value is an error before anything listens. Properties Kafka has
// but a single-node Brook has no use for (thread counts, replication settings, KRaft roles) are
// accepted so a stock server.properties works, and reported as having no effect.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

type Kind = "int" | "long" | "bool" | "string" | "list" | "double";

interface PropertySpec {
  kind: Kind;
  default: string | null;
  min?: number;
  max?: number;
  /** accepted for compatibility with Kafka config files; Brook ignores the value */
  noEffect?: boolean;
  /** other names that set the same property (Kafka's older or alternative names) */
  aliases?: string[];
  oneOf?: string[];
  /** a password or key: never logged, and DescribeConfigs reports it as sensitive without a value */
  sensitive?: boolean;
  /** oneOf compares without regard to case (Kafka's CaseInsensitiveValidString) */
  caseInsensitive?: boolean;
}

const LONG_MAX = "9223372036854775807";

export const PROPERTIES: Record<string, PropertySpec> = {
  listeners: { kind: "list", default: "PLAINTEXT://127.0.0.1:9092" },
  "advertised.listeners": { kind: "list", default: null },
  "log.dirs": { kind: "list", default: "./data", aliases: ["log.dir"] },
  "node.id": { kind: "int", default: "1", min: 0, aliases: ["broker.id"] },
  "cluster.id": { kind: "string", default: null },
  "num.partitions": { kind: "int", default: "1", min: 1 },
  "default.replication.factor": { kind: "int", default: "1", min: 1 },
  // Brook's own: a replication factor above the broker count is accepted and served as 1 (false: refused, as Kafka does).
  "brook.replication.factor.clamp": { kind: "bool", default: "true" },
  "auto.create.topics.enable": { kind: "bool", default: "true" },
  "delete.topic.enable": { kind: "bool", default: "true" },
  "log.segment.bytes": { kind: "int", default: "1073741824", min: 14 },
  "log.roll.ms": { kind: "long", default: null, min: 1 },
  "log.roll.hours": { kind: "int", default: "168", min: 1 },
  "message.max.bytes": { kind: "int", default: "1048588", min: 0 },
  "socket.request.max.bytes": { kind: "int", default: "104857600", min: 1 },
  "log.flush.interval.messages": { kind: "long", default: LONG_MAX, min: 1 },
  "log.flush.interval.ms": { kind: "long", default: null, min: 0 },
  "log.flush.scheduler.interval.ms": { kind: "long", default: LONG_MAX, min: 0 },
  "log.index.interval.bytes": { kind: "int", default: "4096", min: 0 },
  "log.flush.offset.checkpoint.interval.ms": { kind: "int", default: "60000", min: 0 },
  "brook.log.dir.min.free.bytes": { kind: "long", default: null, min: 0 },
  "brook.topic.catalogue.rebuild": { kind: "bool", default: "false" },
  "log.message.timestamp.type": { kind: "string", default: "CreateTime", oneOf: ["CreateTime", "LogAppendTime"] },
  "compression.type": {
    kind: "string",
    default: "producer",
    oneOf: ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"],
  },
  "log.retention.hours": { kind: "int", default: "168" },
  "log.retention.minutes": { kind: "int", default: null },
  "log.retention.ms": { kind: "long", default: null },
  "log.retention.bytes": { kind: "long", default: "-1" },
  "log.retention.check.interval.ms": { kind: "long", default: "300000", min: 1 },
  "log.cleanup.policy": { kind: "list", default: "delete" },
  "log.cleaner.enable": { kind: "bool", default: "true" },
  "log.cleaner.backoff.ms": { kind: "long", default: "15000", min: 0 },
  "log.cleaner.min.cleanable.ratio": { kind: "double", default: "0.5", min: 0, max: 1 },
  "log.cleaner.delete.retention.ms": { kind: "long", default: "86400000", min: 0 },
  "log.cleaner.min.compaction.lag.ms": { kind: "long", default: "0", min: 0 },
  "min.insync.replicas": { kind: "int", default: "1", min: 1 },
  "group.initial.rebalance.delay.ms": { kind: "int", default: "3000", min: 0 },
  "group.min.session.timeout.ms": { kind: "int", default: "6000", min: 0 },
  "group.max.session.timeout.ms": { kind: "int", default: "1800000", min: 0 },
  "group.max.size": { kind: "int", default: "2147483647", min: 1 },
  // The consumer group protocol (KIP-848); cross-checked in src/group/context.ts.
  "group.consumer.session.timeout.ms": { kind: "int", default: "45000", min: 1 },
  "group.consumer.min.session.timeout.ms": { kind: "int", default: "45000", min: 1 },
  "group.consumer.max.session.timeout.ms": { kind: "int", default: "60000", min: 1 },
  "group.consumer.heartbeat.interval.ms": { kind: "int", default: "5000", min: 1 },
  "group.consumer.min.heartbeat.interval.ms": { kind: "int", default: "5000", min: 1 },
  "group.consumer.max.heartbeat.interval.ms": { kind: "int", default: "15000", min: 1 },
  "group.consumer.max.size": { kind: "int", default: "2147483647", min: 1 },
  "group.consumer.assignors": { kind: "list", default: "uniform,range" },
  "group.consumer.migration.policy": { kind: "string", default: "bidirectional", oneOf: ["disabled", "upgrade", "downgrade", "bidirectional"], caseInsensitive: true },
  "offsets.retention.minutes": { kind: "int", default: "10080", min: 1 },
  "offsets.retention.check.interval.ms": { kind: "long", default: "600000", min: 1 },
  "offset.metadata.max.bytes": { kind: "int", default: "4096", min: 0 },
  "transaction.max.timeout.ms": { kind: "int", default: "900000", min: 1 },
  "transactional.id.expiration.ms": { kind: "int", default: "604800000", min: 1 },
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": { kind: "int", default: "10000", min: 1 },
  "producer.id.expiration.ms": { kind: "int", default: "86400000", min: 1 },
  // Brook's own: host:port of the HTTP listener (metrics, health, web console); unset = off.
  "brook.http.listener": { kind: "string", default: null },
  "max.incremental.fetch.session.cache.slots": { kind: "int", default: "1000", min: 0 },
  "max.request.partition.size.limit": { kind: "int", default: "2000", min: 1 },
  // Connection limits and bounded request/response memory (src/server/connections.ts, connection.ts).
  "max.connections": { kind: "int", default: "2147483647", min: 0 },
  "max.connections.per.ip": { kind: "int", default: "2147483647", min: 0 },
  "max.connections.per.ip.overrides": { kind: "string", default: "" },
  "connections.max.idle.ms": { kind: "long", default: "600000", min: -1 },
  "queued.max.requests": { kind: "int", default: "500", min: 1 },
  "queued.max.request.bytes": { kind: "long", default: "-1", min: -1 },
  "brook.connection.max.unsent.bytes": { kind: "int", default: "1048576", min: 0 },
  "brook.memory.trim.interval.ms": { kind: "long", default: "30000", min: 0 },
  "fetch.max.bytes": { kind: "int", default: "57671680", min: 1024 },
  // Accepted for compatibility with stock Kafka config files; no effect on a single in-process node.
  "process.roles": { kind: "list", default: "broker,controller", noEffect: true },
  "controller.quorum.voters": { kind: "list", default: null, noEffect: true },
  "controller.quorum.bootstrap.servers": { kind: "list", default: null, noEffect: true },
  "controller.listener.names": { kind: "list", default: null },
  "inter.broker.listener.name": { kind: "string", default: null, noEffect: true },
  "listener.security.protocol.map": { kind: "list", default: null },
  "num.network.threads": { kind: "int", default: "3", min: 1, noEffect: true },
  "num.io.threads": { kind: "int", default: "8", min: 1, noEffect: true },
  "socket.send.buffer.bytes": { kind: "int", default: "102400", noEffect: true },
  "socket.receive.buffer.bytes": { kind: "int", default: "102400", noEffect: true },
  "num.recovery.threads.per.data.dir": { kind: "int", default: "1", min: 1, noEffect: true },
  "offsets.topic.replication.factor": { kind: "int", default: "3", min: 1, noEffect: true },
  "offsets.topic.num.partitions": { kind: "int", default: "50", min: 1, noEffect: true },
  "transaction.state.log.replication.factor": { kind: "int", default: "3", min: 1, noEffect: true },
  "transaction.state.log.min.isr": { kind: "int", default: "2", min: 1, noEffect: true },
  "zookeeper.connect": { kind: "string", default: null, noEffect: true },
  "zookeeper.connection.timeout.ms": { kind: "int", default: null, noEffect: true },
  "group.coordinator.rebalance.protocols": { kind: "list", default: "classic,consumer" },
  "unclean.leader.election.enable": { kind: "bool", default: "false", noEffect: true },
  // Security (issue 8; src/security/). Per-listener overrides: listener.name.<listener>.<property>, and for
  // SASL listener.name.<listener>.<mechanism>.sasl.jaas.config (see LISTENER_PROPERTIES below).
  "sasl.enabled.mechanisms": { kind: "list", default: "GSSAPI" },
  "connections.max.reauth.ms": { kind: "long", default: "0", min: 0 },
  "connection.failed.authentication.delay.ms": { kind: "int", default: "100", min: 0 },
  "sasl.server.max.receive.size": { kind: "int", default: "524288", min: 1 },
  "sasl.mechanism.inter.broker.protocol": { kind: "string", default: "GSSAPI", noEffect: true },
  "security.inter.broker.protocol": { kind: "string", default: "PLAINTEXT", noEffect: true },
  "ssl.keystore.type": { kind: "string", default: "JKS", oneOf: ["JKS", "PKCS12", "PEM"] },
  "ssl.keystore.location": { kind: "string", default: null },
  "ssl.keystore.password": { kind: "string", default: null, sensitive: true },
  "ssl.key.password": { kind: "string", default: null, sensitive: true },
  "ssl.keystore.certificate.chain": { kind: "string", default: null, sensitive: true },
  "ssl.keystore.key": { kind: "string", default: null, sensitive: true },
  "ssl.truststore.type": { kind: "string", default: "JKS", oneOf: ["JKS", "PKCS12", "PEM"] },
  "ssl.truststore.location": { kind: "string", default: null },
  "ssl.truststore.password": { kind: "string", default: null, sensitive: true },
  "ssl.truststore.certificates": { kind: "string", default: null, sensitive: true },
  "ssl.client.auth": { kind: "string", default: "none", oneOf: ["none", "requested", "required"] },
  "ssl.principal.mapping.rules": { kind: "string", default: "DEFAULT" },
  "ssl.enabled.protocols": { kind: "list", default: "TLSv1.2,TLSv1.3" },
  "ssl.protocol": { kind: "string", default: "TLSv1.3" },
  "ssl.cipher.suites": { kind: "list", default: "" },
  "ssl.endpoint.identification.algorithm": { kind: "string", default: "https", noEffect: true },
  "ssl.keymanager.algorithm": { kind: "string", default: "SunX509", noEffect: true },
  "ssl.trustmanager.algorithm": { kind: "string", default: "PKIX", noEffect: true },
  "ssl.secure.random.implementation": { kind: "string", default: null, noEffect: true },
  "ssl.provider": { kind: "string", default: null, noEffect: true },
  // ACLs (issue 8; src/acl/). authorizer.class.name is checked by src/acl/authorizer.ts.
  "authorizer.class.name": { kind: "string", default: "" },
  "super.users": { kind: "string", default: null },
  "allow.everyone.if.no.acl.found": { kind: "bool", default: "false" },
  // Client quotas (src/quotas/client-quotas.ts): the samples of the byte-rate sensors.
  "quota.window.num": { kind: "int", default: "11", min: 1 },
  "quota.window.size.seconds": { kind: "int", default: "1", min: 1 },
  // Client telemetry (src/telemetry/client-telemetry.ts): the largest PushTelemetry accepted.
  "telemetry.max.bytes": { kind: "int", default: "1048576", min: 1 },
};

/**
 * Properties a listener may override with Kafka's prefix, listener.name.<listener>.<property> (the
 * listener name in lower case), each key on its own: a key the listener does not override comes from the
 * unprefixed property.
 */
export const LISTENER_PROPERTIES = new Set([
  "sasl.enabled.mechanisms",
  "connections.max.reauth.ms",
  ...Object.keys(PROPERTIES).filter((name) => name.startsWith("ssl.")),
]);

/** Per-mechanism listener properties: listener.name.<listener>.<mechanism>.<property>. */
export const MECHANISM_PROPERTIES: Record<string, PropertySpec> = {
  "sasl.jaas.config": { kind: "string", default: null, sensitive: true },
  "connections.max.reauth.ms": PROPERTIES["connections.max.reauth.ms"]!,
};

const LISTENER_PREFIX = /^listener\.name\.([A-Za-z_][A-Za-z0-9_]*)\.(.+)$/;
const SASL_MECHANISM_NAMES = new Set(["gssapi", "plain", "scram-sha-256", "scram-sha-512", "oauthbearer"]);

/** The spec of a listener-prefixed property and its normalised name, or null when the name is not one. */
function listenerPropertySpec(name: string): { name: string; spec: PropertySpec } | null {
  const m = LISTENER_PREFIX.exec(name);
  if (!m) return null;
  const listener = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (LISTENER_PROPERTIES.has(rest)) return { name: `listener.name.${listener}.${rest}`, spec: PROPERTIES[rest]! };
  const dot = rest.indexOf(".");
  const mechanism = rest.slice(0, dot).toLowerCase();
  const property = rest.slice(dot + 1);
  if (dot > 0 && SASL_MECHANISM_NAMES.has(mechanism) && MECHANISM_PROPERTIES[property])
    return { name: `listener.name.${listener}.${mechanism}.${property}`, spec: MECHANISM_PROPERTIES[property]! };
  return null;
}

/**
 * A property as one listener sees it: listener.name.<listener>.<mechanism>.<name> (with a mechanism),
 * else listener.name.<listener>.<name>, else the broker-wide property. Parsed to its kind.
 */
export function listenerSetting(config: BrokerConfig, listener: string, name: string, mechanism?: string) {
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  const keys = mechanism ? [`${prefix}${mechanism.toLowerCase()}.${name}`, `${prefix}${name}`] : [`${prefix}${name}`];
  for (const key of keys) {
    const value = config.raw.get(key);
    if (value === undefined) continue;
    const spec = listenerPropertySpec(key)?.spec;
    if (spec) return parseValue(key, spec, value);
  }
  if (name in PROPERTIES) return config.get(name);
  return null;
}

const ALIAS: Record<string, string> = {};
for (const [name, spec] of Object.entries(PROPERTIES)) for (const a of spec.aliases ?? []) ALIAS[a] = name;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export const SECURITY_PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
/** Security protocols this build can serve (the others are refused when the config is read). */
export const SERVED_SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

/** A listener Brook opens: where it binds, how it is secured and what Metadata tells its clients. */
export interface ListenerConfig extends Listener {
  securityProtocol: SecurityProtocol;
  /** from advertised.listeners (same name), else the bound address; port 0 = the port actually bound */
  advertised: { host: string; port: number };
}

/** The parsed, validated configuration the broker runs with. */
export interface BrokerConfig {
  raw: Map<string, string>;
  /** the listeners to open, in the order given (controller listeners are left out) */
  listeners: ListenerConfig[];
  logDirs: string[];
  nodeId: number;
  clusterId: string | null;
  numPartitions: number;
  defaultReplicationFactor: number;
  autoCreateTopics: boolean;
  deleteTopicEnable: boolean;
  segmentBytes: number;
  segmentMs: number;
  messageMaxBytes: number;
  socketRequestMaxBytes: number;
  flushIntervalMessages: number;
  flushIntervalMs: number;
  indexIntervalBytes: number;
  /** brook.http.listener: where /metrics, /healthz, /readyz and the console are served; null = off */
  httpListener: { host: string; port: number } | null;
  /** any property by name, parsed to its kind (for later features and DescribeConfigs) */
  get(name: string): string | number | boolean | string[] | null;
  /** properties set explicitly but without effect in Brook */
  ignored: string[];
  /**
   * Dynamic broker configs (IncrementalAlterConfigs/AlterConfigs on the broker resource), merged into
   * get() and the fields above by dynamic-config.ts; `raw` keeps only the static settings.
   */
  dynamic?: { perBroker: Map<string, string>; clusterDefault: Map<string, string> };
}

function parseValue(name: string, spec: PropertySpec, value: string): string | number | boolean | string[] {
  const v = value.trim();
  const fail = (why: string) => {
    throw new ConfigError(`invalid value ${spec.sensitive ? "(hidden)" : `"${value}"`} for ${name}: ${why}`);
  };
  switch (spec.kind) {
    case "int":
    case "long": {
      if (!/^-?\d+$/.test(v)) fail(`expected ${spec.kind === "int" ? "an integer" : "a long"}`);
      let n = Number(v);
      if (spec.kind === "int" && (n > 2147483647 || n < -2147483648)) fail("out of the int range");
      if (n > Number.MAX_SAFE_INTEGER) n = Number.MAX_SAFE_INTEGER; // Long.MAX_VALUE means "never"
      if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(`must be at most ${spec.max}`);
      return n;
    }
    case "double": {
      const n = Number(v);
      if (v === "" || Number.isNaN(n)) fail("expected a number");
      if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(`must be at most ${spec.max}`);
      return n;
    }
    case "bool":
      if (v.toLowerCase() === "true") return true;
      if (v.toLowerCase() === "false") return false;
      return fail("expected true or false");
    case "list":
      return v === "" ? [] : v.split(",").map((s) => s.trim());
    case "string":
      if (spec.oneOf && !spec.oneOf.includes(spec.caseInsensitive ? v.toLowerCase() : v)) fail(`expected one of ${spec.oneOf.join(", ")}`);
      return v;
  }
}

/** Reads a Java-style .properties file: key=value or key: value, # and ! comments. */
export function readPropertiesFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    while (line.endsWith("\\") && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${path}:${i + 1}: cannot read "${line}"`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

export function parseListener(value: string, property: string): Listener {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(value.trim());
  if (!m) throw new ConfigError(`invalid value "${value}" for ${property}: expected NAME://host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`invalid port ${port} in ${property}`);
  let host = m[2]!;
  if (host.startsWith("[")) host = host.slice(1, -1);
  return { name: m[1]!.toUpperCase(), host, port };
}

/** "host:port" or "[v6]:port" (an empty host binds every interface); null and "" mean unset. */
export function parseHostPort(value: string | null, property: string): { host: string; port: number } | null {
  if (value === null || value.trim() === "") return null;
  const m = /^(\[[^\]]*\]|[^:\[\]\s]*):(\d+)$/.exec(value.trim());
  if (!m) throw new ConfigError(`invalid value "${value}" for ${property}: expected host:port, e.g. 127.0.0.1:9644`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`invalid port ${port} in ${property}`);
  const host = m[1]!.startsWith("[") ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

/** Builds the configuration from property settings (later ones win). */
export function buildConfig(settings: Iterable<[string, string]>): BrokerConfig {
  const raw = new Map<string, string>();
  for (const [key, value] of settings) {
    const name = ALIAS[key] ?? key;
    const perListener = name in PROPERTIES ? null : listenerPropertySpec(name);
    if (perListener) {
      parseValue(perListener.name, perListener.spec, value);
      raw.set(perListener.name, value);
      continue;
    }
    if (!(name in PROPERTIES)) throw new ConfigError(`unknown property: ${key}`);
    raw.set(name, value);
  }
  const parsed = new Map<string, ReturnType<typeof parseValue> | null>();
  for (const [name, spec] of Object.entries(PROPERTIES)) {
    const value = raw.get(name) ?? spec.default;
    parsed.set(name, value === null ? null : parseValue(name, spec, value));
  }
  const get = (name: string) => {
    if (!parsed.has(name)) throw new Error(`no such property ${name}`);
    return parsed.get(name)!;
  };
  const num = (name: string) => get(name) as number;

  const listeners = resolveListeners(
    (get("listeners") as string[]).map((l) => parseListener(l, "listeners")),
    ((get("advertised.listeners") as string[] | null) ?? []).map((l) => parseListener(l, "advertised.listeners")),
    get("listener.security.protocol.map") as string[] | null,
    (get("controller.listener.names") as string[] | null) ?? [],
  );

  const rollMs = get("log.roll.ms") as number | null;
  const flushMs = get("log.flush.interval.ms") as number | null;
  const ignored = [...raw.keys()].filter((k) => PROPERTIES[k]?.noEffect);

  return {
    raw,
    listeners,
    logDirs: get("log.dirs") as string[],
    nodeId: num("node.id"),
    clusterId: get("cluster.id") as string | null,
    numPartitions: num("num.partitions"),
    defaultReplicationFactor: num("default.replication.factor"),
    autoCreateTopics: get("auto.create.topics.enable") as boolean,
    deleteTopicEnable: get("delete.topic.enable") as boolean,
    segmentBytes: num("log.segment.bytes"),
    segmentMs: rollMs ?? num("log.roll.hours") * 3600_000,
    messageMaxBytes: num("message.max.bytes"),
    socketRequestMaxBytes: num("socket.request.max.bytes"),
    flushIntervalMessages: num("log.flush.interval.messages"),
    flushIntervalMs: flushMs ?? num("log.flush.scheduler.interval.ms"),
    indexIntervalBytes: num("log.index.interval.bytes"),
    httpListener: parseHostPort(get("brook.http.listener") as string | null, "brook.http.listener"),
    get,
    ignored,
  };
}

const DEFAULT_PROTOCOL_MAP = new Map<string, string>(SECURITY_PROTOCOLS.map((p) => [p, p]));
const isWildcard = (host: string) => host === "" || host === "0.0.0.0" || host === "::";

/**
 * Kafka's listener rules: names are unique, each maps to a security protocol through
 * listener.security.protocol.map (which, when set, replaces the default identity map), advertised
 * listeners name listeners that exist and are addresses a client can connect to. Listeners named in
 * controller.listener.names belong to a KRaft controller and are not opened by Brook.
 */
function resolveListeners(
  listeners: Listener[],
  advertised: Listener[],
  protocolMapSetting: string[] | null,
  controllerNames: string[],
): ListenerConfig[] {
  let protocolMap = DEFAULT_PROTOCOL_MAP;
  if (protocolMapSetting && protocolMapSetting.length > 0) {
    protocolMap = new Map();
    for (const entry of protocolMapSetting) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_]+)$/.exec(entry.trim());
      if (!m) throw new ConfigError(`invalid entry "${entry}" in listener.security.protocol.map: expected NAME:PROTOCOL`);
      const protocol = m[2]!.toUpperCase();
      if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol))
        throw new ConfigError(`listener.security.protocol.map: unknown security protocol ${m[2]} (expected one of ${SECURITY_PROTOCOLS.join(", ")})`);
      protocolMap.set(m[1]!.toUpperCase(), protocol);
    }
  }
  const names = new Set<string>();
  for (const l of listeners) {
    if (names.has(l.name)) throw new ConfigError(`listeners: listener name ${l.name} appears more than once`);
    names.add(l.name);
  }
  for (const a of advertised) {
    if (!names.has(a.name)) throw new ConfigError(`advertised.listeners: ${a.name} is not one of the listeners (${[...names].join(", ")})`);
    if (isWildcard(a.host)) throw new ConfigError(`advertised.listeners: "${a.host}" is not an address a client can connect to`);
  }
  const controllers = new Set(controllerNames.map((n) => n.toUpperCase()));
  const out: ListenerConfig[] = [];
  const ports = new Map<number, string>();
  for (const l of listeners) {
    if (controllers.has(l.name)) continue;
    const protocol = protocolMap.get(l.name) as SecurityProtocol | undefined;
    if (!protocol)
      throw new ConfigError(`listeners: no security protocol for listener ${l.name}; add it to listener.security.protocol.map (e.g. ${l.name}:SASL_SSL)`);
    if (!SERVED_SECURITY_PROTOCOLS.includes(protocol))
      throw new ConfigError(`listeners: ${l.name} uses ${protocol}, which this build does not serve (served: ${SERVED_SECURITY_PROTOCOLS.join(", ")})`);
    // Kafka requires a distinct port per listener (port 0, "any free port", excepted).
    if (l.port !== 0) {
      const other = ports.get(l.port);
      if (other) throw new ConfigError(`listeners: ${other} and ${l.name} both use port ${l.port}; each listener needs its own port`);
      ports.set(l.port, l.name);
    }
    const adv = advertised.find((a) => a.name === l.name);
    // Like Kafka: a wildcard listener is advertised under the machine's host name, never as 0.0.0.0.
    const advertisedAddress = adv ? { host: adv.host, port: adv.port } : { host: isWildcard(l.host) ? hostname() : l.host, port: l.port };
    out.push({ ...l, securityProtocol: protocol, advertised: advertisedAddress });
  }
  if (out.length === 0) throw new ConfigError("listeners: no listener left to open (all of them are controller listeners)");
  return out;
}
