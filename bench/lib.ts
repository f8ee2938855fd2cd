// Shared by the bench/ scripts: the librdkafka clients (bench/rdbench.c, bench/soak.c, compiled on first
// use), a Brook child process from any source tree, and its CPU and memory read from /proc.
import { spawn, type Subprocess } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const HERE = import.meta.dir;
export const ROOT = path.dirname(HERE);
const CLK_TCK = 100; // Linux USER_HZ, the unit of utime/stime in /proc/PID/stat

export type Result = Record<string, number | string | boolean>;

/** Compiles bench/NAME.c (a librdkafka client) into bench/.build/NAME unless that is newer. */
export function buildClient(name = "rdbench"): string {
  const src = path.join(HERE, `${name}.c`), bin = path.join(HERE, ".build", name);
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

// ---- a process's CPU from /proc/PID/stat, memory from /proc/PID/status ----
export interface Proc { pid: number; maxRss: number; maxAnon: number; sample: () => void; stop: () => void }

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of fs.readFileSync(`/proc/${pid}/status`, "utf8").matchAll(/^(\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]) * 1024;
  } catch {} // exited
  return out;
}

export function procCpu(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // the name may contain spaces
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime, stime
  } catch {
    return NaN;
  }
}

export function watch(pid: number): Proc {
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

export interface BrookChild {
  /** the first listener */
  address: string;
  /** every listener, in the order of its "brook listening on" line */
  addresses: string[];
  proc: Proc;
  stop: () => Promise<void>;
}

/** Starts src/cli.ts of `root` (this tree or another commit's) on port 0 with a temp log dir. */
export async function startBrook(
  opts: { root?: string; overrides?: string[]; profile?: string; dataDir?: string; listenerCount?: number } = {},
): Promise<BrookChild> {
  const root = opts.root ?? ROOT;
  const dir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "brook-bench-"));
  const child = spawn(
    [process.execPath,
      // Bun's sampling profiler; the .md form lists self/total time per function with file:line.
      ...(opts.profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opts.profile}`, "--cpu-prof-interval=250"] : []),
      path.join(root, "src/cli.ts"), "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dir}`,
      ...(opts.overrides ?? []).flatMap((o) => ["--override", o])],
    { cwd: root, stdout: "pipe", stderr: "inherit", env: { ...process.env, BROOK_LOG_LEVEL: process.env.BROOK_LOG_LEVEL ?? "warn" } },
  );
  const addresses = await listeningLines(child, opts.listenerCount ?? 1);
  const proc = watch(child.pid);
  return {
    address: addresses[0]!, addresses, proc,
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

/**
 * Runs rdbench with `args` (options, then phases): one JSON line per phase. With `broker`, the produce,
 * consume and e2e lines get the broker's CPU seconds over that phase and its peak memory.
 */
export async function rdbench(bin: string, args: string[], broker?: Proc, quiet = false): Promise<Result[]> {
  const child = spawn([bin, ...args], { stdout: "pipe", stderr: quiet ? "pipe" : "inherit" });
  const stderr = quiet ? new Response(child.stderr as ReadableStream).text() : Promise.resolve("");
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
      if (broker && (r.phase === "produce" || r.phase === "consume" || r.phase === "e2e")) {
        r.broker_cpu_s = procCpu(broker.pid) - cpu0;
        broker.sample();
        r.broker_peak_rss = broker.maxRss;
        r.broker_peak_anon = broker.maxAnon;
      }
      results.push(r);
    }
  }
  if ((await child.exited) !== 0) {
    const err = (await stderr).split("\r").pop()?.trim();
    throw new Error(`rdbench ${args.filter((a) => /^[a-z0-9]+$/.test(a)).slice(-3).join(" ")} failed${err ? `: ${err}` : ""}`);
  }
  return results;
}
