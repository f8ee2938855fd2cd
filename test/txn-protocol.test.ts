// Transactions at the request level, against the broker embedded in this process (port 0, temp dir):
// InitProducerId with transactional ids (timeouts, epoch bumps, fencing, KIP-360 retries),
// AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn (commit, abort, retries, wrong
// outcomes, PRODUCER_FENCED vs INVALID_PRODUCER_EPOCH by version), produce checks for transactional
// batches, the last stable offset and aborted-transaction lists of read_committed fetches, ListOffsets
// under read_committed, transaction timeouts, OffsetFetch requireStable, the tooling APIs
// (DescribeTransactions, ListTransactions, DescribeProducers), and durability across restarts:
// the transaction log, completion of a transaction found in PrepareCommit, abort of a hanging
// transaction, LSO and aborted index rebuilt from the log.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { dropProducerSnapshot } from "./helpers/log-dir.ts";
import { TXN_LOG_FILE, TxnLog } from "../src/txn/txn-log.ts";
import { Logger } from "../src/log.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";
import { NONE, Wire, batch, dataValues, markers, type Producer } from "./helpers/txn.ts";

setDefaultTimeout(30_000);

const E = {
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_REQUEST: 42,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  OPERATION_NOT_ATTEMPTED: 55,
  UNSTABLE_OFFSET_COMMIT: 88,
  PRODUCER_FENCED: 90,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
};

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function newDir(): Promise<string> {
  const d = await tempDir("brook-txn-");
  cleanups.unshift(() => d.remove());
  return d.path;
}

async function start(dir: string, overrides: Record<string, string | number> = {}): Promise<{ broker: BrokerHandle; wire: Wire }> {
  const broker = await startBroker({ dataDir: dir, logLevel: "error", overrides });
  const wire = await Wire.connect(broker.address);
  cleanups.push(() => broker.close(), () => wire.close());
  return { broker, wire };
}

/** init + a topic with `partitions` partitions added to an open transaction. */
async function openTxn(wire: Wire, tid: string, topic: string, partitions = [0]): Promise<Producer> {
  const p = await wire.init(tid);
  expect(await wire.addPartitions(tid, p, [{ name: topic, partitions }])).toEqual(Object.fromEntries(partitions.map((i) => [`${topic}/${i}`, NONE])));
  return p;
}

