// The web console: one self-contained page (src/http/console/index.html, bundled as text so it ends up
// inside a `bun build --compile` binary; no CDN) and the JSON API it calls under /api/.
//
// Every admin action goes through the Kafka API handlers themselves (CreateTopics, DeleteTopics,
// CreatePartitions, DescribeConfigs, IncrementalAlterConfigs, ListOffsets, Produce, ListGroups,
// DescribeGroups, OffsetFetch, OffsetCommit, DeleteGroups), called in-process at their highest version,
// so the console validates, refuses and logs exactly as the broker does for a client. Log state (offsets,
// sizes, segments) is read from the partition logs; the message browser reads batches by offset through
// the logs' sparse index (the same `read` a Fetch uses) and decodes only the page it shows, so it is as
// fast on a partition of millions of records as on a small one. Search scans a bounded range per call.
//
// Mutating requests must be JSON (application/json), and a browser Origin other than the listener's
// own is refused: a cross-site page can then neither send a "simple" form post nor read answers.
// The console has no authentication: bind brook.http.listener to a trusted address.
import consolePage from "./console/index.html" with { type: "text" };
import pkg from "../../package.json" with { type: "json" };
import { CreatePartitions } from "../../protocol/apis/37-create-partitions.ts";
import { CreateTopics } from "../../protocol/apis/19-create-topics.ts";
import { DeleteGroups } from "../../protocol/apis/42-delete-groups.ts";
import { DeleteTopics } from "../../protocol/apis/20-delete-topics.ts";
import { DescribeConfigs } from "../../protocol/apis/32-describe-configs.ts";
import { DescribeGroups } from "../../protocol/apis/15-describe-groups.ts";
import { IncrementalAlterConfigs } from "../../protocol/apis/44-incremental-alter-configs.ts";
import { ListGroups } from "../../protocol/apis/16-list-groups.ts";
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { OffsetCommit } from "../../protocol/apis/08-offset-commit.ts";
import { OffsetFetch } from "../../protocol/apis/09-offset-fetch.ts";
import { Produce } from "../../protocol/apis/00-produce.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { BATCH_LENGTH, HEADER_SIZE, LOG_OVERHEAD, dataView } from "../../protocol/records/batch.ts";
import { decodeRecords, encodeBatch, type DecodedRecord } from "../../protocol/records/records.ts";
import type { ApiDefinition, RequestOf, ResponseOf } from "../../protocol/types.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { requestAuthorizer } from "../acl/authorizer.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment } from "../group/consumer-protocol.ts";
import { NO_RESPONSE, type BrokerContext, type Handler, type RequestContext } from "../handlers/handler.ts";
import { ConfigSource } from "../topic-config.ts";
import type { Partition, Topic } from "../topics.ts";
import type { OpsState } from "./ops-state.ts";
import type { HttpRoutes, RouteMatch } from "./server.ts";
import type { ThroughputSampler } from "./throughput.ts";

const PAGE = consolePage as unknown as string;

const TOPIC_RESOURCE = 2;
const ZERO_TOPIC_ID = "0".repeat(32);
const BROKER_RESOURCE = 4;
const LATEST = -1;
const EARLIEST = -2;
/** records per page of the message browser, at most */
const MAX_PAGE = 500;
/** a key or value longer than this is cut in listings (its full size is reported) */
const MAX_SHOWN_BYTES = 64 * 1024;
/** bytes of batches one search call reads at most; the answer says where to go on */
const SEARCH_BUDGET_BYTES = 64 << 20;
const READ_CHUNK_BYTES = 1 << 20;

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
const errorName = (code: number) => ERROR_NAMES.get(code) ?? `error ${code}`;
const SOURCE_NAMES = new Map<number, string>(Object.entries(ConfigSource).map(([name, code]) => [code, name]));

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** An error code from a handler becomes an HTTP error carrying Kafka's name and message. */
function check(errorCode: number | undefined, message?: string | null): void {
  if (!errorCode) return;
  const status = errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || errorCode === ErrorCode.GROUP_ID_NOT_FOUND ? 404 : 400;
  throw new HttpError(status, `${errorName(errorCode)}${message ? `: ${message}` : ""}`);
}

