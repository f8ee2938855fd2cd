// The producer state of every partition (src/log/producer-state.ts), loaded on first use — from its
// snapshot plus a replay of the log after it — and snapshotted periodically and at shutdown. Keyed by
// the partition's log object, so a deleted (or deleted and re-created) topic never sees stale state.
import { loadProducerState, writeProducerSnapshot, type ProducerStateManager } from "../log/producer-state.ts";
import type { Logger } from "../log.ts";
import type { Partition } from "../topics.ts";

export class PartitionStates {
  private readonly byLog = new WeakMap<object, ProducerStateManager>();

  constructor(private readonly log: Logger) {}

  of(p: Partition): ProducerStateManager {
    let s = this.byLog.get(p.log);
    if (!s) {
      const t0 = performance.now();
      const r = loadProducerState(p.log);
      s = r.state;
      this.byLog.set(p.log, s);
      if (r.replayed > 0)
        this.log.debug(
          `${p.topic}-${p.index}: producer state ${r.fromSnapshot ? "from its snapshot and " : ""}${r.replayed} replayed batches ` +
            `(${s.producers.size} producers) in ${(performance.now() - t0).toFixed(1)} ms`,
        );
    }
    return s;
  }

  /** The state if it was loaded already (no log scan). */
  peek(p: Partition): ProducerStateManager | undefined {
    return this.byLog.get(p.log);
  }

  /** Expires idle producers and writes the snapshot when something changed (force: always). */
  maintain(p: Partition, now: number, producerIdExpirationMs: number, force = false): void {
    const s = this.byLog.get(p.log);
    if (!s) return;
    try {
      s.expire(now, producerIdExpirationMs, p.log.logStartOffset);
      if (s.dirty || force) writeProducerSnapshot(p.log, s);
    } catch (e) {
      this.log.warn(`${p.topic}-${p.index}: could not write the producer state snapshot: ${(e as Error).message}`);
    }
  }
}
