import { afterEach, describe, expect, spyOn, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readBatchHeader, validateBatches } from "../protocol/records/batch.ts";
import { CLEAN_SHUTDOWN_FILE, LOG_CHECKPOINT_FILE } from "../src/log/log-dir.ts";
import { PartitionLog, type LogConfig } from "../src/log/partition-log.ts";
import { baseOffsetOf, concat, fill, makeBatch, payloadOf, type MakeBatch } from "./fixtures/make-batch.ts";
import { writerBatch } from "./fixtures/log-writer.ts";

const dirs: string[] = [];
const logs: PartitionLog[] = [];
afterEach(() => {
  for (const l of logs.splice(0)) l.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "brook-"));
  dirs.push(d);
  return d;
}
function open(dir: string, config: Partial<LogConfig> = {}): PartitionLog {
  const log = PartitionLog.open(dir, { segmentBytes: 1 << 20, ...config });
  logs.push(log);
  return log;
}
/** Close and forget (so afterEach doesn't close it again). */
function closeLog(log: PartitionLog): void {
  log.close();
  logs.splice(logs.indexOf(log), 1);
}
/** All batches of the log, walking read() from the start. */
function allBatches(log: PartitionLog): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = log.logStartOffset; o < log.logEndOffset; ) {
    const b = log.read(o, 1)!;
    const h = readBatchHeader(b);
    out.push(b);
    o = h.baseOffset + h.lastOffsetDelta + 1;
  }
  return out;
}
const headerOf = (b: Uint8Array) => readBatchHeader(b);
/** Marks the log as not cleanly shut down, as after a crash of the process. */
function markUnclean(dir: string): void {
  fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
}
/** As after a power loss: not clean, and the checkpoint is from another boot (the page cache is gone). */
function markPowerLoss(dir: string): void {
  markUnclean(dir);
  const f = path.join(dir, LOG_CHECKPOINT_FILE);
  fs.writeFileSync(f, JSON.stringify({ ...JSON.parse(fs.readFileSync(f, "utf8")), bootId: "another boot" }));
}

describe("append and read", () => {
  test("an empty directory opens as an empty log at offset 0", () => {
    const log = open(tmpDir());
    expect([log.logStartOffset, log.logEndOffset, log.size]).toEqual([0, 0, 0]);
    expect(log.read(0, 1000)!.length).toBe(0);
    expect(log.read(1, 1000)).toBeNull();
    expect(log.offsetForTimestamp(0)).toBeNull();
    expect(log.maxTimestampBatch()).toBeNull();
    expect(log.segments.map((s) => path.basename(s.path))).toEqual(["00000000000000000000.log"]);
  });

  test("offsets, exact and mid-batch reads, stored header rewrite", () => {
    const log = open(tmpDir());
    const a = makeBatch({ count: 3, tag: "a" }), b = makeBatch({ count: 1, tag: "b" }), c = makeBatch({ count: 5, tag: "c" });
    expect(log.append(a)).toEqual({ baseOffset: 0, lastOffset: 2 });
    expect(log.append(b, 1)).toEqual({ baseOffset: 3, lastOffset: 3 });
    expect(log.append(c, 5, headerOf(c).maxTimestamp)).toEqual({ baseOffset: 4, lastOffset: 8 });
    expect(log.logEndOffset).toBe(9);
    expect(log.size).toBe(a.length + b.length + c.length);

    const whole = log.read(0, 1 << 20)!;
    expect(whole.length).toBe(log.size);
    for (const off of [0, 1, 2]) expect(log.read(off, 1)!.length).toBe(a.length);
    const r1 = log.read(1, 10_000)!; // mid-batch: starts at the containing batch
    expect(baseOffsetOf(r1)).toBe(0);
    expect(r1.length).toBe(whole.length);
    const r3 = log.read(3, 1)!;
    expect([baseOffsetOf(r3), r3.length]).toEqual([3, b.length]);
    expect(payloadOf(r3)).toEqual(payloadOf(b));
    const r6 = log.read(6, 1)!;
    expect(headerOf(r6)).toMatchObject({ baseOffset: 4, partitionLeaderEpoch: 0, recordCount: 5 });
    expect(validateBatches(r6, { maxBatchBytes: 1 << 20 }).ok).toBe(true); // CRC still valid
    expect(log.read(9, 100)!.length).toBe(0);
    expect(log.read(10, 100)).toBeNull();
    expect(log.read(-1, 100)).toBeNull();
    expect(() => log.append(makeBatch({ count: 2 }), 3)).toThrow();
    expect(() => log.append(a.subarray(0, 70))).toThrow();
  });

  test("several batches in one append get consecutive offsets", () => {
    const log = open(tmpDir());
    log.append(makeBatch());
    expect(log.append(concat(makeBatch({ count: 2 }), makeBatch({ count: 3 })), 5)).toEqual({ baseOffset: 1, lastOffset: 5 });
    expect(allBatches(log).map((b) => baseOffsetOf(b))).toEqual([0, 1, 3]);
  });

  test("maxBytes takes whole batches only, but at least one (KIP-74)", () => {
    const log = open(tmpDir());
    const sizes = [300, 100, 500].map((s, i) => makeBatch({ size: s, tag: `t${i}` }));
    for (const b of sizes) log.append(b);
    const [s0, s1, s2] = sizes.map((b) => b.length) as [number, number, number];
    expect(log.read(0, s0 + s1)!.length).toBe(s0 + s1);
    expect(log.read(0, s0 + s1 + s2 - 1)!.length).toBe(s0 + s1);
    expect(log.read(0, 1)!.length).toBe(s0);
    expect(log.read(0, 0)!.length).toBe(s0);
    expect(log.read(2, 10)!.length).toBe(s2);
    expect(log.read(0, 1, false)!.length).toBe(0);
  });

  test("reads are views of the mapping, not copies", () => {
    const log = open(tmpDir());
    log.append(makeBatch({ size: 1000 }));
    const r = log.read(0, 1 << 20)!;
    expect(r.buffer).toBe(log.read(0, 1 << 20)!.buffer);
    expect(r.byteOffset).toBe(0);
  });
});

