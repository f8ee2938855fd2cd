// Restart bench: how long Brook takes to come back with a lot of data, and to stop.
//   bun bench/restart.ts [--partitions 10000] [--gib 20] [--batch-kib 16] [--segment-mib 1024]
//        [--dir DIR] [--keep] [--reuse] [--drop-caches] [--json]
// 1. fill: an in-process broker creates one topic with N partitions and appends M bytes to each through
//    the log (valid v2 batches of --batch-kib, records of 1 KiB), then stops cleanly;
// 2. the broker is started through its CLI, as a user would (`bun src/cli.ts`), and timed until it
//    prints "brook listening on": empty log dir first (the baseline), then the filled one, clean;
//    the RSS right after listening is compared with the empty broker's, and again once the quiet
//    broker's memory trim had its chance (the bench sets brook.memory.trim.interval.ms to 5 s);
// 3. SIGTERM, timed until exit: once right after the start, once after a batch was produced to every
//    partition (every active segment has unsynced data);
// 4. kill -9 while a client produces to every partition, then a start timed to "brook listening on"
//    (recovery), and a check that every acknowledged batch is there.
// --drop-caches repeats the clean start with the page cache dropped (root only; affects the machine).
// The data stays in --dir with --keep (and --reuse skips the fill when it is there).
import { spawn } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Produce } from "../protocol/apis/00-produce.ts";
import { ListOffsets } from "../protocol/apis/02-list-offsets.ts";
import { encodeBatch } from "../protocol/records/records.ts";
import { startBroker } from "../src/broker.ts";
import { KafkaClient } from "../src/client.ts";

const ROOT = path.dirname(import.meta.dir);
const TOPIC = "restart-bench";

const argv = process.argv.slice(2);
const opt = { partitions: 10_000, gib: 20, batchKib: 16, segmentMib: 1024, dir: "", keep: false, reuse: false, dropCaches: false, json: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const val = () => argv[++i] ?? usage(`${a} needs a value`);
  switch (a) {
    case "--partitions": opt.partitions = Number(val()); break;
    case "--gib": opt.gib = Number(val()); break;
    case "--batch-kib": opt.batchKib = Number(val()); break;
    case "--segment-mib": opt.segmentMib = Number(val()); break;
    case "--dir": opt.dir = path.resolve(val()); break;
    case "--keep": opt.keep = true; break;
    case "--reuse": opt.reuse = true; opt.keep = true; break;
    case "--drop-caches": opt.dropCaches = true; break;
    case "--json": opt.json = true; break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}

function usage(msg: string): never {
  console.error(`${msg ? `restart bench: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(0, 16).join("\n"));
  process.exit(msg ? 2 : 0);
}

const dir = opt.dir || fs.mkdtempSync(path.join(os.tmpdir(), "brook-restart-"));
const totalBytes = opt.gib * 2 ** 30;
const perPartition = Math.floor(totalBytes / opt.partitions);
// A short trim interval so the bench can see the memory a quiet broker keeps after loading (default 30 s).
const TRIM_MS = 5000;
const overrides = { "log.segment.bytes": String(opt.segmentMib << 20), "auto.create.topics.enable": "false", "brook.memory.trim.interval.ms": String(TRIM_MS) };
const log = (m: string) => console.error(`restart bench: ${m}`);
const results: Record<string, number | string> = {};

function batchTemplate(bytes: number, ts: number): Uint8Array {
  const records = Math.max(1, Math.round(bytes / 1100));
  const value = new Uint8Array(Math.max(1, Math.floor(bytes / records) - 40)).fill(97);
  return encodeBatch({ records: Array.from({ length: records }, (_, i) => ({ key: `k${i}`, value, timestamp: ts })) });
}

// ---- 1. fill --------------------------------------------------------------------------------------
async function fill(): Promise<void> {
  const t0 = performance.now();
  const b = await startBroker({ dataDir: dir, logLevel: "warn", overrides });
  const topic = b.broker.topics.get(TOPIC) ?? b.broker.topics.create(TOPIC, opt.partitions);
  log(`filling ${opt.partitions} partitions with ${(perPartition / 2 ** 20).toFixed(1)} MiB each (${opt.gib} GiB) in ${dir}`);
  const template = batchTemplate(opt.batchKib << 10, Date.now());
  let written = 0, lastReport = performance.now();
  for (const p of topic.partitions) {
    for (let n = 0; n < perPartition; n += template.length) {
      p.log.append(template);
      written += template.length;
    }
    // Let the broker's background work (checkpoints) run, as it would between requests.
    if (p.index % 50 === 49) await new Promise((r) => setImmediate(r));
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      log(`  ${(written / 2 ** 30).toFixed(1)} GiB, ${p.index + 1} partitions, ${((written / 2 ** 20) / ((lastReport - t0) / 1000)).toFixed(0)} MiB/s`);
    }
  }
  const tClose = performance.now();
  await b.close();
  results.fill_s = +((performance.now() - t0) / 1000).toFixed(1);
  results.fill_close_in_process_s = +((performance.now() - tClose) / 1000).toFixed(2);
  log(`filled ${(written / 2 ** 30).toFixed(1)} GiB in ${results.fill_s} s (in-process close ${results.fill_close_in_process_s} s)`);
}

