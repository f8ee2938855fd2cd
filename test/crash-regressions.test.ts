// Regressions found by the crash-at-every-step driver (test/helpers/crash-driver.ts, bench/crash.ts),
// each reduced to the few steps that produce it.
import { afterEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { LOG_CHECKPOINT_FILE, LogDir } from "../src/log/log-dir.ts";
import { PartitionLog } from "../src/log/partition-log.ts";
import { makeBatch } from "./fixtures/make-batch.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

const dirs: TempDir[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await d.remove();
});

async function newDir(): Promise<string> {
  const d = await tempDir("brook-crash-regression-");
  dirs.push(d);
  return d.path;
}

const CONFIG = { segmentBytes: 8192, indexIntervalBytes: 512 };
const batch = (i: number) => makeBatch({ tag: `b${i}`, size: 600, maxTimestamp: 10_000 + i });

describe("log dir checkpoint", () => {
  test("a segment rolled after the checkpoint and then a crash: its index entries are not doubled, the next checkpoint is valid JSON", async () => {
    const root = await newDir();
    const dir = path.join(root, "t-0");
    let logDir = LogDir.open(root, { minFreeBytes: 0 });
    const log = PartitionLog.open(dir, CONFIG, { logDir });
    let i = 0;
    // Fill the active segment to just below segment.bytes: its index entries travel inline.
    while (log.segments.at(-1)!.size + batch(i).length <= CONFIG.segmentBytes) log.append(batch(i++));
    await logDir.checkpoint();
    log.append(batch(i++)); // rolls: the checkpoint's active segment is now sealed, unchanged
    expect(log.segments.length).toBe(2);
    const entries = (log as unknown as { segs: { indexEntries: number }[] }).segs[0]!.indexEntries;
    // The process dies here; the next start recovers the directory (the journal says it rolled).

    logDir = LogDir.open(root, { minFreeBytes: 0 });
    const again = PartitionLog.open(dir, CONFIG, { logDir });
    for (let o = 0; o < again.logEndOffset; o++) expect(again.read(o, 1)!.length).toBe(batch(o).length); // loads the indexes
    expect((again as unknown as { segs: { indexEntries: number }[] }).segs[0]!.indexEntries).toBe(entries);
    await logDir.checkpoint();
    expect(() => JSON.parse(fs.readFileSync(path.join(root, LOG_CHECKPOINT_FILE), "utf8"))).not.toThrow();
    again.close();
    logDir.close();

    // And the restart after it trusts the checkpoint: nothing is recovered from the segments.
    const third = LogDir.open(root, { minFreeBytes: 0 });
    expect(third.clean).toBe(true);
    const log3 = PartitionLog.open(dir, CONFIG, { logDir: third });
    expect(log3.openedFrom).toBe("checkpoint");
    expect(log3.logEndOffset).toBe(i);
    log3.close();
    third.close();
  });
});

describe("checkpoint encoding", () => {
  test("an index tail with -Infinity past its first entry still encodes as JSON and decodes back", async () => {
    const { decodeIndexTail, segmentMetaJson } = await import("../src/log/segment.ts");
    const tail = [0, -Infinity, 0, 5, -Infinity, 600, 9, 10_003, 1200];
    const json = segmentMetaJson({ baseOffset: 0, size: 1800, nextOffset: 12, maxTimestamp: 10_004, maxTimestampPos: 1200, firstAppendAt: 1, indexEntries: 0, lastIndexedPos: 1200, indexTail: tail });
    const parsed = JSON.parse(json);
    expect(decodeIndexTail(parsed[8])).toEqual(tail);
  });
});

