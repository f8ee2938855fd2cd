// Produce/fetch throughput bench. Usage:
//   bun bench/run.ts [produce|fetch|all] [--bootstrap host:port|mock] [--records N] [--size B]
//        [--acks 1] [--linger-ms 5] [--partitions 1] [--compression none] [--topic NAME]
//        [--rate R] [-X librdkafka.key=value]... [--override brook.key=value]... [--json] [--profile DIR]
//        [--broker-pid PID]   (with --bootstrap: also report that local process's CPU and RSS)
// Without --bootstrap it starts Brook (src/cli.ts, temp log dir) as a child and reports its CPU and
// peak RSS; with --bootstrap it measures whatever is there (Brook or Apache Kafka) the same way.
// `--bootstrap mock` produces into librdkafka's in-process mock broker: the client alone.
// The load comes from bench/rdbench.c (librdkafka), compiled on first use into bench/.build/.
//   bun bench/run.ts sessions [...]   fetch sessions with 1,000 partitions, with and without (bench/fetch-sessions.ts)
import { spawn, type Subprocess } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const HERE = import.meta.dir;
const ROOT = path.dirname(HERE);
const CLK_TCK = 100; // Linux USER_HZ, the unit of utime/stime in /proc/PID/stat

// ---- options ----
const argv = process.argv.slice(2);
const mode = argv[0] && !argv[0].startsWith("-") ? argv.shift()! : "all";
if (mode === "sessions") {
  // Fetch sessions with many partitions, with and without them (its own client: librdkafka has no sessions).
  const child = Bun.spawn([process.execPath, path.join(import.meta.dir, "fetch-sessions.ts"), ...argv], { stdio: ["inherit", "inherit", "inherit"] });
  process.exit(await child.exited);
}
if (!["produce", "fetch", "all"].includes(mode)) usage(`unknown mode ${mode}`);
const opt = {
  bootstrap: "", records: 2_000_000, size: 100, acks: "1", lingerMs: 5, partitions: 1,
  compression: "none", topic: "", rate: 0, json: false, profile: "", brokerPid: 0,
  x: [] as string[], overrides: [] as string[],
};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const val = () => argv[++i] ?? usage(`${a} needs a value`);
  switch (a) {
    case "--bootstrap": opt.bootstrap = val(); break;
    case "--records": opt.records = Number(val()); break;
    case "--size": opt.size = Number(val()); break;
    case "--acks": opt.acks = val(); break;
    case "--linger-ms": opt.lingerMs = Number(val()); break;
    case "--partitions": opt.partitions = Number(val()); break;
    case "--compression": opt.compression = val(); break;
    case "--topic": opt.topic = val(); break;
    case "--rate": opt.rate = Number(val()); break;
    case "-X": opt.x.push(val()); break;
    case "--override": opt.overrides.push(val()); break;
    case "--json": opt.json = true; break;
    case "--profile": opt.profile = path.resolve(val()); break;
    case "--broker-pid": opt.brokerPid = Number(val()); break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}
opt.topic ||= `bench-${opt.partitions}p-${opt.size}b-${opt.compression}`;
const mock = opt.bootstrap === "mock";

function usage(msg: string): never {
  console.error(`${msg ? `bench: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(0, 9).join("\n"));
  process.exit(msg ? 2 : 0);
}

// ---- the librdkafka client ----
function buildClient(): string {
  const src = path.join(HERE, "rdbench.c"), bin = path.join(HERE, ".build", "rdbench");
  if (fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs) return bin;
  if (!fs.existsSync("/usr/include/librdkafka/rdkafka.h")) {
    console.error("bench: librdkafka headers missing: apt-get install -y librdkafka-dev");
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  const cc = Bun.spawnSync(["gcc", "-O2", "-Wall", "-o", bin, src, "-lrdkafka"], { stderr: "inherit" });
  if (cc.exitCode !== 0) process.exit(1);
  return bin;
}

// ---- the broker process: CPU from /proc/PID/stat, memory from /proc/PID/status ----
interface Proc { pid: number; maxRss: number; maxAnon: number; sample: () => void; stop: () => void }
function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of fs.readFileSync(`/proc/${pid}/status`, "utf8").matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]) * 1024;
  } catch {} // exited
  return out;
}
function procCpu(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // the name may contain spaces
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
  } catch {
    return NaN;
  }
}

