// The dispatcher's slow path while faults are engaged: delays (holding later requests on the same
// connection behind the delayed one, as Kafka processes a connection's requests in order), dropped
// connections, and errors answered in the API's own response shape (shape.ts) for exactly the units
// (partitions, groups, …) a fault is scoped to; the rest of the request is handled as usual.
import { requestCodec } from "../../protocol/codec.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { readRequestHeader, skipHeaderTags } from "../../protocol/header.ts";
import { Reader } from "../../protocol/reader.ts";
import type { ApiDefinition } from "../../protocol/types.ts";
import { NO_RESPONSE } from "../handlers/handler.ts";
import type { Fault, FaultInjector } from "./injector.ts";
import { errorResponse, mergeErrors, requestMatches, shapeOf, splitRequest, unitMatches, type InjectedError, type Probe, type Shape } from "./shape.ts";

/** Returned instead of a response body: close the connection (after earlier responses are written). */
export const DROP = Symbol("drop the connection");

export type Body = unknown;
export type Outcome = Body | typeof NO_RESPONSE | typeof DROP;

/** Per-connection state: the request the next one must wait for while requests are held back. */
export interface ConnectionFaults {
  gate: Promise<void> | null;
  dropped: boolean;
}

export function connectionFaults(): ConnectionFaults {
  return { gate: null, dropped: false };
}

export interface Call {
  def: ApiDefinition;
  version: number;
  clientId: string | null;
  /** the decoded request; only valid during interceptRequest (it may point into the frame) */
  request: unknown;
  frame: Uint8Array;
  /** runs the handler */
  run(request: unknown): Outcome | Promise<Outcome>;
  /** what to answer when the handler throws */
  failed(e: unknown): Outcome;
}

const METADATA = 3;
const PRODUCE = 0;

function probeOf(f: Fault): Probe {
  const { topic, partition, group } = f.spec;
  return (ctx) => {
    let unknown = false;
    if (topic !== undefined) {
      if (ctx.topic === undefined) unknown = true;
      else if (ctx.topic !== topic) return false;
    }
    if (partition !== undefined) {
      if (ctx.partition === undefined) unknown = true;
      else if (ctx.partition !== partition) return false;
    }
    if (group !== undefined) {
      if (ctx.group === undefined) unknown = true;
      else if (ctx.group !== group) return false;
    }
    return unknown ? undefined : true;
  };
}

const scoped = (f: Fault) => f.spec.topic !== undefined || f.spec.partition !== undefined || f.spec.group !== undefined;

/** Decisions taken for one request: each fault is counted (fire) at most once per request. */
class Decisions {
  private readonly decided = new Map<Fault, boolean>();
  constructor(private readonly faults: FaultInjector) {}
  fires(f: Fault): boolean {
    let d = this.decided.get(f);
    if (d === undefined) this.decided.set(f, (d = this.faults.fire(f)));
    return d;
  }
}

function decodeAgain(def: ApiDefinition, version: number, frame: Uint8Array): unknown {
  const r = new Reader(frame);
  readRequestHeader(r);
  if (version >= def.flexible) skipHeaderTags(r);
  return requestCodec(def, version).decode(r);
}

export function interceptRequest(faults: FaultInjector, conn: ConnectionFaults, call: Call): Outcome | Promise<Outcome> {
  if (conn.dropped) return DROP;
  const shape = shapeOf(call.def, call.version);
  const candidates = faults.candidates(call.def.key, call.clientId);
  const decisions = new Decisions(faults);
  const matches = (f: Fault) => !scoped(f) || requestMatches(shape, call.request, probeOf(f));

  // Delays are decided on arrival, in arrival order, so skip/times count requests as they came in.
  let delayMs = 0;
  for (const f of candidates) if (f.spec.delayMs && matches(f) && decisions.fires(f)) delayMs += f.spec.delayMs;

  if (delayMs === 0 && conn.gate === null) return proceed(faults, conn, shape, call, call.request, candidates, decisions);

  // Held back: the frame may be a reused receive buffer, so keep a copy and decode it again later.
  const frame = call.frame.slice();
  const before = conn.gate ?? Promise.resolve();
  let result: Outcome | Promise<Outcome> = NO_RESPONSE;
  faults.holdStarted();
  const started = before
    .then(() => (delayMs > 0 ? new Promise<void>((r) => setTimeout(r, delayMs)) : undefined))
    .then(() => {
      result = conn.dropped ? DROP : proceed(faults, conn, shape, call, decodeAgain(call.def, call.version, frame), candidates, decisions);
    })
    .finally(() => {
      faults.holdEnded();
      if (conn.gate === started) conn.gate = null;
    });
  conn.gate = started;
  return started.then(() => result);
}

