// Crash at every step (issue 10): the broker runs as a child process through its CLI on a fixed port
// while stock clients work against it, and is killed (-9) at moments a seeded generator picks: under
// load, in the middle of a clean shutdown, during recovery, or at a named step inside Brook
// (BROOK_CRASH_POINT, src/crash-points.ts). After every restart the checker compares what the clients
// were told with what the broker serves.
//
// The workload, all at once:
//  - an idempotent librdkafka producer (test/clients/crash_produce.py) writing to a plain topic, a
//    compacted one, one whose retention keeps deleting segments, and one that gains partitions; it
//    outlives the broker restarts, so its retries meet the recovered producer state;
//  - two transactional librdkafka producers (crash_txn.py) committing and aborting transactions over
//    the same three partitions;
//  - a classic consumer group of librdkafka members (crash_consume.py) and a KIP-848 consumer group of
//    librdkafka 2.15 members (test/clients/node/group-member.cjs), committing as they go, with members
//    joining, leaving and dying between crashes;
//  - kafkajs as the admin: partitions added, short-lived topics created with configs, written to (with
//    kafkajs's idempotent producer), deleted and created again under the same name; configs altered.
//
// Invariants checked after each restart (Brook's own WireClient reads the logs; a librdkafka
// read_committed consumer reads the transactional topics):
//  - every acknowledged record is at the offset it was acknowledged with, with its key and value, and
//    no value is in a log twice (idempotence); a value acknowledged at two offsets is a duplicate too;
//  - offsets are never reused and never go back: the log end offset and log start offset of a
//    partition never move backwards from one check to the next;
//  - compaction keeps the latest value of every key: for each key a record at or after its last
//    acknowledged offset is there;
//  - committed transactions are visible to read_committed completely, aborted ones not at all, and
//    those whose outcome the client could not learn either completely or not at all;
//  - committed offsets never go back (below the last acknowledged commit or an earlier check), and a
//    member never starts reading a partition below the last acknowledged commit;
//  - topics and their configs are as the acknowledged admin operations left them: created topics exist
//    with their configs, deleted ones are gone and nothing of a deleted incarnation reappears, partition
//    counts never shrink.
//
// A run is replayable: the seed fixes every decision the driver makes (kill modes and moments, crash
// points, client churn, admin operations, transaction outcomes). Timing on a shared machine still
// varies, so a replay crashes at the same planned moments, not always at the same instructions.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type Admin, type Producer as KafkaJsProducer } from "kafkajs";
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { Metadata } from "../../protocol/apis/03-metadata.ts";
import { OffsetFetch } from "../../protocol/apis/09-offset-fetch.ts";
import { DescribeConfigs } from "../../protocol/apis/32-describe-configs.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { decodeRecords, readBatchHeader } from "../../protocol/records/records.ts";
import { WireClient } from "../../src/client.ts";
import { CLI, REPO_ROOT } from "./broker.ts";
import { CLIENTS_DIR, PYTHON } from "./clients.ts";
import { readLines } from "./run.ts";

// ---- a seeded generator ---------------------------------------------------------------------------

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** mulberry32 */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- options and report ---------------------------------------------------------------------------

export interface CrashOptions {
  seed: number;
  cycles: number;
  /** the run's directory (data and logs); a fresh temporary one otherwise */
  dir?: string;
  /** keep the directory even when every check passed */
  keep?: boolean;
  log?: (line: string) => void;
  /** milliseconds of load before a kill: [min, max] */
  loadMs?: [number, number];
  /** records per second of the idempotent producer */
  rate?: number;
}

export type KillMode = "load" | "shutdown" | "clean" | "point";

export interface CyclePlan {
  mode: KillMode;
  /** load before the kill (or the SIGTERM) */
  afterMs: number;
  /** "shutdown": SIGKILL this long after SIGTERM */
  termGraceMs: number;
  /** "point": BROOK_CRASH_POINT for the broker of this cycle (name:hit) */
  point: string | null;
  /** kill the restarting broker this long after it was spawned (during recovery), then start again */
  startupKillMs: number | null;
  /** client churn before the kill */
  churn: "none" | "classic-member" | "848-member" | "producer" | "txn-producer";
}

export interface CrashReport {
  seed: number;
  cycles: number;
  completedCycles: number;
  dir: string;
  violations: string[];
  modes: Record<string, number>;
  /** crash points that fired (the broker died there) */
  pointsFired: string[];
  acked: { records: number; compacted: number; retained: number; grow: number; eph: number };
  transactions: { committed: number; aborted: number; unknown: number };
  commits: number;
  adminOps: Record<string, number>;
  restartMs: number[];
  clientErrors: string[];
  compactedRecordsInLog: number;
  retainedLogStart: number;
}

/** Named steps inside Brook where BROOK_CRASH_POINT can kill it (src/crash-points.ts lists them). */
export const CRASH_POINTS = [
  "append.after-journal",
  "append.after-write",
  "roll.after-create",
  "checkpoint.before-rename",
  "checkpoint.after-rename",
  "close.before-marker",
  "atomic-write.before-rename",
  "topic.create.before-persist",
  "topic.delete.after-rename",
  "topic.delete.after-persist",
  "partitions.add.before-persist",
  "retention.between-segments",
  "cleaner.before-swap",
  "cleaner.after-swap",
  "offsets.after-append",
  "txn.after-prepare",
  "txn.between-markers",
  "txn.before-complete",
] as const;

export function planCycles(seed: number, cycles: number, loadMs: [number, number]): CyclePlan[] {
  const rng = new Rng(seed);
  const plans: CyclePlan[] = [];
  for (let i = 0; i < cycles; i++) {
    const r = rng.next();
    const mode: KillMode = r < 0.5 ? "load" : r < 0.65 ? "shutdown" : r < 0.75 ? "clean" : "point";
    const point = mode === "point" ? `${rng.pick(CRASH_POINTS)}:${rng.int(1, 4)}` : null;
    plans.push({
      mode,
      afterMs: rng.int(loadMs[0], loadMs[1]),
      termGraceMs: rng.int(0, 250),
      point,
      startupKillMs: rng.chance(0.2) ? rng.int(0, 400) : null,
      churn: rng.pick(["none", "none", "classic-member", "848-member", "producer", "txn-producer"] as const),
    });
  }
  return plans;
}

// ---- topics ---------------------------------------------------------------------------------------

