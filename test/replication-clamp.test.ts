// brook.replication.factor.clamp: production topic definitions (replication factor 3, often with
// min.insync.replicas=2) work against one broker. With the clamp on (the default) kafkajs's admin and
// librdkafka's AdminClient create such topics, Metadata lists three replicas (all in sync) so tools show
// the factor they asked for, acks=all producers succeed, and the broker warns once per topic. With it
// off, Kafka's refusal (INVALID_REPLICATION_FACTOR) is back, and a topic created earlier under the
// clamp shows its absent replicas as out of sync and offline.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { Metadata } from "../protocol/apis/03-metadata.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { encodeBatch } from "../protocol/records/records.ts";
import { startBroker } from "../src/index.ts";
import { KafkaClient } from "../src/client.ts";
import { CLI, REPO_ROOT, spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { kcatConsume, kcatMetadata, pyScript, requireTools } from "./helpers/clients.ts";
import { run } from "./helpers/run.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(90_000);

const kafkaFor = (address: string) => new Kafka({ clientId: "rf-clamp", brokers: [address], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } });

/** Every kafkajs error type in an error and what it wraps (aggregate errors, retriers' causes). */
function errorTypes(e: unknown): string[] {
  const err = e as { type?: string; errors?: unknown[]; cause?: unknown };
  return [...(err?.type ? [err.type] : []), ...(err?.errors ?? []).flatMap(errorTypes), ...(err?.cause ? errorTypes(err.cause) : [])];
}

interface AdminResult {
  created?: string;
  error?: { code: number; name: string } | null;
  metadata?: Record<string, Record<string, { leader: number; replicas: number[]; isrs: number[] }>>;
}

async function confluentCreate(address: string, topics: object[]): Promise<AdminResult[]> {
  return (await pyScript<AdminResult>("confluent_admin.py", { bootstrap: address, topics })).lines;
}

