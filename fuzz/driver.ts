// The fuzz run: a broker child process, many connections at once sending generated requests, and the
// checks that turn its behaviour into findings:
//   crash       the broker process exits
//   hang        a request got neither its response nor a closed connection within the deadline
//   order       a response came back out of order (its correlation id is not the next one expected)
//   undecodable an unmutated request's response does not decode as its API and version
//   server-error the broker logged an ERROR (a handler threw) or answered UNKNOWN_SERVER_ERROR
//   stall       a fresh connection's ApiVersions took longer than the stall limit (one request
//               monopolising the broker)
//   corruption  a consumer (kcat) does not read back exactly the valid records acknowledged on the
//               canary topic alongside the fuzzing, or an invalid batch was accepted there
//   leak        after the run the broker's anonymous memory is not back near its baseline, or it
//               holds more sockets than the connections still open
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Socket } from "bun";
import { allApis, ApiVersions, CreateTopics, DeleteGroups, DeleteTopics, ListGroups, Metadata, Produce } from "../protocol/apis/index.ts";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { readRequestHeader, skipHeaderTags } from "../protocol/header.ts";
import { Reader } from "../protocol/reader.ts";
import type { ApiDefinition } from "../protocol/types.ts";
import { WireClient } from "../src/client.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from "../src/group/consumer-protocol.ts";
import { RequestFactory, type FuzzRequest, type Pools } from "./generate.ts";
import { BatchPool, brokenBatch, buildBatch, type FuzzRecord } from "./records.ts";
import { Rng } from "./rng.ts";

const ROOT = resolve(import.meta.dir, "..");
const CANARY = "fz-canary";
const POOL_TOPICS = ["fz-0", "fz-1", "fz-2", "fz-3", "fz-compact", "fz-gzip", "fz-lat"];

export interface FuzzOptions {
  seed: number;
  /** stop after this many requests (frames) sent */
  frames: number;
  /** stop after this long, whatever the count */
  seconds: number;
  /** connections fuzzing at once */
  connections: number;
  /** a request's answer (or the close) may take this long, plus any wait it asks for */
  deadlineMs: number;
  /** a fresh connection's ApiVersions slower than this is a stall */
  stallMs: number;
  /** decompression bombs in record batches (heavy on the broker) */
  bombs: boolean;
  /** progress lines (null: quiet) */
  progress: ((line: string) => void) | null;
}

export const DEFAULTS: FuzzOptions = {
  seed: 1,
  frames: 100_000,
  seconds: 600,
  connections: 32,
  deadlineMs: 20_000,
  stallMs: 5_000,
  bombs: false,
  progress: null,
};

export interface Finding {
  kind: "crash" | "hang" | "order" | "undecodable" | "server-error" | "stall" | "corruption" | "leak";
  what: string;
  count: number;
  /** the request that showed it, as hex (truncated), for replay */
  sample?: string;
}

export interface FuzzReport {
  seed: number;
  frames: number;
  structured: number;
  randomBodies: number;
  chaos: number;
  responses: number;
  closedByBroker: number;
  connectionsOpened: number;
  durationMs: number;
  framesPerSecond: number;
  canary: { produced: number; acked: number; read: number; invalidRejected: number };
  rss: { baselineAnon: number; peakAnon: number; finalAnon: number; baselineRss: number; peakRss: number; finalRss: number; baselineHeap: number; finalHeap: number };
  /** live object types (after a full collection) that grew most over the run */
  heapGrowth: { type: string; before: number; after: number }[];
  sockets: { baseline: number; final: number };
  stallMaxMs: number;
  findings: Finding[];
}

// ---- broker child -------------------------------------------------------------------------------

interface Child {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  address: string;
  /** the broker's HTTP listener (its /metrics tell the JavaScript heap from the allocator's retention) */
  httpUrl: string;
  dataDir: string;
  stderrLines: string[];
  exited: Promise<number | null>;
}

const TRIM_INTERVAL_MS = 5000;

