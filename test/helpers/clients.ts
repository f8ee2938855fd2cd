// Stock Kafka clients driven from the tests: kcat, and librdkafka (confluent_kafka) and kafka-python
// through the scripts in test/clients/, run with the Debian interpreter /usr/bin/python3 (the python3
// on PATH may be a pyenv without these modules). scripts/ensure-test-tools.sh installs them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./broker.ts";
import { describeFailure, jsonLines, run, type RunResult } from "./run.ts";

export const PYTHON = "/usr/bin/python3";
export const CLIENTS_DIR = join(REPO_ROOT, "test", "clients");
const PY_ENV = { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1", PYTHONPATH: CLIENTS_DIR };

let toolsChecked: Promise<void> | undefined;
/** Throws a clear error if kcat or the Python clients are missing. */
export function requireTools(): Promise<void> {
  toolsChecked ??= (async () => {
    const missing: string[] = [];
    if (!Bun.which("kcat")) missing.push("kcat");
    if (!existsSync(PYTHON)) missing.push(PYTHON);
    else {
      const r = await run([PYTHON, "-c", "import confluent_kafka, kafka"], { timeoutMs: 20_000 });
      if (r.exitCode !== 0) missing.push(`python modules confluent_kafka/kafka (${r.stderr.trim()})`);
    }
    if (missing.length > 0)
      throw new Error(`missing test tools: ${missing.join(", ")} — run scripts/ensure-test-tools.sh`);
  })();
  return toolsChecked;
}

export interface ScriptResult<T = any> {
  run: RunResult;
  /** Every JSON line except the summary. */
  lines: T[];
  summary: any;
}

/** Runs test/clients/<script> with `input` as JSON on stdin; parses its JSON lines. */
export async function pyScript<T = any>(
  script: string,
  input: object,
  opts: { timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<ScriptResult<T>> {
  const r = await run([PYTHON, join(CLIENTS_DIR, script)], {
    stdin: input,
    timeoutMs: opts.timeoutMs ?? 45_000,
    env: PY_ENV,
  });
  if (!opts.allowFailure && (r.exitCode !== 0 || r.timedOut)) throw new Error(describeFailure(r));
  let all: any[];
  try {
    all = jsonLines(r.stdout);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${describeFailure(r)}`);
  }
  return {
    run: r,
    lines: all.filter((l) => !("summary" in l)) as T[],
    summary: all.find((l) => "summary" in l)?.summary,
  };
}

/** Spawns a client script that streams its JSON lines (the crash test reads them while it runs). */
export function spawnPyScript(script: string, input: object) {
  return Bun.spawn([PYTHON, join(CLIENTS_DIR, script)], {
    stdin: new Blob([JSON.stringify(input)]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...PY_ENV } as Record<string, string>,
  });
}

// ---- message shapes the scripts print -----------------------------------------------------------

export interface Delivery {
  i: number;
  topic: string;
  partition: number;
  offset: number;
  key?: string | null;
  value?: string | null;
  timestamp?: [number, number] | number;
  error: null | { code: number; name: string; str: string } | string;
}

export interface Consumed {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
  timestamp: number;
  tstype: number;
}

export interface OutMessage {
  key?: string | null;
  value?: string | null;
  headers?: [string, string | null][];
  partition?: number;
  timestamp?: number;
}

export const confluentProduce = (input: object, opts?: { timeoutMs?: number; allowFailure?: boolean }) =>
  pyScript<Delivery>("confluent_produce.py", input, opts);
export const confluentConsume = (input: object, opts?: { timeoutMs?: number; allowFailure?: boolean }) =>
  pyScript<Consumed>("confluent_consume.py", input, opts);
export const confluentQuery = (input: object, opts?: { timeoutMs?: number }) =>
  pyScript("confluent_query.py", input, opts);
export const kafkaPythonProduce = (input: object, opts?: { timeoutMs?: number; allowFailure?: boolean }) =>
  pyScript<Delivery>("kafka_python_produce.py", input, opts);
export const kafkaPythonConsume = (input: object, opts?: { timeoutMs?: number; allowFailure?: boolean }) =>
  pyScript<Consumed>("kafka_python_consume.py", input, opts);
export const kafkaPythonQuery = (input: object, opts?: { timeoutMs?: number }) =>
  pyScript("kafka_python_query.py", input, opts);

// ---- kcat ---------------------------------------------------------------------------------------

export async function kcat(args: string[], opts: { stdin?: string; timeoutMs?: number; allowFailure?: boolean } = {}) {
  const r = await run(["kcat", ...args], { stdin: opts.stdin, timeoutMs: opts.timeoutMs ?? 30_000 });
  if (!opts.allowFailure && (r.exitCode !== 0 || r.timedOut)) throw new Error(describeFailure(r));
  return r;
}

/** What `kcat -C -J` prints per message. */
export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  broker: number;
  /** Alternating key, value, key, value… (absent when the message has no headers). */
  headers?: (string | null)[];
  key: string | null;
  payload: string | null;
}

/** Reads a topic (or one partition) from the beginning to the current end: kcat -C -e -J -o beginning. */
export async function kcatConsume(
  address: string,
  topic: string,
  opts: { partition?: number; offset?: string | number; extra?: string[]; timeoutMs?: number } = {},
): Promise<KcatMessage[]> {
  const args = ["-b", address, "-C", "-e", "-J", "-o", String(opts.offset ?? "beginning"), "-t", topic, "-q"];
  if (opts.partition !== undefined) args.push("-p", String(opts.partition));
  const r = await kcat([...args, ...(opts.extra ?? [])], { timeoutMs: opts.timeoutMs });
  return jsonLines<KcatMessage>(r.stdout);
}

/** kcat's alternating header array as [key, value] pairs. */
export function kcatHeaders(m: KcatMessage): [string, string | null][] {
  const h = m.headers ?? [];
  const out: [string, string | null][] = [];
  for (let i = 0; i < h.length; i += 2) out.push([h[i] as string, h[i + 1] ?? null]);
  return out;
}

/** kcat -L -J: the cluster metadata as JSON. */
export async function kcatMetadata(address: string, topic?: string) {
  const args = ["-b", address, "-L", "-J"];
  if (topic) args.push("-t", topic);
  const r = await kcat(args);
  return JSON.parse(r.stdout) as {
    originating_broker: { id: number; name: string };
    query: { topic: string };
    controllerid?: number;
    brokers: { id: number; name: string }[];
    topics: { topic: string; error?: string; partitions: { partition: number; leader: number; error?: string; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
  };
}

/** Groups consumed messages by key, preserving order, for per-key order assertions. */
export function byKey<T extends { key?: string | null }>(msgs: T[]): Map<string | null, T[]> {
  const m = new Map<string | null, T[]>();
  for (const x of msgs) {
    const k = x.key ?? null;
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(x);
  }
  return m;
}
