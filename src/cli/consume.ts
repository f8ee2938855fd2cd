// brook consume: records from topics to stdout, like kcat -C (and kcat -G with --group). Without a group
// it reads the chosen partitions from where -o says; with --group it is a member of a consumer group
// (src/cli/group-member.ts), starts from the group's committed offsets and commits what it has printed
// (every 5 s, on rebalance and on exit). Runs until SIGINT/SIGTERM, or -c records, or with -e until the
// end of every partition. Transaction markers are never printed; with --isolation-level read_committed
// aborted records are skipped and reading stops at the last stable offset, as Kafka's consumer does.
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { iterateBatchHeaders } from "../../protocol/records/batch.ts";
import { ControlType, decodeRecords, parseControlRecordKey } from "../../protocol/records/records.ts";
import type { TopicPartitions } from "../group/consumer-protocol.ts";
import { CliError, UsageError, intOption, parseArgs, parseTimestamp, type OptionSpec } from "./args.ts";
import { Cluster, EARLIEST, LATEST, RETRIABLE, tpKey } from "./cluster.ts";
import { CONNECTION_OPTIONS, connectionOf, describeError, runCommand, stdio, type Output } from "./common.ts";
import { compileFormat, jsonFormat, type Formatter } from "./format.ts";
import { GroupMember } from "./group-member.ts";

export const USAGE = `usage: brook consume -t TOPIC [OPTIONS]

Prints records from TOPIC (or several: -t repeated) to stdout, one per line by default.

Options:
  -t, --topic TOPIC                 a topic to read (repeatable)
  -p, --partition N                 read only partition N (repeatable; not with --group)
  -o, --offset WHERE                where to start: beginning, end (default), an offset N,
                                    -N (N before the end), s@TIME (first record at or after TIME,
                                    ms since the epoch or ISO 8601), stored (the group's, with --group)
  --from-beginning                  the same as -o beginning
  -g, -G, --group GROUP             consume as a member of GROUP: its committed offsets win over -o,
                                    which then only applies to partitions without one
  -c, --count N                     exit after N records
  -e, --exit                        exit once the end of every partition is reached
  -f, --format FORMAT               kcat's tokens: %t topic, %p partition, %o offset, %T timestamp,
                                    %k key, %K key length, %s value, %S value length, %h headers,
                                    \\n \\t; default "%s\\n"
  -J, --json                        one JSON object per record (kcat -J's fields)
  --isolation-level LEVEL           read_uncommitted (default) or read_committed
  -b, --bootstrap-server HOST:PORT  where to connect (default 127.0.0.1:9092)
  --timeout MS                      per-request timeout (default 30000)
  -h, --help                        this text`;

const OPTIONS: OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  { names: ["--topic", "-t"], value: true, repeat: true },
  { names: ["--partition", "-p"], value: true, repeat: true },
  { names: ["--offset", "-o"], value: true },
  { names: ["--from-beginning"] },
  { names: ["--group", "-g", "-G"], value: true },
  { names: ["--count", "-c", "--max-messages"], value: true },
  { names: ["--exit", "-e"] },
  { names: ["--format", "-f"], value: true },
  { names: ["--json", "-J"] },
  { names: ["--isolation-level"], value: true },
];

type Start =
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "offset"; offset: number }
  | { kind: "fromEnd"; count: number }
  | { kind: "time"; timestamp: number }
  | { kind: "stored" };

function parseStart(s: string): Start {
  if (s === "beginning" || s === "earliest") return { kind: "earliest" };
  if (s === "end" || s === "latest") return { kind: "latest" };
  if (s === "stored") return { kind: "stored" };
  if (/^\d+$/.test(s)) return { kind: "offset", offset: Number(s) };
  if (/^-\d+$/.test(s)) return { kind: "fromEnd", count: -Number(s) };
  if (s.startsWith("s@")) return { kind: "time", timestamp: parseTimestamp(s.slice(2), "--offset s@") };
  throw new UsageError(`--offset: expected beginning, end, stored, N, -N or s@TIME, got "${s}"`);
}

interface PartitionState {
  topic: string;
  partition: number;
  /** the next offset to print */
  position: number;
  /** reached the high watermark (the last stable offset with read_committed) */
  atEnd: boolean;
}

interface Options {
  topics: string[];
  partitions: number[] | null;
  start: Start;
  group: string | null;
  count: number;
  exitAtEnd: boolean;
  format: Formatter;
  readCommitted: boolean;
}

/** Fetch v13+ names topics by id; the tool reads by name, which every broker serves up to v12. */
const FETCH_BY_NAME_MAX_VERSION = 12;
const FETCH_WAIT_MS = 500;
const PARTITION_MAX_BYTES = 1024 * 1024;
const AUTO_COMMIT_MS = 5_000;

