// Restarts with stored indexes and the log dir's checkpoint (src/log/log-dir.ts, index-file.ts): what a
// restart reads, measured with the log's read counters (logReadStats).
//  - after a clean shutdown: no record data, no index file, no segment mapping until something reads,
//    and then the stored indexes are complete (a stock consumer reads everything back);
//  - after a process crash: only what was appended after the last checkpoint is walked;
//  - after a power loss (another boot id): the active segment is walked and checked in full;
//  - a torn, corrupt or missing index file is detected and rebuilt from the log, from its last good
//    entry on, and written back;
//  - a checkpoint entry of another topic id is ignored; the per-partition format of earlier versions is
//    taken over; open files and mappings stay within their budgets.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { readBatchHeader } from "../protocol/records/batch.ts";
import { startBroker } from "../src/index.ts";
import { INDEX_ENTRY, INDEX_HEADER } from "../src/log/index-file.ts";
import { CLEAN_SHUTDOWN_FILE, Change, LOG_CHECKPOINT_FILE, LogDir } from "../src/log/log-dir.ts";
import { PartitionLog, type LogConfig } from "../src/log/partition-log.ts";
import { indexPathOf, logReadStats, segmentBudgets } from "../src/log/segment.ts";
import { concat, makeBatch, payloadOf } from "./fixtures/make-batch.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

const dirs: TempDir[] = [];
const logs: PartitionLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) if (!l.isClosed) l.close();
  for (const d of dirs.splice(0)) await d.remove();
});

async function newDir(): Promise<string> {
  const d = await tempDir("brook-restart-");
  dirs.push(d);
  return d.path;
}

function resetStats(): void {
  for (const k of Object.keys(logReadStats) as (keyof typeof logReadStats)[]) logReadStats[k] = 0;
}

function open(dir: string, config: Partial<LogConfig> = {}): PartitionLog {
  const log = PartitionLog.open(dir, { segmentBytes: 8192, indexIntervalBytes: 512, ...config });
  logs.push(log);
  return log;
}

/** A log whose process died: dropped without a close (its files stay as they are). */
function crash(log: PartitionLog): void {
  logs.splice(logs.indexOf(log), 1);
}

const batch = (i: number) => makeBatch({ count: 1 + (i % 3), tag: `b${i}`, size: 200 + ((i * 37) % 300), maxTimestamp: 10_000 + i });

/** Appends batches i in [from, to); returns their total size. */
function appendRange(log: PartitionLog, from: number, to: number): number {
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const b = batch(i);
    bytes += b.length;
    log.append(b);
  }
  return bytes;
}

/** Every batch from the log start, walking read(); checks each against batch(i). */
function expectBatches(log: PartitionLog, count: number): void {
  let i = 0;
  for (let o = log.logStartOffset; o < log.logEndOffset; i++) {
    const b = log.read(o, 1)!;
    const h = readBatchHeader(b);
    expect(payloadOf(b)).toEqual(payloadOf(batch(i)));
    expect(h.maxTimestamp).toBe(10_000 + i);
    o = h.baseOffset + h.lastOffsetDelta + 1;
  }
  expect(i).toBe(count);
  // Time lookups go through the stored time index as well.
  expect(log.offsetForTimestamp(10_000 + count - 1)!.batch.length).toBe(batch(count - 1).length);
}

function segmentSizes(log: PartitionLog): number[] {
  return log.segments.map((s) => s.size);
}