describe("segments", () => {
  test("roll by size; sealed files trimmed; reads continue into the next segment", () => {
    const dir = tmpDir();
    const log = open(dir, { segmentBytes: 1000 });
    const batch = (i: number) => makeBatch({ size: 239, tag: `s${i}` }); // 300 bytes each
    for (let i = 0; i < 7; i++) expect(log.append(batch(i)).baseOffset).toBe(i);
    const segs = log.segments;
    expect(segs.map((s) => [s.baseOffset, s.nextOffset, s.size])).toEqual([[0, 3, 900], [3, 6, 900], [6, 7, 300]]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".log")).sort()).toEqual(
      ["00000000000000000000.log", "00000000000000000003.log", "00000000000000000006.log"],
    );
    expect(fs.statSync(segs[0]!.path).size).toBe(900); // trimmed on roll
    expect(fs.statSync(segs[2]!.path).size).toBe(300); // active: appends grow it with the data
    // A read from a segment stays in it; offset 3 is the start of the next one.
    expect(log.read(1, 1 << 20)!.length).toBe(600);
    expect(baseOffsetOf(log.read(3, 1)!)).toBe(3);
    // Reading the active segment maps it with room ahead (sparse, up to segment.bytes), so the
    // mapping serves appends to come.
    expect(baseOffsetOf(log.read(6, 1)!)).toBe(6);
    expect(fs.statSync(segs[2]!.path).size).toBe(1000);
    const view = log.read(6, 1)!;
    log.append(batch(7));
    expect(log.read(7, 1)!.buffer).toBe(view.buffer); // same mapping
    expect(payloadOf(log.read(7, 1)!)).toEqual(payloadOf(batch(7)));
    expect(allBatches(log).map((b) => payloadOf(b))).toEqual([...Array(8).keys()].map((i) => payloadOf(batch(i))));
  });

  test("roll by time uses the injected clock and the first append time", () => {
    let now = 1_000_000;
    const log = open(tmpDir(), { segmentMs: 1000, now: () => now });
    log.append(makeBatch());
    now += 1000;
    log.append(makeBatch());
    expect(log.segments.length).toBe(1);
    now += 1;
    log.append(makeBatch());
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 2]);
    now += 5000; // an empty segment never rolls; the new one starts its clock at its first append
    log.append(makeBatch());
    expect(log.segments.map((s) => s.baseOffset)).toEqual([0, 2, 3]);
  });

  test("a batch bigger than segment.bytes still fits, in an empty or a fresh segment", () => {
    const dir = tmpDir();
    const log = open(dir, { segmentBytes: 1000 });
    const big = makeBatch({ size: 5000, tag: "big" });
    expect(log.append(big).baseOffset).toBe(0);
    expect(log.append(makeBatch()).baseOffset).toBe(1);
    expect(log.append(big).baseOffset).toBe(2);
    expect(log.segments.map((s) => [s.baseOffset, s.size])).toEqual([[0, big.length], [1, 81], [2, big.length]]);
    expect(payloadOf(log.read(2, 10)!)).toEqual(payloadOf(big));
    closeLog(log);
    const again = open(dir, { segmentBytes: 1000 });
    expect(again.logEndOffset).toBe(3);
    expect(payloadOf(again.read(0, 10)!)).toEqual(payloadOf(big));
  });

  test("reopen after close: same offsets and contents, appends continue", () => {
    const dir = tmpDir();
    const log = open(dir, { segmentBytes: 2000, indexIntervalBytes: 256 });
    for (let i = 0; i < 20; i++) log.append(makeBatch({ count: 2, tag: `r${i}`, size: 200, maxTimestamp: 100 + i }));
    const before = allBatches(log).map((b) => Uint8Array.from(b));
    const segs = log.segments;
    closeLog(log);
    const marker = JSON.parse(fs.readFileSync(path.join(dir, CLEAN_SHUTDOWN_FILE), "utf8"));
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOG_CHECKPOINT_FILE), "utf8")).generation).toBe(marker.generation);
    // The active file may keep room past the data, all zeros.
    const lastFile = fs.readFileSync(segs[segs.length - 1]!.path);
    expect(lastFile.length).toBeGreaterThanOrEqual(segs[segs.length - 1]!.size);
    expect(lastFile.subarray(segs[segs.length - 1]!.size).every((b) => b === 0)).toBe(true);

    const again = open(dir, { segmentBytes: 2000, indexIntervalBytes: 256 });
    expect(again.segments).toEqual(segs);
    expect(again.logEndOffset).toBe(40);
    expect(allBatches(again)).toEqual(before);
    expect(again.append(makeBatch()).baseOffset).toBe(40);
    expect(again.offsetForTimestamp(110)!.baseOffset).toBe(20);
  });

  test("offsets gaps (as after compaction): a read returns the first batch after the offset", () => {
    const dir = tmpDir();
    const a = makeBatch({ count: 3, baseOffset: 0 }), b = makeBatch({ count: 3, baseOffset: 10, tag: "b" });
    fs.writeFileSync(path.join(dir, "00000000000000000000.log"), concat(a, b));
    const log = open(dir);
    expect(log.logEndOffset).toBe(13);
    expect(baseOffsetOf(log.read(5, 1)!)).toBe(10);
    expect(baseOffsetOf(log.read(3, 1)!)).toBe(10);
    expect(log.append(makeBatch()).baseOffset).toBe(13);
  });
});