export function runConsume(argv: string[], io: Output = stdio): Promise<number> {
  return runCommand("consume", USAGE, argv, io, async () => {
    const p = parseArgs(argv, OPTIONS);
    const topics = [...new Set([...p.all("topic"), ...p.positional])];
    if (topics.length === 0) throw new UsageError("--topic is required");
    const group = p.get("group") ?? null;
    const partitions = p.all("partition").map((x) => {
      if (!/^\d+$/.test(x)) throw new UsageError(`--partition expects a partition number, got "${x}"`);
      return Number(x);
    });
    if (group && partitions.length > 0) throw new UsageError("--partition and --group do not go together (the group assigns partitions)");
    if (partitions.length > 0 && topics.length > 1) throw new UsageError("--partition needs a single --topic");
    if (p.has("from-beginning") && p.has("offset")) throw new UsageError("--from-beginning and --offset do not go together");
    const start = p.has("from-beginning") ? ({ kind: "earliest" } as const) : parseStart(p.get("offset") ?? (group ? "stored" : "end"));
    if (start.kind === "stored" && !group) throw new UsageError("--offset stored needs --group");
    if (p.has("json") && p.has("format")) throw new UsageError("--json and --format do not go together");
    let format: Formatter;
    try {
      format = p.has("json") ? jsonFormat : compileFormat(p.get("format") ?? "%s\\n");
    } catch (e) {
      throw new UsageError(`--format: ${(e as Error).message}`);
    }
    const isolation = p.get("isolation-level") ?? "read_uncommitted";
    if (isolation !== "read_uncommitted" && isolation !== "read_committed")
      throw new UsageError("--isolation-level must be read_uncommitted or read_committed");
    const opts: Options = {
      topics,
      partitions: partitions.length > 0 ? partitions : null,
      start,
      group,
      count: intOption(p, "count", Number.MAX_SAFE_INTEGER, 1),
      exitAtEnd: p.has("exit"),
      format,
      readCommitted: isolation === "read_committed",
    };
    const { bootstrap, timeoutMs } = connectionOf(p);
    const cluster = new Cluster(bootstrap, timeoutMs, "brook-consume");
    const stop = stopSignal();
    try {
      const consumer = new Consumer(cluster, opts, io, stop.requested);
      await (group ? consumer.runInGroup(group) : consumer.runAssigned());
      return 0;
    } finally {
      stop.dispose();
      await cluster.close();
    }
  });
}