const IDEM = "idem";
const COMPACTED = "compacted";
const RETAINED = "retained";
const GROW = "grow";
const TXN_A = "txn-a";
const TXN_B = "txn-b";
const PRODUCED = [IDEM, COMPACTED, RETAINED, GROW] as const;
const COMPACTED_KEYS = 40;
const GROW_MAX = 8;
const EPH_NAMES = ["eph-0", "eph-1", "eph-2"];
const CLASSIC_GROUP = "crash-classic";
const KIP848_GROUP = "crash-848";

const TOPIC_CONFIGS: Record<string, { partitions: number; configs: Record<string, string> }> = {
  [IDEM]: { partitions: 3, configs: { "retention.ms": "604800000" } },
  [COMPACTED]: {
    partitions: 2,
    configs: { "cleanup.policy": "compact", "segment.bytes": "8192", "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "86400000" },
  },
  [RETAINED]: { partitions: 2, configs: { "retention.bytes": "24576", "segment.bytes": "8192" } },
  [GROW]: { partitions: 1, configs: {} },
  [TXN_A]: { partitions: 2, configs: { "segment.bytes": "16384" } },
  [TXN_B]: { partitions: 1, configs: {} },
};

const BROKER_OVERRIDES: Record<string, string> = {
  "log.segment.bytes": "32768",
  "log.retention.check.interval.ms": "300",
  "log.cleaner.backoff.ms": "200",
  "log.flush.offset.checkpoint.interval.ms": "500",
  "group.initial.rebalance.delay.ms": "100",
  "auto.create.topics.enable": "false",
  "transaction.abort.timed.out.transaction.cleanup.interval.ms": "500",
  // Members killed by the churn hold their partitions until their session ends, and a restart starts
  // every loaded member's session afresh (as Kafka's coordinator does): keep sessions shorter than a cycle.
  "group.min.session.timeout.ms": "2000",
  "group.consumer.min.session.timeout.ms": "2000",
  "group.consumer.session.timeout.ms": "2000",
  "group.consumer.min.heartbeat.interval.ms": "500",
  "group.consumer.heartbeat.interval.ms": "500",
};

// ---- child processes ------------------------------------------------------------------------------

const LISTENING = /^brook listening on (\S+):(\d+)\s*$/;

/** The broker child: `bun src/cli.ts` on a fixed port, its stderr kept in a log file per start. */
class BrokerChild {
  private proc: Bun.Subprocess<"ignore", "pipe", "pipe"> | null = null;
  private expectExit = false;
  starts = 0;
  unexpectedExit: string | null = null;

  constructor(
    private readonly port: number,
    private readonly dataDir: string,
    private readonly logsDir: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Spawns the broker; resolves when it listens (or with its exit status if it exits first). */
  spawn(env: Record<string, string> = {}): { listening: Promise<boolean>; exited: Promise<void> } {
    const args = [process.execPath, CLI, "--override", `listeners=PLAINTEXT://127.0.0.1:${this.port}`, "--override", `log.dirs=${this.dataDir}`];
    for (const [k, v] of Object.entries(BROKER_OVERRIDES)) args.push("--override", `${k}=${v}`);
    const n = ++this.starts;
    const logFile = join(this.logsDir, `broker-${String(n).padStart(3, "0")}.log`);
    writeFileSync(logFile, `# ${JSON.stringify(env)}\n`);
    const proc = Bun.spawn(args, { cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, BROOK_LOG_LEVEL: "info", ...env } });
    this.proc = proc;
    this.expectExit = false;
    const stderrDone = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) appendFileSync(logFile, dec.decode(chunk, { stream: true }));
    })().catch(() => {});
    const listening = (async () => {
      for await (const line of readLines(proc.stdout)) if (LISTENING.test(line)) return true;
      return false;
    })();
    const exited = proc.exited.then(async () => {
      await stderrDone;
      if (!this.expectExit && this.proc === proc) this.unexpectedExit = `broker start #${n} exited by itself (code ${proc.exitCode}, signal ${proc.signalCode}); see ${logFile}`;
    });
    return { listening, exited };
  }

  /** Starts and waits until it listens; throws when it exits first or takes longer than 60 s. */
  async start(env: Record<string, string> = {}): Promise<number> {
    const t0 = performance.now();
    const { listening, exited } = this.spawn(env);
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      listening,
      exited.then(() => false),
      new Promise<boolean>((r) => (watchdog = setTimeout(() => r(false), 60_000))),
    ]);
    clearTimeout(watchdog);
    if (!ok) {
      this.expectExit = true;
      this.proc?.kill("SIGKILL");
      await this.proc?.exited;
      throw new Error(`broker start #${this.starts} did not listen (exit code ${this.proc?.exitCode}, signal ${this.proc?.signalCode}); see ${this.logsDir}`);
    }
    return performance.now() - t0;
  }

  /** Sends a signal; resolves with the exit code (null: killed) once it is gone. */
  async signal(sig: "SIGKILL" | "SIGTERM"): Promise<number | null> {
    const p = this.proc;
    if (!p) return null;
    this.expectExit = true;
    if (p.exitCode === null && p.signalCode === null) p.kill(sig);
    await p.exited;
    return p.exitCode;
  }

  /**
   * SIGTERM, then SIGKILL after graceMs unless it is gone by then. Resolves once it is gone: "clean"
   * (exit 0), "forced" (the SIGKILL was needed) or "died" (it ended otherwise: a crash point).
   */
  async termThenKill(graceMs: number): Promise<"clean" | "forced" | "died"> {
    const p = this.proc;
    if (!p) return "died";
    this.expectExit = true;
    p.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    let forced = false;
    await Promise.race([p.exited, new Promise<void>((r) => (timer = setTimeout(() => ((forced = true), p.kill("SIGKILL"), r()), graceMs)))]);
    clearTimeout(timer);
    await p.exited;
    return forced ? "forced" : p.exitCode === 0 ? "clean" : "died";
  }

  /** Whether the current process died of a crash point (SIGKILL it sent itself). */
  diedByItself(): boolean {
    return this.proc !== null && this.proc.signalCode === "SIGKILL" && !this.expectExit;
  }

  /** Waits for the current process to exit (a crash point), up to ms. */
  async waitExit(ms: number): Promise<boolean> {
    const p = this.proc;
    if (!p) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([p.exited.then(() => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)))]);
    clearTimeout(timer);
    return r;
  }

  /** A crash point's death is expected: forget it as "unexpected". */
  acceptExit(): void {
    this.expectExit = true;
    this.unexpectedExit = null;
  }
}

/** A client process speaking JSON lines on stdout. */
class ClientProc {
  readonly proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  readonly done: Promise<void>;
  private stderrTail = "";
  stopping = false;

