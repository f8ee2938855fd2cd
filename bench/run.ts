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
//   bun bench/run.ts compare NAME=TARGET ... [--quick]   (see bench/compare.ts: a report with charts)
//   bun bench/run.ts sessions [...]   fetch sessions with 1,000 partitions, with and without (bench/fetch-sessions.ts)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, buildClient, rdbench, startBrook as startBrookChild, watch, type Proc, type Result } from "./lib.ts";

// ---- options ----
const argv = process.argv.slice(2);
if (argv[0] === "compare") {
  await (await import("./compare.ts")).main(argv.slice(1));
  process.exit(0);
}
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
  console.error(`${msg ? `bench: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(0, 15).join("\n"));
  process.exit(msg ? 2 : 0);
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
      `listeners=${PROTOCOLS.map((p) => `${p}://127.0.0.1:0`).join(",")}`,
      "ssl.keystore.type=PEM", `ssl.keystore.location=${path.join(dir, "keystore.pem")}`, "sasl.enabled.mechanisms=SCRAM-SHA-512",
    ],
    client: (protocol) => [
      `security.protocol=${protocol}`,
      ...(protocol.endsWith("SSL") ? [`ssl.ca.location=${path.join(dir, "ca.pem")}`] : []),
      ...(protocol.startsWith("SASL") ? ["sasl.mechanisms=SCRAM-SHA-512", `sasl.username=${SASL_USER[0]}`, `sasl.password=${SASL_USER[1]}`] : []),
    ],
  };
}

// ---- one client run: phases in order, one JSON line per phase ----
interface Target {
  bootstrap: string;
  topic: string;
  /** librdkafka properties for the listener's security, before the user's -X */
  x: string[];
}

function client(bin: string, t: Target, phases: string[], records: number, broker?: Proc): Promise<Result[]> {
  const args = [
    ...(mock ? ["--mock"] : ["-b", t.bootstrap]), "-t", t.topic, "-n", String(records), "-s", String(opt.size), "-a", opt.acks,
    "-l", String(opt.lingerMs), "-p", String(opt.partitions), "-z", opt.compression, "-r", String(opt.rate),
    ...[...t.x, ...opt.x].flatMap((x) => ["-X", x]), ...phases,
  ];
  return rdbench(bin, args, broker);
}

// ---- main ----
const bin = buildClient();
const secDir = opt.security ? fs.mkdtempSync(path.join(os.tmpdir(), "brook-bench-security-")) : null;
const sec = secDir ? securitySetup(secDir) : null;
const brook = opt.bootstrap
  ? null
  : await startBrookChild({
      overrides: [...(sec?.overrides ?? []), ...opt.overrides],
      profile: opt.profile,
      dataDir: secDir ? path.join(secDir, "data") : undefined,
      listenerCount: sec ? PROTOCOLS.length : 1,
    });
const addressOf = (security: string) => brook?.addresses[sec ? PROTOCOLS.indexOf(security) : 0] ?? bootstrap;
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
      bootstrap: addressOf(security),
      topic: securities.length > 1 ? `${opt.topic}-${security.toLowerCase()}` : opt.topic,
      x: sec?.client(security) ?? [],
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
  if (secDir) fs.rmSync(secDir, { recursive: true, force: true });
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
