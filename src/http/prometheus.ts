// Prometheus text exposition format 0.0.4: per metric family a # HELP and a # TYPE line, then its
// samples, all contiguous. Label values are escaped (backslash, double quote, newline).
export type Labels = Record<string, string | number>;
export type MetricType = "counter" | "gauge" | "histogram";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts: string[] = [];
  for (const k in labels) parts.push(`${k}="${escapeLabel(String(labels[k]))}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

export class Exposition {
  private readonly lines: string[] = [];
  private readonly seen = new Set<string>();

  /** Starts a family; its samples must follow before the next family starts. */
  family(name: string, type: MetricType, help: string): this {
    if (this.seen.has(name)) throw new Error(`metric family ${name} written twice`);
    this.seen.add(name);
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, value: number, labels?: Labels): this {
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  /** A whole single-sample family. */
  single(name: string, type: MetricType, help: string, value: number, labels?: Labels): this {
    return this.family(name, type, help).sample(name, value, labels);
  }

  /** The samples of one histogram series: buckets are per-bucket counts, the last one +Inf. */
  histogram(name: string, bounds: readonly number[], counts: ArrayLike<number>, sum: number, count: number, labels: Labels): this {
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i]!;
      this.sample(`${name}_bucket`, cumulative, { ...labels, le: String(bounds[i]) });
    }
    this.sample(`${name}_bucket`, count, { ...labels, le: "+Inf" });
    this.sample(`${name}_sum`, sum, labels);
    this.sample(`${name}_count`, count, labels);
    return this;
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}
