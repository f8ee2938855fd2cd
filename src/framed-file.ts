// Small durable files made of CRC-framed records: [uint32 length][uint32 CRC-32C of payload][payload].
// The committed-offsets log and the transaction log use this framing, so a torn tail after kill -9
// is recognised and cut off on open, and rewrites go through a temp file and an atomic rename.
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { crc32c } from "../protocol/records/crc32c.ts";

export const FRAME_HEADER = 8;

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32c(payload));
  out.set(payload, FRAME_HEADER);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** Makes a rename in dir durable. */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every platform lets a directory be fsynced; the rename itself is atomic
  }
}
