// The broker's counters: what produce, fetch, dispatch and the listeners count as they work. Everything
// here is a plain number field or a preallocated typed array, bumped in place (no allocation, no per-record
// work on the hot path); gauges (log sizes, offsets, lag, group and transaction states) are not kept here
// but computed from the broker's state when /metrics is scraped (src/http/metrics-endpoint.ts).
// This module sits below every other layer (it imports only protocol types), so the server, the
// handlers and the listeners can all count into it.
import type { ApiDefinition, Field, FieldType } from "../protocol/types.ts";

/** Upper bounds (ms) of the request latency histogram buckets; +Inf is implied. */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const;

export class LatencyHistogram {
  /** per bucket (not cumulative), the last one is +Inf */
  readonly counts = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  sum = 0;
  count = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sum += ms;
    this.count++;
  }
}

/** Kafka's BrokerTopicMetrics for one topic (or all of them). */
export class TopicCounters {
  bytesIn = 0;
  messagesIn = 0;
  bytesOut = 0;
  messagesOut = 0;
  bytesRejected = 0;
  produceRequests = 0;
  failedProduceRequests = 0;
  fetchRequests = 0;
  failedFetchRequests = 0;
}

/** Kafka's socket-server-metrics for one listener. */
export class ListenerCounters {
  /** open now */
  connections = 0;
  created = 0;
  closed = 0;
  successfulAuthentication = 0;
  failedAuthentication = 0;

  opened(): void {
    this.connections++;
    this.created++;
  }

  closedOne(): void {
    this.connections--;
    this.closed++;
  }

  /** For authentication (SASL, mutual TLS): count every attempt's outcome here. */
  authenticated(ok: boolean): void {
    if (ok) this.successfulAuthentication++;
    else this.failedAuthentication++;
  }
}

type ErrorVisitor = (body: any, m: RequestMetrics) => void;

/** Kafka's RequestMetrics for one API: requests per version, total time, errors by code. */
export class RequestMetrics {
  /** requests answered (or not, acks=0), by version */
  readonly byVersion: Float64Array;
  readonly latency = new LatencyHistogram();
  /** occurrences of error code NONE in responses (the common case, kept out of the map) */
  noErrors = 0;
  /** occurrences of each non-zero error code in responses */
  readonly errors = new Map<number, number>();
  private readonly visitors: (ErrorVisitor | null | undefined)[] = [];

  constructor(readonly api: ApiDefinition) {
    this.byVersion = new Float64Array(api.versions[1] + 1);
  }

  /** A request finished: its version, when it started (performance.now()) and the response body (null: none). */
  record(version: number, startedAt: number, body: unknown): void {
    this.byVersion[version]!++;
    this.latency.observe(performance.now() - startedAt);
    if (body === null || typeof body !== "object") return;
    let visit = this.visitors[version];
    if (visit === undefined) visit = this.visitors[version] = errorVisitor(this.api.response, version, this.api.flexible);
    if (visit !== null) visit(body, this);
  }

  countError(code: number): void {
    if (code === 0) this.noErrors++;
    else this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** A request answered with one error and no body walk (malformed request, handler failure). */
  recordFailure(version: number, startedAt: number, code: number): void {
    this.byVersion[version]!++;
    this.latency.observe(performance.now() - startedAt);
    this.countError(code);
  }
}

function present(f: Field, version: number, flexible: number): boolean {
  if ((f.since ?? 0) > version) return false;
  if (f.until !== undefined && version > f.until) return false;
  return f.tag === undefined || version >= flexible;
}

/**
 * A function visiting every errorCode of a response of this version (top level and nested in arrays
 * and structs), as Kafka's errorCounts() does; null when the response has none.
 */
function errorVisitor(fields: readonly Field[], version: number, flexible: number): ErrorVisitor | null {
  const steps: ErrorVisitor[] = [];
  for (const f of fields) {
    if (!present(f, version, flexible)) continue;
    const name = f.name;
    if (name === "errorCode" && f.type === "int16") {
      const fallback = typeof f.default === "number" ? f.default : 0;
      steps.push((o, m) => m.countError(o[name] ?? fallback));
      continue;
    }
    const inner = nestedVisitor(f.type, version, flexible);
    if (inner === null) continue;
    const t = f.type as Exclude<FieldType, string>;
    if (t.kind === "struct") {
      steps.push((o, m) => {
        const v = o[name];
        if (v) inner(v, m);
      });
    } else {
      steps.push((o, m) => {
        const a = o[name];
        if (a) for (let i = 0; i < a.length; i++) inner(a[i], m);
      });
    }
  }
  if (steps.length === 0) return null;
  if (steps.length === 1) return steps[0]!;
  return (o, m) => {
    for (let i = 0; i < steps.length; i++) steps[i]!(o, m);
  };
}

function nestedVisitor(type: FieldType, version: number, flexible: number): ErrorVisitor | null {
  if (typeof type === "string") return null;
  if (type.kind === "struct") return errorVisitor(type.fields, version, flexible);
  const of = type.of as FieldType;
  return typeof of === "string" ? null : nestedVisitor(of, version, flexible);
}

/** Everything the broker counts. One per broker. */
export class BrokerMetrics {
  /** the aggregate Kafka reports without a topic label */
  readonly allTopics = new TopicCounters();
  /** by API key */
  readonly requests: (RequestMetrics | undefined)[] = [];
  private readonly topics = new Map<string, TopicCounters>();
  private readonly listeners = new Map<string, ListenerCounters>();

  constructor(apis: Iterable<ApiDefinition>) {
    for (const api of apis) this.requests[api.key] = new RequestMetrics(api);
  }

  /** The counters of a topic, created on first use. */
  topic(name: string): TopicCounters {
    let c = this.topics.get(name);
    if (c === undefined) this.topics.set(name, (c = new TopicCounters()));
    return c;
  }

  /** The counters of a topic if it has any (no entry is created). */
  peekTopic(name: string): TopicCounters | undefined {
    return this.topics.get(name);
  }

  /** Every topic counted so far (the scrape drops topics that no longer exist). */
  topicEntries(): IterableIterator<[string, TopicCounters]> {
    return this.topics.entries();
  }

  forgetTopic(name: string): void {
    this.topics.delete(name);
  }

  /** The connection counters of a listener (by listener name), created on first use. */
  listener(name: string): ListenerCounters {
    let c = this.listeners.get(name);
    if (c === undefined) this.listeners.set(name, (c = new ListenerCounters()));
    return c;
  }

  listenerEntries(): IterableIterator<[string, ListenerCounters]> {
    return this.listeners.entries();
  }
}
