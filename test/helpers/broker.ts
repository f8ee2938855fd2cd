// The broker as a child process, started through its CLI exactly as a user would:
//   bun src/cli.ts --override listeners=PLAINTEXT://127.0.0.1:0 --override log.dirs=DIR ...
// Readiness is the CLI's one line "brook listening on HOST:PORT" on stdout: we read stdout and wait
// for that line (no sleeps).
import { join, resolve } from "node:path";
import { readLines } from "./run.ts";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
export const CLI = join(REPO_ROOT, "src", "cli.ts");
const LISTENING = /^brook listening on (\S+):(\d+)\s*$/;

export interface SpawnBrokerOptions {
  dataDir: string;
  /** Kafka properties, passed as --override key=value (listeners and log.dirs are filled in). */
  overrides?: Record<string, string | number | boolean>;
  env?: Record<string, string | undefined>;
  /** Give up (and kill the child) if it has not printed the listening line by then. Default 30 s. */
  startTimeoutMs?: number;
  /** What to run instead of `bun src/cli.ts` (e.g. the compiled dist/brook); the overrides follow it. */
  command?: string[];
  /** The child's working directory (default: the repository root). */
  cwd?: string;
  /** With several listeners: wait for this many listening lines (default 1). */
  listenerCount?: number;
}

export interface SpawnedBroker extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** "HOST:PORT", usable as bootstrap.servers. */
  readonly address: string;
  /** every listening line's "HOST:PORT", in order (as many as listenerCount asked for) */
  readonly addresses: string[];
  readonly dataDir: string;
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves with the exit code (null when killed by a signal) once the child has exited. */
  readonly exited: Promise<number | null>;
  /** Everything the child printed so far. */
  output(): { stdout: string; stderr: string };
  /** Sends a signal and waits for the child to exit. */
  kill(signal?: NodeJS.Signals | number): Promise<number | null>;
  /** SIGTERM, then wait; SIGKILL if it has not exited within graceMs. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

// Safety net: if the test process exits (a hook timed out, a test threw before its cleanup), take
// every broker it started down with it.
const live = new Set<Bun.Subprocess>();
process.on("exit", () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});

export async function spawnBroker(opts: SpawnBrokerOptions): Promise<SpawnedBroker> {
  const props: Record<string, string> = {
    listeners: "PLAINTEXT://127.0.0.1:0",
    "log.dirs": opts.dataDir,
  };
  for (const [k, v] of Object.entries(opts.overrides ?? {})) props[k] = String(v);
  const args = Object.entries(props).flatMap(([k, v]) => ["--override", `${k}=${v}`]);

  const proc = Bun.spawn([...(opts.command ?? [process.execPath, CLI]), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env } as Record<string, string>,
  });

  live.add(proc);
  let stdout = "";
  let stderr = "";
  const exited: Promise<number | null> = proc.exited.then(() => {
    live.delete(proc);
    return proc.exitCode;
  });

  // Keep draining both pipes for the child's whole life, so it never blocks on a full pipe.
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })().catch(() => {});

  const wanted = opts.listenerCount ?? 1;
  const addresses: string[] = [];
  const listening = new Promise<{ host: string; port: number }>((resolveListening, reject) => {
    (async () => {
      let found = false;
      let first: { host: string; port: number } | undefined;
      for await (const line of readLines(proc.stdout)) {
        stdout += line + "\n";
        const m = !found ? LISTENING.exec(line) : null;
        if (m) {
          first ??= { host: m[1]!, port: Number(m[2]) };
          addresses.push(`${m[1]}:${m[2]}`);
          if (addresses.length >= wanted) {
            found = true;
            resolveListening(first);
          }
        }
      }
      if (!found) {
        await exited;
        await stderrDone;
        reject(
          new Error(
            `broker exited (code ${proc.exitCode}, signal ${proc.signalCode}) before printing "brook listening on"\n` +
              `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
          ),
        );
      }
    })().catch(reject);
  });

  // A watchdog, not a synchronisation: only fires if the broker never becomes ready.
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    watchdog = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`broker did not print "brook listening on" within ${startTimeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    }, startTimeoutMs);
  });

  let where: { host: string; port: number };
  try {
    where = await Promise.race([listening, timeout]);
  } catch (err) {
    proc.kill("SIGKILL");
    await exited;
    throw err;
  } finally {
    clearTimeout(watchdog);
  }

  const kill = async (signal: NodeJS.Signals | number = "SIGKILL") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  const stop = async (graceMs = 5_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill("SIGTERM");
    let t: ReturnType<typeof setTimeout> | undefined;
    const forced = new Promise<void>((r) => {
      t = setTimeout(() => {
        proc.kill("SIGKILL");
        r();
      }, graceMs);
    });
    await Promise.race([exited, forced]);
    clearTimeout(t);
    return exited;
  };

  return {
    host: where.host,
    port: where.port,
    address: `${where.host}:${where.port}`,
    addresses,
    dataDir: opts.dataDir,
    proc,
    exited,
    output: () => ({ stdout, stderr }),
    kill,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
