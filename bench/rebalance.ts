// Rebalance time when a group goes from 3 members to 2: the consumer group protocol (KIP-848) against
// the classic protocol, with one client for both (librdkafka 2.15 through @confluentinc/kafka-javascript,
// test/clients/node/group-member.cjs, one Node process per member). Usage:
//   bun bench/rebalance.ts [--runs 5] [--partitions 6] [--heartbeat-ms 500] [--json]
// Each run starts Brook in-process with a fresh log dir, lets three members settle on a topic, makes one
// leave the group (a clean close), and times until the two others own every partition between them:
// from the moment the broker has the member out of the group (the rebalance proper), and from the
// moment the client was told to close (which adds the client's own shutdown: revoking, committing,
// leaving). Also counted: partitions the remaining members had to give up on the way
// (the stop-the-world part of a rebalance). The heartbeat interval is the same for every protocol:
// group.consumer.heartbeat.interval.ms on the broker, heartbeat.interval.ms on the classic clients.
import { startBroker } from "../src/index.ts";
import { GroupMember } from "../test/helpers/group-member.ts";
import { until } from "../test/helpers/poll.ts";
import { tempDir } from "../test/helpers/tmp.ts";

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const runs = arg("--runs", 5);
const partitions = arg("--partitions", 6);
const heartbeatMs = arg("--heartbeat-ms", 500);
const json = argv.includes("--json");

interface Variant {
  name: string;
  protocol: "consumer" | "classic";
  strategy?: string;
}

const VARIANTS: Variant[] = [
  { name: "consumer (KIP-848, uniform)", protocol: "consumer" },
  { name: "classic, cooperative-sticky", protocol: "classic", strategy: "cooperative-sticky" },
  { name: "classic, range (eager)", protocol: "classic", strategy: "range" },
];

async function once(v: Variant, run: number): Promise<{ ms: number; total: number; revoked: number }> {
  await using dir = await tempDir("brook-bench-rebalance-");
  await using broker = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: {
      "group.consumer.heartbeat.interval.ms": heartbeatMs,
      "group.consumer.min.heartbeat.interval.ms": Math.min(heartbeatMs, 5000),
      "group.consumer.session.timeout.ms": 10_000,
      "group.consumer.min.session.timeout.ms": 1000,
      "group.initial.rebalance.delay.ms": 0,
      "group.min.session.timeout.ms": 1000,
    },
  });
  const topic = `rebalance-${run}`;
  broker.broker.topics.create(topic, partitions);
  const groupId = `bench-${v.protocol}-${run}`;
  const member = (clientId: string) =>
    new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], protocol: v.protocol, strategy: v.strategy, clientId, sessionTimeoutMs: 10_000 });
  const members = [member("a"), member("b"), member("c")];
  try {
    const owned = () => members.slice(0, 2).reduce((n, m) => n + m.assigned.size, 0);
    await until("three members sharing the partitions", () => members.every((m) => m.assigned.size > 0) && members.reduce((n, m) => n + m.assigned.size, 0) === partitions, 60_000);
    // Let the group settle (no rebalance in flight) before measuring.
    await Bun.sleep(3 * heartbeatMs);
    const revokedBefore = members[0]!.revoked.length + members[1]!.revoked.length;
    const start = performance.now();
    const leaving = members[2]!.close();
    await until("the member left", () => (v.protocol === "consumer" ? broker.broker.groups.consumerGroup(groupId)!.members.size : broker.broker.groups.group(groupId)!.members.size) === 2, 60_000);
    const left = performance.now() - start;
    await until("the two others own every partition", () => owned() === partitions, 60_000);
    const total = performance.now() - start;
    await leaving;
    const revoked = members[0]!.revoked.length + members[1]!.revoked.length - revokedBefore;
    return { ms: total - left, total, revoked };
  } finally {
    await Promise.all(members.map((m) => m.close()));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { ms: number[]; total: number[]; revoked: number[] }> = {};
for (const v of VARIANTS) {
  results[v.name] = { ms: [], total: [], revoked: [] };
  for (let r = 0; r < runs; r++) {
    const { ms, total, revoked } = await once(v, r);
    results[v.name]!.ms.push(ms);
    results[v.name]!.total.push(total);
    results[v.name]!.revoked.push(revoked);
    if (!json) console.error(`${v.name}: run ${r + 1}: ${ms.toFixed(0)} ms after the leave, ${total.toFixed(0)} ms after close, ${revoked} partitions revoked from the members that stayed`);
  }
}
if (json) console.log(JSON.stringify({ runs, partitions, heartbeatMs, results }));
else {
  console.log(`\n3 -> 2 members, ${partitions} partitions, heartbeat ${heartbeatMs} ms, ${runs} runs (median, min-max):`);
  console.log(`  ${"".padEnd(30)} ${"after the leave".padStart(18)} ${"after close".padStart(18)}   revoked from the others`);
  const span = (xs: number[]) => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  for (const [name, r] of Object.entries(results))
    console.log(`  ${name.padEnd(30)} ${span(r.ms).padStart(18)} ${span(r.total).padStart(18)}   ${median(r.revoked)}`);
}
