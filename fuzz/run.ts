// bun run fuzz [--seed N] [--frames N] [--seconds S] [--connections C] [--deadline-ms MS] [--stall-ms MS]
//              [--bombs] [--json]
// Fuzzes a Brook child process (see fuzz/driver.ts) and prints the findings; exits 1 if there are any.
// A seed fixes the generator's choices; ids taken from earlier answers and the interleaving between
// connections vary with timing, so every finding carries the bytes of the request that showed it.
import { DEFAULTS, fuzz, type FuzzOptions } from "./driver.ts";

const argv = process.argv.slice(2);
const o: Partial<FuzzOptions> = { progress: (l) => console.error(`fuzz: ${l}`) };
let json = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const num = () => {
    const v = Number(argv[++i]);
    if (!Number.isFinite(v)) usage(`${a} needs a number`);
    return v;
  };
  switch (a) {
    case "--seed": o.seed = num(); break;
    case "--frames": o.frames = num(); break;
    case "--seconds": o.seconds = num(); break;
    case "--connections": o.connections = num(); break;
    case "--deadline-ms": o.deadlineMs = num(); break;
    case "--stall-ms": o.stallMs = num(); break;
    case "--bombs": o.bombs = true; break;
    case "--json": json = true; break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}
o.seed ??= Date.now() % 1_000_000;

function usage(msg: string): never {
  console.error(`${msg ? `fuzz: ${msg}\n` : ""}usage: bun run fuzz [--seed N] [--frames N (${DEFAULTS.frames})] [--seconds S (${DEFAULTS.seconds})] [--connections C (${DEFAULTS.connections})] [--deadline-ms MS] [--stall-ms MS] [--bombs] [--json]`);
  process.exit(msg ? 2 : 0);
}

console.error(`fuzz: seed ${o.seed}`);
const report = await fuzz(o);
if (json) console.log(JSON.stringify(report, null, 1));
else {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  console.log(`seed ${report.seed}: ${report.frames} frames (${report.structured} structured, ${report.randomBodies} random bodies, ${report.chaos} bad framing) in ${(report.durationMs / 1000).toFixed(1)} s, ${report.framesPerSecond}/s`);
  console.log(`  ${report.responses} responses, ${report.closedByBroker} connections closed by the broker, ${report.connectionsOpened} opened`);
  console.log(`  canary: ${report.canary.acked} batches acknowledged, ${report.canary.read} records read back, ${report.canary.invalidRejected} invalid batches refused`);
  console.log(`  broker anon memory: baseline ${mib(report.rss.baselineAnon)}, peak ${mib(report.rss.peakAnon)}, after ${mib(report.rss.finalAnon)} (RSS ${mib(report.rss.baselineRss)} / ${mib(report.rss.peakRss)} / ${mib(report.rss.finalRss)})`);
  console.log(`  broker JavaScript heap, live after a full collection: baseline ${mib(report.rss.baselineHeap)}, after ${mib(report.rss.finalHeap)}`);
  if (report.heapGrowth.length > 0) console.log(`    grew most: ${report.heapGrowth.map((g) => `${g.type} ${g.before}→${g.after}`).join(", ")}`);
  console.log(`  broker TCP connections: ${report.sockets.baseline} at baseline, ${report.sockets.final} after; slowest fresh-connection ApiVersions ${report.stallMaxMs} ms`);
  console.log(report.findings.length === 0 ? "  no findings" : `  ${report.findings.length} findings:`);
  for (const f of report.findings) console.log(`  - [${f.kind}] ×${f.count} ${f.what}${f.sample ? `\n      request: ${f.sample}` : ""}`);
}
process.exit(report.findings.length === 0 ? 0 : 1);
