// A request as a tree of wire elements rather than bytes, so mutations can aim at structure: a length
// off by one, an array count that lies, an overlong varint, a duplicated or unknown tagged field. Lengths,
// counts and tagged-field sizes are computed from their contents when serialized unless a mutation has
// overridden them. The encoding is written here from the protocol spec, independent of Brook's codec.

export type Node =
  | { k: "int"; width: 1 | 2 | 4 | 8; value: number | bigint; name?: string }
  | { k: "u"; width: 2 | 4; value: number; name?: string }
  | { k: "f64"; value: number }
  | { k: "uvarint"; value: number; overlong?: number }
  | { k: "raw"; bytes: Uint8Array; role: "uuid" | "string" | "bytes" | "records" | "garbage" }
  | { k: "seq"; items: Node[] }
  /** a string/bytes/records: length prefix, then body; `nil` writes the null length and no body */
  | { k: "sized"; prefix: Prefix; body: Node; nil?: boolean; lengthOverride?: number; overlong?: number }
  /** an array: count prefix, then elements */
  | { k: "array"; prefix: Prefix; items: Node[]; nil?: boolean; countOverride?: number; overlong?: number }
  /** a tagged-field section: count, then (tag, size, body) entries */
  | { k: "tags"; fields: TagField[]; countOverride?: number };

export interface TagField {
  tag: number;
  body: Node;
  sizeOverride?: number;
}

/** int16 length (strings), int32 length (bytes, arrays), or the compact unsigned varint of length + 1. */
export type Prefix = "int16" | "int32" | "compact";

class Out {
  buf = new Uint8Array(1024);
  view = new DataView(this.buf.buffer);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  int(width: number, v: number | bigint, unsigned = false): void {
    this.ensure(width);
    const dv = this.view;
    const at = this.pos;
    if (width === 1) dv.setInt8(at, (Number(v) << 24) >> 24);
    else if (width === 2) unsigned ? dv.setUint16(at, Number(v) & 0xffff) : dv.setInt16(at, (Number(v) << 16) >> 16);
    else if (width === 4) unsigned ? dv.setUint32(at, Number(v) >>> 0) : dv.setInt32(at, Number(v) | 0);
    else dv.setBigInt64(at, BigInt.asIntN(64, BigInt(v)));
    this.pos += width;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
  /** Unsigned varint; `overlong` adds continuation bytes that carry zeros (a longer-than-needed form). */
  uvarint(v: number, overlong = 0): void {
    let x = v >>> 0 === v ? v : Math.max(0, Math.min(v, 0xffffffff)) >>> 0;
    this.ensure(5 + overlong);
    while (x >= 0x80) {
      this.buf[this.pos++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    this.buf[this.pos++] = x;
    for (let i = 0; i < overlong; i++) {
      this.buf[this.pos - 1]! |= 0x80;
      this.buf[this.pos++] = 0;
    }
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function writePrefix(o: Out, prefix: Prefix, n: number, overlong = 0): void {
  if (prefix === "int16") o.int(2, n);
  else if (prefix === "int32") o.int(4, n);
  else o.uvarint(n + 1, overlong);
}

/** Writes a body, then its length prefix in front of it (moving the body when the prefix is a varint). */
function writeSized(o: Out, prefix: Prefix, body: Node, override: number | undefined, overlong = 0): void {
  if (prefix !== "compact") {
    const at = o.pos;
    o.int(prefix === "int16" ? 2 : 4, 0);
    write(o, body);
    const len = o.pos - at - (prefix === "int16" ? 2 : 4);
    if (prefix === "int16") o.view.setInt16(at, override ?? len);
    else o.view.setInt32(at, override ?? len);
    return;
  }
  const start = o.pos;
  write(o, body);
  const content = o.buf.slice(start, o.pos);
  o.pos = start;
  o.uvarint((override ?? content.length) + 1, overlong);
  o.raw(content);
}

function write(o: Out, n: Node): void {
  switch (n.k) {
    case "int":
      return o.int(n.width, n.value);
    case "u":
      return o.int(n.width, n.value, true);
    case "f64":
      return o.f64(n.value);
    case "uvarint":
      return o.uvarint(n.value, n.overlong);
    case "raw":
      return o.raw(n.bytes);
    case "seq":
      for (const i of n.items) write(o, i);
      return;
    case "sized":
      if (n.nil) return writePrefix(o, n.prefix, n.lengthOverride ?? -1, n.overlong);
      return writeSized(o, n.prefix, n.body, n.lengthOverride, n.overlong);
    case "array":
      if (n.nil) return writePrefix(o, n.prefix, n.countOverride ?? -1, n.overlong);
      writePrefix(o, n.prefix, n.countOverride ?? n.items.length, n.overlong);
      for (const i of n.items) write(o, i);
      return;
    case "tags":
      o.uvarint(n.countOverride ?? n.fields.length);
      for (const f of n.fields) {
        o.uvarint(f.tag);
        // The size is a plain varint (not length + 1 like compact strings).
        const start = o.pos;
        write(o, f.body);
        const content = o.buf.slice(start, o.pos);
        o.pos = start;
        o.uvarint(f.sizeOverride ?? content.length);
        o.raw(content);
      }
      return;
  }
}

export function serialize(n: Node): Uint8Array {
  const o = new Out();
  write(o, n);
  return o.finish();
}

/** Every node in the tree, parents before children (mutation targets). */
export function allNodes(root: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node) => {
    out.push(n);
    if (n.k === "seq") n.items.forEach(visit);
    else if (n.k === "sized") visit(n.body);
    else if (n.k === "array") n.items.forEach(visit);
    else if (n.k === "tags") for (const f of n.fields) visit(f.body);
  };
  visit(root);
  return out;
}

/** A deep copy, so a mutation never touches a template. */
export function clone(n: Node): Node {
  switch (n.k) {
    case "seq":
      return { ...n, items: n.items.map(clone) };
    case "sized":
      return { ...n, body: clone(n.body) };
    case "array":
      return { ...n, items: n.items.map(clone) };
    case "tags":
      return { ...n, fields: n.fields.map((f) => ({ ...f, body: clone(f.body) })) };
    default:
      return { ...n };
  }
}

// Small constructors.
export const int8 = (value: number, name?: string): Node => ({ k: "int", width: 1, value, name });
export const int16 = (value: number, name?: string): Node => ({ k: "int", width: 2, value, name });
export const int32 = (value: number, name?: string): Node => ({ k: "int", width: 4, value, name });
export const int64 = (value: number | bigint, name?: string): Node => ({ k: "int", width: 8, value, name });
export const seq = (...items: Node[]): Node => ({ k: "seq", items });
export const raw = (bytes: Uint8Array, role: "uuid" | "string" | "bytes" | "records" | "garbage" = "garbage"): Node => ({ k: "raw", bytes, role });
const utf8 = new TextEncoder();
export const string = (s: string | null, prefix: Prefix): Node =>
  s === null ? { k: "sized", prefix, body: seq(), nil: true } : { k: "sized", prefix, body: raw(utf8.encode(s), "string") };
export const bytes = (b: Uint8Array | null, prefix: Prefix, role: "bytes" | "records" = "bytes"): Node =>
  b === null ? { k: "sized", prefix, body: seq(), nil: true } : { k: "sized", prefix, body: raw(b, role) };
export const array = (items: Node[] | null, prefix: Prefix): Node => (items === null ? { k: "array", prefix, items: [], nil: true } : { k: "array", prefix, items });
