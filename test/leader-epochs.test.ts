// The leader-epoch history of a partition (src/log/leader-epochs.ts), with histories one broker only
// builds over re-creations and that replication will build for real: Kafka's endOffsetFor answers, its
// assign rules, trimming from the start and the end, and the checkpoint file in Kafka's text format.
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from "../src/log/leader-epochs.ts";
import { PartitionLog } from "../src/log/partition-log.ts";
import { recordBatch } from "./helpers/wire.ts";
import { decodeAll } from "./helpers/txn.ts";
import { tempDir } from "./helpers/tmp.ts";

test("endOffsetFor: the log end for the latest epoch, the next epoch's start otherwise, -1/-1 when unknown", async () => {
  await using d = await tempDir("brook-epochs-");
  const h = LeaderEpochCache.load(d.path);
  expect(h.endOffsetFor(0, 10)).toEqual([-1, -1]); // no history
  h.assign(2, 5);
  h.assign(4, 20);
  h.assign(7, 42);
  expect(h.endOffsetFor(7, 50)).toEqual([7, 50]); // latest: the log end
  expect(h.endOffsetFor(4, 50)).toEqual([4, 42]);
  expect(h.endOffsetFor(5, 50)).toEqual([4, 42]); // never led: the epoch before it, ending where 7 began
  expect(h.endOffsetFor(1, 50)).toEqual([1, 5]); // below the history: the first known start
  expect(h.endOffsetFor(8, 50)).toEqual([-1, -1]); // newer than anything known
  expect(h.endOffsetFor(-1, 50)).toEqual([-1, -1]);
  expect([h.epochForOffset(4), h.epochForOffset(5), h.epochForOffset(41), h.epochForOffset(42)]).toEqual([-1, 2, 4, 7]);
});

test("assign: re-assigning the latest epoch changes nothing; an older or overlapping entry replaces what it contradicts", async () => {
  await using d = await tempDir("brook-epochs-");
  const h = LeaderEpochCache.load(d.path);
  h.assign(1, 0);
  h.assign(1, 10); // same epoch, later start: no change
  h.assign(3, 10);
  h.assign(5, 30);
  expect(h.all).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 5, startOffset: 30 }]);
  h.assign(4, 20); // a truncation: epoch 5 (newer) goes
  expect(h.all).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 4, startOffset: 20 }]);
  h.assign(6, 15); // starts before epoch 4 did: 4 goes
  expect(h.all).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 6, startOffset: 15 }]);
});

test("trimmed with the log start offset and after a lost tail; persisted in Kafka's checkpoint format", async () => {
  await using d = await tempDir("brook-epochs-");
  const h = LeaderEpochCache.load(d.path);
  h.assign(0, 0);
  h.assign(2, 100);
  h.assign(3, 200);
  h.truncateFromStart(150); // epoch 2 now starts at the new log start; epoch 0 is gone
  expect(h.all).toEqual([{ epoch: 2, startOffset: 150 }, { epoch: 3, startOffset: 200 }]);
  expect(readFileSync(join(d.path, LEADER_EPOCH_CHECKPOINT), "utf8")).toBe("0\n2\n2 150\n3 200\n");
  h.truncateFromEnd(180);
  expect(LeaderEpochCache.load(d.path).all).toEqual([{ epoch: 2, startOffset: 150 }]);
  writeFileSync(join(d.path, LEADER_EPOCH_CHECKPOINT), "garbage");
  expect(LeaderEpochCache.load(d.path).all).toEqual([]);
});

test("a partition log stamps appends with its leader epoch and records where each epoch began", async () => {
  await using d = await tempDir("brook-epochs-");
  const dir = join(d.path, "t-0");
  const log = PartitionLog.open(dir);
  log.becomeLeader(3);
  log.append(recordBatch([{ key: null, value: "a" }, { key: null, value: "b" }]));
  log.becomeLeader(5); // a later leadership (replication one day; here: nothing else moves it)
  log.append(recordBatch([{ key: null, value: "c" }]));
  expect(decodeAll(log.read(0, 1 << 20)!).map((b) => b.partitionLeaderEpoch)).toEqual([3, 5]);
  expect(log.epochHistory.all).toEqual([{ epoch: 3, startOffset: 0 }, { epoch: 5, startOffset: 2 }]);
  log.close();
  // Reopened without its history (as written by a Brook before leader epochs, or lost with the machine):
  // the first batch's stamp tells where the log starts.
  writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "");
  const again = PartitionLog.open(dir);
  again.becomeLeader(5);
  expect(again.epochHistory.all).toEqual([{ epoch: 3, startOffset: 0 }, { epoch: 5, startOffset: 3 }]);
  again.close();
});
