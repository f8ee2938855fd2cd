// Where an API puts its error codes, worked out from the API definitions alone, so that an injected
// error is a real protocol response for every API and version without per-handler code.
//
// A response array "mirrors" a request array when both hold elements keyed by the same thing: Produce's
// topicData[].name ↔ responses[].name, partitionData[].index ↔ partitionResponses[].index, DescribeGroups'
// groups[] (strings) ↔ groups[].groupId. Mirrored levels are where per-topic, per-partition and per-group
// answers live; a level whose response elements have an error code (`errorCode`, `partitionErrorCode`)
// is an error site. An injected error goes to the outermost site (top-level errorCode, else per group or
// topic, else per partition), except for requests routed to partition leaders, whose errors are per
// partition even where the response also has a top-level code (Fetch's is for fetch sessions).
import type { ApiDefinition, Field, FieldType } from "../../protocol/types.ts";

/** The scope dimensions a request element can carry. */
export type Dim = "topic" | "partition" | "group" | "coordinatorKey";

/** What is known about one unit of a request: the client, and the group/topic/partition it concerns. */
export interface UnitContext {
  topic?: string;
  partition?: number;
  group?: string;
}

export interface Level {
  reqField: string;
  resField: string;
  /** the key field of a request element; null when the elements are the keys themselves */
  reqKey: string | null;
  resKey: string;
  dim: Dim | null;
  /** response element fields (present in this version) */
  resFields: Field[];
  /** the error-code field of a response element, if it has one */
  errorField: string | null;
  messageField: string | null;
  child: Level | null;
}

export interface Shape {
  def: ApiDefinition;
  version: number;
  topDims: [string, Dim][];
  topError: string | null;
  topMessage: string | null;
  resFields: Field[];
  root: Level | null;
  /** 0 = the top-level error code; n = the n-th mirrored level; -1 = the response has nowhere to say it */
  placement: number;
}

/** Requests clients send to a partition's leader: errors are per partition. */
const PARTITION_ROUTED = new Set(["Produce", "Fetch", "ListOffsets", "DeleteRecords", "OffsetForLeaderEpoch", "DescribeProducers"]);

const KEY_DIMS: Record<string, Dim | null> = {
  name: "topic",
  topic: "topic",
  topicName: "topic",
  groupId: "group",
  key: "coordinatorKey",
  transactionalId: null,
  partitionIndex: "partition",
  index: "partition",
  partition: "partition",
  resourceName: null,
};
const KEY_NAMES = Object.keys(KEY_DIMS);

const present = (f: Field, version: number, flexible: boolean) =>
  version >= (f.since ?? 0) && version <= (f.until ?? Infinity) && (f.tag === undefined || flexible);

const isErrorField = (f: Field) => f.type === "int16" && (f.name === "errorCode" || f.name.endsWith("ErrorCode"));
const isMessageField = (f: Field) => f.type === "string" && (f.name === "errorMessage" || f.name.endsWith("ErrorMessage"));

function structFields(t: FieldType): readonly Field[] | null {
  return typeof t !== "string" && t.kind === "struct" ? t.fields : null;
}
function arrayOf(t: FieldType): FieldType | null {
  return typeof t !== "string" && t.kind === "array" ? t.of : null;
}
function keyField(fields: Field[], type?: FieldType): Field | undefined {
  for (const name of KEY_NAMES) {
    const k = fields.find((f) => f.name === name && typeof f.type === "string" && (type === undefined || f.type === type));
    if (k) return k;
  }
  return undefined;
}

function compileLevel(reqFields: Field[], resFields: Field[], version: number, flexible: boolean, outer: ReadonlySet<Dim> = new Set()): Level | null {
  for (const rf of resFields) {
    const elem = arrayOf(rf.type);
    const resElem = elem && structFields(elem);
    if (!resElem) continue;
    const resElemFields = resElem.filter((f) => present(f, version, flexible));
    const resKey = keyField(resElemFields);
    if (!resKey) continue;
    for (const qf of reqFields) {
      const qElem = arrayOf(qf.type);
      if (!qElem) continue;
      let reqKey: string | null;
      let reqElemFields: Field[] = [];
      if (typeof qElem === "string") {
        if (qElem !== resKey.type) continue;
        reqKey = null;
      } else {
        const s = structFields(qElem);
        if (!s) continue;
        reqElemFields = s.filter((f) => present(f, version, flexible));
        const k = keyField(reqElemFields, resKey.type);
        if (!k) continue;
        reqKey = k.name;
      }
      // A dimension an outer level already has is something else here (CreateTopics' configs[].name).
      const dim = KEY_DIMS[resKey.name] ?? null;
      const own = dim !== null && !outer.has(dim) ? dim : null;
      return {
        reqField: qf.name,
        resField: rf.name,
        reqKey,
        resKey: resKey.name,
        dim: own,
        resFields: resElemFields,
        errorField: resElemFields.find(isErrorField)?.name ?? null,
        messageField: resElemFields.find(isMessageField)?.name ?? null,
        child: reqKey === null ? null : compileLevel(reqElemFields, resElemFields, version, flexible, own ? new Set([...outer, own]) : outer),
      };
    }
  }
  return null;
}

