// Checks every API definition against Apache Kafka's own JSON message specs, independently of Brook's
// codec: for each version Brook serves, the flexible boundary, and the ordered list of fields present
// (name, type, nullability, tag, recursively) must be exactly what the spec says. Explicit non-zero
// spec defaults must be carried by the definition too.
//
// The specs are reference data beside the repository, not part of it: the directory comes from
// $KAFKA_MESSAGE_SPEC_DIR, else ../shared/kafka-protocol/message next to the clone. Where neither
// exists (a user's fresh clone), the check says so in one line and is reported as skipped.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { allApis } from "../protocol/apis/index.ts";
import type { ApiDefinition, Field, FieldType } from "../protocol/types.ts";

const SPEC_DIR = process.env.KAFKA_MESSAGE_SPEC_DIR
  ? path.resolve(process.env.KAFKA_MESSAGE_SPEC_DIR)
  : path.join(import.meta.dir, "../../shared/kafka-protocol/message");
const HAVE_SPECS = existsSync(path.join(SPEC_DIR, "ProduceRequest.json"));
if (!HAVE_SPECS)
  console.warn(
    `protocol conformance: Apache Kafka's message definitions are not at ${SPEC_DIR}; the definitions are NOT checked ` +
      `against them in this run (set KAFKA_MESSAGE_SPEC_DIR to a kafka/clients/src/main/resources/common/message directory)`,
  );

interface JsonField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: JsonField[];
}

interface JsonMessage {
  apiKey: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: JsonField[];
  commonStructs?: { name: string; versions: string; fields: JsonField[] }[];
}

function loadSpec(file: string): JsonMessage {
  const text = readFileSync(path.join(SPEC_DIR, file), "utf8");
  const withoutComments = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("//"))
    .join("\n");
  return JSON.parse(withoutComments);
}

/** Parses a spec version range ("3+", "0-2", "5", "none") into [lo, hi]; null = no versions. */
function parseRange(s: string | undefined): [number, number] | null {
  if (s === undefined || s === "none" || s === "") return null;
  if (s.endsWith("+")) return [Number(s.slice(0, -1)), Number.POSITIVE_INFINITY];
  const dash = s.indexOf("-");
  if (dash > 0) return [Number(s.slice(0, dash)), Number(s.slice(dash + 1))];
  return [Number(s), Number(s)];
}

function inRange(s: string | undefined, v: number): boolean {
  const r = parseRange(s);
  return r !== null && v >= r[0] && v <= r[1];
}

