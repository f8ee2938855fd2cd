// A growable big-endian writer; responses are built in one buffer and sent as one frame. A sharing
// writer (`share: true`) does not copy large byte ranges handed to share(): it keeps a reference and
// finishParts() returns the frame as parts to write back to back — fetch responses go out as slices of
// the mapped log instead of copies.
const utf8 = new TextEncoder();

/** Ranges shorter than this are copied even by a sharing writer (one write beats several). */
export const SHARE_MIN_BYTES = 16 * 1024;

export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /** parts finished so far (sharing writers only): buffer ranges and shared ranges, in order */
  private parts: Uint8Array[] | null = null;
  /** where the buffer range not yet in `parts` starts */
  private partStart = 0;

  constructor(
    initial = 1024,
    private readonly options: { share?: boolean } = {},
  ) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < at + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.pos = at + n;
    return at;
  }

  /** The bytes written so far (a view, not a copy; one contiguous copy if ranges were shared). */
  finish(): Uint8Array {
    const parts = this.finishParts();
    if (parts instanceof Uint8Array) return parts;
    const out = new Uint8Array(this.totalLength);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** The bytes written so far: one view, or the parts to send back to back when ranges were shared. */
  finishParts(): Uint8Array | Uint8Array[] {
    if (this.parts === null) return this.buf.subarray(0, this.pos);
    return this.pos > this.partStart ? [...this.parts, this.buf.subarray(this.partStart, this.pos)] : this.parts;
  }

  /** Total bytes written, shared ranges included. */
  get totalLength(): number {
    if (this.parts === null) return this.pos;
    let n = this.pos - this.partStart;
    for (const p of this.parts) n += p.length;
    return n;
  }

  /**
   * Appends v; a sharing writer keeps a reference to a large v instead of copying it, so v must stay
   * unchanged until the frame is written.
   */
  share(v: Uint8Array): void {
    if (!this.options.share || v.length < SHARE_MIN_BYTES) return this.raw(v);
    const parts = (this.parts ??= []);
    // The buffer range before it is final: later writes only go after pos, and a grown buffer leaves
    // this view on the old one.
    if (this.pos > this.partStart) parts.push(this.buf.subarray(this.partStart, this.pos));
    parts.push(v);
    this.partStart = this.pos;
  }

  bool(v: boolean): void {
    const at = this.ensure(1);
    this.buf[at] = v ? 1 : 0;
  }
  int8(v: number): void {
    const at = this.ensure(1);
    this.view.setInt8(at, v);
  }
  int16(v: number): void {
    const at = this.ensure(2);
    this.view.setInt16(at, v);
  }
  uint16(v: number): void {
    const at = this.ensure(2);
    this.view.setUint16(at, v);
  }
  int32(v: number): void {
    const at = this.ensure(4);
    this.view.setInt32(at, v);
  }
  uint32(v: number): void {
    const at = this.ensure(4);
    this.view.setUint32(at, v);
  }
  int64(v: number): void {
    const at = this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.view.setInt32(at, hi);
    this.view.setUint32(at + 4, v - hi * 4294967296);
  }
  float64(v: number): void {
    const at = this.ensure(8);
    this.view.setFloat64(at, v);
  }
  uvarint(v: number): void {
    while (v >= 0x80) {
      const at = this.ensure(1);
      this.buf[at] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    const at = this.ensure(1);
    this.buf[at] = v;
  }
  varint(v: number): void {
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }
  uuid(v: string): void {
    const at = this.ensure(16);
    if (v.length !== 32) throw new Error(`uuid must be 32 hex digits: ${v}`);
    this.buf.set(Buffer.from(v, "hex"), at);
  }

  length(n: number, compact: boolean, wide: boolean): void {
    if (compact) this.uvarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }

  string(v: string | null, compact: boolean): void {
    if (v === null) return this.length(-1, compact, false);
    // Worst case 3 bytes per UTF-16 unit; write the length after encoding.
    const max = v.length * 3;
    if (!compact) {
      const at = this.ensure(2 + max);
      const { written } = utf8.encodeInto(v, this.buf.subarray(at + 2, at + 2 + max));
      // Never a wrapped length: a frame with a lying string length is worse than no frame.
      if (written > 32767) throw new RangeError(`a string of ${written} bytes does not fit an int16 length`);
      this.view.setInt16(at, written);
      this.pos = at + 2 + written;
    } else {
      const bytes = utf8.encode(v);
      this.uvarint(bytes.length + 1);
      this.raw(bytes);
    }
  }
  bytes(v: Uint8Array | null, compact: boolean): void {
    if (v === null) return this.length(-1, compact, true);
    this.length(v.length, compact, true);
    this.raw(v);
  }
  raw(v: Uint8Array): void {
    const at = this.ensure(v.length);
    this.buf.set(v, at);
  }
  /** Reserve n bytes to fill in later (sizes known only after the body is written). */
  reserve(n: number): number {
    return this.ensure(n);
  }
}