function watch(pid: number): Proc {
  // VmHWM is the kernel's peak RSS, but it counts the mapped log pages too; sample RssAnon (heap,
  // buffers) to tell them apart.
  const proc: Proc = {
    pid, maxRss: 0, maxAnon: 0,
    sample: () => {
      const s = procStatus(pid);
      proc.maxRss = Math.max(proc.maxRss, s.VmHWM ?? 0);
      proc.maxAnon = Math.max(proc.maxAnon, s.RssAnon ?? 0);
    },
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(proc.sample, 100);
  return proc;
}

async function startBrook(): Promise<{ address: string; proc: Proc; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brook-bench-"));
  const child = spawn(
    [process.execPath,
      // Bun's sampling profiler; the .md form lists self/total time per function with file:line.
      ...(opt.profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opt.profile}`, "--cpu-prof-interval=250"] : []),
      path.join(ROOT, "src/cli.ts"), "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dir}`,
      ...opt.overrides.flatMap((o) => ["--override", o])],
    { stdout: "pipe", stderr: "inherit", env: { ...process.env, BROOK_LOG_LEVEL: process.env.BROOK_LOG_LEVEL ?? "warn" } },
  );
  const address = await firstLine(child, /^brook listening on (\S+)/);
  const proc = watch(child.pid);
  return {
    address, proc,
    stop: async () => {
      proc.stop();
      child.kill("SIGTERM");
      await child.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function firstLine(child: Subprocess<"ignore", "pipe", "inherit">, re: RegExp): Promise<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of child.stdout) {
    buf += dec.decode(chunk);
    const m = re.exec(buf);
    if (m) return m[1]!;
  }
  throw new Error(`broker exited (${await child.exited}) before listening`);
}

// ---- one client run: phases in order, one JSON line per phase (plus a start marker) ----
type Result = Record<string, number | string | boolean>;
async function client(bin: string, bootstrap: string, phases: string[], records: number, broker?: Proc): Promise<Result[]> {
  const args = [
    ...(mock ? ["--mock"] : ["-b", bootstrap]), "-t", opt.topic, "-n", String(records), "-s", String(opt.size), "-a", opt.acks,
    "-l", String(opt.lingerMs), "-p", String(opt.partitions), "-z", opt.compression, "-r", String(opt.rate),
    ...opt.x.flatMap((x) => ["-X", x]), ...phases,
  ];
  const child = spawn([bin, ...args], { stdout: "pipe", stderr: "inherit" });
  const results: Result[] = [];
  let cpu0 = 0;
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of child.stdout) {
    buf += dec.decode(chunk);
    for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) {
      const r = JSON.parse(buf.slice(0, nl)) as Result;
      if (r.start) {
        if (broker) cpu0 = procCpu(broker.pid);
        continue;
      }
      if (broker && (r.phase === "produce" || r.phase === "consume")) {
        r.broker_cpu_s = procCpu(broker.pid) - cpu0;
        broker.sample();
        r.broker_peak_rss = broker.maxRss;
        r.broker_peak_anon = broker.maxAnon;
      }
      results.push(r);
    }
  }
  if ((await child.exited) !== 0) throw new Error(`rdbench ${phases.join(" ")} failed`);
  return results;
}

