// Idempotent producers at the request level: hand-built batches with producer id, epoch and sequence sent
// through Brook's protocol client to the broker embedded in this process (port 0, temp dir).
// - a duplicate batch is acknowledged with the offset it got the first time and not stored twice;
// - a sequence gap gets OUT_OF_ORDER_SEQUENCE_NUMBER (45), an older epoch INVALID_PRODUCER_EPOCH (47),
//   a new epoch must restart at sequence 0; sequences wrap from 2147483647 to 0;
// - InitProducerId hands idempotent producers fresh ids (epoch 0);
// - the producer state survives a clean restart (snapshot), a restart without a snapshot (log replay)
//   and kill -9 of a CLI broker (snapshot + replay of what came after);
// - DescribeProducers shows the state.
// A librdkafka idempotent producer that keeps producing while its broker is killed (kill -9) and
// restarted on the same port delivers every message exactly once, in order.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { dropProducerSnapshot } from "./helpers/log-dir.ts";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { confluentConsume, requireTools, spawnPyScript } from "./helpers/clients.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";
import { NONE, Wire, batch, dataValues, decodeAll, freePort, type Producer } from "./helpers/txn.ts";

setDefaultTimeout(60_000);

const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;
const INT32_MAX = 2147483647;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A temp dir removed after the test's brokers are gone. */
async function newDir(): Promise<{ path: string }> {
  const d = await tempDir("brook-idem-");
  cleanups.unshift(() => d.remove());
  return d;
}

async function embedded(dir: string): Promise<{ broker: BrokerHandle; wire: Wire }> {
  const broker = await startBroker({ dataDir: dir, logLevel: "error" });
  const wire = await Wire.connect(broker.address);
  cleanups.push(() => broker.close(), () => wire.close());
  return { broker, wire };
}

async function idempotentProducer(wire: Wire): Promise<Producer> {
  const r = await wire.initProducerId(null);
  expect(r.errorCode).toBe(NONE);
  expect(r.producerEpoch).toBe(0);
  return { producerId: r.producerId, producerEpoch: r.producerEpoch };
}

