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