async function startChild(overrides: Record<string, string>): Promise<Child> {
  const dataDir = mkdtempSync(join(tmpdir(), "brook-fuzz-"));
  const props: Record<string, string> = {
    listeners: "PLAINTEXT://127.0.0.1:0",
    "log.dirs": dataDir,
    "log.segment.bytes": "1048576",
    "group.initial.rebalance.delay.ms": "0",
    "log.retention.check.interval.ms": "2000",
    "log.cleaner.backoff.ms": "1000",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000",
    "brook.http.listener": "127.0.0.1:0",
    // Quiet for one interval after the run, the broker hands freed memory back (src/memory-trim.ts).
    "brook.memory.trim.interval.ms": String(TRIM_INTERVAL_MS),
    ...overrides,
  };
  const args = Object.entries(props).flatMap(([k, v]) => ["--override", `${k}=${v}`]);
  const proc = Bun.spawn([process.execPath, join(ROOT, "src", "cli.ts"), ...args], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BROOK_LOG_LEVEL: "error" },
  });
  // Interrupting the fuzzer (Ctrl-C, kill) must not leave its broker running on a temporary log dir.
  const onSignal = (signal: NodeJS.Signals) => {
    proc.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  void proc.exited.then(() => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  });
  const stderrLines: string[] = [];
  (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stderr) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        stderrLines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  })().catch(() => {});
  const exited = proc.exited.then(() => proc.exitCode);
  const [address, httpUrl] = await new Promise<[string, string]>((resolveAddress, reject) => {
    (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stdout) {
        buf += dec.decode(chunk, { stream: true });
        const m = /brook listening on (\S+)/.exec(buf);
        const h = /brook http listening on (\S+)/.exec(buf);
        if (m && h) return resolveAddress([m[1]!, h[1]!.replace(/\/$/, "")]);
      }
      reject(new Error(`broker exited before listening: ${stderrLines.join("\n")}`));
    })().catch(reject);
  });
  return { proc, address, httpUrl, dataDir, stderrLines, exited };
}

function procStatus(pid: number): { rss: number; anon: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), anon: kb("RssAnon") };
  } catch {
    return { rss: 0, anon: 0 };
  }
}

interface HeapCensus {
  heapSize: number;
  extraMemorySize: number;
  objectTypeCounts: Record<string, number>;
}

/** The broker's live JavaScript heap after a full collection (its /debug/heap), or null. */
async function heapCensus(httpUrl: string): Promise<HeapCensus | null> {
  try {
    return (await (await fetch(`${httpUrl}/debug/heap?gc=1`, { signal: AbortSignal.timeout(30_000) })).json()) as HeapCensus;
  } catch {
    return null;
  }
}

/** The object types whose live count grew most between two censuses. */
function heapGrowth(before: HeapCensus | null, after: HeapCensus | null): { type: string; before: number; after: number }[] {
  if (!before || !after) return [];
  return Object.entries(after.objectTypeCounts)
    .map(([type, n]) => ({ type, before: before.objectTypeCounts[type] ?? 0, after: n }))
    .filter((g) => g.after > g.before)
    .sort((a, b) => b.after - b.before - (a.after - a.before))
    .slice(0, 8);
}

/** The broker's TCP connections (listening sockets and Bun's internal sockets not counted). */
function socketCount(pid: number): number {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {}
    }
  } catch {}
  let n = 0;
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] !== "0A" && inodes.has(f[9]!)) n++; // 0A: LISTEN
    }
  }
  return n;
}

// ---- a raw connection ---------------------------------------------------------------------------

type Event = { kind: "frame"; frame: Uint8Array } | { kind: "closed" };

class RawConnection {
  private socket!: Socket<undefined>;
  private buffered = new Uint8Array(0);
  private readonly events: Event[] = [];
  private waiter: ((e: Event | null) => void) | null = null;
  private outbox: Uint8Array[] = [];
  closed = false;

