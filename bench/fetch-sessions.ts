// Fetch sessions (KIP-227) with many partitions: what a consumer's fetch requests cost with and without
// a session, side by side. Brook runs as a child twice, once with the default session cache and once
// with max.incremental.fetch.session.cache.slots=0 (Kafka's way to turn sessions off: every fetch is then
// a full one). The consumer is @platformatic/kafka 2.x (Fetch v17, incremental sessions); its traffic goes
// through a counting TCP proxy, which the broker advertises, so every byte it sends and receives is
// counted by API. The producer connects directly and is not counted.
//
// Phases, per run: "trickle": records arrive a few partitions at a time while the consumer keeps up (the
// case sessions are for); "idle": the consumer polls with nothing new for --idle-s seconds.
//
//   bun bench/fetch-sessions.ts [--partitions 1000] [--records 20000] [--per-send 20] [--size 100]
//                               [--max-wait-ms 100] [--idle-s 5] [--json] [--profile DIR]
//   (or: bun bench/run.ts sessions ...)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type Socket } from "bun";
import { Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka-v2";

const ROOT = path.resolve(import.meta.dir, "..");
const CLK_TCK = 100;
const opt = { partitions: 1000, records: 20_000, perSend: 20, size: 100, maxWaitMs: 100, idleS: 5, json: false, profile: "" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const val = () => Number(argv[++i]);
  switch (argv[i]) {
    case "--partitions": opt.partitions = val(); break;
    case "--records": opt.records = val(); break;
    case "--per-send": opt.perSend = val(); break;
    case "--size": opt.size = val(); break;
    case "--max-wait-ms": opt.maxWaitMs = val(); break;
    case "--idle-s": opt.idleS = val(); break;
    case "--json": opt.json = true; break;
    case "--profile": opt.profile = path.resolve(argv[++i] ?? "."); break;
    default:
      console.error(`usage: bun bench/fetch-sessions.ts [--partitions N] [--records N] [--per-send N] [--size B] [--max-wait-ms MS] [--idle-s S] [--json] [--profile DIR]`);
      process.exit(2);
  }
}

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
}

/** Bytes and requests per API key, client → broker and back. */
class Counters {
  requests = new Map<number, number>();
  requestBytes = new Map<number, number>();
  responseBytes = 0;
  snapshot() {
    return { fetches: this.requests.get(1) ?? 0, fetchRequestBytes: this.requestBytes.get(1) ?? 0, responseBytes: this.responseBytes };
  }
}

/** A TCP proxy that parses request frames (size, api key) on the way in and counts bytes both ways. */
function countingProxy(counters: Counters, target: () => { host: string; port: number }) {
  type Side = { peer: Socket<any> | null; pending: Uint8Array[]; buf: Uint8Array };
  const server = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { peer: null, pending: [], buf: new Uint8Array(0) };
        const { host, port } = target();
        Bun.connect<{ client: Socket<Side> }>({
          hostname: host,
          port,
          socket: {
            open(upstream) {
              upstream.data = { client };
              client.data.peer = upstream;
              for (const p of client.data.pending) upstream.write(p);
              client.data.pending = [];
            },
            data(upstream, chunk) {
              counters.responseBytes += chunk.length;
              upstream.data.client.write(chunk);
            },
            close(upstream) {
              upstream.data.client.end();
            },
          },
        });
      },
      data(client, chunk) {
        // count whole request frames: int32 size, then int16 api key
        let buf = client.data.buf.length ? Buffer.concat([client.data.buf, chunk]) : chunk;
        while (buf.length >= 6) {
          const size = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
          if (buf.length < 4 + size) break;
          const key = new DataView(buf.buffer, buf.byteOffset).getInt16(4);
          counters.requests.set(key, (counters.requests.get(key) ?? 0) + 1);
          counters.requestBytes.set(key, (counters.requestBytes.get(key) ?? 0) + 4 + size);
          buf = buf.subarray(4 + size);
        }
        client.data.buf = new Uint8Array(buf);
        if (client.data.peer) client.data.peer.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        client.data.peer?.end();
      },
    },
  });
  return server;
}

async function firstLine(stdout: ReadableStream<Uint8Array>, re: RegExp): Promise<string> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stdout) {
    buf += dec.decode(chunk);
    const m = re.exec(buf);
    if (m) return m[1]!;
  }
  throw new Error("broker exited before listening");
}

