// Crash at every step, the long mode: kill -9 Brook N times at random moments (or at named steps
// inside it) while stock clients produce idempotently and transactionally, consume in groups and
// commit, and an admin adds partitions, creates, alters and deletes topics; check the invariants after
// every restart (test/helpers/crash-driver.ts says which).
//   bun bench/crash.ts [--cycles 100] [--seed N] [--dir DIR] [--keep] [--load-ms 600-2500] [--rate 240] [--json]
// A failure prints the seed and the cycle, keeps the run's directory (data, broker logs per start,
// client stderr, plan.json, report.json) and exits 1; `--seed N` replays the same plan.
import { runCrashCycles } from "../test/helpers/crash-driver.ts";

const argv = process.argv.slice(2);
const opt = { cycles: 100, seed: Math.floor(Math.random() * 2 ** 31), dir: undefined as string | undefined, keep: false, loadMs: [600, 2500] as [number, number], rate: 240, json: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const val = () => argv[++i] ?? usage(`${a} needs a value`);
  switch (a) {
    case "--cycles": opt.cycles = Number(val()); break;
    case "--seed": opt.seed = Number(val()); break;
    case "--dir": opt.dir = val(); break;
    case "--keep": opt.keep = true; break;
    case "--load-ms": {
      const [lo, hi] = val().split("-").map(Number);
      opt.loadMs = [lo!, hi ?? lo!];
      break;
    }
    case "--rate": opt.rate = Number(val()); break;
    case "--json": opt.json = true; break;
    case "-h": case "--help": usage("");
    default: usage(`unknown option ${a}`);
  }
}

function usage(msg: string): never {
  console.error(`${msg ? `crash: ${msg}\n` : ""}usage: bun bench/crash.ts [--cycles 100] [--seed N] [--dir DIR] [--keep] [--load-ms MIN-MAX] [--rate R] [--json]`);
  process.exit(msg ? 2 : 0);
}

const t0 = performance.now();
console.error(`crash: ${opt.cycles} cycles, seed ${opt.seed}`);
const report = await runCrashCycles({ ...opt, log: (l) => console.error(`crash: ${l}`) });
const secs = (performance.now() - t0) / 1000;
if (opt.json) console.log(JSON.stringify({ ...report, seconds: secs }));
else {
  const r = report.restartMs.slice(1).sort((a, b) => a - b);
  const q = (f: number) => (r.length ? r[Math.min(r.length - 1, Math.floor(f * r.length))]!.toFixed(0) : "-");
  console.log(
    [
      `seed ${report.seed}: ${report.completedCycles}/${report.cycles} cycles in ${secs.toFixed(0)} s, ${report.violations.length} violation(s)`,
      `kills: ${Object.entries(report.modes).map(([m, n]) => `${m} ${n}`).join(", ")}; crash points fired: ${report.pointsFired.length} (${[...new Set(report.pointsFired.map((p) => p.split(":")[0]))].join(", ")})`,
      `acknowledged: ${report.acked.records} records (compacted ${report.acked.compacted}, retained ${report.acked.retained}, grow ${report.acked.grow}), ${report.acked.eph} to short-lived topics`,
      `transactions: ${report.transactions.committed} committed, ${report.transactions.aborted} aborted, ${report.transactions.unknown} unknown to the client; ${report.commits} acknowledged offset commits`,
      `admin: ${Object.entries(report.adminOps).map(([m, n]) => `${m} ${n}`).join(", ")}`,
      `compacted topic: ${report.compactedRecordsInLog} records left of ${report.acked.compacted}; retained topic's log start ${report.retainedLogStart}`,
      `restart to listening: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${r.length ? r.at(-1)!.toFixed(0) : "-"} ms`,
      `client errors: ${report.clientErrors.length}${report.clientErrors.length ? `\n  ${report.clientErrors.slice(0, 20).join("\n  ")}` : ""}`,
      ...report.violations.map((v) => `VIOLATION ${v}`),
      report.violations.length ? `data and logs kept in ${report.dir}; replay with --seed ${report.seed}` : "",
    ].filter(Boolean).join("\n"),
  );
}
process.exit(report.violations.length ? 1 : 0);
