// Soak: Brook under a steady mixed load for a long time (default 30 minutes), at half of the rate it
// saturates at, printing a row every minute: throughput, latency percentiles, the broker's RSS, open
// file descriptors and CPU. A leak, a slowdown or a growing tail shows as a trend down the rows.
//   bun bench/soak.ts [--minutes 30] [--fraction 0.5] [--rate R] [--size 200] [--partitions 4]
//        [--consumers 2] [--txn-rate 20] [--txn-records 10] [--saturation-seconds 20]
//        [--retention-mib 256] [--json]
// 1. Brook is started through its CLI (bench/lib.ts), with a temporary log dir.
// 2. Saturation: for --saturation-seconds, an idempotent acks=all librdkafka producer (bench/soak.c)
//    produces as fast as it can to a topic of its own while a group of --consumers members reads it;
//    the lower of the acknowledged and the read rate is the saturation rate (unless --rate gives the
//    soak's rate directly).
// 3. The soak: one producer at --fraction of that rate (records of --size bytes, each carrying its send
//    time), a consumer group of --consumers members reading it and the transactional topic
//    (read_committed, auto commit every second), and a transactional producer committing --txn-rate
//    transactions of --txn-records records a second. Retention (--retention-mib per partition) keeps
//    the disk use bounded, so retention runs throughout too.
// Per minute: produced and consumed records/s, produce latency (produce() to acknowledgement) and
// end-to-end latency (send to receipt by a group member, plain topic) p50/p99, transactions/s, the
// transactional records the group read, commit latency,
// the broker's RSS (and its anonymous part: heap and buffers, without mapped log pages), open fds and
// CPU. At the end, the trend: minute 2 against the last minute, and the spread over the run.
import { spawn, type Subprocess } from "bun";
import fs from "node:fs";
import path from "node:path";
import { CreateTopics } from "../protocol/apis/19-create-topics.ts";
import { WireClient } from "../src/client.ts";
import { buildClient, procCpu, startBrook } from "./lib.ts";

const argv = process.argv.slice(2);
const opt = {
  minutes: 30, fraction: 0.5, rate: 0, size: 200, partitions: 4, consumers: 2, txnRate: 20, txnRecords: 10,
  saturationSeconds: 20, retentionMib: 256, json: false,
};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const num = () => Number(argv[++i] ?? usage(`${a} needs a value`));
  switch (a) {
    case "--minutes": opt.minutes = num(); break;
    case "--fraction": opt.fraction = num(); break;
    case "--rate": opt.rate = num(); break;
    case "--size": opt.size = num(); break;
    case "--partitions": opt.partitions = num(); break;
    case "--consumers": opt.consumers = num(); break;
    case "--txn-rate": opt.txnRate = num(); break;
    case "--txn-records": opt.txnRecords = num(); break;
    case "--saturation-seconds": opt.saturationSeconds = num(); break;
    case "--retention-mib": opt.retentionMib = num(); break;
    case "--json": opt.json = true; break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}

if (!(Number.isInteger(opt.minutes) && opt.minutes >= 2)) usage("--minutes must be a whole number >= 2 (minute 1 includes the start)");
if (!(opt.fraction > 0 && opt.fraction <= 1)) usage("--fraction must be in (0, 1]");

function usage(msg: string): never {
  console.error(`${msg ? `soak: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(0, 5).join("\n"));
  process.exit(msg ? 2 : 0);
}

const log = (m: string) => console.error(`soak: ${m}`);

type Line = Record<string, number | string | null>;

const stopped = new Set<number>();
const live = new Set<Subprocess<"ignore", "pipe", "inherit">>();
/** Stops the clients and Brook (removing its log dir), then exits: every way the run can end early. */
let aborting = false;
function abort(reason: string, code = 1): void {
  if (aborting) return;
  aborting = true;
  log(`${reason}; stopping`);
  const all = [...live];
  for (const c of all) stopped.add(c.pid), c.kill("SIGKILL");
  void Promise.all(all.map((c) => c.exited))
    .then(() => brook?.stop())
    .finally(() => process.exit(code));
}
process.on("SIGINT", () => abort("SIGINT", 130));
process.on("SIGTERM", () => abort("SIGTERM", 143));
process.on("uncaughtException", (e) => abort(String(e?.stack ?? e)));
process.on("unhandledRejection", (e) => abort(String((e as Error)?.stack ?? e)));

