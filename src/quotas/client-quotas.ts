// Client quotas (KIP-546 admin APIs, KIP-13 enforcement) as Kafka 4.0 keeps and applies them.
//
// Storage: the quota values of each entity (a map of entity type → name, null = the default entity:
// user, client-id, or ip) in `brook-client-quotas.json` in the first log dir, rewritten atomically (temp
// file, fsync, rename) by every accepted AlterClientQuotas. Validation is Kafka's controller's
// (ClientQuotaControlManager): entity types user/client-id/ip, ip never combined with the others, no
// empty names, the keys each kind of entity takes, values above 0, integral where the key is.
//
// Enforcement (ClientQuotaManager with the default callback): producer_byte_rate is charged with the
// size of each Produce request, consumer_byte_rate with the size of each Fetch response, per sensor of
// (user, client-id) tags chosen by Kafka's precedence:
//   /users/<u>/clients/<c>, /users/<u>/clients/<default>, /users/<u>, /users/<default>/clients/<c>,
//   /users/<default>/clients/<default>, /users/<default>, /clients/<c>, /clients/<default>
// Each sensor is a rate over quota.window.num samples of quota.window.size.seconds (Kafka's Rate: the
// window is at least num - 1 full samples). A request that takes the rate over the quota gets
// throttle_time_ms = (rate - quota) / quota × window and its connection is muted for that long (the
// response itself is sent at once, as Kafka has done since KIP-219); a throttled Fetch is answered
// empty and not charged. request_percentage, controller_mutation_rate and connection_creation_rate are
// stored and described but not enforced.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { ErrorCode } from "../../protocol/errors.ts";
import type { Logger } from "../log.ts";
import { readStateFile } from "../state-file.ts";

export const QUOTAS_FILE = "brook-client-quotas.json";
export const USER = "user";
export const CLIENT_ID = "client-id";
export const IP = "ip";

type KeyType = "long" | "int" | "double";
const USER_AND_CLIENT_KEYS: Record<string, KeyType> = {
  producer_byte_rate: "long",
  consumer_byte_rate: "long",
  request_percentage: "double",
  controller_mutation_rate: "double",
};
const IP_KEYS: Record<string, KeyType> = { connection_creation_rate: "int" };
const MAX: Record<KeyType, number> = { long: 9223372036854775807, int: 2147483647, double: Number.MAX_VALUE };

/** Entity type → name (null: the default entity of that type). */
export type Entity = Record<string, string | null>;

export interface QuotaError {
  errorCode: number;
  errorMessage: string | null;
}

export class InvalidQuotaRequest extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

function entityKey(e: Entity): string {
  return JSON.stringify(Object.keys(e).sort().map((t) => [t, e[t]]));
}

export interface FilterComponent {
  entityType: string;
  /** 0 exact name, 1 default entity, 2 any entity of the type */
  matchType: number;
  match: string | null;
}

export interface Alteration {
  entity: { entityType: string; entityName: string | null }[];
  ops: { key: string; value: number; remove: boolean }[];
}

export class ClientQuotaStore {
  private readonly entities = new Map<string, { entity: Entity; values: Map<string, number> }>();
  /** bumped on every change, so the enforcement caches know to look again */
  version = 0;

  private constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  static load(dir: string, log: Logger): ClientQuotaStore {
    const store = new ClientQuotaStore(join(dir, QUOTAS_FILE), log);
    if (existsSync(store.path)) {
      const saved = readStateFile(store.path, "the client quotas (AlterClientQuotas)") as { entity: Entity; values: Record<string, number> }[];
      for (const e of saved) store.entities.set(entityKey(e.entity), { entity: e.entity, values: new Map(Object.entries(e.values)) });
      if (saved.length > 0) log.info(`loaded client quotas of ${saved.length} entities from ${store.path}`);
    }
    return store;
  }

  get isEmpty(): boolean {
    return this.entities.size === 0;
  }

  /** The value of `key` set on exactly this entity. */
  get(entity: Entity, key: string): number | undefined {
    return this.entities.get(entityKey(entity))?.values.get(key);
  }

  has(entity: Entity, key: string): boolean {
    return this.get(entity, key) !== undefined;
  }

