// Fault injection: what franz-go's kfake offers Go tests, for clients in any language. A fault is scoped
// (API, topic, partition, group, client id), has an effect (an error code answered as the real protocol
// response, a delay, a dropped connection, a partition gone offline, a coordinator move), is counted
// (how many requests it fired on) and ends explicitly (clear), by count (times) or by time (durationMs).
// Nothing is injected unless asked; with no fault active, dispatch pays one branch on `engaged`.
import { allApis } from "../../protocol/apis/index.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ApiDefinition } from "../../protocol/types.ts";

export interface FaultSpec {
  /** the API(s) by Kafka name ("Produce") or key; omitted: every API */
  api?: string | number | (string | number)[];
  topic?: string;
  partition?: number;
  group?: string;
  clientId?: string;

  /** answer with this error (name, e.g. "NOT_LEADER_OR_FOLLOWER", or code) where the API carries it */
  error?: string | number;
  /** hold the request this long before the broker handles it (later requests on the connection wait too) */
  delayMs?: number;
  /** close the client's connection instead of answering */
  drop?: boolean;
  /** with error or drop: handle the request first, then answer the error / drop (an acknowledgement lost) */
  after?: boolean;
  /** the partition (or every partition of the topic) is offline: leader-routed APIs answer
   *  NOT_LEADER_OR_FOLLOWER and Metadata shows no leader (LEADER_NOT_AVAILABLE) */
  unavailable?: boolean;
  /** the group coordinator moved: group APIs answer `error` (default NOT_COORDINATOR) and FindCoordinator
   *  answers COORDINATOR_NOT_AVAILABLE for the group */
  coordinatorMove?: boolean;

  /** let this many matching requests through before firing */
  skip?: number;
  /** fire on at most this many requests, then end */
  times?: number;
  /** end this long after injection */
  durationMs?: number;
}

export interface FaultInfo {
  id: number;
  spec: FaultSpec;
  /** requests the fault took effect on */
  fired: number;
  /** matching requests seen, including skipped ones */
  matched: number;
  active: boolean;
  /** why it ended: "cleared", "times" or "duration" */
  ended: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export class FaultSpecError extends Error {
  override name = "FaultSpecError";
}

/** Group-coordinator APIs (a coordinator move affects these; FindCoordinator answers differently). */
const GROUP_APIS = new Set(["OffsetCommit", "OffsetFetch", "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "DeleteGroups", "OffsetDelete", "TxnOffsetCommit", "ConsumerGroupHeartbeat", "ConsumerGroupDescribe"]);
/** Leader-routed APIs a partition going offline affects (Metadata is rewritten separately). */
const LEADER_APIS = new Set(["Produce", "Fetch", "ListOffsets", "DeleteRecords"]);
const FIND_COORDINATOR = 10;
const METADATA = 3;

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? String(code);
}

export class Fault {
  fired = 0;
  matched = 0;
  active = true;
  ended: string | null = null;
  readonly createdAt = Date.now();
  readonly expiresAt: number | null;
  /** API keys it applies to; null = all */
  readonly apis: ReadonlySet<number> | null;
  readonly errorCode: number | null;
  timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly id: number,
    readonly spec: FaultSpec,
    apis: ReadonlySet<number> | null,
    errorCode: number | null,
  ) {
    this.apis = apis;
    this.errorCode = errorCode;
    this.expiresAt = spec.durationMs !== undefined ? this.createdAt + spec.durationMs : null;
  }

  get hasError(): boolean {
    return this.errorCode !== null || !!this.spec.unavailable || !!this.spec.coordinatorMove;
  }

  /** The error this fault answers on an API (unavailable partitions and coordinator moves depend on it). */
  errorFor(def: ApiDefinition): number | null {
    if (this.spec.unavailable) return def.key === METADATA ? null : ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (this.spec.coordinatorMove) return def.key === FIND_COORDINATOR ? ErrorCode.COORDINATOR_NOT_AVAILABLE : (this.errorCode ?? ErrorCode.NOT_COORDINATOR);
    return this.errorCode;
  }

  message(): string {
    return `injected by Brook fault ${this.id}`;
  }

  info(): FaultInfo {
    return {
      id: this.id,
      spec: this.spec,
      fired: this.fired,
      matched: this.matched,
      active: this.active,
      ended: this.ended,
      createdAt: new Date(this.createdAt).toISOString(),
      expiresAt: this.expiresAt === null ? null : new Date(this.expiresAt).toISOString(),
    };
  }
}

/** The handle inject() returns: live counts, and clear(). */
export interface FaultHandle {
  readonly id: number;
  readonly fired: number;
  readonly active: boolean;
  info(): FaultInfo;
  clear(): void;
}

const SPEC_KEYS = new Set(["api", "topic", "partition", "group", "clientId", "error", "delayMs", "drop", "after", "unavailable", "coordinatorMove", "skip", "times", "durationMs"]);

export class FaultInjector {
  /** true while any fault is active or a delayed request is pending: the one branch dispatch pays */
  engaged = false;
  private readonly faults: Fault[] = [];
  private nextId = 1;
  private activeCount = 0;
  private deferredCount = 0;
  private readonly byName = new Map<string, ApiDefinition>();
  private readonly byKey = new Map<number, ApiDefinition>();

