// A full disk, on a small filesystem this test mounts (a 16 MiB tmpfs; the tests run as root): the broker
// runs through its CLI with log.dirs there and brook.log.dir.min.free.bytes = 2 MiB.
//  - produce past the reserve gets KAFKA_STORAGE_ERROR (56), logged once; the process stays up (no
//    SIGBUS: appends are writes that fail, not stores into a mapping);
//  - fetch, metadata, list offsets and offset commits (which may use the reserve) keep working;
//  - the volume filled to the last byte by something else: commits get NOT_COORDINATOR, still no crash;
//  - producing resumes by itself once space is back: an operator removing a file (a stock producer
//    that was retrying all along gets every message delivered), DeleteRecords, retention, a deleted
//    topic; the topic catalogue cannot be written on a volume full to the last byte (CreateTopics says so);
//  - nothing acknowledged is lost: a restart on the same volume serves every acknowledged record.
// Without the permission to mount (not root), the test runs on the normal disk with the reserve set just
// below its free space, and skips what needs a volume it may fill (ENOSPC, the operator's file).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { CreateTopics } from "../protocol/apis/19-create-topics.ts";
import { DeleteRecords } from "../protocol/apis/21-delete-records.ts";
import { DeleteTopics } from "../protocol/apis/20-delete-topics.ts";
import { IncrementalAlterConfigs } from "../protocol/apis/44-incremental-alter-configs.ts";
import { ListOffsets } from "../protocol/apis/02-list-offsets.ts";
import { Metadata } from "../protocol/apis/03-metadata.ts";
import { OffsetCommit } from "../protocol/apis/08-offset-commit.ts";
import { OffsetFetch } from "../protocol/apis/09-offset-fetch.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { encodeBatch } from "../protocol/records/records.ts";
import { KafkaClient } from "../src/client.ts";
import { startBroker } from "../src/index.ts";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { confluentConsume, requireTools, spawnPyScript, type Delivery } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { readLines, run } from "./helpers/run.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

const VOLUME = 16 << 20;
const RESERVE = 2 << 20;
const BATCH_VALUE = 60_000;

let dir: TempDir;
let mounted = false;
let reserve = RESERVE;
let broker: SpawnedBroker;
let client: KafkaClient;
/** every record produced and acknowledged to "keep", in offset order */
const keepAcked: string[] = [];

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-disk-full-");
  mounted = (await run(["mount", "-t", "tmpfs", "-o", `size=${VOLUME}`, "tmpfs", dir.path])).exitCode === 0;
  if (!mounted) {
    const s = fs.statfsSync(dir.path);
    reserve = Math.max(0, s.bavail * s.bsize - 24 * (1 << 20));
  }
  broker = await start();
  client = await KafkaClient.connect(broker.address);
  const res = await client.request(CreateTopics, 5, {
    topics: ["keep", "fill"].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: "segment.bytes", value: String(256 << 10) }] })),
    timeoutMs: 5000,
  });
  expect(res.topics.map((t) => t.errorCode)).toEqual([0, 0]);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (mounted) await run(["umount", "-l", dir.path]);
  await dir?.remove();
});

function start(): Promise<SpawnedBroker> {
  return spawnBroker({
    dataDir: dir.path,
    overrides: { "brook.log.dir.min.free.bytes": reserve, "auto.create.topics.enable": false, "log.retention.check.interval.ms": 100 },
    env: { BROOK_LOG_LEVEL: "debug" }, // refused produce requests are logged at debug level
  });
}

const free = () => {
  const s = fs.statfsSync(dir.path);
  return s.bavail * s.bsize;
};
const logLines = (re: RegExp) => broker.output().stderr.split("\n").filter((l) => re.test(l));

/** A raw Produce of one batch; the partition's answer. */
async function produce(topic: string, values: string[]) {
  const records = encodeBatch({ records: values.map((v) => ({ value: v })) });
  const res = await client.request(Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  return res.responses[0]!.partitionResponses[0]!;
}

/** Produces big batches to "fill" until the broker refuses; returns the refusal. */
async function fillUntilRefused() {
  for (let i = 0; i < 1000; i++) {
    const r = await produce("fill", [`fill-${i}-`.padEnd(BATCH_VALUE, "f")]);
    if (r.errorCode !== ErrorCode.NONE) return r;
  }
  throw new Error(`still accepting after 1000 batches; ${free()} bytes free`);
}

async function keep(values: string[]): Promise<number> {
  const r = await produce("keep", values);
  if (r.errorCode === ErrorCode.NONE) keepAcked.push(...values);
  return r.errorCode;
}

async function highWatermark(topic: string): Promise<number> {
  const res = await client.request(ListOffsets, 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
  });
  return Number(res.topics[0]!.partitions[0]!.offset);
}

