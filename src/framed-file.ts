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

/** Where and why a framed file stops being readable. */
export interface FrameProblem {
  /** byte offset of the first bad frame */
  at: number;
  reason: string;
  /**
   * A write cut short (the bad part is the file's end: a partial frame, or zeros where a crash left the
   * blocks unwritten), which is cut off; otherwise damage, which stops the start.
   */
  torn: boolean;
}

const allZero = (b: Uint8Array) => b.every((x) => x === 0);

/**
 * Walks the frames of `buf`, handing each payload to `take` (false: a payload of unknown shape). Returns
 * the end of the last good frame, the records taken, and the problem at the first bad frame, if any.
 */
export function scanFrames(buf: Uint8Array, maxRecord: number, take: (payload: Uint8Array) => boolean): { good: number; records: number; problem: FrameProblem | null } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  let records = 0;
  const stop = (reason: string, torn: boolean) => ({ good: pos, records, problem: { at: pos, reason, torn } });
  while (pos < buf.length) {
    const rest = buf.subarray(pos);
    if (allZero(rest)) return stop(`${rest.length} zero bytes`, true);
    if (rest.length < FRAME_HEADER) return stop("a partial record header", true);
    const len = view.getUint32(pos);
    if (len === 0 || len > maxRecord) return stop(`a record length of ${len}`, false);
    const end = pos + FRAME_HEADER + len;
    if (end > buf.length) return stop(`a record of ${len} bytes past the end of the file`, true);
    const payload = buf.subarray(pos + FRAME_HEADER, end);
    if (crc32c(payload) !== view.getUint32(pos + 4)) return stop("a CRC mismatch", allZero(buf.subarray(end)));
    let ok: boolean;
    try {
      ok = take(payload);
    } catch {
      ok = false;
    }
    if (!ok) return stop("a record that passes its CRC but cannot be read", false);
    pos = end;
    records++;
  }
  return { good: pos, records, problem: null };
}

/** The error that stops the start when a framed file is damaged (not merely cut short). */
export function damagedFileError(path: string, what: string, size: number, records: number, p: FrameProblem): Error {
  return new Error(
    `${path} is damaged at byte ${p.at} of ${size} (${p.reason}); ${size - p.at} bytes follow, so this is not a write cut short by a crash. ` +
      `It holds ${what}. Restore it from a backup, or keep the ${records} records before the damage with \`truncate -s ${p.at} ${path}\` ` +
      "(what follows is lost)",
  );
}
