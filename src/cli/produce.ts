// brook produce: messages from stdin to a topic, like kcat -P. One message per line (or per -D
// delimiter), "key<delim>value" with -K, or one JSON object per line with --json:
//   {"key": "k", "value": "v", "headers": {"h": "x"}, "partition": 0, "timestamp": 1700000000000}
// Headers may also be [["h","x"],...] or kcat -J's flat ["h","x",...]; "payload" is read as "value" and
// "ts" as "timestamp", so what `brook consume -J` and kcat -J print can be produced again. Without a
// partition, keyed messages go where Kafka's Java producer puts them (murmur2 of the key), the rest
// round-robin. Batches are sent as input arrives, one Produce request per leader, retried when a
// leader moves. Not idempotent: a retry after a lost response can duplicate a batch.
import { Produce } from "../../protocol/apis/00-produce.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Codec } from "../../protocol/records/batch.ts";
import { encodeBatch, type RecordInput } from "../../protocol/records/records.ts";
import { CliError, UsageError, intOption, keyValue, parseArgs, parseTimestamp, type OptionSpec } from "./args.ts";
import { Cluster, RETRIABLE, type TopicInfo } from "./cluster.ts";
import { CONNECTION_OPTIONS, connectionOf, describeError, runCommand, stdio, type Output } from "./common.ts";

export const USAGE = `usage: brook produce -t TOPIC [OPTIONS] < messages

Reads messages from stdin, one per line, and produces them to TOPIC (created if the broker
auto-creates topics).

Options:
  -t, --topic TOPIC                 the topic (required)
  -p, --partition N                 every message to partition N (default: by key, else round-robin)
  -K, --key-delimiter DELIM         split each line at the first DELIM into key and value
  -D, --delimiter DELIM             message delimiter (default: newline)
  -H, --header key=value            a header on every message (repeatable)
  --timestamp MS|ISO-8601           every message's timestamp (default: now)
  --json                            each line is {"key","value","headers","partition","timestamp"}
  -z, --compression CODEC           none (default), gzip, snappy, lz4 or zstd
  --acks N                          -1 (all, default), 1 or 0
  -b, --bootstrap-server HOST:PORT  where to connect (default 127.0.0.1:9092)
  --timeout MS                      per-request timeout (default 30000)
  -h, --help                        this text`;

const OPTIONS: OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  { names: ["--topic", "-t"], value: true },
  { names: ["--partition", "-p"], value: true },
  { names: ["--key-delimiter", "-K"], value: true },
  { names: ["--delimiter", "-D"], value: true },
  { names: ["--header", "-H"], value: true, repeat: true },
  { names: ["--timestamp"], value: true },
  { names: ["--json"] },
  { names: ["--compression", "-z"], value: true },
  { names: ["--acks"], value: true },
];

const CODECS: Record<string, number> = { none: Codec.None, gzip: Codec.Gzip, snappy: Codec.Snappy, lz4: Codec.Lz4, zstd: Codec.Zstd };
/** Keeps each batch well under Kafka's default message.max.bytes (1 MiB). */
const BATCH_BYTES = 512 * 1024;
const MAX_ATTEMPTS = 10;

interface Message {
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
  partition?: number;
  timestamp?: number;
}

