// The one generic codec: walks an API definition for one version and compiles it once into closures,
// cached per (definition, version, direction). Unknown tagged fields are kept on decode (`_unknownTags`)
// so nothing a newer client sends is silently mangled.
import { ProtocolError } from "./errors.ts";
import { Reader } from "./reader.ts";
import type { ApiDefinition, Field, FieldType, Infer, Loose } from "./types.ts";
import { Writer } from "./writer.ts";

type Decode = (r: Reader) => any;
type Encode = (w: Writer, v: any) => void;

export interface Codec<T> {
  decode(r: Reader): T;
  encode(w: Writer, value: Loose<T>): void;
}

export interface UnknownTag {
  tag: number;
  data: Uint8Array;
}

const ZERO_UUID = "0".repeat(32);
const MAX_STRING_BYTES = 32767;

/** A message cut to at most MAX_STRING_BYTES of UTF-8 (strings that short already are left alone). */
function fitString(v: unknown): unknown {
  if (typeof v !== "string" || v.length <= MAX_STRING_BYTES / 3) return v;
  let s = v;
  while (Buffer.byteLength(s) > MAX_STRING_BYTES) s = s.slice(0, Math.floor(s.length * 0.9));
  return s;
}

function hasField(field: Field, version: number): boolean {
  return version >= (field.since ?? 0) && version <= (field.until ?? Number.POSITIVE_INFINITY);
}

function nullableAt(field: Field, version: number): boolean {
  const n = field.nullable;
  return n === true || (typeof n === "number" && version >= n);
}

/** The value a field takes when absent from a version or omitted by a handler. */
function defaultOf(field: Field, version: number, flexible: boolean): () => any {
  if (field.default !== undefined) {
    const d = field.default;
    return () => d;
  }
  if (field.nullable !== undefined) return () => null;
  return defaultOfType(field.type, version, flexible);
}

function defaultOfType(type: FieldType, version: number, flexible: boolean): () => any {
  if (typeof type === "string") {
    switch (type) {
      case "bool":
        return () => false;
      case "string":
        return () => "";
      case "uuid":
        return () => ZERO_UUID;
      case "bytes":
        return () => new Uint8Array(0);
      case "records":
        return () => null;
      default:
        return () => 0;
    }
  }
  if (type.kind === "array") return () => [];
  const s = compileStruct(type.fields, version, flexible);
  return () => s.decodeDefaults();
}

function primitive(type: string, nullable: boolean, compact: boolean): { dec: Decode; enc: Encode } {
  switch (type) {
    case "bool":
      return { dec: (r) => r.bool(), enc: (w, v) => w.bool(!!v) };
    case "int8":
      return { dec: (r) => r.int8(), enc: (w, v) => w.int8(v ?? 0) };
    case "int16":
      return { dec: (r) => r.int16(), enc: (w, v) => w.int16(v ?? 0) };
    case "uint16":
      return { dec: (r) => r.uint16(), enc: (w, v) => w.uint16(v ?? 0) };
    case "int32":
      return { dec: (r) => r.int32(), enc: (w, v) => w.int32(v ?? 0) };
    case "uint32":
      return { dec: (r) => r.uint32(), enc: (w, v) => w.uint32(v ?? 0) };
    case "int64":
      return { dec: (r) => r.int64(), enc: (w, v) => w.int64(v ?? 0) };
    case "float64":
      return { dec: (r) => r.float64(), enc: (w, v) => w.float64(v ?? 0) };
    case "uuid":
      return { dec: (r) => r.uuid(), enc: (w, v) => w.uuid(v ?? ZERO_UUID) };
    case "string":
      return {
        dec: (r) => {
          const s = r.string(compact);
          if (s === null && !nullable) throw new ProtocolError("null in a non-nullable string");
          return s;
        },
        enc: (w, v) => w.string(v ?? (nullable ? null : ""), compact),
      };
    case "bytes":
      return {
        dec: (r) => {
          const b = r.bytes(compact);
          if (b === null && !nullable) throw new ProtocolError("null in non-nullable bytes");
          return b;
        },
        enc: (w, v) => w.bytes(v ?? (nullable ? null : new Uint8Array(0)), compact),
      };
    case "records":
      return {
        dec: (r) => r.bytes(compact),
        enc: (w, v) => {
          if (v === null || v === undefined) return w.length(nullable ? -1 : 0, compact, true);
          if (v instanceof Uint8Array) {
            w.length(v.length, compact, true);
            return w.share(v);
          }
          let total = 0;
          for (const part of v as Uint8Array[]) total += part.length;
          w.length(total, compact, true);
          for (const part of v as Uint8Array[]) w.share(part);
        },
      };
  }
  throw new Error(`unknown field type ${type}`);
}

function compileType(type: FieldType, version: number, flexible: boolean, nullable: boolean): { dec: Decode; enc: Encode } {
  if (typeof type === "string") return primitive(type, nullable, flexible);
  if (type.kind === "struct") {
    const s = compileStruct(type.fields, version, flexible);
    if (!nullable) return { dec: s.decode, enc: (w, v) => s.encode(w, v ?? {}) };
    // A nullable struct is preceded by a presence byte: -1 for null, 1 for a value (Kafka's generator).
    return {
      dec: (r) => (r.int8() < 0 ? null : s.decode(r)),
      enc: (w, v) => {
        if (v === null || v === undefined) return w.int8(-1);
        w.int8(1);
        s.encode(w, v);
      },
    };
  }
  const elem = compileType(type.of, version, flexible, false);
  return {
    dec: (r) => {
      const n = r.arrayLength(flexible);
      if (n === -1) {
        if (!nullable) throw new ProtocolError("null in a non-nullable array");
        return null;
      }
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = elem.dec(r);
      return out;
    },
    enc: (w, v) => {
      if (v === null || v === undefined) return w.length(nullable ? -1 : 0, flexible, true);
      w.length(v.length, flexible, true);
      for (let i = 0; i < v.length; i++) elem.enc(w, v[i]);
    },
  };
}