const cache = new WeakMap<ApiDefinition, Map<number, Shape>>();

export function shapeOf(def: ApiDefinition, version: number): Shape {
  let byVersion = cache.get(def);
  if (!byVersion) cache.set(def, (byVersion = new Map()));
  let shape = byVersion.get(version);
  if (shape) return shape;
  const flexible = version >= def.flexible;
  const req = def.request.filter((f) => present(f, version, flexible));
  const res = def.response.filter((f) => present(f, version, flexible));
  const topDims: [string, Dim][] = [];
  for (const f of req) {
    if (f.type !== "string") continue;
    if (f.name === "groupId") topDims.push([f.name, "group"]);
    else if (f.name === "key") topDims.push([f.name, "coordinatorKey"]);
  }
  const root = compileLevel(req, res, version, flexible);
  const topError = res.find(isErrorField)?.name ?? null;
  let placement = -1;
  const levels: Level[] = [];
  for (let l = root; l; l = l.child) levels.push(l);
  if (PARTITION_ROUTED.has(def.name)) {
    for (let i = levels.length - 1; i >= 0 && placement < 0; i--) if (levels[i]!.errorField) placement = i + 1;
    if (placement < 0 && topError) placement = 0;
  } else if (topError) placement = 0;
  else {
    const i = levels.findIndex((l) => l.errorField);
    if (i >= 0) placement = i + 1;
  }
  shape = { def, version, topDims, topError, topMessage: res.find(isMessageField)?.name ?? null, resFields: res, root, placement };
  byVersion.set(version, shape);
  return shape;
}

export function levelAt(shape: Shape, depth: number): Level {
  let l = shape.root!;
  for (let i = 1; i < depth; i++) l = l.child!;
  return l;
}

// ---- unit contexts ----

function withKey(ctx: UnitContext, dim: Dim | null, key: unknown, request: any): UnitContext {
  switch (dim) {
    case "topic":
      return { ...ctx, topic: key as string };
    case "partition":
      return { ...ctx, partition: key as number };
    case "group":
      return { ...ctx, group: key as string };
    case "coordinatorKey":
      // FindCoordinator: key type 0 (or absent, v0) names a group; 1 a transactional id
      return (request.keyType ?? 0) === 0 ? { ...ctx, group: key as string } : ctx;
  }
  return ctx;
}

export function topContext(shape: Shape, request: any): UnitContext {
  let ctx: UnitContext = {};
  for (const [name, dim] of shape.topDims) ctx = withKey(ctx, dim, request[name], request);
  return ctx;
}

export function elementKey(level: Level, elem: any): unknown {
  return level.reqKey === null ? elem : elem[level.reqKey];
}

export function elementContext(level: Level, elem: any, ctx: UnitContext, request: any): UnitContext {
  return withKey(ctx, level.dim, elementKey(level, elem), request);
}

/**
 * A three-valued match of a scope against what is known: true/false, or undefined when the scope names a
 * dimension this context does not have yet (deeper elements of the request may).
 */
export type Probe = (ctx: UnitContext) => boolean | undefined;

/** Whether a unit (an element at `level`) or anything nested in it matches. */
export function unitMatches(level: Level, elem: any, ctx: UnitContext, probe: Probe, request: any): boolean {
  return probe(ctx) ?? anyInside(level.child, elem, ctx, probe, request);
}

/** Whether the request as a whole concerns what the probe looks for. */
export function requestMatches(shape: Shape, request: any, probe: Probe): boolean {
  const ctx = topContext(shape, request);
  return probe(ctx) ?? anyInside(shape.root, request, ctx, probe, request);
}