describe("indexes and timestamps", () => {
  test("lookups over many batches agree with a linear scan", () => {
    const log = open(tmpDir(), { segmentBytes: 64 << 10, indexIntervalBytes: 4096 });
    const meta: { base: number; last: number; ts: number }[] = [];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 600; i++) {
      const ts = 10_000 + rnd(5000); // not monotonic
      const count = 1 + rnd(4);
      const { baseOffset, lastOffset } = log.append(makeBatch({ count, size: 50 + rnd(400), maxTimestamp: ts, tag: `i${i}` }));
      meta.push({ base: baseOffset, last: lastOffset, ts });
    }
    expect(log.segments.length).toBeGreaterThan(2);
    for (let k = 0; k < 300; k++) {
      const off = rnd(log.logEndOffset);
      const want = meta.find((m) => m.last >= off)!;
      expect(baseOffsetOf(log.read(off, 1)!)).toBe(want.base);
    }
    for (let k = 0; k < 200; k++) {
      const ts = 9_990 + rnd(5020);
      const want = meta.find((m) => m.ts >= ts);
      const got = log.offsetForTimestamp(ts);
      expect(got?.baseOffset ?? null).toBe(want?.base ?? null);
      if (got) expect(headerOf(got.batch).maxTimestamp).toBe(want!.ts);
    }
    const maxTs = Math.max(...meta.map((m) => m.ts));
    const mx = log.maxTimestampBatch()!;
    expect([mx.baseOffset, mx.lastOffset]).toEqual([meta.find((m) => m.ts === maxTs)!.base, meta.find((m) => m.ts === maxTs)!.last]);
  });

  test("offsetForTimestamp on a small log", () => {
    const log = open(tmpDir());
    for (const ts of [100, 300, 200, 400, 400]) log.append(makeBatch({ maxTimestamp: ts }));
    expect(log.offsetForTimestamp(0)!.baseOffset).toBe(0);
    expect(log.offsetForTimestamp(150)!.baseOffset).toBe(1);
    expect(log.offsetForTimestamp(300)!.baseOffset).toBe(1);
    expect(log.offsetForTimestamp(301)!.baseOffset).toBe(3);
    expect(log.offsetForTimestamp(401)).toBeNull();
    expect(log.maxTimestampBatch()!.baseOffset).toBe(3);
  });
});