  constructor(
    readonly name: string,
    cmd: string[],
    stdin: string | null,
    onLine: (o: any) => void,
    logsDir: string,
  ) {
    const proc = Bun.spawn(cmd, {
      cwd: REPO_ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", PYTHONPATH: CLIENTS_DIR },
    });
    this.proc = proc;
    if (stdin !== null) {
      proc.stdin.write(stdin);
      proc.stdin.end();
    }
    const errFile = join(logsDir, `${name}.stderr`);
    const outFile = join(logsDir, `${name}.out`);
    const stderrDone = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) {
        const s = dec.decode(chunk, { stream: true });
        this.stderrTail = (this.stderrTail + s).slice(-4000);
        appendFileSync(errFile, s);
      }
    })().catch(() => {});
    this.done = (async () => {
      for await (const line of readLines(proc.stdout)) {
        if (!line.trim()) continue;
        let o: any;
        try {
          o = JSON.parse(line);
        } catch {
          continue; // librdkafka's own output on stdout, if any
        }
        if (!("v" in o && "o" in o)) appendFileSync(outFile, line + "\n"); // all but the producer's deliveries
        onLine(o);
      }
      await proc.exited;
      await stderrDone;
    })();
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  /** SIGTERM (the script finishes what it does and reports), SIGKILL after graceMs. */
  async stop(graceMs = 25_000): Promise<void> {
    this.stopping = true;
    if (this.alive) this.proc.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.done, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    if (this.alive) this.proc.kill("SIGKILL");
    await this.done;
  }

  async kill(): Promise<void> {
    this.stopping = true;
    if (this.alive) this.proc.kill("SIGKILL");
    await this.done;
  }

  /** Writes a command line to the client's stdin (node members: "close"). */
  command(line: string): void {
    try {
      this.proc.stdin.write(line + "\n");
      this.proc.stdin.flush();
    } catch {
      // gone
    }
  }
}

// ---- the model: what the clients were told ----------------------------------------------------------

interface Acked {
  key: string | null;
  value: string;
}

type TxnOutcome = "committed" | "aborted" | "unknown";
interface TxnRecord {
  records: number;
  outcome: TxnOutcome | null;
  /** the outcome was known before this check number started */
  settledAt: number;
}

interface EphState {
  /** incarnation counter: records carry it */
  incarnation: number;
  /** expected to exist: true, false, or null when the last operation's outcome is unknown */
  exists: boolean | null;
  configs: Record<string, string>;
  /** incarnations whose deletion was acknowledged (nothing of them may reappear) */
  deleted: Set<number>;
  /** acknowledged records of the current incarnation: partition/offset → value */
  acked: Map<string, string>;
}

class Model {
  /** topic → partition → offset → record */
  readonly acked = new Map<string, Map<number, Map<number, Acked>>>();
  /** value → "topic/partition/offset" of its acknowledgement */
  readonly ackedAt = new Map<string, string>();
  readonly violations: string[] = [];
  /** transactional session → txn number → state */
  readonly txns = new Map<string, Map<number, TxnRecord>>();
  /** group → "topic/partition" → highest acknowledged commit */
  readonly commits = new Map<string, Map<string, number>>();
  commitCount = 0;
  /** grow's partition count: acknowledged, and the most asked for */
  growAcked = 1;
  growAsked = 1;
  /** idem's configs as the last acknowledged alter left them; null while an alter's outcome is unknown */
  idemConfigs: Record<string, string> | null = { ...TOPIC_CONFIGS[IDEM]!.configs };
  idemConfigCandidates: Record<string, string>[] = [];
  readonly eph = new Map<string, EphState>(EPH_NAMES.map((n) => [n, { incarnation: 0, exists: false, configs: {}, deleted: new Set<number>(), acked: new Map() }]));
  checkNo = 0;
  readonly clientErrors: string[] = [];
  counts = { records: 0, compacted: 0, retained: 0, grow: 0, eph: 0 };

  onDelivery(d: { t: string; p: number; o: number; k: string | null; v: string; e: string | null }): void {
    if (d.e !== null) return;
    let byPart = this.acked.get(d.t);
    if (!byPart) this.acked.set(d.t, (byPart = new Map()));
    let byOffset = byPart.get(d.p);
    if (!byOffset) byPart.set(d.p, (byOffset = new Map()));
    const where = `${d.t}/${d.p}/${d.o}`;
    const before = this.ackedAt.get(d.v);
    if (before !== undefined && before !== where) this.violations.push(`value ${d.v} acknowledged twice: at ${before} and at ${where} (a duplicate)`);
    const other = byOffset.get(d.o);
    if (other && other.value !== d.v) this.violations.push(`offset ${where} acknowledged for two records: ${other.value} and ${d.v} (an offset reused)`);
    byOffset.set(d.o, { key: d.k, value: d.v });
    this.ackedAt.set(d.v, where);
    this.counts.records++;
    if (d.t === COMPACTED) this.counts.compacted++;
    else if (d.t === RETAINED) this.counts.retained++;
    else if (d.t === GROW) this.counts.grow++;
  }

  onTxnLine(session: string, o: any): void {
    let m = this.txns.get(session);
    if (!m) this.txns.set(session, (m = new Map()));
    if ("b" in o) m.set(o.b, { records: o.k, outcome: null, settledAt: Infinity });
    else if ("x" in o) {
      const t = m.get(o.x);
      if (t) {
        t.outcome = o.outcome;
        t.settledAt = this.checkNo;
      }
      if (o.outcome === "unknown") this.clientErrors.push(`txn ${session}:${o.x} unknown: ${JSON.stringify(o.error)}`);
    } else if ("err" in o) this.clientErrors.push(`txn ${session}: ${JSON.stringify(o.err)}`);
  }

  /** A transactional process is gone: its open transaction ends however the broker decides. */
  txnSessionEnded(session: string): void {
    for (const t of this.txns.get(session)?.values() ?? []) {
      if (t.outcome === null) {
        t.outcome = "unknown";
        t.settledAt = this.checkNo;
      }
    }
  }

  onCommit(group: string, offsets: Record<string, number>): void {
    let m = this.commits.get(group);
    if (!m) this.commits.set(group, (m = new Map()));
    for (const [tp, off] of Object.entries(offsets)) m.set(tp, Math.max(m.get(tp) ?? -1, off));
    this.commitCount++;
  }

  /** A member's first record after an assignment: below the last acknowledged commit is a lost commit. */
  onFirstRead(group: string, member: string, first: Record<string, number>): void {
    for (const [tp, off] of Object.entries(first)) {
      const committed = this.commits.get(group)?.get(tp);
      if (committed !== undefined && off < committed)
        this.violations.push(`group ${group}: member ${member} started ${tp} at ${off}, below the acknowledged commit ${committed} (committed offsets went back)`);
    }
  }
}

