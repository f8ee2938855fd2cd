// Produce/fetch throughput bench. Usage:
//   bun bench/run.ts [produce|fetch|all] [--bootstrap host:port|mock] [--records N] [--size B]
//        [--acks 1] [--linger-ms 5] [--partitions 1] [--compression none] [--topic NAME]
//        [--rate R] [-X librdkafka.key=value]... [--override brook.key=value]... [--json] [--profile DIR]
//        [--broker-pid PID]   (with --bootstrap: also report that local process's CPU and RSS)
//        [--security PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL|compare]
// --security (with the broker the bench starts): the client connects over that listener; Brook gets a
// throwaway CA and certificate (openssl) and a SCRAM-SHA-512 user for SASL. "compare" runs the same
// produce/fetch over PLAINTEXT, SSL and SASL_SSL in one session, side by side.
// Without --bootstrap it starts Brook (src/cli.ts, temp log dir) as a child and reports its CPU and
// peak RSS; with --bootstrap it measures whatever is there (Brook or Apache Kafka) the same way.
// `--bootstrap mock` produces into librdkafka's in-process mock broker: the client alone.
// The load comes from bench/rdbench.c (librdkafka), compiled on first use into bench/.build/.
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
if (!["produce", "fetch", "all"].includes(mode)) usage(`unknown mode ${mode}`);
const opt = {
  bootstrap: "", records: 2_000_000, size: 100, acks: "1", lingerMs: 5, partitions: 1,
  compression: "none", topic: "", rate: 0, json: false, profile: "", brokerPid: 0,
  x: [] as string[], overrides: [] as string[], security: "",
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
    case "--security": opt.security = val().toUpperCase(); break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}
opt.topic ||= `bench-${opt.partitions}p-${opt.size}b-${opt.compression}`;
const mock = opt.bootstrap === "mock";
const PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
if (opt.security && opt.security !== "COMPARE" && !PROTOCOLS.includes(opt.security)) usage(`unknown --security ${opt.security}`);
if (opt.security && (opt.bootstrap || opt.profile)) usage("--security works with the broker the bench starts (no --bootstrap, no --profile)");
const securities = opt.security === "COMPARE" ? ["PLAINTEXT", "SSL", "SASL_SSL"] : [opt.security || "PLAINTEXT"];