describe("through the broker, with stock clients", () => {
  test("a clean restart reads no record data and opens no segment; then stock clients read everything through the stored indexes", async () => {
    const dataDir = await newDir();
    const overrides = { "log.segment.bytes": 16 * 1024, "group.initial.rebalance.delay.ms": 0 };
    const sent = new Map<string, string[]>();
    {
      await using b = await startBroker({ dataDir, logLevel: "warn", overrides });
      const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "plain", numPartitions: 3 }, { topic: "idem", numPartitions: 2 }] });
      await admin.disconnect();
      // One producer as most clients are configured, one idempotent (its producer state must survive too).
      for (const [topic, idempotent] of [["plain", false], ["idem", true]] as const) {
        const producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : undefined });
        await producer.connect();
        for (let round = 0; round < 10; round++) {
          const messages = Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `${topic}-${round}-${i}-`.padEnd(900, "x") }));
          for (const m of messages) sent.set(`${topic}/${m.key}`, [...(sent.get(`${topic}/${m.key}`) ?? []), m.value]);
          await producer.send({ topic, messages });
        }
        await producer.disconnect();
      }
      const multi = [...b.broker.topics.all()].flatMap((t) => t.partitions).filter((p) => p.log.segments.length > 2);
      expect(multi.length).toBeGreaterThan(0); // several segments, sealed ones among them
    }

    resetStats();
    await using b = await startBroker({ dataDir, logLevel: "warn", overrides });
    expect({ ...logReadStats }).toEqual({ recordBytesScanned: 0, batchesScanned: 0, indexesRebuilt: 0, indexFilesLoaded: 0, mappingsCreated: 0 });

    const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: "restart-reader" });
    const got = new Map<string, string[]>();
    let total = 0;
    const expected = [...sent.values()].reduce((n, v) => n + v.length, 0);
    const all = new Promise<void>((resolve) => {
      void consumer.connect().then(async () => {
        await consumer.subscribe({ topics: ["plain", "idem"], fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ topic, message }) => {
            const k = `${topic}/${message.key!.toString()}`;
            got.set(k, [...(got.get(k) ?? []), message.value!.toString()]);
            if (++total === expected) resolve();
          },
        });
      });
    });
    await all;
    await consumer.disconnect();
    expect(got).toEqual(sent); // every record, per key in order
    expect(logReadStats.indexFilesLoaded).toBeGreaterThan(0);
    expect(logReadStats.indexesRebuilt).toBe(0);
    expect(logReadStats.recordBytesScanned).toBe(0); // the stored indexes were complete

    // The idempotent producer's state came back from the checkpoint: a new producer goes on normally.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const [r] = await producer.send({ topic: "idem", messages: [{ key: "k0", value: "after" }] });
    expect(r!.errorCode).toBe(0);
    await producer.disconnect();
  });

  test("a checkpoint entry of another topic id (a deleted and re-created topic) is not trusted", async () => {
    const dataDir = await newDir();
    const values = Array.from({ length: 30 }, (_, i) => `v${i}`);
    let size = 0;
    {
      await using b = await startBroker({ dataDir, logLevel: "warn" });
      const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      for (const v of values) await producer.send({ topic: "again", messages: [{ value: v }] });
      await producer.disconnect();
      size = b.broker.topics.partition("again", 0)!.log.size;
    }
    // As if the checkpoint were from the topic's earlier life, and the broker had then crashed.
    const file = path.join(dataDir, LOG_CHECKPOINT_FILE);
    const ckpt = JSON.parse(fs.readFileSync(file, "utf8"));
    ckpt.logs["again-0"].t = "f".repeat(32);
    ckpt.logs["again-0"].g = [[0, 10, 1, 0, 0, 0, 0, 0, []]];
    fs.writeFileSync(file, JSON.stringify(ckpt));
    fs.rmSync(path.join(dataDir, CLEAN_SHUTDOWN_FILE));

    resetStats();
    await using b = await startBroker({ dataDir, logLevel: "warn" });
    expect(logReadStats.recordBytesScanned).toBe(size); // walked in full, not taken from the entry
    const kafka = new Kafka({ brokers: [b.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const [o] = await admin.fetchTopicOffsets("again");
    await admin.disconnect();
    expect([o!.low, o!.high]).toEqual(["0", "30"]);
  });
});

describe("recovery reads only what it must", () => {
  test("after a crash, only what was appended since the last checkpoint is walked", async () => {
    const dir = await newDir();
    const log = open(dir);
    appendRange(log, 0, 40);
    await log.directory.checkpoint();
    const after = appendRange(log, 40, 45); // no roll: the checkpoint's active segment goes on
    expect(log.segments.at(-1)!.size).toBeGreaterThan(after);
    crash(log);

    resetStats();
    const again = open(dir);
    expect(logReadStats.recordBytesScanned).toBe(after);
    expect(logReadStats.indexesRebuilt).toBe(0);
    expectBatches(again, 45);
    expect(again.append(batch(45)).baseOffset).toBe(again.logEndOffset - 1 - (45 % 3));
  });

  test("after a crash, partitions the journal does not name open from the checkpoint alone", async () => {
    const root = await newDir();
    const dirOf = (i: number) => path.join(root, `t-${i}`);
    let logDir = LogDir.open(root, { minFreeBytes: 0 });
    const parts = [0, 1, 2, 3].map((i) => PartitionLog.open(dirOf(i), { segmentBytes: 8192, indexIntervalBytes: 512 }, { logDir }));
    for (const log of parts) appendRange(log, 0, 30);
    await logDir.checkpoint();
    const tail = appendRange(parts[2]!, 30, 33); // only this one changes after the checkpoint
    // The process dies here: nothing is closed.

    resetStats();
    logDir = LogDir.open(root, { minFreeBytes: 0 });
    expect([logDir.clean, logDir.changeSince("t-0"), logDir.changeSince("t-2")]).toEqual([false, Change.None, Change.Appended]);
    const again = [0, 1, 2, 3].map((i) => PartitionLog.open(dirOf(i), { segmentBytes: 8192, indexIntervalBytes: 512 }, { logDir }));
    logs.push(...again);
    expect({ ...logReadStats }).toEqual({ recordBytesScanned: tail, batchesScanned: 3, indexesRebuilt: 0, indexFilesLoaded: 0, mappingsCreated: 0 });
    again.forEach((log, i) => expectBatches(log, i === 2 ? 33 : 30));
    expect(logReadStats.recordBytesScanned).toBe(tail);
    for (const log of again) log.close();
    logDir.close();
  });

  test("a clean stop with many unsynced logs fsyncs none of them: the same boot trusts its checkpoint, a reboot checks what is past the recovery points", async () => {
    const root = await newDir();
    const N = 70; // more files with unsynced data than a stop fsyncs one by one
    const dirOf = (i: number) => path.join(root, `t-${i}`);
    const cfg = { segmentBytes: 8192, indexIntervalBytes: 512 };
    let logDir = LogDir.open(root, { minFreeBytes: 0 });
    let parts = Array.from({ length: N }, (_, i) => PartitionLog.open(dirOf(i), cfg, { logDir }));
    for (const log of parts) appendRange(log, 0, 3);
    parts[0]!.flush(); // this one is fsynced: its recovery point is its end
    const allBytes = parts.reduce((n, l) => n + l.size, 0);
    for (const log of parts) log.close();
    logDir.close();
    expect(JSON.parse(fs.readFileSync(path.join(root, CLEAN_SHUTDOWN_FILE), "utf8")).synced).toBe(false);
    const checkpoint = JSON.parse(fs.readFileSync(path.join(root, LOG_CHECKPOINT_FILE), "utf8"));
    expect(checkpoint.logs["t-0"].r).toBe(parts[0]!.logEndOffset);
    expect(checkpoint.logs["t-1"].r).toBe(0); // not claimed durable

    // Same boot: clean, nothing read.
    resetStats();
    logDir = LogDir.open(root, { minFreeBytes: 0 });
    expect(logDir.clean).toBe(true);
    parts = Array.from({ length: N }, (_, i) => PartitionLog.open(dirOf(i), cfg, { logDir }));
    expect(logReadStats.recordBytesScanned).toBe(0);
    parts.forEach((log) => expectBatches(log, 3));
    for (const log of parts) log.close();
    logDir.close();

    // Another boot (a power loss after the stop): checked as after a power loss while running (the active
    // segments in full; these logs have one segment each).
    const file = path.join(root, LOG_CHECKPOINT_FILE);
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), bootId: "another boot" }));
    resetStats();
    logDir = LogDir.open(root, { minFreeBytes: 0 });
    expect(logDir.clean).toBe(false);
    parts = Array.from({ length: N }, (_, i) => PartitionLog.open(dirOf(i), cfg, { logDir }));
    logs.push(...parts);
    expect(logReadStats.recordBytesScanned).toBe(allBytes);
    parts.forEach((log) => expectBatches(log, 3));
  });

  test("a clean stop fsyncs a little unsynced data, but not tens of MiB even in one file", async () => {
    const stopWith = async (mib: number) => {
      const root = await newDir();
      const logDir = LogDir.open(root, { minFreeBytes: 0 });
      const log = PartitionLog.open(path.join(root, "t-0"), { segmentBytes: 64 << 20, indexIntervalBytes: 4096 }, { logDir });
      for (let i = 0; i < mib; i++) log.append(makeBatch({ size: (1 << 20) - 61 }));
      log.close();
      logDir.close();
      const synced = JSON.parse(fs.readFileSync(path.join(root, CLEAN_SHUTDOWN_FILE), "utf8")).synced;
      const recoveryPoint = JSON.parse(fs.readFileSync(path.join(root, LOG_CHECKPOINT_FILE), "utf8")).logs["t-0"].r;
      return { synced, recoveryPoint };
    };
    expect(await stopWith(2)).toEqual({ synced: true, recoveryPoint: 2 });
    expect(await stopWith(40)).toEqual({ synced: false, recoveryPoint: 0 });
  });

  test("after a crash with segments rolled since the checkpoint: the sealed ones come from their index files", async () => {
    const dir = await newDir();
    const log = open(dir);
    appendRange(log, 0, 20);
    await log.directory.checkpoint();
    const segsAtCheckpoint = log.segments.length;
    appendRange(log, 20, 60);
    expect(log.segments.length).toBeGreaterThan(segsAtCheckpoint + 1);
    const activeSize = log.segments.at(-1)!.size;
    crash(log);

    resetStats();
    const again = open(dir);
    expect(logReadStats.recordBytesScanned).toBe(activeSize); // a segment the checkpoint never saw
    expectBatches(again, 60);
  });

  test("after a crash, retention and DeleteRecords done since the checkpoint hold", async () => {
    const dir = await newDir();
    const log = open(dir);
    appendRange(log, 0, 60);
    await log.directory.checkpoint();
    const segs = log.segments;
    expect(log.deleteSegmentsBefore(segs[2]!.baseOffset)).toBe(2); // retention
    const start = segs[3]!.baseOffset + 1;
    log.setLogStartOffset(start); // DeleteRecords, inside a segment
    crash(log);

    const again = open(dir);
    expect(again.logStartOffset).toBe(start);
    expect(again.segments.map((s) => s.baseOffset)).toEqual(segs.slice(3).map((s) => s.baseOffset));
    expect(again.read(start - 1, 1)).toBeNull();
    expect(again.logEndOffset).toBe(log.logEndOffset);
  });

  test("after a power loss (another boot id) the active segment is walked and checked in full", async () => {
    const dir = await newDir();
    const log = open(dir);
    appendRange(log, 0, 50);
    log.flush();
    await log.directory.checkpoint();
    appendRange(log, 50, 55);
    const activeSize = log.segments.at(-1)!.size;
    crash(log);
    const file = path.join(dir, LOG_CHECKPOINT_FILE);
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), bootId: "another boot" }));

    resetStats();
    const again = open(dir);
    expect(logReadStats.recordBytesScanned).toBe(activeSize);
    expectBatches(again, 55);
  });

  test("the active segment's index file torn by the crash: rebuilt from its last good entry", async () => {
    const dir = await newDir();
    const log = open(dir, { segmentBytes: 1 << 20 });
    appendRange(log, 0, 60);
    await log.directory.checkpoint();
    const checkpointed = log.size;
    const tail = appendRange(log, 60, 64);
    crash(log);
    const index = indexPathOf(log.segments[0]!.path);
    const entries = (fs.statSync(index).size - INDEX_HEADER) / INDEX_ENTRY;
    expect(entries).toBeGreaterThan(10);
    fs.truncateSync(index, INDEX_HEADER + 6 * INDEX_ENTRY + 11);

    resetStats();
    const again = open(dir, { segmentBytes: 1 << 20 });
    expect(logReadStats.recordBytesScanned).toBe(tail); // recovery itself reads only the tail
    expectBatches(again, 64); // the first read loads the index: torn, so rebuilt from its sixth entry
    expect(logReadStats.indexesRebuilt).toBe(1);
    expect(logReadStats.recordBytesScanned).toBeGreaterThan(2 * tail);
    expect(logReadStats.recordBytesScanned).toBeLessThan(checkpointed);
  });
});

