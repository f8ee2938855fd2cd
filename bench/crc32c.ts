// Micro-benchmark: CRC-32C throughput of the JS table implementation (crc-32) vs the native
// SIMD one (@node-rs/crc32) under Bun, and of protocol/records/batch.ts's crc32c, which picks
// between them by length. Run: bun bench/crc32c.ts
import * as jsCrc from "crc-32/crc32c";
import { crc32c as nativeCrc } from "@node-rs/crc32";
import { crc32c as brookCrc } from "../protocol/records/batch.ts";

const impls: Record<string, (b: Uint8Array) => number> = {
  "crc-32/crc32c": (b) => jsCrc.buf(b) >>> 0,
  "@node-rs/crc32": (b) => nativeCrc(b) >>> 0,
  "batch.ts crc32c": (b) => brookCrc(b),
};

// Sanity: both agree on the standard check value and on a subarray (byteOffset respected).
const check = new TextEncoder().encode("123456789");
const padded = new Uint8Array(20);
padded.set(check, 5);
for (const [name, f] of Object.entries(impls)) {
  const a = f(check), b = f(padded.subarray(5, 14));
  if (a !== 0xe3069283 || b !== a) throw new Error(`${name}: wrong check value ${a.toString(16)} / ${b.toString(16)}`);
}

const sizes = [200, 512, 1 << 10, 4 << 10, 16 << 10, 1 << 20];
const budgetBytes = 256 << 20; // per (impl, size) measurement
let sink = 0;
for (const size of sizes) {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 2654435761) >>> 24;
  const iters = Math.max(20, Math.floor(budgetBytes / size));
  for (const [name, f] of Object.entries(impls)) {
    for (let i = 0; i < Math.min(iters, 200); i++) sink ^= f(data); // warm-up
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < iters; i++) sink ^= f(data);
    const secs = (Bun.nanoseconds() - t0) / 1e9;
    const mbps = (size * iters) / secs / 1e6;
    console.log(`${name.padEnd(16)} ${String(size).padStart(8)} B  ${mbps.toFixed(0).padStart(7)} MB/s  ${((secs / iters) * 1e6).toFixed(2)} µs/call`);
  }
}
if (sink === 0.5) console.log(sink); // keep results live