// ---- the CLI broker ----------------------------------------------------------------------------------
interface Child {
  proc: ReturnType<typeof spawn>;
  address: string;
  startMs: number;
  stderr: () => string;
  /** settles once stderr is read to its end */
  stderrDone: Promise<void>;
}

async function startCli(dataDir: string): Promise<Child> {
  const t0 = performance.now();
  const proc = spawn(
    [process.execPath, path.join(ROOT, "src/cli.ts"), "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dataDir}`,
      ...Object.entries(overrides).flatMap(([k, v]) => ["--override", `${k}=${v}`])],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, BROOK_LOG_LEVEL: "info" } },
  );
  let err = "";
  const stderrDone = (async () => {
    const dec = new TextDecoder();
    for await (const c of proc.stderr as ReadableStream<Uint8Array>) err += dec.decode(c);
  })();
  const dec = new TextDecoder();
  let out = "";
  for await (const c of proc.stdout as ReadableStream<Uint8Array>) {
    out += dec.decode(c);
    const m = /brook listening on (\S+)/.exec(out);
    if (m) return { proc, address: m[1]!, startMs: performance.now() - t0, stderr: () => err, stderrDone };
  }
  throw new Error(`broker exited (${await proc.exited}) before listening:\n${err}`);
}

function rss(pid: number, field = "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

function fds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function maps(pid: number): number {
  return fs.readFileSync(`/proc/${pid}/maps`, "utf8").split("\n").length - 1;
}

async function stop(c: Child, signal: "SIGTERM" | "SIGKILL"): Promise<number> {
  const t0 = performance.now();
  c.proc.kill(signal);
  const code = await c.proc.exited;
  const ms = performance.now() - t0;
  await c.stderrDone;
  if (signal === "SIGTERM" && code !== 0) throw new Error(`broker exited with ${code} on SIGTERM:\n${c.stderr()}`);
  return ms;
}

const mib = (n: number) => +(n / 2 ** 20).toFixed(1);
const loadLine = (c: Child) => /loaded .* in \d+ ms/.exec(c.stderr())?.[0] ?? "";
/** What the broker said about its stop: the logs' and log dirs' share, and its own total. */
const stopLines = (c: Child) =>
  [/closed \d+ logs in .*/.exec(c.stderr())?.[0], /broker stopped in \d+ ms/.exec(c.stderr())?.[0]].filter(Boolean).join("; ");

async function produceToAll(address: string, untilStopped: { stop: boolean } | null, acked: Map<number, number> | null): Promise<number> {
  await using client = await KafkaClient.connect(address);
  const template = batchTemplate(opt.batchKib << 10, Date.now());
  let requests = 0;
  const perRequest = 500;
  do {
    for (let from = 0; from < opt.partitions; from += perRequest) {
      const partitionData = [];
      for (let p = from; p < Math.min(opt.partitions, from + perRequest); p++) partitionData.push({ index: p, records: template });
      const res = await client.request(Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData }] });
      for (const pr of res.responses[0]!.partitionResponses) if (pr.errorCode === 0 && acked) acked.set(pr.index, pr.baseOffset);
      requests++;
      if (untilStopped?.stop) return requests;
    }
  } while (untilStopped && !untilStopped.stop);
  return requests;
}

async function logEndOffsets(address: string): Promise<Map<number, number>> {
  await using client = await KafkaClient.connect(address);
  const res = await client.request(ListOffsets, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: TOPIC, partitions: Array.from({ length: opt.partitions }, (_, i) => ({ partitionIndex: i, currentLeaderEpoch: -1, timestamp: -1 })) }],
  });
  return new Map(res.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.offset)]));
}