/** SIGINT/SIGTERM end the run cleanly (commit, leave the group) instead of killing the process. */
function stopSignal(): { requested: { stopped: boolean; wait: Promise<void> }; dispose(): void } {
  let resolve!: () => void;
  const requested = { stopped: false, wait: new Promise<void>((r) => (resolve = r)) };
  const onSignal = () => {
    requested.stopped = true;
    resolve();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    requested,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

class Consumer {
  private states = new Map<string, PartitionState>();
  private printed = 0;
  private dirty = false;
  private readonly isolationLevel: number;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: Options,
    private readonly io: Output,
    private readonly stop: { stopped: boolean; wait: Promise<void> },
  ) {
    this.isolationLevel = opts.readCommitted ? 1 : 0;
  }

  private get done(): boolean {
    if (this.stop.stopped || this.printed >= this.opts.count) return true;
    return this.opts.exitAtEnd && [...this.states.values()].every((s) => s.atEnd);
  }

  /** Reads the given (or all) partitions of the topics, no group. */
  async runAssigned(): Promise<void> {
    const info = await this.cluster.requireTopics(this.opts.topics);
    const tps: { topic: string; partition: number }[] = [];
    for (const topic of this.opts.topics) {
      const count = info.get(topic)!.partitions.length;
      const wanted = this.opts.partitions ?? [...Array(count).keys()];
      for (const partition of wanted) {
        if (partition >= count) throw new CliError(`partition ${partition} of '${topic}' does not exist (it has ${count})`);
        tps.push({ topic, partition });
      }
    }
    this.states = await this.startingAt(tps, new Map());
    while (!this.done) await this.fetchRound();
  }

  /** Reads as a member of `groupId`: assigned partitions, committed offsets, commits. */
  async runInGroup(groupId: string): Promise<void> {
    await this.cluster.requireTopics(this.opts.topics);
    const member = new GroupMember(this.cluster, { groupId, topics: this.opts.topics });
    let lastCommit = Date.now();
    try {
      while (!this.stop.stopped && this.printed < this.opts.count) {
        if (member.needsRejoin) {
          // Eager protocol: what was read so far is committed before the partitions go back.
          if (this.dirty) await member.commit(this.positions());
          // A join can wait for the whole group (up to the rebalance timeout); a signal ends the wait.
          const assignment = await Promise.race([member.join(), this.stop.wait.then(() => null)]);
          if (assignment === null) break;
          this.states = await this.startingAt(flatten(assignment), await member.committed(assignment));
          this.dirty = false;
        }
        if (this.done) break;
        if (this.states.size === 0) {
          // nothing assigned (more members than partitions): wait for a rebalance or a signal
          await Promise.race([Bun.sleep(FETCH_WAIT_MS), this.stop.wait]);
          continue;
        }
        await this.fetchRound();
        if (this.dirty && Date.now() - lastCommit >= AUTO_COMMIT_MS) {
          if (await member.commit(this.positions())) this.dirty = false;
          lastCommit = Date.now();
        }
      }
      if (this.dirty && !member.needsRejoin) await member.commit(this.positions());
    } finally {
      await member.leave();
    }
  }

  private positions(): Map<string, number> {
    return new Map([...this.states.values()].map((s) => [tpKey(s.topic, s.partition), s.position]));
  }

  /** Where each partition starts: its committed offset if there is one, else what -o says. */
  private async startingAt(tps: { topic: string; partition: number }[], committed: Map<string, number>): Promise<Map<string, PartitionState>> {
    const out = new Map<string, PartitionState>();
    const rest = tps.filter((tp) => !committed.has(tpKey(tp.topic, tp.partition)));
    for (const tp of tps) {
      const c = committed.get(tpKey(tp.topic, tp.partition));
      if (c !== undefined) out.set(tpKey(tp.topic, tp.partition), { ...tp, position: c, atEnd: false });
    }
    if (rest.length === 0) return out;
    const start = this.opts.start;
    let positions: Map<string, number>;
    switch (start.kind) {
      case "earliest":
        positions = await this.cluster.listOffsets(rest, EARLIEST, this.isolationLevel);
        break;
      case "latest":
      case "stored": // no committed offset: Kafka's default auto.offset.reset, latest
        positions = await this.cluster.listOffsets(rest, LATEST, this.isolationLevel);
        break;
      case "offset":
        positions = new Map(rest.map((tp) => [tpKey(tp.topic, tp.partition), start.offset]));
        break;
      case "fromEnd": {
        const [first, last] = await Promise.all([
          this.cluster.listOffsets(rest, EARLIEST, this.isolationLevel),
          this.cluster.listOffsets(rest, LATEST, this.isolationLevel),
        ]);
        positions = new Map([...last].map(([k, end]) => [k, Math.max(first.get(k)!, end - start.count)]));
        break;
      }
      case "time": {
        const found = await this.cluster.listOffsets(rest, start.timestamp, this.isolationLevel);
        const missing = rest.filter((tp) => found.get(tpKey(tp.topic, tp.partition))! < 0);
        // No record that recent: start at the end, as Kafka's offsetsForTimes users do.
        if (missing.length > 0) for (const [k, v] of await this.cluster.listOffsets(missing, LATEST, this.isolationLevel)) found.set(k, v);
        positions = found;
        break;
      }
    }
    for (const tp of rest) out.set(tpKey(tp.topic, tp.partition), { ...tp, position: positions.get(tpKey(tp.topic, tp.partition))!, atEnd: false });
    return out;
  }

  /** One Fetch per leader for every partition being read (by topic name: v12 at most); prints what comes back. */
  private async fetchRound(): Promise<void> {
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of this.states.values()) {
      const leader = this.cluster.topics.get(s.topic)?.partitions[s.partition]?.leader ?? -1;
      let list = byLeader.get(leader);
      if (!list) byLeader.set(leader, (list = []));
      list.push(s);
    }
    let refresh = byLeader.has(-1);
    const outOfRange: PartitionState[] = [];
    await Promise.all(
      [...byLeader].map(async ([leader, states]) => {
        if (leader < 0) return;
        const byTopic = new Map<string, PartitionState[]>();
        for (const s of states) {
          let list = byTopic.get(s.topic);
          if (!list) byTopic.set(s.topic, (list = []));
          list.push(s);
        }
        const c = await this.cluster.node(leader);
        const r = await c.request(Fetch, {
          replicaId: -1,
          maxWaitMs: FETCH_WAIT_MS,
          minBytes: 1,
          maxBytes: 50 * 1024 * 1024,
          isolationLevel: this.isolationLevel,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...byTopic].map(([topic, list]) => ({
            topic,
            partitions: list.map((s) => ({ partition: s.partition, fetchOffset: s.position, partitionMaxBytes: PARTITION_MAX_BYTES })),
          })),
          forgottenTopicsData: [],
          rackId: "",
        }, Math.min(c.versionFor(Fetch), FETCH_BY_NAME_MAX_VERSION));
        if (r.errorCode !== ErrorCode.NONE) throw new CliError(`fetch from broker ${leader} failed: ${describeError(r.errorCode)}`);
        for (const t of r.responses)
          for (const pr of t.partitions) {
            const s = this.states.get(tpKey(t.topic, pr.partitionIndex));
            if (!s) continue;
            if (pr.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) outOfRange.push(s);
            else if (RETRIABLE.has(pr.errorCode)) refresh = true;
            else if (pr.errorCode !== ErrorCode.NONE)
              throw new CliError(`cannot fetch ${t.topic}-${pr.partitionIndex}: ${describeError(pr.errorCode)}`);
            else this.take(s, pr, leader);
          }
      }),
    );
    if (outOfRange.length > 0) await this.resetOutOfRange(outOfRange);
    if (refresh) {
      await Bun.sleep(100); // retry back-off while a leader moves
      await this.cluster.metadata([...new Set([...this.states.values()].map((s) => s.topic))]);
    }
  }

  /** A position outside the log: to the log start if it was before it, else to the end. */
  private async resetOutOfRange(states: PartitionState[]): Promise<void> {
    const [first, last] = await Promise.all([
      this.cluster.listOffsets(states, EARLIEST, this.isolationLevel),
      this.cluster.listOffsets(states, LATEST, this.isolationLevel),
    ]);
    for (const s of states) {
      const k = tpKey(s.topic, s.partition);
      s.position = s.position < first.get(k)! ? first.get(k)! : last.get(k)!;
    }
  }

  /** Prints the records of one partition's fetch response from the current position on. */
  private take(
    s: PartitionState,
    pr: { records: unknown; highWatermark: number; lastStableOffset: number; abortedTransactions: { producerId: number; firstOffset: number }[] | null },
    broker: number,
  ): void {
    const records = pr.records instanceof Uint8Array ? pr.records : null;
    if (records && records.length > 0) {
      // read_committed: producers whose transaction (starting at firstOffset) was aborted, in offset order
      const aborted = [...(pr.abortedTransactions ?? [])].sort((a, b) => a.firstOffset - b.firstOffset);
      const abortedProducers = new Set<number>();
      let stopped = false;
      iterateBatchHeaders(records, 0, records.length, (pos, size) => {
        let batch;
        try {
          batch = decodeRecords(records.subarray(pos, pos + size));
        } catch (e) {
          throw new CliError(`cannot read a record batch of ${s.topic}-${s.partition}: ${(e as Error).message}`);
        }
        const lastOffset = batch.baseOffset + batch.lastOffsetDelta;
        if (lastOffset < s.position) return;
        if (this.opts.readCommitted && batch.isTransactional) {
          while (aborted.length > 0 && aborted[0]!.firstOffset <= lastOffset) abortedProducers.add(aborted.shift()!.producerId);
        }
        let skip = batch.isControl;
        if (batch.isControl && batch.records[0]?.key && parseControlRecordKey(batch.records[0].key).type === ControlType.ABORT)
          abortedProducers.delete(batch.producerId);
        if (this.opts.readCommitted && batch.isTransactional && abortedProducers.has(batch.producerId)) skip = true;
        if (!skip) {
          for (const rec of batch.records) {
            if (rec.offset < s.position) continue;
            if (this.printed >= this.opts.count || this.stop.stopped) {
              stopped = true;
              return false;
            }
            this.io.write(
              this.opts.format({
                topic: s.topic,
                partition: s.partition,
                offset: rec.offset,
                timestamp: rec.timestamp,
                timestampType: batch.timestampType,
                key: rec.key,
                value: rec.value,
                headers: rec.headers,
                broker,
              }),
            );
            this.printed++;
            s.position = rec.offset + 1;
            this.dirty = true;
          }
        }
        // Past the whole batch, including offsets compaction removed and skipped markers.
        if (lastOffset + 1 > s.position) {
          s.position = lastOffset + 1;
          this.dirty = true;
        }
      });
      if (stopped) return;
    }
    const end = this.opts.readCommitted && pr.lastStableOffset >= 0 ? pr.lastStableOffset : pr.highWatermark;
    s.atEnd = s.position >= end;
  }
}

function flatten(assignment: TopicPartitions[]): { topic: string; partition: number }[] {
  return assignment.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })));
}
