// Running external processes (kcat, /usr/bin/python3 clients) without blocking the event loop.
//
// Always asynchronous: some tests run the broker in this very process, and a spawnSync would freeze it
// while the client waits for it.

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. Objects are JSON-encoded. */
  stdin?: string | Uint8Array | object;
  /** Kill the child (SIGKILL) after this long; the result then has timedOut = true. Default 30 s. */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface RunResult {
  cmd: string[];
  exitCode: number | null;
  signalCode: NodeJS.Signals | number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const stdinBytes =
    opts.stdin === undefined
      ? undefined
      : typeof opts.stdin === "string" || opts.stdin instanceof Uint8Array
        ? opts.stdin
        : JSON.stringify(opts.stdin);
  const proc = Bun.spawn(cmd, {
    stdin: stdinBytes === undefined ? "ignore" : new Blob([stdinBytes]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env } as Record<string, string>,
    cwd: opts.cwd,
  });
  let timedOut = false;
  // A watchdog, not a synchronisation: it only fires if the child hangs.
  const watchdog = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 30_000);
  try {
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { cmd, exitCode: proc.exitCode, signalCode: proc.signalCode, stdout, stderr, timedOut };
  } finally {
    clearTimeout(watchdog);
  }
}

/** Like run(), but throws (with stdout/stderr in the message) unless the child exits 0. */
export async function runOk(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, opts);
  if (r.exitCode !== 0 || r.timedOut) throw new Error(describeFailure(r));
  return r;
}

export function describeFailure(r: RunResult): string {
  return [
    `command failed: ${r.cmd.join(" ")}`,
    `exit=${r.exitCode} signal=${r.signalCode} timedOut=${r.timedOut}`,
    `--- stdout ---\n${tail(r.stdout)}`,
    `--- stderr ---\n${tail(r.stderr)}`,
  ].join("\n");
}

function tail(s: string, max = 6000): string {
  return s.length > max ? `…${s.slice(-max)}` : s;
}

/** Parses JSON lines (blank lines skipped). */
export function jsonLines<T = any>(text: string): T[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      try {
        return JSON.parse(l) as T;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

/** Splits a byte stream into text lines as they arrive. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl).replace(/\r$/, "");
      buffered = buffered.slice(nl + 1);
    }
  }
  buffered += decoder.decode();
  if (buffered.length > 0) yield buffered;
}
