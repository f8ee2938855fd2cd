// Micro-benchmark: cost of appending to a segment file through a MAP_SHARED mapping of a sparse,
// ftruncate-preallocated file (what src/log/segment.ts did before) vs plain pwrite (what it does now),
// and of a fresh receive buffer per request vs a reused one. Profiles of the broker under the produce
// bench showed page faults on the mapping dominating; this isolates them.
//   bun bench/log-append.ts [dir] [MiB]      (dir defaults to the OS temp dir; tmpfs differs from ext4)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const dir = fs.mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), "log-append-"));
const total = Math.min(Number(process.argv[3] ?? 512), 2047) << 20; // Bun.mmap refuses >= 2 GiB (EINVAL)
const chunk = new Uint8Array(1 << 20).map((_, i) => i * 31); // ~one librdkafka batch per produce request

// f(step) is called once per 1 MiB append; the slowest one is how long the event loop would stall.
function measure(name: string, setup: () => (pos: number) => void): void {
  const step = setup();
  const c0 = process.cpuUsage(), t0 = Bun.nanoseconds();
  let worst = 0;
  for (let pos = 0; pos < total; pos += chunk.length) {
    const t = Bun.nanoseconds();
    step(pos);
    worst = Math.max(worst, Bun.nanoseconds() - t);
  }
  const ms = (Bun.nanoseconds() - t0) / 1e6, c = process.cpuUsage(c0);
  console.log(`${name.padEnd(44)} ${(total / 2 ** 20 / (ms / 1000)).toFixed(0).padStart(6)} MiB/s  wall ${ms.toFixed(0)} ms  ` +
    `user ${(c.user / 1000).toFixed(0)} ms  sys ${(c.system / 1000).toFixed(0)} ms  slowest append ${(worst / 1e6).toFixed(1)} ms`);
}

// Alternate the two file variants: the kernel's cost depends on whether freed pages are at hand.
for (let round = 0; round < 2; round++) {
  measure("mmap sparse file + Uint8Array.set", () => {
    const file = path.join(dir, `mmap${round}.log`);
    const fd = fs.openSync(file, "w+");
    fs.ftruncateSync(fd, total); // fd stays open, like the active segment's
    const map = Bun.mmap(file);
    return (pos) => map.set(chunk, pos);
  });
  measure("pwrite (fs.writeSync at position, Brook)", () => {
    const fd = fs.openSync(path.join(dir, `pwrite${round}.log`), "w+");
    return (pos) => fs.writeSync(fd, chunk, 0, chunk.length, pos);
  });
}

measure("new 1 MiB Uint8Array per request + set", () => (pos) => {
  const frame = new Uint8Array(chunk.length); // what a per-frame receive buffer costs
  frame.set(chunk);
  if (frame[pos & 1023] === 256) console.log("unreachable"); // keep it alive
});

const reused = new Uint8Array(chunk.length);
measure("reused 1 MiB buffer + set", () => () => reused.set(chunk));

fs.rmSync(dir, { recursive: true, force: true });