const b64 = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"));

function shown(bytes: Uint8Array | null): { data: string | null; size: number; truncated: boolean } {
  if (bytes === null) return { data: null, size: -1, truncated: false };
  const truncated = bytes.length > MAX_SHOWN_BYTES;
  return { data: b64(truncated ? bytes.subarray(0, MAX_SHOWN_BYTES) : bytes), size: bytes.length, truncated };
}

function intParam(url: URL, name: string, fallback: number | null = null): number | null {
  const v = url.searchParams.get(name);
  if (v === null || v === "") return fallback;
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `${name} must be an integer, got "${v}"`);
  return Number(v);
}

/** Java's murmur2, as Kafka's default partitioner uses it for keyed records. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

interface RecordView {
  offset: number;
  timestamp: number;
  timestampType: "CreateTime" | "LogAppendTime";
  key: string | null;
  keySize: number;
  keyTruncated: boolean;
  value: string | null;
  valueSize: number;
  valueTruncated: boolean;
  headers: { key: string; value: string | null }[];
  transactional: boolean;
}

function recordView(r: DecodedRecord, logAppendTime: boolean, transactional: boolean): RecordView {
  const key = shown(r.key);
  const value = shown(r.value);
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: logAppendTime ? "LogAppendTime" : "CreateTime",
    key: key.data,
    keySize: key.size,
    keyTruncated: key.truncated,
    value: value.data,
    valueSize: value.size,
    valueTruncated: value.truncated,
    headers: r.headers.map((h) => ({ key: h.key, value: b64(h.value) })),
    transactional,
  };
}

/**
 * Walks the data batches of a partition from `from`, decoding one batch at a time, until `visit` returns
 * false, `to` is reached or `budgetBytes` of batches have been read. Returns the offset to continue at.
 */
function walkBatches(
  p: Partition,
  from: number,
  to: number,
  budgetBytes: number,
  visit: (records: DecodedRecord[], logAppendTime: boolean, transactional: boolean) => boolean,
): number {
  const log = p.log;
  let next = Math.max(from, log.logStartOffset);
  let read = 0;
  while (next < to && read < budgetBytes) {
    const chunk = log.read(next, READ_CHUNK_BYTES, true);
    if (chunk === null || chunk.length === 0) break;
    const v = dataView(chunk);
    for (let pos = 0; pos + HEADER_SIZE <= chunk.length; ) {
      const size = v.getInt32(pos + BATCH_LENGTH) + LOG_OVERHEAD;
      const batch = decodeRecords(chunk.subarray(pos, pos + size));
      pos += size;
      read += size;
      const batchEnd = batch.baseOffset + batch.lastOffsetDelta + 1;
      if (!batch.isControl) {
        const wanted = batch.records.filter((r) => r.offset >= next && r.offset < to);
        if (wanted.length > 0 && !visit(wanted, batch.timestampType === 1, batch.isTransactional)) {
          return Math.min(batchEnd, to);
        }
      }
      next = Math.max(next, batchEnd);
      if (next >= to || read >= budgetBytes) break;
    }
  }
  return Math.min(next, to);
}

function contains(hay: Uint8Array | null, needle: Uint8Array): boolean {
  return hay !== null && Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(needle) >= 0;
}

