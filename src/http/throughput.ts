// Throughput history for the console's live charts: once a second (only while the HTTP listener is on)
// the all-topics and per-topic counters are read and the per-second rates since the last sample kept,
// the last five minutes of them. Reading a handful of numbers per topic a second costs nothing next to
// the traffic it describes, and the page shows history the moment it opens.
import type { BrokerMetrics, TopicCounters } from "../metrics.ts";

export interface Rates {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

export interface Sample extends Rates {
  /** ms since the epoch */
  t: number;
}

const HISTORY = 300;

function snapshot(c: TopicCounters): Rates {
  return { bytesIn: c.bytesIn, bytesOut: c.bytesOut, messagesIn: c.messagesIn, messagesOut: c.messagesOut };
}

function rate(now: Rates, before: Rates, seconds: number): Rates {
  return {
    bytesIn: (now.bytesIn - before.bytesIn) / seconds,
    bytesOut: (now.bytesOut - before.bytesOut) / seconds,
    messagesIn: (now.messagesIn - before.messagesIn) / seconds,
    messagesOut: (now.messagesOut - before.messagesOut) / seconds,
  };
}

export class ThroughputSampler {
  private readonly samples: Sample[] = [];
  private last: { t: number; all: Rates; topics: Map<string, Rates> };
  private readonly topicRates = new Map<string, Rates>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly metrics: BrokerMetrics,
    readonly intervalMs = 1000,
  ) {
    this.last = this.read(Date.now());
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private read(t: number): { t: number; all: Rates; topics: Map<string, Rates> } {
    const topics = new Map<string, Rates>();
    for (const [name, c] of this.metrics.topicEntries()) topics.set(name, snapshot(c));
    return { t, all: snapshot(this.metrics.allTopics), topics };
  }

  /** Takes a sample now (the timer calls this; tests may too). */
  tick(now = Date.now()): void {
    const next = this.read(now);
    const seconds = Math.max((now - this.last.t) / 1000, 0.001);
    this.samples.push({ t: now, ...rate(next.all, this.last.all, seconds) });
    if (this.samples.length > HISTORY) this.samples.shift();
    this.topicRates.clear();
    for (const [name, c] of next.topics) {
      const before = this.last.topics.get(name) ?? { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };
      this.topicRates.set(name, rate(c, before, seconds));
    }
    this.last = next;
  }

  history(): readonly Sample[] {
    return this.samples;
  }

  /** A topic's rates over the last interval (zeros when it had no traffic). */
  topicRate(name: string): Rates {
    return this.topicRates.get(name) ?? { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };
  }
}
