// Per-request CPU cost of Produce and Fetch through dispatch (header parse, handler, response encode),
// in-process with no sockets, for two checkouts of Brook side by side: both are loaded into one process
// and measured in alternating blocks, so a machine shared with other work skews both alike. Reports the
// median CPU time (user+sys) per request and the ratio B/A. Produce: one 10-record batch of ~600 B per
// request (per-request overhead dominates); Fetch: 16 KiB slices from 64 offsets.
//   bun bench/dispatch-cost.ts DIR_A DIR_B [rounds=15]     e.g. a `git archive` of main vs this tree
import { mkdtempSync, rmSync } from "node:fs";
async function setup(dir: string) {
  const { startBroker } = await import(`${dir}/src/broker.ts`);
  const { createResponder } = await import(`${dir}/src/server/dispatch.ts`);
  const { requestCodec } = await import(`${dir}/protocol/codec.ts`);
  const { Writer } = await import(`${dir}/protocol/writer.ts`);
  const { Produce } = await import(`${dir}/protocol/apis/00-produce.ts`);
  const { Fetch } = await import(`${dir}/protocol/apis/01-fetch.ts`);
  const { encodeBatch } = await import(`${dir}/protocol/records/records.ts`);
  const data = mkdtempSync("/tmp/mb-");
  const h = await startBroker({ dataDir: data, logLevel: "warn", overrides: { "num.partitions": 1 } });
  const b = h.broker;
  b.topics.create("t", 1, {});
  const frame = (def: any, v: number, body: any) => {
    const w = new Writer(1 << 16);
    w.int16(def.key); w.int16(v); w.int32(7); w.string("mb", false);
    if (v >= def.flexible) w.uvarint(0);
    requestCodec(def, v).encode(w, body);
    return w.finish().slice();
  };
  const batch = encodeBatch({ records: Array.from({ length: 10 }, () => ({ key: null, value: "x".repeat(50) })) });
  const pf = frame(Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: "t", partitionData: [{ index: 0, records: batch }] }] });
  const respond = createResponder(b, b.registry, b.log, "peer", { name: "PLAINTEXT", securityProtocol: "PLAINTEXT", advertisedHost: "127.0.0.1", advertisedPort: 1 }, { principal: "User:ANONYMOUS", clientHost: "127.0.0.1" });
  for (let i = 0; i < 30000; i++) respond(pf);
  const end = b.topics.partition("t", 0).log.logEndOffset;
  const ff = Array.from({ length: 64 }, (_, k) => frame(Fetch, 12, { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: "t", partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: Math.floor((end - 2000) * k / 64), logStartOffset: -1, partitionMaxBytes: 16 * 1024 }] }], forgottenTopicsData: [], rackId: "" }));
  return {
    produce: (n: number) => { for (let i = 0; i < n; i++) respond(pf); },
    fetch: async (n: number) => { for (let i = 0; i < n; i++) await (respond(ff[i & 63]) as any).response; },
    close: async () => { await h.close(); rmSync(data, { recursive: true, force: true }); },
  };
}
const [dirA, dirB] = [process.argv[2], process.argv[3]];
if (!dirA || !dirB) {
  console.error("usage: bun bench/dispatch-cost.ts DIR_A DIR_B [rounds]");
  process.exit(2);
}
const trees = { base: await setup(dirA), new: await setup(dirB) };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const res: Record<string, { produce: number[]; fetch: number[] }> = { base: { produce: [], fetch: [] }, new: { produce: [], fetch: [] } };
const P = 20000, F = 5000, ROUNDS = Number(process.argv[4] ?? 15);
for (let r = 0; r < ROUNDS; r++) {
  for (const k of (r % 2 ? ["new", "base"] : ["base", "new"]) as ("base" | "new")[]) {
    let c = cpu(); trees[k].produce(P); res[k].produce.push(((cpu() - c) * 1000) / P);
    c = cpu(); await trees[k].fetch(F); res[k].fetch.push(((cpu() - c) * 1000) / F);
  }
}
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]!; };
for (const [k, dir] of [["base", dirA], ["new", dirB]] as const)
  console.log(`${dir}: produce ${med(res[k].produce).toFixed(2)} µs CPU/request, fetch ${med(res[k].fetch).toFixed(2)} µs CPU/request (medians of ${ROUNDS})`);
console.log(`B/A: produce ${(med(res.new.produce) / med(res.base.produce)).toFixed(3)}, fetch ${(med(res.new.fetch) / med(res.base.fetch)).toFixed(3)}`);
await trees.base.close(); await trees.new.close();
