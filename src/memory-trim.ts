// Handing memory back after a busy stretch. JavaScriptCore and mimalloc keep freed pages for reuse, so
// a burst (a flood of connections, thousands of topics created and deleted, a fuzz run) leaves the
// process's resident memory near its peak long after the work is gone. Every interval, when the process
// used little CPU over it (the burst is over) and its anonymous memory has grown well past what it was
// after the last trim, one full collection with mimalloc's cleanup (Bun.gc(true)) returns the free
// pages. Under load nothing is done: that memory is being used, and a full collection would pause it.
import { readFileSync } from "node:fs";
import type { Logger } from "./log.ts";

/** CPU time over the interval, as a share of one core, below which the process counts as quiet. */
const QUIET_CPU_SHARE = 0.05;
/** Growth of anonymous memory over the level after the last trim that is worth a full collection. */
const GROWTH_BYTES = 64 * 2 ** 20;

/** The process's anonymous resident memory (heap and buffers, not mapped files); RSS where unknown. */
export function anonymousMemory(): number {
  try {
    const m = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss;
}

export interface TrimProbes {
  anonymousMemory(): number;
  /** CPU time used so far, in microseconds */
  cpuMicros(): number;
  /** a full collection that also returns free pages to the OS */
  collect(): void;
}

const SYSTEM: TrimProbes = {
  anonymousMemory,
  cpuMicros: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  collect: () => Bun.gc(true),
};

export class MemoryTrimmer {
  trims = 0;
  returnedBytes = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private floor: number;
  private lastCpu: number;

  constructor(
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly probes: TrimProbes = SYSTEM,
  ) {
    this.floor = probes.anonymousMemory();
    this.lastCpu = probes.cpuMicros();
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One interval's decision; true when it trimmed. */
  check(): boolean {
    const cpu = this.probes.cpuMicros();
    const share = (cpu - this.lastCpu) / 1000 / this.intervalMs;
    this.lastCpu = cpu;
    const before = this.probes.anonymousMemory();
    if (before < this.floor) this.floor = before;
    if (share > QUIET_CPU_SHARE || before < this.floor + GROWTH_BYTES) return false;
    const started = performance.now();
    this.probes.collect();
    const after = this.probes.anonymousMemory();
    this.lastCpu = this.probes.cpuMicros(); // the collection is not load
    this.floor = after;
    this.trims++;
    this.returnedBytes += Math.max(0, before - after);
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    this.log.info(
      `returned ${mib(Math.max(0, before - after))} MiB to the OS after a busy stretch: anonymous memory ${mib(before)} -> ${mib(after)} MiB ` +
        `(full collection in ${(performance.now() - started).toFixed(0)} ms; brook.memory.trim.interval.ms)`,
    );
    return true;
  }
}
