// Side-by-side bench of several brokers, written up as a Markdown report with SVG charts.
//   bun bench/run.ts compare NAME=TARGET [NAME=TARGET]... [--quick] [--repeats N] [--sizes 100,1000,10000]
//        [--mb-per-cell M] [--e2e-seconds S] [--out DIR]
// TARGET: `brook` (this tree, started as a child), `brook@REV` (any commit of this repository, unpacked
// with git archive into a temp dir and started the same way: before/after comparisons), or HOST:PORT (a
// running broker, e.g. Apache Kafka). NAME defaults to TARGET.
// The matrix: record sizes × acks 1/all × 1/16 partitions for produce (delivery latency too), a fetch
// of what acks=1 wrote, and end-to-end latency (send → consumer receive) at a fixed rate below
// saturation. Runs are interleaved per cell (A, B, A, B, …) so machine noise hits every target alike;
// each child broker is fresh per run. The report goes to bench/results/<date>-<names>/report.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildClient, rdbench, ROOT, startBrook, type BrookChild, type Result } from "./lib.ts";

interface Target {
  name: string;
  spec: string;
  kind: "brook" | "external";
  root?: string;
  address?: string;
  describe: string;
}

interface Cell {
  kind: "produce" | "e2e";
  size: number;
  partitions: number;
  acks: "1" | "all";
  /** produce cells with acks=1 also fetch what they wrote */
  fetch: boolean;
  records: number;
  rate: number;
}

interface Run {
  cell: Cell;
  target: string;
  rep: number;
  produce?: Result;
  consume?: Result;
  e2e?: Result;
  error?: string;
}