describe("clamp on (the default)", () => {
  let dir: TempDir;
  let broker: SpawnedBroker;

  beforeAll(async () => {
    await requireTools();
    dir = await tempDir("brook-rf-clamp-");
    broker = await spawnBroker({ dataDir: dir.path, env: { BROOK_LOG_LEVEL: "info" } });
  });
  afterAll(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  test("kafkajs admin creates a topic with replication factor 3; Metadata lists 3 in-sync replicas; acks=all with min.insync.replicas=2 works", async () => {
    const admin = kafkaFor(broker.address).admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic: "prod-like", numPartitions: 3, replicationFactor: 3, configEntries: [{ name: "min.insync.replicas", value: "2" }] }],
      });
      expect(created).toBe(true);
      const md = await admin.fetchTopicMetadata({ topics: ["prod-like"] });
      expect(md.topics[0]!.partitions.map((p) => [p.partitionId, p.leader, [...p.replicas].sort(), [...p.isr].sort()]).sort()).toEqual([
        [0, 1, [1, 2, 3], [1, 2, 3]],
        [1, 1, [1, 2, 3], [1, 2, 3]],
        [2, 1, [1, 2, 3], [1, 2, 3]],
      ]);
    } finally {
      await admin.disconnect();
    }
    const producer = kafkaFor(broker.address).producer();
    await producer.connect();
    try {
      const acks = await producer.send({ topic: "prod-like", acks: -1, messages: [{ key: "k", value: "v", partition: 1 }] });
      expect(acks.map((a) => [a.partition, a.errorCode, a.baseOffset])).toEqual([[1, 0, "0"]]);
    } finally {
      await producer.disconnect();
    }
    expect((await kcatConsume(broker.address, "prod-like", { partition: 1 })).map((m) => m.payload)).toEqual(["v"]);
    // kcat (librdkafka metadata) counts the same replicas.
    const kmd = await kcatMetadata(broker.address, "prod-like");
    expect(kmd.topics[0]!.partitions[0]!.replicas.map((r) => r.id).sort()).toEqual([1, 2, 3]);
  });

  test("librdkafka's AdminClient (confluent_kafka create_topics) creates one too and sees 3 replicas", async () => {
    const lines = await confluentCreate(broker.address, [{ name: "rd-rf3", partitions: 2, replication_factor: 3 }]);
    expect(lines.find((l) => l.created === "rd-rf3")?.error).toBeNull();
    const md = lines.find((l) => l.metadata)!.metadata!["rd-rf3"]!;
    expect(Object.values(md).map((p) => [p.leader, [...p.replicas].sort(), [...p.isrs].sort()])).toEqual([
      [1, [1, 2, 3], [1, 2, 3]],
      [1, [1, 2, 3], [1, 2, 3]],
    ]);
  });

  test("brook topics describe shows the replication factor kafka-topics would", async () => {
    const r = await run([process.execPath, CLI, "topics", "-b", broker.address, "describe", "prod-like"], { cwd: REPO_ROOT });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Topic: prod-like\tTopicId: \S+\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: min\.insync\.replicas=2$/m);
    expect(r.stdout).toContain("\tTopic: prod-like\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\n");
  });

  test("a replication factor 1 topic still refuses acks=all below its min.insync.replicas, as Kafka does", async () => {
    const admin = kafkaFor(broker.address).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "rf1-isr2", replicationFactor: 1, configEntries: [{ name: "min.insync.replicas", value: "2" }] }] });
    await admin.disconnect();
    await using c = await KafkaClient.connect(broker.address);
    const r = await c.request(Produce, 9, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: "rf1-isr2", partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: "x" }] }) }] }],
    });
    expect(r.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
  });

  test("the warning is logged once per topic, however often the topic is looked at", async () => {
    for (let i = 0; i < 3; i++) await kcatMetadata(broker.address, "prod-like");
    const warnings = broker.output().stderr.split("\n").filter((l) => l.includes("replication factor 3 accepted"));
    expect(warnings.filter((l) => l.includes("topic prod-like:"))).toHaveLength(1);
    expect(warnings.filter((l) => l.includes("topic rd-rf3:"))).toHaveLength(1);
    expect(warnings[0]).toContain("WARN");
  });

  test("the replication factor survives a restart; with the clamp off the absent replicas show as out of sync and offline", async () => {
    expect(await broker.stop()).toBe(0);
    broker = await spawnBroker({ dataDir: dir.path, overrides: { "brook.replication.factor.clamp": false } });
    await using c = await KafkaClient.connect(broker.address);
    const md = await c.request(Metadata, 12, { topics: [{ name: "prod-like" }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(md.topics[0]!.partitions.map((p) => [p.replicaNodes, p.isrNodes, p.offlineReplicas])).toEqual([
      [[1, 2, 3], [1], [2, 3]],
      [[1, 2, 3], [1], [2, 3]],
      [[1, 2, 3], [1], [2, 3]],
    ]);
  });
});

describe("clamp off: Kafka's refusal", () => {
  let dir: TempDir;

  beforeAll(async () => {
    dir = await tempDir("brook-rf-noclamp-");
  });
  afterAll(async () => {
    await dir?.remove();
  });

  test("kafkajs and librdkafka get INVALID_REPLICATION_FACTOR; replication factor 1 still works", async () => {
    await using broker = await startBroker({ dataDir: dir.join("a"), logLevel: "warn", overrides: { "brook.replication.factor.clamp": false } });
    const admin = kafkaFor(broker.address).admin();
    await admin.connect();
    try {
      const failed = await admin.createTopics({ topics: [{ topic: "rf3", numPartitions: 1, replicationFactor: 3 }] }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(errorTypes(failed)).toContain("INVALID_REPLICATION_FACTOR");
      expect(await admin.createTopics({ topics: [{ topic: "rf1", replicationFactor: 1 }] })).toBe(true);
      expect((await admin.listTopics()).sort()).toEqual(["rf1"]);
    } finally {
      await admin.disconnect();
    }
    const lines = await confluentCreate(broker.address, [{ name: "rd-rf3", partitions: 1, replication_factor: 3 }]);
    expect(lines.find((l) => l.created === "rd-rf3")?.error?.code).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
  });

  test("auto-creation with default.replication.factor=3: created under the clamp, refused without it", async () => {
    const autoCreate = async (address: string) => {
      await using c = await KafkaClient.connect(address);
      const md = await c.request(Metadata, 12, { topics: [{ name: "auto-rf" }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
      return md.topics[0]!;
    };
    {
      await using on = await startBroker({ dataDir: dir.join("b"), logLevel: "error", overrides: { "default.replication.factor": 3 } });
      const t = await autoCreate(on.address);
      expect(t.errorCode).toBe(ErrorCode.NONE);
      expect(t.partitions[0]!.replicaNodes).toEqual([1, 2, 3]);
    }
    await using off = await startBroker({ dataDir: dir.join("c"), logLevel: "error", overrides: { "default.replication.factor": 3, "brook.replication.factor.clamp": false } });
    const t = await autoCreate(off.address);
    expect(t.errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    expect(off.broker.topics.get("auto-rf")).toBeUndefined();
  });

  test("a value that is not a boolean is a configuration error before listening", async () => {
    const r = await run([process.execPath, CLI, "--override", `log.dirs=${dir.join("d")}`, "--override", "brook.replication.factor.clamp=maybe"], { cwd: REPO_ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('invalid value "maybe" for brook.replication.factor.clamp: expected true or false');
  });
});