describe("compaction", () => {
  test("a checkpoint taken while the cleaner rewrites a segment, then a crash: the rewritten segment is not described by the old summary", async () => {
    const { compactLog } = await import("../src/log/cleaner.ts");
    const { encodeBatch } = await import("../protocol/records/records.ts");
    const { Change } = await import("../src/log/log-dir.ts");
    const root = await newDir();
    const dir = path.join(root, "c-0");
    let clock = 1_000_000;
    const config = { segmentBytes: 1 << 20, segmentMs: 1000, indexIntervalBytes: 512, now: () => clock };
    let logDir = LogDir.open(root, { minFreeBytes: 0 });
    const log = PartitionLog.open(dir, config, { logDir });
    const put = (key: string, i: number) => log.append(encodeBatch({ records: [{ key, value: `value-${i}`.padEnd(80, ".") }] }));
    for (let i = 0; i < 30; i++) put(`unique-${i}`, i); // a segment the cleaner leaves as it is
    clock += 2000;
    for (let i = 0; i < 20; i++) put(`k${i % 4}`, i); // the one it rewrites
    clock += 2000;
    put("k0", 99); // rolls: the second segment is sealed
    expect(log.segments.length).toBe(3);
    await logDir.checkpoint();
    const markedBefore = log.journalMark.generation; // the roll's, in the journal before that checkpoint
    let checkpoint: Promise<void> | null = null;
    const result = await compactLog(log, {
      deleteRetentionMs: 0,
      sliceMs: 0,
      now: () => clock,
      // Between slices, once the cleaner has announced its change: a periodic checkpoint comes.
      shouldStop: () => {
        if (!checkpoint && log.journalMark.generation > markedBefore && log.journalMark.change === Change.Segments) checkpoint = logDir.checkpoint();
        return false;
      },
    });
    expect([result!.segmentsRewritten, result!.segmentsRemoved]).toEqual([1, 0]);
    expect(checkpoint).not.toBeNull();
    await checkpoint;
    const expected = log.segments.map((s) => [s.baseOffset, s.size]);
    // The process dies here.

    logDir = LogDir.open(root, { minFreeBytes: 0 });
    const again = PartitionLog.open(dir, config, { logDir });
    expect(again.segments.map((s) => [s.baseOffset, s.size])).toEqual(expected);
    for (const s of again.segments) expect(fs.statSync(s.path).size).toBeGreaterThanOrEqual(s.size);
    for (let o = again.logStartOffset; o < again.logEndOffset; ) {
      const b = again.read(o, 1 << 20)!;
      expect(b.length).toBeGreaterThan(0);
      const v = new DataView(b.buffer, b.byteOffset);
      let pos = 0, last = o;
      while (pos < b.length) {
        last = Number(v.getBigInt64(pos)) + v.getInt32(pos + 23);
        pos += v.getInt32(pos + 8) + 12;
      }
      o = last + 1;
    }
    again.close();
    logDir.close();
  });
});

describe("topic deletion", () => {
  // DeleteTopics killed between its steps; the topic is then created again under the same name.
  for (const [point, deleted] of [
    ["topic.delete.after-rename", "finished at the restart (the catalogue still listed it)"],
    ["topic.delete.after-persist", "already in the catalogue; its renamed directories are removed"],
  ] as const) {
    test(`a crash at ${point}: the deletion is ${deleted}, and the re-created topic holds nothing of the old one`, async () => {
      const { spawnBroker } = await import("./helpers/broker.ts");
      const { Wire, batch, dataValues } = await import("./helpers/txn.ts");
      const { DeleteTopics } = await import("../protocol/apis/20-delete-topics.ts");
      const dir = await newDir();
      const first = await spawnBroker({ dataDir: dir, env: { BROOK_CRASH_POINT: `${point}:1` } });
      try {
        const w = await Wire.connect(first.address);
        await w.createTopic("t", 1);
        expect((await w.produce("t", 0, batch(null, 0, ["old-1", "old-2"]))).errorCode).toBe(0);
        await expect(w.client.request(DeleteTopics, 4, { topicNames: ["t"], timeoutMs: 5000 })).rejects.toThrow(/closed/);
        expect(await first.exited).toBeNull(); // killed at the crash point
        expect(fs.readdirSync(dir).filter((f) => f.endsWith("-delete"))).toHaveLength(1);
      } finally {
        await first.kill();
      }
      await using second = await spawnBroker({ dataDir: dir });
      await using w = await Wire.connect(second.address);
      expect((await w.fetch("t", 0, 0, 0)).errorCode).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION: deleted
      expect(fs.readdirSync(dir).filter((f) => f.startsWith("t-"))).toEqual([]);
      await w.createTopic("t", 1);
      expect((await w.produce("t", 0, batch(null, 0, ["new-1"]))).baseOffset).toBe(0);
      expect(dataValues((await w.fetch("t", 0, 0, 0)).records)).toEqual(["new-1"]);
      if (point.endsWith("rename")) expect(second.output().stderr).toMatch(/topic t: finishing its deletion/);
    });
  }
});