describe("InitProducerId with a transactional id", () => {
  test("a stable producer id per transactional id, the epoch bumped by every init; timeouts are validated", async () => {
    const { wire } = await start(await newDir(), { "transaction.max.timeout.ms": 60_000 });
    const a = await wire.initProducerId("tx-a", 10_000);
    expect([a.errorCode, a.producerEpoch]).toEqual([NONE, 0]);
    const again = await wire.initProducerId("tx-a", 10_000);
    expect([again.errorCode, again.producerId, again.producerEpoch]).toEqual([NONE, a.producerId, 1]);
    const b = await wire.initProducerId("tx-b", 10_000);
    expect(b.producerId).not.toBe(a.producerId);
    expect((await wire.initProducerId("tx-a", 60_001)).errorCode).toBe(E.INVALID_TRANSACTION_TIMEOUT);
    expect((await wire.initProducerId("tx-a", 0)).errorCode).toBe(E.INVALID_TRANSACTION_TIMEOUT);
    expect((await wire.initProducerId("", 10_000)).errorCode).toBe(E.INVALID_REQUEST);
  });

  test("v3+ (KIP-360): the current epoch is bumped, a retried bump returns the same epoch, a stale one is fenced", async () => {
    const { wire } = await start(await newDir());
    const p0 = await wire.init("tx-360"); // epoch 0
    const r1 = await wire.initProducerId("tx-360", 60_000, p0, 4);
    expect([r1.errorCode, r1.producerId, r1.producerEpoch]).toEqual([NONE, p0.producerId, 1]);
    const retry = await wire.initProducerId("tx-360", 60_000, p0, 4); // the response to r1 was lost
    expect([retry.errorCode, retry.producerEpoch]).toEqual([NONE, 1]);
    const r2 = await wire.initProducerId("tx-360", 60_000, { producerId: p0.producerId, producerEpoch: 1 }, 4);
    expect(r2.producerEpoch).toBe(2);
    expect((await wire.initProducerId("tx-360", 60_000, p0, 4)).errorCode).toBe(E.PRODUCER_FENCED);
    expect((await wire.initProducerId("tx-360", 60_000, p0, 3)).errorCode).toBe(E.INVALID_PRODUCER_EPOCH);
    expect((await wire.initProducerId("tx-360", 60_000, { producerId: 999_999, producerEpoch: 0 }, 4)).errorCode).toBe(E.PRODUCER_FENCED);
  });

  test("a new producer fences the old one and aborts its open transaction", async () => {
    const { wire } = await start(await newDir());
    const topic = topicName("fence");
    await wire.createTopic(topic);
    const old = await openTxn(wire, "tx-fence", topic);
    expect((await wire.produce(topic, 0, batch(old, 0, ["zombie-1"], true), "tx-fence")).errorCode).toBe(NONE);
    // The first init fences (a bumped epoch) and aborts, which with the finalized transaction.version 2
    // bumps once more (Kafka 4.0 ends a transaction it aborts itself with the cluster's version); it asks
    // the client to retry, and the retry bumps again.
    const first = await wire.initProducerId("tx-fence");
    expect(first.errorCode).toBe(E.CONCURRENT_TRANSACTIONS);
    const fresh = await wire.init("tx-fence");
    expect(fresh).toEqual({ producerId: old.producerId, producerEpoch: old.producerEpoch + 3 });
    const f = await wire.fetch(topic, 0, 0, 1);
    expect(f.lastStableOffset).toBe(2);
    expect(markers(f.records)).toEqual([[1, old.producerId, "ABORT"]]);
    expect(f.abortedTransactions).toEqual([{ producerId: old.producerId, firstOffset: 0 }]);
    // The zombie: its produce, AddPartitionsToTxn and EndTxn all fail.
    expect((await wire.produce(topic, 0, batch(old, 1, ["zombie-2"], true), "tx-fence")).errorCode).toBe(E.INVALID_PRODUCER_EPOCH);
    expect(await wire.addPartitions("tx-fence", old, [{ name: topic, partitions: [0] }])).toEqual({ [`${topic}/0`]: E.PRODUCER_FENCED });
    expect(await wire.addPartitions("tx-fence", old, [{ name: topic, partitions: [0] }], 1)).toEqual({ [`${topic}/0`]: E.INVALID_PRODUCER_EPOCH });
    expect(await wire.endTxn("tx-fence", old, true)).toBe(E.PRODUCER_FENCED);
    expect(await wire.endTxn("tx-fence", old, true, 1)).toBe(E.INVALID_PRODUCER_EPOCH);
    expect(await wire.addOffsets("tx-fence", old, "g", 3)).toBe(E.PRODUCER_FENCED);
    expect(await wire.addOffsets("tx-fence", old, "g", 0)).toBe(E.INVALID_PRODUCER_EPOCH);
    // Even as a plain idempotent write to that partition, the old epoch is refused there.
    expect((await wire.produce(topic, 0, batch(old, 1, ["zombie-3"]))).errorCode).toBe(E.INVALID_PRODUCER_EPOCH);
    // The new producer works.
    expect(await wire.addPartitions("tx-fence", fresh, [{ name: topic, partitions: [0] }])).toEqual({ [`${topic}/0`]: NONE });
    expect((await wire.produce(topic, 0, batch(fresh, 0, ["new"], true), "tx-fence")).baseOffset).toBe(2);
    expect(await wire.endTxn("tx-fence", fresh, true)).toBe(NONE);
    const all = await wire.fetch(topic, 0, 0, 1);
    expect(dataValues(all.records)).toEqual(["zombie-1", "new"]); // the client drops zombie-1 by the aborted list
    expect(all.lastStableOffset).toBe(4);
  });
});