describe("index files", () => {
  const damages: [string, (file: string) => void, "partial" | "full"][] = [
    ["an entry corrupted", (f) => {
      const b = fs.readFileSync(f);
      b[INDEX_HEADER + 5 * INDEX_ENTRY + 3] ^= 0x40;
      fs.writeFileSync(f, b);
    }, "partial"],
    ["torn in the middle of an entry", (f) => fs.truncateSync(f, INDEX_HEADER + 7 * INDEX_ENTRY + 10), "partial"],
    ["missing", (f) => fs.rmSync(f), "full"],
    ["its header overwritten", (f) => {
      const b = fs.readFileSync(f);
      b.fill(0x5a, 0, INDEX_HEADER);
      fs.writeFileSync(f, b);
    }, "full"],
    ["the index of another segment", (f) => {
      const other = path.join(path.dirname(f), fs.readdirSync(path.dirname(f)).filter((n) => n.endsWith(".index")).sort()[1]!);
      fs.copyFileSync(other, f);
    }, "full"],
  ];
  for (const [name, damage, extent] of damages) {
    test(`a sealed segment's index file ${name}: detected, rebuilt from the log and written back`, async () => {
      const dir = await newDir();
      const log = open(dir);
      appendRange(log, 0, 80);
      const first = log.segments[0]!;
      expect(log.segments.length).toBeGreaterThan(2);
      log.close();
      damage(indexPathOf(first.path));

      resetStats();
      const again = open(dir);
      expect(logReadStats.indexFilesLoaded).toBe(0); // loaded when first needed
      expectBatches(again, 80);
      expect(logReadStats.indexesRebuilt).toBe(1);
      if (extent === "full") expect(logReadStats.recordBytesScanned).toBe(first.size);
      else {
        expect(logReadStats.recordBytesScanned).toBeGreaterThan(0);
        expect(logReadStats.recordBytesScanned).toBeLessThan(first.size);
      }
      again.close();

      resetStats();
      expectBatches(open(dir), 80);
      expect(logReadStats.indexesRebuilt).toBe(0);
      expect(logReadStats.recordBytesScanned).toBe(0);
    });
  }

  test("a segment file shorter than its checkpoint says is an error on read, not a crash", async () => {
    const dir = await newDir();
    const log = open(dir);
    appendRange(log, 0, 40);
    log.close();
    const first = log.segments[0]!;
    fs.truncateSync(first.path, 100);
    const again = open(dir);
    expect(() => again.read(0, 1)).toThrow(/fewer than the/);
  });
});