function anyInside(level: Level | null, container: any, ctx: UnitContext, probe: Probe, request: any): boolean {
  if (!level) return false;
  const elems = container[level.reqField];
  if (!Array.isArray(elems)) return false;
  for (const e of elems) if (unitMatches(level, e, elementContext(level, e, ctx, request), probe, request)) return true;
  return false;
}

// ---- synthesized responses ----

export interface InjectedError {
  code: number;
  message: string;
}

// Kafka answers "no value" with -1 in offsets, timestamps, ids and epochs of an error response.
const MINUS_ONE_INT32 = /^(nodeId|leaderId|port|leaderEpoch|generationId|coordinatorEpoch)$/;
function noValues(fields: Field[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.type === "int64" || ((f.type === "int32" || f.type === "int16") && (MINUS_ONE_INT32.test(f.name) || f.name.startsWith("producer")))) o[f.name] = -1;
  }
  return o;
}

/** The whole response carrying the error at its top level (placement 0). */
export function errorResponse(shape: Shape, err: InjectedError): Record<string, unknown> {
  const o = noValues(shape.resFields);
  if (shape.topError) o[shape.topError] = err.code;
  if (shape.topMessage) o[shape.topMessage] = err.message;
  return o;
}

function errorElement(level: Level, reqElem: any, err: InjectedError): Record<string, unknown> {
  const o = noValues(level.resFields);
  o[level.resKey] = elementKey(level, reqElem);
  if (level.errorField) o[level.errorField] = err.code;
  if (level.messageField) o[level.messageField] = err.message;
  return o;
}

/** Decides, for one unit at the placement level, which error (if any) it gets. */
export type Decide = (level: Level, elem: any, ctx: UnitContext) => InjectedError | null;

export interface Split {
  /** the request without the units that got an error, or null when none is left */
  rest: any;
  /** the errored units as a response fragment: { [root.resField]: [...] } */
  errors: Record<string, unknown> | null;
}

/** Takes the units that get an injected error out of the request (placement > 0). */
export function splitRequest(shape: Shape, request: any, decide: Decide): Split {
  const root = shape.root!;
  const arr = request[root.reqField];
  if (!Array.isArray(arr)) return { rest: request, errors: null };
  const r = splitLevel(root, 1, shape.placement, arr, topContext(shape, request), request, decide);
  if (r.errs.length === 0) return { rest: request, errors: null };
  return {
    rest: r.kept.length > 0 ? { ...request, [root.reqField]: r.kept } : null,
    errors: { [root.resField]: r.errs },
  };
}

function splitLevel(level: Level, depth: number, target: number, arr: any[], ctx: UnitContext, request: any, decide: Decide) {
  const kept: any[] = [];
  const errs: any[] = [];
  for (const e of arr) {
    const c = elementContext(level, e, ctx, request);
    if (depth === target) {
      const err = decide(level, e, c);
      if (err) errs.push(errorElement(level, e, err));
      else kept.push(e);
      continue;
    }
    const child = level.child!;
    const sub = e[child.reqField];
    if (!Array.isArray(sub)) {
      kept.push(e);
      continue;
    }
    const r = splitLevel(child, depth + 1, target, sub, c, request, decide);
    if (r.errs.length > 0) errs.push({ ...noValues(level.resFields), [level.resKey]: elementKey(level, e), [child.resField]: r.errs });
    if (r.kept.length === sub.length) kept.push(e);
    else if (r.kept.length > 0) kept.push({ ...e, [child.reqField]: r.kept });
  }
  return { kept, errs };
}

/** Adds (or, with replace, substitutes) errored units into a handler's response. */
export function mergeErrors(shape: Shape, body: any, errors: Record<string, unknown>, replace: boolean): any {
  const root = shape.root!;
  return { ...body, [root.resField]: mergeLevel(root, 1, shape.placement, body?.[root.resField] ?? [], errors[root.resField] as any[], replace) };
}

function mergeLevel(level: Level, depth: number, target: number, into: any[], errs: any[], replace: boolean): any[] {
  const out = into.slice();
  for (const err of errs) {
    const i = out.findIndex((x) => x[level.resKey] === err[level.resKey]);
    if (i < 0) out.push(err);
    else if (depth === target) {
      if (replace) out[i] = err;
      else out.push(err);
    } else {
      const child = level.child!;
      out[i] = { ...out[i], [child.resField]: mergeLevel(child, depth + 1, target, out[i][child.resField] ?? [], err[child.resField], replace) };
    }
  }
  return out;
}