describe("recovery", () => {
  const cfg = { segmentBytes: 4096 };
  function fillLog(dir: string, n: number): Uint8Array[] {
    const log = open(dir, cfg);
    const batches = [...Array(n).keys()].map((i) => makeBatch({ count: 2, size: 300, tag: `rec${i}` }));
    for (const b of batches) log.append(b);
    closeLog(log);
    return batches;
  }
  /** Bytes of data in the active segment, as the last checkpoint recorded (the file may be longer). */
  const activeDataSize = (dir: string): number => JSON.parse(fs.readFileSync(path.join(dir, LOG_CHECKPOINT_FILE), "utf8")).logs[""].g.at(-1)[1];
  const lastSegmentFile = (dir: string) => path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith(".log")).sort().at(-1)!);

  for (const [name, tail] of [
    ["half a batch", (b: Uint8Array) => b.subarray(0, 150)],
    ["a header claiming more bytes than exist", (b: Uint8Array) => b.subarray(0, 61)],
    ["garbage", () => Uint8Array.from({ length: 500 }, (_, i) => (i * 37 + 11) & 255)],
    ["a whole batch with a bad CRC", (b: Uint8Array) => { const c = Uint8Array.from(b); c[200] ^= 0xff; return c; }],
    ["a valid batch whose offsets go backwards", () => makeBatch({ count: 2, size: 300, baseOffset: 39 })],
  ] as const) {
    test(`a torn tail is cut off: ${name}`, () => {
      const dir = tmpDir();
      const batches = fillLog(dir, 20); // several segments
      const file = lastSegmentFile(dir);
      const goodSize = activeDataSize(dir);
      // A crash while appending: the append was announced (the log dir's journal), its bytes are torn.
      const crashed = PartitionLog.open(dir, cfg);
      const appended = makeBatch({ count: 2, size: 100, tag: "lost" });
      crashed.append(appended); // never closed: the process died
      expect(crashed.segments.at(-1)!.path).toBe(file);
      // The tail's baseOffset is the right next one, so only the defect itself can reject it.
      const torn = tail(makeBatch({ count: 2, size: 300, tag: "torn", baseOffset: 40 }));
      const fd = fs.openSync(file, "r+");
      fs.writeSync(fd, new Uint8Array(appended.length), 0, appended.length, goodSize);
      fs.writeSync(fd, torn, 0, torn.length, goodSize);
      fs.closeSync(fd);

      const log = open(dir, cfg);
      expect(log.logEndOffset).toBe(40);
      expect(log.segments.at(-1)!.size).toBe(goodSize);
      // The tail is cut off, not just ignored: nothing follows the logical end.
      expect(fs.statSync(file).size).toBe(goodSize);
      expect(log.append(makeBatch({ tag: "next" })).baseOffset).toBe(40);
      expect(allBatches(log).slice(0, 20).map(payloadOf)).toEqual(batches.map(payloadOf));
      closeLog(log);
      const third = open(dir, cfg);
      expect(third.logEndOffset).toBe(41);
      expect(payloadOf(third.read(40, 1)!)).toEqual(payloadOf(makeBatch({ tag: "next" })));
    });
  }

  test("after a clean close the CRC is trusted; after a power loss a corrupt last batch is dropped", () => {
    const dir = tmpDir();
    fillLog(dir, 3);
    const file = lastSegmentFile(dir);
    const bytes = fs.readFileSync(file);
    bytes[activeDataSize(dir) - 5] ^= 1;
    fs.writeFileSync(file, bytes);
    const clean = open(dir, cfg);
    expect(clean.logEndOffset).toBe(6);
    closeLog(clean);
    fs.writeFileSync(file, bytes); // same corruption, same size
    markUnclean(dir); // a process crash: what the checkpoint saw written is intact in the page cache
    const crashed = open(dir, cfg);
    expect(crashed.logEndOffset).toBe(6);
    closeLog(crashed);
    markPowerLoss(dir); // nothing was fsynced past the recovery point: every batch there is checked
    expect(open(dir, cfg).logEndOffset).toBe(4);
  });

  test("kill -9 mid-stream: every acknowledged batch survives without fsync", async () => {
    const dir = tmpDir();
    const writer = path.join(import.meta.dir, "fixtures", "log-writer.ts");
    const proc = Bun.spawn([process.execPath, writer, dir, String(256 << 10), "1000000"], { stdout: "pipe", stderr: "inherit" });
    const acks: [number, number, number][] = [];
    const decoder = new TextDecoder();
    let text = "";
    let killed = false;
    for await (const chunk of proc.stdout) {
      text += decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) {
        const [, i, base, last] = line.split(" ").map(Number) as [number, number, number, number];
        acks.push([i, base, last]);
      }
      // Kill from a timer, not right after reading, so the child is caught at a random point.
      if (!killed && acks.length >= 200) {
        setTimeout(() => proc.kill("SIGKILL"), 20);
        killed = true;
      }
    }
    await proc.exited;
    expect(proc.signalCode).toBe("SIGKILL");
    if (process.env.DEBUG_KILL) console.log("acks", acks.length);
    expect(acks.length).toBeGreaterThanOrEqual(200);

    const log = open(dir, { segmentBytes: 256 << 10 });
    expect(log.segments.length).toBeGreaterThan(1);
    let expectedNext = 0;
    for (const [i, base, last] of acks) {
      expect(base).toBe(expectedNext);
      expectedNext = last + 1;
      const spec: MakeBatch = writerBatch(i);
      const got = log.read(base, 1)!;
      expect(headerOf(got)).toMatchObject({ baseOffset: base, lastOffsetDelta: last - base, maxTimestamp: spec.maxTimestamp });
      expect(payloadOf(got)).toEqual(fill(spec.tag!, spec.size!));
    }
    // Batches written after the last ack may be there too, but only whole ones, in order.
    const stored = allBatches(log);
    if (process.env.DEBUG_KILL) console.log("stored", stored.length, "segments", log.segments.length);
    expect(stored.length).toBeGreaterThanOrEqual(acks.length);
    stored.forEach((b, i) => expect(payloadOf(b)).toEqual(fill(`batch-${i}`, writerBatch(i).size!)));
    const lastStored = headerOf(stored.at(-1)!);
    const leo = lastStored.baseOffset + lastStored.lastOffsetDelta + 1;
    expect(log.logEndOffset).toBe(leo);
    expect(leo).toBeGreaterThanOrEqual(expectedNext);
    expect(log.append(makeBatch()).baseOffset).toBe(leo);
  });
});