const PRIMITIVES = new Set(["bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "uuid", "string", "bytes", "records"]);

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

// --- flatten the spec's view of one version into lines -----------------------------------------------

function specLines(fields: JsonField[], v: number, flexible: boolean, structs: Map<string, JsonField[]>, prefix: string, out: string[]): void {
  for (const fd of fields) {
    if (!inRange(fd.versions, v)) continue;
    const tagged = fd.tag !== undefined;
    if (tagged && (!flexible || !inRange(fd.taggedVersions, v))) continue;
    const isArray = fd.type.startsWith("[]");
    const base = isArray ? fd.type.slice(2) : fd.type;
    const isStruct = !PRIMITIVES.has(base);
    const typeDesc = isStruct ? (isArray ? "[]struct" : "struct") : fd.type;
    const name = prefix + lowerFirst(fd.name);
    const nullable = inRange(fd.nullableVersions, v);
    out.push(`${name}: ${typeDesc}${nullable ? " nullable" : ""}${tagged ? ` tag=${fd.tag}` : ""}`);
    if (isStruct) {
      const sub = fd.fields ?? structs.get(base);
      if (!sub) throw new Error(`spec struct ${base} not found`);
      specLines(sub, v, flexible, structs, name + (isArray ? "[]." : "."), out);
    }
  }
}

// --- and the definition's view ------------------------------------------------------------------------

function present(field: Field, v: number, flexible: boolean): boolean {
  if (v < (field.since ?? 0) || v > (field.until ?? Number.POSITIVE_INFINITY)) return false;
  return field.tag === undefined || flexible;
}

function nullableAt(field: Field, v: number): boolean {
  return field.nullable === true || (typeof field.nullable === "number" && v >= field.nullable);
}

function typeDesc(t: FieldType): string {
  if (typeof t === "string") return t;
  if (t.kind === "struct") return "struct";
  return "[]" + typeDesc(t.of);
}

function defLines(fields: readonly Field[], v: number, flexible: boolean, prefix: string, out: string[]): void {
  for (const field of fields) {
    if (!present(field, v, flexible)) continue;
    const name = prefix + field.name;
    const nullable = nullableAt(field, v);
    out.push(`${name}: ${typeDesc(field.type)}${nullable ? " nullable" : ""}${field.tag !== undefined ? ` tag=${field.tag}` : ""}`);
    const t = field.type;
    if (typeof t !== "string") {
      if (t.kind === "struct") defLines(t.fields, v, flexible, name + ".", out);
      else if (typeof t.of !== "string" && t.of.kind === "struct") defLines(t.of.fields, v, flexible, name + "[].", out);
      else if (typeof t.of !== "string") throw new Error(`${name}: arrays of arrays are not in any spec`);
    }
  }
}

// --- defaults: every explicit, non-zero spec default must be the definition's default ----------------

function parseDefault(fd: JsonField): unknown {
  const d = fd.default;
  if (d === undefined) return undefined;
  if (typeof d === "boolean" || typeof d === "number") return d;
  if (d === "null") return null;
  if (d === "true") return true;
  if (d === "false") return false;
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(d)) return Number(d);
  return d;
}

function isZero(x: unknown): boolean {
  return x === 0 || x === false || x === "" || x === undefined;
}

function checkDefaults(specFields: JsonField[], defFields: readonly Field[], structs: Map<string, JsonField[]>, prefix: string, problems: string[]): void {
  for (const field of defFields) {
    const fd = specFields.find((s) => lowerFirst(s.name) === field.name);
    if (!fd) continue; // presence is the line comparison's job
    const want = parseDefault(fd);
    const name = prefix + field.name;
    if (!isZero(want) && !(typeof want === "number" && !Number.isSafeInteger(want))) {
      if (!Object.is(field.default, want)) problems.push(`${name}: default ${String(field.default)}, spec says ${String(want)}`);
    } else if (field.default !== undefined && !isZero(field.default)) {
      problems.push(`${name}: default ${String(field.default)}, spec has none (or zero)`);
    }
    const t = field.type;
    const inner = typeof t === "string" ? null : t.kind === "struct" ? t : typeof t.of !== "string" && t.of.kind === "struct" ? t.of : null;
    if (inner) {
      const base = fd.type.replace(/^\[\]/, "");
      const sub = fd.fields ?? structs.get(base) ?? [];
      checkDefaults(sub, inner.fields, structs, name + ".", problems);
    }
  }
}

// --- the tests ----------------------------------------------------------------------------------------

// Versions Kafka 4.0 added after the snapshot of the specs beside the repository, each with exactly the
// fields of an earlier version (Kafka 4.0's ProduceRequest/Response.json: "Version 12 is the same as
// version 11 (KIP-890)"; TxnOffsetCommitRequest/Response.json: "Version 5 is the same as version 4
// (KIP-890)"): they are checked against that version of the spec.
const LATER_SAME_AS: Record<string, Record<number, number>> = {
  Produce: { 12: 11 },
  TxnOffsetCommit: { 5: 4 },
};
const specVersion = (def: ApiDefinition, v: number) => LATER_SAME_AS[def.name]?.[v] ?? v;

const versionsOf = (def: ApiDefinition) => {
  const out: number[] = [];
  for (let v = def.versions[0]; v <= def.versions[1]; v++) out.push(v);
  return out;
};

test("each API key and name appears once", () => {
  const keys = allApis.map((d) => d.key);
  const names = allApis.map((d) => d.name);
  expect(new Set(keys).size).toBe(keys.length);
  expect(new Set(names).size).toBe(names.length);
});

if (!HAVE_SPECS) test.skip(`conformance with Kafka's message definitions: not checked, none at ${SPEC_DIR}`, () => {});

for (const def of HAVE_SPECS ? allApis : []) {
  describe(`${def.name} (key ${def.key}) v${def.versions[0]}-${def.versions[1]}`, () => {
    for (const side of ["request", "response"] as const) {
      const spec = loadSpec(`${def.name}${side === "request" ? "Request" : "Response"}.json`);
      const structs = new Map((spec.commonStructs ?? []).map((s) => [s.name, s.fields] as const));

      test(`${side}: key, valid versions and flexible boundary`, () => {
        expect(spec.apiKey).toBe(def.key);
        expect(spec.name).toBe(def.name + (side === "request" ? "Request" : "Response"));
        const valid = parseRange(spec.validVersions)!;
        expect(def.versions[0]).toBeLessThanOrEqual(def.versions[1]);
        expect(def.versions[0]).toBeGreaterThanOrEqual(valid[0]);
        expect(specVersion(def, def.versions[1])).toBeLessThanOrEqual(valid[1]);
        for (const v of versionsOf(def)) {
          expect({ v, flexible: v >= def.flexible }).toEqual({ v, flexible: inRange(spec.flexibleVersions, specVersion(def, v)) });
        }
      });

      for (const v of versionsOf(def)) {
        test(`${side} v${v}: fields`, () => {
          const flexible = v >= def.flexible;
          const want: string[] = [];
          specLines(spec.fields, specVersion(def, v), flexible, structs, "", want);
          const got: string[] = [];
          defLines(def[side], v, flexible, "", got);
          expect(got).toEqual(want);
        });
      }

      test(`${side}: defaults`, () => {
        const problems: string[] = [];
        checkDefaults(spec.fields, def[side], structs, "", problems);
        expect(problems).toEqual([]);
      });
    }
  });
}
