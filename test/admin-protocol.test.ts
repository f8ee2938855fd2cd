// The admin APIs at the request level, every version Brook serves (the flexible ones included, which no
// stock client available here speaks): hand-written wire fixtures of flexible requests/responses derived
// from the Kafka message specs, then per-version round trips through Brook's protocol client against a
// broker — DescribeConfigs v0–v4 (v0 is_default, v3 config types, documentation, the "" broker),
// AlterConfigs v0–v2, IncrementalAlterConfigs v0–v1, CreatePartitions v0–v3 (assignments), DeleteRecords
// v0–v2, DescribeCluster v0–v1 (endpoint types, authorized operations), DescribeLogDirs v0–v4 (volume
// sizes), duplicate resources, unsupported resource types, and ApiVersions advertising all of them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import {
  AlterConfigs,
  ApiVersions,
  CreatePartitions,
  DeleteRecords,
  DescribeCluster,
  DescribeConfigs,
  DescribeLogDirs,
  IncrementalAlterConfigs,
  Produce,
} from "../protocol/apis/index.ts";
import type { ApiDefinition } from "../protocol/types.ts";
import { encodeBatch } from "../protocol/records/records.ts";
import { KafkaClient } from "../src/client.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

function hex(text: string): Uint8Array {
  const digits = text.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(digits, "hex"));
}
function decodeRequest(def: ApiDefinition, version: number, bytes: Uint8Array) {
  const r = new Reader(bytes);
  const value = requestCodec(def, version).decode(r);
  expect(r.remaining).toBe(0);
  return value;
}
function encodeResponse(def: ApiDefinition, version: number, value: unknown): string {
  const w = new Writer(64);
  responseCodec(def, version).encode(w, value as never);
  return Buffer.from(w.finish()).toString("hex");
}

describe("wire fixtures (flexible versions)", () => {
  test("DescribeConfigs v4 request", () => {
    const bytes = hex(`
      02            // resources: compact array, 1 element
        02          //   resourceType 2 (TOPIC)
        02 74       //   resourceName compact string "t"
        02          //   configurationKeys: 1 element
          0d 72 65 74 65 6e 74 69 6f 6e 2e 6d 73  // "retention.ms"
        00          //   tagged fields
      01            // includeSynonyms true
      00            // includeDocumentation false
      00            // tagged fields
    `);
    expect(decodeRequest(DescribeConfigs, 4, bytes)).toMatchObject({
      resources: [{ resourceType: 2, resourceName: "t", configurationKeys: ["retention.ms"] }],
      includeSynonyms: true,
      includeDocumentation: false,
    });
  });

  test("IncrementalAlterConfigs v1 request with a null value", () => {
    const bytes = hex(`
      02 04 02 31   // resources: 1 element; BROKER (4), name "1"
        02          //   configs: 1 element
          11 6c 6f 67 2e 72 65 74 65 6e 74 69 6f 6e 2e 6d 73  // "log.retention.ms"
          01        //   configOperation DELETE
          00        //   value: null (compact nullable string)
          00        //   tagged fields
        00          //   tagged fields
      00            // validateOnly false
      00            // tagged fields
    `);
    expect(decodeRequest(IncrementalAlterConfigs, 1, bytes)).toMatchObject({
      resources: [{ resourceType: 4, resourceName: "1", configs: [{ name: "log.retention.ms", configOperation: 1, value: null }] }],
      validateOnly: false,
    });
  });

  test("CreatePartitions v3 request with null and explicit assignments", () => {
    const bytes = hex(`
      03                      // topics: 2 elements
        02 61 00 00 00 03 00 00  // "a", count 3, assignments null, tags
        02 62 00 00 00 02     // "b", count 2
          02 02 00 00 00 01 00 // assignments: 1 element: brokerIds [1], tags
        00                    // tags
      00 00 75 30             // timeoutMs 30000
      01                      // validateOnly true
      00                      // tags
    `);
    expect(decodeRequest(CreatePartitions, 3, bytes)).toMatchObject({
      topics: [
        { name: "a", count: 3, assignments: null },
        { name: "b", count: 2, assignments: [{ brokerIds: [1] }] },
      ],
      timeoutMs: 30000,
      validateOnly: true,
    });
  });

  test("DescribeCluster v1 response", () => {
    const got = encodeResponse(DescribeCluster, 1, {
      throttleTimeMs: 0, errorCode: 0, errorMessage: null, endpointType: 1, clusterId: "c", controllerId: 1,
      brokers: [{ brokerId: 1, host: "h", port: 9092, rack: null }], clusterAuthorizedOperations: -2147483648,
    });
    expect(got).toBe(Buffer.from(hex(`
      00 00 00 00   // throttleTimeMs
      00 00         // errorCode
      00            // errorMessage null
      01            // endpointType 1
      02 63         // clusterId "c"
      00 00 00 01   // controllerId
      02            // brokers: 1 element
        00 00 00 01 02 68 00 00 23 84 00 00  // id 1, host "h", port 9092, rack null, tags
      80 00 00 00   // clusterAuthorizedOperations
      00            // tags
    `)).toString("hex"));
  });

  test("DeleteRecords v2 response", () => {
    const got = encodeResponse(DeleteRecords, 2, {
      throttleTimeMs: 0,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, lowWatermark: 5, errorCode: 0 }] }],
    });
    expect(got).toBe(Buffer.from(hex(`
      00 00 00 00 02 02 74 02
      00 00 00 00 00 00 00 00 00 00 00 05 00 00 00  // partition 0, lowWatermark 5, errorCode 0, tags
      00 00                                         // topic tags, response tags
    `)).toString("hex"));
  });
});