// ---- reading the broker -----------------------------------------------------------------------------

interface PartitionRead {
  logStart: number;
  highWatermark: number;
  /** data records, in offset order */
  records: { offset: number; key: string | null; value: string | null }[];
}

const utf8 = new TextDecoder();

async function listOffset(c: WireClient, topic: string, partition: number, timestamp: number): Promise<number> {
  const r = await c.request(ListOffsets, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp, currentLeaderEpoch: -1 }] }],
  });
  const p = r.topics[0]!.partitions[0]!;
  if (p.errorCode !== ErrorCode.NONE) throw new Error(`ListOffsets ${topic}-${partition}: error ${p.errorCode}`);
  return p.offset;
}

/**
 * Every data record of a partition from its log start: read_uncommitted up to the high watermark, or
 * read_committed up to the last stable offset with aborted transactions left out the way Kafka's
 * consumers do it (the fetch's aborted-transaction list: a producer's transactional batches are
 * skipped from the first offset of its aborted transaction to its ABORT marker).
 */
async function readPartition(c: WireClient, topic: string, partition: number, readCommitted = false): Promise<PartitionRead> {
  for (let attempt = 0; ; attempt++) {
    const logStart = await listOffset(c, topic, partition, -2);
    const records: PartitionRead["records"] = [];
    let offset = logStart;
    let end = Infinity;
    let outOfRange = false;
    const aborted: { producerId: number; firstOffset: number }[] = [];
    const abortedProducers = new Set<number>();
    while (offset < end) {
      const r = await c.request(
        Fetch,
        {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 16 << 20,
          isolationLevel: readCommitted ? 1 : 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
          forgottenTopicsData: [],
          rackId: "",
        },
        12,
      );
      const p = r.responses[0]!.partitions[0]!;
      if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        outOfRange = true; // retention moved the start meanwhile: read again
        break;
      }
      if (p.errorCode !== ErrorCode.NONE) throw new Error(`Fetch ${topic}-${partition}@${offset}: error ${p.errorCode}`);
      // The end is fixed by the first answer: later appends are for the next check.
      if (end === Infinity) end = readCommitted ? p.lastStableOffset : p.highWatermark;
      for (const a of p.abortedTransactions ?? []) if (!aborted.some((x) => x.producerId === a.producerId && x.firstOffset === a.firstOffset)) aborted.push({ producerId: a.producerId, firstOffset: a.firstOffset });
      aborted.sort((a, b) => a.firstOffset - b.firstOffset);
      const data = p.records instanceof Uint8Array ? p.records : new Uint8Array(0);
      if (data.length === 0) break;
      let pos = 0;
      let next = offset;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      while (pos + 12 <= data.length) {
        const size = view.getInt32(pos + 8) + 12;
        if (pos + size > data.length) break;
        const batch = data.subarray(pos, pos + size);
        pos += size;
        const h = readBatchHeader(batch);
        const last = h.baseOffset + h.lastOffsetDelta;
        next = last + 1;
        if (h.baseOffset >= end) break;
        if (readCommitted) {
          while (aborted.length > 0 && aborted[0]!.firstOffset <= last) abortedProducers.add(aborted.shift()!.producerId);
          if (h.isControl) {
            const key = decodeRecords(batch).records[0]?.key;
            if (key && key.length >= 4 && new DataView(key.buffer, key.byteOffset).getInt16(2) === 0) abortedProducers.delete(h.producerId); // ABORT
            continue;
          }
          if (h.isTransactional && abortedProducers.has(h.producerId)) continue;
        }
        if (h.isControl) continue;
        for (const rec of decodeRecords(batch).records) {
          if (rec.offset < offset || rec.offset >= end) continue;
          records.push({ offset: rec.offset, key: rec.key ? utf8.decode(rec.key) : null, value: rec.value ? utf8.decode(rec.value) : null });
        }
      }
      if (next <= offset) break;
      offset = next;
    }
    if (outOfRange && attempt < 5) continue;
    return { logStart, highWatermark: end === Infinity ? logStart : end, records };
  }
}

async function partitionCounts(c: WireClient): Promise<Map<string, number>> {
  const md = await c.request(Metadata, { topics: null, allowAutoTopicCreation: false });
  const out = new Map<string, number>();
  for (const t of md.topics) if (t.name !== null && t.errorCode === ErrorCode.NONE) out.set(t.name, t.partitions.length);
  return out;
}

async function topicConfigs(c: WireClient, names: string[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (names.length === 0) return out;
  const r = await c.request(DescribeConfigs, {
    resources: names.map((resourceName) => ({ resourceType: 2, resourceName, configurationKeys: null })),
    includeSynonyms: false,
    includeDocumentation: false,
  });
  for (const res of r.results) {
    if (res.errorCode !== ErrorCode.NONE) continue;
    const own: Record<string, string> = {};
    for (const e of res.configs) if (e.configSource === 1 && e.value !== null) own[e.name] = e.value; // TOPIC_CONFIG
    out.set(res.resourceName, own);
  }
  return out;
}

async function committedOffsets(c: WireClient, group: string, topic: string, partitions: number): Promise<Map<string, number>> {
  const parts = Array.from({ length: partitions }, (_, i) => i);
  for (let attempt = 0; ; attempt++) {
    const r = await c.request(OffsetFetch, { groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: parts }] }], requireStable: true });
    const g = r.groups[0]!;
    if (g.errorCode === ErrorCode.NONE) {
      const out = new Map<string, number>();
      for (const t of g.topics) for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0) out.set(`${t.name}/${p.partitionIndex}`, p.committedOffset);
      return out;
    }
    if (attempt > 50) throw new Error(`OffsetFetch ${group}: error ${g.errorCode}`);
    await Bun.sleep(100); // COORDINATOR_LOAD_IN_PROGRESS and the like, right after a start
  }
}

const sameConfigs = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

// ---- the run ----------------------------------------------------------------------------------------

