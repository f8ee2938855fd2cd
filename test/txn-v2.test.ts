// Transactions v2 (KIP-890) and the KIP-890 versions of the transaction APIs:
// - request by request (Brook's protocol client, the versions a Kafka 4.0 client sends with
//   transaction.version 2 finalized): Produce v12 and TxnOffsetCommit v5 add partitions and groups to
//   the transaction themselves, EndTxn v5 bumps the epoch per transaction and hands it back (markers
//   carry the new epoch), its retry and empty-abort rules, the epoch overflow to a new producer id (also
//   across a restart), TRANSACTION_ABORTABLE for Produce v11 / TxnOffsetCommit v4, AddPartitionsToTxn
//   v4 batches with VerifyOnly, and the features ApiVersions v3/v4 report;
// - a read_committed kafkajs consumer reading what a v2 producer committed and aborted;
// - @platformatic/kafka 1.35's transactional producer, which negotiates the new versions it knows
//   (AddPartitionsToTxn v5 in its batched form, InitProducerId v5, EndTxn v4, Produce v11): commit and
//   abort, read back by a read_committed consumer.
// - librdkafka 2.15 (@confluentinc/kafka-javascript, test/clients/node/txn-producer.cjs) keeps the
//   pre-KIP-890 versions it knows (EndTxn v1, AddPartitionsToTxn v0, InitProducerId v4) and its
//   transactions commit and abort as before with transaction.version 2 finalized.
// No client installable here runs transactions v2 itself (EndTxn v5 + Produce v12): librdkafka 2.15 sends
// EndTxn v1 and AddPartitionsToTxn v0, @platformatic/kafka 1.35 and 2.x stop at EndTxn v4 and Produce
// v11, kafkajs at EndTxn v1. So the v2 flow is driven request by request, and read back by stock clients.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Producer as PltProducer, stringSerializers } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { AddPartitionsToTxn, ApiVersions, EndTxn } from "../protocol/apis/index.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { buildRegistry, handlers } from "../src/handlers/index.ts";
import type { Handler } from "../src/handlers/handler.ts";
import { join } from "node:path";
import { REPO_ROOT } from "./helpers/broker.ts";
import { jsonLines, run } from "./helpers/run.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";
import { NONE, Wire, batch, dataValues, decodeAll, markers, type Producer } from "./helpers/txn.ts";

