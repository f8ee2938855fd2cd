// Topic-level configs with Kafka's names, their broker-wide synonyms (the `log.`-prefixed defaults)
// and validation. A topic stores only what was set explicitly; everything else follows the broker.
import type { BrokerConfig } from "./config.ts";

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

/** The effective value of every topic config for a topic. */
export function effectiveTopicConfigs(
  explicit: Record<string, string>,
  broker: BrokerConfig,
): { name: string; value: string; source: "topic" | "broker" | "default" }[] {
  return Object.keys(TOPIC_CONFIGS).map((name) => {
    if (explicit[name] !== undefined) return { name, value: explicit[name]!, source: "topic" as const };
    const spec = TOPIC_CONFIGS[name]!;
    const fromBroker = spec.synonym !== undefined && broker.raw.has(spec.synonym);
    return { name, value: topicConfigDefault(name, broker), source: fromBroker ? ("broker" as const) : ("default" as const) };
  });
}

/** The effective value of one topic config for a topic's explicit settings. */
export function topicConfigValue(explicit: Record<string, string>, name: string, broker: BrokerConfig): string {
  return explicit[name] ?? topicConfigDefault(name, broker);
}