describe("sequence checks", () => {
  test("a duplicate batch gets its original offset and is not stored again", async () => {
    const dir = await newDir();
    const { wire } = await embedded(dir.path);
    const topic = topicName("idem-dup");
    await wire.createTopic(topic);
    const p = await idempotentProducer(wire);
    const first = await wire.produce(topic, 0, batch(p, 0, ["a", "b"]));
    const second = await wire.produce(topic, 0, batch(p, 2, ["c"]));
    expect([first.errorCode, first.baseOffset, second.errorCode, second.baseOffset]).toEqual([NONE, 0, NONE, 2]);
    // Both retried (say the responses were lost): the original offsets, nothing appended.
    const again1 = await wire.produce(topic, 0, batch(p, 0, ["a", "b"]));
    const again2 = await wire.produce(topic, 0, batch(p, 2, ["c"]));
    expect([again1.errorCode, again1.baseOffset, again2.errorCode, again2.baseOffset]).toEqual([NONE, 0, NONE, 2]);
    const third = await wire.produce(topic, 0, batch(p, 3, ["d"]));
    expect([third.errorCode, third.baseOffset]).toEqual([NONE, 3]);
    const f = await wire.fetch(topic, 0, 0, 0);
    expect(dataValues(f.records)).toEqual(["a", "b", "c", "d"]);
    expect(f.highWatermark).toBe(4);
  });

  test("only the last 5 batches are remembered: an older retry is out of order", async () => {
    const dir = await newDir();
    const { wire } = await embedded(dir.path);
    const topic = topicName("idem-five");
    await wire.createTopic(topic);
    const p = await idempotentProducer(wire);
    for (let i = 0; i < 6; i++) expect((await wire.produce(topic, 0, batch(p, i, [`v${i}`]))).baseOffset).toBe(i);
    expect((await wire.produce(topic, 0, batch(p, 1, ["v1"]))).baseOffset).toBe(1); // the oldest of the five kept (1..5)
    expect((await wire.produce(topic, 0, batch(p, 0, ["v0"]))).errorCode).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await wire.fetch(topic, 0, 0, 0)).highWatermark).toBe(6);
  });

  test("a gap is OUT_OF_ORDER_SEQUENCE_NUMBER (45) and nothing is appended", async () => {
    const dir = await newDir();
    const { wire } = await embedded(dir.path);
    const topic = topicName("idem-gap");
    await wire.createTopic(topic);
    const p = await idempotentProducer(wire);
    expect((await wire.produce(topic, 0, batch(p, 0, ["a"]))).errorCode).toBe(NONE);
    const gap = await wire.produce(topic, 0, batch(p, 2, ["c"]));
    expect(gap.errorCode).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(gap.baseOffset).toBe(-1);
    expect(gap.errorMessage).toContain("Out of order sequence number");
    expect((await wire.produce(topic, 0, batch(p, 1, ["b"]))).baseOffset).toBe(1);
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a", "b"]);
    // Sequences are per partition: another partition of the producer starts at 0 on its own.
    const other = topicName("idem-gap-other");
    await wire.createTopic(other);
    expect((await wire.produce(other, 0, batch(p, 0, ["x"]))).errorCode).toBe(NONE);
  });

  test("an older epoch is INVALID_PRODUCER_EPOCH (47); a new epoch must start at sequence 0", async () => {
    const dir = await newDir();
    const { wire } = await embedded(dir.path);
    const topic = topicName("idem-epoch");
    await wire.createTopic(topic);
    const p = await idempotentProducer(wire);
    expect((await wire.produce(topic, 0, batch(p, 0, ["a"]))).errorCode).toBe(NONE);
    const bumped = { ...p, producerEpoch: 1 };
    expect((await wire.produce(topic, 0, batch(bumped, 5, ["x"]))).errorCode).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await wire.produce(topic, 0, batch(bumped, 0, ["b"]))).errorCode).toBe(NONE);
    const stale = await wire.produce(topic, 0, batch(p, 1, ["zombie"]));
    expect(stale.errorCode).toBe(INVALID_PRODUCER_EPOCH);
    expect(stale.errorMessage).toContain("smaller than the last seen epoch 1");
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a", "b"]);
  });

  test("sequences wrap at int32 max", async () => {
    const dir = await newDir();
    const { wire } = await embedded(dir.path);
    const topic = topicName("idem-wrap");
    await wire.createTopic(topic);
    const p = await idempotentProducer(wire);
    // An unknown producer may start anywhere (its earlier batches may have gone with retention).
    expect((await wire.produce(topic, 0, batch(p, INT32_MAX - 1, ["a", "b"]))).errorCode).toBe(NONE); // seqs MAX-1, MAX
    expect((await wire.produce(topic, 0, batch(p, 1, ["x"]))).errorCode).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await wire.produce(topic, 0, batch(p, 0, ["c", "d", "e"]))).baseOffset).toBe(2); // 0..2
    expect((await wire.produce(topic, 0, batch(p, 0, ["c", "d", "e"]))).baseOffset).toBe(2); // duplicate after the wrap
    // A batch whose own range wraps: MAX..1 after MAX-1.
    const q = await idempotentProducer(wire);
    expect((await wire.produce(topic, 0, batch(q, INT32_MAX - 1, ["f"]))).errorCode).toBe(NONE);
    expect((await wire.produce(topic, 0, batch(q, INT32_MAX, ["g", "h", "i"]))).baseOffset).toBe(6);
    expect((await wire.produce(topic, 0, batch(q, 2, ["j"]))).baseOffset).toBe(9);
    const described = await wire.describeProducers(topic, 0);
    expect(described.activeProducers.find((x) => x.producerId === q.producerId)?.lastSequence).toBe(2);
  });

  test("InitProducerId gives idempotent producers a fresh id each time; DescribeProducers shows the state", async () => {
    const dir = await newDir();
    const { wire } = await embedded(dir.path);
    const topic = topicName("idem-describe");
    await wire.createTopic(topic);
    const a = await idempotentProducer(wire);
    const b = await wire.initProducerId(null, 60_000, a, 4); // KIP-360 fields are ignored without a transactional id
    expect(b.producerId).not.toBe(a.producerId);
    expect(b.producerEpoch).toBe(0);
    await wire.produce(topic, 0, batch(a, 0, ["a", "b", "c"]));
    const d = await wire.describeProducers(topic, 0);
    expect(d.errorCode).toBe(NONE);
    expect(d.activeProducers).toEqual([
      { producerId: a.producerId, producerEpoch: 0, lastSequence: 2, lastTimestamp: expect.any(Number), coordinatorEpoch: -1, currentTxnStartOffset: -1 },
    ]);
    expect((await wire.describeProducers("no-such-topic", 0)).errorCode).toBe(3);
  });
});