function usage(msg: string): never {
  console.error(`${msg ? `bench: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(0, 13).join("\n"));
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

const SASL_USER = ["bench", "bench-secret"] as const;

/** A CA and a broker certificate for 127.0.0.1, a SCRAM user, and the listeners for --security. */
function securitySetup(dir: string): { overrides: string[]; client: (protocol: string) => string[] } {
  const sh = (args: string[]) => {
    const r = Bun.spawnSync(args, { cwd: dir, stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString()}`);
  };
  sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=bench CA"]);
  sh(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost"]);
  fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  sh(["openssl", "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "broker.pem", "-days", "1", "-extfile", "san.ext"]);
  fs.writeFileSync(path.join(dir, "keystore.pem"), fs.readFileSync(path.join(dir, "broker.key"), "utf8") + fs.readFileSync(path.join(dir, "broker.pem"), "utf8"));
  sh([process.execPath, path.join(ROOT, "src/cli.ts"), "users", "--log-dir", path.join(dir, "data"), "--alter", "--entity-name", SASL_USER[0],
    "--add-config", `SCRAM-SHA-512=[password=${SASL_USER[1]}]`]);
  return {
    overrides: [
      `listeners=${PROTOCOLS.map((p) => `${p}://127.0.0.1:0`).join(",")}`, `log.dirs=${path.join(dir, "data")}`,
      "ssl.keystore.type=PEM", `ssl.keystore.location=${path.join(dir, "keystore.pem")}`, "sasl.enabled.mechanisms=SCRAM-SHA-512",
    ],
    client: (protocol) => [
      `security.protocol=${protocol}`,
      ...(protocol.endsWith("SSL") ? [`ssl.ca.location=${path.join(dir, "ca.pem")}`] : []),
      ...(protocol.startsWith("SASL") ? ["sasl.mechanisms=SCRAM-SHA-512", `sasl.username=${SASL_USER[0]}`, `sasl.password=${SASL_USER[1]}`] : []),
    ],
  };
}

async function startBrook(): Promise<{ address: string; addresses: Record<string, string>; clientX: (protocol: string) => string[]; proc: Proc; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brook-bench-"));
  const sec = opt.security ? securitySetup(dir) : null;
  const child = spawn(
    [process.execPath,
      // Bun's sampling profiler; the .md form lists self/total time per function with file:line.
      ...(opt.profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opt.profile}`, "--cpu-prof-interval=250"] : []),
      path.join(ROOT, "src/cli.ts"),
      ...(sec ? sec.overrides : ["listeners=PLAINTEXT://127.0.0.1:0", `log.dirs=${dir}`]).flatMap((o) => ["--override", o]),
      ...opt.overrides.flatMap((o) => ["--override", o])],
    { stdout: "pipe", stderr: "inherit", env: { ...process.env, BROOK_LOG_LEVEL: process.env.BROOK_LOG_LEVEL ?? "warn" } },
  );
  const lines = await listeningLines(child, sec ? PROTOCOLS.length : 1);
  const addresses = Object.fromEntries(lines.map((a, i) => [sec ? PROTOCOLS[i]! : "PLAINTEXT", a]));
  const proc = watch(child.pid);
  return {
    address: lines[0]!, addresses, clientX: (p) => sec?.client(p) ?? [], proc,
    stop: async () => {
      proc.stop();
      child.kill("SIGTERM");
      await child.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The addresses of the first n "brook listening on" lines (one per listener, in listener order). */
async function listeningLines(child: Subprocess<"ignore", "pipe", "inherit">, n: number): Promise<string[]> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of child.stdout) {
    buf += dec.decode(chunk);
    const found = [...buf.matchAll(/^brook listening on (\S+)$/gm)].map((m) => m[1]!);
    if (found.length >= n) return found.slice(0, n);
  }
  throw new Error(`broker exited (${await child.exited}) before listening`);
}

// ---- one client run: phases in order, one JSON line per phase (plus a start marker) ----
type Result = Record<string, number | string | boolean>;
interface Target {
  bootstrap: string;
  topic: string;
  /** librdkafka properties for the listener's security, before the user's -X */
  x: string[];
}

async function client(bin: string, t: Target, phases: string[], records: number, broker?: Proc): Promise<Result[]> {
  const args = [
    ...(mock ? ["--mock"] : ["-b", t.bootstrap]), "-t", t.topic, "-n", String(records), "-s", String(opt.size), "-a", opt.acks,
    "-l", String(opt.lingerMs), "-p", String(opt.partitions), "-z", opt.compression, "-r", String(opt.rate),
    ...[...t.x, ...opt.x].flatMap((x) => ["-X", x]), ...phases,
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
  for (const security of securities) {
    const label = opt.security ? ` ${security}` : "";
    const t: Target = {
      bootstrap: brook?.addresses[security] ?? bootstrap,
      topic: securities.length > 1 ? `${opt.topic}-${security.toLowerCase()}` : opt.topic,
      x: brook?.clientX(security) ?? [],
    };
    if (mode !== "fetch") {
      const res = await client(bin, t, ["create", "produce"], opt.records, broker);
      rows.push({ bench: `produce${label}`, r: res.find((r) => r.phase === "produce")! });
    }
    if (mode !== "produce") {
      if (mock) {
        console.error("bench: fetch skipped: librdkafka's mock broker keeps only ~5 MB per partition; see 'rec/client-CPU-s' for the client's cost");
      } else {
        const [, hw] = await client(bin, t, ["create", "hw"], opt.records);
        const have = Number(hw!.records);
        if (have < opt.records) {
          console.error(`bench: filling ${t.topic} with ${opt.records - have} records`);
          const res = await client(bin, t, ["produce"], opt.records - have, broker);
          rows.push({ bench: `fetch: fill${label}`, r: res[0]! });
        }
        const res = await client(bin, t, ["consume"], opt.records, broker);
        rows.push({ bench: `fetch${label}`, r: res[0]! });
      }
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
