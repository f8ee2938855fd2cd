// Connection-scale bench: bounded memory and fair service (issue 10 item 4).
//   bun bench/connections.ts [--idle 5000] [--producers 1000] [--slow 50] [--slow-fetch-mb 50]
//        [--slow-read-kbps 1024] [--produce-interval-ms 200] [--seconds 60] [--fill-mb 256]
//        [--brook DIR] [--override key=value]... [--only baseline|loaded] [--profile DIR] [--json]
// Starts Brook (src/cli.ts of this checkout, or of DIR: compare with another build) as a child, then in
// two phases measures the broker's memory and a fast consumer's end-to-end latency:
//   baseline  the producers (one connection each, one small batch every --produce-interval-ms) and a fast
//             consumer long-polling a topic a probe producer writes a timestamped record to every 20 ms
//   loaded    the same, plus --idle connections that only said ApiVersions, and --slow consumers that
//             ask for --slow-fetch-mb per Fetch and read their socket at --slow-read-kbps
// Per phase: broker peak RSS (anonymous and file-backed, sampled every 100 ms), fast-consumer latency
// p50/p99/max (produce sent → record fetched), produce acknowledgement latency, fetch bytes delivered.
// Needs about idle + producers + slow + 10 file descriptors in each of the two processes.
import { spawn } from "bun";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Socket } from "bun";
import { ApiVersions, CreateTopics, Fetch, Produce } from "../protocol/apis/index.ts";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { Reader } from "../protocol/reader.ts";
import type { ApiDefinition } from "../protocol/types.ts";
import { Writer } from "../protocol/writer.ts";
import { WireClient } from "../src/client.ts";
import { buildBatch } from "../fuzz/records.ts";

const ROOT = path.resolve(import.meta.dir, "..");
const argv = process.argv.slice(2);
const opt = {
  idle: 5000, producers: 1000, slow: 50, slowFetchMb: 50, slowReadKbps: 1024, produceIntervalMs: 200,
  seconds: 60, fillMb: 256, brook: ROOT, overrides: [] as string[], json: false, only: "", profile: "",
};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const val = () => argv[++i] ?? usage(`${a} needs a value`);
  switch (a) {
    case "--idle": opt.idle = Number(val()); break;
    case "--producers": opt.producers = Number(val()); break;
    case "--slow": opt.slow = Number(val()); break;
    case "--slow-fetch-mb": opt.slowFetchMb = Number(val()); break;
    case "--slow-read-kbps": opt.slowReadKbps = Number(val()); break;
    case "--produce-interval-ms": opt.produceIntervalMs = Number(val()); break;
    case "--seconds": opt.seconds = Number(val()); break;
    case "--fill-mb": opt.fillMb = Number(val()); break;
    case "--brook": opt.brook = path.resolve(val()); break;
    case "--override": opt.overrides.push(val()); break;
    case "--json": opt.json = true; break;
    case "--only": opt.only = val(); break;
    case "--profile": opt.profile = path.resolve(val()); break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}
function usage(msg: string): never {
  console.error(`${msg ? `bench: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(1, 4).join("\n"));
  process.exit(msg ? 2 : 0);
}
const say = (s: string) => console.error(`bench: ${s}`);