export async function runCrashCycles(opts: CrashOptions): Promise<CrashReport> {
  const log = opts.log ?? (() => {});
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "brook-crash-cycles-"));
  const dataDir = join(dir, "data");
  const logsDir = join(dir, "logs");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const loadMs = opts.loadMs ?? [600, 2500];
  const plans = planCycles(opts.seed, opts.cycles, loadMs);
  const rng = new Rng(opts.seed ^ 0x5bd1e995); // churn and admin choices
  const model = new Model();
  const report: CrashReport = {
    seed: opts.seed,
    cycles: opts.cycles,
    completedCycles: 0,
    dir,
    violations: model.violations,
    modes: {},
    pointsFired: [],
    acked: model.counts,
    transactions: { committed: 0, aborted: 0, unknown: 0 },
    commits: 0,
    adminOps: {},
    restartMs: [],
    clientErrors: model.clientErrors,
    compactedRecordsInLog: 0,
    retainedLogStart: 0,
  };
  writeFileSync(join(dir, "plan.json"), JSON.stringify({ seed: opts.seed, plans }, null, 1));

  const port = freePort();
  const broker = new BrokerChild(port, dataDir, logsDir);
  const bootstrap = broker.address;
  const clients = new Set<ClientProc>();
  let sessionNo = 0;
  const session = (kind: string) => `${kind}${++sessionNo}`;

  // -- clients --
  const startProducer = () => {
    const name = session("p");
    const c = new ClientProc(
      name,
      [PYTHON, join(CLIENTS_DIR, "crash_produce.py")],
      JSON.stringify({ bootstrap, session: name, rate: opts.rate ?? 240, topics: [{ topic: IDEM }, { topic: COMPACTED, keys: COMPACTED_KEYS }, { topic: RETAINED }, { topic: GROW }] }),
      (o) => {
        if ("summary" in o) return;
        model.onDelivery(o);
      },
      logsDir,
    );
    clients.add(c);
    return c;
  };
  const txnIds = ["crash-txn-1", "crash-txn-2"];
  const startTxn = (id: string) => {
    const name = session("x");
    const c = new ClientProc(
      name,
      [PYTHON, join(CLIENTS_DIR, "crash_txn.py")],
      JSON.stringify({
        bootstrap,
        transactional_id: id,
        session: name,
        targets: [[TXN_A, 0], [TXN_A, 1], [TXN_B, 0]],
        per_partition: [0, 3],
        abort_ratio: 0.35,
        seed: rng.int(0, 2 ** 31),
        pause_ms: 30,
      }),
      (o) => model.onTxnLine(name, o),
      logsDir,
    );
    void c.done.then(() => model.txnSessionEnded(name));
    clients.add(c);
    return c;
  };
  const startClassicMember = () => {
    const name = session("c");
    const c = new ClientProc(
      name,
      [PYTHON, join(CLIENTS_DIR, "crash_consume.py")],
      JSON.stringify({ bootstrap, group: CLASSIC_GROUP, topics: [IDEM], commit_every: 40, config: { "partition.assignment.strategy": "range", "session.timeout.ms": 3000 } }),
      (o) => {
        if ("c" in o) model.onCommit(CLASSIC_GROUP, o.c);
        else if ("f" in o) model.onFirstRead(CLASSIC_GROUP, name, o.f);
      },
      logsDir,
    );
    clients.add(c);
    return c;
  };
  const start848Member = () => {
    const name = session("n");
    const c = new ClientProc(
      name,
      ["node", join(REPO_ROOT, "test", "clients", "node", "group-member.cjs"), JSON.stringify({ bootstrap, groupId: KIP848_GROUP, topics: [IDEM], protocol: "consumer", clientId: name, commit: true })],
      null,
      (o) => {
        if (o.event === "committed") model.onCommit(KIP848_GROUP, { [`${o.topic}/${o.partition}`]: o.offset });
      },
      logsDir,
    );
    clients.add(c);
    return c;
  };

  // -- admin (kafkajs, in this process) --
  const kafka = new Kafka({ brokers: [bootstrap], clientId: "crash-admin", logLevel: logLevel.NOTHING, connectionTimeout: 1500, requestTimeout: 5000, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
  let admin: Admin | null = null;
  let ephProducer: KafkaJsProducer | null = null;
  let adminRunning = false;
  let adminLoop: Promise<void> | null = null;
  const countOp = (op: string) => (report.adminOps[op] = (report.adminOps[op] ?? 0) + 1);
  const connectAdmin = async () => {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    if (!ephProducer) {
      ephProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 2, initialRetryTime: 100 } });
      await ephProducer.connect();
    }
  };
  const dropAdmin = async () => {
    const a = admin, p = ephProducer;
    admin = null;
    ephProducer = null;
    await Promise.allSettled([a?.disconnect(), p?.disconnect()]);
  };
  const adminStep = async () => {
    await connectAdmin();
    const a = admin!;
    const r = rng.next();
    if (r < 0.2 && model.growAsked < GROW_MAX) {
      const count = model.growAsked + 1;
      model.growAsked = count;
      countOp("createPartitions");
      await a.createPartitions({ topicPartitions: [{ topic: GROW, count }] });
      model.growAcked = count;
    } else if (r < 0.35) {
      const configs = { "retention.ms": String(rng.int(2, 9) * 86_400_000), "max.message.bytes": String(rng.int(1, 4) * 1_000_000) };
      const before = model.idemConfigs;
      model.idemConfigCandidates = [...(before ? [before] : model.idemConfigCandidates), configs];
      model.idemConfigs = null;
      countOp("alterConfigs");
      await a.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: IDEM, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }] });
      model.idemConfigs = configs;
      model.idemConfigCandidates = [];
    } else {
      const name = rng.pick(EPH_NAMES);
      const e = model.eph.get(name)!;
      if (e.exists === false) {
        const incarnation = ++e.incarnation;
        const configs: Record<string, string> = { "segment.bytes": String(rng.int(4, 32) * 1024), "retention.ms": String(rng.int(1, 30) * 3_600_000) };
        if (rng.chance(0.4)) configs["cleanup.policy"] = "compact";
        e.exists = null;
        e.configs = configs;
        e.acked = new Map();
        countOp("createTopic");
        const partitions = rng.int(1, 3);
        const created = await a.createTopics({ waitForLeaders: false, topics: [{ topic: name, numPartitions: partitions, configEntries: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })) }] });
        if (!created) throw new Error(`createTopics ${name}: not created`);
        e.exists = true;
        const n = rng.int(1, 20);
        const messages = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${name}:${incarnation}:${i}`, partition: i % partitions }));
        countOp("ephProduce");
        const md = await ephProducer!.send({ topic: name, acks: -1, messages });
        // A base offset per partition written to; that partition's messages follow it in order.
        for (const m of md) {
          let off = Number(m.baseOffset);
          for (const msg of messages) if (msg.partition === m.partition) e.acked.set(`${m.partition}/${off++}`, msg.value);
        }
        model.counts.eph += n;
      } else if (e.exists === true) {
        e.exists = null;
        countOp("deleteTopic");
        await a.deleteTopics({ topics: [name], timeout: 5000 });
        e.exists = false;
        e.deleted.add(e.incarnation);
        e.acked = new Map();
      }
    }
  };
  // Checks pause the admin (after its current operation), so they see what its acknowledgements say.
  let adminPaused: { resume: () => void; idle: () => void } | null = null;
  let adminIdle: Promise<void> | null = null;
  const runAdmin = () => {
    adminRunning = true;
    adminLoop = (async () => {
      while (adminRunning) {
        if (adminPaused) {
          const p = adminPaused;
          await new Promise<void>((resume) => {
            p.resume = resume;
            p.idle();
          });
          continue;
        }
        try {
          await adminStep();
        } catch {
          await dropAdmin(); // the broker went away under it; the outcome is settled at the next check
        }
        await Bun.sleep(rng.int(150, 500));
      }
      await dropAdmin();
    })();
  };
  const pauseAdmin = async () => {
    if (!adminRunning) return;
    adminIdle = new Promise<void>((idle) => (adminPaused = { resume: () => {}, idle }));
    await adminIdle;
  };
  const resumeAdmin = () => {
    const p = adminPaused;
    adminPaused = null;
    p?.resume();
  };
  const stopAdmin = async () => {
    adminRunning = false;
    resumeAdmin();
    await adminLoop;
  };

  // -- checks --
  const prevEnd = new Map<string, number>();
  const prevStart = new Map<string, number>();
  const prevCommitted = new Map<string, number>();
  /** `stock`: transactions are read by librdkafka's read_committed consumer (it needs an end: no open transactions) */
  const check = async (label: string, stock = false): Promise<string[]> => {
    await pauseAdmin();
    try {
      return await checkNow(label, stock);
    } finally {
      resumeAdmin();
    }
  };
  const checkNow = async (label: string, stock: boolean): Promise<string[]> => {
    const found: string[] = [];
    const v = (s: string) => found.push(`${label}: ${s}`);
    const checkNo = ++model.checkNo;
    // Snapshots of what was acknowledged before the check began.
    const ackedSnapshot = new Map([...model.acked].map(([t, m]) => [t, new Map([...m].map(([p, o]) => [p, new Map(o)]))]));
    const commitsSnapshot = new Map([...model.commits].map(([g, m]) => [g, new Map(m)]));
    const c = await WireClient.connect(bootstrap, { clientId: "crash-checker" });
    try {
      const counts = await partitionCounts(c);
      const committedBefore = new Map<string, Map<string, number>>();
      for (const group of [CLASSIC_GROUP, KIP848_GROUP]) committedBefore.set(group, await committedOffsets(c, group, IDEM, counts.get(IDEM) ?? 0));
      // topics and configs
      for (const [t, spec] of Object.entries(TOPIC_CONFIGS)) if (!counts.has(t)) v(`topic ${t} is gone`);
      const g = counts.get(GROW) ?? 0;
      if (g < model.growAcked || g > model.growAsked) v(`${GROW} has ${g} partitions; acknowledged ${model.growAcked}, asked for at most ${model.growAsked}`);
      model.growAcked = Math.max(model.growAcked, g);
      model.growAsked = Math.max(model.growAsked, g);
      const names = [...Object.keys(TOPIC_CONFIGS), ...EPH_NAMES.filter((n) => counts.has(n))];
      const configs = await topicConfigs(c, names);
      for (const [t, spec] of Object.entries(TOPIC_CONFIGS)) {
        if (t === IDEM) continue;
        const got = configs.get(t);
        if (got && !sameConfigs(got, spec.configs)) v(`topic ${t} configs ${JSON.stringify(got)}, expected ${JSON.stringify(spec.configs)}`);
      }
      const idemGot = configs.get(IDEM);
      if (idemGot) {
        if (model.idemConfigs) {
          if (!sameConfigs(idemGot, model.idemConfigs)) v(`topic ${IDEM} configs ${JSON.stringify(idemGot)}, expected ${JSON.stringify(model.idemConfigs)}`);
        } else if (!model.idemConfigCandidates.some((cand) => sameConfigs(cand, idemGot))) {
          v(`topic ${IDEM} configs ${JSON.stringify(idemGot)}, expected one of ${JSON.stringify(model.idemConfigCandidates)}`);
        } else {
          model.idemConfigs = idemGot; // the unknown alter is settled
          model.idemConfigCandidates = [];
        }
      }
      // short-lived topics
      for (const [name, e] of model.eph) {
        const exists = counts.has(name);
        if (e.exists === true && !exists) v(`topic ${name} (incarnation ${e.incarnation}) was created (acknowledged) but is gone`);
        if (e.exists === false && exists) v(`topic ${name} was deleted (acknowledged) but exists`);
        if (e.exists === null) {
          // The last operation's outcome is settled by what is there.
          e.exists = exists;
          if (!exists) {
            e.deleted.add(e.incarnation);
            e.acked = new Map();
          }
        }
        if (!exists) continue;
        const got = configs.get(name);
        if (got && !sameConfigs(got, e.configs)) v(`topic ${name} configs ${JSON.stringify(got)}, expected ${JSON.stringify(e.configs)}`);
        const seen = new Map<string, string>();
        for (let p = 0; p < (counts.get(name) ?? 0); p++) {
          const r = await readPartition(c, name, p);
          for (const rec of r.records) {
            const inc = Number(rec.value?.split(":")[1]);
            if (inc !== e.incarnation)
              v(`topic ${name}: record ${rec.value} at ${p}/${rec.offset} belongs to incarnation ${inc}, the topic is incarnation ${e.incarnation}`);
            seen.set(`${p}/${rec.offset}`, rec.value ?? "");
          }
        }
        for (const [at, value] of e.acked) if (seen.get(at) !== value) v(`topic ${name}: acknowledged ${value} at ${at}, found ${seen.get(at) ?? "nothing"}`);
      }
      // produced topics
      let compactedInLog = 0;
      for (const t of [...PRODUCED, TXN_A, TXN_B]) {
        const parts = counts.get(t) ?? 0;
        const valuesSeen = new Map<string, string>();
        for (let p = 0; p < parts; p++) {
          const r = await readPartition(c, t, p);
          const tp = `${t}/${p}`;
          if (r.highWatermark < (prevEnd.get(tp) ?? 0)) v(`${tp}: log end offset ${r.highWatermark} went back from ${prevEnd.get(tp)}`);
          if (r.logStart < (prevStart.get(tp) ?? 0)) v(`${tp}: log start offset ${r.logStart} went back from ${prevStart.get(tp)}`);
          prevEnd.set(tp, Math.max(prevEnd.get(tp) ?? 0, r.highWatermark));
          prevStart.set(tp, Math.max(prevStart.get(tp) ?? 0, r.logStart));
          if (t === RETAINED) report.retainedLogStart = Math.max(report.retainedLogStart, r.logStart);
          if (t === COMPACTED) compactedInLog += r.records.length;
          const byOffset = new Map<number, { key: string | null; value: string | null }>();
          for (const rec of r.records) {
            if (rec.value !== null) {
              const dup = valuesSeen.get(rec.value);
              if (dup !== undefined) v(`${t}: value ${rec.value} is in the log twice (${dup} and ${p}/${rec.offset})`);
              valuesSeen.set(rec.value, `${p}/${rec.offset}`);
            }
            byOffset.set(rec.offset, rec);
          }
          const acked = ackedSnapshot.get(t)?.get(p);
          if (!acked) continue;
          let maxAcked = -1;
          const latestByKey = new Map<string, number>();
          for (const [off, a] of acked) {
            maxAcked = Math.max(maxAcked, off);
            if (a.key !== null && off > (latestByKey.get(a.key) ?? -1)) latestByKey.set(a.key, off);
            const got = byOffset.get(off);
            if (off < r.logStart) continue; // retention deleted it
            if (got === undefined) {
              if (t === COMPACTED) continue; // compacted away if a later record has its key (checked below)
              v(`${tp}: acknowledged record ${a.value} at offset ${off} is missing (log ${r.logStart}..${r.highWatermark})`);
            } else if (got.value !== a.value || got.key !== a.key) v(`${tp}: offset ${off} holds ${got.key}=${got.value}, acknowledged ${a.key}=${a.value}`);
          }
          if (maxAcked >= r.highWatermark) v(`${tp}: acknowledged offset ${maxAcked} is at or past the log end ${r.highWatermark}`);
          if (t === COMPACTED) {
            const lastOfKey = new Map<string, number>();
            for (const rec of r.records) if (rec.key !== null) lastOfKey.set(rec.key, rec.offset);
            for (const [key, off] of latestByKey)
              if ((lastOfKey.get(key) ?? -1) < off) v(`${tp}: key ${key}'s latest acknowledged value (offset ${off}) is gone and nothing later has the key`);
          }
        }
      }
      report.compactedRecordsInLog = compactedInLog;
      // committed offsets, read before the logs (which only grow): each at most the log end read later
      for (const [group, got] of committedBefore) {
        for (const [tp, acked] of commitsSnapshot.get(group) ?? []) {
          const now = got.get(tp) ?? -1;
          if (now < acked) v(`group ${group}: committed offset of ${tp} is ${now}, below the acknowledged commit ${acked}`);
        }
        for (const [tp, now] of got) {
          const key = `${group}:${tp}`;
          if (now < (prevCommitted.get(key) ?? -1)) v(`group ${group}: committed offset of ${tp} went back from ${prevCommitted.get(key)} to ${now}`);
          if (now > (prevEnd.get(tp) ?? Infinity)) v(`group ${group}: committed offset of ${tp} is ${now}, past the log end ${prevEnd.get(tp)}`);
          prevCommitted.set(key, Math.max(prevCommitted.get(key) ?? -1, now));
        }
      }
    } finally {
      c.close();
    }
    // transactions, through a stock read_committed consumer
    await checkTransactions(bootstrap, model, checkNo, v, logsDir, stock);
    return found;
  };

  // -- the cycles --
  const classic: ClientProc[] = [];
  const members848: ClientProc[] = [];
  let producer: ClientProc;
  const txns = new Map<string, ClientProc>();
  const churn = async (kind: CyclePlan["churn"]) => {
    if (kind === "classic-member") {
      const old = classic.shift();
      if (old) await (rng.chance(0.5) ? old.kill() : old.stop());
      classic.push(startClassicMember());
    } else if (kind === "848-member") {
      const old = members848.shift();
      if (old) {
        if (rng.chance(0.5)) await old.kill();
        else {
          old.command("close");
          await old.stop();
        }
      }
      members848.push(start848Member());
    } else if (kind === "producer") {
      await (rng.chance(0.5) ? producer.kill() : producer.stop());
      producer = startProducer();
    } else if (kind === "txn-producer") {
      const id = rng.pick(txnIds);
      const old = txns.get(id)!;
      await (rng.chance(0.5) ? old.kill() : old.stop());
      txns.set(id, startTxn(id));
    }
  };
  /** Replaces clients that died on their own (and says so). */
  const revive = () => {
    for (const [i, m] of classic.entries())
      if (!m.alive && !m.stopping) {
        model.clientErrors.push(`${m.name} exited: ${m.stderr.slice(-300)}`);
        classic[i] = startClassicMember();
      }
    for (const [i, m] of members848.entries())
      if (!m.alive && !m.stopping) {
        model.clientErrors.push(`${m.name} exited: ${m.stderr.slice(-300)}`);
        members848[i] = start848Member();
      }
    if (!producer.alive && !producer.stopping) {
      model.clientErrors.push(`${producer.name} exited: ${producer.stderr.slice(-300)}`);
      producer = startProducer();
    }
    for (const [id, t] of txns)
      if (!t.alive && !t.stopping) {
        model.clientErrors.push(`${t.name} exited: ${t.stderr.slice(-300)}`);
        txns.set(id, startTxn(id));
      }
  };

  let failed = false;
  try {
    report.restartMs.push(await broker.start());
    await createTopics(bootstrap);
    producer = startProducer();
    for (const id of txnIds) txns.set(id, startTxn(id));
    classic.push(startClassicMember(), startClassicMember());
    members848.push(start848Member());
    runAdmin();
    const first = await check("initial");
    model.violations.push(...first);

    for (let i = 0; i < plans.length && model.violations.length === 0; i++) {
      const plan = plans[i]!;
      const label = `cycle ${i + 1}/${plans.length} (${plan.mode}${plan.point ? ` ${plan.point}` : ""}${plan.startupKillMs !== null ? `, killed again ${plan.startupKillMs} ms into recovery` : ""})`;
      report.modes[plan.mode] = (report.modes[plan.mode] ?? 0) + 1;
      revive();
      await churn(plan.churn);
      if (plan.mode === "point") {
        // Restart the broker armed: it kills itself at the crash point (or is killed after the load).
        await broker.signal("SIGKILL");
        const armed = broker.spawn({ BROOK_CRASH_POINT: plan.point! });
        // The step may come during recovery already (completing a transaction writes markers).
        const listening = await Promise.race([armed.listening, armed.exited.then(() => false)]);
        if (!listening) await armed.exited; // stdout may end before the exit status is known
        if (!listening && !broker.diedByItself()) throw new Error(broker.unexpectedExit ?? "the broker did not start");
        let fired = !listening;
        if (!fired && plan.point!.startsWith("close.")) {
          await Bun.sleep(plan.afterMs);
          fired = (await broker.termThenKill(30_000)) === "died"; // the step is part of the clean shutdown
        } else if (!fired && (await broker.waitExit(plan.afterMs * 2))) {
          if (!broker.diedByItself()) throw new Error(broker.unexpectedExit ?? "the broker exited");
          fired = true;
        }
        if (fired) report.pointsFired.push(plan.point!);
        broker.acceptExit();
        await broker.signal("SIGKILL");
      } else {
        await Bun.sleep(plan.afterMs); // the load runs; the moment of the kill is the plan's
        if (broker.unexpectedExit) throw new Error(broker.unexpectedExit);
        if (plan.mode === "load") await broker.signal("SIGKILL");
        else if (plan.mode === "shutdown") await broker.termThenKill(plan.termGraceMs);
        else {
          const how = await broker.termThenKill(30_000);
          if (how !== "clean") model.violations.push(`${label}: SIGTERM did not stop the broker cleanly (exit 0) within 30 s`);
        }
      }
      if (plan.startupKillMs !== null) {
        const { exited } = broker.spawn();
        await Bun.sleep(plan.startupKillMs);
        await broker.signal("SIGKILL");
        await exited;
      }
      report.restartMs.push(await broker.start());
      const found = await check(label);
      model.violations.push(...found);
      report.completedCycles = i + 1;
      log(`${label}: ${found.length === 0 ? "ok" : `${found.length} violation(s)`}; restart ${report.restartMs.at(-1)!.toFixed(0)} ms; acked ${model.counts.records} records, ${countTxns(model).committed} txns committed, ${model.commitCount} commits`);
    }

    // The end: clients finish, one more kill, and a final check with nothing in flight.
    if (model.violations.length === 0) {
      await stopAdmin();
      await Promise.all([...clients].map((c) => c.stop()));
      await broker.signal("SIGKILL");
      report.restartMs.push(await broker.start());
      model.violations.push(...(await check("final (clients stopped)", true)));
      const code = await broker.termThenKill(30_000);
      if (code !== "clean") model.violations.push("final SIGTERM did not stop the broker cleanly");
    }
  } catch (e) {
    model.violations.push(`driver: ${(e as Error).stack ?? e}`);
  } finally {
    adminRunning = false;
    await Promise.allSettled([...clients].map((c) => c.kill()));
    await (adminLoop as Promise<void> | null)?.catch(() => {});
    await broker.signal("SIGKILL");
    Object.assign(report.transactions, countTxns(model));
    report.commits = model.commitCount;
    failed = model.violations.length > 0;
    writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 1));
    if (!failed && !opts.keep && !opts.dir) rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