const assigned: Promise<void>[] = [];
/** A soak client: its JSON lines, as they come, to `onLine`. One that dies ends the soak: its rows would be missing. */
function client(bin: string, args: string[], onLine: (l: Line) => void): Subprocess<"ignore", "pipe", "inherit"> {
  let onAssigned = () => {};
  if (args[0] === "consume") assigned.push(new Promise((resolve) => (onAssigned = resolve)));
  const child = spawn([bin, ...args], { stdout: "pipe", stderr: "inherit" });
  live.add(child);
  void child.exited.then((code) => {
    live.delete(child);
    if (stopped.has(child.pid)) return;
    abort(`the ${args[0]} client exited (${code}) before the end`);
  });
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of child.stdout) {
      buf += dec.decode(chunk);
      for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) {
        const l = JSON.parse(buf.slice(0, nl)) as Line;
        if (l.event === "assigned") onAssigned();
        else onLine(l);
      }
    }
  })();
  return child;
}

async function stopAll(children: Subprocess<"ignore", "pipe", "inherit">[]): Promise<void> {
  for (const c of children) stopped.add(c.pid);
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
}

function procStatus(pid: number): { rss: number; anon: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, "m").exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon") };
}
const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

const bin = buildClient("soak");
const retention = String(opt.retentionMib << 20);
let brook: Awaited<ReturnType<typeof startBrook>> | undefined;
brook = await startBrook({ overrides: ["log.retention.check.interval.ms=10000", "log.segment.bytes=" + (32 << 20)] });
const pid = brook.proc.pid;
log(`Brook pid ${pid} at ${brook.address}`);
{
  const c = await WireClient.connect(brook.address);
  const topic = (name: string, partitions: number, bytes: string) => ({
    name, numPartitions: partitions, replicationFactor: 1, assignments: [],
    configs: [{ name: "retention.bytes", value: bytes }, { name: "segment.bytes", value: String(32 << 20) }],
  });
  const r = await c.request(CreateTopics, {
    topics: [topic("soak", opt.partitions, retention), topic("soak-txn", 1, String(64 << 20)), topic("soak-saturation", opt.partitions, retention)],
    timeoutMs: 10_000, validateOnly: false,
  });
  for (const t of r.topics) if (t.errorCode !== 0) throw new Error(`CreateTopics ${t.name}: error ${t.errorCode}`);
  c.close();
}

/** Records flow only once every member has partitions: they start at the log end. */
async function groupSettled(): Promise<void> {
  const all = assigned.splice(0);
  const watchdog = setTimeout(() => abort("the consumer group got no assignment in 60 s"), 60_000);
  await Promise.all(all);
  clearTimeout(watchdog);
}

// ---- saturation ----
let rate = opt.rate;
let saturation = 0;
if (!rate) {
  // The same mix as the soak, the producer unthrottled: on a small machine the clients' CPU bounds the
  // rate as much as Brook's, so a producer alone would overstate what the whole mix sustains.
  const produced: number[] = [], consumed: number[][] = [];
  const members = Array.from({ length: opt.consumers }, (_, i) =>
    client(bin, ["consume", "-b", brook.address, "-g", "soak-saturation", "-t", "soak-saturation", "-w", "2000"], (l) => (consumed[i] ??= []).push(Number(l.records) / Number(l.seconds))),
  );
  await groupSettled();
  const sat = client(bin, ["produce", "-b", brook.address, "-t", "soak-saturation", "-r", "0", "-s", String(opt.size), "-w", "2000"], (l) => produced.push(Number(l.acked) / Number(l.seconds)));
  await Bun.sleep(opt.saturationSeconds * 1000);
  await stopAll([sat, ...members]);
  // Medians of the 2 s windows after the first (it includes the start); the group's rate is the sum
  // over its members of each one's median.
  const median = (v: number[]) => v.slice(1).sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)] ?? 0;
  const producedRate = median(produced), consumedRate = consumed.reduce((n, m) => n + median(m), 0);
  saturation = Math.min(producedRate, consumedRate);
  if (!saturation) throw new Error(`the saturation run moved nothing (acknowledged ${producedRate}/s, read ${consumedRate}/s)`);
  rate = Math.round(saturation * opt.fraction);
  log(`saturation: ${Math.round(saturation)} records/s of ${opt.size} bytes (acknowledged ${Math.round(producedRate)}/s, the group read ${Math.round(consumedRate)}/s; medians of 2 s windows); soak at ${rate}/s`);
}