setDefaultTimeout(90_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every (API key, version) the broker served, to show what a client negotiated. */
function recordingRegistry(seen: Set<string>) {
  return buildRegistry(
    handlers.map((h): Handler<any> => ({
      ...h,
      handle: (req, ctx) => {
        seen.add(`${h.api.name} v${ctx.version}`);
        return h.handle(req, ctx);
      },
    })),
  );
}

async function start(dir?: string, seen?: Set<string>): Promise<{ broker: BrokerHandle; wire: Wire; dir: string }> {
  let path = dir;
  if (!path) {
    const d = await tempDir("brook-txn-v2-");
    cleanups.push(() => d.remove());
    path = d.path;
  }
  const broker = await startBroker(
    { dataDir: path, logLevel: "error", overrides: { "group.initial.rebalance.delay.ms": 0 } },
    seen ? recordingRegistry(seen) : undefined,
  );
  cleanups.push(() => broker.close());
  const wire = await Wire.connect(broker.address);
  cleanups.push(() => wire.close());
  return { broker, wire, dir: path };
}

/** EndTxn v5: the error and the producer id/epoch to use next. */
async function endV2(wire: Wire, transactionalId: string, p: Producer, committed: boolean) {
  const r = await wire.client.request(EndTxn, 5, { transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed });
  return { errorCode: r.errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch };
}

/** The producer epoch written into each control batch of a partition, in log order. */
async function markerEpochs(wire: Wire, topic: string, partition: number): Promise<number[]> {
  const f = await wire.fetch(topic, partition, 0, 0);
  return decodeAll(f.records)
    .filter((b) => b.isControl)
    .map((b) => b.producerEpoch);
}

describe("transactions v2, request by request", () => {
  test("Produce v12 and TxnOffsetCommit v5 join the transaction; EndTxn v5 bumps the epoch, markers carry it", async () => {
    const { wire } = await start();
    const topic = topicName("v2-flow");
    const group = `${topic}-g`;
    await wire.createTopic(topic, 2);
    const p0 = await wire.init("tx-v2");

    // No AddPartitionsToTxn, no AddOffsetsToTxn: the produce and the offset commit register themselves.
    expect((await wire.produce(topic, 0, batch(p0, 0, ["a0", "a1"], true), "tx-v2", 12)).errorCode).toBe(NONE);
    expect((await wire.produce(topic, 1, batch(p0, 0, ["b0"], true), "tx-v2", 12)).errorCode).toBe(NONE);
    expect(await wire.txnOffsetCommit("tx-v2", p0, group, [{ topic, partition: 0, offset: 7 }], {}, 5)).toEqual([NONE]);
    const d = await wire.describeTransaction("tx-v2");
    expect(d.transactionState).toBe("Ongoing");
    expect(d.topics).toEqual([{ topic, partitions: [0, 1] }]);

    const e1 = await endV2(wire, "tx-v2", p0, true);
    expect(e1).toEqual({ errorCode: NONE, producerId: p0.producerId, producerEpoch: p0.producerEpoch + 1 });
    expect(await markerEpochs(wire, topic, 0)).toEqual([p0.producerEpoch + 1]);
    expect(await wire.committed(group, topic, 0)).toEqual([7, NONE]);

    // The next transaction runs with the epoch EndTxn returned, its sequences starting over at 0.
    const p1: Producer = { producerId: e1.producerId, producerEpoch: e1.producerEpoch };
    expect((await wire.produce(topic, 0, batch(p1, 0, ["x0"], true), "tx-v2", 12)).errorCode).toBe(NONE);
    const e2 = await endV2(wire, "tx-v2", p1, false);
    expect(e2).toEqual({ errorCode: NONE, producerId: p0.producerId, producerEpoch: p0.producerEpoch + 2 });
    expect(await markerEpochs(wire, topic, 0)).toEqual([p0.producerEpoch + 1, p0.producerEpoch + 2]);

    // The previous epochs are fenced.
    expect((await wire.produce(topic, 0, batch(p1, 1, ["zombie"], true), "tx-v2", 12)).errorCode).toBe(E.INVALID_PRODUCER_EPOCH);
    expect((await endV2(wire, "tx-v2", p0, true)).errorCode).toBe(E.PRODUCER_FENCED);

    const committed = await wire.fetch(topic, 0, 0, 1);
    expect(dataValues(committed.records)).toEqual(["a0", "a1", "x0"]);
    expect(committed.abortedTransactions).toEqual([{ producerId: p0.producerId, firstOffset: 3 }]);
    expect(markers(committed.records).map((m) => m[2])).toEqual(["COMMIT", "ABORT"]);
  });

  test("a kafkajs read_committed consumer sees exactly the committed records of a v2 producer", async () => {
    const { broker, wire } = await start();
    const topic = topicName("v2-kjs");
    await wire.createTopic(topic, 1);
    let p = await wire.init("tx-v2-kjs");
    const want: string[] = [];
    for (let i = 0; i < 6; i++) {
      const values = [`t${i}-a`, `t${i}-b`];
      expect((await wire.produce(topic, 0, batch(p, 0, values, true), "tx-v2-kjs", 12)).errorCode).toBe(NONE);
      const commit = i % 2 === 0;
      if (commit) want.push(...values);
      const r = await endV2(wire, "tx-v2-kjs", p, commit);
      expect(r.errorCode).toBe(NONE);
      p = { producerId: r.producerId, producerEpoch: r.producerEpoch };
    }
    const kafka = new Kafka({ clientId: "v2-reader", brokers: [broker.address], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${topic}-reader`, readUncommitted: false, maxWaitTimeInMs: 100 });
    cleanups.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        if (seen.length >= want.length) done();
      },
    });
    await finished;
    // Everything up to the end of the log is stable, so nothing more can arrive: no aborted record.
    expect(await wire.listOffset(topic, 0, 1)).toBe(await wire.listOffset(topic, 0, 0));
    expect(seen).toEqual(want);
  });

  test("EndTxn v5 retries, empty aborts and the other outcome (Kafka's transition table for v2)", async () => {
    const { wire } = await start();
    const topic = topicName("v2-retry");
    await wire.createTopic(topic);
    const p0 = await wire.init("tx-v2-retry");
    // Empty: commit is INVALID_TXN_STATE, abort bumps the epoch (no markers: nothing to end).
    expect((await endV2(wire, "tx-v2-retry", p0, true)).errorCode).toBe(E.INVALID_TXN_STATE);
    const a = await endV2(wire, "tx-v2-retry", p0, false);
    expect(a).toEqual({ errorCode: NONE, producerId: p0.producerId, producerEpoch: p0.producerEpoch + 1 });
    // Its retry (the epoch before the bump) gets the same answer, without another bump.
    expect(await endV2(wire, "tx-v2-retry", p0, false)).toEqual(a);
    // ...but a commit retried at that epoch is the wrong outcome.
    expect((await endV2(wire, "tx-v2-retry", p0, true)).errorCode).toBe(E.INVALID_TXN_STATE);

    const p1 = { producerId: a.producerId, producerEpoch: a.producerEpoch };
    expect((await wire.produce(topic, 0, batch(p1, 0, ["v"], true), "tx-v2-retry", 12)).errorCode).toBe(NONE);
    const c = await endV2(wire, "tx-v2-retry", p1, true);
    expect(c.producerEpoch).toBe(p1.producerEpoch + 1);
    expect(await endV2(wire, "tx-v2-retry", p1, true)).toEqual(c); // retried commit
    expect((await endV2(wire, "tx-v2-retry", p1, false)).errorCode).toBe(E.INVALID_TXN_STATE); // abort retried at the old epoch
    // After a commit, an abort at the current epoch aborts an empty transaction (and bumps).
    const p2 = { producerId: c.producerId, producerEpoch: c.producerEpoch };
    expect(await endV2(wire, "tx-v2-retry", p2, false)).toEqual({ errorCode: NONE, producerId: p0.producerId, producerEpoch: p2.producerEpoch + 1 });
    // An epoch two behind, another producer id, an unknown transactional id.
    expect((await endV2(wire, "tx-v2-retry", p1, false)).errorCode).toBe(E.PRODUCER_FENCED);
    expect((await endV2(wire, "tx-v2-retry", { producerId: p0.producerId + 1000, producerEpoch: 0 }, false)).errorCode).toBe(E.INVALID_PRODUCER_ID_MAPPING);
    expect((await endV2(wire, "nobody", p0, false)).errorCode).toBe(E.INVALID_PRODUCER_ID_MAPPING);
    // Only data partitions got markers: the one committed transaction.
    expect(markers((await wire.fetch(topic, 0, 0, 0)).records).map((m) => m[2])).toEqual(["COMMIT"]);
  });

  test("an exhausted epoch moves to a new producer id with epoch 0, kept across a restart", async () => {
    const d = await tempDir("brook-txn-v2-overflow-");
    cleanups.push(() => d.remove());
    let { broker, wire } = await start(d.path);
    const topic = topicName("v2-overflow");
    await wire.createTopic(topic);
    const p0 = await wire.init("tx-v2-max");
    // Reaching 32766 takes 32766 transactions; the coordinator's state is set there directly.
    broker.broker.txn.transaction("tx-v2-max")!.producerEpoch = 32766;
    const last: Producer = { producerId: p0.producerId, producerEpoch: 32766 };
    expect((await wire.produce(topic, 0, batch(last, 0, ["last"], true), "tx-v2-max", 12)).errorCode).toBe(NONE);
    const r = await endV2(wire, "tx-v2-max", last, true);
    expect(r.errorCode).toBe(NONE);
    expect(r.producerId).not.toBe(p0.producerId);
    expect(r.producerEpoch).toBe(0);
    // The markers were written by the old producer id with the last epoch (32767).
    const f = await wire.fetch(topic, 0, 0, 1);
    expect(markers(f.records)).toEqual([[1, p0.producerId, "COMMIT"]]);
    expect(await markerEpochs(wire, topic, 0)).toEqual([32767]);
    // A retry from the old id at 32766 gets the new id and epoch.
    expect(await endV2(wire, "tx-v2-max", last, true)).toEqual(r);

    await wire.close();
    await broker.close();
    ({ broker, wire } = await start(d.path));
    const next: Producer = { producerId: r.producerId, producerEpoch: 0 };
    expect((await wire.produce(topic, 0, batch(next, 0, ["first"], true), "tx-v2-max", 12)).errorCode).toBe(NONE);
    expect(await endV2(wire, "tx-v2-max", next, true)).toEqual({ errorCode: NONE, producerId: r.producerId, producerEpoch: 1 });
    expect(dataValues((await wire.fetch(topic, 0, 0, 1)).records)).toEqual(["last", "first"]);
    expect(await endV2(wire, "tx-v2-max", last, true)).toEqual({ errorCode: E.INVALID_PRODUCER_ID_MAPPING, producerId: -1, producerEpoch: -1 });
  });

  test("a partition not in the transaction: INVALID_TXN_STATE (Produce v10), TRANSACTION_ABORTABLE (v11), added (v12)", async () => {
    const { wire } = await start();
    const topic = topicName("v2-verify");
    await wire.createTopic(topic, 3);
    const p = await wire.init("tx-v2-verify");
    const r10 = await wire.produce(topic, 0, batch(p, 0, ["x"], true), "tx-v2-verify", 10);
    expect([r10.errorCode, r10.errorMessage]).toEqual([E.INVALID_TXN_STATE, "Partition was not added to the transaction"]);
    expect((await wire.produce(topic, 1, batch(p, 0, ["x"], true), "tx-v2-verify", 11)).errorCode).toBe(E.TRANSACTION_ABORTABLE);
    expect((await wire.produce(topic, 2, batch(p, 0, ["x"], true), "tx-v2-verify", 12)).errorCode).toBe(NONE);
    expect((await wire.describeTransaction("tx-v2-verify")).topics).toEqual([{ topic, partitions: [2] }]);
    expect((await wire.fetch(topic, 0, 0, 0)).highWatermark).toBe(0);
    expect((await wire.fetch(topic, 1, 0, 0)).highWatermark).toBe(0);
    // TxnOffsetCommit: v3 INVALID_TXN_STATE, v4 TRANSACTION_ABORTABLE for a group never added.
    const offsets = [{ topic, partition: 0, offset: 1 }];
    expect(await wire.txnOffsetCommit("tx-v2-verify", p, "g-v3", offsets, {}, 3)).toEqual([E.INVALID_TXN_STATE]);
    expect(await wire.txnOffsetCommit("tx-v2-verify", p, "g-v4", offsets, {}, 4)).toEqual([E.TRANSACTION_ABORTABLE]);
    expect(await wire.txnOffsetCommit("tx-v2-verify", p, "g-v5", offsets, {}, 5)).toEqual([NONE]);
  });

  test("AddPartitionsToTxn v4: several transactions per request, VerifyOnly, per-transaction errors", async () => {
    const { wire } = await start();
    const topic = topicName("v2-batch");
    await wire.createTopic(topic, 2);
    const a = await wire.init("tx-batch-a");
    const b = await wire.init("tx-batch-b");
    const request = (transactions: { transactionalId: string; p: Producer; verifyOnly: boolean; partitions: number[]; name?: string }[]) =>
      wire.client.request(AddPartitionsToTxn, 4, {
        transactions: transactions.map((t) => ({
          transactionalId: t.transactionalId,
          producerId: t.p.producerId,
          producerEpoch: t.p.producerEpoch,
          verifyOnly: t.verifyOnly,
          topics: [{ name: t.name ?? topic, partitions: t.partitions }],
        })),
      });
    const codes = (r: Awaited<ReturnType<typeof request>>) =>
      Object.fromEntries(r.resultsByTransaction.map((t) => [t.transactionalId, t.topicResults.flatMap((x) => x.resultsByPartition.map((p) => p.partitionErrorCode))]));

    const added = await request([
      { transactionalId: "tx-batch-a", p: a, verifyOnly: false, partitions: [0] },
      { transactionalId: "tx-batch-b", p: { ...b, producerEpoch: b.producerEpoch + 1 }, verifyOnly: false, partitions: [0] },
    ]);
    expect(added.errorCode).toBe(NONE);
    expect(codes(added)).toEqual({ "tx-batch-a": [NONE], "tx-batch-b": [E.PRODUCER_FENCED] });

    const verified = await request([
      { transactionalId: "tx-batch-a", p: a, verifyOnly: true, partitions: [0, 1] },
      { transactionalId: "tx-batch-b", p: b, verifyOnly: true, partitions: [0] },
    ]);
    expect(codes(verified)).toEqual({ "tx-batch-a": [NONE, E.TRANSACTION_ABORTABLE], "tx-batch-b": [E.TRANSACTION_ABORTABLE] });
    // Verifying adds nothing.
    expect((await wire.describeTransaction("tx-batch-a")).topics).toEqual([{ topic, partitions: [0] }]);
    expect((await wire.describeTransaction("tx-batch-b")).transactionState).toBe("Empty");

    const unknown = await request([{ transactionalId: "tx-batch-a", p: a, verifyOnly: false, partitions: [1, 9] }]);
    expect(codes(unknown)).toEqual({ "tx-batch-a": [E.OPERATION_NOT_ATTEMPTED, E.UNKNOWN_TOPIC_OR_PARTITION] });
    const unmapped = await request([{ transactionalId: "tx-batch-none", p: a, verifyOnly: true, partitions: [0] }]);
    expect(codes(unmapped)).toEqual({ "tx-batch-none": [E.INVALID_PRODUCER_ID_MAPPING] });
  });

  test("ApiVersions: transaction.version 2 finalized; v3 omits supported features whose minimum is 0", async () => {
    const { wire } = await start();
    const v4 = await wire.client.request(ApiVersions, 4, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    const finalized = Object.fromEntries(v4.finalizedFeatures.map((f) => [f.name, [f.minVersionLevel, f.maxVersionLevel]]));
    expect(finalized).toEqual({ "metadata.version": [25, 25], "kraft.version": [1, 1], "transaction.version": [2, 2], "group.version": [1, 1] });
    expect(v4.finalizedFeaturesEpoch).toBeGreaterThan(0);
    expect(Object.fromEntries(v4.supportedFeatures.map((f) => [f.name, [f.minVersion, f.maxVersion]]))).toEqual({
      "metadata.version": [7, 25],
      "kraft.version": [0, 1],
      "transaction.version": [0, 2],
      "group.version": [0, 1],
    });
    const v3 = await wire.client.request(ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    expect(v3.supportedFeatures.map((f) => f.name)).toEqual(["metadata.version"]);
    expect(v3.finalizedFeatures).toEqual(v4.finalizedFeatures);
    const byKey = new Map(v4.apiKeys.map((k) => [k.apiKey, k.maxVersion]));
    // What a client needs before it may use transactions v2.
    expect([byKey.get(0), byKey.get(26), byKey.get(28)]).toEqual([12, 5, 5]);
  });
});

describe("@platformatic/kafka transactional producer (the KIP-890 versions it negotiates)", () => {
  test("commit and abort; a read_committed consumer sees exactly the committed records", async () => {
    const seen = new Set<string>();
    const { broker, wire } = await start(undefined, seen);
    const topic = topicName("plt-txn");
    await wire.createTopic(topic, 2);
    const producer = new PltProducer({
      clientId: "plt-txn",
      bootstrapBrokers: [broker.address],
      idempotent: true,
      transactionalId: "plt-txn-id",
      serializers: stringSerializers,
      retries: 3,
    } as any) as any;
    cleanups.push(() => producer.close());
    const want: string[] = [];
    for (let i = 0; i < 4; i++) {
      const txn = await producer.beginTransaction();
      const messages = [0, 1].map((partition) => ({ topic, partition, key: `k${i}`, value: `v${i}-p${partition}` }));
      await txn.send({ messages });
      if (i % 2 === 0) {
        await txn.commit();
        want.push(...messages.map((m) => m.value));
      } else await txn.abort();
    }
    expect([...seen].filter((s) => /^(AddPartitionsToTxn|InitProducerId|EndTxn|Produce) /.test(s)).sort()).toEqual([
      "AddPartitionsToTxn v5",
      "EndTxn v4",
      "InitProducerId v5",
      "Produce v11",
    ]);
    const kafka = new Kafka({ clientId: "plt-reader", brokers: [broker.address], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${topic}-reader`, readUncommitted: false, maxWaitTimeInMs: 100 });
    cleanups.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value!.toString());
        if (got.length >= want.length) done();
      },
    });
    await finished;
    for (const partition of [0, 1]) expect(await wire.listOffset(topic, partition, 1)).toBe(await wire.listOffset(topic, partition, 0));
    expect(got.sort()).toEqual(want.sort());
  });
});

