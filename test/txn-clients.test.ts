// Transactions with stock clients, each test against its own broker embedded in this process (port 0,
// temp dir):
// - kafkajs 2.2.4: a transactional producer's committed and aborted transactions; a read_committed group
//   consumer (kafkajs's default) sees only committed records, a read_uncommitted one sees all;
//   consume-transform-produce with sendOffsets — a first pass whose transactions all abort leaves no
//   committed offsets and no visible output, a second pass commits them, and the output holds every
//   input record exactly once for read_committed readers.
// - librdkafka 2.0.2 (confluent_kafka, test/clients/txn_confluent.py): init/begin/commit/abort, read back
//   by read_committed and read_uncommitted consumers (assign()); send_offsets_to_transaction; a
//   consume-transform-produce loop with a subscribed read_committed consumer; zombie fencing (a second
//   producer with the same transactional.id makes the first one's commit fail as fenced).
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { Kafka, logLevel, type Consumer, type KafkaMessage } from "kafkajs";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { confluentConsume, pyScript, requireTools, spawnPyScript } from "./helpers/clients.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";
import { NONE, Wire } from "./helpers/txn.ts";

setDefaultTimeout(90_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(overrides: Record<string, string | number> = {}): Promise<{ broker: BrokerHandle; kafka: Kafka; wire: Wire; dir: string }> {
  const d = await tempDir("brook-txn-clients-");
  cleanups.push(() => d.remove());
  const broker = await startBroker({
    dataDir: d.path,
    logLevel: "error",
    overrides: { "group.initial.rebalance.delay.ms": 0, "num.partitions": 1, ...overrides },
  });
  cleanups.push(() => broker.close());
  const wire = await Wire.connect(broker.address);
  cleanups.push(() => wire.close());
  const kafka = new Kafka({
    clientId: "txn-clients",
    brokers: [broker.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 500 },
  });
  return { broker, kafka, wire, dir: d.path };
}

/** A kafkajs group consumer from the beginning of `topic`, resolving once `done(values)` holds. */
async function consumeUntil(kafka: Kafka, topic: string, opts: { groupId: string; readUncommitted?: boolean }, done: (values: string[]) => boolean) {
  const consumer: Consumer = kafka.consumer({ groupId: opts.groupId, readUncommitted: opts.readUncommitted ?? false, maxWaitTimeInMs: 100 });
  cleanups.push(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  let resolve!: () => void;
  const finished = new Promise<void>((r) => (resolve = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value!.toString());
      if (done(values)) resolve();
    },
  });
  await finished;
  await consumer.disconnect();
  return values;
}

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe("kafkajs", () => {
  test("commit and abort; read_committed sees only committed records, read_uncommitted sees all", async () => {
    const { broker, kafka, wire } = await start();
    const topic = topicName("kjs-txn");
    await wire.createTopic(topic);
    const producer = kafka.producer({ transactionalId: "kjs-txn", idempotent: true, maxInFlightRequests: 1 });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    const runTxn = async (values: string[], commit: boolean) => {
      const txn = await producer.transaction();
      for (const v of values) await txn.send({ topic, messages: [{ key: "k", value: v }] });
      await (commit ? txn.commit() : txn.abort());
    };
    await runTxn(range("c", 0, 5), true);
    await runTxn(range("a", 0, 5), false);
    await runTxn(range("c", 5, 10), true);
    await runTxn(range("a", 5, 8), false);
    await runTxn(["last"], true);

    const committed = await consumeUntil(kafka, topic, { groupId: "kjs-rc" }, (v) => v.includes("last"));
    expect(committed).toEqual([...range("c", 0, 10), "last"]);
    const everything = await consumeUntil(kafka, topic, { groupId: "kjs-ru", readUncommitted: true }, (v) => v.includes("last"));
    expect(everything).toEqual([...range("c", 0, 5), ...range("a", 0, 5), ...range("c", 5, 10), ...range("a", 5, 8), "last"]);
    // librdkafka's read_committed view of the same log agrees.
    await requireTools();
    const rk = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20 });
    expect(rk.lines.map((m) => m.value)).toEqual([...range("c", 0, 10), "last"]);
    // The transactional id went through the states a tool sees.
    expect((await wire.describeTransaction("kjs-txn")).transactionState).toBe("CompleteCommit");
  });

  test("consume-transform-produce with sendOffsets: aborted passes leave nothing, a committed pass exactly once", async () => {
    const { kafka, wire } = await start();
    const input = topicName("kjs-ctp-in");
    const output = topicName("kjs-ctp-out");
    await wire.createTopic(input);
    await wire.createTopic(output);
    const N = 40;
    const plain = kafka.producer();
    cleanups.push(() => plain.disconnect());
    await plain.connect();
    // Several small batches, so that the consumer's fetches (maxBytesPerPartition) bring a few at a time.
    for (let i = 0; i < N; i += 5) await plain.send({ topic: input, messages: range("m", i, i + 5).map((value) => ({ value })) });

    const group = "kjs-ctp";
    const producer = kafka.producer({ transactionalId: "kjs-ctp", idempotent: true, maxInFlightRequests: 1 });
    cleanups.push(() => producer.disconnect());
    await producer.connect();

    /** One pass over the whole input in transactions of a fetched batch each; returns when N records went through. */
    const pass = async (commit: boolean) => {
      const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100, maxBytesPerPartition: 200 });
      cleanups.push(() => consumer.disconnect());
      await consumer.connect();
      await consumer.subscribe({ topic: input, fromBeginning: true });
      let seen = 0;
      let transactions = 0;
      let resolve!: () => void;
      const finished = new Promise<void>((r) => (resolve = r));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (batch.messages.length === 0) return;
          const txn = await producer.transaction();
          await txn.send({ topic: output, messages: batch.messages.map((m: KafkaMessage) => ({ value: m.value!.toString().toUpperCase() })) });
          const next = String(Number(batch.messages[batch.messages.length - 1]!.offset) + 1);
          await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: next }] }] });
          await (commit ? txn.commit() : txn.abort());
          transactions++;
          seen += batch.messages.length;
          if (seen >= N) resolve();
        },
      });
      await finished;
      await consumer.disconnect();
      return transactions;
    };

    expect(await pass(false)).toBeGreaterThan(1); // several transactions, all aborted
    expect(await wire.committed(group, input, 0)).toEqual([-1, NONE]);
    expect(await pass(true)).toBeGreaterThan(1); // starts over from the beginning: nothing was committed
    expect(await wire.committed(group, input, 0)).toEqual([N, NONE]);

    const out = await consumeUntil(kafka, output, { groupId: "kjs-ctp-check" }, (v) => v.length >= N);
    expect(out).toEqual(range("M", 0, N));
    const all = await consumeUntil(kafka, output, { groupId: "kjs-ctp-check-ru", readUncommitted: true }, (v) => v.length >= 2 * N);
    expect(all).toEqual([...range("M", 0, N), ...range("M", 0, N)]);
  });
});

