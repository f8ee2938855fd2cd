// Crash at every step, the short slice: a few kill -9 cycles of the driver in test/helpers/crash-driver.ts
// (stock librdkafka and kafkajs clients producing idempotently and transactionally, consuming in classic
// and KIP-848 groups, adding partitions, creating, altering and deleting topics) with the invariants
// checked after every restart. The plan is fixed by the seed (BROOK_CRASH_SEED replays another one);
// `bun bench/crash.ts --cycles 100` is the long mode.
import { expect, setDefaultTimeout, test } from "bun:test";
import { runCrashCycles, planCycles } from "./helpers/crash-driver.ts";
import { requireTools } from "./helpers/clients.ts";

setDefaultTimeout(110_000);

const SEED = Number(process.env.BROOK_CRASH_SEED ?? 2);
const CYCLES = 6;

test("the plan covers a kill under load, in a clean shutdown, at a crash point and during recovery", () => {
  const modes = new Set(planCycles(SEED, CYCLES, [500, 1500]).map((p) => p.mode));
  const again = planCycles(SEED, CYCLES, [500, 1500]);
  expect(planCycles(SEED, CYCLES, [500, 1500])).toEqual(again); // a seed is a replay
  if (process.env.BROOK_CRASH_SEED === undefined) {
    expect([...modes].sort()).toEqual(["clean", "load", "point", "shutdown"]);
    expect(again.some((p) => p.startupKillMs !== null)).toBe(true);
  }
});

test(`${CYCLES} crash cycles (seed ${SEED}): every invariant holds after every restart`, async () => {
  await requireTools();
  const lines: string[] = [];
  const report = await runCrashCycles({ seed: SEED, cycles: CYCLES, loadMs: [500, 1500], log: (l) => lines.push(l) });
  const summary = `seed ${SEED}: ${report.completedCycles}/${CYCLES} cycles; data and logs ${report.violations.length ? `kept in ${report.dir}` : "removed"}\n${lines.join("\n")}`;
  expect(report.violations, summary).toEqual([]);
  expect(report.completedCycles).toBe(CYCLES);
  // The workload really ran: records, transactions both ways, commits, admin operations.
  expect(report.acked.records).toBeGreaterThan(500);
  expect(report.acked.compacted).toBeGreaterThan(50);
  expect(report.transactions.committed).toBeGreaterThan(5);
  expect(report.transactions.aborted).toBeGreaterThan(0);
  expect(report.commits).toBeGreaterThan(0);
  expect(report.adminOps.createTopic ?? 0).toBeGreaterThan(0);
  expect(report.adminOps.deleteTopic ?? 0).toBeGreaterThan(0);
  expect(report.pointsFired.length).toBeGreaterThan(0);
});