/** Kafka's murmur2 (Utils.murmur2), which the Java producer's default partitioner applies to keys. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ data.length;
  const whole = data.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = data.length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[whole]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition the Java producer picks for a key: toPositive(murmur2(key)) % partitions. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

function headerPairs(h: unknown, line: number): { key: string; value: string | null }[] {
  if (h === undefined || h === null) return [];
  const pair = (k: unknown, v: unknown) => {
    if (typeof k !== "string" || (v !== null && typeof v !== "string")) throw new CliError(`input line ${line}: header keys must be strings, values strings or null`);
    return { key: k, value: v as string | null };
  };
  if (Array.isArray(h)) {
    if (h.every((x) => Array.isArray(x))) return h.map((x) => pair(x[0], x[1] ?? null));
    if (h.length % 2 !== 0) throw new CliError(`input line ${line}: a flat header list needs key, value pairs`);
    const out = [];
    for (let i = 0; i < h.length; i += 2) out.push(pair(h[i], h[i + 1]));
    return out;
  }
  if (typeof h === "object") return Object.entries(h as Record<string, unknown>).map(([k, v]) => pair(k, v));
  throw new CliError(`input line ${line}: "headers" must be an object or a list`);
}

function jsonMessage(text: string, line: number): Message {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new CliError(`input line ${line} is not JSON: ${(e as Error).message}`);
  }
  if (o === null || typeof o !== "object" || Array.isArray(o)) throw new CliError(`input line ${line}: expected a JSON object`);
  const field = (name: string): string | null => {
    const v = o[name];
    if (v === undefined || v === null) return null;
    return typeof v === "string" ? v : JSON.stringify(v);
  };
  const m: Message = { key: field("key"), value: "value" in o ? field("value") : field("payload"), headers: headerPairs(o.headers, line) };
  if (o.partition !== undefined && o.partition !== null) {
    if (!Number.isInteger(o.partition) || (o.partition as number) < 0) throw new CliError(`input line ${line}: "partition" must be a partition number`);
    m.partition = o.partition as number;
  }
  const ts = o.timestamp ?? o.ts; // "ts": what kcat -J and brook consume -J print
  if (ts !== undefined && ts !== null) {
    try {
      m.timestamp = parseTimestamp(String(ts), `input line ${line}`);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  return m;
}

export function runProduce(argv: string[], io: Output = stdio, input: ReadableStream<Uint8Array> = Bun.stdin.stream()): Promise<number> {
  return runCommand("produce", USAGE, argv, io, async () => {
    const p = parseArgs(argv, OPTIONS);
    const topic = p.get("topic") ?? p.positional[0];
    if (!topic) throw new UsageError("--topic is required");
    if (p.positional.length > (p.has("topic") ? 0 : 1)) throw new UsageError(`unexpected argument "${p.positional.at(-1)}"`);
    const partition = p.has("partition") ? intOption(p, "partition", 0, 0) : undefined;
    const keyDelimiter = p.get("key-delimiter");
    if (keyDelimiter === "") throw new UsageError("--key-delimiter cannot be empty");
    const delimiter = p.get("delimiter") ?? "\n";
    if (delimiter === "") throw new UsageError("--delimiter cannot be empty");
    const json = p.has("json");
    if (json && keyDelimiter !== undefined) throw new UsageError("--json and --key-delimiter do not go together");
    const headers = p.all("header").map((h) => {
      const [key, value] = keyValue(h, "--header");
      return { key, value };
    });
    const timestamp = p.has("timestamp") ? parseTimestamp(p.get("timestamp")!, "--timestamp") : undefined;
    const codecName = p.get("compression") ?? "none";
    const codec = CODECS[codecName];
    if (codec === undefined) throw new UsageError(`--compression must be one of ${Object.keys(CODECS).join(", ")}`);
    const acks = intOption(p, "acks", -1, -1, 1);
    const { bootstrap, timeoutMs } = connectionOf(p);

    const cluster = new Cluster(bootstrap, timeoutMs, "brook-produce");
    try {
      const sender = new Sender(cluster, topic, codec, acks, timeoutMs);
      await sender.init();
      let line = 0;
      const toMessage = (text: string): Message => {
        line++;
        if (json) return jsonMessage(text, line);
        let key: string | null = null;
        let value = text;
        if (keyDelimiter !== undefined) {
          const at = text.indexOf(keyDelimiter);
          if (at >= 0) {
            key = text.slice(0, at);
            value = text.slice(at + keyDelimiter.length);
          }
        }
        return { key, value, headers: [] };
      };
      const decoder = new TextDecoder();
      let pending = "";
      const batch: Message[] = [];
      const take = (piece: string) => {
        if (json && piece.trim() === "") return; // blank lines between JSON objects
        const m = toMessage(piece);
        if (m.partition === undefined) m.partition = partition;
        if (m.timestamp === undefined) m.timestamp = timestamp;
        if (headers.length > 0) m.headers = [...headers, ...m.headers];
        batch.push(m);
      };
      for await (const chunk of input) {
        pending += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = pending.indexOf(delimiter)) >= 0) {
          take(pending.slice(0, at));
          pending = pending.slice(at + delimiter.length);
        }
        // Send what this read brought, so an interactive session sees each line go out.
        if (batch.length > 0) await sender.send(batch.splice(0));
      }
      pending += decoder.decode();
      if (pending !== "") take(pending);
      if (batch.length > 0) await sender.send(batch.splice(0));
      return 0;
    } finally {
      await cluster.close();
    }
  });
}

class Sender {
  private info!: TopicInfo;
  private nextRoundRobin = 0;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly cluster: Cluster,
    private readonly topic: string,
    private readonly codec: number,
    private readonly acks: number,
    private readonly timeoutMs: number,
  ) {}

  async init(): Promise<void> {
    this.info = (await this.cluster.requireTopics([this.topic], true)).get(this.topic)!;
  }

  private partitionOf(m: Message): number {
    const count = this.info.partitions.length;
    if (m.partition !== undefined) {
      if (m.partition >= count) throw new CliError(`partition ${m.partition} of '${this.topic}' does not exist (it has ${count})`);
      return m.partition;
    }
    if (m.key !== null) return partitionForKey(this.encoder.encode(m.key), count);
    return this.nextRoundRobin++ % count;
  }

  /** Produces the messages; resolves once every one is acknowledged (immediately with acks=0). */
  async send(messages: Message[]): Promise<void> {
    // partition → batches of records, each under BATCH_BYTES
    const byPartition = new Map<number, { records: RecordInput[]; bytes: number }[]>();
    for (const m of messages) {
      const p = this.partitionOf(m);
      let batches = byPartition.get(p);
      if (!batches) byPartition.set(p, (batches = [{ records: [], bytes: 0 }]));
      let current = batches.at(-1)!;
      const size = 32 + (m.key?.length ?? 0) + (m.value?.length ?? 0) + m.headers.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0), 0);
      if (current.records.length > 0 && current.bytes + size > BATCH_BYTES) batches.push((current = { records: [], bytes: 0 }));
      current.bytes += size;
      current.records.push({ key: m.key, value: m.value, headers: m.headers, timestamp: m.timestamp });
    }
    // Round by round, so each partition's batches stay in order: one batch per partition per request.
    for (let round = 0; ; round++) {
      const work = new Map<number, RecordInput[]>();
      for (const [p, batches] of byPartition) if (batches[round]) work.set(p, batches[round]!.records);
      if (work.size === 0) return;
      await this.sendRound(work);
    }
  }

  private async sendRound(work: Map<number, RecordInput[]>): Promise<void> {
    const encoded = new Map<number, Uint8Array>();
    for (const [p, records] of work) encoded.set(p, encodeBatch({ codec: this.codec, records }));
    let left = [...encoded.keys()];
    for (let attempt = 1; left.length > 0; attempt++) {
      const byLeader = new Map<number, number[]>();
      for (const p of left) {
        const leader = this.info.partitions[p]!.leader;
        let list = byLeader.get(leader);
        if (!list) byLeader.set(leader, (list = []));
        list.push(p);
      }
      const failed: { partition: number; code: number; message: string | null }[] = [];
      await Promise.all(
        [...byLeader].map(async ([leader, partitions]) => {
          if (leader < 0) {
            for (const partition of partitions) failed.push({ partition, code: ErrorCode.LEADER_NOT_AVAILABLE, message: null });
            return;
          }
          const c = await this.cluster.node(leader);
          const r = await c.request(Produce, {
            transactionalId: null,
            acks: this.acks,
            timeoutMs: this.timeoutMs,
            topicData: [{ name: this.topic, partitionData: partitions.map((index) => ({ index, records: encoded.get(index)! })) }],
          });
          if (this.acks === 0) return;
          for (const t of r.responses)
            for (const pr of t.partitionResponses)
              if (pr.errorCode !== ErrorCode.NONE) failed.push({ partition: pr.index, code: pr.errorCode, message: pr.errorMessage ?? null });
        }),
      );
      if (failed.length === 0) return;
      const fatal = failed.find((f) => !RETRIABLE.has(f.code));
      if (fatal || attempt >= MAX_ATTEMPTS) {
        const f = fatal ?? failed[0]!;
        throw new CliError(`cannot produce to ${this.topic}-${f.partition}: ${describeError(f.code, f.message)}`);
      }
      left = failed.map((f) => f.partition);
      await Bun.sleep(Math.min(100 * attempt, 1000)); // retry back-off
      this.info = (await this.cluster.requireTopics([this.topic], true)).get(this.topic)!;
    }
  }
}
