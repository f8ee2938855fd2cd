// Record-batch compression codecs (attributes bits 0-2): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
//
// Choices, measured under Bun 1.4.5 on JSON-like data (compress / decompress MB/s at 1 KiB, 16 KiB):
// - gzip, zstd: built into Bun, no dependency.
// - snappy: snappyjs (pure JS): 310/570, 370/510 against the napi `snappy` package's 220/290,
//   250/340 — the native call and Buffer round trip cost more than the JIT-compiled loop.
// - lz4: lz4-napi (lz4_flex, prebuilt binaries as optional npm deps): 180/210, 320/360 against
//   lz4js's 50/3, 310/46 (lz4js sizes its output from the frame's 4 MiB max block size, and checks
//   no checksum). lz4-napi writes a correct header checksum and rejects a wrong one.

// @ts-ignore snappyjs ships no type declarations
import SnappyUntyped from "snappyjs";
import * as zlib from "node:zlib";

/**
 * The most a records section may inflate to. A few kilobytes of zstd can claim gigabytes (a
 * decompression bomb); Kafka streams records out of the decompressor one at a time, Brook inflates a
 * section whole, so it refuses past this instead (CORRUPT_MESSAGE). Real batches are far below it:
 * producers cap a batch's uncompressed size around message.max.bytes.
 */
export const MAX_DECOMPRESSED_BYTES = 64 << 20;

// Loaded with a literal require so `bun build --compile` embeds the native binding in the single
// executable. Guarded: where the binding cannot load (no prebuilt binary for the platform, no writable
// temporary directory for the embedded copy), Brook still starts and only lz4 data is refused.
type Lz4 = { compressFrameSync(data: Buffer): Buffer; decompressFrameSync(data: Buffer): Buffer };
let lz4: Lz4 | null = null;
let lz4Error = "";
try {
  lz4 = require("lz4-napi") as Lz4;
} catch (e) {
  lz4Error = (e as Error).message.split("\n")[0]!;
}
/** "native" (lz4-napi) or "unavailable". */
export const lz4Implementation: "native" | "unavailable" = lz4 ? "native" : "unavailable";

function lz4Module(): Lz4 {
  if (!lz4) throw new CompressionError(`lz4 is not available here (${lz4Error})`, "UNSUPPORTED_COMPRESSION_TYPE", 3);
  return lz4;
}

const SnappyJS = SnappyUntyped as {
  compress(data: Uint8Array): Uint8Array;
  uncompress(data: Uint8Array, maxLength?: number): Uint8Array;
};

export type Codec = 0 | 1 | 2 | 3 | 4;
export const Codecs = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/**
 * Base of the errors below; `kafkaError` is the Kafka error a handler should answer with. (The
 * version rule "zstd needs Produce v7+ / Fetch v10+" is the handler's: UNSUPPORTED_COMPRESSION_TYPE.)
 */