describe("producer state across restarts", () => {
  async function roundTrip(dir: string, mutate: () => void) {
    const topic = "idem-restart";
    let p: Producer;
    {
      const broker = await startBroker({ dataDir: dir, logLevel: "error" });
      const wire = await Wire.connect(broker.address);
      await wire.createTopic(topic);
      p = await idempotentProducer(wire);
      for (let i = 0; i < 3; i++) expect((await wire.produce(topic, 0, batch(p, i * 2, [`a${i}`, `b${i}`]))).baseOffset).toBe(i * 2);
      wire.close();
      await broker.close();
    }
    mutate();
    const { wire } = await embedded(dir);
    expect((await wire.produce(topic, 0, batch(p, 4, ["a2", "b2"]))).baseOffset).toBe(4); // a retry after the restart
    expect((await wire.produce(topic, 0, batch(p, 7, ["x"]))).errorCode).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await wire.produce(topic, 0, batch(p, 6, ["c"]))).baseOffset).toBe(6);
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a0", "b0", "a1", "b1", "a2", "b2", "c"]);
  }

  test("clean restart: restored from the snapshot", async () => {
    const dir = await newDir();
    await roundTrip(dir.path, () => {});
  });

  test("no snapshot: rebuilt by replaying the log", async () => {
    const dir = await newDir();
    await roundTrip(dir.path, () => dropProducerSnapshot(dir.path, "idem-restart-0"));
  });

  test("kill -9: snapshot of an earlier clean stop plus replay of what came after", async () => {
    await requireTools();
    const dir = await newDir();
    const topic = "idem-kill";
    const start = async () => {
      const b = await spawnBroker({ dataDir: dir.path });
      cleanups.push(() => b.kill("SIGKILL"));
      return b;
    };
    let b = await start();
    let wire = await Wire.connect(b.address);
    await wire.createTopic(topic);
    const p = await idempotentProducer(wire);
    expect((await wire.produce(topic, 0, batch(p, 0, ["a", "b"]))).baseOffset).toBe(0);
    wire.close();
    expect(await b.stop()).toBe(0); // clean: writes a snapshot at offset 2
    b = await start();
    wire = await Wire.connect(b.address);
    expect((await wire.produce(topic, 0, batch(p, 2, ["c"]))).baseOffset).toBe(2);
    expect((await wire.produce(topic, 0, batch(p, 3, ["d", "e"]))).baseOffset).toBe(3);
    wire.close();
    await b.kill("SIGKILL");
    b = await start();
    wire = await Wire.connect(b.address);
    cleanups.push(() => wire.close());
    expect((await wire.produce(topic, 0, batch(p, 3, ["d", "e"]))).baseOffset).toBe(3); // duplicate, from the replay
    expect((await wire.produce(topic, 0, batch(p, 2, ["c"]))).baseOffset).toBe(2);
    expect((await wire.produce(topic, 0, batch(p, 6, ["g"]))).errorCode).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await wire.produce(topic, 0, batch(p, 5, ["f"]))).baseOffset).toBe(5);
    const f = await wire.fetch(topic, 0, 0, 0);
    expect(dataValues(f.records)).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(decodeAll(f.records).map((x) => x.producerId)).toEqual(Array(4).fill(p.producerId));
  });
});