describe("commit and abort", () => {
  test("LSO, read_committed fetch and ListOffsets follow the transaction; markers end it", async () => {
    const { broker, wire } = await start(await newDir());
    const topic = topicName("lso");
    await wire.createTopic(topic);
    expect((await wire.produce(topic, 0, batch(null, 0, ["plain-0"]))).baseOffset).toBe(0);
    const p = await openTxn(wire, "tx-lso", topic);
    expect((await wire.produce(topic, 0, batch(p, 0, ["t1", "t2"], true), "tx-lso")).baseOffset).toBe(1);
    expect((await wire.produce(topic, 0, batch(null, 0, ["plain-3"]))).baseOffset).toBe(3);

    let rc = await wire.fetch(topic, 0, 0, 1);
    expect([rc.highWatermark, rc.lastStableOffset]).toEqual([4, 1]);
    expect(dataValues(rc.records)).toEqual(["plain-0"]); // cut at the LSO
    expect(rc.abortedTransactions).toEqual([]);
    expect((await wire.fetch(topic, 0, 1, 1)).records.length).toBe(0);
    const ru = await wire.fetch(topic, 0, 0, 0);
    expect(dataValues(ru.records)).toEqual(["plain-0", "t1", "t2", "plain-3"]);
    expect([ru.lastStableOffset, ru.abortedTransactions]).toEqual([1, null]);
    expect(await wire.listOffset(topic, 0, 1)).toBe(1);
    expect(await wire.listOffset(topic, 0, 0)).toBe(4);

    // A read_committed long poll parked on the LSO is answered by the commit.
    const parked = wire.fetch(topic, 0, 1, 1, 10_000);
    const wire2 = await Wire.connect(broker.address);
    cleanups.push(() => wire2.close());
    expect(await wire2.endTxn("tx-lso", p, true)).toBe(NONE);
    const woken = await parked;
    expect(dataValues(woken.records)).toEqual(["t1", "t2", "plain-3"]);
    rc = await wire.fetch(topic, 0, 0, 1);
    expect([rc.highWatermark, rc.lastStableOffset]).toEqual([5, 5]);
    expect(markers(rc.records)).toEqual([[4, p.producerId, "COMMIT"]]);
    expect(await wire.listOffset(topic, 0, 1)).toBe(5);
    expect((await wire.describeTransaction("tx-lso")).transactionState).toBe("CompleteCommit");
  });

  test("abort: the aborted transactions overlapping the fetched range, across several transactions", async () => {
    const { wire } = await start(await newDir());
    const topic = topicName("abort");
    await wire.createTopic(topic);
    const a = await openTxn(wire, "tx-a", topic);
    const b = await openTxn(wire, "tx-b", topic);
    expect((await wire.produce(topic, 0, batch(a, 0, ["a1"], true), "tx-a")).baseOffset).toBe(0);
    expect((await wire.produce(topic, 0, batch(b, 0, ["b1"], true), "tx-b")).baseOffset).toBe(1);
    expect((await wire.produce(topic, 0, batch(a, 1, ["a2"], true), "tx-a")).baseOffset).toBe(2);
    expect(await wire.endTxn("tx-b", b, false)).toBe(NONE); // abort marker at 3
    let rc = await wire.fetch(topic, 0, 0, 1);
    expect(rc.lastStableOffset).toBe(0); // tx-a still open
    expect(rc.records.length).toBe(0);
    expect(await wire.endTxn("tx-a", a, true)).toBe(NONE); // commit marker at 4
    rc = await wire.fetch(topic, 0, 0, 1);
    expect(rc.lastStableOffset).toBe(5);
    expect(rc.abortedTransactions).toEqual([{ producerId: b.producerId, firstOffset: 1 }]);
    expect(markers(rc.records)).toEqual([[3, b.producerId, "ABORT"], [4, a.producerId, "COMMIT"]]);
    // From offset 4 on, the aborted transaction (ended at 3) no longer overlaps.
    expect((await wire.fetch(topic, 0, 4, 1)).abortedTransactions).toEqual([]);
    expect((await wire.fetch(topic, 0, 3, 1)).abortedTransactions).toEqual([{ producerId: b.producerId, firstOffset: 1 }]);
    // A second aborted transaction of b, later.
    const b2 = await wire.init("tx-b");
    await wire.addPartitions("tx-b", b2, [{ name: topic, partitions: [0] }]);
    expect((await wire.produce(topic, 0, batch(b2, 0, ["b2"], true), "tx-b")).baseOffset).toBe(5);
    expect(await wire.endTxn("tx-b", b2, false)).toBe(NONE);
    expect((await wire.fetch(topic, 0, 0, 1)).abortedTransactions).toEqual([
      { producerId: b.producerId, firstOffset: 1 },
      { producerId: b.producerId, firstOffset: 5 },
    ]);
    expect((await wire.fetch(topic, 0, 4, 1)).abortedTransactions).toEqual([{ producerId: b.producerId, firstOffset: 5 }]);
  });

  test("EndTxn: retries answer NONE, the other outcome INVALID_TXN_STATE, no transaction INVALID_TXN_STATE", async () => {
    const { wire } = await start(await newDir());
    const topic = topicName("endtxn");
    await wire.createTopic(topic);
    const p = await wire.init("tx-end");
    expect(await wire.endTxn("tx-end", p, true)).toBe(E.INVALID_TXN_STATE); // Empty
    await wire.addPartitions("tx-end", p, [{ name: topic, partitions: [0] }]);
    expect(await wire.endTxn("tx-end", p, true)).toBe(NONE);
    expect(await wire.endTxn("tx-end", p, true)).toBe(NONE);
    expect(await wire.endTxn("tx-end", p, false)).toBe(E.INVALID_TXN_STATE);
    await wire.addPartitions("tx-end", p, [{ name: topic, partitions: [0] }]);
    expect(await wire.endTxn("tx-end", p, false)).toBe(NONE);
    expect(await wire.endTxn("tx-end", p, false)).toBe(NONE);
    expect(await wire.endTxn("tx-end", p, true)).toBe(E.INVALID_TXN_STATE);
    expect(await wire.endTxn("tx-end", { ...p, producerId: p.producerId + 1000 }, true)).toBe(E.INVALID_PRODUCER_ID_MAPPING);
    expect(await wire.endTxn("tx-unknown", p, true)).toBe(E.INVALID_PRODUCER_ID_MAPPING);
  });

  test("produce checks: partition not in the transaction, non-transactional write during one, unknown partitions", async () => {
    const { wire } = await start(await newDir());
    const topic = topicName("checks");
    await wire.createTopic(topic, 2);
    const p = await openTxn(wire, "tx-chk", topic, [0]);
    expect((await wire.produce(topic, 1, batch(p, 0, ["x"], true), "tx-chk")).errorCode).toBe(E.INVALID_TXN_STATE);
    expect((await wire.produce(topic, 0, batch(p, 0, ["x"], true), null)).errorCode).toBe(E.INVALID_REQUEST);
    expect((await wire.produce(topic, 0, batch(p, 0, ["ok"], true), "tx-chk")).errorCode).toBe(NONE);
    expect((await wire.produce(topic, 0, batch(p, 1, ["plain"], false), "tx-chk")).errorCode).toBe(E.INVALID_TXN_STATE);
    expect(await wire.addPartitions("tx-chk", p, [{ name: topic, partitions: [1, 7] }, { name: "nope", partitions: [0] }])).toEqual({
      [`${topic}/1`]: E.OPERATION_NOT_ATTEMPTED,
      [`${topic}/7`]: E.UNKNOWN_TOPIC_OR_PARTITION,
      "nope/0": E.UNKNOWN_TOPIC_OR_PARTITION,
    });
    expect(await wire.addPartitions("tx-chk", { ...p, producerId: 424242 }, [{ name: topic, partitions: [1] }])).toEqual({ [`${topic}/1`]: E.INVALID_PRODUCER_ID_MAPPING });
    // After the commit the producer is not in a transaction: a transactional write is refused.
    expect(await wire.endTxn("tx-chk", p, true)).toBe(NONE);
    expect((await wire.produce(topic, 0, batch(p, 1, ["late"], true), "tx-chk")).errorCode).toBe(E.INVALID_TXN_STATE);
  });

  test("a transaction spanning partitions and topics gets a marker in each", async () => {
    const { wire } = await start(await newDir());
    const t1 = topicName("span-a");
    const t2 = topicName("span-b");
    await wire.createTopic(t1, 3);
    await wire.createTopic(t2);
    const p = await wire.init("tx-span");
    await wire.addPartitions("tx-span", p, [{ name: t1, partitions: [0, 2] }, { name: t2, partitions: [0] }]);
    for (const [t, i] of [[t1, 0], [t1, 2], [t2, 0]] as const) expect((await wire.produce(t, i, batch(p, 0, [`${t}-${i}`], true), "tx-span")).errorCode).toBe(NONE);
    expect(await wire.endTxn("tx-span", p, false)).toBe(NONE);
    for (const [t, i] of [[t1, 0], [t1, 2], [t2, 0]] as const) {
      const f = await wire.fetch(t, i, 0, 1);
      expect(markers(f.records)).toEqual([[1, p.producerId, "ABORT"]]);
      expect(f.abortedTransactions).toEqual([{ producerId: p.producerId, firstOffset: 0 }]);
    }
    expect((await wire.fetch(t1, 1, 0, 1)).highWatermark).toBe(0);
  });
});

