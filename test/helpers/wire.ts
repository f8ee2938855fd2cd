// Hand-made Kafka wire bytes for tests that talk to the broker from the outside, independent of the
// broker's own codec: big-endian primitives, zig-zag varints, CRC-32C, a record batch v2 builder, and a
// raw TCP client that splits the int32-size-prefixed response frames.
import { connect, type Socket } from "node:net";

// ---- primitives ---------------------------------------------------------------------------------

export const int8 = (n: number) => Uint8Array.of(n & 0xff);
export function int16(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setInt16(0, n);
  return b;
}
export function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}
export function uint32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}
export function int64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n));
  return b;
}
const utf8 = (s: string) => new TextEncoder().encode(s);
/** Kafka STRING: int16 length + UTF-8 bytes. */
export const str = (s: string) => concat(int16(utf8(s).length), utf8(s));
/** Kafka NULLABLE_STRING: int16 −1 for null. */
export const nullableStr = (s: string | null) => (s === null ? int16(-1) : str(s));
/** Kafka BYTES / RECORDS (non-flexible): int32 length + bytes. */
export const bytes = (b: Uint8Array) => concat(int32(b.length), b);
/** Unsigned varint (LEB128), as used by compact lengths and tagged-field counts. */
export function uvarint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}
/** Zig-zag varint (records use these), for values within ±2^31. */
export const varint = (n: number) => uvarint(((n << 1) ^ (n >> 31)) >>> 0);
/** Zig-zag varlong. */
export function varlong(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  v = v >= 0n ? v << 1n : ((-v) << 1n) - 1n;
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}
/** COMPACT_STRING: uvarint(length + 1) + bytes. */
export const compactStr = (s: string) => concat(uvarint(utf8(s).length + 1), utf8(s));

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) --------------------------------------

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- record batch v2 (see shared/kafka-protocol/RECORDS.md) -------------------------------------

export interface RawRecord {
  key: string | null;
  value: string | Uint8Array | null;
  headers?: [string, string | null][];
  timestampDelta?: number;
}

function encodeRecord(r: RawRecord, offsetDelta: number): Uint8Array {
  const key = r.key === null ? null : utf8(r.key);
  const value = r.value === null ? null : typeof r.value === "string" ? utf8(r.value) : r.value;
  const headers = r.headers ?? [];
  const body = concat(
    int8(0), //                                  attributes (unused)
    varlong(r.timestampDelta ?? 0), //           timestampDelta
    varint(offsetDelta), //                      offsetDelta
    key === null ? varint(-1) : concat(varint(key.length), key), // keyLength + key
    value === null ? varint(-1) : concat(varint(value.length), value), // valueLength + value
    varint(headers.length), //                   headerCount
    ...headers.map(([hk, hv]) =>
      concat(
        varint(utf8(hk).length),
        utf8(hk),
        hv === null ? varint(-1) : concat(varint(utf8(hv).length), utf8(hv)),
      ),
    ),
  );
  return concat(varint(body.length), body); //  length (bytes after it)
}

/** An uncompressed, non-transactional record batch v2 with a correct CRC-32C. */
export function recordBatch(records: RawRecord[], baseTimestamp = Date.now()): Uint8Array {
  const recs = concat(...records.map((r, i) => encodeRecord(r, i)));
  const maxTs = baseTimestamp + Math.max(0, ...records.map((r) => r.timestampDelta ?? 0));
  // Bytes 21.. (what the CRC covers): attributes .. records.
  const afterCrc = concat(
    int16(0), //                  21 attributes: codec none, CreateTime, not transactional, not control
    int32(records.length - 1), // 23 lastOffsetDelta
    int64(baseTimestamp), //      27 baseTimestamp
    int64(maxTs), //              35 maxTimestamp
    int64(-1), //                 43 producerId (none)
    int16(-1), //                 51 producerEpoch (none)
    int32(-1), //                 53 baseSequence (none)
    int32(records.length), //     57 recordCount
    recs, //                      61 records
  );
  const afterLength = concat(
    int32(-1), //                 12 partitionLeaderEpoch (the client's; broker sets it)
    int8(2), //                   16 magic
    uint32(crc32c(afterCrc)), //  17 crc
    afterCrc,
  );
  return concat(
    int64(0), //                  0 baseOffset (the producer sends 0)
    int32(afterLength.length), // 8 batchLength: bytes after this field
    afterLength,
  );
}

