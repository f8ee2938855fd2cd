// CPU cost of the connection read path (framing, hand-off to dispatch, writing the response) for two
// checkouts in one process, measured in alternating blocks so a shared machine's noise skews both alike:
// µs of CPU per MiB of request frames, for small and large frames. Responder and socket are no-ops.
//   bun bench/connection-read-cost.ts DIR_A DIR_B     e.g. a `git archive` of main vs this tree
import { existsSync } from "node:fs";

const [dirA, dirB] = [process.argv[2], process.argv[3]];
if (!dirA || !dirB) {
  console.error("usage: bun bench/connection-read-cost.ts DIR_A DIR_B");
  process.exit(2);
}
const socket = { write: (b: Uint8Array) => b.length, end() {}, pause() {}, resume() {}, setNoDelay() {} };
const log = { warn() {}, debug() {}, error() {}, info() {} };
const resp = new Uint8Array(80);
const respond = () => ({ response: resp });
/** A Connection of that checkout: before connection limits it took socket.request.max.bytes directly. */
async function connection(dir: string) {
  const { Connection } = await import(`${dir}/src/server/connection.ts`);
  if (!existsSync(`${dir}/src/server/connections.ts`)) return new Connection(socket, 100 << 20, respond, log, "peer");
  const { RequestMemoryPool } = await import(`${dir}/src/server/connections.ts`);
  const limits = { maxFrameBytes: 100 << 20, maxInFlight: 500, maxUnsentBytes: 1 << 20, pool: new RequestMemoryPool(-1) };
  return new Connection(socket, limits, respond, log, "peer");
}
const a = await connection(dirA);
const b = await connection(dirB);
function chunks(frameSize: number, chunkSize: number, total: number): Uint8Array[] {
  const stream = new Uint8Array(total);
  const dv = new DataView(stream.buffer);
  const step = frameSize + 4;
  const n = Math.floor(total / step) * step;
  for (let p = 0; p < n; p += step) dv.setInt32(p, frameSize);
  const out = [];
  for (let p = 0; p < n; p += chunkSize) out.push(stream.slice(p, Math.min(n, p + chunkSize)));
  return out;
}
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
for (const [label, fs, cs] of [["1 KiB frames, 64 KiB reads", 1024, 65536], ["1 MiB frames, 64 KiB reads", 1 << 20, 65536], ["100 B frames, 16 KiB reads", 100, 16384]] as const) {
  const cks = chunks(fs, cs, 32 << 20);
  const res: Record<string, number[]> = { a: [], b: [] };
  for (let r = 0; r < 21; r++)
    for (const [k, c] of (r % 2 ? [["b", b], ["a", a]] : [["a", a], ["b", b]]) as [string, any][]) {
      const t = cpu();
      for (const ch of cks) c.onData(ch);
      res[k]!.push(((cpu() - t) * 1000) / 32); // µs per MiB
    }
  console.log(`${label}: A ${med(res.a!).toFixed(0)} µs/MiB, B ${med(res.b!).toFixed(0)} µs/MiB, B/A ${(med(res.b!) / med(res.a!)).toFixed(3)}`);
}
