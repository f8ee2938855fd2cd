// Topic-level configs with Kafka's names, their broker-wide synonyms (the `log.`-prefixed defaults)
// and validation. A topic stores only what was set explicitly; everything else follows the broker:
// its dynamic settings (per broker, then cluster-wide default; see dynamic-config.ts), then its static
// properties, then Kafka's default. DescribeConfigs reports those layers as synonyms, strongest first.
import { PROPERTIES, type BrokerConfig } from "./config.ts";

type Kind = "int" | "long" | "double" | "bool" | "string" | "list";

interface TopicConfigSpec {
  kind: Kind;
  /** the broker property that supplies the default */
  synonym?: string;
  /** the default when no broker property does */
  fallback?: string;
  min?: number;
  max?: number;
  oneOf?: string[];
}

const LONG_MAX = "9223372036854775807";

export const TOPIC_CONFIGS: Record<string, TopicConfigSpec> = {
  "cleanup.policy": { kind: "list", synonym: "log.cleanup.policy", oneOf: ["delete", "compact"] },
  "compression.type": { kind: "string", synonym: "compression.type", oneOf: ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"] },
  "delete.retention.ms": { kind: "long", synonym: "log.cleaner.delete.retention.ms", min: 0 },
  "file.delete.delay.ms": { kind: "long", fallback: "60000", min: 0 },
  "flush.messages": { kind: "long", synonym: "log.flush.interval.messages", min: 1 },
  "flush.ms": { kind: "long", synonym: "log.flush.interval.ms", fallback: LONG_MAX, min: 0 },
  "index.interval.bytes": { kind: "int", synonym: "log.index.interval.bytes", min: 0 },
  "max.compaction.lag.ms": { kind: "long", fallback: LONG_MAX, min: 1 },
  "max.message.bytes": { kind: "int", synonym: "message.max.bytes", min: 0 },
  "message.downconversion.enable": { kind: "bool", fallback: "true" },
  "message.timestamp.type": { kind: "string", synonym: "log.message.timestamp.type", oneOf: ["CreateTime", "LogAppendTime"] },
  "message.timestamp.difference.max.ms": { kind: "long", fallback: LONG_MAX, min: 0 },
  "message.timestamp.before.max.ms": { kind: "long", fallback: LONG_MAX, min: 0 },
  "message.timestamp.after.max.ms": { kind: "long", fallback: LONG_MAX, min: 0 },
  "min.cleanable.dirty.ratio": { kind: "double", synonym: "log.cleaner.min.cleanable.ratio", min: 0, max: 1 },
  "min.compaction.lag.ms": { kind: "long", synonym: "log.cleaner.min.compaction.lag.ms", min: 0 },
  "min.insync.replicas": { kind: "int", synonym: "min.insync.replicas", min: 1 },
  preallocate: { kind: "bool", fallback: "false" },
  "retention.bytes": { kind: "long", synonym: "log.retention.bytes" },
  "retention.ms": { kind: "long", fallback: "604800000", min: -1 },
  "segment.bytes": { kind: "int", synonym: "log.segment.bytes", min: 14 },
  "segment.index.bytes": { kind: "int", fallback: "10485760", min: 4 },
  "segment.jitter.ms": { kind: "long", fallback: "0", min: 0 },
  "segment.ms": { kind: "long", fallback: "604800000", min: 1 },
  "unclean.leader.election.enable": { kind: "bool", fallback: "false" },
  "follower.replication.throttled.replicas": { kind: "list", fallback: "" },
  "leader.replication.throttled.replicas": { kind: "list", fallback: "" },
};

/** Returns an error message, or null when the setting is valid. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  const spec = TOPIC_CONFIGS[name];
  if (!spec) return `Unknown topic config name: ${name}`;
  if (value === null) return null; // null means "back to the default"
  const v = value.trim();
  const bad = (why: string) => `Invalid value ${value} for configuration ${name}: ${why}`;
  switch (spec.kind) {
    case "int":
    case "long": {
      if (!/^-?\d+$/.test(v)) return bad(`Not a number of type ${spec.kind.toUpperCase()}`);
      const n = Number(v);
      if (spec.kind === "int" && (n > 2147483647 || n < -2147483648)) return bad("Not a number of type INT");
      if (spec.min !== undefined && n < spec.min) return bad(`Value must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) return bad(`Value must be no more than ${spec.max}`);
      return null;
    }
    case "double": {
      const n = Number(v);
      if (v === "" || Number.isNaN(n)) return bad("Not a number of type DOUBLE");
      if (spec.min !== undefined && n < spec.min) return bad(`Value must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) return bad(`Value must be no more than ${spec.max}`);
      return null;
    }
    case "bool":
      return /^(true|false)$/i.test(v) ? null : bad("Expected value to be either true or false");
    case "string":
      return spec.oneOf && !spec.oneOf.includes(v) ? bad(`String must be one of: ${spec.oneOf.join(", ")}`) : null;
    case "list": {
      if (!spec.oneOf) return null;
      const items = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (items.length === 0 && name === "cleanup.policy") return null;
      const wrong = items.find((i) => !spec.oneOf!.includes(i));
      return wrong ? bad(`Invalid value ${wrong}, must be one of [${spec.oneOf.join(", ")}]`) : null;
    }
  }
}

/** The broker-wide default of a topic config, as a string. */
export function topicConfigDefault(name: string, broker: BrokerConfig): string {
  const spec = TOPIC_CONFIGS[name]!;
  if (name === "retention.ms") {
    const ms = broker.get("log.retention.ms") as number | null;
    const min = broker.get("log.retention.minutes") as number | null;
    const hours = broker.get("log.retention.hours") as number;
    return String(ms ?? (min !== null ? min * 60_000 : hours * 3_600_000));
  }
  if (name === "segment.ms") return String(broker.segmentMs);
  if (spec.synonym) {
    const v = broker.get(spec.synonym);
    if (v !== null) {
      if (Array.isArray(v)) return v.join(",");
      return spec.kind === "long" && v === Number.MAX_SAFE_INTEGER ? LONG_MAX : String(v);
    }
  }
  return spec.fallback ?? "";
}

/** DescribeConfigs config sources (Kafka's ConfigSource ids). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** DescribeConfigs v3+ config types. */
export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;

export function configTypeOf(kind: Kind): number {
  switch (kind) {
    case "bool":
      return ConfigType.BOOLEAN;
    case "string":
      return ConfigType.STRING;
    case "int":
      return ConfigType.INT;
    case "long":
      return ConfigType.LONG;
    case "double":
      return ConfigType.DOUBLE;
    case "list":
      return ConfigType.LIST;
  }
}

export interface Synonym {
  name: string;
  value: string | null;
  source: number;
}

/** Broker properties that supply a topic config's default, in order of precedence (the first is its primary). */
export function brokerSynonymsOf(name: string): string[] {
  if (name === "retention.ms") return RETENTION_GROUP;
  if (name === "segment.ms") return ROLL_GROUP;
  if (name === "flush.ms") return FLUSH_GROUP;
  const syn = TOPIC_CONFIGS[name]?.synonym;
  return syn ? [syn] : [];
}

const RETENTION_GROUP = ["log.retention.ms", "log.retention.minutes", "log.retention.hours"];
const ROLL_GROUP = ["log.roll.ms", "log.roll.hours"];
const FLUSH_GROUP = ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"];

/** The broker properties that can set a broker property (Kafka's DynamicBrokerConfig.brokerConfigSynonyms). */
export function brokerPropertySynonyms(name: string): string[] {
  if (RETENTION_GROUP.includes(name)) return RETENTION_GROUP;
  if (ROLL_GROUP.includes(name)) return ROLL_GROUP;
  if (name === "log.flush.interval.ms") return FLUSH_GROUP;
  return [name];
}

const LONG_MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A broker property value (as parsed) back to Kafka's string form. */
export function brokerValueString(v: string | number | boolean | string[] | null, kind?: string): string | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.join(",");
  if (typeof v === "number" && v === LONG_MAX_SAFE && kind === "long") return LONG_MAX;
  return String(v);
}