export class CompressionError extends Error {
  constructor(
    message: string,
    readonly kafkaError: "CORRUPT_MESSAGE" | "UNSUPPORTED_COMPRESSION_TYPE",
    readonly codec: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
/** Codec id 5-7 (or anything else): no such codec, so the batch itself is malformed. */
export class UnknownCodecError extends CompressionError {
  constructor(codec: number) {
    super(`unknown compression codec ${codec}`, "CORRUPT_MESSAGE", codec);
  }
}
/** The compressed bytes do not decode. */
export class CorruptCompressedDataError extends CompressionError {
  constructor(codec: number, cause: unknown) {
    super(`corrupt ${codecName(codec)} data: ${(cause as Error)?.message ?? cause}`, "CORRUPT_MESSAGE", codec);
  }
}
/** The compressed bytes inflate past the limit. */
export class DecompressedTooLargeError extends CompressionError {
  constructor(codec: number, limit: number) {
    super(`${codecName(codec)} data inflates to more than ${limit} bytes`, "CORRUPT_MESSAGE", codec);
  }
}

export function codecName(codec: number): string {
  return ["none", "gzip", "snappy", "lz4", "zstd"][codec] ?? `codec-${codec}`;
}


// xerial (snappy-java) stream framing, as the Java client writes it.
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER = 16; // magic, int32 version = 1, int32 compatible version = 1
const XERIAL_CHUNK = 32 * 1024; // snappy-java's default block size

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER) return false;
  for (let i = 0; i < 8; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

function snappyCompress(data: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let size = XERIAL_HEADER;
  for (let off = 0; off < data.length; off += XERIAL_CHUNK) {
    const b = SnappyJS.compress(data.subarray(off, off + XERIAL_CHUNK));
    blocks.push(b);
    size += 4 + b.length;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(XERIAL_MAGIC);
  dv.setInt32(8, 1);
  dv.setInt32(12, 1);
  let pos = XERIAL_HEADER;
  for (const b of blocks) {
    dv.setInt32(pos, b.length);
    out.set(b, pos + 4);
    pos += 4 + b.length;
  }
  return out;
}

function snappyDecompress(data: Uint8Array, limit: number): Uint8Array {
  if (!isXerial(data)) return SnappyJS.uncompress(data, limit);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = XERIAL_HEADER;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error("truncated xerial block length");
    const len = dv.getInt32(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new Error("truncated xerial block");
    const part = SnappyJS.uncompress(data.subarray(pos, pos + len), limit - total);
    parts.push(part);
    total += part.length;
    pos += len;
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// Buffer views over the same memory: the napi functions are typed for Buffer.
const asBuffer = (d: Uint8Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** Compress a records section. gzip/zstd use library default levels; snappy uses xerial framing. */
export function compress(codec: number, data: Uint8Array): Uint8Array {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return Bun.gzipSync(data as Uint8Array<ArrayBuffer>);
    case 2:
      // xerial, not raw: it is what the Java client writes, so every reader that works with Java
      // producers (Java, librdkafka, sarama, kafkajs-snappy) reads it; raw-only readers are rarer.
      return snappyCompress(data);
    case 3:
      // Independent 64 KiB blocks, no content checksum: the Java consumer decodes block by block.
      return lz4Module().compressFrameSync(asBuffer(data));
    case 4:
      return Bun.zstdCompressSync(data);
    default:
      throw new UnknownCodecError(codec);
  }
}

/**
 * Decompress a records section; throws UnknownCodecError, CorruptCompressedDataError, or
 * DecompressedTooLargeError when it would inflate past `limit` bytes.
 */
export function decompress(codec: number, data: Uint8Array, limit = MAX_DECOMPRESSED_BYTES): Uint8Array {
  if (codec === 0) return data;
  if (codec < 0 || codec > 4) throw new UnknownCodecError(codec);
  const lz4Codec = codec === 3 ? lz4Module() : null;
  try {
    switch (codec) {
      case 1:
        // node:zlib, not Bun.gunzipSync: the latter stops after the first gzip member, and a
        // stream of several members is valid gzip that Java's GZIPInputStream reads whole.
        return zlib.gunzipSync(data, { maxOutputLength: limit });
      case 2:
        return snappyDecompress(data, limit);
      case 3:
        // LZ4 cannot inflate more than 255-fold: small inputs go to the native decoder as they are.
        return data.length * 255 + 65536 <= limit ? lz4Codec!.decompressFrameSync(asBuffer(data)) : lz4FrameDecompress(data, limit);
      default:
        return (zlib as unknown as { zstdDecompressSync(d: Uint8Array, o: { maxOutputLength: number }): Uint8Array }).zstdDecompressSync(data, { maxOutputLength: limit });
    }
  } catch (e) {
    if (e instanceof DecompressedTooLargeError) throw e;
    if ((e as { code?: string })?.code === "ERR_BUFFER_TOO_LARGE" || /is too big, expect at most|larger than/i.test((e as Error)?.message ?? ""))
      throw new DecompressedTooLargeError(codec, limit);
    throw new CorruptCompressedDataError(codec, e);
  }
}

/**
 * An LZ4 frame (lz4.org frame format: magic, descriptor, blocks, end mark) decoded in JS with an output
 * limit, for inputs large enough to inflate past it. Checksums are not verified here; the records
 * parsed from the output are.
 */
function lz4FrameDecompress(src: Uint8Array, limit: number): Uint8Array {
  const le32 = (p: number) => (src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16) | (src[p + 3]! << 24)) >>> 0;
  if (src.length < 7 || le32(0) !== 0x184d2204) throw new Error("not an LZ4 frame");
  const flg = src[4]!;
  let pos = 6 + ((flg & 0x08) ? 8 : 0) + ((flg & 0x01) ? 4 : 0) + 1; // descriptor, content size, dict id, HC
  const blockChecksums = (flg & 0x10) !== 0;
  let out = new Uint8Array(Math.min(limit, Math.max(65536, src.length * 4)));
  let o = 0;
  const room = (n: number) => {
    if (o + n > limit) throw new DecompressedTooLargeError(3, limit);
    if (o + n <= out.length) return;
    const next = new Uint8Array(Math.min(limit, Math.max(o + n, out.length * 2)));
    next.set(out.subarray(0, o));
    out = next;
  };
  for (;;) {
    if (pos + 4 > src.length) throw new Error("truncated LZ4 frame");
    const word = le32(pos);
    pos += 4;
    if (word === 0) break; // end mark
    const size = word & 0x7fffffff;
    if (pos + size > src.length) throw new Error("truncated LZ4 block");
    if (word & 0x80000000) {
      room(size);
      out.set(src.subarray(pos, pos + size), o);
      o += size;
    } else {
      const end = pos + size;
      let p = pos;
      while (p < end) {
        const token = src[p++]!;
        let lit = token >>> 4;
        if (lit === 15) for (let b = 255; b === 255 && p < end; lit += b) b = src[p++]!;
        if (p + lit > end) throw new Error("LZ4 literals run past the block");
        room(lit);
        out.set(src.subarray(p, p + lit), o);
        o += lit;
        p += lit;
        if (p >= end) break; // the last sequence has literals only
        const offset = src[p]! | (src[p + 1]! << 8);
        p += 2;
        let len = (token & 15) + 4;
        if ((token & 15) === 15) for (let b = 255; b === 255 && p < end; len += b) b = src[p++]!;
        if (offset === 0 || offset > o) throw new Error("LZ4 match offset out of range");
        room(len);
        for (let i = 0; i < len; i++, o++) out[o] = out[o - offset]!;
      }
    }
    pos += size + (blockChecksums ? 4 : 0);
  }
  return out.subarray(0, o);
}