function countTxns(model: Model): { committed: number; aborted: number; unknown: number } {
  const out = { committed: 0, aborted: 0, unknown: 0 };
  for (const m of model.txns.values()) for (const t of m.values()) if (t.outcome) out[t.outcome]++;
  return out;
}

async function createTopics(bootstrap: string): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: "crash-setup", logLevel: logLevel.NOTHING });
  const a = kafka.admin();
  await a.connect();
  try {
    await a.createTopics({
      waitForLeaders: true,
      topics: Object.entries(TOPIC_CONFIGS).map(([topic, s]) => ({
        topic,
        numPartitions: s.partitions,
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await a.disconnect();
  }
}

/**
 * Transactions through librdkafka's read_committed consumer: committed ones complete, aborted ones
 * absent, unknown ones all or nothing. Markers may trail an acknowledged commit by a moment in Kafka,
 * so a committed transaction not yet (fully) visible is read again a few times before it counts.
 */
async function checkTransactions(bootstrap: string, model: Model, checkNo: number, v: (s: string) => void, logsDir: string, stock: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const visible = new Map<string, number>(); // "session:n" → records seen
    const seenValues = new Set<string>();
    const problems: string[] = [];
    for (const topic of [TXN_A, TXN_B]) {
      let read: { value: string | null }[];
      if (stock) read = await runPy("confluent_consume.py", { bootstrap, topic, timeout_s: 30, config: { "isolation.level": "read_committed" } }, logsDir);
      else {
        const c = await WireClient.connect(bootstrap, { clientId: "crash-checker" });
        try {
          read = [];
          for (let p = 0; p < TOPIC_CONFIGS[topic]!.partitions; p++) read.push(...(await readPartition(c, topic, p, true)).records);
        } finally {
          c.close();
        }
      }
      for (const m of read) {
        if (typeof m.value !== "string") continue;
        if (seenValues.has(m.value)) problems.push(`${topic}: transactional value ${m.value} read twice`);
        seenValues.add(m.value);
        const [s, n] = m.value.split(":");
        const id = `${s}:${n}`;
        visible.set(id, (visible.get(id) ?? 0) + 1);
      }
    }
    let retry = false;
    for (const [s, m] of model.txns)
      for (const [n, t] of m) {
        const seen = visible.get(`${s}:${n}`) ?? 0;
        if (t.outcome === "aborted" && seen > 0) problems.push(`transaction ${s}:${n} was aborted, but ${seen} of its ${t.records} records are visible to read_committed`);
        if (t.settledAt >= checkNo) continue; // its outcome arrived while this check ran
        if (t.outcome === "committed" && seen !== t.records) {
          problems.push(`transaction ${s}:${n} was committed, but ${seen} of its ${t.records} records are visible to read_committed`);
          retry = true;
        }
        if (t.outcome === "unknown" && seen !== 0 && seen !== t.records) {
          problems.push(`transaction ${s}:${n} (outcome unknown to its client) is partly visible: ${seen} of ${t.records} records`);
          retry = true;
        }
      }
    if (problems.length === 0 || !retry || attempt >= 20) {
      for (const p of problems) v(p);
      return;
    }
    await Bun.sleep(500); // markers may trail the commit; read again before calling it lost
  }
}

async function runPy(script: string, input: object, logsDir: string): Promise<any[]> {
  const proc = Bun.spawn([PYTHON, join(CLIENTS_DIR, script)], {
    stdin: new Blob([JSON.stringify(input)]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", PYTHONPATH: CLIENTS_DIR },
  });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (proc.exitCode !== 0) {
    appendFileSync(join(logsDir, "checker.stderr"), err);
    throw new Error(`${script} exited ${proc.exitCode}: ${err.slice(-500)}`);
  }
  return out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l))
    .filter((o) => !("summary" in o));
}

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
