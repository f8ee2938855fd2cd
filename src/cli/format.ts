// How `brook consume` prints a record: kcat's -f format tokens, or kcat's -J JSON envelope.
//
//   %t topic  %p partition  %o offset  %T timestamp (ms)  %k key  %K key length  %s value
//   %S value length  %h headers as k=v,k=v  %%  and the escapes \n \r \t \\
// Null keys and values print as nothing (their length as -1).

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  /** 0 CreateTime, 1 LogAppendTime */
  timestampType: 0 | 1;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
  /** the broker the record was fetched from */
  broker: number;
}

export type Formatter = (r: ConsumedRecord) => Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const text = (s: string) => encoder.encode(s);

type Part = Uint8Array | ((r: ConsumedRecord) => Uint8Array);

const TOKENS: Record<string, (r: ConsumedRecord) => Uint8Array> = {
  t: (r) => text(r.topic),
  p: (r) => text(String(r.partition)),
  o: (r) => text(String(r.offset)),
  T: (r) => text(String(r.timestamp)),
  k: (r) => r.key ?? EMPTY,
  K: (r) => text(String(r.key?.length ?? -1)),
  s: (r) => r.value ?? EMPTY,
  S: (r) => text(String(r.value?.length ?? -1)),
  h: (r) => text(r.headers.map((h) => `${h.key}=${h.value === null ? "" : decoder.decode(h.value)}`).join(",")),
};

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\" };

/** Compiles a kcat-style -f format; throws on an unknown %-token. */
export function compileFormat(format: string): Formatter {
  const parts: Part[] = [];
  let literal = "";
  const flush = () => {
    if (literal) parts.push(text(literal));
    literal = "";
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === "%" && next !== undefined) {
      i++;
      if (next === "%") literal += "%";
      else {
        const token = TOKENS[next];
        if (!token) throw new Error(`unknown format token %${next}`);
        flush();
        parts.push(token);
      }
    } else if (c === "\\" && next !== undefined && ESCAPES[next] !== undefined) {
      literal += ESCAPES[next];
      i++;
    } else literal += c;
  }
  flush();
  return (r) => {
    const pieces = parts.map((p) => (typeof p === "function" ? p(r) : p));
    const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
}

const str = (b: Uint8Array | null) => (b === null ? null : decoder.decode(b));

/** kcat -J's envelope, one JSON object per line; keys, values and header values decoded as UTF-8. */
export const jsonFormat: Formatter = (r) => {
  const o: Record<string, unknown> = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    tstype: r.timestampType === 1 ? "logappend" : "create",
    ts: r.timestamp,
    broker: r.broker,
  };
  if (r.headers.length > 0) o.headers = r.headers.flatMap((h) => [h.key, str(h.value)]);
  o.key = str(r.key);
  o.payload = str(r.value);
  return text(JSON.stringify(o) + "\n");
};