describe("formats and limits", () => {
  test("a log dir of the earlier format (checkpoint.json per partition, no index files) is taken over", async () => {
    const dir = await newDir();
    const batches = Array.from({ length: 12 }, (_, i) => batch(i));
    let offset = 0;
    const stamped = batches.map((b) => {
      const c = makeBatch({ count: 1 + (batches.indexOf(b) % 3), tag: `b${batches.indexOf(b)}`, size: payloadOf(b).length, maxTimestamp: readBatchHeader(b).maxTimestamp, baseOffset: offset });
      offset += 1 + (batches.indexOf(b) % 3);
      return c;
    });
    fs.writeFileSync(path.join(dir, "00000000000000000000.log"), concat(...stamped));
    fs.writeFileSync(path.join(dir, "checkpoint.json"), JSON.stringify({ clean: true, recoveryPoint: offset, logStartOffset: 3 }));
    const log = open(dir);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([3, offset]);
    expect(fs.existsSync(path.join(dir, "checkpoint.json"))).toBe(false);
    log.close();
    resetStats();
    const again = open(dir);
    expect(logReadStats.recordBytesScanned).toBe(0);
    expect([again.logStartOffset, again.logEndOffset]).toEqual([3, offset]);
    expect(payloadOf(again.read(3, 1)!)).toEqual(payloadOf(batch(2)));
  });

  test("open files and mappings stay within their budgets across many logs", async () => {
    const { limits } = segmentBudgets({ openFiles: 4, mappings: 4 });
    try {
      const many = await Promise.all(Array.from({ length: 12 }, () => newDir()));
      const opened = many.map((d) => open(d));
      for (let round = 0; round < 3; round++)
        opened.forEach((log, j) => {
          log.append(makeBatch({ tag: `l${j}-r${round}`, size: 100 }));
          expect(payloadOf(log.read(round, 1)!)).toEqual(payloadOf(makeBatch({ tag: `l${j}-r${round}`, size: 100 })));
          const now = segmentBudgets();
          expect(now.openFiles).toBeLessThanOrEqual(4);
          expect(now.mappings).toBeLessThanOrEqual(4);
        });
      opened.forEach((log, j) => {
        for (let r = 0; r < 3; r++) expect(payloadOf(log.read(r, 1)!)).toEqual(payloadOf(makeBatch({ tag: `l${j}-r${r}`, size: 100 })));
      });
    } finally {
      segmentBudgets(limits);
    }
  });
});