let dir: TempDir;
let broker: BrokerHandle;
let client: KafkaClient;

beforeAll(async () => {
  dir = await tempDir("brook-admin-protocol-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: { "log.retention.check.interval.ms": 60_000 } });
  client = await KafkaClient.connect(broker.address);
});

afterAll(async () => {
  client?.close();
  await broker?.close();
  await dir?.remove();
});

const range = (def: ApiDefinition) => Array.from({ length: def.versions[1] - def.versions[0] + 1 }, (_, i) => def.versions[0] + i);
const create = (name: string, partitions = 1, configs: Record<string, string> = {}) => broker.broker.topics.create(name, partitions, configs);

describe("request level, every version", () => {
  test("ApiVersions advertises the admin APIs with their full ranges", async () => {
    const res = await client.request(ApiVersions, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    const byKey = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    expect(byKey.get(21)).toEqual([0, 2]);
    expect(byKey.get(32)).toEqual([0, 4]);
    expect(byKey.get(33)).toEqual([0, 2]);
    expect(byKey.get(35)).toEqual([0, 4]);
    expect(byKey.get(37)).toEqual([0, 3]);
    expect(byKey.get(44)).toEqual([0, 1]);
    expect(byKey.get(60)).toEqual([0, 1]);
  });

  for (const v of range(DescribeConfigs)) {
    test(`DescribeConfigs v${v}`, async () => {
      const topic = topicName(`dc-${v}`);
      create(topic, 1, { "cleanup.policy": "compact" });
      const res = await client.request(DescribeConfigs, v, {
        resources: [
          { resourceType: 2, resourceName: topic, configurationKeys: ["cleanup.policy", "min.cleanable.dirty.ratio"] },
          { resourceType: 4, resourceName: "1", configurationKeys: ["log.cleaner.enable"] },
          { resourceType: 2, resourceName: "nope-dc", configurationKeys: null },
          { resourceType: 8, resourceName: "1", configurationKeys: null },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      const [t, b, missing, logger] = res.results;
      expect(t!.errorCode).toBe(0);
      const policy = t!.configs[0]!;
      const ratio = t!.configs[1]!;
      expect([policy.name, policy.value, ratio.name, ratio.value]).toEqual(["cleanup.policy", "compact", "min.cleanable.dirty.ratio", "0.5"]);
      if (v === 0) {
        expect([policy.isDefault, ratio.isDefault]).toEqual([false, true]);
      } else {
        expect([policy.configSource, ratio.configSource]).toEqual([1, 5]);
        expect(ratio.synonyms).toEqual([{ name: "log.cleaner.min.cleanable.ratio", value: "0.5", source: 5 }]);
      }
      if (v >= 3) {
        expect([policy.configType, ratio.configType]).toEqual([7, 6]); // LIST, DOUBLE
        expect(policy.documentation).toBeNull();
      }
      expect(b!.configs).toMatchObject([{ name: "log.cleaner.enable", value: "true", readOnly: true }]);
      expect([missing!.errorCode, logger!.errorCode]).toEqual([3, 42]);
    });
  }

  test("retention.ms synonyms as Kafka lists them: nothing before the first log.retention.ms entry", async () => {
    const describeRetention = async (b: BrokerHandle, topic: string) => {
      const c = await KafkaClient.connect(b.address);
      try {
        const res = await c.request(DescribeConfigs, 4, {
          resources: [
            { resourceType: 2, resourceName: topic, configurationKeys: ["retention.ms"] },
            { resourceType: 4, resourceName: "1", configurationKeys: ["log.retention.hours"] },
          ],
          includeSynonyms: true,
          includeDocumentation: false,
        });
        return res.results.map((r) => r.configs[0]!);
      } finally {
        c.close();
      }
    };
    // Only log.retention.hours' default exists: empty list, DEFAULT_CONFIG (the broker's own entry keeps it).
    const topic = topicName("syn-default");
    create(topic);
    const [t, h] = await describeRetention(broker, topic);
    expect([t!.value, t!.configSource, t!.synonyms]).toEqual(["604800000", 5, []]);
    expect(h!.synonyms).toEqual([{ name: "log.retention.hours", value: "168", source: 5 }]);

    // server.properties sets log.retention.hours: still nothing named log.retention.ms, so still empty.
    // With log.retention.ms set as well, the list starts there and keeps the weaker entries after it.
    for (const [overrides, want] of [
      [{ "log.retention.hours": "24" }, { value: "86400000", configSource: 5, synonyms: [] }],
      [{ "log.retention.hours": "24", "log.retention.ms": "5000" }, {
        value: "5000",
        configSource: 4,
        synonyms: [
          { name: "log.retention.ms", value: "5000", source: 4 },
          { name: "log.retention.hours", value: "24", source: 4 },
          { name: "log.retention.hours", value: "168", source: 5 },
        ],
      }],
    ] as const) {
      await using d = await tempDir("brook-synonyms-");
      await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides });
      b.broker.topics.create("t", 1);
      const [entry] = await describeRetention(b, "t");
      expect({ value: entry!.value, configSource: entry!.configSource, synonyms: entry!.synonyms }).toEqual(want as never);
    }
  });

  test("DescribeConfigs of broker \"\" lists the cluster-wide dynamic defaults only", async () => {
    await client.request(IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 4, resourceName: "", configs: [{ name: "log.retention.bytes", configOperation: 0, value: "123456789" }] }],
      validateOnly: false,
    });
    const res = await client.request(DescribeConfigs, 4, { resources: [{ resourceType: 4, resourceName: "", configurationKeys: null }], includeSynonyms: true, includeDocumentation: false });
    expect(res.results[0]!.configs).toEqual([
      {
        name: "log.retention.bytes", value: "123456789", readOnly: false, isDefault: false, configSource: 3, isSensitive: false,
        synonyms: [{ name: "log.retention.bytes", value: "123456789", source: 3 }, { name: "log.retention.bytes", value: "-1", source: 5 }],
        configType: 5, documentation: null,
      },
    ]);
    // and it is what topics without their own retention.bytes get
    const topic = topicName("dc-default");
    create(topic);
    const t = await client.request(DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ["retention.bytes"] }], includeSynonyms: false, includeDocumentation: false });
    expect(t.results[0]!.configs[0]).toMatchObject({ value: "123456789", configSource: 3 });
    await client.request(IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 4, resourceName: "", configs: [{ name: "log.retention.bytes", configOperation: 1, value: null }] }],
      validateOnly: false,
    });
    expect(broker.broker.config.get("log.retention.bytes")).toBe(-1);
  });

  for (const v of range(AlterConfigs)) {
    test(`AlterConfigs v${v}: topic, broker, duplicates, unsupported types`, async () => {
      const topic = topicName(`ac-${v}`);
      create(topic, 1, { "retention.ms": "1" });
      const res = await client.request(AlterConfigs, v, {
        resources: [
          { resourceType: 2, resourceName: topic, configs: [{ name: "segment.ms", value: "60000" }] },
          { resourceType: 4, resourceName: "1", configs: [{ name: "message.max.bytes", value: "2000000" }] },
          { resourceType: 2, resourceName: "dup", configs: [] },
          { resourceType: 2, resourceName: "dup", configs: [] },
          { resourceType: 32, resourceName: "x", configs: [] }, // GROUP: not a resource Brook serves
          { resourceType: 4, resourceName: "2", configs: [] },
        ],
        validateOnly: false,
      });
      expect(res.responses.map((r) => r.errorCode)).toEqual([0, 0, 42, 42, 42, 42]);
      expect(broker.broker.topics.get(topic)!.configs).toEqual({ "segment.ms": "60000" });
      expect(broker.broker.topics.partition(topic, 0)!.log.config.segmentMs).toBe(60000);
      expect(broker.broker.config.messageMaxBytes).toBe(2000000);
      // AlterConfigs on the broker replaces its dynamic set: an empty set removes message.max.bytes.
      await client.request(AlterConfigs, v, { resources: [{ resourceType: 4, resourceName: "1", configs: [] }], validateOnly: false });
      expect(broker.broker.config.messageMaxBytes).toBe(1048588);
    });
  }

  for (const v of range(IncrementalAlterConfigs)) {
    test(`IncrementalAlterConfigs v${v}: an invalid change leaves the whole resource unchanged`, async () => {
      const topic = topicName(`iac-${v}`);
      create(topic, 1, { "retention.ms": "1000" });
      const res = await client.request(IncrementalAlterConfigs, v, {
        resources: [{ resourceType: 2, resourceName: topic, configs: [{ name: "retention.ms", configOperation: 0, value: "2000" }, { name: "segment.bytes", configOperation: 0, value: "-1" }] }],
        validateOnly: false,
      });
      expect(res.responses[0]).toMatchObject({ errorCode: 40, resourceName: topic });
      expect(res.responses[0]!.errorMessage).toContain("segment.bytes");
      expect(broker.broker.topics.get(topic)!.configs).toEqual({ "retention.ms": "1000" });
    });
  }

  for (const v of range(CreatePartitions)) {
    test(`CreatePartitions v${v}: assignments, refusals, validate-only`, async () => {
      const a = topicName(`cp-a-${v}`);
      const b = topicName(`cp-b-${v}`);
      create(a);
      create(b, 2);
      const res = await client.request(CreatePartitions, v, {
        topics: [
          { name: a, count: 3, assignments: [{ brokerIds: [1] }, { brokerIds: [1] }] },
          { name: b, count: 3, assignments: [{ brokerIds: [2] }] },
          { name: "cp-none", count: 2, assignments: null },
          { name: b, count: 1, assignments: null },
        ],
        timeoutMs: 10000,
        validateOnly: false,
      });
      expect(res.results.map((r) => [r.name, r.errorCode])).toEqual([[a, 0], [b, 42], ["cp-none", 3], [b, 42]]);
      expect(broker.broker.topics.get(a)!.partitions).toHaveLength(3);
      const more = await client.request(CreatePartitions, v, {
        topics: [
          { name: b, count: 4, assignments: [{ brokerIds: [1] }] },
          { name: a, count: 2, assignments: null },
        ],
        timeoutMs: 10000,
        validateOnly: true,
      });
      expect(more.results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
        [39, "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."],
        [37, "Topic currently has 3 partitions, which is higher than the requested 2."],
      ]);
      expect(broker.broker.topics.get(b)!.partitions).toHaveLength(2);
    });
  }

  for (const v of range(DeleteRecords)) {
    test(`DeleteRecords v${v}`, async () => {
      const topic = topicName(`dr-${v}`);
      create(topic, 2);
      await client.request(Produce, 9, {
        transactionalId: null, acks: 1, timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: "a" }, { value: "b" }, { value: "c" }] }) }] }],
      });
      const res = await client.request(DeleteRecords, v, {
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 2 }, { partitionIndex: 1, offset: -1 }, { partitionIndex: 5, offset: 0 }] }, { name: "dr-none", partitions: [{ partitionIndex: 0, offset: 0 }] }],
        timeoutMs: 1000,
      });
      expect(res.topics).toEqual([
        { name: topic, partitions: [{ partitionIndex: 0, lowWatermark: 2, errorCode: 0 }, { partitionIndex: 1, lowWatermark: 0, errorCode: 0 }, { partitionIndex: 5, lowWatermark: -1, errorCode: 3 }] },
        { name: "dr-none", partitions: [{ partitionIndex: 0, lowWatermark: -1, errorCode: 3 }] },
      ]);
    });
  }

  for (const v of range(DescribeCluster)) {
    test(`DescribeCluster v${v}`, async () => {
      const res = await client.request(DescribeCluster, v, { includeClusterAuthorizedOperations: true, endpointType: 1 });
      expect(res).toMatchObject({ errorCode: 0, clusterId: broker.broker.clusterId, controllerId: 1, brokers: [{ brokerId: 1, host: broker.host, port: broker.port, rack: null }] });
      // CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE
      expect(res.clusterAuthorizedOperations).toBe((1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12));
      const plain = await client.request(DescribeCluster, v, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      expect(plain.clusterAuthorizedOperations).toBe(-2147483648);
      if (v >= 1) {
        const controllers = await client.request(DescribeCluster, v, { includeClusterAuthorizedOperations: false, endpointType: 2 });
        expect(controllers.errorCode).toBe(119); // UNSUPPORTED_ENDPOINT_TYPE
        expect(controllers.brokers).toEqual([]);
      }
    });
  }

  for (const v of range(DescribeLogDirs)) {
    test(`DescribeLogDirs v${v}`, async () => {
      const topic = topicName(`dld-${v}`);
      create(topic, 1);
      const res = await client.request(DescribeLogDirs, v, { topics: [{ topic, partitions: [0] }] });
      expect(res.results).toHaveLength(1);
      const r = res.results[0]!;
      expect([r.errorCode, r.logDir, r.topics]).toEqual([0, dir.path, [{ name: topic, partitions: [{ partitionIndex: 0, partitionSize: 0, offsetLag: 0, isFutureKey: false }] }]]);
      if (v >= 4) {
        expect(r.totalBytes).toBeGreaterThan(0);
        expect(r.usableBytes).toBeGreaterThan(0);
        expect(r.usableBytes).toBeLessThanOrEqual(r.totalBytes);
      }
      if (v >= 3) expect(res.errorCode).toBe(0);
    });
  }
});
