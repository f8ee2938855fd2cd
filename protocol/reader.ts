// Big-endian primitives over a Uint8Array, in Kafka's normal and compact (flexible) forms.
import { ProtocolError } from "./errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: false });
const MAX_INT16_STRING = 32767;

export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.end) throw new ProtocolError(`truncated: need ${n} bytes at ${at}, have ${this.end - at}`);
    this.pos = at + n;
    return at;
  }

  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }
  int8(): number {
    return this.view.getInt8(this.need(1));
  }
  int16(): number {
    return this.view.getInt16(this.need(2));
  }
  uint16(): number {
    return this.view.getUint16(this.need(2));
  }
  int32(): number {
    return this.view.getInt32(this.need(4));
  }
  uint32(): number {
    return this.view.getUint32(this.need(4));
  }
  /** int64 as a JS number: exact for every offset, timestamp and id Kafka uses in practice (< 2^53). */
  int64(): number {
    const at = this.need(8);
    return this.view.getInt32(at) * 4294967296 + this.view.getUint32(at + 4);
  }
  float64(): number {
    return this.view.getFloat64(this.need(8));
  }

  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new ProtocolError("truncated varint");
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new ProtocolError("varint too long");
    }
  }
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  uuid(): string {
    const at = this.need(16);
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + at, 16).toString("hex");
  }

  private text(len: number): string {
    const at = this.need(len);
    const s = utf8.decode(this.buf.subarray(at, at + len));
    // Invalid UTF-8 decodes to U+FFFD (3 bytes each), as in Kafka. A string that then no longer fits
    // an int16 length could never be written back (group ids, member ids, client ids are echoed in
    // responses): refuse it here rather than fail every later response that carries it.
    if (len > MAX_INT16_STRING / 3) {
      const n = Buffer.byteLength(s);
      if (n > len && n > MAX_INT16_STRING) throw new ProtocolError(`a string of ${len} bytes is not valid UTF-8 and would not fit a response`);
    }
    return s;
  }
  private slice(len: number): Uint8Array {
    const at = this.need(len);
    return this.buf.subarray(at, at + len);
  }

  /** Length of a string/bytes/array: -1 means null. */
  length(compact: boolean, wide: boolean): number {
    if (compact) return this.uvarint() - 1;
    return wide ? this.int32() : this.int16();
  }

  string(compact: boolean): string | null {
    const len = this.length(compact, false);
    if (len < -1) throw new ProtocolError(`bad string length ${len}`);
    // Kafka refuses compact strings longer than an int16 length too ("had invalid length").
    if (len > MAX_INT16_STRING) throw new ProtocolError(`string of ${len} bytes is longer than ${MAX_INT16_STRING}`);
    return len === -1 ? null : this.text(len);
  }
  bytes(compact: boolean): Uint8Array | null {
    const len = this.length(compact, true);
    if (len < -1) throw new ProtocolError(`bad bytes length ${len}`);
    return len === -1 ? null : this.slice(len);
  }
  /** Array length with a sanity bound: each element takes at least one byte. */
  arrayLength(compact: boolean): number {
    const len = this.length(compact, true);
    if (len < -1 || len > this.remaining) throw new ProtocolError(`bad array length ${len}`);
    return len;
  }
}
