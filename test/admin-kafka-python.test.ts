// Topic administration through kafka-python 2.0.2 (test/clients/admin_kafka_python.py): KafkaAdminClient's
// describe_configs (v0 without synonyms, v1 with), alter_configs (topic; dynamic and read-only broker
// configs), create_partitions, describe_cluster; and, encoded with kafka-python's own protocol types,
// DescribeLogDirs v0/v1, DeleteRecords v0/v1 and IncrementalAlterConfigs v0 — an encoder independent of
// Brook's codec for the APIs no stock client here has a method for.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { confluentProduce, pyScript, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

let dir: TempDir;
let broker: BrokerHandle;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-admin-kpy-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "log.retention.check.interval.ms": 60_000 } });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

const admin = async (op: string, args: object = {}) => (await pyScript("admin_kafka_python.py", { bootstrap: broker.address, op, ...args })).lines[0];

function createTopic(name: string, partitions = 1, configs: Record<string, string> = {}) {
  broker.broker.topics.create(name, partitions, configs);
}

const ERR = { NONE: 0, OFFSET_OUT_OF_RANGE: 1, UNKNOWN_TOPIC_OR_PARTITION: 3, INVALID_PARTITIONS: 37, INVALID_CONFIG: 40, INVALID_REQUEST: 42 };