// ---- main -----------------------------------------------------------------------------------------
try {
  const filled = opt.reuse && fs.existsSync(path.join(dir, "brook-topics.json"));
  if (!filled) await fill();
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "brook-restart-empty-"));
  try {
    const e = await startCli(empty);
    results.empty_start_ms = Math.round(e.startMs);
    results.empty_rss_mib = mib(rss(e.proc.pid));
    results.empty_anon_mib = mib(rss(e.proc.pid, "RssAnon"));
    results.empty_stop_ms = Math.round(await stop(e, "SIGTERM"));
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
  log(`empty broker: listening after ${results.empty_start_ms} ms, RSS ${results.empty_rss_mib} MiB, SIGTERM stop ${results.empty_stop_ms} ms`);

  // 2. clean start with the data; 3. SIGTERM right away
  let c = await startCli(dir);
  results.clean_start_ms = Math.round(c.startMs);
  results.clean_rss_mib = mib(rss(c.proc.pid));
  results.clean_fds = fds(c.proc.pid);
  results.clean_maps = maps(c.proc.pid);
  results.clean_anon_mib = mib(rss(c.proc.pid, "RssAnon"));
  log(`clean start: listening after ${results.clean_start_ms} ms, RSS ${results.clean_rss_mib} MiB (anonymous ${results.clean_anon_mib}), ${results.clean_fds} fds, ${results.clean_maps} mappings (${loadLine(c)})`);
  // Left alone, the broker returns what loading the catalogue allocated (src/memory-trim.ts).
  const quietUntil = Date.now() + 3 * TRIM_MS;
  while (Date.now() < quietUntil && !/returned \d+ MiB to the OS/.test(c.stderr())) await Bun.sleep(100); // waits on a log line
  results.quiet_rss_mib = mib(rss(c.proc.pid));
  results.quiet_anon_mib = mib(rss(c.proc.pid, "RssAnon"));
  log(`quiet after the clean start: RSS ${results.quiet_rss_mib} MiB (anonymous ${results.quiet_anon_mib})${/returned .*/.exec(c.stderr())?.[0] ? `; ${/returned [^\n]*/.exec(c.stderr())![0]}` : ""}`);
  results.idle_stop_ms = Math.round(await stop(c, "SIGTERM"));
  log(`SIGTERM right after the start: stopped in ${results.idle_stop_ms} ms (${stopLines(c)})`);

  // 3b. a batch to every partition, then SIGTERM
  c = await startCli(dir);
  const roundStart = performance.now();
  await produceToAll(c.address, null, null);
  results.produce_round_ms = Math.round(performance.now() - roundStart);
  results.after_produce_fds = fds(c.proc.pid);
  results.after_produce_maps = maps(c.proc.pid);
  results.dirty_stop_ms = Math.round(await stop(c, "SIGTERM"));
  log(`SIGTERM after a ${opt.batchKib} KiB batch to each of ${opt.partitions} partitions (${results.after_produce_fds} fds): stopped in ${results.dirty_stop_ms} ms (${stopLines(c)})`);

  if (opt.dropCaches) {
    fs.writeFileSync("/proc/sys/vm/drop_caches", "3");
    c = await startCli(dir);
    results.cold_start_ms = Math.round(c.startMs);
    log(`clean start with the page cache dropped: listening after ${results.cold_start_ms} ms (${loadLine(c)})`);
    await stop(c, "SIGTERM");
  }

  // 4. kill -9 while producing to every partition, then recovery
  c = await startCli(dir);
  const acked = new Map<number, number>();
  const flag = { stop: false };
  const producing = produceToAll(c.address, flag, acked).catch(() => 0);
  const firstRoundStart = performance.now();
  const until = Date.now() + 30_000;
  while (Date.now() < until && acked.size < opt.partitions) await Bun.sleep(10); // bench pacing, not a test
  // The first round after a stop that left data unsynced: does an fsync now pay for the backlog?
  results.produce_round_after_dirty_stop_ms = Math.round(performance.now() - firstRoundStart);
  log(`a batch to every partition: ${results.produce_round_ms} ms before the SIGTERM, ${results.produce_round_after_dirty_stop_ms} ms right after the restart`);
  await Bun.sleep(1000);
  await stop(c, "SIGKILL");
  flag.stop = true;
  await producing;
  c = await startCli(dir);
  results.crash_start_ms = Math.round(c.startMs);
  results.crash_rss_mib = mib(rss(c.proc.pid));
  log(`after kill -9 mid-produce: listening after ${results.crash_start_ms} ms, RSS ${results.crash_rss_mib} MiB (${loadLine(c)})`);
  const ends = await logEndOffsets(c.address);
  let missing = 0;
  for (const [p, base] of acked) if ((ends.get(p) ?? -1) <= base) missing++;
  results.crash_missing_acked = missing;
  log(`${acked.size} partitions had acknowledged batches; ${missing} of them lost one`);
  results.final_stop_ms = Math.round(await stop(c, "SIGTERM"));
} finally {
  if (!opt.keep) fs.rmSync(dir, { recursive: true, force: true });
  else log(`data kept in ${dir}`);
}

if (opt.json) console.log(JSON.stringify({ options: opt, results }, null, 2));
else {
  console.log(`\n${opt.partitions} partitions × ${(perPartition / 2 ** 20).toFixed(1)} MiB = ${opt.gib} GiB (${opt.batchKib} KiB batches, ${opt.segmentMib} MiB segments)`);
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(28)} ${v}`);
}
