// Client telemetry (KIP-714) as Kafka 4.0's ClientMetricsManager serves it, with Brook itself as the
// receiver of the pushed metrics.
//
// Subscriptions are CLIENT_METRICS config resources (kafka-client-metrics.sh, IncrementalAlterConfigs
// resource type 16): `metrics` (metric name prefixes, `*` for all), `interval.ms` (100–3600000, default
// 300000) and `match` (client_id=, client_instance_id=, client_software_name=, client_software_version=,
// client_source_address=, client_source_port= regular expressions, all of which must match the whole
// value). They are kept in `brook-client-metrics.json` in the first log dir. A client gets the union of
// the metrics of the subscriptions matching it, the shortest of their intervals, and a subscription id
// that changes with them; none matching means no metrics requested (and the default interval).
//
// GetTelemetrySubscriptions assigns a client instance id to a client that has none; asked again before
// its push interval it is THROTTLING_QUOTA_EXCEEDED. PushTelemetry checks, in Kafka's order: a client that
// said it was terminating (INVALID_REQUEST), a push before the interval (THROTTLING_QUOTA_EXCEEDED; the
// first push after a GetTelemetrySubscriptions may come early, clients add jitter), a stale subscription
// id (UNKNOWN_SUBSCRIPTION_ID), an unknown compression type (UNSUPPORTED_COMPRESSION_TYPE), more than
// telemetry.max.bytes (TELEMETRY_TOO_LARGE). Accepted metrics (OpenTelemetry MetricsData protobuf,
// decompressed with Kafka's codecs) are decoded to name/value/attributes, logged at debug level and kept
// per client instance: `clients()` for the metrics module, `onPush()` to follow them.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ErrorCode } from "../../protocol/errors.ts";
import { crc32c } from "../../protocol/records/crc32c.ts";
import { decompress } from "../../protocol/records/compression.ts";
import type { Logger } from "../log.ts";
import { readStateFile } from "../state-file.ts";

export const CLIENT_METRICS_FILE = "brook-client-metrics.json";
export const DEFAULT_INTERVAL_MS = 300_000;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;
/** zstd, lz4, gzip, snappy: what Kafka 4.0 accepts, in its order of preference */
export const ACCEPTED_COMPRESSION_TYPES = [4, 3, 1, 2];
const MATCH_KEYS = ["client_instance_id", "client_id", "client_software_name", "client_software_version", "client_source_address", "client_source_port"];
export const CLIENT_METRICS_CONFIGS = ["metrics", "interval.ms", "match"] as const;
const ZERO_UUID = "0".repeat(32);
/** Instances not heard from for this many push intervals are forgotten (Kafka's cache expiry). */
const INSTANCE_EXPIRY_INTERVALS = 3;

export class TelemetryConfigError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface Subscription {
  metrics: string[];
  intervalMs: number;
  match: string[];
}

/** What a client instance is matched on. */
export interface ClientSelector {
  clientInstanceId: string;
  clientId: string;
  softwareName: string;
  softwareVersion: string;
  sourceAddress: string;
  sourcePort: string;
}

export interface TelemetryPoint {
  value: number;
  attributes: Record<string, string | number | boolean>;
  timeUnixNano: string;
}

export interface TelemetryMetric {
  name: string;
  unit: string;
  kind: "gauge" | "sum" | "histogram" | "summary" | "other";
  points: TelemetryPoint[];
}

export interface TelemetryClient {
  clientInstanceId: string;
  clientId: string;
  softwareName: string;
  softwareVersion: string;
  sourceAddress: string;
  subscriptionId: number;
  requestedMetrics: string[];
  pushIntervalMs: number;
  pushes: number;
  lastPushAt: number;
  terminating: boolean;
  /** resource attributes of the last push */
  resource: Record<string, string | number | boolean>;
  /** the metrics of the last push */
  metrics: TelemetryMetric[];
}

interface Instance extends TelemetryClient {
  lastGetAt: number;
  lastPushRequestAt: number;
  /** a GetTelemetrySubscriptions came after the last push (Kafka compares their times) */
  getSinceLastPush: boolean;
  lastSeen: number;
  /** UNKNOWN_SUBSCRIPTION_ID or UNSUPPORTED_COMPRESSION_TYPE let the client ask again at once */
  lastError: number;
}

export class ClientTelemetry {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly instances = new Map<string, Instance>();
  private readonly listeners = new Set<(client: TelemetryClient) => void>();
  /** pushes accepted since start */
  pushesReceived = 0;