export function registerConsole(routes: HttpRoutes, broker: BrokerContext, state: OpsState, sampler: ThroughputSampler): void {
  const startedAt = Date.now();
  // The HTTP listener has no authentication: with an authorizer, the console is User:ANONYMOUS from the
  // loopback address, and sees and changes only what the ACLs allow that principal.
  const session = { principal: "User:ANONYMOUS", clientHost: "127.0.0.1" };
  const authz = requestAuthorizer(broker.authorizer, session, broker.log);
  const mayRead = (topic: string) => {
    if (!authz.authorize(AclOperation.READ, ResourceType.TOPIC, topic))
      throw new HttpError(403, `${session.principal} may not READ topic ${topic} (ACLs)`);
  };

  /** Calls a Kafka API handler in-process, at its highest version, as a request on the first listener would. */
  async function call<D extends ApiDefinition>(def: D, request: RequestOf<D>): Promise<ResponseOf<D>> {
    const handler = broker.registry.get(def.key) as Handler<D> | undefined;
    if (!handler) throw new HttpError(501, `${def.name} is not served by this broker`);
    if (!state.listener) throw new HttpError(503, "the broker is not ready");
    const version = handler.api.versions[1];
    const ctx: RequestContext = {
      broker,
      version,
      header: { apiKey: def.key, apiVersion: version, correlationId: 0, clientId: "brook-console" },
      peer: "web console",
      listener: state.listener,
      session,
      authorize: authz.authorize,
      authz,
    };
    const out = await handler.handle(request, ctx);
    if (out === NO_RESPONSE) throw new Error(`${def.name} gave no response`);
    return out;
  }

  const topicOf = (name: string): Topic => {
    const t = broker.topics.get(name);
    if (!t) throw new HttpError(404, `UNKNOWN_TOPIC_OR_PARTITION: topic '${name}' does not exist`);
    return t;
  };
  const partitionOf = (t: Topic, index: number | null): Partition => {
    const p = t.partitions[index ?? 0];
    if (!p) throw new HttpError(404, `UNKNOWN_TOPIC_OR_PARTITION: topic '${t.name}' has no partition ${index}`);
    return p;
  };

  async function listOffset(topic: string, partition: number, timestamp: number): Promise<number> {
    const r = await call(ListOffsets, { replicaId: -1, isolationLevel: 0, timeoutMs: 0, topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }] });
    const p = r.topics?.[0]?.partitions?.[0];
    check(p?.errorCode);
    return p?.offset ?? -1;
  }

  async function describeConfigs(resourceType: number, resourceName: string) {
    const r = await call(DescribeConfigs, { resources: [{ resourceType, resourceName, configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    const res = r.results?.[0];
    check(res?.errorCode, res?.errorMessage);
    return (res?.configs ?? []).map((c) => ({
      name: c.name!,
      value: c.value ?? null,
      readOnly: !!c.readOnly,
      source: SOURCE_NAMES.get(c.configSource ?? -1) ?? "UNKNOWN",
      isDefault: c.configSource === ConfigSource.DEFAULT_CONFIG,
    }));
  }

  function partitionRow(p: Partition) {
    const log = p.log;
    return {
      partition: p.index,
      startOffset: log.logStartOffset,
      endOffset: log.logEndOffset,
      lastStableOffset: broker.txn.lastStableOffset(p),
      size: log.size,
      segments: log.sealedSegments().length + 1,
    };
  }

  function topicSummary(t: Topic) {
    let size = 0, messages = 0, segments = 0;
    for (const p of t.partitions) {
      if (p.log.isClosed) continue;
      size += p.log.size;
      messages += p.log.logEndOffset - p.log.logStartOffset;
      segments += p.log.sealedSegments().length + 1;
    }
    return { name: t.name, id: t.id, internal: t.internal, partitions: t.partitions.length, size, messages, segments, rates: sampler.topicRate(t.name) };
  }

  /** Committed offsets of a group with the log's offsets and lag, via OffsetFetch. */
  async function groupOffsets(groupId: string) {
    const r = await call(OffsetFetch, { groupId: "", topics: null, groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }], requireStable: false });
    const g = r.groups?.[0];
    check(g?.errorCode);
    const rows: { topic: string; partition: number; committed: number; metadata: string | null; startOffset: number | null; endOffset: number | null; lag: number | null }[] = [];
    for (const t of g?.topics ?? [])
      for (const p of t.partitions ?? []) {
        const log = broker.topics.partition(t.name!, p.partitionIndex!)?.log;
        const committed = p.committedOffset ?? -1;
        const end = log && !log.isClosed ? log.logEndOffset : null;
        rows.push({
          topic: t.name!,
          partition: p.partitionIndex!,
          committed,
          metadata: p.metadata ?? null,
          startOffset: log && !log.isClosed ? log.logStartOffset : null,
          endOffset: end,
          lag: end !== null && committed >= 0 ? Math.max(0, end - committed) : null,
        });
      }
    return rows;
  }

  async function describeGroup(groupId: string) {
    const r = await call(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
    const g = r.groups?.[0];
    check(g?.errorCode);
    return g!;
  }

  const json = (data: unknown, status = 200) => Response.json(data, { status, headers: { "cache-control": "no-store" } });

  /** Route wrapper: HttpError → JSON error; mutating methods must be same-origin JSON. */
  const api =
    (fn: (req: Request, m: RouteMatch) => unknown | Promise<unknown>, status = 200) =>
    async (req: Request, m: RouteMatch): Promise<Response> => {
      try {
        if (req.method !== "GET" && req.method !== "HEAD") {
          const origin = req.headers.get("origin");
          if (origin !== null && origin !== `${m.url.protocol}//${req.headers.get("host")}`) throw new HttpError(403, `cross-origin request from ${origin} refused`);
          const type = req.headers.get("content-type") ?? "";
          if (!type.toLowerCase().startsWith("application/json")) throw new HttpError(415, "send the request body as application/json");
        }
        return json(await fn(req, m), status);
      } catch (e) {
        if (e instanceof HttpError) return json({ error: e.message }, e.status);
        throw e;
      }
    };

  const body = async (req: Request): Promise<Record<string, any>> => {
    try {
      const b = await req.json();
      if (b === null || typeof b !== "object" || Array.isArray(b)) throw new Error("not an object");
      return b as Record<string, any>;
    } catch (e) {
      throw new HttpError(400, `the request body must be a JSON object (${(e as Error).message})`);
    }
  };

  routes.add("GET", "/", () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } }));
  routes.add("GET", "/favicon.ico", () => new Response(null, { status: 204 }));

  routes.add(
    "GET",
    "/api/overview",
    api(() => {
      let size = 0, partitions = 0, topics = 0;
      for (const t of broker.topics.all()) {
        topics++;
        partitions += t.partitions.length;
        for (const p of t.partitions) if (!p.log.isClosed) size += p.log.size;
      }
      const all = broker.metrics.allTopics;
      let connections = 0;
      for (const [, c] of broker.metrics.listenerEntries()) connections += c.connections;
      return {
        clusterId: broker.clusterId,
        nodeId: broker.nodeId,
        version: pkg.version,
        uptimeMs: Date.now() - startedAt,
        listeners: state.listeners,
        logDirs: broker.config.logDirs,
        topics,
        partitions,
        groups: broker.groups.listGroups([]).groups.length,
        connections,
        size,
        totals: { bytesIn: all.bytesIn, bytesOut: all.bytesOut, messagesIn: all.messagesIn, messagesOut: all.messagesOut },
      };
    }),
  );

  routes.add("GET", "/api/throughput", api(() => ({ intervalMs: sampler.intervalMs, samples: sampler.history() })));

  // ---- topics -----------------------------------------------------------------------------------------

  routes.add(
    "GET",
    "/api/topics",
    api(() => [...broker.topics.all()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(topicSummary)),
  );

  routes.add(
    "POST",
    "/api/topics",
    api(async (req) => {
      const b = await body(req);
      const name = String(b.name ?? "");
      const partitions = b.partitions === undefined || b.partitions === "" ? -1 : Number(b.partitions);
      const replicationFactor = b.replicationFactor === undefined || b.replicationFactor === "" ? -1 : Number(b.replicationFactor);
      const configs = Object.entries((b.configs ?? {}) as Record<string, unknown>).map(([k, v]) => ({ name: k, value: v === null ? null : String(v) }));
      const r = await call(CreateTopics, {
        topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs }],
        timeoutMs: 30000,
        validateOnly: false,
      });
      const t = r.topics?.[0];
      check(t?.errorCode, t?.errorMessage);
      return topicSummary(topicOf(name));
    }, 201),
  );

  routes.add(
    "GET",
    "/api/topics/:topic",
    api(async (_req, { params }) => {
      const t = topicOf(params.topic!);
      return { ...topicSummary(t), partitionList: t.partitions.filter((p) => !p.log.isClosed).map(partitionRow), configs: await describeConfigs(TOPIC_RESOURCE, t.name) };
    }),
  );

  routes.add(
    "DELETE",
    "/api/topics/:topic",
    api(async (_req, { params }) => {
      const r = await call(DeleteTopics, { topics: [{ name: params.topic!, topicId: ZERO_TOPIC_ID }], topicNames: [], timeoutMs: 30000 });
      const d = r.responses?.[0];
      check(d?.errorCode, d?.errorMessage);
      return { deleted: params.topic };
    }),
  );

  routes.add(
    "POST",
    "/api/topics/:topic/partitions",
    api(async (req, { params }) => {
      const b = await body(req);
      const r = await call(CreatePartitions, { topics: [{ name: params.topic!, count: Number(b.count), assignments: null }], timeoutMs: 30000, validateOnly: false });
      const res = r.results?.[0];
      check(res?.errorCode, res?.errorMessage);
      return topicSummary(topicOf(params.topic!));
    }),
  );

  // Body: { set: { name: value }, delete: [name] } (IncrementalAlterConfigs SET and DELETE).
  const alterConfigs = (resourceType: number, name: (p: Record<string, string>) => string) =>
    api(async (req, { params }) => {
      const b = await body(req);
      const configs = [
        ...Object.entries((b.set ?? {}) as Record<string, unknown>).map(([k, v]) => ({ name: k, configOperation: 0, value: String(v) })),
        ...((b.delete ?? []) as unknown[]).map((k) => ({ name: String(k), configOperation: 1, value: null })),
      ];
      const r = await call(IncrementalAlterConfigs, { resources: [{ resourceType, resourceName: name(params), configs }], validateOnly: false });
      const res = r.responses?.[0];
      check(res?.errorCode, res?.errorMessage);
      return describeConfigs(resourceType, name(params));
    });
  routes.add("PATCH", "/api/topics/:topic/configs", alterConfigs(TOPIC_RESOURCE, (p) => p.topic!));

  // ---- messages ---------------------------------------------------------------------------------------

  // ?partition=P&offset=N | &timestamp=MS | (neither: the newest page) &limit=L
  routes.add(
    "GET",
    "/api/topics/:topic/messages",
    api(async (_req, { params, url }) => {
      const t = topicOf(params.topic!);
      mayRead(t.name);
      const p = partitionOf(t, intParam(url, "partition", 0));
      const limit = Math.min(Math.max(intParam(url, "limit", 50)!, 1), MAX_PAGE);
      const log = p.log;
      const start = log.logStartOffset, end = log.logEndOffset;
      let from = intParam(url, "offset");
      const timestamp = intParam(url, "timestamp");
      if (timestamp !== null) {
        const found = await listOffset(t.name, p.index, timestamp);
        from = found >= 0 ? found : end;
      }
      if (from === null) from = Math.max(start, end - limit);
      from = Math.min(Math.max(from, start), end);
      const records: RecordView[] = [];
      const next = walkBatches(p, from, end, Infinity, (rs, logAppendTime, transactional) => {
        for (const r of rs) {
          if (records.length >= limit) return false;
          records.push(recordView(r, logAppendTime, transactional));
        }
        return records.length < limit;
      });
      const last = records.length > 0 ? records[records.length - 1]!.offset + 1 : next;
      return { topic: t.name, partition: p.index, startOffset: start, endOffset: end, from, next: last, records };
    }),
  );

  // ?partition=P&q=TEXT&from=N&to=M&limit=L: records whose key, value or a header contains TEXT (UTF-8 bytes).
  routes.add(
    "GET",
    "/api/topics/:topic/search",
    api((_req, { params, url }) => {
      const t = topicOf(params.topic!);
      mayRead(t.name);
      const p = partitionOf(t, intParam(url, "partition", 0));
      const q = url.searchParams.get("q") ?? "";
      if (q === "") throw new HttpError(400, "q (the text to look for) is required");
      const needle = new TextEncoder().encode(q);
      const limit = Math.min(Math.max(intParam(url, "limit", 100)!, 1), MAX_PAGE);
      const log = p.log;
      const from = Math.max(intParam(url, "from", log.logStartOffset)!, log.logStartOffset);
      const to = Math.min(intParam(url, "to", log.logEndOffset)!, log.logEndOffset);
      const matches: RecordView[] = [];
      let scanned = 0;
      const next = walkBatches(p, from, to, SEARCH_BUDGET_BYTES, (rs, logAppendTime, transactional) => {
        for (const r of rs) {
          scanned++;
          if (contains(r.key, needle) || contains(r.value, needle) || r.headers.some((h) => h.key.includes(q) || contains(h.value, needle))) {
            matches.push(recordView(r, logAppendTime, transactional));
            if (matches.length >= limit) return false;
          }
        }
        return true;
      });
      const resumeAt = matches.length >= limit ? matches[matches.length - 1]!.offset + 1 : next;
      return { topic: t.name, partition: p.index, q, from, to, scanned, next: resumeAt, done: resumeAt >= to, matches };
    }),
  );

  let roundRobin = 0;
  // Body: { partition?, key?, value?, headers?: [{ key, value }], encoding?: "text" | "base64" }
  routes.add(
    "POST",
    "/api/topics/:topic/messages",
    api(async (req, { params }) => {
      const t = topicOf(params.topic!);
      const b = await body(req);
      const decode = (v: unknown): Uint8Array | null => {
        if (v === null || v === undefined) return null;
        return b.encoding === "base64" ? new Uint8Array(Buffer.from(String(v), "base64")) : new TextEncoder().encode(String(v));
      };
      const key = decode(b.key);
      const value = decode(b.value);
      const headers = ((b.headers ?? []) as { key: unknown; value: unknown }[]).map((h) => ({ key: String(h.key), value: decode(h.value) }));
      let partition: number;
      if (b.partition !== undefined && b.partition !== null && b.partition !== "") partition = Number(b.partition);
      // Like Kafka's default partitioner: a key picks its partition by murmur2, so the console's records
      // land where a Java, librdkafka (murmur2_random) or kafkajs (DefaultPartitioner) producer puts them.
      else partition = key !== null ? (murmur2(key) & 0x7fffffff) % t.partitions.length : roundRobin++ % t.partitions.length;
      const records = encodeBatch({ records: [{ key, value, headers, timestamp: Date.now() }] });
      const r = await call(Produce, { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [{ name: t.name, partitionData: [{ index: partition, records }] }] });
      const res = r.responses?.[0]?.partitionResponses?.[0];
      check(res?.errorCode, res?.errorMessage);
      return { topic: t.name, partition, offset: res!.baseOffset };
    }, 201),
  );

  // ---- consumer groups --------------------------------------------------------------------------------

  routes.add(
    "GET",
    "/api/groups",
    api(async () => {
      const r = await call(ListGroups, { statesFilter: [], typesFilter: [] });
      check(r.errorCode);
      const out = [];
      for (const g of [...(r.groups ?? [])].sort((a, b) => (a.groupId! < b.groupId! ? -1 : 1))) {
        const offsets = await groupOffsets(g.groupId!);
        const d = await describeGroup(g.groupId!);
        out.push({
          groupId: g.groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          members: d.members?.length ?? 0,
          topics: [...new Set(offsets.map((o) => o.topic))].sort(),
          lag: offsets.reduce((sum, o) => sum + (o.lag ?? 0), 0),
        });
      }
      return out;
    }),
  );

  routes.add(
    "GET",
    "/api/groups/:group",
    api(async (_req, { params }) => {
      const groupId = params.group!;
      const d = await describeGroup(groupId);
      if (d.groupState === "Dead" && (await groupOffsets(groupId)).length === 0) throw new HttpError(404, `GROUP_ID_NOT_FOUND: group '${groupId}' does not exist`);
      const members = (d.members ?? []).map((m) => {
        let assignment: { topic: string; partitions: number[] }[] = [];
        if (d.protocolType === CONSUMER_PROTOCOL_TYPE && m.memberAssignment && m.memberAssignment.length > 0) {
          try {
            assignment = decodeAssignment(m.memberAssignment).partitions;
          } catch {
            assignment = [];
          }
        }
        return { memberId: m.memberId ?? "", groupInstanceId: m.groupInstanceId ?? null, clientId: m.clientId ?? "", clientHost: m.clientHost ?? "", assignment };
      });
      const owner = new Map<string, (typeof members)[number]>();
      for (const m of members) for (const a of m.assignment) for (const p of a.partitions) owner.set(`${a.topic}\u0000${p}`, m);
      const offsets = await groupOffsets(groupId);
      const rows = offsets.map((o) => ({ ...o, memberId: owner.get(`${o.topic}\u0000${o.partition}`)?.memberId ?? null, clientId: owner.get(`${o.topic}\u0000${o.partition}`)?.clientId ?? null }));
      // Assigned partitions without a commit yet are shown too (committed -1, no lag), as kafka-consumer-groups does.
      for (const [k, m] of owner) {
        const [topic, part] = k.split("\u0000") as [string, string];
        if (rows.some((r) => r.topic === topic && r.partition === Number(part))) continue;
        const log = broker.topics.partition(topic, Number(part))?.log;
        rows.push({ topic, partition: Number(part), committed: -1, metadata: null, startOffset: log?.logStartOffset ?? null, endOffset: log?.logEndOffset ?? null, lag: null, memberId: m.memberId, clientId: m.clientId });
      }
      rows.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      return { groupId, state: d.groupState, protocolType: d.protocolType, protocol: d.protocolData, members, offsets: rows };
    }),
  );

  // Body: { topic, partitions?: number[], to: "earliest" | "latest" | "offset" | "timestamp" | "shift", value?, dryRun? }
  // Like kafka-consumer-groups --reset-offsets: only for a group without members; offsets are clamped to
  // the partition's [log start, log end]; a timestamp past every record resets to the log end.
  routes.add(
    "POST",
    "/api/groups/:group/reset",
    api(async (req, { params }) => {
      const groupId = params.group!;
      const b = await body(req);
      const t = topicOf(String(b.topic ?? ""));
      const d = await describeGroup(groupId);
      if (d.groupState !== "Empty" && d.groupState !== "Dead")
        throw new HttpError(409, `group '${groupId}' is ${d.groupState}: offsets can only be reset while it has no members`);
      const partitions: number[] = Array.isArray(b.partitions) && b.partitions.length > 0 ? b.partitions.map(Number) : t.partitions.map((p) => p.index);
      const current = new Map((await groupOffsets(groupId)).filter((o) => o.topic === t.name).map((o) => [o.partition, o.committed]));
      const value = Number(b.value ?? 0);
      const plan: { partition: number; from: number; to: number }[] = [];
      for (const index of partitions) {
        const p = partitionOf(t, index);
        const start = p.log.logStartOffset, end = p.log.logEndOffset;
        let target: number;
        switch (b.to) {
          case "earliest":
            target = await listOffset(t.name, index, EARLIEST);
            break;
          case "latest":
            target = await listOffset(t.name, index, LATEST);
            break;
          case "offset":
            target = value;
            break;
          case "timestamp": {
            const found = await listOffset(t.name, index, value);
            target = found >= 0 ? found : end;
            break;
          }
          case "shift":
            target = (current.get(index) ?? start) + value;
            break;
          default:
            throw new HttpError(400, `to must be earliest, latest, offset, timestamp or shift, got "${b.to}"`);
        }
        if (!Number.isSafeInteger(target)) throw new HttpError(400, `not an offset: ${target}`);
        plan.push({ partition: index, from: current.get(index) ?? -1, to: Math.min(Math.max(target, start), end) });
      }
      if (!b.dryRun) {
        const r = await call(OffsetCommit, {
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: "",
          groupInstanceId: null,
          retentionTimeMs: -1,
          topics: [{ name: t.name, partitions: plan.map((p) => ({ partitionIndex: p.partition, committedOffset: p.to, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: "" })) }],
        });
        for (const tr of r.topics ?? []) for (const pr of tr.partitions ?? []) check(pr.errorCode);
      }
      return { groupId, topic: t.name, dryRun: !!b.dryRun, partitions: plan };
    }),
  );

  routes.add(
    "DELETE",
    "/api/groups/:group",
    api(async (_req, { params }) => {
      const r = await call(DeleteGroups, { groupsNames: [params.group!] });
      check(r.results?.[0]?.errorCode);
      return { deleted: params.group };
    }),
  );

  // ---- broker -----------------------------------------------------------------------------------------

  routes.add("GET", "/api/broker/configs", api(() => describeConfigs(BROKER_RESOURCE, String(broker.nodeId))));
  routes.add("PATCH", "/api/broker/configs", alterConfigs(BROKER_RESOURCE, () => String(broker.nodeId)));
}
