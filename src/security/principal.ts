// The principal of a mutual-TLS client, as Kafka's DefaultKafkaPrincipalBuilder makes it: the subject of
// the client's certificate as Java's X500Principal.getName() writes it (RFC 2253: the last RDN first,
// known attribute names, other attributes as OID=#hex), then ssl.principal.mapping.rules, parsed and
// applied as Kafka's SslPrincipalMapper does: "RULE:pattern/replacement/[LU]" and "DEFAULT", the first
// rule whose pattern matches the whole name wins, and no matching rule is an error.
import forge from "node-forge";
import { ConfigError } from "../config.ts";

/** The attribute names Java writes in RFC 2253 form (everything else is written as its OID). */
const RFC2253_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
};

const { Type, Class } = forge.asn1;
const STRING_TYPES = new Set<number>([20 /* TeletexString */, Type.UTF8, Type.PRINTABLESTRING, Type.IA5STRING, Type.BMPSTRING, 28 /* UniversalString */, 26 /* VisibleString */]);

function escapeRfc2253(value: string): string {
  let out = value.replace(/[,+"\\<>;]/g, (c) => `\\${c}`);
  if (out.startsWith("#") || out.startsWith(" ")) out = `\\${out}`;
  if (out.endsWith(" ") && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function decodeString(node: forge.asn1.Asn1): string {
  const raw = node.value as string;
  if (node.type === Type.UTF8) return forge.util.decodeUtf8(raw);
  if (node.type === Type.BMPSTRING) {
    let s = "";
    for (let i = 0; i + 1 < raw.length; i += 2) s += String.fromCharCode((raw.charCodeAt(i) << 8) | raw.charCodeAt(i + 1));
    return s;
  }
  return raw;
}

/** The certificate's subject in RFC 2253 form (Java's X500Principal.getName()). */
export function subjectName(certDer: Uint8Array): string {
  const cert = forge.asn1.fromDer(forge.util.binary.raw.encode(certDer));
  const tbs = (cert.value as forge.asn1.Asn1[])[0]!;
  const fields = (tbs.value as forge.asn1.Asn1[]).slice();
  if (fields[0]!.tagClass === Class.CONTEXT_SPECIFIC) fields.shift(); // [0] version
  const subject = fields[4]!; // serialNumber, signature, issuer, validity, subject
  const rdns = (subject.value as forge.asn1.Asn1[]).map((rdn) =>
    (rdn.value as forge.asn1.Asn1[])
      .map((ava) => {
        const [type, value] = ava.value as forge.asn1.Asn1[];
        const oid = forge.asn1.derToOid(type!.value as string);
        const name = RFC2253_NAMES[oid];
        if (name && STRING_TYPES.has(value!.type) && value!.tagClass === Class.UNIVERSAL) return `${name}=${escapeRfc2253(decodeString(value!))}`;
        return `${oid}=#${forge.util.bytesToHex(forge.asn1.toDer(value!).getBytes())}`;
      })
      .join("+"),
  );
  return rdns.reverse().join(",");
}

interface Rule {
  pattern: RegExp | null; // null: DEFAULT
  replacement: string;
  toLower: boolean;
  toUpper: boolean;
}

// Kafka's rule grammar: DEFAULT | RULE:pattern/replacement/[LU], comma-separated.
const RULE = String.raw`(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`;

export class SslPrincipalMapper {
  private readonly rules: Rule[];

  constructor(
    readonly text: string,
    property = "ssl.principal.mapping.rules",
  ) {
    const parts: string[] = [];
    for (const m of text.trim().matchAll(new RegExp(String.raw`\s*(${RULE})\s*(,\s*|$)`, "g"))) parts.push(m[1]!);
    this.rules = [];
    for (const part of parts) {
      const m = new RegExp(`^(?:${RULE})`).exec(part);
      if (!m || m[0].length !== part.length) throw new ConfigError(`${property}: invalid rule: ${part}`);
      if (m[1] !== undefined) this.rules.push({ pattern: null, replacement: "", toLower: false, toUpper: false });
      else if (m[2] !== undefined) {
        let pattern: RegExp;
        try {
          pattern = new RegExp(m[2]);
        } catch (e) {
          throw new ConfigError(`${property}: invalid pattern in rule ${part}: ${(e as Error).message}`);
        }
        this.rules.push({ pattern, replacement: m[4]!, toLower: m[6] === "L", toUpper: m[6] === "U" });
      }
    }
  }

  /** The principal name for a distinguished name; throws when no rule applies (Kafka refuses the client). */
  name(dn: string): string {
    for (const r of this.rules) {
      if (!r.pattern) return dn;
      const whole = new RegExp(`^(?:${r.pattern.source})$`);
      const m = whole.exec(dn);
      if (!m) continue;
      let out = dn.replace(new RegExp(r.pattern.source, "g"), (...args) => javaReplacement(r.replacement, args.slice(0, m.length) as string[]));
      if (r.toLower) out = out.toLowerCase();
      else if (r.toUpper) out = out.toUpperCase();
      return out;
    }
    throw new Error(`No rules apply to ${dn}, rules [${this.text}]`);
  }
}

/**
 * Java's Matcher.replaceAll replacement syntax: $n group references (a reference to a group that does not
 * exist stays literal, as Kafka's escapeLiteralBackReferences arranges) and backslash escapes.
 */
function javaReplacement(replacement: string, groups: string[]): string {
  let out = "";
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === "\\" && i + 1 < replacement.length) {
      out += replacement[++i];
    } else if (c === "$" && /[0-9]/.test(replacement[i + 1] ?? "")) {
      let n = Number(replacement[i + 1]);
      if (n >= groups.length) {
        out += c;
        continue;
      }
      i++;
      while (/[0-9]/.test(replacement[i + 1] ?? "") && n * 10 + Number(replacement[i + 1]) < groups.length) n = n * 10 + Number(replacement[++i]);
      out += groups[n] ?? "";
    } else out += c;
  }
  return out;
}