  static async open(host: string, port: number): Promise<RawConnection> {
    const c = new RawConnection();
    c.socket = await Bun.connect<undefined>({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk) => c.onData(chunk),
        drain: () => c.onDrain(),
        close: () => c.onClose(),
        error: () => c.onClose(),
        end: () => c.onClose(),
      },
    });
    return c;
  }

  send(b: Uint8Array): void {
    if (this.closed) return;
    if (this.outbox.length > 0) {
      this.outbox.push(b);
      return;
    }
    const n = this.socket.write(b);
    if (n < b.length && n >= 0) this.outbox.push(b.subarray(n));
  }

  private onDrain(): void {
    while (this.outbox.length > 0) {
      const b = this.outbox[0]!;
      const n = this.socket.write(b);
      if (n < b.length) {
        if (n >= 0) this.outbox[0] = b.subarray(n);
        return;
      }
      this.outbox.shift();
    }
  }

  /** Stops sending (FIN); the broker should close its side. */
  endWrites(): void {
    if (!this.closed) this.socket.shutdown();
  }

  close(): void {
    if (!this.closed) this.socket.terminate();
    this.onClose();
  }

  private push(e: Event): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(e);
    } else this.events.push(e);
  }

  private onData(chunk: Uint8Array): void {
    let buf: Uint8Array;
    if (this.buffered.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.buffered.length + chunk.length);
      buf.set(this.buffered);
      buf.set(chunk, this.buffered.length);
    }
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    while (buf.length - pos >= 4) {
      const size = view.getInt32(pos);
      if (size < 0 || buf.length - pos - 4 < size) break;
      this.push({ kind: "frame", frame: buf.slice(pos + 4, pos + 4 + size) });
      pos += 4 + size;
    }
    this.buffered = buf.slice(pos);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.push({ kind: "closed" });
  }

  /** The next event, or null after timeoutMs. */
  next(timeoutMs: number): Promise<Event | null> {
    const e = this.events.shift();
    if (e) {
      if (e.kind === "closed") this.events.unshift(e); // closed stays closed
      return Promise.resolve(e);
    }
    return new Promise((resolveEvent) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolveEvent(null);
      }, timeoutMs);
      this.waiter = (ev) => {
        clearTimeout(t);
        if (ev?.kind === "closed") this.events.push(ev);
        resolveEvent(ev);
      };
    });
  }
}

// ---- the run ------------------------------------------------------------------------------------

const hex = (b: Uint8Array, max = 512) => Buffer.from(b.subarray(0, max)).toString("hex") + (b.length > max ? `…(${b.length} bytes)` : "");
const DEFS = new Map<number, ApiDefinition>(allApis.map((a) => [a.key, a]));

class Findings {
  private readonly byKey = new Map<string, Finding>();
  /** told about each new kind of finding as it happens (long runs) */
  constructor(private readonly onNew: (f: Finding) => void = () => {}) {}
  add(kind: Finding["kind"], what: string, sample?: Uint8Array): void {
    const key = `${kind}:${what}`;
    const f = this.byKey.get(key);
    if (f) f.count++;
    else {
      const found: Finding = { kind, what, count: 1, sample: sample ? hex(sample) : undefined };
      this.byKey.set(key, found);
      this.onNew(found);
    }
  }
  list(): Finding[] {
    return [...this.byKey.values()];
  }
}

/**
 * A JoinGroup of protocol type "consumer" whose first protocol's metadata is not a consumer subscription.
 * Kafka 4 answers it UNKNOWN_SERVER_ERROR when the group is a consumer group (its IllegalStateException
 * "Malformed embedded consumer protocol"), and Brook does the same on purpose: not a finding.
 */
export function malformedSubscriptionJoin(req: Pick<FuzzRequest, "apiKey" | "version" | "bytes" | "wellFramed">): boolean {
  if (req.apiKey !== 11 || !req.wellFramed) return false;
  let body: { protocolType: string; protocols: { metadata: Uint8Array }[] };
  try {
    const def = DEFS.get(11)!;
    const r = new Reader(req.bytes);
    r.int32();
    readRequestHeader(r);
    if (req.version >= def.flexible) skipHeaderTags(r);
    body = requestCodec(def, req.version).decode(r) as typeof body;
  } catch {
    return false; // a request that does not decode has no business being answered -1
  }
  if (body.protocolType !== CONSUMER_PROTOCOL_TYPE || body.protocols.length === 0) return false;
  try {
    decodeSubscription(body.protocols[0]!.metadata);
    return false;
  } catch {
    return true;
  }
}

/** Finds UNKNOWN_SERVER_ERROR (-1) anywhere in a decoded response. */
function hasUnknownServerError(v: unknown, depth = 0): boolean {
  if (depth > 8 || v === null || typeof v !== "object") return false;
  if (Array.isArray(v)) return v.some((x) => hasUnknownServerError(x, depth + 1));
  for (const [k, x] of Object.entries(v)) {
    if ((k === "errorCode" || k === "partitionErrorCode") && x === -1) return true;
    if (typeof x === "object" && hasUnknownServerError(x, depth + 1)) return true;
  }
  return false;
}