// ---- the broker ----
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brook-connbench-"));
const child = spawn(
  [process.execPath, ...(opt.profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opt.profile}`] : []), path.join(opt.brook, "src/cli.ts"), "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", `log.dirs=${dir}`,
    ...opt.overrides.flatMap((o) => ["--override", o])],
  { stdout: "pipe", stderr: "inherit", env: { ...process.env, BROOK_LOG_LEVEL: "warn" } },
);
const address = await (async () => {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of child.stdout) {
    buf += dec.decode(chunk);
    const m = /brook listening on (\S+)/.exec(buf);
    if (m) return m[1]!;
  }
  throw new Error("broker exited before listening");
})();
const [host, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];

interface Mem { rss: number; anon: number; file: number }
function mem(): Mem {
  try {
    const s = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
  } catch {
    return { rss: 0, anon: 0, file: 0 };
  }
}
let peak: Mem = { rss: 0, anon: 0, file: 0 };
const sampler = setInterval(() => {
  const m = mem();
  peak = { rss: Math.max(peak.rss, m.rss), anon: Math.max(peak.anon, m.anon), file: Math.max(peak.file, m.file) };
}, 100);

// ---- raw connections speaking Brook's codec (the load generator, not what is measured) ----
function encode<D extends ApiDefinition>(def: D, version: number, correlationId: number, body: unknown): Uint8Array {
  const w = new Writer(256);
  const sizeAt = w.reserve(4);
  w.int16(def.key);
  w.int16(version);
  w.int32(correlationId);
  w.string("connbench", false);
  if (version >= def.flexible) w.uvarint(0);
  requestCodec(def, version).encode(w, body as never);
  w.view.setInt32(sizeAt, w.pos - 4);
  return w.finish().slice();
}

class Conn {
  socket!: Socket<undefined>;
  private buffered: Uint8Array = new Uint8Array(0);
  private skip = 0; // bytes of a frame being discarded (slow consumers do not keep their data)
  private readonly sizeBytes = new Uint8Array(4);
  private sizeFill = 0;
  private waiters: ((frame: Uint8Array | null) => void)[] = [];
  private outbox: Uint8Array[] = [];
  received = 0;
  /** discard frames instead of returning them (only the size matters) */
  discard = false;
  onRead: ((n: number) => void) | null = null;

  static async open(): Promise<Conn> {
    const c = new Conn();
    c.socket = await Bun.connect<undefined>({
      hostname: host, port,
      socket: {
        data: (_s, chunk) => c.onData(chunk),
        drain: () => c.onDrain(),
        close: () => { for (const w of c.waiters.splice(0)) w(null); },
        error: () => {},
      },
    });
    return c;
  }
  send(b: Uint8Array): void {
    if (this.outbox.length > 0) { this.outbox.push(b); return; }
    const n = this.socket.write(b);
    if (n < b.length) this.outbox.push(b.subarray(Math.max(n, 0)));
  }
  private onDrain(): void {
    while (this.outbox.length > 0) {
      const b = this.outbox[0]!;
      const n = this.socket.write(b);
      if (n < b.length) { this.outbox[0] = b.subarray(Math.max(n, 0)); return; }
      this.outbox.shift();
    }
  }
  next(): Promise<Uint8Array | null> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  private onData(chunk: Uint8Array): void {
    this.received += chunk.length;
    this.onRead?.(chunk.length);
    let buf = chunk;
    if (this.discard) {
      // Walk frame boundaries without keeping the bodies.
      let pos = 0;
      while (pos < chunk.length) {
        if (this.skip > 0) {
          const n = Math.min(this.skip, chunk.length - pos);
          this.skip -= n;
          pos += n;
          if (this.skip === 0) this.waiters.shift()?.(new Uint8Array(0));
          continue;
        }
        while (this.sizeFill < 4 && pos < chunk.length) this.sizeBytes[this.sizeFill++] = chunk[pos++]!;
        if (this.sizeFill < 4) return;
        this.sizeFill = 0;
        this.skip = new DataView(this.sizeBytes.buffer).getInt32(0);
        if (this.skip === 0) this.waiters.shift()?.(new Uint8Array(0));
      }
      return;
    }
    if (this.buffered.length > 0) buf = concat(this.buffered, chunk);
    let pos = 0;
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (buf.length - pos >= 4) {
      const size = v.getInt32(pos);
      if (buf.length - pos - 4 < size) break;
      this.waiters.shift()?.(buf.slice(pos + 4, pos + 4 + size));
      pos += 4 + size;
    }
    this.buffered = buf.slice(pos);
  }
}
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
function decode<D extends ApiDefinition>(def: D, version: number, frame: Uint8Array): any {
  const r = new Reader(frame);
  r.int32();
  if (version >= def.flexible) r.pos += 1; // empty header tags
  return responseCodec(def, version).decode(r);
}
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

// ---- setup: topics, and data for the slow consumers to read ----
const admin = await WireClient.connect(address, { clientId: "connbench" });
const SLOW_PARTITIONS = 4;
await admin.request(CreateTopics, {
  topics: [
    { name: "load", numPartitions: 16, replicationFactor: 1, assignments: [], configs: [] },
    { name: "bulk", numPartitions: SLOW_PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
    { name: "fast", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
  ],
  timeoutMs: 30_000,
});
say(`filling topic bulk with ${opt.fillMb} MB for the slow consumers`);
{
  const value = new Uint8Array(1000).fill(120);
  const batch = buildBatch({ records: Array.from({ length: 900 }, () => ({ key: null, value })), codec: 0 });
  const perPartition = Math.ceil((opt.fillMb * 1e6) / batch.length / SLOW_PARTITIONS);
  for (let p = 0; p < SLOW_PARTITIONS; p++)
    for (let i = 0; i < perPartition; i += 8)
      await Promise.all(Array.from({ length: Math.min(8, perPartition - i) }, () =>
        admin.request(Produce, { acks: 1, timeoutMs: 30_000, topicData: [{ name: "bulk", partitionData: [{ index: p, records: batch }] }] }, 7)));
}
const bulkRecords = Math.ceil((opt.fillMb * 1e6) / 900_000 / SLOW_PARTITIONS) * 900;

// ---- the load ----
let stop = false;
const stats = { produceAcks: [] as number[], produced: 0, fastLatency: [] as number[], slowBytes: 0, slowResponses: 0 };

async function producer(i: number): Promise<void> {
  const c = await Conn.open();
  const value = new Uint8Array(100).fill(97);
  const batch = buildBatch({ records: Array.from({ length: 10 }, () => ({ key: null, value })), codec: 0 });
  let id = 0;
  await Bun.sleep(Math.random() * opt.produceIntervalMs);
  while (!stop) {
    const t0 = performance.now();
    c.send(encode(Produce, 7, ++id, { acks: 1, timeoutMs: 30_000, topicData: [{ name: "load", partitionData: [{ index: i % 16, records: batch }] }] }));
    const f = await c.next();
    if (!f) return;
    stats.produceAcks.push(performance.now() - t0);
    stats.produced++;
    await Bun.sleep(Math.max(0, opt.produceIntervalMs - (performance.now() - t0)));
  }
  c.socket.end();
}

async function fastPair(): Promise<void> {
  // A probe producer writes "<send time>" every 20 ms; the consumer long-polls and measures arrival.
  const p = await Conn.open();
  const c = await Conn.open();
  let offset = Number((await admin.request(Fetch, { maxWaitMs: 0, minBytes: 0, maxBytes: 1024, isolationLevel: 0, topics: [{ topic: "fast", partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }] }, 11))
    .responses[0]!.partitions[0]!.highWatermark);
  let pid = 0;
  const produceLoop = (async () => {
    while (!stop) {
      const sent = performance.timeOrigin + performance.now();
      const batch = buildBatch({ records: [{ key: null, value: new TextEncoder().encode(String(sent)) }], codec: 0 });
      p.send(encode(Produce, 7, ++pid, { acks: 1, timeoutMs: 30_000, topicData: [{ name: "fast", partitionData: [{ index: 0, records: batch }] }] }));
      if (!(await p.next())) return;
      await Bun.sleep(20);
    }
  })();
  let cid = 0;
  while (!stop) {
    c.send(encode(Fetch, 11, ++cid, { maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: "fast", partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: "" }));
    const f = await c.next();
    if (!f) break;
    const now = performance.timeOrigin + performance.now();
    const part = decode(Fetch, 11, f).responses[0].partitions[0];
    const recs: Uint8Array = part.records;
    // Walk the batches: one record each, its value the send time.
    const v = new DataView(recs.buffer, recs.byteOffset, recs.byteLength);
    let pos = 0;
    while (pos + 61 <= recs.length) {
      const size = v.getInt32(pos + 8) + 12;
      if (pos + size > recs.length) break;
      const base = Number(v.getBigInt64(pos));
      if (base >= offset) {
        const body = recs.subarray(pos + 61, pos + size);
        // record: length, attributes, ts delta, offset delta, key length (-1 = 0x01), value length, value
        let q = 0;
        const varint = () => { let r = 0, s = 0, b; do { b = body[q++]!; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return (r >>> 1) ^ -(r & 1); };
        varint(); q++; varint(); varint(); varint();
        const len = varint();
        const sent = Number(new TextDecoder().decode(body.subarray(q, q + len)));
        stats.fastLatency.push(now - sent);
        offset = base + 1;
      }
      pos += size;
    }
  }
  await produceLoop;
  p.socket.end();
  c.socket.end();
}

async function slowConsumer(i: number): Promise<void> {
  const c = await Conn.open();
  c.discard = true;
  // Read at most slowReadKbps: pause the socket once the budget of the current 100 ms tick is spent.
  const perTick = (opt.slowReadKbps * 1024) / 10;
  let budget = perTick;
  c.onRead = (n) => {
    budget -= n;
    if (budget <= 0) c.socket.pause();
  };
  slowTicks.push(() => {
    // A token bucket: bytes read beyond the budget (a chunk arrives whole) are paid back first.
    budget = Math.min(perTick, budget + perTick);
    if (budget > 0) c.socket.resume();
  });
  const maxBytes = opt.slowFetchMb * 1e6;
  let id = 0;
  while (!stop) {
    const partition = (i + id) % SLOW_PARTITIONS;
    const offset = Math.floor(Math.random() * Math.max(1, bulkRecords - 1000));
    const before = c.received;
    c.send(encode(Fetch, 11, ++id, { maxWaitMs: 100, minBytes: 1, maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: "bulk", partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: maxBytes }] }], forgottenTopicsData: [], rackId: "" }));
    if (!(await c.next())) return;
    stats.slowBytes += c.received - before;
    stats.slowResponses++;
  }
  c.socket.terminate();
}
const slowTicks: (() => void)[] = [];
const ticker = setInterval(() => { for (const t of slowTicks) t(); }, 100);

async function phase(name: string, withLoad: boolean) {
  stop = false;
  stats.produceAcks = []; stats.produced = 0; stats.fastLatency = []; stats.slowBytes = 0; stats.slowResponses = 0;
  Bun.gc(true);
  await Bun.sleep(1000);
  const before = mem();
  peak = { ...before };
  const idle: Conn[] = [];
  const tasks: Promise<void>[] = [];
  if (withLoad) {
    say(`${name}: opening ${opt.idle} idle connections`);
    for (let i = 0; i < opt.idle; i += 250) {
      const batch = await Promise.all(Array.from({ length: Math.min(250, opt.idle - i) }, () => Conn.open()));
      for (const c of batch) {
        c.send(encode(ApiVersions, 0, 0, {})); // one request each, then nothing
        idle.push(c);
      }
      await Promise.all(batch.map((c) => c.next()));
    }
    for (let i = 0; i < opt.slow; i++) tasks.push(slowConsumer(i));
  }
  say(`${name}: ${opt.producers} producers${withLoad ? `, ${opt.slow} slow consumers (${opt.slowFetchMb} MB fetches at ${opt.slowReadKbps} KiB/s)` : ""}, one fast consumer, ${opt.seconds} s`);
  for (let i = 0; i < opt.producers; i++) tasks.push(producer(i));
  tasks.push(fastPair());
  const t0 = performance.now();
  await Bun.sleep(opt.seconds * 1000);
  stop = true;
  const elapsed = (performance.now() - t0) / 1000;
  const lat = [...stats.fastLatency];
  const acks = [...stats.produceAcks];
  const row = {
    phase: name,
    connections: (withLoad ? opt.idle + opt.slow : 0) + opt.producers + 3,
    "produce/s": Math.round(stats.produced / elapsed),
    "ack p50 ms": pct(acks, 50), "ack p99 ms": pct(acks, 99),
    "fast p50 ms": pct(lat, 50), "fast p99 ms": pct(lat, 99), "fast max ms": pct(lat, 100),
    "slow MB/s": stats.slowBytes / elapsed / 1e6, "slow responses": stats.slowResponses,
    "peak RSS MiB": peak.rss / 2 ** 20, "peak anon MiB": peak.anon / 2 ** 20, "peak file MiB": peak.file / 2 ** 20,
    "anon before MiB": before.anon / 2 ** 20,
  };
  for (const c of idle) c.socket.terminate();
  slowTicks.length = 0;
  // Slow consumers may be mid-response: they are cut off rather than waited for.
  await Promise.race([Promise.all(tasks), Bun.sleep(5000)]);
  return row;
}

const rows: Awaited<ReturnType<typeof phase>>[] = [];
try {
  if (opt.only !== "loaded") rows.push(await phase("baseline", false));
  if (opt.only !== "baseline") rows.push(await phase("loaded", true));
} finally {
  clearInterval(ticker);
  clearInterval(sampler);
  admin.close();
  child.kill("SIGTERM");
  await Promise.race([child.exited, Bun.sleep(10_000)]);
  child.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
}
if (opt.json) console.log(JSON.stringify({ options: opt, rows }, null, 1));
else {
  console.log(`\n${opt.brook === ROOT ? "this checkout" : opt.brook}: ${opt.producers} producers every ${opt.produceIntervalMs} ms; loaded = + ${opt.idle} idle connections + ${opt.slow} consumers reading ${opt.slowFetchMb} MB fetches at ${opt.slowReadKbps} KiB/s`);
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell((r as Record<string, unknown>)[c]).length)));
  console.log(cols.map((c, i) => c.padStart(width[i]!)).join("  "));
  for (const r of rows) console.log(cols.map((c, i) => cell((r as Record<string, unknown>)[c]).padStart(width[i]!)).join("  "));
  console.log("fast = a record's produce call to its arrival at a long-polling consumer. peak file = mapped log pages and page cache in RSS.");
}
process.exit(0);