describe("librdkafka (confluent_kafka)", () => {
  test("init, commit and abort; read_committed and read_uncommitted consumers", async () => {
    await requireTools();
    const { broker, wire } = await start();
    const topic = topicName("rk-txn");
    await wire.createTopic(topic);
    const r = await pyScript("txn_confluent.py", {
      bootstrap: broker.address,
      transactional_id: "rk-txn",
      steps: [
        { op: "init" },
        { op: "begin" },
        { op: "produce", topic, prefix: "c", count: 50 },
        { op: "commit" },
        { op: "begin" },
        { op: "produce", topic, prefix: "a", count: 30 },
        { op: "flush" },
        { op: "abort" },
        { op: "begin" },
        { op: "produce", topic, prefix: "z", count: 20 },
        { op: "commit" },
      ],
    });
    expect(r.lines.every((l) => l.ok)).toBe(true);
    expect(r.summary).toEqual({ delivered: 100, failed: 0 });
    const rc = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20 });
    expect(rc.lines.map((m) => m.value)).toEqual([...range("c", 0, 50), ...range("z", 0, 20)]);
    const ru = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20, config: { "isolation.level": "read_uncommitted" } });
    expect(ru.lines.map((m) => m.value)).toEqual([...range("c", 0, 50), ...range("a", 0, 30), ...range("z", 0, 20)]);
    // Offsets: 50 + marker, 30 + marker, 20 + marker.
    expect(await wire.listOffset(topic, 0, 1)).toBe(103);
  });

  test("send_offsets_to_transaction: offsets visible to the group only after the commit", async () => {
    await requireTools();
    const { broker, wire } = await start();
    const topic = topicName("rk-offsets");
    await wire.createTopic(topic);
    const r = await pyScript("txn_confluent.py", {
      bootstrap: broker.address,
      transactional_id: "rk-offsets",
      steps: [
        { op: "init" },
        { op: "begin" },
        { op: "produce", topic, prefix: "x", count: 3 },
        { op: "send_offsets", group: "rk-g", offsets: { [topic]: { "0": 11 } } },
        { op: "abort" },
        { op: "begin" },
        { op: "produce", topic, prefix: "y", count: 3 },
        { op: "send_offsets", group: "rk-g", offsets: { [topic]: { "0": 42 } } },
        { op: "commit" },
      ],
    });
    expect(r.lines.filter((l) => l.op).map((l) => [l.op, l.ok])).toEqual([
      ["init", true], ["begin", true], ["produce", true], ["send_offsets", true], ["abort", true],
      ["begin", true], ["produce", true], ["send_offsets", true], ["commit", true],
    ]);
    expect(await wire.committed("rk-g", topic, 0)).toEqual([42, NONE]);
  });

  test("consume-transform-produce: a subscribed read_committed consumer and send_offsets_to_transaction", async () => {
    await requireTools();
    const { broker, wire } = await start();
    const input = topicName("rk-ctp-in");
    const output = topicName("rk-ctp-out");
    await wire.createTopic(input);
    await wire.createTopic(output);
    const N = 60;
    const seed = await pyScript("txn_confluent.py", {
      bootstrap: broker.address,
      transactional_id: "rk-seed",
      steps: [{ op: "init" }, { op: "begin" }, { op: "produce", topic: input, prefix: "m", count: N }, { op: "commit" }],
    });
    expect(seed.summary.delivered).toBe(N);
    const r = await pyScript(
      "txn_confluent.py",
      {
        bootstrap: broker.address,
        transactional_id: "rk-ctp",
        steps: [{ op: "init" }, { op: "ctp", input, output, group: "rk-ctp", count: N, per_txn: 7 }],
      },
      { timeoutMs: 60_000 },
    );
    expect(r.lines[1]).toMatchObject({ op: "ctp", ok: true, consumed: N });
    expect(r.lines[1].transactions).toBeGreaterThanOrEqual(Math.ceil(N / 7));
    // The position after the last record (the input's commit marker, at offset N, is skipped on resume).
    expect(await wire.committed("rk-ctp", input, 0)).toEqual([N, NONE]);
    const out = await confluentConsume({ bootstrap: broker.address, topic: output, timeout_s: 20 });
    expect(out.lines.map((m) => m.value)).toEqual(range("M", 0, N));
  });

  test("zombie fencing: a second producer with the same transactional.id fences the first", async () => {
    await requireTools();
    const { broker, wire, dir } = await start();
    const topic = topicName("rk-zombie");
    await wire.createTopic(topic);
    const go = `${dir}/go`;
    const zombie = spawnPyScript("txn_confluent.py", {
      bootstrap: broker.address,
      transactional_id: "rk-zombie",
      steps: [
        { op: "init" },
        { op: "begin" },
        { op: "produce", topic, prefix: "old", count: 5 },
        { op: "flush" },
        { op: "wait_file", path: go },
        { op: "produce", topic, prefix: "late", count: 5, may_fail: true },
        { op: "flush", may_fail: true, timeout_s: 10 },
        { op: "commit", may_fail: true, timeout_s: 10 },
      ],
    });
    cleanups.push(async () => {
      zombie.kill("SIGKILL");
      await zombie.exited;
    });
    const lines: any[] = [];
    let flushed!: () => void;
    const firstFlush = new Promise<void>((r) => (flushed = r));
    const reader = (async () => {
      for await (const line of readLines(zombie.stdout)) {
        lines.push(JSON.parse(line));
        if (lines.at(-1).op === "flush") flushed();
      }
    })();
    await firstFlush;
    expect((await wire.describeTransaction("rk-zombie")).transactionState).toBe("Ongoing");

    const fresh = await pyScript("txn_confluent.py", {
      bootstrap: broker.address,
      transactional_id: "rk-zombie",
      steps: [{ op: "init" }, { op: "begin" }, { op: "produce", topic, prefix: "new", count: 5 }, { op: "commit" }],
    });
    expect(fresh.lines.every((l) => l.ok)).toBe(true);
    writeFileSync(go, "");
    await reader;
    await zombie.exited;
    const commit = lines.find((l) => l.op === "commit");
    expect(commit?.ok).toBe(false);
    // librdkafka learns it from INVALID_PRODUCER_EPOCH on its next produce: a fatal "_FENCED" error.
    expect([commit.error.fatal, commit.error.name]).toEqual([true, "_FENCED"]);
    const rc = await confluentConsume({ bootstrap: broker.address, topic, timeout_s: 20 });
    expect(rc.lines.map((m) => m.value)).toEqual(range("new", 0, 5));
  });
});