  private constructor(
    private readonly path: string,
    private readonly log: Logger,
    readonly maxBytes: number,
  ) {}

  static load(dir: string, log: Logger, maxBytes: number): ClientTelemetry {
    const t = new ClientTelemetry(join(dir, CLIENT_METRICS_FILE), log, maxBytes);
    if (existsSync(t.path)) {
      const saved = readStateFile(t.path, "the client metrics subscriptions") as Record<string, Subscription>;
      for (const [name, s] of Object.entries(saved)) t.subscriptions.set(name, s);
    }
    return t;
  }

  // ---- subscriptions (CLIENT_METRICS config resources) ------------------------------------------------

  subscriptionNames(): string[] {
    return [...this.subscriptions.keys()].sort();
  }

  /** A config's value as the config APIs show it (comma-separated lists), and whether it was set. */
  configValue(name: string, key: string): { value: string; set: boolean } {
    const s = this.subscriptions.get(name);
    switch (key) {
      case "metrics":
        return { value: (s?.metrics ?? []).join(","), set: (s?.metrics.length ?? 0) > 0 };
      case "interval.ms":
        return { value: String(s?.intervalMs ?? DEFAULT_INTERVAL_MS), set: s !== undefined && s.intervalMs !== DEFAULT_INTERVAL_MS };
      case "match":
        return { value: (s?.match ?? []).join(","), set: (s?.match.length ?? 0) > 0 };
    }
    throw new TelemetryConfigError(ErrorCode.INVALID_REQUEST, `Unknown client metrics configuration(s): ${key}`);
  }

