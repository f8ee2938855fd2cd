// Record batches (v2, shared/kafka-protocol/RECORDS.md) for the fuzzer: valid ones with every codec,
// and broken ones — bad CRC, lengths and counts that lie (with the CRC fixed up so the lie gets past
// the checksum), unknown codecs and magics, control batches from a client, compressed sections holding
// garbage or records with broken varints, and decompression bombs. Written from the spec, independent
// of Brook's own batch code.
import { crc32c } from "@node-rs/crc32";
import { compressFrameSync } from "lz4-napi";
// @ts-ignore snappyjs ships no type declarations
import SnappyUntyped from "snappyjs";
import type { Rng } from "./rng.ts";

const Snappy = SnappyUntyped as { compress(data: Uint8Array): Uint8Array };

export interface FuzzRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: [string, Uint8Array | null][];
}

export interface BatchSpec {
  records: FuzzRecord[];
  codec: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  baseTimestamp?: number;
}

// ---- varints ------------------------------------------------------------------------------------
function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
function pushUvarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}
const pushVarint = (out: number[], v: number) => pushUvarint(out, zigzag(v));

function encodeRecords(records: FuzzRecord[]): Uint8Array {
  const all: number[] = [];
  records.forEach((r, i) => {
    const body: number[] = [0]; // attributes
    pushVarint(body, 0); // timestamp delta
    pushVarint(body, i); // offset delta
    if (r.key === null) pushVarint(body, -1);
    else {
      pushVarint(body, r.key.length);
      for (const b of r.key) body.push(b);
    }
    if (r.value === null) pushVarint(body, -1);
    else {
      pushVarint(body, r.value.length);
      for (const b of r.value) body.push(b);
    }
    const headers = r.headers ?? [];
    pushVarint(body, headers.length);
    for (const [hk, hv] of headers) {
      const k = new TextEncoder().encode(hk);
      pushVarint(body, k.length);
      for (const b of k) body.push(b);
      if (hv === null) pushVarint(body, -1);
      else {
        pushVarint(body, hv.length);
        for (const b of hv) body.push(b);
      }
    }
    pushVarint(all, body.length);
    for (const b of body) all.push(b);
  });
  return Uint8Array.from(all);
}

export function compress(codec: number, data: Uint8Array): Uint8Array {
  switch (codec) {
    case 1:
      return Bun.gzipSync(data as Uint8Array<ArrayBuffer>);
    case 2:
      return Snappy.compress(data);
    case 3:
      return new Uint8Array(compressFrameSync(Buffer.from(data)));
    case 4:
      return Bun.zstdCompressSync(data);
    default:
      return data;
  }
}

/** A batch header over an already encoded (and maybe compressed) records section. */
export function batchOver(section: Uint8Array, count: number, spec: Omit<BatchSpec, "records">, lastOffsetDelta = count - 1): Uint8Array {
  const size = 61 + section.length;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, 0n); // base offset (the broker assigns)
  v.setInt32(8, size - 12); // batch length
  v.setInt32(12, -1); // partition leader epoch
  v.setInt8(16, 2); // magic
  let attributes = spec.codec & 7;
  if (spec.transactional) attributes |= 0x10;
  v.setInt16(21, attributes);
  v.setInt32(23, lastOffsetDelta);
  const ts = spec.baseTimestamp ?? Date.now();
  v.setBigInt64(27, BigInt(ts));
  v.setBigInt64(35, BigInt(ts));
  v.setBigInt64(43, BigInt(spec.producerId ?? -1));
  v.setInt16(51, spec.producerEpoch ?? -1);
  v.setInt32(53, spec.baseSequence ?? -1);
  v.setInt32(57, count);
  b.set(section, 61);
  fixCrc(b);
  return b;
}

export function fixCrc(b: Uint8Array): void {
  if (b.length < 61) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(17, crc32c(b.subarray(21)) >>> 0);
}

export function buildBatch(spec: BatchSpec): Uint8Array {
  return batchOver(compress(spec.codec, encodeRecords(spec.records)), spec.records.length, spec);
}

// ---- generation ---------------------------------------------------------------------------------

export function randomRecords(rng: Rng, max = 5): FuzzRecord[] {
  const n = rng.range(1, max);
  const out: FuzzRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: rng.chance(0.2) ? null : new TextEncoder().encode(`k${rng.int(20)}`),
      value: rng.chance(0.05) ? null : rng.bytes(rng.chance(0.1) ? rng.range(1000, 20000) : rng.range(0, 64)),
      headers: rng.chance(0.2) ? [["h", rng.chance(0.5) ? null : rng.bytes(3)]] : undefined,
    });
  }
  return out;
}

/** A valid batch with a random codec and, sometimes, producer fields. */
export function validBatch(rng: Rng, now = Date.now()): Uint8Array {
  const idempotent = rng.chance(0.2);
  return buildBatch({
    baseTimestamp: now,
    records: randomRecords(rng),
    codec: rng.pick([0, 0, 0, 1, 2, 3, 4]),
    producerId: idempotent ? rng.int(8) : -1,
    producerEpoch: idempotent ? rng.int(2) : -1,
    baseSequence: idempotent ? rng.int(4) : -1,
    transactional: idempotent && rng.chance(0.3),
  });
}

const bombs = new Map<number, Uint8Array>();
/** A compressed section that inflates to `size` bytes of zeros inside one record. */
function bombSection(codec: number, size: number): Uint8Array {
  const key = codec * 1e12 + size;
  let s = bombs.get(key);
  if (!s) {
    const zeros = new Uint8Array(size);
    const rec: number[] = [];
    const body: number[] = [0];
    pushVarint(body, 0);
    pushVarint(body, 0);
    pushVarint(body, -1);
    pushVarint(body, size);
    pushVarint(rec, body.length + size + 1);
    const head = Uint8Array.from([...rec, ...body]);
    const section = new Uint8Array(head.length + size + 1);
    section.set(head);
    section.set(zeros, head.length);
    section[section.length - 1] = 0; // header count 0
    s = compress(codec, section);
    bombs.set(key, s);
  }
  return s;
}