interface CompiledStruct {
  decode: Decode;
  encode: Encode;
  decodeDefaults: () => any;
}

function compileStruct(fields: readonly Field[], version: number, flexible: boolean): CompiledStruct {
  const regular: { name: string; dec: Decode; enc: Encode; def: () => any }[] = [];
  // `omit`: the value that is left out of the tagged section (the field's default, for scalars);
  // `omitStruct`: a tagged struct's default, left out too when every field equals it (as Kafka does)
  const tagged = new Map<number, { name: string; dec: Decode; enc: Encode; def: () => any; omit: unknown; omitStruct?: Record<string, unknown> }>();
  const absent: { name: string; def: () => any }[] = [];

  for (const field of fields) {
    const def = defaultOf(field, version, flexible);
    const present = hasField(field, version) && (field.tag === undefined || flexible);
    if (!present) {
      absent.push({ name: field.name, def });
      continue;
    }
    const compiled = compileType(field.type, version, flexible, nullableAt(field, version));
    const dec = compiled.dec;
    // Free-text messages may quote what a client sent (a 30 kB topic name): cut to fit, never fail.
    const enc: Encode = field.type === "string" && /Message$/.test(field.name) ? (w, v) => compiled.enc(w, fitString(v)) : compiled.enc;
    if (field.tag !== undefined) {
      const d = def();
      const isStruct = typeof field.type !== "string" && field.type.kind === "struct";
      tagged.set(field.tag, { name: field.name, dec, enc, def, omit: typeof d === "object" ? undefined : d, omitStruct: isStruct && d ? d : undefined });
    }
    else regular.push({ name: field.name, dec, enc, def });
  }
  const tags = [...tagged.entries()].sort((a, b) => a[0] - b[0]);

  const decodeDefaults = () => {
    const o: any = {};
    for (const f of regular) o[f.name] = f.def();
    for (const [, f] of tags) o[f.name] = f.def();
    for (const f of absent) o[f.name] = f.def();
    return o;
  };

  const decode: Decode = (r) => {
    const o: any = {};
    for (let i = 0; i < regular.length; i++) o[regular[i]!.name] = regular[i]!.dec(r);
    for (let i = 0; i < absent.length; i++) o[absent[i]!.name] = absent[i]!.def();
    if (flexible) {
      for (const [, f] of tags) o[f.name] = f.def();
      const count = r.uvarint();
      for (let i = 0; i < count; i++) {
        const tag = r.uvarint();
        const size = r.uvarint();
        if (size > r.remaining) throw new ProtocolError(`tagged field ${tag} overruns the message`);
        const end = r.pos + size;
        const known = tagged.get(tag);
        if (known) {
          const sub = new Reader(r.buf, r.pos, end);
          o[known.name] = known.dec(sub);
        } else {
          (o._unknownTags ??= [] as UnknownTag[]).push({ tag, data: r.buf.subarray(r.pos, end) });
        }
        r.pos = end;
      }
    }
    return o;
  };

  const scratch = new Writer(256);
  const encode: Encode = (w, o) => {
    for (let i = 0; i < regular.length; i++) {
      const f = regular[i]!;
      const v = o[f.name];
      f.enc(w, v === undefined ? f.def() : v);
    }
    if (!flexible) return;
    const present: [number, (typeof tags)[number][1], any][] = [];
    for (const [tag, f] of tags) {
      const v = o[f.name];
      if (v === undefined || v === null || v === f.omit) continue;
      if (f.omitStruct && isDefaultStruct(v, f.omitStruct)) continue;
      present.push([tag, f, v]);
    }
    w.uvarint(present.length);
    for (const [tag, f, v] of present) {
      scratch.pos = 0;
      f.enc(scratch, v);
      w.uvarint(tag);
      w.uvarint(scratch.pos);
      w.raw(scratch.buf.subarray(0, scratch.pos));
    }
  };

  return { decode, encode, decodeDefaults };
}

/** A struct value whose fields all equal the defaults (fields left out count as defaults). */
function isDefaultStruct(v: Record<string, unknown>, defaults: Record<string, unknown>): boolean {
  for (const k in defaults) {
    const x = v[k];
    if (x !== undefined && x !== defaults[k]) return false;
  }
  return true;
}

const cache = new WeakMap<ApiDefinition, Map<number, Codec<any>>>();

function codecFor(def: ApiDefinition, version: number, side: "request" | "response"): Codec<any> {
  let byVersion = cache.get(def);
  if (!byVersion) cache.set(def, (byVersion = new Map()));
  const key = side === "request" ? version : -1 - version;
  let codec = byVersion.get(key);
  if (!codec) {
    const s = compileStruct(def[side], version, version >= def.flexible);
    codec = { decode: s.decode, encode: s.encode };
    byVersion.set(key, codec);
  }
  return codec;
}

export function requestCodec<D extends ApiDefinition>(def: D, version: number): Codec<Infer<D["request"]>> {
  return codecFor(def, version, "request");
}

export function responseCodec<D extends ApiDefinition>(def: D, version: number): Codec<Infer<D["response"]>> {
  return codecFor(def, version, "response");
}