function proceed(
  faults: FaultInjector,
  conn: ConnectionFaults,
  shape: Shape,
  call: Call,
  request: any,
  candidates: Fault[],
  decisions: Decisions,
): Outcome | Promise<Outcome> {
  const matches = (f: Fault) => !scoped(f) || requestMatches(shape, request, probeOf(f));
  const drop = (): typeof DROP => {
    conn.dropped = true;
    return DROP;
  };
  for (const f of candidates) if (f.spec.drop && !f.spec.after && matches(f) && decisions.fires(f)) return drop();

  const before = candidates.filter((f) => f.hasError && !f.spec.after && f.errorFor(call.def) !== null);
  const after = candidates.filter((f) => f.errorCode !== null && f.spec.after);
  const dropAfter = candidates.filter((f) => f.spec.drop && f.spec.after);
  // Kafka closes the connection when an acks=0 produce fails: the client has no other way to learn it.
  const silent = call.def.key === PRODUCE && request.acks === 0;

  let rest: any = request;
  let errors: Record<string, unknown> | null = null;
  if (before.length > 0 && shape.placement === 0) {
    for (const f of before) if (matches(f) && decisions.fires(f)) return silent ? drop() : errorResponse(shape, injected(f, call.def));
  } else if (before.length > 0 && shape.placement > 0) {
    const split = splitRequest(shape, request, (level, elem, ctx) => {
      for (const f of before) if ((!scoped(f) || unitMatches(level, elem, ctx, probeOf(f), request)) && decisions.fires(f)) return injected(f, call.def);
      return null;
    });
    rest = split.rest;
    errors = split.errors;
    if (errors && silent) return drop();
  }

  const finish = (body: Outcome): Outcome => {
    if (body === NO_RESPONSE || body === DROP) return body;
    for (const f of dropAfter) if (matches(f) && decisions.fires(f)) return drop();
    let out: any = body;
    if (errors) out = mergeErrors(shape, out, errors, false);
    if (after.length > 0 && rest !== null) out = afterErrors(shape, call.def, rest, out, after, decisions);
    if (call.def.key === METADATA) out = offlinePartitions(out, candidates, decisions);
    return out;
  };

  if (rest === null) return finish(errors ? {} : NO_RESPONSE);
  let out: Outcome | Promise<Outcome>;
  try {
    out = call.run(rest);
  } catch (e) {
    return call.failed(e);
  }
  return out instanceof Promise ? out.then(finish) : finish(out);
}

function injected(f: Fault, def: ApiDefinition): InjectedError {
  return { code: f.errorFor(def)!, message: f.message() };
}

/** Errors answered after the broker handled the request: the work is done, the client told otherwise. */
function afterErrors(shape: Shape, def: ApiDefinition, request: any, body: any, after: Fault[], decisions: Decisions): any {
  if (shape.placement === 0) {
    for (const f of after) if ((!scoped(f) || requestMatches(shape, request, probeOf(f))) && decisions.fires(f)) return errorResponse(shape, injected(f, def));
    return body;
  }
  if (shape.placement < 0) return body;
  const split = splitRequest(shape, request, (level, elem, ctx) => {
    for (const f of after) if ((!scoped(f) || unitMatches(level, elem, ctx, probeOf(f), request)) && decisions.fires(f)) return injected(f, def);
    return null;
  });
  return split.errors ? mergeErrors(shape, body, split.errors, true) : body;
}

/** Metadata for an offline partition: no leader, no in-sync replicas, LEADER_NOT_AVAILABLE. */
function offlinePartitions(body: any, candidates: Fault[], decisions: Decisions): any {
  const offline = candidates.filter((f) => f.spec.unavailable);
  if (offline.length === 0 || !Array.isArray(body?.topics)) return body;
  let changed = false;
  const topics = body.topics.map((t: any) => {
    const fs = offline.filter((f) => f.spec.topic === t.name);
    if (fs.length === 0 || !Array.isArray(t.partitions)) return t;
    return {
      ...t,
      partitions: t.partitions.map((p: any) => {
        const f = fs.find((f) => f.spec.partition === undefined || f.spec.partition === p.partitionIndex);
        if (!f || !decisions.fires(f)) return p;
        changed = true;
        return { ...p, errorCode: ErrorCode.LEADER_NOT_AVAILABLE, leaderId: -1, isrNodes: [] };
      }),
    };
  });
  return changed ? { ...body, topics } : body;
}