describe("maintenance", () => {
  test("setLogStartOffset drops whole segments below it and persists", () => {
    const dir = tmpDir();
    const log = open(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 9; i++) log.append(makeBatch({ size: 239 })); // 3 per segment
    log.setLogStartOffset(4);
    expect([log.logStartOffset, log.segments[0]!.baseOffset]).toEqual([4, 3]);
    expect(log.read(3, 1)).toBeNull();
    expect(baseOffsetOf(log.read(4, 1)!)).toBe(4);
    expect(log.offsetForTimestamp(0)!.baseOffset).toBe(4);
    expect(fs.existsSync(path.join(dir, "00000000000000000000.log"))).toBe(false);
    expect(() => log.setLogStartOffset(100)).toThrow(RangeError);
    closeLog(log);
    const again = open(dir, { segmentBytes: 1000 });
    expect([again.logStartOffset, again.logEndOffset]).toEqual([4, 9]);
    expect(again.deleteSegmentsBefore(100)).toBe(1); // the active segment always stays
    expect(again.logStartOffset).toBe(6);
  });

  test("flush policy: flush.messages and flushIfDue", () => {
    let now = 0;
    const log = open(tmpDir(), { flushIntervalMessages: 5, flushIntervalMs: 100, now: () => now });
    const flush = spyOn(log, "flush");
    log.append(makeBatch({ count: 3 }));
    expect(flush).toHaveBeenCalledTimes(0);
    log.append(makeBatch({ count: 2 }));
    expect(flush).toHaveBeenCalledTimes(1);
    log.append(makeBatch());
    expect(log.flushIfDue(99)).toBe(false);
    expect(log.flushIfDue(100)).toBe(true);
    expect(log.flushIfDue(1000)).toBe(false); // nothing unflushed
    expect(flush).toHaveBeenCalledTimes(2);
  });

  test("delete removes the directory; views handed out earlier stay readable", () => {
    const dir = tmpDir();
    const log = PartitionLog.open(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 5; i++) log.append(makeBatch({ size: 239, tag: `d${i}` }));
    const view = log.read(0, 1 << 20)!;
    log.delete();
    expect(fs.existsSync(dir)).toBe(false);
    expect(payloadOf(view.subarray(0, 300))).toEqual(payloadOf(makeBatch({ size: 239, tag: "d0" })));
    expect(() => log.append(makeBatch())).toThrow();
  });
});
