// The broker's background log maintenance: retention every log.retention.check.interval.ms for topics
// whose cleanup.policy includes "delete", and the log cleaner (when log.cleaner.enable) for those whose
// policy includes "compact". Both read topic configs at every decision, so altered configs apply at the
// next check without a restart.
import type { BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { cleanupPolicy, topicConfigNumber } from "../topic-config.ts";
import type { TopicStore } from "../topics.ts";
import { LogCleaner, type CleanerTarget } from "./cleaner.ts";
import { applyRetention } from "./retention.ts";

export interface RetentionStats {
  checks: number;
  segmentsDeleted: number;
  bytesDeleted: number;
}

export class LogMaintenance {
  readonly cleaner: LogCleaner | null;
  readonly retention: RetentionStats = { checks: 0, segmentsDeleted: 0, bytesDeleted: 0 };
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  private readonly retentionListeners = new Set<() => void>();

  constructor(
    private readonly topics: TopicStore,
    private readonly config: BrokerConfig,
    private readonly log: Logger,
  ) {
    this.cleaner = (config.get("log.cleaner.enable") as boolean)
      ? new LogCleaner(
          () => this.cleanerTargets(),
          () => Math.max(1, config.get("log.cleaner.backoff.ms") as number),
          log.child("cleaner: "),
        )
      : null;
  }

  start(): void {
    const interval = Math.max(1, this.config.get("log.retention.check.interval.ms") as number);
    this.retentionTimer = setInterval(() => this.runRetention(), Math.min(interval, 2 ** 31 - 1));
    this.retentionTimer.unref?.();
    this.cleaner?.start();
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    await this.cleaner?.stop();
  }

  /** Calls fn after every retention check (tests wait on this instead of sleeping). */
  onRetentionCheck(fn: () => void): () => void {
    this.retentionListeners.add(fn);
    return () => this.retentionListeners.delete(fn);
  }

  /** One retention check over every partition. */
  runRetention(now = Date.now()): void {
    for (const topic of this.topics.all()) {
      if (!cleanupPolicy(topic.configs, this.config).delete) continue;
      const retentionMs = topicConfigNumber(topic.configs, "retention.ms", this.config);
      const retentionBytes = topicConfigNumber(topic.configs, "retention.bytes", this.config);
      for (const p of topic.partitions) {
        try {
          const r = applyRetention(p.log, { retentionMs: retentionMs === Infinity ? -1 : retentionMs, retentionBytes: retentionBytes === Infinity ? -1 : retentionBytes }, now);
          if (r.segmentsDeleted > 0) {
            this.retention.segmentsDeleted += r.segmentsDeleted;
            this.retention.bytesDeleted += r.bytesDeleted;
            this.log.info(
              `retention (${r.reason}) deleted ${r.segmentsDeleted} segment(s), ${r.bytesDeleted} bytes, of ${topic.name}-${p.index}; log start offset now ${r.logStartOffset}`,
            );
          }
        } catch (e) {
          this.log.error(`retention of ${topic.name}-${p.index} failed: ${(e as Error).message}`);
        }
      }
    }
    this.retention.checks++;
    for (const fn of [...this.retentionListeners]) fn();
  }

  private *cleanerTargets(): Iterable<CleanerTarget> {
    for (const topic of this.topics.all()) {
      if (!cleanupPolicy(topic.configs, this.config).compact) continue;
      const settings = () => ({
        minCleanableRatio: topicConfigNumber(topic.configs, "min.cleanable.dirty.ratio", this.config),
        deleteRetentionMs: topicConfigNumber(topic.configs, "delete.retention.ms", this.config),
        minCompactionLagMs: topicConfigNumber(topic.configs, "min.compaction.lag.ms", this.config),
      });
      for (const p of topic.partitions) yield { name: `${topic.name}-${p.index}`, log: p.log, settings };
    }
  }
}