// ---- the soak ----
interface Row {
  minute: number;
  produced: number; produceP50: number | null; produceP99: number | null; failed: number;
  consumed: number; e2eP50: number | null; e2eP99: number | null; rebalances: number;
  txns: number; txnConsumed: number; commitP50: number | null; commitP99: number | null;
  rssMib: number; anonMib: number; fds: number; cpuPct: number;
}
const byRole: Record<string, Line[][]> = { produce: [], consume: [], txn: [] };
const push = (role: string, member: number) => (l: Line) => {
  (byRole[role]![member] ??= []).push(l);
};
const children = [
  ...Array.from({ length: opt.consumers }, (_, i) => client(bin, ["consume", "-b", brook.address, "-g", "soak", "-t", "soak,soak-txn", "-w", "60000"], push("consume", i))),
  client(bin, ["txn", "-b", brook.address, "-t", "soak-txn", "-x", "soak-txn", "-r", String(opt.txnRate), "-k", String(opt.txnRecords), "-s", String(opt.size), "-w", "60000"], push("txn", 0)),
];
await groupSettled();
children.push(client(bin, ["produce", "-b", brook.address, "-t", "soak", "-r", String(rate), "-s", String(opt.size), "-w", "60000"], push("produce", 0)));

const rows: Row[] = [];
const header = "min | produced/s | produce p50/p99 ms | consumed/s | e2e p50/p99 ms | txn/s | txn rec read/s | commit p50/p99 ms | RSS MiB (anon) | fds | CPU %";
if (!opt.json) console.log(header);
let cpuBefore = procCpu(pid);
let at = performance.now();
const f = (x: number | null, d = 1) => (x === null ? "-" : x.toFixed(d));
const ready = (minute: number) => ["produce", "txn"].every((r) => byRole[r]![0]?.[minute]) && byRole.consume!.filter((m) => m?.[minute]).length === opt.consumers;
for (let minute = 0; minute < opt.minutes; minute++) {
  const deadline = Date.now() + 120_000; // a watchdog: a client that stopped reporting
  while (!ready(minute) && Date.now() < deadline) await Bun.sleep(200);
  const cpu = procCpu(pid), now = performance.now();
  const mem = procStatus(pid);
  const p = byRole.produce![0]![minute] ?? {}, t = byRole.txn![0]![minute] ?? {};
  const cs = byRole.consume!.map((m) => m?.[minute]).filter((x): x is Line => !!x);
  const secs = Number(p.seconds ?? 60);
  const maxOf = (k: string) => (cs.some((c) => c[k] !== null) ? Math.max(...cs.map((c) => Number(c[k] ?? 0))) : null);
  const row: Row = {
    minute: minute + 1,
    produced: Number(p.acked ?? 0) / secs, produceP50: (p.p50 as number) ?? null, produceP99: (p.p99 as number) ?? null, failed: Number(p.failed ?? 0),
    consumed: cs.reduce((n, c) => n + Number(c.records), 0) / secs, e2eP50: maxOf("p50"), e2eP99: maxOf("p99"),
    rebalances: cs.reduce((n, c) => n + Number(c.rebalances), 0),
    txns: Number(t.commits ?? 0) / Number(t.seconds ?? 60), txnConsumed: cs.reduce((n, c) => n + Number(c.other_records), 0) / secs, commitP50: (t.p50 as number) ?? null, commitP99: (t.p99 as number) ?? null,
    rssMib: mem.rss / 2 ** 20, anonMib: mem.anon / 2 ** 20, fds: openFds(pid), cpuPct: ((cpu - cpuBefore) / ((now - at) / 1000)) * 100,
  };
  cpuBefore = cpu;
  at = now;
  rows.push(row);
  if (opt.json) console.log(JSON.stringify(row));
  else
    console.log(
      `${String(row.minute).padStart(3)} | ${row.produced.toFixed(0).padStart(10)} | ${`${f(row.produceP50)} / ${f(row.produceP99)}`.padStart(18)} | ` +
        `${row.consumed.toFixed(0).padStart(10)} | ${`${f(row.e2eP50)} / ${f(row.e2eP99)}`.padStart(14)} | ${row.txns.toFixed(1).padStart(5)} | ${row.txnConsumed.toFixed(0).padStart(14)} | ` +
        `${`${f(row.commitP50)} / ${f(row.commitP99)}`.padStart(17)} | ${`${row.rssMib.toFixed(0)} (${row.anonMib.toFixed(0)})`.padStart(14)} | ` +
        `${String(row.fds).padStart(3)} | ${row.cpuPct.toFixed(0).padStart(5)}`,
    );
}