describe("kafka-python admin", () => {
  test("describe_configs of a topic, with and without synonyms", async () => {
    const topic = topicName("kpy-describe");
    createTopic(topic, 1, { "retention.ms": "60000" });
    const plain = (await admin("describe_topic_configs", { topic, keys: ["retention.ms", "segment.bytes"] })).result[0];
    // resources: [error_code, error_message, resource_type, resource_name, config_entries]
    const [code, , type, name, entries] = plain.resources[0];
    expect([code, type, name]).toEqual([0, 2, topic]);
    // entries (v1): [name, value, read_only, config_source, is_sensitive, synonyms]
    expect(entries).toEqual([
      ["retention.ms", "60000", false, 1, false, []],
      ["segment.bytes", "1073741824", false, 5, false, []],
    ]);
    const v1 = (await admin("describe_topic_configs", { topic, keys: ["retention.ms"], synonyms: true })).result[0];
    // v1 entries: [name, value, read_only, config_source, is_sensitive, synonyms]
    expect(v1.resources[0][4]).toEqual([["retention.ms", "60000", false, 1, false, [["retention.ms", "60000", 1]]]]);
  });

  test("describe_configs of the broker, and of an unknown topic", async () => {
    const res = (await admin("describe_broker_configs", { broker: "1", keys: ["log.retention.check.interval.ms", "log.segment.bytes"], synonyms: true })).result[0];
    const entries = res.resources[0][4];
    expect(entries).toContainEqual(["log.retention.check.interval.ms", "60000", true, 4, false, [["log.retention.check.interval.ms", "60000", 4], ["log.retention.check.interval.ms", "300000", 5]]]);
    expect(entries).toContainEqual(["log.segment.bytes", "1073741824", false, 5, false, [["log.segment.bytes", "1073741824", 5]]]);
    const missing = (await admin("describe_topic_configs", { topic: "kpy-no-such-topic" })).result[0];
    expect(missing.resources[0].slice(0, 2)).toEqual([ERR.UNKNOWN_TOPIC_OR_PARTITION, "Topic kpy-no-such-topic does not exist."]);
  });

  test("alter_configs: topic values validated; dynamic broker configs set, read-only ones refused", async () => {
    const topic = topicName("kpy-alter");
    createTopic(topic);
    expect(await admin("alter_topic_configs", { topic, configs: { "cleanup.policy": "compact", "delete.retention.ms": "1000" } })).toEqual({ errors: [[0, null]] });
    expect(broker.broker.topics.get(topic)!.configs).toEqual({ "cleanup.policy": "compact", "delete.retention.ms": "1000" });
    const bad = await admin("alter_topic_configs", { topic, configs: { "min.insync.replicas": "zero" } });
    expect(bad.errors[0][0]).toBe(ERR.INVALID_CONFIG);
    expect(bad.errors[0][1]).toContain("min.insync.replicas");
    const unknown = await admin("alter_topic_configs", { topic, configs: { "no.such.config": "1" } });
    expect(unknown.errors[0]).toEqual([ERR.INVALID_CONFIG, "Unknown topic config name: no.such.config"]);
    expect(broker.broker.topics.get(topic)!.configs).toEqual({ "cleanup.policy": "compact", "delete.retention.ms": "1000" });

    expect(await admin("alter_broker_configs", { broker: "1", configs: { "log.cleaner.delete.retention.ms": "5000" } })).toEqual({ errors: [[0, null]] });
    expect(broker.broker.config.get("log.cleaner.delete.retention.ms")).toBe(5000);
    const other = topicName("kpy-alter-default");
    createTopic(other);
    const d = (await admin("describe_topic_configs", { topic: other, keys: ["delete.retention.ms"], synonyms: true })).result[0];
    expect(d.resources[0][4][0].slice(0, 4)).toEqual(["delete.retention.ms", "5000", false, 2]);
    const ro = await admin("alter_broker_configs", { broker: "1", configs: { "log.retention.check.interval.ms": "1" } });
    expect(ro.errors[0][0]).toBe(ERR.INVALID_REQUEST);
    expect(ro.errors[0][1]).toContain("Cannot update these configs dynamically: log.retention.check.interval.ms");
  });

  test("create_partitions (and validate_only)", async () => {
    const topic = topicName("kpy-partitions");
    createTopic(topic);
    const dry = await admin("create_partitions", { topic, count: 4, validate_only: true });
    expect(dry.topic_errors).toEqual([[topic, 0, null]]);
    expect(broker.broker.topics.get(topic)!.partitions).toHaveLength(1);
    const res = await admin("create_partitions", { topic, count: 4 });
    expect(res.topic_errors).toEqual([[topic, 0, null]]);
    expect(broker.broker.topics.get(topic)!.partitions).toHaveLength(4);
    const same = await admin("create_partitions", { topic, count: 4 });
    expect(same).toEqual({ error: "InvalidPartitionsError", errno: ERR.INVALID_PARTITIONS });
  });

  test("describe_cluster", async () => {
    const c = await admin("describe_cluster");
    expect(c.cluster_id).toBe(broker.broker.clusterId);
    expect(c.controller_id).toBe(1);
    expect(c.brokers).toEqual([{ node_id: 1, host: broker.host, port: broker.port, rack: null }]);
  });

  for (const version of [0, 1]) {
    test(`DescribeLogDirs v${version}: every log dir, partition sizes`, async () => {
      const topic = topicName(`kpy-logdirs-${version}`);
      createTopic(topic, 2);
      await confluentProduce({ bootstrap: broker.address, topic, messages: [{ key: "k", value: "hello", partition: 1 }] });
      const size = broker.broker.topics.partition(topic, 1)!.log.size;
      expect(size).toBeGreaterThan(0);
      const all = await admin("describe_log_dirs", { version, topics: null });
      expect(all.results).toHaveLength(1);
      const [code, logDir, topics] = all.results[0];
      expect([code, logDir]).toEqual([0, dir.path]);
      expect(topics.find((t: any) => t[0] === topic)).toEqual([topic, [[0, 0, 0, false], [1, size, 0, false]]]);
      const some = await admin("describe_log_dirs", { version, topics: [[topic, [1, 7]], ["kpy-nope", [0]]] });
      expect(some.results[0][2]).toEqual([[topic, [[1, size, 0, false]]]]);
    });

    test(`DeleteRecords v${version}: low watermark, -1, out of range, unknown partition`, async () => {
      const topic = topicName(`kpy-delrec-${version}`);
      createTopic(topic, 1);
      await confluentProduce({ bootstrap: broker.address, topic, messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })) });
      const res = await admin("delete_records", { version, topic, offsets: { "0": 3 } });
      expect(res.topics).toEqual([[topic, [[0, 3, 0]]]]);
      expect(broker.broker.topics.partition(topic, 0)!.log.logStartOffset).toBe(3);
      expect((await admin("delete_records", { version, topic, offsets: { "0": 1 } })).topics).toEqual([[topic, [[0, 3, 0]]]]); // below: no-op
      expect((await admin("delete_records", { version, topic, offsets: { "0": 6 } })).topics).toEqual([[topic, [[0, -1, ERR.OFFSET_OUT_OF_RANGE]]]]);
      expect((await admin("delete_records", { version, topic, offsets: { "0": -1 } })).topics).toEqual([[topic, [[0, 5, 0]]]]);
      expect((await admin("delete_records", { version, topic, offsets: { "3": 0 } })).topics).toEqual([[topic, [[3, -1, ERR.UNKNOWN_TOPIC_OR_PARTITION]]]]);
    });
  }

  test("IncrementalAlterConfigs v0: SET, DELETE, APPEND, SUBTRACT; refusals; validate_only", async () => {
    const topic = topicName("kpy-incremental");
    createTopic(topic, 1, { "retention.ms": "1000" });
    const SET = 0, DELETE = 1, APPEND = 2, SUBTRACT = 3;
    let r = await admin("incremental_alter", {
      resources: [[2, topic, [["segment.bytes", SET, "4096"], ["retention.ms", DELETE, null], ["cleanup.policy", APPEND, "compact"]]]],
    });
    expect(r.responses).toEqual([[0, null, 2, topic]]);
    expect(broker.broker.topics.get(topic)!.configs).toEqual({ "segment.bytes": "4096", "cleanup.policy": "delete,compact" });
    expect(broker.broker.topics.partition(topic, 0)!.log.config.segmentBytes).toBe(4096);
    r = await admin("incremental_alter", { resources: [[2, topic, [["cleanup.policy", SUBTRACT, "delete"]]]] });
    expect(broker.broker.topics.get(topic)!.configs["cleanup.policy"]).toBe("compact");
    // APPEND on a non-list config, a bad value, a duplicate key, SET null: refused, nothing changes.
    r = await admin("incremental_alter", {
      resources: [
        [2, topic, [["retention.ms", APPEND, "5"]]],
        [4, "1", [["log.retention.ms", SET, "soon"]]],
      ],
    });
    expect(r.responses.map((x: any[]) => x[0])).toEqual([ERR.INVALID_CONFIG, ERR.INVALID_CONFIG]);
    expect(r.responses[0][1]).toBe("Config value append is not allowed for config key: retention.ms");
    r = await admin("incremental_alter", { resources: [[2, topic, [["segment.bytes", SET, "1"], ["segment.bytes", DELETE, null]]]] });
    expect(r.responses[0][0]).toBe(ERR.INVALID_REQUEST);
    r = await admin("incremental_alter", { resources: [[2, topic, [["segment.bytes", SET, null]]]] });
    expect(r.responses[0][0]).toBe(ERR.INVALID_REQUEST);
    r = await admin("incremental_alter", { resources: [[2, topic, [["segment.bytes", SET, "100"]]]], validate_only: true });
    expect(r.responses[0][0]).toBe(0);
    expect(broker.broker.topics.get(topic)!.configs).toEqual({ "segment.bytes": "4096", "cleanup.policy": "compact" });
    // The cluster-wide broker default (resource name "").
    r = await admin("incremental_alter", { resources: [[4, "", [["log.cleaner.min.compaction.lag.ms", SET, "250"]]]] });
    expect(r.responses).toEqual([[0, null, 4, ""]]);
    expect(broker.broker.config.dynamic!.clusterDefault.get("log.cleaner.min.compaction.lag.ms")).toBe("250");
    expect(broker.broker.config.get("log.cleaner.min.compaction.lag.ms")).toBe(250);
  });
});
