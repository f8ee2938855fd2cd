// The memory trimmer: a full collection only when the process is quiet and its anonymous memory has
// grown well past the level after the last trim (src/memory-trim.ts).
import { describe, expect, test } from "bun:test";
import { Logger } from "../src/log.ts";
import { MemoryTrimmer, anonymousMemory, type TrimProbes } from "../src/memory-trim.ts";

const MiB = 2 ** 20;
const INTERVAL = 30_000;

/** Probes driven by the test: memory and CPU are what it says; collect() drops memory to `live`. */
function fake(startAnon: number) {
  const s = { anon: startAnon, cpuMicros: 0, live: startAnon, collections: 0 };
  const probes: TrimProbes = {
    anonymousMemory: () => s.anon,
    cpuMicros: () => s.cpuMicros,
    collect: () => {
      s.collections++;
      s.anon = s.live;
    },
  };
  return { s, probes };
}
const busy = (s: { cpuMicros: number }, share: number) => (s.cpuMicros += share * INTERVAL * 1000);

describe("memory trimmer", () => {
  test("trims once after a burst, when the process is quiet again, and not under load", () => {
    const { s, probes } = fake(50 * MiB);
    const lines: string[] = [];
    const log = new Logger("info");
    log.info = (m) => void lines.push(m);
    const t = new MemoryTrimmer(INTERVAL, log, probes);

    // The burst: memory grows while the CPU is busy. No trim under load.
    s.anon = 400 * MiB;
    busy(s, 0.9);
    expect(t.check()).toBe(false);
    // Load ends, the memory stays (the allocator keeps the pages): trimmed, down to what is live.
    s.live = 70 * MiB;
    busy(s, 0.01);
    expect(t.check()).toBe(true);
    expect(s.anon).toBe(70 * MiB);
    expect(t.returnedBytes).toBe(330 * MiB);
    expect(lines.join("\n")).toContain("returned 330 MiB to the OS");
    // Quiet and flat: nothing more to do.
    busy(s, 0.01);
    expect(t.check()).toBe(false);
    // Some growth, less than the threshold over the new level: left alone.
    s.anon = 110 * MiB;
    busy(s, 0);
    expect(t.check()).toBe(false);
    expect(s.collections).toBe(1);
  });

  test("steady load with a large working set is never interrupted", () => {
    const { s, probes } = fake(40 * MiB);
    const t = new MemoryTrimmer(INTERVAL, new Logger("silent"), probes);
    for (let i = 0; i < 10; i++) {
      s.anon = 300 * MiB;
      busy(s, 0.3);
      expect(t.check()).toBe(false);
    }
    expect(s.collections).toBe(0);
  });

  test("the level it compares against follows memory down (freed by the ordinary collector)", () => {
    const { s, probes } = fake(200 * MiB);
    const t = new MemoryTrimmer(INTERVAL, new Logger("silent"), probes);
    s.anon = 60 * MiB;
    expect(t.check()).toBe(false);
    s.anon = 130 * MiB; // 70 MiB over the lowest level seen
    s.live = 60 * MiB;
    expect(t.check()).toBe(true);
  });

  test("on this process: a full collection returns freed garbage", () => {
    // Real probes but a quiet CPU: allocate and drop ~200 MiB of objects and buffers, then check.
    const t = new MemoryTrimmer(INTERVAL, new Logger("silent"), { anonymousMemory, cpuMicros: () => 0, collect: () => Bun.gc(true) });
    let keep: unknown[] = [];
    for (let i = 0; i < 300_000; i++) keep.push({ i, s: `value-${i}`.repeat(8), b: new Uint8Array(512) });
    const peak = anonymousMemory();
    keep = [];
    expect(t.check()).toBe(true);
    expect(peak - anonymousMemory()).toBeGreaterThan(64 * MiB);
    expect(keep).toHaveLength(0);
  });
});