// ---- request frames -----------------------------------------------------------------------------

/**
 * A request frame: int32 size, then request header v1 (int16 api_key, int16 api_version,
 * int32 correlation_id, nullable string client_id) — or v2, which adds an empty tagged-field
 * section (one 0x00 byte) — then the body.
 */
export function requestFrame(
  h: { apiKey: number; apiVersion: number; correlationId: number; clientId?: string | null; flexibleHeader?: boolean },
  body: Uint8Array,
): Uint8Array {
  const header = concat(
    int16(h.apiKey),
    int16(h.apiVersion),
    int32(h.correlationId),
    nullableStr(h.clientId === undefined ? "brook-raw-test" : h.clientId),
    h.flexibleHeader ? Uint8Array.of(0x00) : new Uint8Array(0),
  );
  return concat(int32(header.length + body.length), header, body);
}

/** Reads big-endian values off a response body. */
export class ByteReader {
  private view: DataView;
  offset = 0;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  int8() {
    return this.view.getInt8(this.offset++);
  }
  int16() {
    const v = this.view.getInt16(this.offset);
    this.offset += 2;
    return v;
  }
  int32() {
    const v = this.view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }
  int64() {
    const v = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return v;
  }
  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const s = new TextDecoder().decode(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }
  get remaining() {
    return this.buf.length - this.offset;
  }
}

// ---- raw TCP client -----------------------------------------------------------------------------

export type RawEvent = { kind: "frame"; frame: Uint8Array } | { kind: "closed" };

/** A TCP connection that splits incoming bytes into size-prefixed frames (size prefix removed). */
export class RawClient {
  private buffered: Uint8Array = new Uint8Array(0);
  private frames: Uint8Array[] = [];
  private waiters: ((e: RawEvent) => void)[] = [];
  private isClosed = false;
  readonly closed: Promise<void>;

  private constructor(private socket: Socket) {
    let markClosed!: () => void;
    this.closed = new Promise((r) => (markClosed = r));
    const onClose = () => {
      if (this.isClosed) return;
      this.isClosed = true;
      markClosed();
      for (const w of this.waiters.splice(0)) w({ kind: "closed" });
    };
    socket.on("data", (chunk: Buffer) => {
      this.buffered = concat(this.buffered, new Uint8Array(chunk));
      while (this.buffered.length >= 4) {
        const size = new DataView(this.buffered.buffer, this.buffered.byteOffset).getInt32(0);
        if (this.buffered.length < 4 + size) break;
        const frame = this.buffered.slice(4, 4 + size);
        this.buffered = this.buffered.slice(4 + size);
        const w = this.waiters.shift();
        if (w) w({ kind: "frame", frame });
        else this.frames.push(frame);
      }
    });
    socket.on("end", onClose);
    socket.on("close", onClose);
    socket.on("error", onClose); // ECONNRESET counts as the broker closing
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new RawClient(s));
      });
      s.once("error", reject);
    });
  }

  get isOpen() {
    return !this.isClosed;
  }

  send(b: Uint8Array): void {
    this.socket.write(b);
  }

  /** Stops reading from the socket (a client that does not read its responses) / starts again. */
  pauseReading(): void {
    this.socket.pause();
  }
  resumeReading(): void {
    this.socket.resume();
  }

  /** Response frames received and not yet taken with next(). */
  get pendingFrames(): number {
    return this.frames.length;
  }

  /** The next response frame, or "closed". Rejects only if neither happens within timeoutMs (a hang). */
  next(timeoutMs = 10_000): Promise<RawEvent> {
    const f = this.frames.shift();
    if (f) return Promise.resolve({ kind: "frame", frame: f });
    if (this.isClosed) return Promise.resolve({ kind: "closed" });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no response and no close within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (e: RawEvent) => {
        clearTimeout(t);
        resolve(e);
      };
      this.waiters.push(waiter);
    });
  }

  /** The next frame; throws if the connection closes instead. */
  async response(timeoutMs = 10_000): Promise<ByteReader> {
    const e = await this.next(timeoutMs);
    if (e.kind === "closed") throw new Error("connection closed instead of a response");
    return new ByteReader(e.frame);
  }

  close(): void {
    this.socket.destroy();
  }
}