export type BatchMutation =
  | "crc"
  | "batch-length"
  | "count"
  | "last-offset-delta"
  | "huge-count"
  | "magic"
  | "codec"
  | "control"
  | "inner-garbage"
  | "inner-records"
  | "truncated"
  | "two-batches"
  | "empty"
  | "bomb"
  | "timestamps";

const MUTATIONS: BatchMutation[] = [
  "crc", "batch-length", "count", "last-offset-delta", "huge-count", "magic", "codec", "control",
  "inner-garbage", "inner-records", "truncated", "two-batches", "empty", "timestamps",
];

/** A batch that is wrong in one way (which one is returned too). */
export function brokenBatch(rng: Rng, allowBomb: boolean, now = Date.now()): { batch: Uint8Array; mutation: BatchMutation } {
  const mutation: BatchMutation = allowBomb && rng.chance(0.02) ? "bomb" : rng.pick(MUTATIONS);
  const b = validBatch(rng, now);
  const v = new DataView(b.buffer);
  const count = v.getInt32(57);
  switch (mutation) {
    case "crc":
      b[rng.range(21, b.length - 1)]! ^= 1 << rng.int(8);
      return { batch: b, mutation };
    case "batch-length":
      v.setInt32(8, rng.pick([v.getInt32(8) + 1, v.getInt32(8) - 1, 0, -1, 48, 0x7fffffff, -0x80000000]));
      return { batch: b, mutation };
    case "count":
      v.setInt32(57, rng.pick([count + 1, count - 1, 0, -1, 0x7fffffff, -0x80000000]));
      fixCrc(b);
      return { batch: b, mutation };
    case "last-offset-delta":
      v.setInt32(23, rng.pick([count, count - 2, -1, 0x7fffffff, -0x80000000]));
      fixCrc(b);
      return { batch: b, mutation };
    case "huge-count":
      // Consistent header, but claims far more records than the bytes hold.
      v.setInt32(57, 0x7fffffff);
      v.setInt32(23, 0x7ffffffe);
      fixCrc(b);
      return { batch: b, mutation };
    case "magic":
      v.setInt8(16, rng.pick([0, 1, 3, -1]));
      fixCrc(b);
      return { batch: b, mutation };
    case "codec":
      v.setInt16(21, (v.getInt16(21) & ~7) | rng.pick([5, 6, 7]));
      fixCrc(b);
      return { batch: b, mutation };
    case "control":
      v.setInt16(21, v.getInt16(21) | 0x20);
      fixCrc(b);
      return { batch: b, mutation };
    case "inner-garbage": {
      const codec = rng.pick([1, 2, 3, 4]);
      return { batch: batchOver(rng.bytes(rng.range(0, 200)), rng.range(1, 4), { codec, baseTimestamp: now }), mutation };
    }
    case "inner-records": {
      // Records whose varints and lengths are wrong, compressed properly so the codec is happy.
      const section = encodeRecords(randomRecords(rng, 3));
      for (let i = 0; i < rng.range(1, 3); i++) section[rng.int(section.length)] = rng.pick([0x7f, 0xff, 0x80, 0x01, 0x00]);
      const cut = rng.chance(0.3) ? section.subarray(0, rng.int(section.length)) : section;
      const codec = rng.pick([0, 1, 2, 3, 4]);
      return { batch: batchOver(compress(codec, cut), rng.range(1, 4), { codec, baseTimestamp: now }), mutation };
    }
    case "truncated":
      return { batch: b.slice(0, rng.int(b.length)), mutation };
    case "two-batches": {
      const other = validBatch(rng, now);
      const both = new Uint8Array(b.length + other.length);
      both.set(b);
      both.set(other, b.length);
      return { batch: both, mutation };
    }
    case "empty":
      return { batch: new Uint8Array(0), mutation };
    case "timestamps":
      v.setBigInt64(27, rng.pick([-1n, -9223372036854775808n, 9223372036854775807n, 0n]));
      v.setBigInt64(35, rng.pick([-1n, -9223372036854775808n, 9223372036854775807n, 0n]));
      fixCrc(b);
      return { batch: b, mutation };
    case "bomb": {
      // gzip tops out near 1000:1 (256 MiB in ~250 KiB); zstd claims 1 GiB in ~32 KiB.
      const codec = rng.pick([1, 4]);
      return { batch: batchOver(bombSection(codec, codec === 1 ? 256 << 20 : 1 << 30), 1, { codec, baseTimestamp: now }), mutation };
    }
  }
}

/**
 * Valid and broken batches made once and then drawn from: compressing a fresh batch for every request
 * would make generation, not the broker, the bottleneck.
 */
export class BatchPool {
  private readonly valid: Uint8Array[] = [];
  private readonly broken: Uint8Array[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly size = 256,
    private readonly bombs = false,
    /** record timestamps (fixed for a run: the same seed then makes the same bytes) */
    private readonly now = Date.now(),
  ) {}

  pick(rng: Rng, wantValid: boolean): Uint8Array {
    const list = wantValid ? this.valid : this.broken;
    if (list.length < this.size) {
      const b = wantValid ? validBatch(this.rng, this.now) : brokenBatch(this.rng, false, this.now).batch;
      list.push(b);
      return b;
    }
    if (!wantValid && this.bombs && rng.chance(0.002)) return brokenBatch(this.rng, true, this.now).batch;
    return list[rng.int(list.length)]!;
  }
}