export async function fuzz(options: Partial<FuzzOptions> = {}): Promise<FuzzReport> {
  const o: FuzzOptions = { ...DEFAULTS, ...options };
  const say = o.progress ?? (() => {});
  const stats = { frames: 0, structured: 0, randomBodies: 0, chaos: 0, responses: 0, closedByBroker: 0, connectionsOpened: 0 };
  const findings = new Findings((f) => say(`finding at frame ${stats.frames}: [${f.kind}] ${f.what}${f.sample ? `\n  request: ${f.sample}` : ""}`));
  const rng = new Rng(o.seed);
  const child = await startChild({});
  const [host, portText] = [child.address.slice(0, child.address.lastIndexOf(":")), child.address.slice(child.address.lastIndexOf(":") + 1)];
  const port = Number(portText);
  const started = Date.now();
  let crashed = false;
  child.exited.then((code) => {
    if (!stopping) {
      crashed = true;
      findings.add("crash", `broker exited with ${code} (signal ${child.proc.signalCode}): ${child.stderrLines.slice(-20).join("\n")}`);
    }
  });
  let stopping = false;

  const rss = { baselineAnon: 0, peakAnon: 0, finalAnon: 0, baselineRss: 0, peakRss: 0, finalRss: 0, baselineHeap: 0, finalHeap: 0 };
  const sampler = setInterval(() => {
    const s = procStatus(child.proc.pid);
    rss.peakAnon = Math.max(rss.peakAnon, s.anon);
    rss.peakRss = Math.max(rss.peakRss, s.rss);
  }, 500);

  // ---- setup: the topic pool and the canary, through a plain client ----
  const admin = await WireClient.connect(child.address, { clientId: "fuzz-admin" });
  const topicConfigs: Record<string, { name: string; value: string }[]> = {
    "fz-compact": [{ name: "cleanup.policy", value: "compact" }],
    "fz-gzip": [{ name: "compression.type", value: "gzip" }],
    "fz-lat": [{ name: "message.timestamp.type", value: "LogAppendTime" }],
    [CANARY]: [
      // Fuzzed broker-wide defaults must not reach the canary: every relevant config is set on it.
      ...Object.entries({
        "retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete", "max.message.bytes": "1048588",
        "compression.type": "producer", "message.timestamp.type": "CreateTime", "segment.bytes": "1048576",
        "min.insync.replicas": "1", "segment.ms": "604800000",
      }).map(([name, value]) => ({ name, value })),
    ],
  };
  const ensureTopics = async (names: string[]) => {
    await admin.request(CreateTopics, {
      topics: names.map((name) => ({ name, numPartitions: name === CANARY ? 1 : 1 + (name.length % 3), replicationFactor: 1, assignments: [], configs: topicConfigs[name] ?? [] })),
      timeoutMs: 30_000,
    });
  };
  await ensureTopics([...POOL_TOPICS, CANARY]);

  const pools: Pools = {
    topics: POOL_TOPICS,
    groups: [],
    transactionalIds: Array.from({ length: 8 }, (_, i) => `fz-txn-${i}`),
    memberIds: [],
    producers: [],
    bombs: o.bombs,
    now: started,
  };

  const batchPool = new BatchPool(rng.fork(), 512, o.bombs, started);

  // ---- canary: valid batches acknowledged alongside, and invalid ones that must be refused ----
  // Every valid batch sent, in order; `certain` once acknowledged. A produce that timed out (reported as a
  // hang) may or may not have been appended: its records may appear, whole, at their place.
  const canary = { produced: 0, acked: 0, invalidRejected: 0, sent: [] as { values: string[]; certain: boolean }[] };
  const ackedRecords = () => canary.sent.reduce((n, b) => n + (b.certain ? b.values.length : 0), 0);
  const uncertainRecords = () => canary.sent.reduce((n, b) => n + (b.certain ? 0 : b.values.length), 0);
  const canaryRng = rng.fork();
  let canaryBusy: Promise<void> = Promise.resolve();
  const canaryClient = await WireClient.connect(child.address, { clientId: "fuzz-canary", requestTimeoutMs: o.deadlineMs });
  const canaryStep = async (): Promise<void> => {
    if (canaryRng.chance(0.2)) {
      const { batch, mutation } = brokenBatch(canaryRng, false);
      // Only the breakages a broker must catch without decoding records (the CRC covers the rest).
      if (!["crc", "magic", "codec", "control", "batch-length", "empty", "truncated", "two-batches", "last-offset-delta", "count"].includes(mutation)) return;
      const r = await canaryClient.request(Produce, { acks: -1, timeoutMs: 10_000, topicData: [{ name: CANARY, partitionData: [{ index: 0, records: batch }] }] }, 7);
      const code = r.responses[0]!.partitionResponses[0]!.errorCode;
      if (code === 0) findings.add("corruption", `canary: an invalid batch (${mutation}) was accepted`, batch);
      else canary.invalidRejected++;
      return;
    }
    const n = canaryRng.range(1, 3);
    const records: FuzzRecord[] = [];
    const values: string[] = [];
    for (let i = 0; i < n; i++) {
      const v = `canary-${canary.produced}-${i}`;
      values.push(v);
      records.push({ key: new TextEncoder().encode(`k${i}`), value: new TextEncoder().encode(v) });
    }
    canary.produced++;
    const batch = buildBatch({ records, codec: canaryRng.pick([0, 1, 2, 3, 4]) });
    const entry = { values, certain: false };
    const before = { acked: ackedRecords(), uncertain: uncertainRecords() };
    canary.sent.push(entry);
    const r = await canaryClient.request(Produce, { acks: -1, timeoutMs: 10_000, topicData: [{ name: CANARY, partitionData: [{ index: 0, records: batch }] }] }, 7);
    const p = r.responses[0]!.partitionResponses[0]!;
    if (p.errorCode !== 0) {
      canary.sent.pop();
      findings.add("corruption", `canary: a valid batch was refused with error ${p.errorCode}`, batch);
      return;
    }
    if (p.baseOffset < before.acked || p.baseOffset > before.acked + before.uncertain)
      findings.add("corruption", `canary: batch acknowledged at offset ${p.baseOffset}, expected ${before.acked}${before.uncertain ? ` to ${before.acked + before.uncertain}` : ""}`);
    entry.certain = true;
    canary.acked++;
  };
  let canaryStop = false;
  const canaryLoop = (async () => {
    while (!canaryStop && !crashed) {
      canaryBusy = canaryStep().catch((e) => {
        if (!stopping) findings.add("hang", `canary produce: ${(e as Error).message}`);
      });
      await canaryBusy;
      await Bun.sleep(20);
    }
  })();

  // ---- liveness: a fresh connection must be answered promptly while the fuzzing goes on ----
  let stallMaxMs = 0;
  let probeStop = false;
  const probeLoop = (async () => {
    while (!probeStop && !crashed) {
      const t0 = performance.now();
      let c: WireClient | null = null;
      try {
        c = await WireClient.connect(child.address, { clientId: "fuzz-probe", requestTimeoutMs: o.stallMs * 3, skipApiVersions: true });
        await c.request(ApiVersions, {}, 0);
        const ms = performance.now() - t0;
        stallMaxMs = Math.max(stallMaxMs, ms);
        if (ms > o.stallMs) findings.add("stall", `a fresh connection's ApiVersions took ${Math.round(ms)} ms`);
      } catch (e) {
        if (!probeStop && !crashed) findings.add("stall", `liveness probe failed: ${(e as Error).message}`);
      } finally {
        c?.close();
      }
      await Bun.sleep(500);
    }
  })();

  // ---- maintenance: keep broker state bounded (stray auto-created topics, groups) ----
  let maintStop = false;
  const maintLoop = (async () => {
    while (!maintStop && !crashed) {
      await Bun.sleep(3000);
      if (maintStop || crashed) break;
      try {
        const md = await admin.request(Metadata, { topics: null, allowAutoTopicCreation: false }, 9);
        const names = new Set(md.topics.map((t) => t.name!));
        const strays = [...names].filter((n) => !POOL_TOPICS.includes(n) && n !== CANARY);
        if (strays.length > 0) await admin.request(DeleteTopics, { topicNames: strays, topics: [], timeoutMs: 30_000 }, 5);
        const missing = POOL_TOPICS.filter((n) => !names.has(n));
        if (missing.length > 0) await ensureTopics(missing);
        const groups = await admin.request(ListGroups, {}, 3);
        const fz = groups.groups.map((g) => g.groupId).filter((g) => g.startsWith("fz-"));
        if (fz.length > 0) await admin.request(DeleteGroups, { groupsNames: fz }, 1);
        if (pools.memberIds.length > 200) pools.memberIds.splice(0, pools.memberIds.length - 200);
        if (pools.producers.length > 50) pools.producers.splice(0, pools.producers.length - 50);
      } catch (e) {
        if (!maintStop && !crashed) say(`maintenance: ${(e as Error).message}`);
      }
    }
  })();

  // ---- the fuzzing workers ----
  const deadlineAt = started + o.seconds * 1000;
  const more = () => !crashed && stats.frames < o.frames && Date.now() < deadlineAt;
  let sessionCounter = 0;

  const harvest = (req: FuzzRequest, body: any) => {
    if (req.apiKey === 11 && typeof body?.memberId === "string" && body.memberId !== "") pools.memberIds.push(body.memberId);
    if (req.apiKey === 22 && body?.errorCode === 0) pools.producers.push({ id: body.producerId, epoch: body.producerEpoch });
  };

  const checkFrame = (req: FuzzRequest, frame: Uint8Array) => {
    if (!req.checkResponse) return;
    const def = DEFS.get(req.apiKey)!;
    try {
      const r = new Reader(frame);
      r.int32();
      if (req.version >= def.flexible && def.key !== 18) {
        const tags = r.uvarint();
        for (let i = 0; i < tags; i++) {
          r.uvarint();
          r.pos += r.uvarint();
        }
      }
      const body = responseCodec(def, req.version).decode(r);
      if (r.remaining !== 0) findings.add("undecodable", `${def.name} v${req.version}: ${r.remaining} bytes left after the response`, req.bytes);
      if (hasUnknownServerError(body) && !malformedSubscriptionJoin(req)) findings.add("server-error", `${def.name} v${req.version} answered UNKNOWN_SERVER_ERROR`, req.bytes);
      harvest(req, body);
    } catch (e) {
      findings.add("undecodable", `${def.name} v${req.version}: ${(e as Error).message}`, req.bytes);
    }
  };

  /** One connection's life: a run of requests, each answered (in order) or the connection closed. */
  const session = async (wrng: Rng, workerIndex: number) => {
    const id = ++sessionCounter;
    // Groups of this session only: a JoinGroup waits for the group's other members (up to the largest
    // rebalance timeout any of them gave, which may be 24 days), so they must all be this session's.
    const factory = new RequestFactory(wrng, { ...pools, groups: [`fz-g-${workerIndex}-${id}-0`, `fz-g-${workerIndex}-${id}-1`] }, batchPool);
    let conn: RawConnection;
    try {
      conn = await RawConnection.open(host, port);
    } catch (e) {
      if (!crashed && !stopping) findings.add("hang", `connect failed: ${(e as Error).message}`);
      return;
    }
    stats.connectionsOpened++;
    const length = wrng.chance(0.5) ? wrng.range(1, 10) : wrng.range(10, 200);
    let correlation = wrng.range(0, 1000);
    const pending: { req: FuzzRequest; deadline: number }[] = [];
    // Requests that may go unanswered (acks=0, random bodies) whose answer, if any, has not come yet:
    // it may still come, but only before the answer to any later request.
    const maybe = new Set<number>();
    let extraWait = 0;

    const awaitPending = async (): Promise<boolean> => {
      // Answers come in order; requests that may go unanswered (acks=0) are skipped by a later answer.
      while (pending.some((p) => p.req.expect === "response")) {
        const head = pending.find((p) => p.req.expect === "response")!;
        const ev = await conn.next(Math.max(1, head.deadline - Date.now()));
        if (ev === null) {
          if (crashed || stopping) return false;
          findings.add("hang", `no answer and no close within the deadline: ${head.req.label}`, head.req.bytes);
          return false;
        }
        if (ev.kind === "closed") {
          stats.closedByBroker++;
          pending.length = 0;
          return false;
        }
        stats.responses++;
        const cid = new DataView(ev.frame.buffer, ev.frame.byteOffset).getInt32(0);
        if (maybe.delete(cid)) continue;
        for (const m of maybe) if (m < cid) maybe.delete(m); // skipped: answered nothing
        const at = pending.findIndex((p) => p.req.correlationId === cid);
        if (at < 0 || pending.slice(0, at).some((p) => p.req.expect === "response")) {
          findings.add("order", `response with correlation id ${cid} while ${pending[0]?.req.label} (${pending[0]?.req.correlationId}) was next`, pending[0]?.req.bytes);
          return false;
        }
        const [done] = pending.splice(0, at + 1).slice(-1);
        checkFrame(done!.req, ev.frame);
      }
      for (const p of pending) maybe.add(p.req.correlationId);
      pending.length = 0;
      return true;
    };

    for (let i = 0; i < length && more(); i++) {
      const roll = wrng.next() / 4294967296;
      const cid = correlation++;
      const req = roll < 0.9 ? factory.structured(cid) : roll < 0.97 ? factory.randomBody(cid) : factory.chaos(cid);
      if (roll < 0.9) stats.structured++;
      else if (roll < 0.97) stats.randomBodies++;
      else stats.chaos++;
      stats.frames++;
      // JoinGroup/SyncGroup may wait for this session's earlier members (up to their rebalance timeouts).
      if (req.apiKey === 11 || req.apiKey === 14) extraWait = Math.max(extraWait, req.waitMs);
      const wait = req.apiKey === 11 || req.apiKey === 14 ? extraWait : req.waitMs;
      conn.send(req.bytes);
      if (!req.wellFramed || !Number.isFinite(wait)) {
        // The stream is out of step (or the wait unbounded): stop sending and expect the broker to close.
        await awaitPending();
        conn.endWrites();
        const t0 = Date.now();
        for (;;) {
          const ev = await conn.next(o.deadlineMs);
          if (ev === null) {
            if (!crashed && !stopping) findings.add("hang", `connection not closed ${o.deadlineMs} ms after the client's FIN: ${req.label}`, req.bytes);
            break;
          }
          if (ev.kind === "closed") {
            stats.closedByBroker++;
            break;
          }
          stats.responses++;
          if (Date.now() - t0 > o.deadlineMs) break;
        }
        conn.close();
        return;
      }
      const ahead = pending.reduce((s, p) => s + (Number.isFinite(p.req.waitMs) ? p.req.waitMs : 0), 0);
      pending.push({ req, deadline: Date.now() + o.deadlineMs + ahead + wait });
      // Mostly one at a time; sometimes a few pipelined.
      if (pending.length >= (wrng.chance(0.7) ? 1 : wrng.range(2, 8)) || i === length - 1) {
        if (!(await awaitPending())) {
          conn.close();
          return;
        }
      }
    }
    await awaitPending();
    conn.close();
  };

  let lastReport = Date.now();
  const progress = () => {
    if (Date.now() - lastReport < 10_000) return;
    lastReport = Date.now();
    const s = procStatus(child.proc.pid);
    say(`${stats.frames} frames, ${stats.responses} responses, ${stats.closedByBroker} closes, ${Math.round((stats.frames * 1000) / (Date.now() - started))}/s, broker anon ${(s.anon / 2 ** 20).toFixed(0)} MiB, findings ${findings.list().length}`);
  };

  const runWorkers = async (frameLimit: number) => {
    const limit = Math.min(o.frames, frameLimit);
    await Promise.all(
      Array.from({ length: o.connections }, async (_, w) => {
        const wrng = rng.fork();
        while (more() && stats.frames < limit) {
          await session(wrng, w);
          progress();
        }
      }),
    );
  };

  /** Waits for the broker's anonymous memory to stop shrinking (no load), at least minMs, at most maxMs. */
  const settle = async (maxMs: number, minMs = 0) => {
    const until = Date.now() + maxMs;
    const notBefore = Date.now() + minMs;
    let last = procStatus(child.proc.pid).anon;
    let steady = 0;
    while (Date.now() < until && (steady < 4 || Date.now() < notBefore)) {
      await Bun.sleep(500);
      const now = procStatus(child.proc.pid).anon;
      steady = Math.abs(now - last) < 1 << 20 ? steady + 1 : 0;
      last = now;
    }
    return procStatus(child.proc.pid);
  };

  // Warm up (JIT, pools, first segments), then take the memory baseline at rest.
  const warmup = Math.min(Math.ceil(o.frames * 0.05), 20_000);
  await runWorkers(warmup);
  await canaryBusy;
  const base = await settle(10_000);
  rss.baselineAnon = base.anon;
  rss.baselineRss = base.rss;
  const baselineCensus = await heapCensus(child.httpUrl);
  rss.baselineHeap = baselineCensus?.heapSize ?? 0;
  const socketsBaseline = socketCount(child.proc.pid);
  say(`warm-up done: ${stats.frames} frames; broker anon ${(base.anon / 2 ** 20).toFixed(1)} MiB, ${socketsBaseline} sockets`);

  await runWorkers(Number.POSITIVE_INFINITY);
  const durationMs = Date.now() - started;

  // Quiesce: stop background traffic, then judge memory and sockets at rest.
  canaryStop = true;
  probeStop = true;
  maintStop = true;
  await Promise.all([canaryLoop, probeLoop, maintLoop]);
  // Grown enough for the broker's trim to act (64 MiB, src/memory-trim.ts)? Then give it two intervals.
  const trimDue = rss.peakAnon > rss.baselineAnon + 64 * 2 ** 20;
  const fin = crashed ? { anon: 0, rss: 0 } : await settle(30_000, trimDue ? 2.5 * TRIM_INTERVAL_MS : 0);
  rss.finalAnon = fin.anon;
  rss.finalRss = fin.rss;
  const finalCensus = crashed ? null : await heapCensus(child.httpUrl);
  rss.finalHeap = finalCensus?.heapSize ?? 0;
  const socketsFinal = crashed ? 0 : socketCount(child.proc.pid);
  clearInterval(sampler);
  // Allowed: the baseline plus a quarter, plus 48 MiB (heap growth the GC has not given back yet).
  if (!crashed && fin.anon > rss.baselineAnon * 1.25 + 48 * 2 ** 20)
    findings.add("leak", `broker anonymous memory ${(fin.anon / 2 ** 20).toFixed(0)} MiB after the run, baseline ${(rss.baselineAnon / 2 ** 20).toFixed(0)} MiB`);
  if (!crashed && socketsFinal > socketsBaseline) {
    // Which ones: the broker's TCP sockets with their states and queues (ss, when there is one).
    const ss = Bun.which("ss") ? Bun.spawnSync(["ss", "-tanpi"]).stdout.toString() : "";
    const mine = ss.split("\n").filter((l) => l.includes(`pid=${child.proc.pid},`)).join("\n");
    findings.add("leak", `broker holds ${socketsFinal} TCP connections after the run, ${socketsBaseline} at the baseline${mine ? `:\n${mine}` : ""}`);
  }

  // The canary, read back by a stock client.
  let read = 0;
  if (!crashed) {
    const out = Bun.spawnSync(["kcat", "-b", child.address, "-C", "-e", "-q", "-t", CANARY, "-p", "0", "-o", "beginning", "-f", "%o %s\n"], { timeout: 120_000 });
    const lines = out.stdout.toString().split("\n").filter((l) => l !== "");
    read = lines.length;
    const got = lines.map((l) => l.slice(l.indexOf(" ") + 1));
    const offsets = lines.map((l) => Number(l.slice(0, l.indexOf(" "))));
    if (out.exitCode !== 0) findings.add("corruption", `kcat could not read the canary: ${out.stderr.toString().slice(0, 500)}`);
    else {
      // Walk what was sent: acknowledged batches must be there, whole and in order; timed-out ones
      // whole or not at all; nothing else.
      let at = 0;
      let problem: string | null = null;
      for (const b of canary.sent) {
        const here = b.values.every((v, k) => got[at + k] === v);
        if (here) at += b.values.length;
        else if (b.certain) {
          problem = `an acknowledged batch (${b.values[0]}) is not at offset ${at}`;
          break;
        }
      }
      if (!problem && at !== got.length) problem = `${got.length - at} records that were never sent follow offset ${at}`;
      if (problem) findings.add("corruption", `canary: ${problem} (read ${got.length} records, ${ackedRecords()} acknowledged)`);
      else if (offsets.some((off, i) => off !== i)) findings.add("corruption", "canary: offsets are not 0..n-1");
    }
  }

  // Handler exceptions the broker logged.
  for (const line of child.stderrLines) {
    if (!/ ERROR /.test(line)) continue;
    const what = line.replace(/^\S+ ERROR /, "").replace(/from \S+/g, "from …").replace(/\d{3,}/g, "N").slice(0, 300);
    findings.add("server-error", what);
  }

  stopping = true;
  admin.close();
  canaryClient.close();
  child.proc.kill("SIGTERM");
  const code = await Promise.race([child.exited, Bun.sleep(30_000).then(() => "timeout" as const)]);
  if (code === "timeout") {
    findings.add("hang", "the broker did not stop within 30 s of SIGTERM");
    child.proc.kill("SIGKILL");
  } else if (code !== 0 && !crashed) findings.add("crash", `the broker exited ${code} on SIGTERM`);
  rmSync(child.dataDir, { recursive: true, force: true });

  return {
    seed: o.seed,
    ...stats,
    durationMs,
    framesPerSecond: Math.round((stats.frames * 1000) / durationMs),
    canary: { produced: canary.produced, acked: canary.acked, read, invalidRejected: canary.invalidRejected },
    rss,
    heapGrowth: heapGrowth(baselineCensus, finalCensus),
    sockets: { baseline: socketsBaseline, final: socketsFinal },
    stallMaxMs: Math.round(stallMaxMs),
    findings: findings.list(),
  };
}