const git = (args: string[], cwd = ROOT) => {
  const r = Bun.spawnSync(["git", ...args], { cwd, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
};

function usage(msg: string): never {
  console.error(`${msg ? `bench compare: ${msg}\n` : ""}` + fs.readFileSync(import.meta.path, "utf8").split("\n").slice(0, 11).join("\n"));
  process.exit(msg ? 2 : 0);
}

export async function main(argv: string[]): Promise<void> {
  const opt = { quick: false, repeats: 2, sizes: [100, 1000, 10000], mbPerCell: 0, e2eSeconds: 0, out: "" };
  const specs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    switch (a) {
      case "--quick": opt.quick = true; break;
      case "--repeats": opt.repeats = Number(val()); break;
      case "--sizes": opt.sizes = val().split(",").map(Number); break;
      case "--mb-per-cell": opt.mbPerCell = Number(val()); break;
      case "--e2e-seconds": opt.e2eSeconds = Number(val()); break;
      case "--out": opt.out = path.resolve(val()); break;
      case "-h": case "--help": usage("");
      default:
        if (a.startsWith("-")) usage(`unknown option ${a}`);
        specs.push(a);
    }
  }
  if (specs.length === 0) usage("name at least one target");
  if (!(opt.repeats >= 1) || opt.sizes.some((s) => !(s >= 8))) usage("--repeats ≥ 1 and record sizes ≥ 8 bytes");
  opt.mbPerCell ||= opt.quick ? 24 : 256;
  opt.e2eSeconds ||= opt.quick ? 4 : 15;

  const bin = buildClient();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "brook-compare-"));
  const targets = specs.map((s) => resolveTarget(s, scratch));
  if (new Set(targets.map((t) => t.name)).size !== targets.length) usage("target names must differ");

  const cells: Cell[] = [];
  for (const size of opt.sizes) {
    const records = Math.max(1000, Math.round((opt.mbPerCell * 1e6) / size));
    for (const partitions of [1, 16])
      for (const acks of ["1", "all"] as const) cells.push({ kind: "produce", size, partitions, acks, fetch: acks === "1", records, rate: 0 });
  }
  for (const size of opt.sizes) {
    // Below saturation on a small machine: at most 5000 records/s and 20 MB/s.
    const rate = Math.min(5000, Math.floor(20e6 / size));
    cells.push({ kind: "e2e", size, partitions: 1, acks: "all", fetch: false, records: rate * opt.e2eSeconds, rate });
  }

  const runId = Date.now().toString(36);
  const runs: Run[] = [];
  const total = cells.length * opt.repeats * targets.length;
  const t0 = Date.now();
  const started = new Date();
  console.error(`bench compare: ${targets.map((t) => `${t.name} = ${t.describe}`).join("; ")}`);
  console.error(`bench compare: ${cells.length} cells × ${opt.repeats} repeats × ${targets.length} targets = ${total} runs, interleaved per cell`);
  try {
    for (const [ci, cell] of cells.entries()) {
      for (let rep = 1; rep <= opt.repeats; rep++) {
        for (const target of targets) {
          const n = runs.length + 1;
          const elapsed = (Date.now() - t0) / 1000;
          const eta = n > 1 ? (elapsed / (n - 1)) * (total - n + 1) : 0;
          const label = cellLabel(cell);
          process.stderr.write(`[${String(n).padStart(String(total).length)}/${total} ${fmtTime(elapsed)}${n > 1 ? ` ~${fmtTime(eta)} left` : ""}] ${label} → ${target.name} (${rep}/${opt.repeats}) `);
          const run = await runOne(bin, target, cell, rep, `cmp-${runId}-c${ci}-r${rep}-${target.name.replace(/[^A-Za-z0-9._-]/g, "_")}`);
          runs.push(run);
          console.error(run.error ? `FAILED: ${run.error}` : summary(run));
        }
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  const outDir = opt.out || path.join(ROOT, "bench", "results", `${started.toISOString().slice(0, 16).replace("T", "-").replace(":", "")}-${targets.map((t) => t.name).join("-vs-")}`.replace(/[^A-Za-z0-9._-]/g, "_"));
  fs.mkdirSync(outDir, { recursive: true });
  const files = writeReport(outDir, { targets, cells, runs, opt, started, seconds: (Date.now() - t0) / 1000 });
  console.error(`bench compare: report in ${path.relative(process.cwd(), path.join(outDir, "report.md"))} (${files.length} files)`);
}

function resolveTarget(spec: string, scratch: string): Target {
  const eq = spec.indexOf("=");
  const name = eq > 0 ? spec.slice(0, eq) : spec;
  const what = eq > 0 ? spec.slice(eq + 1) : spec;
  if (what === "brook") {
    const rev = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
    return { name, spec: what, kind: "brook", root: ROOT, describe: `Brook, this tree (${rev}${dirty ? " + uncommitted changes" : ""})` };
  }
  if (what.startsWith("brook@")) {
    const rev = what.slice(6);
    const sha = git(["rev-parse", "--verify", `${rev}^{commit}`]);
    const root = path.join(scratch, `brook-${sha.slice(0, 12)}`);
    if (!fs.existsSync(root)) {
      fs.mkdirSync(root, { recursive: true });
      // git archive rather than a worktree: nothing is registered in the shared repository.
      const r = Bun.spawnSync(["sh", "-c", `git archive ${sha} | tar -x -C "${root}"`], { cwd: ROOT, stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`unpacking ${rev}: ${r.stderr.toString().trim()}`);
      fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
    }
    return { name, spec: what, kind: "brook", root, describe: `Brook at ${/^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 10) : rev} (${sha.slice(0, 10)}: ${git(["log", "-1", "--format=%s", sha]).slice(0, 80)})` };
  }
  if (/^\[?[^\s\]]+\]?:\d+$/.test(what)) return { name, spec: what, kind: "external", address: what, describe: `the broker at ${what}` };
  usage(`target ${spec}: expected brook, brook@REV or HOST:PORT`);
}

async function runOne(bin: string, target: Target, cell: Cell, rep: number, topic: string): Promise<Run> {
  const run: Run = { cell, target: target.name, rep };
  let brook: BrookChild | null = null;
  try {
    if (target.kind === "brook") brook = await startBrook({ root: target.root });
    const bootstrap = brook?.address ?? target.address!;
    const args = ["-b", bootstrap, "-t", topic, "-n", String(cell.records), "-s", String(cell.size), "-a", cell.acks, "-p", String(cell.partitions), "-z", "none"];
    if (cell.kind === "e2e") {
      const [, e2e] = await rdbench(bin, [...args, "-l", "0", "-r", String(cell.rate), "create", "e2e"], brook?.proc, true);
      run.e2e = e2e;
    } else {
      const res = await rdbench(bin, [...args, "-l", "5", "create", "produce", ...(cell.fetch ? ["consume"] : [])], brook?.proc, true);
      run.produce = res.find((r) => r.phase === "produce");
      run.consume = res.find((r) => r.phase === "consume");
    }
  } catch (e) {
    run.error = (e as Error).message;
  } finally {
    await brook?.stop();
  }
  return run;
}

// ---- formatting ----

const fmtTime = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`);
const sizeLabel = (b: number) => (b >= 1000 && b % 1000 === 0 ? `${b / 1000} KB` : `${b} B`);
const cellLabel = (c: Cell) =>
  c.kind === "e2e" ? `e2e ${sizeLabel(c.size)} at ${c.rate}/s` : `produce${c.fetch ? "+fetch" : ""} ${sizeLabel(c.size)} acks=${c.acks} ${c.partitions}p`;
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : NaN);

function summary(r: Run): string {
  if (r.e2e) return `e2e p50 ${num(r.e2e.e2e_p50_ms).toFixed(2)} ms, p99 ${num(r.e2e.e2e_p99_ms).toFixed(2)} ms`;
  const p = `${num(r.produce?.mbps).toFixed(1)} MB/s, p99 ${num(r.produce?.p99_ms).toFixed(1)} ms`;
  return r.consume ? `${p}; fetch ${num(r.consume.mbps).toFixed(1)} MB/s` : p;
}

function median(xs: number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

// ---- the report ----

interface ReportInput {
  targets: Target[];
  cells: Cell[];
  runs: Run[];
  opt: { quick: boolean; repeats: number; mbPerCell: number; e2eSeconds: number };
  started: Date;
  seconds: number;
}

function writeReport(dir: string, input: ReportInput): string[] {
  const { targets, cells, runs, opt } = input;
  const names = targets.map((t) => t.name);
  const value = (cell: Cell, target: string, pick: (r: Run) => unknown) =>
    median(runs.filter((r) => r.cell === cell && r.target === target && !r.error).map((r) => num(pick(r))));
  const files: string[] = [];
  const svg = (file: string, content: string) => {
    fs.writeFileSync(path.join(dir, file), content);
    files.push(file);
    return file;
  };
  const f1 = (v: number) => (Number.isNaN(v) ? "–" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const ratio = (v: number, base: number) => (Number.isNaN(v) || Number.isNaN(base) || base === 0 ? "" : ` (${(v / base).toFixed(2)}×)`);
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
  const produceCells = cells.filter((c) => c.kind === "produce");
  const e2eCells = cells.filter((c) => c.kind === "e2e");
  const sizes = [...new Set(produceCells.map((c) => c.size))];
  const failures = runs.filter((r) => r.error);

  const md: string[] = [];
  md.push(`# Brook bench: ${names.join(" vs ")}`, "");
  md.push(`${input.started.toISOString().slice(0, 16).replace("T", " ")} UTC · ${opt.quick ? "quick profile" : "full profile"} · ${fmtTime(input.seconds)} · ` +
    `${os.cpus().length} × ${cpuModel}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, shared by the client and the broker(s)`, "");
  md.push("| target | what |", "| --- | --- |", ...targets.map((t) => row([t.name, t.describe])), "");
  md.push(
    `Load: librdkafka (bench/rdbench.c), uncompressed. Produce: ~${opt.mbPerCell} MB of record values per cell (linger.ms=5), ` +
      `delivery latency = produce() → delivery report per message. Fetch: the acks=1 cell's records read back from the beginning. ` +
      `End-to-end: a producer at a fixed rate (linger.ms=0, acks=all, 1 partition) and a consumer in one process; each value carries its ` +
      `send time, latency = consumer receive − send, over ${opt.e2eSeconds} s less the first second. ` +
      `Each cell ran ${opt.repeats}× per target, interleaved (${names.join(", ")}, ${names.join(", ")}, …), every Brook run on a fresh broker; ` +
      `figures are medians of the repeats. Ratios are against ${names[0]}.`,
    "",
  );
  if (failures.length) md.push(`**${failures.length} run(s) failed:** ${failures.map((r) => `${cellLabel(r.cell)} → ${r.target}: ${r.error}`).join("; ")}`, "");

  // Produce throughput, one chart per size.
  md.push("## Produce throughput", "");
  for (const size of sizes) {
    const cs = produceCells.filter((c) => c.size === size);
    const file = svg(`produce-${size}B.svg`, barChart({
      title: `Produce, ${sizeLabel(size)} records (MB/s of values, higher is better)`,
      unit: "MB/s",
      groups: cs.map((c) => `${c.partitions} partition${c.partitions > 1 ? "s" : ""}, acks=${c.acks}`),
      series: names,
      values: cs.map((c) => names.map((n) => value(c, n, (r) => r.produce?.mbps))),
    }));
    md.push(`![produce ${sizeLabel(size)}](${file})`, "");
  }
  md.push(row(["size", "partitions", "acks", ...names.map((n) => `${n} MB/s`), ...names.map((n) => `${n} delivery p50 / p99 ms`), ...names.map((n) => `${n} broker CPU s`)]));
  md.push(row(Array(3 + names.length * 3).fill("---")));
  for (const c of produceCells) {
    const base = value(c, names[0]!, (r) => r.produce?.mbps);
    md.push(row([
      sizeLabel(c.size), String(c.partitions), c.acks,
      ...names.map((n) => f1(value(c, n, (r) => r.produce?.mbps)) + (n === names[0] ? "" : ratio(value(c, n, (r) => r.produce?.mbps), base))),
      ...names.map((n) => `${f1(value(c, n, (r) => r.produce?.p50_ms))} / ${f1(value(c, n, (r) => r.produce?.p99_ms))}`),
      ...names.map((n) => f1(value(c, n, (r) => r.produce?.broker_cpu_s))),
    ]));
  }
  md.push("");

  // Fetch throughput.
  const fetchCells = produceCells.filter((c) => c.fetch);
  md.push("## Fetch throughput", "");
  const fetchFile = svg("fetch.svg", barChart({
    title: "Fetch from the beginning (MB/s of values, higher is better)",
    unit: "MB/s",
    groups: fetchCells.map((c) => `${sizeLabel(c.size)}, ${c.partitions}p`),
    series: names,
    values: fetchCells.map((c) => names.map((n) => value(c, n, (r) => r.consume?.mbps))),
  }));
  md.push(`![fetch](${fetchFile})`, "");
  md.push(row(["size", "partitions", ...names.map((n) => `${n} MB/s`), ...names.map((n) => `${n} records/s`), ...names.map((n) => `${n} broker CPU s`)]));
  md.push(row(Array(2 + names.length * 3).fill("---")));
  for (const c of fetchCells) {
    const base = value(c, names[0]!, (r) => r.consume?.mbps);
    md.push(row([
      sizeLabel(c.size), String(c.partitions),
      ...names.map((n) => f1(value(c, n, (r) => r.consume?.mbps)) + (n === names[0] ? "" : ratio(value(c, n, (r) => r.consume?.mbps), base))),
      ...names.map((n) => Math.round(value(c, n, (r) => r.consume?.rps)).toLocaleString("en-US")),
      ...names.map((n) => f1(value(c, n, (r) => r.consume?.broker_cpu_s))),
    ]));
  }
  md.push("");

  // Latency.
  md.push("## Latency", "");
  const pct = [["p50", "e2e_p50_ms"], ["p99", "e2e_p99_ms"], ["p99.9", "e2e_p999_ms"]] as const;
  const e2eFile = svg("latency-e2e.svg", barChart({
    title: "End-to-end latency at a fixed rate (ms, log scale, lower is better)",
    unit: "ms",
    log: true,
    groups: e2eCells.flatMap((c) => pct.map(([p]) => `${sizeLabel(c.size)} ${p}`)),
    series: names,
    values: e2eCells.flatMap((c) => pct.map(([, k]) => names.map((n) => value(c, n, (r) => r.e2e?.[k])))),
  }));
  md.push(`![end-to-end latency](${e2eFile})`, "");
  md.push(row(["size", "rate", ...names.flatMap((n) => [`${n} p50`, `${n} p99`, `${n} p99.9`, `${n} max`])]));
  md.push(row(Array(2 + names.length * 4).fill("---")));
  for (const c of e2eCells) {
    md.push(row([
      sizeLabel(c.size), `${c.rate}/s`,
      ...names.flatMap((n) => ["e2e_p50_ms", "e2e_p99_ms", "e2e_p999_ms", "e2e_max_ms"].map((k) => f1(value(c, n, (r) => r.e2e?.[k])))),
    ]));
  }
  md.push("", "Milliseconds.", "");
  const allAcks = produceCells.filter((c) => c.acks === "all");
  const prodLatFile = svg("latency-produce.svg", barChart({
    title: "Produce delivery latency at full load, acks=all (ms, log scale, lower is better)",
    unit: "ms",
    log: true,
    groups: allAcks.flatMap((c) => [`${sizeLabel(c.size)} ${c.partitions}p p50`, `${sizeLabel(c.size)} ${c.partitions}p p99`]),
    series: names,
    values: allAcks.flatMap((c) => [names.map((n) => value(c, n, (r) => r.produce?.p50_ms)), names.map((n) => value(c, n, (r) => r.produce?.p99_ms))]),
  }));
  md.push(`![produce delivery latency](${prodLatFile})`, "");
  md.push("Delivery latency under saturation is mostly queueing in the client; the end-to-end figures above are the ones to compare for latency.", "");
  md.push("## Reproduce", "", "```sh", `bun bench/run.ts compare ${targets.map((t) => (t.name === t.spec ? t.spec : `${t.name}=${t.spec}`)).join(" ")}${opt.quick ? " --quick" : ""}${opt.repeats !== 2 ? ` --repeats ${opt.repeats}` : ""}`, "```", "");

  fs.writeFileSync(path.join(dir, "report.md"), md.join("\n"));
  fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify({ targets, opt, started: input.started, runs: runs.map((r) => ({ ...r, cell: cellLabel(r.cell) })) }, null, 1) + "\n");
  return ["report.md", "results.json", ...files];
}

