// Transactions and kill -9: the broker runs as a child process through its CLI; a librdkafka
// transactional producer (test/clients/txn_confluent.py) has a transaction open over two partitions
// when the broker is killed with SIGKILL.
// - The producer dies too: after the restart the transaction is still open (the last stable offset holds
//   read_committed readers before it), until the broker's timer aborts it at its transaction.timeout.ms;
//   read_committed consumers then see the committed transaction and nothing of the open one.
// - The producer survives: it reconnects to the restarted broker (same port), produces more in the same
//   transaction and commits it; read_committed consumers see all of it, exactly once.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { confluentConsume, requireTools, spawnPyScript } from "./helpers/clients.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir } from "./helpers/tmp.ts";
import { Wire, freePort } from "./helpers/txn.ts";

setDefaultTimeout(90_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

async function setup(port: number) {
  await requireTools();
  const d = await tempDir("brook-txn-crash-");
  cleanups.unshift(() => d.remove());
  const overrides = {
    listeners: `PLAINTEXT://127.0.0.1:${port}`,
    "num.partitions": 2,
    "transaction.abort.timed.out.transaction.cleanup.interval.ms": 100,
  };
  const startBroker = async () => {
    const b = await spawnBroker({ dataDir: d.path, overrides });
    cleanups.push(() => b.kill("SIGKILL"));
    return b;
  };
  return { dir: d.path, startBroker };
}

/** Starts the producer script and resolves with its lines so far once `ready(line)` is seen. */
function producer(input: object, ready: (line: any) => boolean) {
  const proc = spawnPyScript("txn_confluent.py", input);
  cleanups.push(async () => {
    proc.kill("SIGKILL");
    await proc.exited;
  });
  const lines: any[] = [];
  let onReady!: () => void;
  const isReady = new Promise<void>((r) => (onReady = r));
  const done = (async () => {
    for await (const line of readLines(proc.stdout)) {
      const l = JSON.parse(line);
      lines.push(l);
      if (ready(l)) onReady();
    }
  })();
  return { proc, lines, isReady, done };
}

describe("kill -9 during an open transaction", () => {
  test("the producer dies with it: after the restart the open transaction is aborted by its timeout", async () => {
    const port = freePort();
    const { startBroker } = await setup(port);
    let broker: SpawnedBroker = await startBroker();
    const topic = "crash-open";
    const p = producer(
      {
        bootstrap: broker.address,
        transactional_id: "crash-open",
        config: { "transaction.timeout.ms": 3000 },
        steps: [
          { op: "init" },
          { op: "begin" },
          { op: "produce", topic, partition: 0, prefix: "c0-", count: 20 },
          { op: "produce", topic, partition: 1, prefix: "c1-", count: 20 },
          { op: "commit" },
          { op: "begin" },
          { op: "produce", topic, partition: 0, prefix: "open0-", count: 15 },
          { op: "produce", topic, partition: 1, prefix: "open1-", count: 15 },
          { op: "flush" },
          { op: "wait_file", path: "/nonexistent/never" },
        ],
      },
      (l) => l.op === "flush",
    );
    await p.isReady;
    expect(p.lines.filter((l) => l.op).every((l) => l.ok)).toBe(true);
    await broker.kill("SIGKILL");
    p.proc.kill("SIGKILL");
    await p.done;

    broker = await startBroker();
    await using wire = await Wire.connect(broker.address);
    // Right after the restart the transaction is still open: read_committed readers stop at its start.
    const d = await wire.describeTransaction("crash-open");
    expect(d.transactionState).toBe("Ongoing");
    const f0 = await wire.fetch(topic, 0, 0, 1);
    expect([f0.highWatermark, f0.lastStableOffset]).toEqual([36, 21]);
    // A read_committed long poll at the LSO is answered when the timer's abort marker lands.
    const moved = await wire.fetch(topic, 0, 21, 1, 30_000);
    expect(moved.lastStableOffset).toBe(37);
    expect((await wire.describeTransaction("crash-open")).transactionState).toBe("CompleteAbort");
    const rc = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20 });
    expect(rc.lines.filter((m) => m.partition === 0).map((m) => m.value)).toEqual(range("c0-", 0, 20));
    expect(rc.lines.filter((m) => m.partition === 1).map((m) => m.value)).toEqual(range("c1-", 0, 20));
    const ru = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20, config: { "isolation.level": "read_uncommitted" } });
    expect(ru.lines.filter((m) => m.partition === 1).map((m) => m.value)).toEqual([...range("c1-", 0, 20), ...range("open1-", 0, 15)]);
  });

  test("the producer survives: it reconnects to the restarted broker and commits the transaction", async () => {
    const port = freePort();
    const { dir, startBroker } = await setup(port);
    let broker: SpawnedBroker = await startBroker();
    const topic = "crash-complete";
    const go = `${dir}/go`;
    const p = producer(
      {
        bootstrap: broker.address,
        transactional_id: "crash-complete",
        config: { "transaction.timeout.ms": 60_000, "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200 },
        steps: [
          { op: "init" },
          { op: "begin" },
          { op: "produce", topic, partition: 0, prefix: "a0-", count: 10 },
          { op: "produce", topic, partition: 1, prefix: "a1-", count: 10 },
          { op: "flush" },
          { op: "wait_file", path: go },
          { op: "produce", topic, partition: 0, prefix: "b0-", count: 10 },
          { op: "produce", topic, partition: 1, prefix: "b1-", count: 10 },
          { op: "commit", timeout_s: 30 },
        ],
      },
      (l) => l.op === "flush",
    );
    await p.isReady;
    await broker.kill("SIGKILL");
    broker = await startBroker();
    {
      await using wire = await Wire.connect(broker.address);
      expect((await wire.describeTransaction("crash-complete")).transactionState).toBe("Ongoing");
      expect((await wire.fetch(topic, 1, 0, 1)).lastStableOffset).toBe(0);
    }
    writeFileSync(go, "");
    await p.done;
    expect(await p.proc.exited).toBe(0);
    expect(p.lines.filter((l) => l.op).map((l) => [l.op, l.ok])).toEqual([
      ["init", true], ["begin", true], ["produce", true], ["produce", true], ["flush", true],
      ["wait_file", true], ["produce", true], ["produce", true], ["commit", true],
    ]);
    const rc = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20 });
    for (const i of [0, 1]) expect(rc.lines.filter((m) => m.partition === i).map((m) => m.value)).toEqual([...range(`a${i}-`, 0, 10), ...range(`b${i}-`, 0, 10)]);
  });
});