  constructor(apis: Iterable<ApiDefinition> = allApis) {
    for (const d of apis) {
      this.byName.set(d.name.toLowerCase(), d);
      this.byKey.set(d.key, d);
    }
  }

  /** Starts a fault; throws FaultSpecError on a spec that cannot work. */
  inject(spec: FaultSpec): FaultHandle {
    const fault = this.validate(spec);
    this.faults.push(fault);
    this.activeCount++;
    this.engaged = true;
    if (fault.expiresAt !== null) {
      // Lazy expiry happens on the next matching request; the timer only lets `engaged` drop back.
      fault.timer = setTimeout(() => this.end(fault, "duration"), Math.max(0, fault.expiresAt - Date.now()));
      (fault.timer as { unref?: () => void }).unref?.();
    }
    return {
      id: fault.id,
      get fired() {
        return fault.fired;
      },
      get active() {
        return fault.active;
      },
      info: () => fault.info(),
      clear: () => this.end(fault, "cleared"),
    };
  }

  /** Takes a partition (or all of a topic's partitions) offline for durationMs. */
  partitionUnavailable(opts: { topic: string; partition?: number; durationMs?: number; times?: number }): FaultHandle {
    return this.inject({ ...opts, unavailable: true });
  }

  /** Moves a group's (or every group's) coordinator away for durationMs. */
  coordinatorMove(opts: { group?: string; durationMs?: number; times?: number; error?: "NOT_COORDINATOR" | "COORDINATOR_NOT_AVAILABLE" | "COORDINATOR_LOAD_IN_PROGRESS" }): FaultHandle {
    return this.inject({ ...opts, coordinatorMove: true });
  }

  list(): FaultInfo[] {
    this.expireDue(Date.now());
    return this.faults.map((f) => f.info());
  }

  get(id: number): FaultInfo | undefined {
    this.expireDue(Date.now());
    return this.faults.find((f) => f.id === id)?.info();
  }

  /** Ends and forgets one fault (by id) or all; returns how many were removed. */
  clear(id?: number): number {
    let gone: Fault[];
    if (id === undefined) gone = this.faults.splice(0);
    else {
      const i = this.faults.findIndex((f) => f.id === id);
      gone = i < 0 ? [] : this.faults.splice(i, 1);
    }
    for (const f of gone) this.end(f, "cleared");
    return gone.length;
  }

  // ---- used by the dispatcher ----

  /** Active faults that may apply to a request of this API from this client (expired ones end here). */
  candidates(apiKey: number, clientId: string | null): Fault[] {
    const now = Date.now();
    const out: Fault[] = [];
    for (const f of this.faults) {
      if (!f.active) continue;
      if (f.expiresAt !== null && now >= f.expiresAt) {
        this.end(f, "duration");
        continue;
      }
      if (f.apis && !f.apis.has(apiKey)) continue;
      if (f.spec.clientId !== undefined && f.spec.clientId !== clientId) continue;
      out.push(f);
    }
    return out;
  }

  /** Counts a match; true when the fault fires on it (past `skip`), ending it once `times` is reached. */
  fire(f: Fault): boolean {
    if (!f.active) return false;
    f.matched++;
    if (f.matched <= (f.spec.skip ?? 0)) return false;
    f.fired++;
    if (f.spec.times !== undefined && f.fired >= f.spec.times) this.end(f, "times");
    return true;
  }

  /** A request held back (delay) keeps the slow path engaged until it is handled. */
  holdStarted(): void {
    this.deferredCount++;
    this.engaged = true;
  }

  holdEnded(): void {
    this.deferredCount--;
    this.engaged = this.activeCount > 0 || this.deferredCount > 0;
  }

  definition(apiKey: number): ApiDefinition | undefined {
    return this.byKey.get(apiKey);
  }