  /** DescribeClientQuotas (Kafka's ClientQuotasImage.describe). Throws InvalidQuotaRequest. */
  describe(components: FilterComponent[], strict: boolean): { entity: Entity; values: [string, number][] }[] {
    const exact = new Map<string, string | null>();
    const anyOf = new Set<string>();
    for (const c of components) {
      if (c.entityType === "") throw new InvalidQuotaRequest(ErrorCode.INVALID_REQUEST, "Invalid empty entity type.");
      if (exact.has(c.entityType) || anyOf.has(c.entityType))
        throw new InvalidQuotaRequest(ErrorCode.INVALID_REQUEST, `Entity type ${c.entityType} cannot appear more than once in the filter.`);
      if (c.entityType !== IP && c.entityType !== USER && c.entityType !== CLIENT_ID)
        throw new InvalidQuotaRequest(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
      if (c.matchType === 0) {
        if (c.match === null) throw new InvalidQuotaRequest(ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_EXACT, but set match string to null.");
        exact.set(c.entityType, c.match);
      } else if (c.matchType === 1) {
        if (c.match !== null) throw new InvalidQuotaRequest(ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
        exact.set(c.entityType, null);
      } else if (c.matchType === 2) {
        if (c.match !== null) throw new InvalidQuotaRequest(ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
        anyOf.add(c.entityType);
      } else throw new InvalidQuotaRequest(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
    }
    const named = (t: string) => exact.has(t) || anyOf.has(t);
    if (named(IP) && (named(USER) || named(CLIENT_ID)))
      throw new InvalidQuotaRequest(
        ErrorCode.INVALID_REQUEST,
        "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
      );
    const out: { entity: Entity; values: [string, number][] }[] = [];
    for (const { entity, values } of this.entities.values()) {
      const types = Object.keys(entity);
      if (strict && types.length !== exact.size + anyOf.size) continue;
      if ([...exact].some(([t, name]) => !(t in entity) || entity[t] !== name)) continue;
      if ([...anyOf].some((t) => !(t in entity))) continue;
      out.push({ entity, values: [...values] });
    }
    return out;
  }

  /**
   * AlterClientQuotas: every entity is validated; with no error and not validateOnly, all changes are
   * applied and written before the answer. Returns one result per request entry.
   */
  alter(entries: Alteration[], validateOnly: boolean): QuotaError[] {
    const results: QuotaError[] = [];
    const changes: { key: string; entity: Entity; ops: Map<string, number | null> }[] = [];
    const seen = new Set<string>();
    for (const entry of entries) {
      const entity: Entity = {};
      const fail = (message: string) => results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message });
      const error = validateEntity(entry.entity, entity);
      if (error) {
        fail(error);
        continue;
      }
      const key = entityKey(entity);
      if (seen.has(key)) {
        fail(`Ignoring duplicate entity ${describeEntity(entity)}`);
        continue;
      }
      seen.add(key);
      const ops = new Map<string, number | null>();
      let problem: string | null = null;
      for (const op of entry.ops) {
        if (ops.has(op.key)) {
          problem = `Duplicate quota key ${op.key} not updating quota for this entity ${describeEntity(entity)}`;
          break;
        }
        ops.set(op.key, op.remove ? null : op.value);
      }
      if (!problem) {
        const keys = IP in entity ? IP_KEYS : USER_AND_CLIENT_KEYS;
        for (const [k, v] of ops) {
          if (v === null) continue;
          problem = validateValue(keys, k, v);
          if (problem) break;
        }
      }
      if (problem) {
        fail(problem);
        continue;
      }
      results.push({ errorCode: ErrorCode.NONE, errorMessage: null });
      changes.push({ key, entity, ops });
    }
    if (!validateOnly && changes.length > 0) {
      for (const c of changes) {
        let e = this.entities.get(c.key);
        if (!e) this.entities.set(c.key, (e = { entity: c.entity, values: new Map() }));
        for (const [k, v] of c.ops) {
          if (v === null) e.values.delete(k);
          else e.values.set(k, v);
        }
        if (e.values.size === 0) this.entities.delete(c.key);
        this.log.info(`client quotas of ${describeEntity(c.entity)}: ${JSON.stringify(Object.fromEntries(this.entities.get(c.key)?.values ?? []))}`);
      }
      this.version++;
      this.save();
    }
    return results;
  }

  private save(): void {
    const body = JSON.stringify([...this.entities.values()].map((e) => ({ entity: e.entity, values: Object.fromEntries(e.values) })));
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}

export function describeEntity(e: Entity): string {
  return Object.entries(e)
    .map(([t, n]) => `${t}=${n ?? "<default>"}`)
    .join(", ");
}

function validateEntity(parts: { entityType: string; entityName: string | null }[], out: Entity): string | null {
  if (parts.length === 0) return "Invalid empty client quota entity";
  for (const { entityType, entityName } of parts) {
    if (entityType in out) return `Invalid client quota entity, duplicate entity entry ${entityType}`;
    if (entityType !== USER && entityType !== CLIENT_ID && entityType !== IP) return `Unhandled client quota entity type: ${entityType}`;
    if (entityName !== null && entityName === "") return `Empty ${entityType} not supported`;
    out[entityType] = entityName;
  }
  if (IP in out) {
    if (USER in out || CLIENT_ID in out) return "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId";
    const ip = out[IP];
    if (ip !== null && isIP(ip) === 0) return `${ip} is not a valid IP or resolvable host.`;
  }
  return null;
}

function validateValue(keys: Record<string, KeyType>, key: string, value: number): string | null {
  const type = keys[key];
  if (!type) return `Invalid configuration key ${key}`;
  if (!(value > 0)) return `Quota ${key} must be greater than 0`;
  if (type === "double") return null;
  if (value > MAX[type]) return `Proposed value for ${key} is too large for ${type === "int" ? "an INT" : "a LONG"}.`;
  if (Math.abs(value % 1) > 1e-6) return `${key} cannot be a fractional value.`;
  return null;
}

// ---- enforcement --------------------------------------------------------------------------------------

/** Kafka's Rate over SampledStat samples: samples start when they are first recorded into. */
export class RateSensor {
  private readonly starts: number[] = [];
  private readonly values: number[] = [];
  private current = 0;

  constructor(
    private readonly samples: number,
    private readonly windowMs: number,
  ) {}

  record(value: number, now: number): void {
    if (this.starts.length === 0) {
      this.starts.push(now);
      this.values.push(0);
    } else if (now >= this.starts[this.current]! + this.windowMs) {
      this.current = (this.current + 1) % this.samples;
      if (this.current >= this.starts.length) {
        this.starts.push(now);
        this.values.push(0);
      } else {
        this.starts[this.current] = now;
        this.values[this.current] = 0;
      }
    }
    this.values[this.current]! += value;
  }

  private purge(now: number): void {
    const expireAge = this.samples * this.windowMs;
    for (let i = 0; i < this.starts.length; i++)
      if (this.starts[i]! < now - expireAge) {
        this.starts[i] = now;
        this.values[i] = 0;
      }
  }

  /** The window the rate is taken over: at least samples - 1 full windows. */
  windowSize(now: number): number {
    this.purge(now);
    const oldest = this.starts.length === 0 ? now : Math.min(...this.starts);
    let elapsed = now - oldest;
    const full = Math.floor(elapsed / this.windowMs);
    const minFull = this.samples - 1;
    if (full < minFull) elapsed += (minFull - full) * this.windowMs;
    return elapsed;
  }

  /** Units per second. */
  rate(now: number): number {
    this.purge(now);
    let total = 0;
    for (const v of this.values) total += v;
    const w = this.windowSize(now);
    return w <= 0 ? 0 : total / (w / 1000);
  }
}

export type QuotaKind = "producer_byte_rate" | "consumer_byte_rate";

interface Sensor {
  rate: RateSensor;
  lastUsed: number;
}

/** Throttling by quota kind; one sensor per (kind, user tag, client-id tag) like Kafka's metric tags. */
export class QuotaEnforcer {
  private readonly sensors = new Map<string, Sensor>();
  /** requests throttled and milliseconds of throttle handed out, by kind (tests, metrics) */
  readonly throttled: Record<QuotaKind, { requests: number; ms: number }> = {
    producer_byte_rate: { requests: 0, ms: 0 },
    consumer_byte_rate: { requests: 0, ms: 0 },
  };

  constructor(
    readonly store: ClientQuotaStore,
    private readonly samples: number,
    private readonly windowSeconds: number,
  ) {}

  /** Whether any quota was ever set: until then nothing is recorded (Kafka's quotasEnabled). */
  get engaged(): boolean {
    return !this.store.isEmpty;
  }

  /** The quota (units per second) for a sensor's tags, or Infinity. */
  limit(kind: QuotaKind, user: string, clientId: string): number {
    const s = this.store;
    let v: number | undefined;
    if (user !== "" && clientId !== "") {
      v =
        s.get({ [USER]: user, [CLIENT_ID]: clientId }, kind) ??
        s.get({ [USER]: user, [CLIENT_ID]: null }, kind) ??
        s.get({ [USER]: null, [CLIENT_ID]: clientId }, kind) ??
        s.get({ [USER]: null, [CLIENT_ID]: null }, kind);
    } else if (user !== "") v = s.get({ [USER]: user }, kind) ?? s.get({ [USER]: null }, kind);
    else if (clientId !== "") v = s.get({ [CLIENT_ID]: clientId }, kind) ?? s.get({ [CLIENT_ID]: null }, kind);
    return v ?? Number.POSITIVE_INFINITY;
  }

  /** The sensor tags for `kind`, following Kafka's precedence of configured entities. */
  sensorTags(kind: QuotaKind, user: string, clientId: string): [string, string] {
    const s = this.store;
    if (s.has({ [USER]: user, [CLIENT_ID]: clientId }, kind)) return [user, clientId];
    if (s.has({ [USER]: user, [CLIENT_ID]: null }, kind)) return [user, clientId];
    if (s.has({ [USER]: user }, kind)) return [user, ""];
    if (s.has({ [USER]: null, [CLIENT_ID]: clientId }, kind)) return [user, clientId];
    if (s.has({ [USER]: null, [CLIENT_ID]: null }, kind)) return [user, clientId];
    if (s.has({ [USER]: null }, kind)) return [user, ""];
    return ["", clientId];
  }

  private sensor(kind: QuotaKind, tags: [string, string], now: number): Sensor {
    const key = `${kind}\0${tags[0]}\0${tags[1]}`;
    let s = this.sensors.get(key);
    if (!s) {
      // Like Kafka's inactive sensor expiry (an hour), but bounded by the sensors' count.
      if (this.sensors.size > 10_000) for (const [k, x] of this.sensors) if (now - x.lastUsed > 3_600_000) this.sensors.delete(k);
      this.sensors.set(key, (s = { rate: new RateSensor(this.samples, this.windowSeconds * 1000), lastUsed: now }));
    }
    s.lastUsed = now;
    return s;
  }

  /**
   * Records `bytes` for the client and returns the throttle time in ms (0 when within its quota).
   * `principal` is Kafka's "User:name".
   */
  record(kind: QuotaKind, principal: string, clientId: string, bytes: number, now = Date.now()): number {
    if (!this.engaged) return 0;
    const user = principal.startsWith("User:") ? principal.slice(5) : principal;
    const tags = this.sensorTags(kind, user, clientId);
    const bound = this.limit(kind, tags[0], tags[1]);
    const s = this.sensor(kind, tags, now);
    s.rate.record(bytes, now);
    if (!Number.isFinite(bound)) return 0;
    const rate = s.rate.rate(now);
    if (rate <= bound) return 0;
    const ms = Math.round(((rate - bound) / bound) * s.rate.windowSize(now));
    this.throttled[kind].requests++;
    this.throttled[kind].ms += ms;
    return ms;
  }

  /** Takes back what `record` charged (a throttled Fetch is answered empty). */
  unrecord(kind: QuotaKind, principal: string, clientId: string, bytes: number, now = Date.now()): void {
    const user = principal.startsWith("User:") ? principal.slice(5) : principal;
    this.sensor(kind, this.sensorTags(kind, user, clientId), now).rate.record(-bytes, now);
  }

  /** The most a single Fetch may return without being throttled for sure: quota × (samples - 1) windows. */
  maxValueInWindow(kind: QuotaKind, principal: string, clientId: string): number {
    if (!this.engaged) return Number.POSITIVE_INFINITY;
    const user = principal.startsWith("User:") ? principal.slice(5) : principal;
    const tags = this.sensorTags(kind, user, clientId);
    return Math.max(1, this.limit(kind, tags[0], tags[1]) * (this.samples - 1) * this.windowSeconds);
  }
}