describe("timeouts", () => {
  test("an expired transaction is fenced and aborted by the broker's timer", async () => {
    const { broker, wire } = await start(await newDir(), { "transaction.abort.timed.out.transaction.cleanup.interval.ms": 50 });
    const topic = topicName("timeout");
    await wire.createTopic(topic);
    const p = await wire.init("tx-slow", 300);
    await wire.addPartitions("tx-slow", p, [{ name: topic, partitions: [0] }]);
    expect((await wire.produce(topic, 0, batch(p, 0, ["slow"], true), "tx-slow")).errorCode).toBe(NONE);
    // A read_committed long poll waits for the LSO to move: the timer's abort marker answers it.
    const parked = await wire.fetch(topic, 0, 1, 1, 20_000);
    expect(parked.lastStableOffset).toBe(2);
    expect(markers((await wire.fetch(topic, 0, 0, 1)).records)).toEqual([[1, p.producerId, "ABORT"]]);
    const d = await wire.describeTransaction("tx-slow");
    // Fenced (+1), then aborted with the transactions-v2 bump of the finalized version (+1).
    expect([d.transactionState, d.producerEpoch]).toEqual(["CompleteAbort", p.producerEpoch + 2]);
    expect(await wire.endTxn("tx-slow", p, true)).toBe(E.PRODUCER_FENCED);
    expect(broker.broker.txn.transaction("tx-slow")?.state).toBe("CompleteAbort");
  });

  test("runTimers aborts only transactions past their timeout", async () => {
    const { broker, wire } = await start(await newDir());
    const topic = topicName("timers");
    await wire.createTopic(topic);
    const short = await openTxn(wire, "tx-short", topic);
    await wire.produce(topic, 0, batch(short, 0, ["s"], true), "tx-short");
    const long = await wire.init("tx-long", 600_000);
    await wire.addPartitions("tx-long", long, [{ name: topic, partitions: [0] }]);
    broker.broker.txn.runTimers(Date.now() + 61_000); // past tx-short's 60 s, not tx-long's 10 min
    expect((await wire.describeTransaction("tx-short")).transactionState).toBe("CompleteAbort");
    expect((await wire.describeTransaction("tx-long")).transactionState).toBe("Ongoing");
  });
});