async function runVariant(label: string, slots: number | null) {
  const counters = new Counters();
  let brokerAddress = { host: "127.0.0.1", port: 0 };
  const proxy = countingProxy(counters, () => brokerAddress);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "brook-bench-sessions-"));
  const child = spawn(
    [process.execPath,
      ...(opt.profile ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${path.join(opt.profile, label.replace(/\W+/g, "-"))}`, "--cpu-prof-interval=250"] : []),
      path.join(ROOT, "src/cli.ts"),
      "--override", "listeners=PLAINTEXT://127.0.0.1:0",
      "--override", `advertised.listeners=PLAINTEXT://127.0.0.1:${proxy.port}`,
      "--override", `log.dirs=${dir}`,
      "--override", "group.initial.rebalance.delay.ms=0",
      ...(slots === null ? [] : ["--override", `max.incremental.fetch.session.cache.slots=${slots}`])],
    { stdout: "pipe", stderr: "inherit", env: { ...process.env, BROOK_LOG_LEVEL: process.env.BROOK_LOG_LEVEL ?? "warn" } },
  );
  const listening = await firstLine(child.stdout, /^brook listening on (\S+)/);
  brokerAddress = { host: "127.0.0.1", port: Number(listening.split(":").pop()) };
  const direct = `127.0.0.1:${brokerAddress.port}`;
  const proxied = `127.0.0.1:${proxy.port}`;

  const topic = "sessions-bench";
  const producer = new Producer({ clientId: "bench-producer", bootstrapBrokers: [direct], serializers: stringSerializers });
  const consumer = new Consumer({
    groupId: "bench-sessions", clientId: "bench-consumer", bootstrapBrokers: [proxied], deserializers: stringDeserializers,
    maxWaitTime: opt.maxWaitMs, minBytes: 1,
  });
  try {
    // The producer's metadata request creates the topic with num.partitions; create it explicitly instead.
    const { Admin } = await import("@platformatic/kafka-v2");
    const admin = new Admin({ clientId: "bench-admin", bootstrapBrokers: [direct] });
    await admin.createTopics({ topics: [topic], partitions: opt.partitions, replicas: 1 });
    await admin.close();

    let received = 0;
    let waiter: (() => void) | null = null;
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
    stream.on("data", () => {
      received++;
      waiter?.();
    });
    const until = (n: number) => new Promise<void>((resolve) => {
      waiter = () => received >= n && (waiter = null, resolve());
      waiter();
    });
    // Wait until the consumer is fetching (its first full fetch has gone out).
    while (counters.snapshot().fetches === 0) await Bun.sleep(20);

    const value = "x".repeat(opt.size);
    const c0 = counters.snapshot();
    const cpu0 = cpuSeconds(child.pid);
    const t0 = performance.now();
    let sent = 0;
    while (sent < opt.records) {
      const messages = [];
      for (let i = 0; i < opt.perSend && sent < opt.records; i++, sent++)
        messages.push({ topic, partition: Math.floor(Math.random() * opt.partitions), value });
      await producer.send({ messages });
      await until(sent); // keep the consumer caught up: a few partitions have news per fetch
    }
    const trickleMs = performance.now() - t0;
    const c1 = counters.snapshot();
    const cpu1 = cpuSeconds(child.pid);

    await Bun.sleep(opt.idleS * 1000); // measuring idle polling is the point here
    const c2 = counters.snapshot();
    const cpu2 = cpuSeconds(child.pid);
    await stream.close();

    const fetches = c1.fetches - c0.fetches;
    const reqBytes = c1.fetchRequestBytes - c0.fetchRequestBytes;
    const respBytes = c1.responseBytes - c0.responseBytes;
    const idleFetches = c2.fetches - c1.fetches;
    return {
      variant: label,
      records: received,
      trickle_s: trickleMs / 1000,
      fetches,
      fetch_request_bytes: reqBytes,
      request_bytes_per_fetch: reqBytes / fetches,
      request_bytes_per_record: reqBytes / received,
      response_bytes_per_record: respBytes / received,
      broker_cpu_s: cpu1 - cpu0,
      broker_cpu_us_per_record: ((cpu1 - cpu0) * 1e6) / received,
      idle_fetches_per_s: idleFetches / opt.idleS,
      idle_request_bytes_per_s: (c2.fetchRequestBytes - c1.fetchRequestBytes) / opt.idleS,
      idle_response_bytes_per_s: (c2.responseBytes - c1.responseBytes) / opt.idleS,
      idle_broker_cpu_ms_per_s: ((cpu2 - cpu1) * 1000) / opt.idleS,
    };
  } finally {
    await consumer.close(true).catch(() => {});
    await producer.close().catch(() => {});
    child.kill("SIGTERM");
    await child.exited;
    proxy.stop(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.error(`bench: fetch sessions, ${opt.partitions} partitions, ${opt.records} × ${opt.size} B records, ${opt.perSend} per send to random partitions, ` +
  `consumer maxWaitTime ${opt.maxWaitMs} ms, idle ${opt.idleS} s; ${os.cpus().length} CPUs shared by client and broker`);
const rows = [await runVariant("sessions", null), await runVariant("no sessions (slots=0)", 0)];
if (opt.json) {
  console.log(JSON.stringify({ options: opt, results: rows }, null, 2));
} else {
  const f = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  console.table(rows.map((r) => ({
    variant: r.variant,
    records: r.records,
    fetches: r.fetches,
    "req B/fetch": f(r.request_bytes_per_fetch),
    "req B/record": f(r.request_bytes_per_record, 1),
    "resp B/record": f(r.response_bytes_per_record, 1),
    "broker CPU s": f(r.broker_cpu_s, 2),
    "broker µs/record": f(r.broker_cpu_us_per_record, 1),
    "idle fetch/s": f(r.idle_fetches_per_s, 1),
    "idle req B/s": f(r.idle_request_bytes_per_s),
    "idle resp B/s": f(r.idle_response_bytes_per_s),
    "idle broker CPU ms/s": f(r.idle_broker_cpu_ms_per_s, 1),
  })));
  const [a, b] = rows as [typeof rows[0], typeof rows[0]];
  console.log(`ratios (sessions / no sessions): request bytes per record ${f(a.request_bytes_per_record / b.request_bytes_per_record, 3)}, ` +
    `response bytes per record ${f(a.response_bytes_per_record / b.response_bytes_per_record, 3)}, broker CPU per record ${f(a.broker_cpu_us_per_record / b.broker_cpu_us_per_record, 3)}, ` +
    `idle broker CPU ${f(a.idle_broker_cpu_ms_per_s / b.idle_broker_cpu_ms_per_s, 3)}`);
}
