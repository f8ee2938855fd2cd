// Dynamic broker configs: what AlterConfigs / IncrementalAlterConfigs may change on the BROKER resource
// without a restart, as in Kafka either for this broker (resource name = node id) or as the cluster-wide
// default (resource name ""); the per-broker value wins. Kept in `brook-dynamic-configs.json` in the
// first log dir (replaced atomically), so they survive restarts, and merged over the static properties.
//
// What may change: the broker-wide defaults of topic configs (log.retention.ms, log.retention.bytes,
// log.segment.bytes, log.roll.ms, log.cleanup.policy, log.cleaner.delete.retention.ms,
// log.cleaner.min.compaction.lag.ms, log.cleaner.min.cleanable.ratio, message.max.bytes,
// log.message.timestamp.type, compression.type, min.insync.replicas, log.index.interval.bytes,
// log.flush.interval.*), and log.cleaner.backoff.ms. Everything else — listeners, log.dirs,
// log.retention.check.interval.ms, log.cleaner.enable, num.partitions, ... — is read at startup only and
// is refused with INVALID_REQUEST "Cannot update these configs dynamically", like Kafka's read-only
// broker configs.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, PROPERTIES, buildConfig, type BrokerConfig } from "./config.ts";
import { ConfigChangeError, TOPIC_CONFIGS } from "./topic-config.ts";
import { writeFileAtomic } from "./topics.ts";
import { readStateFile } from "./state-file.ts";

const FILE = "brook-dynamic-configs.json";

export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set([
  ...Object.values(TOPIC_CONFIGS)
    .map((s) => s.synonym)
    .filter((s): s is string => s !== undefined && s in PROPERTIES),
  "log.retention.ms",
  "log.roll.ms",
  "log.cleaner.backoff.ms",
]);

export type Scope = "broker" | "default";

interface Stored {
  broker?: Record<string, string>;
  default?: Record<string, string>;
}

export class DynamicBrokerConfig {
  private constructor(
    private readonly config: BrokerConfig,
    private readonly path: string,
  ) {}

  /** Loads the stored dynamic configs (if any) and merges them into `config`. */
  static load(config: BrokerConfig, dir: string): DynamicBrokerConfig {
    const path = join(dir, FILE);
    const d = new DynamicBrokerConfig(config, path);
    config.dynamic = { perBroker: new Map(), clusterDefault: new Map() };
    if (existsSync(path)) {
      const stored = readStateFile(path, "the dynamic broker configs (AlterConfigs on the broker)") as Stored;
      const keep = (o: Record<string, string> | undefined) =>
        new Map(Object.entries(o ?? {}).filter(([k]) => DYNAMIC_BROKER_CONFIGS.has(k)));
      d.merge(keep(stored.broker), keep(stored.default));
    }
    return d;
  }

  get perBroker(): ReadonlyMap<string, string> {
    return this.config.dynamic!.perBroker;
  }

  get clusterDefault(): ReadonlyMap<string, string> {
    return this.config.dynamic!.clusterDefault;
  }

  /** Whether a broker property may be altered at runtime. */
  static isDynamic(name: string): boolean {
    return DYNAMIC_BROKER_CONFIGS.has(name);
  }

  /**
   * Applies changes (name → value, or null to remove the dynamic setting) to one scope, or only checks
   * them. Throws ConfigChangeError with Kafka's error for read-only or unknown names and bad values.
   */
  alter(scope: Scope, changes: Map<string, string | null>, validateOnly: boolean, replaceAll = false): void {
    const unknown = [...changes.keys()].filter((k) => !(k in PROPERTIES));
    if (unknown.length > 0) throw new ConfigChangeError(`Unknown broker config(s): ${unknown.join(", ")}`, "INVALID_CONFIG");
    const readOnly = [...changes.keys()].filter((k) => !DYNAMIC_BROKER_CONFIGS.has(k));
    if (readOnly.length > 0)
      throw new ConfigChangeError(
        `Cannot update these configs dynamically: ${readOnly.join(", ")} (Brook reads them at startup only; set them in server.properties)`,
        "INVALID_REQUEST",
      );
    const dyn = this.config.dynamic!;
    const current = scope === "broker" ? dyn.perBroker : dyn.clusterDefault;
    const next = new Map(replaceAll ? [] : current);
    for (const [k, v] of changes) {
      if (v === null) next.delete(k);
      else next.set(k, v.trim());
    }
    const perBroker = scope === "broker" ? next : dyn.perBroker;
    const clusterDefault = scope === "default" ? next : dyn.clusterDefault;
    let merged: BrokerConfig;
    try {
      merged = buildConfig([...this.config.raw, ...clusterDefault, ...perBroker]);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigChangeError(e.message.replace(/^invalid value/, "Invalid value"), "INVALID_CONFIG");
      throw e;
    }
    if (validateOnly) return;
    writeFileAtomic(this.path, JSON.stringify({ broker: Object.fromEntries(perBroker), default: Object.fromEntries(clusterDefault) }, null, 1));
    this.apply(merged, new Map(perBroker), new Map(clusterDefault));
  }

  private merge(perBroker: Map<string, string>, clusterDefault: Map<string, string>): void {
    if (perBroker.size === 0 && clusterDefault.size === 0) return;
    this.apply(buildConfig([...this.config.raw, ...clusterDefault, ...perBroker]), perBroker, clusterDefault);
  }

  /** Copies the values that can change at runtime from `merged` into the live config object. */
  private apply(merged: BrokerConfig, perBroker: Map<string, string>, clusterDefault: Map<string, string>): void {
    const c = this.config;
    c.get = merged.get;
    c.segmentBytes = merged.segmentBytes;
    c.segmentMs = merged.segmentMs;
    c.messageMaxBytes = merged.messageMaxBytes;
    c.flushIntervalMessages = merged.flushIntervalMessages;
    c.flushIntervalMs = merged.flushIntervalMs;
    c.indexIntervalBytes = merged.indexIntervalBytes;
    c.dynamic = { perBroker, clusterDefault };
  }
}
