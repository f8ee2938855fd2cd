// Crash safety: the broker runs as a child process through its CLI; a librdkafka producer (acks=all)
// reports every acknowledged record; the broker is killed with SIGKILL while the producer is still
// sending (and, in a second test, right after everything was acknowledged); a new broker on the same
// log.dirs must serve every acknowledged record at the offset it was acknowledged with, with the same
// contents, and new records must get fresh offsets (an offset is never handed out twice).
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { confluentConsume, confluentProduce, requireTools, spawnPyScript, type Consumed, type Delivery } from "./helpers/clients.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

// Small segments, so that the crash can land near a segment roll and recovery sees several segments.
const OVERRIDES = { "num.partitions": 2, "log.segment.bytes": 64 * 1024 };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dir: TempDir): Promise<SpawnedBroker> {
  const b = await spawnBroker({ dataDir: dir.path, overrides: OVERRIDES });
  cleanups.push(() => b.kill("SIGKILL"));
  return b;
}

async function newDir(): Promise<TempDir> {
  await requireTools();
  const d = await tempDir("brook-crash-");
  cleanups.unshift(() => d.remove()); // removed last, after the brokers using it are gone
  return d;
}

const key = (d: { partition: number; offset: number }) => `${d.partition}/${d.offset}`;

/** Everything in the topic, and checks that no (partition, offset) repeats and offsets are dense. */
async function readAll(address: string, topic: string): Promise<Map<string, Consumed>> {
  const r = await confluentConsume({ bootstrap: address, topic, timeout_s: 30 }, { timeoutMs: 40_000 });
  const all = new Map<string, Consumed>();
  for (const c of r.lines) {
    expect(all.has(key(c))).toBe(false);
    all.set(key(c), c);
  }
  for (const p of [0, 1]) {
    const offs = r.lines.filter((c) => c.partition === p).map((c) => c.offset);
    expect(offs).toEqual(offs.map((_, i) => i)); // recovery left no hole and no repeat
  }
  return all;
}

function expectAllAcknowledgedPresent(acked: Delivery[], log: Map<string, Consumed>) {
  const missing: string[] = [];
  for (const d of acked) {
    const c = log.get(key(d));
    if (!c || c.key !== d.key || c.value !== d.value) missing.push(`${key(d)} ${d.key}=${d.value} -> ${c ? `${c.key}=${c.value}` : "absent"}`);
  }
  expect(missing).toEqual([]);
}

/** Produce after the restart: new offsets must lie beyond everything already in the log. */
async function expectFreshOffsets(address: string, topic: string, before: Map<string, Consumed>) {
  const prod = await confluentProduce({
    bootstrap: address,
    topic,
    config: { acks: "all" },
    generate: { count: 40, keys: 10, key_prefix: "k", value_prefix: "after-restart-" },
  });
  expect(prod.summary.failed).toBe(0);
  const end = new Map<number, number>();
  for (const c of before.values()) end.set(c.partition, Math.max(end.get(c.partition) ?? -1, c.offset));
  for (const d of prod.lines) {
    expect(before.has(key(d))).toBe(false);
    expect(d.offset).toBeGreaterThan(end.get(d.partition) ?? -1);
  }
  const after = await readAll(address, topic);
  for (const [k, c] of before) expect(after.get(k)).toEqual(c); // old records untouched
  for (const d of prod.lines) expect(after.get(key(d))?.value).toBe(d.value!);
}

describe("crash (SIGKILL) and restart on the same log.dirs", () => {
  test("SIGKILL while a producer is sending: every acknowledged record survives", async () => {
    const dir = await newDir();
    const topic = "crash-during";
    const broker1 = await start(dir);

    const N = 40_000;
    const producer = spawnPyScript("confluent_produce.py", {
      bootstrap: broker1.address,
      topic,
      config: {
        acks: "all",
        "linger.ms": 1,
        "batch.num.messages": 100, // many small produce requests in flight
        "message.timeout.ms": 3000, // after the kill, undelivered messages fail within 3 s
        "reconnect.backoff.max.ms": 200,
      },
      generate: { count: N, keys: 10, key_prefix: "k", value_prefix: "during-" },
      flush_timeout: 20,
    });
    cleanups.push(async () => {
      producer.kill("SIGKILL");
      await producer.exited;
    });
    const stderr = new Response(producer.stderr).text();

    const acked: Delivery[] = [];
    let failed = 0;
    let killedAfter = -1;
    for await (const line of readLines(producer.stdout)) {
      const d = JSON.parse(line);
      if ("summary" in d) continue;
      if (d.error === null) acked.push(d);
      else failed++;
      if (killedAfter < 0 && acked.length >= 2000) {
        killedAfter = acked.length;
        await broker1.kill("SIGKILL");
      }
    }
    await producer.exited;
    expect(killedAfter).toBeGreaterThan(0);
    expect(broker1.proc.signalCode).toBe("SIGKILL");
    // The kill really happened mid-stream: some records were never acknowledged.
    if (acked.length + failed !== N) throw new Error(`producer reported ${acked.length + failed} of ${N}\n${await stderr}`);
    expect(failed).toBeGreaterThan(0);

    const broker2 = await start(dir);
    const log = await readAll(broker2.address, topic);
    expect(log.size).toBeGreaterThanOrEqual(acked.length);
    expectAllAcknowledgedPresent(acked, log);
    await expectFreshOffsets(broker2.address, topic, log);
  });

  test("SIGKILL right after every record was acknowledged; then a second crash", async () => {
    const dir = await newDir();
    const topic = "crash-after";
    const broker1 = await start(dir);
    const prod = await confluentProduce({
      bootstrap: broker1.address,
      topic,
      config: { acks: "all", "linger.ms": 5, "compression.type": "lz4" },
      generate: { count: 5000, keys: 10, key_prefix: "k", value_prefix: "after-" },
    });
    expect(prod.summary.failed).toBe(0);
    await broker1.kill("SIGKILL");

    const broker2 = await start(dir);
    const log = await readAll(broker2.address, topic);
    expect(log.size).toBe(5000);
    expectAllAcknowledgedPresent(prod.lines, log);

    // Produce more, crash again immediately, and recover a log that was itself recovered.
    const more = await confluentProduce({
      bootstrap: broker2.address,
      topic,
      config: { acks: "all" },
      generate: { count: 300, keys: 3, key_prefix: "k", value_prefix: "second-" },
    });
    expect(more.summary.failed).toBe(0);
    await broker2.kill("SIGKILL");

    const broker3 = await start(dir);
    const log3 = await readAll(broker3.address, topic);
    expect(log3.size).toBe(5300);
    expectAllAcknowledgedPresent([...prod.lines, ...more.lines], log3);
    await expectFreshOffsets(broker3.address, topic, log3);
  });

  test("SIGTERM: exits 0, and a restart serves the same records", async () => {
    const dir = await newDir();
    const topic = "clean-stop";
    const broker1 = await start(dir);
    const prod = await confluentProduce({
      bootstrap: broker1.address,
      topic,
      config: { acks: 1 },
      generate: { count: 500, keys: 5 },
    });
    expect(prod.summary.failed).toBe(0);
    expect(await broker1.stop()).toBe(0);

    const broker2 = await start(dir);
    const log = await readAll(broker2.address, topic);
    expect(log.size).toBe(500);
    expectAllAcknowledgedPresent(prod.lines, log);
    await expectFreshOffsets(broker2.address, topic, log);
    expect(await broker2.stop()).toBe(0);
  });
});