async function commit(offset: number): Promise<number> {
  const res = await client.request(OffsetCommit, 8, {
    groupId: "disk-full-group",
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    topics: [{ name: "keep", partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: "" }] }],
  });
  return res.topics[0]!.partitions[0]!.errorCode;
}

/** Produce to "keep" as soon as the broker takes it again (bounded). */
async function keepWhenSpaceIsBack(value: string): Promise<void> {
  let code = -1;
  await until("produce to be accepted again", async () => (code = await keep([value])) === ErrorCode.NONE, 20_000, () => ({ code, free: free() }));
}

describe("a full log dir", () => {
  test("produce past the reserve gets KAFKA_STORAGE_ERROR, logged once; fetch, metadata and commits go on", async () => {
    for (let i = 0; i < 5; i++) expect(await keep([`before-${i}`])).toBe(ErrorCode.NONE);
    if (mounted) fs.writeFileSync(path.join(dir.path, "ballast-1"), new Uint8Array(Math.max(0, free() - reserve - (3 << 20))));
    const refused = await fillUntilRefused();
    expect(refused.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(refused.errorMessage).toContain("is full");
    expect(await keep(["refused"])).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(logLines(/WARN log dir .* is full/)).toHaveLength(1); // once, not per request

    // Everything else still works.
    const meta = await client.request(Metadata, 9, { topics: [{ name: "keep" }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(meta.topics[0]!.errorCode).toBe(0);
    expect(await highWatermark("keep")).toBe(5);
    expect(await commit(3)).toBe(ErrorCode.NONE); // the offsets log writes into the reserve
    const consumed = await confluentConsume({ bootstrap: broker.address, topic: "keep" });
    expect(consumed.lines.map((m) => m.value)).toEqual(keepAcked);
    const fill = await confluentConsume({ bootstrap: broker.address, topic: "fill" });
    expect(fill.lines.length).toBe(await highWatermark("fill"));
    expect(fill.lines.every((m, i) => m.value!.startsWith(`fill-${i}-`))).toBe(true);
    expect(broker.proc.exitCode).toBeNull();
  });

  test("a volume filled to the last byte by something else: commits get NOT_COORDINATOR, nothing crashes", async () => {
    if (!mounted) return void console.warn("disk-full: no small volume mounted; the ENOSPC case needs one");
    const ballast = path.join(dir.path, "ballast-2");
    const fd = fs.openSync(ballast, "w");
    try {
      const chunk = new Uint8Array(64 << 10);
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      expect((e as { code?: string }).code).toBe("ENOSPC");
    } finally {
      fs.closeSync(fd);
    }
    // The offsets log's last page may still have room for a few commits; then it needs a new one.
    let code: number = ErrorCode.NONE;
    for (let i = 0; i < 200 && code === ErrorCode.NONE; i++) code = await commit(4);
    expect(code).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await keep(["no-space"])).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await highWatermark("keep")).toBe(5);
    // The topic catalogue cannot be written either: CreateTopics says so and leaves nothing behind.
    const created = await client.request(CreateTopics, 5, {
      topics: [{ name: "no-room", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    expect(created.topics[0]!.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(fs.existsSync(path.join(dir.path, "no-room-0"))).toBe(false);
    fs.rmSync(ballast);
    expect(await commit(4)).toBe(ErrorCode.NONE);
    const fetched = await client.request(OffsetFetch, 5, { groupId: "disk-full-group", topics: [{ name: "keep", partitionIndexes: [0] }], requireStable: false });
    expect(Number(fetched.topics[0]!.partitions[0]!.committedOffset)).toBe(4);
    expect(broker.proc.exitCode).toBeNull();
  });

  test("an operator frees space: a stock producer retrying all along gets every message delivered", async () => {
    if (!mounted) return void console.warn("disk-full: no small volume mounted; skipping the operator's file");
    const values = Array.from({ length: 30 }, (_, i) => `retried-${i}`);
    const producer = spawnPyScript("confluent_produce.py", {
      bootstrap: broker.address,
      topic: "keep",
      config: { "client.id": "disk-full-producer", "message.timeout.ms": 60_000, "retry.backoff.ms": 100, "linger.ms": 0 },
      messages: values.map((value) => ({ value, partition: 0 })),
      flush_timeout: 90,
    });
    const deliveries: Delivery[] = [];
    const reading = (async () => {
      for await (const line of readLines(producer.stdout)) {
        const d = JSON.parse(line);
        if (!("summary" in d)) deliveries.push(d);
      }
    })();
    // The producer's requests are refused while the volume is full (it retries them): wait for that.
    await until("the stock producer to be refused", () => logLines(/client disk-full-producer\) refused/).length > 0, 20_000);
    expect(deliveries).toEqual([]);
    expect(await highWatermark("keep")).toBe(5);
    fs.rmSync(path.join(dir.path, "ballast-1"));
    expect(await producer.exited).toBe(0);
    await reading;
    expect(deliveries.map((d) => d.error)).toEqual(values.map(() => null));
    expect(deliveries.map((d) => d.value)).toEqual(values);
    keepAcked.push(...values);
    expect(deliveries.map((d) => d.offset)).toEqual(values.map((_, i) => 5 + i));
    await until("the dir to be marked free again", () => logLines(/appends resume/).length >= 1, 10_000);
  });

  test("DeleteRecords frees space and appends resume", async () => {
    const refused = await fillUntilRefused();
    expect(refused.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    const end = await highWatermark("fill");
    const res = await client.request(DeleteRecords, 2, { topics: [{ name: "fill", partitions: [{ partitionIndex: 0, offset: end }] }], timeoutMs: 5000 });
    expect(res.topics[0]!.partitions[0]!).toMatchObject({ errorCode: 0, lowWatermark: end });
    await keepWhenSpaceIsBack("after-delete-records");
  });

  test("retention frees space and appends resume", async () => {
    const refused = await fillUntilRefused();
    expect(refused.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    const res = await client.request(IncrementalAlterConfigs, 0, {
      resources: [{ resourceType: 2, resourceName: "fill", configs: [{ name: "retention.bytes", configOperation: 0, value: "0" }] }],
      validateOnly: false,
    });
    expect(res.responses[0]!.errorCode).toBe(0);
    await keepWhenSpaceIsBack("after-retention");
    // Back to keeping everything, or the next test's filling races retention (every 100 ms here).
    const reset = await client.request(IncrementalAlterConfigs, 0, {
      resources: [{ resourceType: 2, resourceName: "fill", configs: [{ name: "retention.bytes", configOperation: 1, value: null }] }],
      validateOnly: false,
    });
    expect(reset.responses[0]!.errorCode).toBe(0);
  });

  test("a deleted topic frees space and appends resume", async () => {
    const refused = await fillUntilRefused();
    expect(refused.errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    const res = await client.request(DeleteTopics, 4, { topicNames: ["fill"], timeoutMs: 5000 });
    expect(res.responses[0]!.errorCode).toBe(0);
    await keepWhenSpaceIsBack("after-delete-topic");
    expect(broker.proc.exitCode).toBeNull();
  });

  test("nothing acknowledged is lost: a restart on the same volume serves every acknowledged record", async () => {
    client.close();
    expect(await broker.stop()).toBe(0);
    broker = await start();
    client = await KafkaClient.connect(broker.address);
    const consumed = await confluentConsume({ bootstrap: broker.address, topic: "keep" });
    expect(consumed.lines.map((m) => m.value)).toEqual(keepAcked);
    expect(consumed.lines.map((m) => m.offset)).toEqual(keepAcked.map((_, i) => i));
  });
});

describe("the state embedders and metrics read", () => {
  test("TopicStore.logDirStates() says a dir is full while it is, and clears by itself once space is back", async () => {
    const d = await tempDir("brook-disk-state-");
    const own = (await run(["mount", "-t", "tmpfs", "-o", `size=${8 << 20}`, "tmpfs", d.path])).exitCode === 0;
    try {
      const space = fs.statfsSync(d.path);
      const freeHere = space.bavail * space.bsize;
      const reserveHere = own ? 6 << 20 : freeHere - (4 << 20);
      await using b = await startBroker({ dataDir: d.path, logLevel: "silent", overrides: { "brook.log.dir.min.free.bytes": reserveHere, "auto.create.topics.enable": false } });
      const state = () => b.broker.topics.logDirStates()[0]!;
      expect(state()).toMatchObject({ path: d.path, diskFull: false, reason: null, minFreeBytes: reserveHere });
      await using c = await KafkaClient.connect(b.address);
      await c.request(CreateTopics, 5, { topics: [{ name: "t", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 });
      let code = 0;
      for (let i = 0; i < 200 && code === 0; i++) {
        const records = encodeBatch({ records: [{ value: "x".repeat(BATCH_VALUE) }] });
        const res = await c.request(Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: "t", partitionData: [{ index: 0, records }] }] });
        code = res.responses[0]!.partitionResponses[0]!.errorCode;
      }
      expect(code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect(state().diskFull).toBe(true);
      expect(state().reason).toContain("below the reserve");
      expect(state().freeBytes).toBeLessThan(reserveHere + BATCH_VALUE * 2);
      await c.request(DeleteTopics, 4, { topicNames: ["t"], timeoutMs: 5000 });
      // Nobody produces: the dir's own recheck (every second while full) notices the freed space.
      await until("the dir to be free again", () => !state().diskFull, 10_000, state);
      expect(state().reason).toBeNull();
    } finally {
      if (own) await run(["umount", "-l", d.path]);
      await d.remove();
    }
  });
});
