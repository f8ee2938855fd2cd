// CRC-32C (Castagnoli), the checksum of record batch v2, in one place so callers never care which
// implementation runs.
import * as jsCrc from "crc-32/crc32c";

// bench/crc32c.ts: the native SIMD crc32c is ~4-6x faster from 4 KiB up (10-15 GB/s vs ~2.6 GB/s),
// while crc-32's JIT-compiled tables win below ~512 bytes where the napi call overhead dominates.
// The JS one also covers platforms without a prebuilt native binding.
type CrcFn = (data: Uint8Array, seed?: number) => number;
let nativeCrc: CrcFn | null = null;
try {
  // A plain require with a literal name, so `bun build --compile` embeds the native binding in the
  // single executable (a createRequire call would be left to resolve at run time, and fail there).
  nativeCrc = (require("@node-rs/crc32") as { crc32c: CrcFn }).crc32c;
} catch {
  nativeCrc = null;
}
/** Which implementation serves large inputs: "native" (@node-rs/crc32) or "js" (crc-32 only). */
export const crc32cImplementation: "native" | "js" = nativeCrc ? "native" : "js";
const NATIVE_MIN_BYTES = 512;

/** Unsigned CRC-32C (Castagnoli) of data[start, end). */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  const view = start === 0 && end === data.length ? data : data.subarray(start, end);
  if (nativeCrc !== null && end - start >= NATIVE_MIN_BYTES) return nativeCrc(view) >>> 0;
  return jsCrc.buf(view) >>> 0;
}