describe("librdkafka idempotent producer", () => {
  /**
   * Runs a librdkafka idempotent producer of N messages against a CLI broker on a fixed port and calls
   * `disturb(broker)` when `at` messages have been acknowledged (while the producer goes on: its output
   * keeps being read); the broker returned replaces it. Then checks that every message is in the topic
   * exactly once, each key's messages in order.
   */
  async function exactlyOnce(
    N: number,
    at: number[],
    disturb: (b: SpawnedBroker, stderrShows: (re: RegExp) => Promise<void>) => Promise<SpawnedBroker>,
    extraConfig: Record<string, unknown> = {},
    flushEvery?: number,
  ) {
    await requireTools();
    const dir = await newDir();
    const port = freePort();
    const overrides = { listeners: `PLAINTEXT://127.0.0.1:${port}`, "num.partitions": 2 };
    let broker: SpawnedBroker = await spawnBroker({ dataDir: dir.path, overrides });
    cleanups.push(() => broker.kill("SIGKILL"));
    const topic = "idem-rdkafka";
    const producer = spawnPyScript("confluent_produce.py", {
      bootstrap: `127.0.0.1:${port}`,
      topic,
      config: {
        "enable.idempotence": true,
        "linger.ms": 2,
        "batch.num.messages": 200,
        "message.timeout.ms": 60_000, // keep retrying across the disturbances
        "reconnect.backoff.ms": 20,
        "reconnect.backoff.max.ms": 200,
        "retry.backoff.ms": 20,
        ...extraConfig,
      },
      generate: { count: N, keys: 7, key_prefix: "k", value_prefix: "m" },
      flush_every: flushEvery,
      flush_timeout: 60,
    });
    cleanups.push(async () => {
      producer.kill("SIGKILL");
      await producer.exited;
    });
    // librdkafka logs to stderr; a disturbance may wait for a line there (an event, not a sleep).
    let stderr = "";
    const hook: { onStderr: (() => void) | null } = { onStderr: null };
    (async () => {
      const dec = new TextDecoder();
      for await (const chunk of producer.stderr) {
        stderr += dec.decode(chunk, { stream: true });
        hook.onStderr?.();
      }
    })().catch(() => {});
    const stderrShows = (re: RegExp) => {
      const from = stderr.length;
      return new Promise<void>((resolve) => {
        hook.onStderr = () => {
          if (re.test(stderr.slice(from))) (hook.onStderr = null), resolve();
        };
      });
    };
    let delivered = 0;
    let failed = 0;
    const pending = [...at];
    let disturbances = Promise.resolve();
    for await (const line of readLines(producer.stdout)) {
      const d = JSON.parse(line);
      if ("summary" in d) continue;
      if (d.error === null) delivered++;
      else failed++;
      if (pending.length > 0 && delivered >= pending[0]!) {
        pending.shift();
        disturbances = disturbances.then(async () => void (broker = await disturb(broker, stderrShows)));
      }
    }
    await disturbances;
    expect(await producer.exited).toBe(0);
    if (delivered !== N || failed !== 0 || pending.length > 0)
      throw new Error(`delivered ${delivered}, failed ${failed}, disturbances left ${pending.length}\n${stderr.slice(-3000)}`);
    const consumed = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 40 }, { timeoutMs: 50_000 });
    const values = consumed.lines.map((c) => c.value!);
    expect(values.length).toBe(N);
    expect(new Set(values).size).toBe(N);
    for (const p of [0, 1]) {
      const byKey = new Map<string, number[]>();
      for (const c of consumed.lines.filter((c) => c.partition === p)) byKey.set(c.key!, [...(byKey.get(c.key!) ?? []), Number(c.value!.slice(1))]);
      for (const nums of byKey.values()) expect(nums).toEqual([...nums].sort((a, b) => a - b));
    }
    return { stderr };
  }

  test("kill -9 and restart of its broker (twice): every message exactly once, in order", async () => {
    await exactlyOnce(30_000, [3000, 12_000], async (b) => {
      await b.kill("SIGKILL");
      return spawnBroker({ dataDir: b.dataDir, overrides: { listeners: `PLAINTEXT://127.0.0.1:${b.port}`, "num.partitions": 2 } });
    });
  });

  test("requests that time out and are retried although the broker appended them: no duplicates", async () => {
    // The broker is frozen (SIGSTOP) until librdkafka gives up on its in-flight produce requests and
    // disconnects; thawed, the broker appends what was queued on the old connection, and the client
    // sends the same batches again on a new one: duplicates the broker must recognise. The producer
    // flushes every 1000 messages, so it is still sending when the broker freezes.
    const { stderr } = await exactlyOnce(
      20_000,
      [4000],
      async (b, stderrShows) => {
        const timedOut = stderrShows(/timed out|Timed out/);
        b.proc.kill("SIGSTOP");
        await timedOut;
        b.proc.kill("SIGCONT");
        return b;
      },
      { "request.timeout.ms": 1000, "socket.timeout.ms": 1000 },
      1000,
    );
    expect(stderr).toMatch(/timed out|Timed out/);
  });
});