/** Where a broker property's value may come from, strongest first (Kafka's ConfigSource order). */
function layersOf(broker: BrokerConfig): [(name: string) => string | undefined, number][] {
  const dyn = broker.dynamic;
  return [
    [(n) => dyn?.perBroker.get(n), ConfigSource.DYNAMIC_BROKER_CONFIG],
    [(n) => dyn?.clusterDefault.get(n), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    [(n) => broker.raw.get(n), ConfigSource.STATIC_BROKER_CONFIG],
    [(n) => PROPERTIES[n]?.default ?? undefined, ConfigSource.DEFAULT_CONFIG],
  ];
}

/**
 * Kafka's synonym list for `primary` (ConfigHelper.configSynonyms): every layer in turn, strongest
 * first, and within it every name that can set the value; then everything before the first entry named
 * `primary` is dropped. So `log.retention.hours`' default alone gives an empty list for `log.retention.ms`.
 */
export function configSynonyms(primary: string, names: readonly string[], broker: BrokerConfig): Synonym[] {
  const out: Synonym[] = [];
  for (const [valueOf, source] of layersOf(broker))
    for (const n of names) {
      const value = valueOf(n);
      if (value !== undefined) out.push({ name: n, value, source });
    }
  const first = out.findIndex((s) => s.name === primary);
  return first < 0 ? [] : out.slice(first);
}

/** The synonyms of a broker property, as DescribeConfigs on the broker resource lists them. */
export function brokerPropertyLayers(name: string, broker: BrokerConfig): Synonym[] {
  return configSynonyms(name, brokerPropertySynonyms(name), broker);
}

/** The synonyms of a topic config: its topic-level value, then its broker synonyms as Kafka lists them. */
export function topicConfigSynonyms(explicit: Record<string, string>, name: string, broker: BrokerConfig): Synonym[] {
  const out: Synonym[] = [];
  if (explicit[name] !== undefined) out.push({ name, value: explicit[name]!, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
  const names = brokerSynonymsOf(name);
  if (names.length > 0) out.push(...configSynonyms(names[0]!, names, broker));
  return out;
}

/** Where a topic config's effective value comes from (a ConfigSource id). */
export function topicConfigSource(explicit: Record<string, string>, name: string, broker: BrokerConfig): number {
  if (explicit[name] !== undefined) return ConfigSource.DYNAMIC_TOPIC_CONFIG;
  const first = topicConfigSynonyms(explicit, name, broker)[0];
  return first ? first.source : ConfigSource.DEFAULT_CONFIG;
}

/** The effective value of every topic config for a topic. */
export function effectiveTopicConfigs(
  explicit: Record<string, string>,
  broker: BrokerConfig,
): { name: string; value: string; source: "topic" | "broker" | "default"; configSource: number }[] {
  return Object.keys(TOPIC_CONFIGS).map((name) => {
    const configSource = topicConfigSource(explicit, name, broker);
    const source =
      configSource === ConfigSource.DYNAMIC_TOPIC_CONFIG ? ("topic" as const) : configSource === ConfigSource.DEFAULT_CONFIG ? ("default" as const) : ("broker" as const);
    return { name, value: topicConfigValue(explicit, name, broker), source, configSource };
  });
}

/** The effective value of one topic config for a topic's explicit settings. */
export function topicConfigValue(explicit: Record<string, string>, name: string, broker: BrokerConfig): string {
  return explicit[name] ?? topicConfigDefault(name, broker);
}

/** cleanup.policy as a set of words. */
export function cleanupPolicy(explicit: Record<string, string>, broker: BrokerConfig): { delete: boolean; compact: boolean } {
  const words = topicConfigValue(explicit, "cleanup.policy", broker).split(",").map((w) => w.trim());
  return { delete: words.includes("delete"), compact: words.includes("compact") };
}

/** Numeric value of a topic config (Long.MAX_VALUE and beyond read as Infinity). */
export function topicConfigNumber(explicit: Record<string, string>, name: string, broker: BrokerConfig): number {
  const n = Number(topicConfigValue(explicit, name, broker));
  return n >= LONG_MAX_SAFE ? Infinity : n;
}

/** Whether a topic config holds a list (IncrementalAlterConfigs APPEND / SUBTRACT apply). */
export function isListConfig(name: string): boolean {
  return TOPIC_CONFIGS[name]?.kind === "list";
}

/** The topic config's type, for DescribeConfigs v3+. */
export function topicConfigType(name: string): number {
  const spec = TOPIC_CONFIGS[name];
  return spec ? configTypeOf(spec.kind) : ConfigType.STRING;
}

/**
 * A topic's settings after changes, validated; throws ConfigChangeError (INVALID_CONFIG) with Kafka-style
 * messages. `changes`: name → new value, or null to go back to the default.
 */
export function applyTopicConfigChanges(current: Record<string, string>, changes: Map<string, string | null>): Record<string, string> {
  const next: Record<string, string> = { ...current };
  for (const [name, value] of changes) {
    const bad = validateTopicConfig(name, value);
    if (bad) throw new ConfigChangeError(bad);
    if (value === null) delete next[name];
    else next[name] = value.trim();
  }
  return next;
}

export class ConfigChangeError extends Error {
  constructor(
    message: string,
    /** Kafka error name to answer with */
    readonly error: "INVALID_CONFIG" | "INVALID_REQUEST" = "INVALID_CONFIG",
  ) {
    super(message);
  }
}