  /**
   * Sets (a value) or resets (null) configs of a subscription; `replace` drops the ones not named
   * (AlterConfigs). A subscription with nothing set is removed. Throws TelemetryConfigError.
   */
  alterSubscription(name: string, changes: Map<string, string | null>, replace: boolean, validateOnly: boolean): void {
    if (name === "") throw new TelemetryConfigError(ErrorCode.INVALID_REQUEST, "Subscription name can't be empty");
    const unknown = [...changes.keys()].filter((k) => !(CLIENT_METRICS_CONFIGS as readonly string[]).includes(k));
    if (unknown.length > 0) throw new TelemetryConfigError(ErrorCode.INVALID_REQUEST, `Unknown client metrics configuration(s): ${unknown.join(", ")}`);
    const base = replace ? undefined : this.subscriptions.get(name);
    const next: Subscription = { metrics: [...(base?.metrics ?? [])], intervalMs: base?.intervalMs ?? DEFAULT_INTERVAL_MS, match: [...(base?.match ?? [])] };
    const list = (v: string) => v.split(",").map((x) => x.trim()).filter((x) => x !== "");
    for (const [key, value] of changes) {
      if (key === "metrics") next.metrics = value === null ? [] : list(value);
      else if (key === "match") next.match = value === null ? [] : list(value);
      else {
        const ms = value === null ? DEFAULT_INTERVAL_MS : Number(value);
        if (!Number.isInteger(ms) || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS)
          throw new TelemetryConfigError(
            ErrorCode.INVALID_CONFIG,
            `Invalid value ${value} for ${key}, interval must be between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS} (1 hour)`,
          );
        next.intervalMs = ms;
      }
    }
    for (const m of next.match) {
      const eq = m.indexOf("=");
      const key = eq > 0 ? m.slice(0, eq).trim() : "";
      if (!MATCH_KEYS.includes(key)) throw new TelemetryConfigError(ErrorCode.INVALID_CONFIG, `Illegal client matching pattern: ${m}`);
      try {
        new RegExp(m.slice(eq + 1).trim());
      } catch {
        throw new TelemetryConfigError(ErrorCode.INVALID_CONFIG, `Illegal regex pattern: ${m.slice(eq + 1).trim()}`);
      }
    }
    if (validateOnly) return;
    const empty = next.metrics.length === 0 && next.match.length === 0 && next.intervalMs === DEFAULT_INTERVAL_MS;
    if (empty) this.subscriptions.delete(name);
    else this.subscriptions.set(name, next);
    this.save();
    this.log.info(`client metrics subscription ${name}: ${empty ? "removed" : JSON.stringify(next)}`);
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, JSON.stringify(Object.fromEntries(this.subscriptions)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  /** The metrics, interval and subscription id a client gets. */
  private subscriptionFor(c: ClientSelector): { metrics: string[]; intervalMs: number; subscriptionId: number } {
    const metrics = new Set<string>();
    let all = false;
    let intervalMs = DEFAULT_INTERVAL_MS;
    let any = false;
    for (const s of this.subscriptions.values()) {
      if (!matches(s.match, c)) continue;
      any = true;
      for (const m of s.metrics) {
        if (m === "*") all = true;
        else metrics.add(m);
      }
      intervalMs = Math.min(intervalMs, s.intervalMs);
    }
    if (!any) intervalMs = DEFAULT_INTERVAL_MS;
    // "" asks for every metric; an empty list for none.
    const list = all ? [""] : [...metrics].sort();
    const subscriptionId = crc32c(new TextEncoder().encode(`${JSON.stringify(list)}|${intervalMs}|${c.clientInstanceId}`)) | 0;
    return { metrics: list, intervalMs, subscriptionId };
  }

  // ---- the two APIs -----------------------------------------------------------------------------------

  private instance(c: ClientSelector, now: number): Instance {
    this.expire(now);
    let i = this.instances.get(c.clientInstanceId);
    const sub = this.subscriptionFor(c);
    if (!i || i.subscriptionId !== sub.subscriptionId) {
      // New, or its subscription changed: a fresh instance state (Kafka recreates it too).
      i = {
        clientInstanceId: c.clientInstanceId,
        clientId: c.clientId,
        softwareName: c.softwareName,
        softwareVersion: c.softwareVersion,
        sourceAddress: c.sourceAddress,
        subscriptionId: sub.subscriptionId,
        requestedMetrics: sub.metrics,
        pushIntervalMs: sub.intervalMs,
        pushes: i?.pushes ?? 0,
        lastPushAt: i?.lastPushAt ?? 0,
        terminating: false,
        resource: i?.resource ?? {},
        metrics: i?.metrics ?? [],
        lastGetAt: 0,
        lastPushRequestAt: 0,
        getSinceLastPush: false,
        lastSeen: now,
        lastError: ErrorCode.NONE,
      };
      this.instances.set(c.clientInstanceId, i);
    }
    i.lastSeen = now;
    return i;
  }

  private expire(now: number): void {
    for (const [id, i] of this.instances)
      if (now - i.lastSeen > INSTANCE_EXPIRY_INTERVALS * Math.max(i.pushIntervalMs, DEFAULT_INTERVAL_MS)) this.instances.delete(id);
  }

  getSubscriptions(clientInstanceId: string, c: Omit<ClientSelector, "clientInstanceId">, now = Date.now()) {
    const id = clientInstanceId === ZERO_UUID ? newInstanceId() : clientInstanceId;
    const i = this.instance({ ...c, clientInstanceId: id }, now);
    const since = now - Math.max(i.lastGetAt, i.lastPushRequestAt);
    const first = i.lastGetAt === 0 && i.lastPushRequestAt === 0;
    if (!first && since < i.pushIntervalMs && i.lastError !== ErrorCode.UNKNOWN_SUBSCRIPTION_ID && i.lastError !== ErrorCode.UNSUPPORTED_COMPRESSION_TYPE) {
      return { errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, clientInstanceId: id, subscriptionId: 0, pushIntervalMs: 0, requestedMetrics: [] as string[] };
    }
    i.lastGetAt = now;
    i.getSinceLastPush = true;
    i.lastError = ErrorCode.NONE;
    return { errorCode: ErrorCode.NONE, clientInstanceId: id, subscriptionId: i.subscriptionId, pushIntervalMs: i.pushIntervalMs, requestedMetrics: i.requestedMetrics };
  }

  push(
    req: { clientInstanceId: string; subscriptionId: number; terminating: boolean; compressionType: number; metrics: Uint8Array },
    c: Omit<ClientSelector, "clientInstanceId">,
    now = Date.now(),
  ): { errorCode: number; message: string | null } {
    if (req.clientInstanceId === ZERO_UUID || req.clientInstanceId === "0".repeat(31) + "1")
      return { errorCode: ErrorCode.INVALID_REQUEST, message: `Invalid request from the client: ${req.clientInstanceId}` };
    const i = this.instance({ ...c, clientInstanceId: req.clientInstanceId }, now);
    const fail = (errorCode: number, message: string) => {
      i.lastError = errorCode;
      return { errorCode, message };
    };
    if (i.terminating)
      return fail(ErrorCode.INVALID_REQUEST, `Client ${req.clientInstanceId} sent the previous request with state terminating to TRUE, can not accept any requests after that`);
    const early = !i.getSinceLastPush && now - i.lastPushRequestAt < i.pushIntervalMs;
    if (early && !req.terminating)
      return fail(ErrorCode.THROTTLING_QUOTA_EXCEEDED, `The request from the client instance: ${req.clientInstanceId} arrived before the throttling time`);
    i.lastPushRequestAt = now;
    i.getSinceLastPush = false;
    if (req.subscriptionId !== i.subscriptionId) return fail(ErrorCode.UNKNOWN_SUBSCRIPTION_ID, `Unknown client subscription id for the client: ${req.clientInstanceId}`);
    if (req.compressionType !== 0 && !ACCEPTED_COMPRESSION_TYPES.includes(req.compressionType))
      return fail(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, "Unknown compression type received");
    if (req.metrics.length > this.maxBytes) return fail(ErrorCode.TELEMETRY_TOO_LARGE, "Telemetry data is too large");
    i.terminating = req.terminating;
    i.lastError = ErrorCode.NONE;
    if (req.metrics.length > 0) {
      let decoded: { resource: Record<string, string | number | boolean>; metrics: TelemetryMetric[] };
      try {
        const raw = req.compressionType === 0 ? req.metrics : decompress(req.compressionType, req.metrics);
        decoded = decodeMetricsData(raw);
      } catch (e) {
        this.log.warn(`client ${c.clientId} (instance ${req.clientInstanceId}) pushed unreadable telemetry: ${(e as Error).message}`);
        return fail(ErrorCode.INVALID_RECORD, `Error exporting client metrics: ${(e as Error).message}`);
      }
      i.resource = decoded.resource;
      i.metrics = decoded.metrics;
      i.pushes++;
      i.lastPushAt = now;
      this.pushesReceived++;
      if (this.log.level === "debug")
        this.log.debug(
          `telemetry from client ${i.clientId} (${i.softwareName} ${i.softwareVersion}, instance ${i.clientInstanceId}): ` +
            decoded.metrics
              .slice(0, 20)
              .map((m) => `${m.name}=${m.points[0]?.value ?? ""}`)
              .join(" ") +
            (decoded.metrics.length > 20 ? ` (+${decoded.metrics.length - 20} more)` : ""),
        );
      for (const l of this.listeners) l(snapshot(i));
    }
    return { errorCode: ErrorCode.NONE, message: null };
  }

  // ---- what the metrics module reads -----------------------------------------------------------------

  /** Every known client instance with the metrics of its last push. */
  clients(): TelemetryClient[] {
    return [...this.instances.values()].map(snapshot);
  }

  /** Calls `listener` with each accepted push; returns the function that stops it. */
  onPush(listener: (client: TelemetryClient) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function snapshot(i: Instance): TelemetryClient {
  const { lastGetAt: _g, lastPushRequestAt: _p, getSinceLastPush: _x, lastSeen: _s, lastError: _e, ...client } = i;
  return { ...client, metrics: [...client.metrics] };
}

function newInstanceId(): string {
  for (;;) {
    const id = randomBytes(16).toString("hex");
    if (id !== ZERO_UUID && id !== "0".repeat(31) + "1") return id;
  }
}

function matches(patterns: string[], c: ClientSelector): boolean {
  const values: Record<string, string> = {
    client_instance_id: c.clientInstanceId,
    client_id: c.clientId,
    client_software_name: c.softwareName,
    client_software_version: c.softwareVersion,
    client_source_address: c.sourceAddress,
    client_source_port: c.sourcePort,
  };
  return patterns.every((p) => {
    const eq = p.indexOf("=");
    const key = p.slice(0, eq).trim();
    return new RegExp(`^(?:${p.slice(eq + 1).trim()})$`).test(values[key] ?? "");
  });
}

// ---- OpenTelemetry MetricsData (protobuf), just what is needed to read names and values -------------------

class Proto {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  }

  /** One field: its number, wire type, and a reader for it (length-delimited) or its raw value. */
  field(): { no: number; wire: number; sub?: Proto; num?: bigint; bytes?: Uint8Array } {
    const key = Number(this.varint());
    const no = key >>> 3;
    const wire = key & 7;
    switch (wire) {
      case 0:
        return { no, wire, num: this.varint() };
      case 1: {
        if (this.pos + 8 > this.end) throw new Error("truncated fixed64");
        const bytes = this.buf.subarray(this.pos, this.pos + 8);
        this.pos += 8;
        return { no, wire, bytes };
      }
      case 2: {
        const len = Number(this.varint());
        if (this.pos + len > this.end) throw new Error("truncated field");
        const sub = new Proto(this.buf, this.pos, this.pos + len);
        const bytes = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return { no, wire, sub, bytes };
      }
      case 5: {
        if (this.pos + 4 > this.end) throw new Error("truncated fixed32");
        const bytes = this.buf.subarray(this.pos, this.pos + 4);
        this.pos += 4;
        return { no, wire, bytes };
      }
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

const utf8 = new TextDecoder();
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function anyValue(p: Proto): string | number | boolean {
  let v: string | number | boolean = "";
  while (!p.done) {
    const f = p.field();
    if (f.no === 1 && f.bytes) v = utf8.decode(f.bytes);
    else if (f.no === 2 && f.num !== undefined) v = f.num !== 0n;
    else if (f.no === 3 && f.num !== undefined) v = Number(BigInt.asIntN(64, f.num));
    else if (f.no === 4 && f.bytes) v = view(f.bytes).getFloat64(0, true);
  }
  return v;
}

function keyValue(p: Proto, into: Record<string, string | number | boolean>): void {
  let key = "";
  let value: string | number | boolean = "";
  while (!p.done) {
    const f = p.field();
    if (f.no === 1 && f.bytes) key = utf8.decode(f.bytes);
    else if (f.no === 2 && f.sub) value = anyValue(f.sub);
  }
  into[key] = value;
}

/** NumberDataPoint (as_double 4, as_int 6) or HistogramDataPoint / SummaryDataPoint (sum 5). */
function dataPoint(p: Proto, kind: TelemetryMetric["kind"]): TelemetryPoint {
  const point: TelemetryPoint = { value: 0, attributes: {}, timeUnixNano: "0" };
  while (!p.done) {
    const f = p.field();
    if (f.no === 7 && f.sub && kind !== "histogram") keyValue(f.sub, point.attributes);
    else if (f.no === 9 && f.sub && kind === "histogram") keyValue(f.sub, point.attributes);
    else if (f.no === 3 && f.bytes) point.timeUnixNano = view(f.bytes).getBigUint64(0, true).toString();
    else if (kind === "gauge" || kind === "sum") {
      if (f.no === 4 && f.bytes) point.value = view(f.bytes).getFloat64(0, true);
      else if (f.no === 6 && f.bytes) point.value = Number(view(f.bytes).getBigInt64(0, true));
    } else if (f.no === 5 && f.bytes && f.wire === 1) point.value = view(f.bytes).getFloat64(0, true); // histogram/summary sum
  }
  return point;
}

function metric(p: Proto): TelemetryMetric {
  const m: TelemetryMetric = { name: "", unit: "", kind: "other", points: [] };
  const KINDS: Record<number, TelemetryMetric["kind"]> = { 5: "gauge", 7: "sum", 9: "histogram", 11: "summary" };
  while (!p.done) {
    const f = p.field();
    if (f.no === 1 && f.bytes) m.name = utf8.decode(f.bytes);
    else if (f.no === 3 && f.bytes) m.unit = utf8.decode(f.bytes);
    else if (KINDS[f.no] && f.sub) {
      m.kind = KINDS[f.no]!;
      while (!f.sub.done) {
        const d = f.sub.field();
        if (d.no === 1 && d.sub) m.points.push(dataPoint(d.sub, m.kind));
      }
    }
  }
  return m;
}

/** Decodes OpenTelemetry MetricsData: resource attributes and the metrics of every scope. */
export function decodeMetricsData(buf: Uint8Array): { resource: Record<string, string | number | boolean>; metrics: TelemetryMetric[] } {
  const resource: Record<string, string | number | boolean> = {};
  const metrics: TelemetryMetric[] = [];
  const top = new Proto(buf);
  while (!top.done) {
    const rm = top.field();
    if (rm.no !== 1 || !rm.sub) continue;
    while (!rm.sub.done) {
      const f = rm.sub.field();
      if (f.no === 1 && f.sub) {
        while (!f.sub.done) {
          const a = f.sub.field();
          if (a.no === 1 && a.sub) keyValue(a.sub, resource);
        }
      } else if (f.no === 2 && f.sub) {
        while (!f.sub.done) {
          const s = f.sub.field();
          if (s.no === 2 && s.sub) metrics.push(metric(s.sub));
        }
      }
    }
  }
  return { resource, metrics };
}
