// Scraping /metrics in tests: a strict parser of the Prometheus text format (0.0.4) that fails on what a
// Prometheus server would reject (samples before their # TYPE, a family split in two, duplicate series,
// unparsable values or labels), and lookups by name and labels.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

export class Scrape {
  constructor(
    readonly families: Map<string, Family>,
    readonly text: string,
  ) {}

  /** Samples of a metric (a family name, or a histogram's _bucket/_sum/_count) matching the labels given. */
  samples(name: string, labels: Record<string, string | number> = {}): Sample[] {
    const out: Sample[] = [];
    for (const f of this.families.values())
      for (const s of f.samples)
        if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === String(v))) out.push(s);
    return out;
  }

  /** The one sample with exactly these labels; throws when there is none or several. */
  value(name: string, labels: Record<string, string | number> = {}): number {
    const want = Object.keys(labels).length;
    const found = this.samples(name, labels).filter((s) => Object.keys(s.labels).length === want);
    if (found.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
    return found[0]!.value;
  }

  /** The sample's value, or 0 when it is absent. */
  valueOr0(name: string, labels: Record<string, string | number> = {}): number {
    try {
      return this.value(name, labels);
    } catch {
      return 0;
    }
  }

  sum(name: string, labels: Record<string, string | number> = {}): number {
    return this.samples(name, labels).reduce((a, s) => a + s.value, 0);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === "histogram" || f.type === "summary")) return f;
  }
  return undefined;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`bad labels in: ${line}`);
    i += m[0].length;
    let value = "";
    for (;;) {
      if (i >= text.length) throw new Error(`unterminated label value in: ${line}`);
      const c = text[i]!;
      if (c === "\\") {
        const n = text[i + 1];
        value += n === "n" ? "\n" : n;
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        value += c;
        i++;
      }
    }
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]!] = value;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`bad labels in: ${line}`);
  }
  return labels;
}

export function parsePrometheus(text: string): Scrape {
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const closed = new Set<string>();
  let current: Family | null = null;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!NAME.test(name!)) throw new Error(`bad metric name in: ${line}`);
      let f = families.get(name!);
      if (f && closed.has(name!)) throw new Error(`family ${name} appears twice`);
      if (!f) {
        f = { name: name!, type: "untyped", help: "", samples: [] };
        families.set(name!, f);
      }
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (kind === "HELP") f.help = rest.join(" ");
      else {
        if (!TYPES.has(rest[0]!)) throw new Error(`bad type in: ${line}`);
        if (f.samples.length > 0) throw new Error(`# TYPE after samples of ${name}`);
        f.type = rest[0]!;
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable sample: ${line}`);
    const name = m[1]!;
    const f = familyOf(name, families);
    if (!f) throw new Error(`sample without # TYPE: ${line}`);
    if (f !== current) throw new Error(`samples of ${f.name} are not contiguous: ${line}`);
    const labels = m[3] ? parseLabels(m[3], line) : {};
    const raw = m[4]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
    if (Number.isNaN(value) && raw !== "NaN") throw new Error(`bad value in: ${line}`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seenSeries.has(key)) throw new Error(`duplicate series: ${line}`);
    seenSeries.add(key);
    f.samples.push({ name, labels, value });
  }
  return new Scrape(families, text);
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/plain; version=0.0.4")) throw new Error(`/metrics content type is ${type}`);
  return parsePrometheus(await res.text());
}