describe("transactional offsets", () => {
  test("TxnOffsetCommit offsets appear in the group only when the transaction commits", async () => {
    const { wire } = await start(await newDir());
    const topic = topicName("offsets");
    await wire.createTopic(topic);
    const group = "g-txn";
    const p = await wire.init("tx-off");
    // Offsets of a group the transaction did not add are refused.
    expect(await wire.txnOffsetCommit("tx-off", p, group, [{ topic, partition: 0, offset: 5 }])).toEqual([E.INVALID_TXN_STATE]);
    expect(await wire.addOffsets("tx-off", p, group)).toBe(NONE);
    expect(await wire.txnOffsetCommit("tx-off", p, group, [{ topic, partition: 0, offset: 5 }, { topic: "nope", partition: 0, offset: 1 }])).toEqual([
      NONE,
      E.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    expect(await wire.txnOffsetCommit("tx-off", { ...p, producerEpoch: p.producerEpoch + 1 }, group, [{ topic, partition: 0, offset: 6 }])).toEqual([E.INVALID_PRODUCER_EPOCH]);
    expect(await wire.txnOffsetCommit("tx-off", p, group, [{ topic, partition: 0, offset: 5 }], { generationId: 3, memberId: "nobody" })).toEqual([25]); // UNKNOWN_MEMBER_ID
    expect(await wire.committed(group, topic, 0)).toEqual([-1, NONE]);
    expect(await wire.committed(group, topic, 0, true)).toEqual([-1, E.UNSTABLE_OFFSET_COMMIT]);
    expect(await wire.endTxn("tx-off", p, false)).toBe(NONE);
    expect(await wire.committed(group, topic, 0, true)).toEqual([-1, NONE]);

    expect(await wire.addOffsets("tx-off", p, group)).toBe(NONE);
    expect(await wire.txnOffsetCommit("tx-off", p, group, [{ topic, partition: 0, offset: 7 }], {}, 0)).toEqual([NONE]);
    expect(await wire.endTxn("tx-off", p, true)).toBe(NONE);
    expect(await wire.committed(group, topic, 0, true)).toEqual([7, NONE]);
  });
});

describe("tooling APIs", () => {
  test("DescribeTransactions, ListTransactions, DescribeProducers", async () => {
    const { wire } = await start(await newDir());
    const topic = topicName("tools");
    await wire.createTopic(topic, 2);
    const p = await openTxn(wire, "tx-tool", topic, [0, 1]);
    const q = await wire.init("tx-idle");
    await wire.produce(topic, 1, batch(p, 0, ["x", "y"], true), "tx-tool");
    const d = await wire.describeTransaction("tx-tool");
    expect(d).toMatchObject({
      errorCode: NONE,
      transactionalId: "tx-tool",
      transactionState: "Ongoing",
      transactionTimeoutMs: 60_000,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      topics: [{ topic, partitions: [0, 1] }],
    });
    expect(d.transactionStartTimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect((await wire.describeTransaction("nope")).errorCode).toBe(E.TRANSACTIONAL_ID_NOT_FOUND);
    const all = await wire.listTransactions();
    expect(all.transactionStates.map((t) => [t.transactionalId, t.transactionState]).sort()).toEqual([["tx-idle", "Empty"], ["tx-tool", "Ongoing"]]);
    const ongoing = await wire.listTransactions(["Ongoing", "Bogus"]);
    expect(ongoing.transactionStates.map((t) => t.transactionalId)).toEqual(["tx-tool"]);
    expect(ongoing.unknownStateFilters).toEqual(["Bogus"]);
    expect((await wire.listTransactions([], [q.producerId])).transactionStates.map((t) => t.transactionalId)).toEqual(["tx-idle"]);
    // v1's duration filter, as Kafka applies it (now - start time; an Empty id has start time -1).
    expect((await wire.listTransactions(["Ongoing"], [], 3_600_000)).transactionStates).toEqual([]);
    expect((await wire.listTransactions(["Ongoing"], [], 0)).transactionStates.map((t) => t.transactionalId)).toEqual(["tx-tool"]);
    const prod = await wire.describeProducers(topic, 1);
    expect(prod.activeProducers).toEqual([
      { producerId: p.producerId, producerEpoch: p.producerEpoch, lastSequence: 1, lastTimestamp: expect.any(Number), coordinatorEpoch: -1, currentTxnStartOffset: 0 },
    ]);
    expect(await wire.endTxn("tx-tool", p, true)).toBe(NONE);
    expect((await wire.describeProducers(topic, 1)).activeProducers[0]).toMatchObject({ currentTxnStartOffset: -1, coordinatorEpoch: 0 });
  });
});

describe("durability", () => {
  test("epochs, open transactions and staged offsets survive a clean restart; the transaction then commits", async () => {
    const dir = await newDir();
    const topic = "dur-clean";
    let p: Producer;
    {
      const { broker, wire } = await start(dir);
      await wire.createTopic(topic);
      p = await openTxn(wire, "tx-dur", topic);
      await wire.addOffsets("tx-dur", p, "g-dur");
      await wire.txnOffsetCommit("tx-dur", p, "g-dur", [{ topic, partition: 0, offset: 1 }]);
      await wire.produce(topic, 0, batch(p, 0, ["d1"], true), "tx-dur");
      wire.close();
      await broker.close();
    }
    const { wire } = await start(dir);
    expect((await wire.describeTransaction("tx-dur")).transactionState).toBe("Ongoing");
    expect((await wire.fetch(topic, 0, 0, 1)).lastStableOffset).toBe(0);
    expect((await wire.produce(topic, 0, batch(p, 1, ["d2"], true), "tx-dur")).baseOffset).toBe(1);
    expect(await wire.endTxn("tx-dur", p, true)).toBe(NONE);
    const f = await wire.fetch(topic, 0, 0, 1);
    expect([f.lastStableOffset, dataValues(f.records)]).toEqual([3, ["d1", "d2"]]);
    expect(await wire.committed("g-dur", topic, 0)).toEqual([1, NONE]);
    // The epoch was not forgotten: a new init bumps it past the one in use.
    expect(await wire.init("tx-dur")).toEqual({ producerId: p.producerId, producerEpoch: p.producerEpoch + 1 });
  });

  test("a transaction found in PrepareCommit is completed on start: markers and offsets", async () => {
    const dir = await newDir();
    const topic = "dur-prepare";
    let p: Producer;
    {
      const { broker, wire } = await start(dir);
      await wire.createTopic(topic, 2);
      p = await openTxn(wire, "tx-prep", topic, [0, 1]);
      await wire.addOffsets("tx-prep", p, "g-prep");
      await wire.txnOffsetCommit("tx-prep", p, "g-prep", [{ topic, partition: 1, offset: 9 }]);
      await wire.produce(topic, 0, batch(p, 0, ["p0"], true), "tx-prep");
      await wire.produce(topic, 1, batch(p, 0, ["p1"], true), "tx-prep");
      wire.close();
      await broker.close();
    }
    // What a crash right after the PrepareCommit record would leave: the decision, no markers.
    const { txnLog, state } = TxnLog.open(dir, new Logger("silent"));
    const rec = state.find((s) => s.transactionalId === "tx-prep")!;
    txnLog.append({ ...rec, state: "PrepareCommit" }, true);
    txnLog.close();
    const { wire } = await start(dir);
    expect((await wire.describeTransaction("tx-prep")).transactionState).toBe("CompleteCommit");
    for (const i of [0, 1]) {
      const f = await wire.fetch(topic, i, 0, 1);
      expect([f.lastStableOffset, dataValues(f.records), markers(f.records)]).toEqual([2, [`p${i}`], [[1, p.producerId, "COMMIT"]]]);
    }
    expect(await wire.committed("g-prep", topic, 1)).toEqual([9, NONE]);
  });

  test("a hanging transaction (data the coordinator does not know about) is aborted on start", async () => {
    const dir = await newDir();
    const topic = "dur-hanging";
    let p: Producer;
    {
      const { broker, wire } = await start(dir);
      await wire.createTopic(topic);
      p = await openTxn(wire, "tx-hang", topic);
      await wire.produce(topic, 0, batch(p, 0, ["h"], true), "tx-hang");
      await wire.produce(topic, 0, batch(null, 0, ["after"]));
      wire.close();
      await broker.close();
    }
    writeFileSync(join(dir, TXN_LOG_FILE), ""); // the coordinator's state is gone (emptied: a missing log stops the start)
    const { wire } = await start(dir);
    const f = await wire.fetch(topic, 0, 0, 1);
    expect(f.lastStableOffset).toBe(3);
    expect(markers(f.records)).toEqual([[2, p.producerId, "ABORT"]]);
    expect(f.abortedTransactions).toEqual([{ producerId: p.producerId, firstOffset: 0 }]);
  });

  test("LSO and aborted index are rebuilt from the log alone (no snapshot)", async () => {
    const dir = await newDir();
    const topic = "dur-rebuild";
    let a: Producer, b: Producer;
    {
      const { broker, wire } = await start(dir);
      await wire.createTopic(topic);
      a = await openTxn(wire, "tx-ra", topic);
      await wire.produce(topic, 0, batch(a, 0, ["a"], true), "tx-ra");
      await wire.endTxn("tx-ra", a, false); // aborted: 0..1
      b = await openTxn(wire, "tx-rb", topic);
      await wire.produce(topic, 0, batch(b, 0, ["b"], true), "tx-rb"); // open at 2
      wire.close();
      await broker.close();
    }
    dropProducerSnapshot(dir, `${topic}-0`);
    const { wire } = await start(dir);
    let f = await wire.fetch(topic, 0, 0, 1);
    expect([f.highWatermark, f.lastStableOffset, f.abortedTransactions]).toEqual([3, 2, [{ producerId: a.producerId, firstOffset: 0 }]]);
    expect(await wire.listOffset(topic, 0, 1)).toBe(2);
    expect(await wire.endTxn("tx-rb", b, true)).toBe(NONE);
    f = await wire.fetch(topic, 0, 0, 1);
    expect([f.lastStableOffset, dataValues(f.records)]).toEqual([4, ["a", "b"]]);
  });
});