// ---- SVG: grouped bar charts, hand-written ----

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceStep(max: number): number {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

export function barChart(o: { title: string; unit: string; groups: string[]; series: string[]; values: number[][]; log?: boolean }): string {
  const barW = 20, left = 64, top = 56, plotH = 240;
  // Group labels are drawn at 28°: they reach down and to the right by their length.
  const longest = Math.max(0, ...o.groups.map((g) => g.length));
  const bottom = 28 + Math.ceil(longest * 6.4 * Math.sin((28 * Math.PI) / 180));
  const groupW = Math.max(o.series.length * barW + 18, Math.ceil(longest * 3.2));
  const lastLabel = o.groups[o.groups.length - 1]?.length ?? 0;
  const right = 16 + Math.max(0, Math.ceil(lastLabel * 6.4 * Math.cos((28 * Math.PI) / 180) - groupW / 2));
  const gap = groupW - o.series.length * barW;
  const legendW = o.series.reduce((w, s) => w + 28 + s.length * 7, 0);
  const width = Math.ceil(Math.max(left + o.groups.length * groupW + right, left + o.title.length * 8.2 + 16, left + legendW + 16));
  const height = top + plotH + bottom;
  const finite = o.values.flat().filter((v) => Number.isFinite(v) && v > 0);
  const maxV = finite.length ? Math.max(...finite) : 1;
  let y: (v: number) => number;
  const ticks: number[] = [];
  if (o.log) {
    const lo = Math.floor(Math.log10(finite.length ? Math.min(...finite) : 0.1));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(maxV)));
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    y = (v) => top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;
  } else {
    const step = niceStep(maxV);
    const hi = Math.ceil(maxV / step) * step || 1;
    for (let t = 0; t <= hi + step / 2; t += step) ticks.push(t);
    y = (v) => top + plotH - (v / hi) * plotH;
  }
  const fmt = (v: number) => (v >= 1000 ? v.toLocaleString("en-US") : v >= 1 ? String(+v.toFixed(1)) : String(+v.toPrecision(2)));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="600" fill="#222">${esc(o.title)}</text>`);
  // legend
  let lx = left;
  for (const [i, s] of o.series.entries()) {
    out.push(`<rect x="${lx}" y="33" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${lx + 16}" y="43.5" fill="#333">${esc(s)}</text>`);
    lx += 28 + s.length * 7;
  }
  for (const t of ticks) {
    const ty = y(t);
    out.push(`<line x1="${left}" x2="${width - right}" y1="${ty.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 6}" y="${(ty + 4).toFixed(1)}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
  }
  out.push(`<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#555">${esc(o.unit)}</text>`);
  out.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#888"/>`);
  for (const [g, label] of o.groups.entries()) {
    const gx = left + gap / 2 + g * groupW;
    for (const [s] of o.series.entries()) {
      const v = o.values[g]?.[s] ?? NaN;
      const x = gx + s * barW;
      if (!Number.isFinite(v) || v <= 0) {
        out.push(`<text x="${x + barW / 2 - 1}" y="${top + plotH - 4}" text-anchor="middle" fill="#999">–</text>`);
        continue;
      }
      const by = y(v);
      out.push(`<rect x="${x}" y="${by.toFixed(1)}" width="${barW - 2}" height="${(top + plotH - by).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"><title>${esc(`${o.series[s]}, ${label}: ${fmt(v)} ${o.unit}`)}</title></rect>`);
    }
    const cx = gx + (o.series.length * barW) / 2;
    out.push(`<text transform="translate(${cx.toFixed(1)} ${top + plotH + 14}) rotate(28)" fill="#333">${esc(label)}</text>`);
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