  private end(f: Fault, why: string): void {
    if (!f.active) return;
    f.active = false;
    f.ended = why;
    if (f.timer) clearTimeout(f.timer);
    f.timer = null;
    this.activeCount--;
    this.engaged = this.activeCount > 0 || this.deferredCount > 0;
  }

  private expireDue(now: number): void {
    for (const f of this.faults) if (f.active && f.expiresAt !== null && now >= f.expiresAt) this.end(f, "duration");
  }

  private resolveApi(a: string | number): ApiDefinition {
    const d = typeof a === "number" ? this.byKey.get(a) : this.byName.get(String(a).toLowerCase());
    if (!d) throw new FaultSpecError(`unknown API ${JSON.stringify(a)} (use a Kafka API name such as "Produce", or its key)`);
    return d;
  }

  private validate(input: FaultSpec): Fault {
    if (typeof input !== "object" || input === null || Array.isArray(input)) throw new FaultSpecError("a fault is an object");
    for (const k of Object.keys(input)) if (!SPEC_KEYS.has(k)) throw new FaultSpecError(`unknown fault property "${k}"`);
    const spec: FaultSpec = { ...input };
    const str = (k: "topic" | "group" | "clientId") => {
      if (spec[k] !== undefined && typeof spec[k] !== "string") throw new FaultSpecError(`${k} must be a string`);
    };
    str("topic");
    str("group");
    str("clientId");
    const count = (k: "partition" | "delayMs" | "skip" | "times" | "durationMs", min: number) => {
      const v = spec[k];
      if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min)) throw new FaultSpecError(`${k} must be an integer ≥ ${min}`);
    };
    count("partition", 0);
    count("delayMs", 0);
    count("skip", 0);
    count("times", 1);
    count("durationMs", 0);
    for (const k of ["drop", "after", "unavailable", "coordinatorMove"] as const)
      if (spec[k] !== undefined && typeof spec[k] !== "boolean") throw new FaultSpecError(`${k} must be true or false`);

    let errorCode: number | null = null;
    if (spec.error !== undefined) {
      if (typeof spec.error === "number") {
        if (!ERROR_NAMES.has(spec.error) || spec.error === 0) throw new FaultSpecError(`unknown error code ${spec.error}`);
        errorCode = spec.error;
      } else {
        const c = (ErrorCode as Record<string, number>)[String(spec.error).toUpperCase()];
        if (c === undefined || c === 0) throw new FaultSpecError(`unknown error ${JSON.stringify(spec.error)} (use a Kafka error name such as "NOT_LEADER_OR_FOLLOWER")`);
        errorCode = c;
      }
    }

    let apis: Set<number> | null = null;
    if (spec.api !== undefined) {
      const list = Array.isArray(spec.api) ? spec.api : [spec.api];
      if (list.length === 0) throw new FaultSpecError("api must name at least one API");
      apis = new Set(list.map((a) => this.resolveApi(a).key));
    }

    const effects = [errorCode !== null && !spec.coordinatorMove, !!spec.drop, !!spec.unavailable, !!spec.coordinatorMove].filter(Boolean).length;
    if (effects > 1) throw new FaultSpecError("choose one of error, drop, unavailable and coordinatorMove");
    if (effects === 0 && !spec.delayMs) throw new FaultSpecError("a fault needs an effect: error, delayMs, drop, unavailable or coordinatorMove");
    if (spec.after && !(errorCode !== null || spec.drop)) throw new FaultSpecError("after applies to error and drop faults");
    if (spec.after && spec.delayMs) throw new FaultSpecError("after and delayMs cannot be combined (the delay is before handling)");
    if (spec.partition !== undefined && spec.topic === undefined) throw new FaultSpecError("partition needs topic");

    if (spec.unavailable) {
      if (spec.topic === undefined) throw new FaultSpecError("unavailable needs topic (and optionally partition)");
      const own = new Set<number>([METADATA]);
      for (const d of this.byKey.values()) if (LEADER_APIS.has(d.name)) own.add(d.key);
      apis = apis ? new Set([...apis].filter((k) => own.has(k))) : own;
    }
    if (spec.coordinatorMove) {
      if (errorCode !== null && ![ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS].includes(errorCode as never))
        throw new FaultSpecError("coordinatorMove answers NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS");
      const own = new Set<number>([FIND_COORDINATOR]);
      for (const d of this.byKey.values()) if (GROUP_APIS.has(d.name)) own.add(d.key);
      apis = apis ? new Set([...apis].filter((k) => own.has(k))) : own;
    }
    if (apis && apis.size === 0) throw new FaultSpecError("none of the named APIs is affected by this kind of fault");
    return new Fault(this.nextId++, spec, apis, errorCode);
  }
}