await stopAll(children);
const stopT0 = performance.now();
await brook.stop();
const stopMs = performance.now() - stopT0;

// ---- the trend ----
const steady = rows.slice(1); // minute 1 includes the start
const first = steady[0]!, last = steady[steady.length - 1]!;
const spread = (k: keyof Row) => {
  const v = steady.map((r) => r[k] as number | null).filter((x): x is number => x !== null);
  if (!v.length) return { min: NaN, max: NaN, mean: NaN }; // e.g. nothing consumed: shows as NaN, not as a fine 0
  return { min: Math.min(...v), max: Math.max(...v), mean: v.reduce((a, b) => a + b, 0) / v.length };
};
const summary = {
  saturation: Math.round(saturation), rate, size: opt.size, partitions: opt.partitions, consumers: opt.consumers, minutes: opt.minutes,
  produced: spread("produced"), consumed: spread("consumed"), produceP99: spread("produceP99"), e2eP99: spread("e2eP99"), commitP99: spread("commitP99"),
  rss: { from: first.rssMib, to: last.rssMib, max: spread("rssMib").max }, anon: { from: first.anonMib, to: last.anonMib, max: spread("anonMib").max },
  fds: { from: first.fds, to: last.fds, max: spread("fds").max }, failedDeliveries: rows.reduce((n, r) => n + r.failed, 0), rebalances: rows.reduce((n, r) => n + r.rebalances, 0),
  stopMs: Math.round(stopMs),
};
if (opt.json) console.log(JSON.stringify({ summary }));
else {
  const pct = (s: { min: number; max: number; mean: number }) => `${s.mean.toFixed(0)} (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}, ${(((s.max - s.min) / s.mean) * 100).toFixed(1)}% spread)`;
  console.log(
    [
      "",
      `soak: ${opt.minutes} min at ${rate} records/s of ${opt.size} B${saturation ? ` (${(opt.fraction * 100).toFixed(0)}% of the ${Math.round(saturation)}/s saturation rate)` : ""}, ${opt.partitions} partitions, ${opt.consumers} group members, ${opt.txnRate} transactions/s`,
      `produced/s: ${pct(summary.produced)}; consumed/s: ${pct(summary.consumed)}`,
      `produce p99 ms: ${summary.produceP99.mean.toFixed(1)} (${summary.produceP99.min.toFixed(1)}-${summary.produceP99.max.toFixed(1)}); e2e p99 ms: ${summary.e2eP99.mean.toFixed(1)} (${summary.e2eP99.min.toFixed(1)}-${summary.e2eP99.max.toFixed(1)}); commit p99 ms: ${summary.commitP99.mean.toFixed(1)} (${summary.commitP99.min.toFixed(1)}-${summary.commitP99.max.toFixed(1)})`,
      `RSS MiB: minute 2 ${first.rssMib.toFixed(0)} -> minute ${last.minute} ${last.rssMib.toFixed(0)} (max ${summary.rss.max.toFixed(0)}); anonymous ${first.anonMib.toFixed(0)} -> ${last.anonMib.toFixed(0)} (max ${summary.anon.max.toFixed(0)})`,
      `open fds: minute 2 ${first.fds} -> minute ${last.minute} ${last.fds} (max ${summary.fds.max}); failed deliveries ${summary.failedDeliveries}; rebalances ${summary.rebalances}; SIGTERM stop ${summary.stopMs} ms`,
    ].join("\n"),
  );
}