describe("librdkafka 2.15 (@confluentinc/kafka-javascript): the versions it knows keep working", () => {
  test("commit and abort with EndTxn v1 and AddPartitionsToTxn v0; the abort is in the aborted-transaction index", async () => {
    const seen = new Set<string>();
    const { broker, wire } = await start(undefined, seen);
    const topic = topicName("rdk215-txn");
    await wire.createTopic(topic, 1);
    const transactions = [
      { values: ["a1", "a2"], commit: true },
      { values: ["b1"], commit: false },
      { values: ["c1", "c2", "c3"], commit: true },
    ];
    const r = await run(["node", join(REPO_ROOT, "test", "clients", "node", "txn-producer.cjs"), JSON.stringify({ bootstrap: broker.address, topic, transactionalId: "rdk215", transactions })], {
      cwd: REPO_ROOT,
      timeoutMs: 60_000,
    });
    const events = jsonLines(r.stdout);
    expect(events.map((e) => e.event)).toEqual(["committed", "aborted", "committed", "done"]);
    expect([...seen].filter((s) => /^(AddPartitionsToTxn|EndTxn|InitProducerId) /.test(s)).sort()).toEqual(["AddPartitionsToTxn v0", "EndTxn v1", "InitProducerId v4"]);
    const f = await wire.fetch(topic, 0, 0, 1);
    // The aborted transaction (b1 at offset 3) is what a read_committed reader is told to skip.
    expect(dataValues(f.records)).toEqual(["a1", "a2", "b1", "c1", "c2", "c3"]);
    expect(markers(f.records).map((m) => m[2])).toEqual(["COMMIT", "ABORT", "COMMIT"]);
    expect(f.abortedTransactions!.map((a) => a.firstOffset)).toEqual([3]);
  });
});