// ---- main ----
const bin = buildClient();
const brook = opt.bootstrap ? null : await startBrook();
const bootstrap = brook?.address ?? opt.bootstrap;
const broker = brook?.proc ?? (opt.brokerPid ? watch(opt.brokerPid) : undefined);
const target = mock ? "librdkafka mock" : brook ? `brook (child)` : bootstrap;
const rows: { bench: string; r: Result }[] = [];
try {
  console.error(`bench: ${mode} → ${target}, topic ${opt.topic}, ${opt.records} × ${opt.size} B, acks=${opt.acks}, linger.ms=${opt.lingerMs}, ` +
    `${opt.partitions} partition(s), compression=${opt.compression}${opt.rate ? `, rate ${opt.rate}/s` : ""}; ${os.cpus().length} CPUs shared by client and broker`);
  if (mode !== "fetch") {
    const res = await client(bin, bootstrap, ["create", "produce"], opt.records, broker);
    rows.push({ bench: "produce", r: res.find((r) => r.phase === "produce")! });
  }
  if (mode !== "produce") {
    if (mock) {
      console.error("bench: fetch skipped: librdkafka's mock broker keeps only ~5 MB per partition; see 'rec/client-CPU-s' for the client's cost");
    } else {
      const [, hw] = await client(bin, bootstrap, ["create", "hw"], opt.records);
      const have = Number(hw!.records);
      if (have < opt.records) {
        console.error(`bench: filling ${opt.topic} with ${opt.records - have} records`);
        const res = await client(bin, bootstrap, ["produce"], opt.records - have, broker);
        rows.push({ bench: "fetch: fill", r: res[0]! });
      }
      const res = await client(bin, bootstrap, ["consume"], opt.records, broker);
      rows.push({ bench: "fetch", r: res[0]! });
    }
  }
} finally {
  await brook?.stop();
  broker?.stop();
  if (opt.profile && brook) console.error(`bench: broker CPU profile (.cpuprofile and .md) in ${opt.profile}`);
}

if (opt.json) {
  console.log(JSON.stringify({ mode, target, options: opt, cpus: os.cpus().length, results: rows }, null, 2));
} else {
  const f = (v: unknown, d = 1) => (typeof v === "number" && v >= 0 ? v.toFixed(d) : "-");
  const mb = (v: unknown) => (typeof v === "number" && v > 0 ? (v / 2 ** 20).toFixed(0) + " MiB" : "-");
  const table = rows.map(({ bench, r }) => ({
    bench,
    records: String(r.records),
    "rec/s": Math.round(r.rps as number).toLocaleString("en-US"),
    "MB/s": f(r.mbps),
    "lat p50": f(r.p50_ms, 2),
    "lat p99": f(r.p99_ms, 2),
    "1st rec": f(r.first_record_ms, 2),
    "rtt p50": f(r.rtt_p50_ms, 2),
    "rtt p99": f(r.rtt_p99_ms, 2),
    "rtt max": f(r.rtt_max_ms, 1),
    // bytes sent / value bytes: ~1.1 uncompressed; shows whether compression was actually applied
    "wire/value": f(r.wire_ratio, 2),
    "client CPU s": f(r.cpu_s, 2),
    "rec/client-CPU-s": Math.round(Number(r.records) / Number(r.cpu_s)).toLocaleString("en-US"),
    "broker CPU s": f(r.broker_cpu_s, 2),
    "broker peak RSS": mb(r.broker_peak_rss),
    "(anon)": mb(r.broker_peak_anon),
  }));
  const cols = Object.keys(table[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...table.map((t) => (t as Record<string, string>)[c]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join("  ");
  console.log(`\n${target}: ${opt.records} × ${opt.size} B, acks=${opt.acks}, linger.ms=${opt.lingerMs}, partitions=${opt.partitions}, compression=${opt.compression}` +
    `${opt.rate ? `, rate ${opt.rate}/s` : ""} (latencies in ms)`);
  console.log(line(cols));
  for (const t of table) console.log(line(cols.map((c) => (t as Record<string, string>)[c]!)));
  console.log(
    "MB/s = record values only (size × records / s, 10^6 B). lat = produce() call → delivery report, per message.\n" +
      "1st rec = fetch: assign() → first record. rtt = librdkafka's request round trip to the leader\n" +
      "(Produce resp. Fetch requests), count-weighted over 200 ms statistics windows. Peak RSS (VmHWM) includes mapped log pages.\n" +
      "wire/value = bytes the producer sent / value bytes (~1.1 means uncompressed).",
  );
}
