// CRC-32C (Castagnoli), the checksum of record batch v2. Kept behind this one function so a faster
// implementation can replace it without touching callers.
import CRC32C from "crc-32/crc32c";

/** Unsigned CRC-32C of data[start, end). */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  return CRC32C.buf(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0;
}
