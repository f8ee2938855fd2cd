// The admin APIs of a one-broker cluster and the byte layout of the versions this work added.
// - ElectLeaders through librdkafka 2.15's admin API (rd_kafka_ElectLeaders; test/clients/elect_leaders.c,
//   compiled here against the librdkafka that @confluentinc/kafka-javascript bundles): named partitions
//   need no election, unknown ones are UNKNOWN_TOPIC_OR_PARTITION, all partitions give no results;
// - DescribeQuorum v2 and Alter/ListPartitionReassignments v0 through @platformatic/kafka's own
//   encoders and decoders (its low-level API over its own connection);
// - hand-written byte fixtures from the message specs, decoded and re-encoded by Brook's codec: EndTxn
//   v5 response, AddPartitionsToTxn v4 request, ElectLeaders v2 response, DescribeQuorum v2 response,
//   GetTelemetrySubscriptions v0 response, AlterClientQuotas v1 request, ApiVersions v4 response features.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Connection, alterPartitionReassignmentsV0, describeQuorumV2, listPartitionReassignmentsV0 } from "@platformatic/kafka";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { AddPartitionsToTxn, AlterClientQuotas, ApiVersions, DescribeQuorum, ElectLeaders, EndTxn, GetTelemetrySubscriptions } from "../protocol/apis/index.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { Reader } from "../protocol/reader.ts";
import type { ApiDefinition } from "../protocol/types.ts";
import { Writer } from "../protocol/writer.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { REPO_ROOT } from "./helpers/broker.ts";
import { jsonLines, run } from "./helpers/run.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

let dir: TempDir;
let broker: BrokerHandle;

beforeAll(async () => {
  dir = await tempDir("brook-admin-kafka4-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "error" });
});
afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

const LIBRDKAFKA = join(REPO_ROOT, "test", "clients", "node", "node_modules", "@confluentinc", "kafka-javascript");
let electBinary: Promise<string> | undefined;
/** Builds test/clients/elect_leaders.c once per run, against the bundled librdkafka 2.15. */
function buildElect(): Promise<string> {
  electBinary ??= (async () => {
    const out = join(dir.path, "bin");
    mkdirSync(out, { recursive: true });
    const exe = join(out, "elect_leaders");
    const libDir = join(LIBRDKAFKA, "build", "deps");
    if (!existsSync(join(libDir, "librdkafka.so.1"))) throw new Error(`librdkafka 2.15 is not built in ${libDir}: run scripts/ensure-test-tools.sh`);
    const r = await run(
      ["gcc", "-O1", "-o", exe, join(REPO_ROOT, "test", "clients", "elect_leaders.c"), "-I", join(LIBRDKAFKA, "deps", "librdkafka", "src"), "-L", libDir, "-l:librdkafka.so.1", `-Wl,-rpath,${libDir}`],
      { timeoutMs: 120_000 },
    );
    if (r.exitCode !== 0) throw new Error(`compiling elect_leaders.c failed: ${r.stderr}`);
    return exe;
  })();
  return electBinary;
}

async function elect(type: number, partitions: string[]) {
  const exe = await buildElect();
  const r = await run([exe, broker.address, String(type), ...partitions], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`elect_leaders: ${r.stderr}`);
  const lines = jsonLines(r.stdout);
  return { results: lines.filter((l) => !("summary" in l)).sort((a, b) => a.partition - b.partition), summary: lines.find((l) => "summary" in l).summary };
}

describe("ElectLeaders with librdkafka 2.15's admin API", () => {
  test("preferred and unclean elections: not needed for existing partitions, unknown ones refused", async () => {
    const topic = topicName("elect");
    broker.broker.topics.create(topic, 2);
    const preferred = await elect(0, [`${topic}:0`, `${topic}:1`, `${topic}:7`]);
    expect(preferred.summary.error).toBe(0);
    expect(preferred.results.map((r) => [r.partition, r.error])).toEqual([
      [0, E.ELECTION_NOT_NEEDED],
      [1, E.ELECTION_NOT_NEEDED],
      [7, E.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(preferred.results[0].message).toBe("Leader election not needed for topic partition.");
    expect(preferred.results[2].message).toBe(`No such partition as ${topic}-7`);
    const unclean = await elect(1, [`${topic}:0`, "no-such-topic:0"]);
    expect(unclean.results.map((r) => [r.topic, r.error, r.message])).toEqual([
      [topic, E.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition."],
      ["no-such-topic", E.UNKNOWN_TOPIC_OR_PARTITION, "No such topic as no-such-topic"],
    ]);
    // Every partition: none needs an election, and Kafka leaves those out.
    const all = await elect(0, []);
    expect([all.summary.error, all.results]).toEqual([0, []]);
  }, 180_000);
});

describe("@platformatic/kafka's low-level API (its own codecs)", () => {
  let conn: any;
  beforeAll(async () => {
    conn = new Connection("plt-admin");
    await conn.connect(broker.host, broker.port);
  });
  afterAll(async () => {
    await conn?.close();
  });

  test("DescribeQuorum v2: one voter, this node, leading __cluster_metadata-0", async () => {
    const r = await describeQuorumV2.api.async(conn, [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 0 }] }]);
    const p = r.topics[0].partitions[0];
    expect([r.errorCode, p.errorCode, p.leaderId, p.leaderEpoch, p.highWatermark]).toEqual([0, 0, 1, 1, 0n]);
    expect(p.currentVoters.map((v: any) => [v.replicaId, v.logEndOffset, v.lastFetchTimestamp])).toEqual([[1, 0n, -1n]]);
    expect(p.currentVoters[0].replicaDirectoryId).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(p.observers).toEqual([]);
    expect(r.nodes).toEqual([{ nodeId: 1, listeners: [{ name: "PLAINTEXT", host: broker.host, port: broker.port }] }]);
    // Another partition: UNKNOWN_TOPIC_OR_PARTITION (the client surfaces it as an error).
    const other = await describeQuorumV2.api.async(conn, [{ topicName: "__cluster_metadata", partitions: [{ partitionIndex: 1 }] }]).catch((e: any) => e.response);
    expect(other.topics[0].partitions[0].errorCode).toBe(E.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test("AlterPartitionReassignments v0 and ListPartitionReassignments v0", async () => {
    const topic = topicName("reassign");
    broker.broker.topics.create(topic, 2);
    const errors = (r: any) => r.responses[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode, p.errorMessage]);
    const ok = await alterPartitionReassignmentsV0.api.async(conn, 30_000, false, [{ name: topic, partitions: [{ partitionIndex: 0, replicas: [1] }] }]);
    expect(errors(ok)).toEqual([[0, 0, null]]);
    const bad = await alterPartitionReassignmentsV0.api
      .async(conn, 30_000, false, [
        {
          name: topic,
          partitions: [
            { partitionIndex: 0, replicas: [1, 2] },
            { partitionIndex: 1, replicas: [1, 1] },
            { partitionIndex: 1, replicas: [] },
            { partitionIndex: 0, replicas: null as any },
            { partitionIndex: 5, replicas: [1] },
          ],
        },
      ])
      .catch((e: any) => e.response);
    expect(errors(bad)).toEqual([
      [0, E.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes broker 2, but no such broker is registered."],
      [1, E.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes the broker 1 more than once."],
      [1, E.INVALID_REPLICA_ASSIGNMENT, "The manual partition assignment includes an empty replica list."],
      [0, E.NO_REASSIGNMENT_IN_PROGRESS, null],
      [5, E.UNKNOWN_TOPIC_OR_PARTITION, `Unable to find partition ${topic}:5.`],
    ]);
    const listed = await listPartitionReassignmentsV0.api.async(conn, 30_000, [{ name: topic, partitionIndexes: [0, 1] }]);
    expect([listed.errorCode, listed.topics]).toEqual([0, []]);
    const all = await listPartitionReassignmentsV0.api.async(conn, 30_000, null as any);
    expect(all.topics).toEqual([]);
  });
});

// ---- byte fixtures ------------------------------------------------------------------------------------

function hex(text: string): Uint8Array {
  const digits = text.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(digits, "hex"));
}

function roundTrip(def: ApiDefinition, version: number, side: "request" | "response", bytes: Uint8Array): any {
  const codec: { decode(r: Reader): any; encode(w: Writer, v: any): void } = side === "request" ? requestCodec(def, version) : responseCodec(def, version);
  const r = new Reader(bytes);
  const value = codec.decode(r);
  expect(r.remaining).toBe(0);
  const w = new Writer(1 << 12);
  codec.encode(w, value);
  expect(Buffer.from(w.finish()).toString("hex")).toBe(Buffer.from(bytes).toString("hex"));
  return value;
}

describe("byte fixtures from the message specs", () => {
  test("EndTxn v5 response: producer id and epoch after the error code", () => {
    const v = roundTrip(EndTxn, 5, "response", hex(`
      00000000          // throttle_time_ms
      0000              // error_code
      0000000000000007  // producer_id 7
      0004              // producer_epoch 4
      00                // tagged fields
    `));
    expect(v).toMatchObject({ throttleTimeMs: 0, errorCode: 0, producerId: 7, producerEpoch: 4 });
  });

  test("AddPartitionsToTxn v4 request: a batch of transactions with VerifyOnly", () => {
    const v = roundTrip(AddPartitionsToTxn, 4, "request", hex(`
      02                          // transactions: compact array, 1 element
        03 7478                   //   transactional_id "tx"
        0000000000000005          //   producer_id 5
        0002                      //   producer_epoch 2
        01                        //   verify_only true
        02                        //   topics: 1
          02 74                   //     name "t"
          03 00000000 00000001    //     partitions [0, 1]
          00                      //     topic tags
        00                        //   transaction tags
      00                          // request tags
    `));
    expect(v.transactions).toEqual([{ transactionalId: "tx", producerId: 5, producerEpoch: 2, verifyOnly: true, topics: [{ name: "t", partitions: [0, 1] }] }]);
  });

  test("ElectLeaders v2 response with a per-partition message", () => {
    const msg = Buffer.from("Leader election not needed for topic partition.").toString("hex");
    const v = roundTrip(ElectLeaders, 2, "response", hex(`
      00000000                    // throttle_time_ms
      0000                        // error_code
      02                          // replica_election_results: 1
        02 74                     //   topic "t"
        02                        //   partition_result: 1
          00000000                //     partition_id 0
          0054                    //     error_code 84 ELECTION_NOT_NEEDED
          30 ${msg}               //     error_message (47 bytes, compact length 48)
          00
        00
      00
    `));
    expect(v.replicaElectionResults[0].partitionResult[0]).toMatchObject({ partitionId: 0, errorCode: 84, errorMessage: "Leader election not needed for topic partition." });
  });

  test("DescribeQuorum v2 response: one voter with its directory id, one node endpoint (uint16 port)", () => {
    const v = roundTrip(DescribeQuorum, 2, "response", hex(`
      0000                        // error_code
      00                          // error_message null
      02                          // topics: 1
        13 5f5f636c75737465725f6d65746164617461   // "__cluster_metadata"
        02                        //   partitions: 1
          00000000 0000 00        //     index 0, error 0, message null
          00000001 00000001       //     leader_id 1, leader_epoch 1
          0000000000000000        //     high_watermark 0
          02                      //     current_voters: 1
            00000001                              // replica_id 1
            00112233445566778899aabbccddeeff      // replica_directory_id
            0000000000000000                      // log_end_offset
            ffffffffffffffff                      // last_fetch_timestamp -1
            0000000000000064                      // last_caught_up_timestamp 100
            00
          01                      //     observers: none
          00
        00
      02                          // nodes: 1
        00000001                  //   node_id 1
        02                        //   listeners: 1
          0a 504c41494e54455854   //     name "PLAINTEXT"
          0a 3132372e302e302e31   //     host "127.0.0.1"
          2384                    //     port 9092 (uint16)
          00
        00
      00
    `));
    expect(v.nodes).toEqual([{ nodeId: 1, listeners: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092 }] }]);
    expect(v.topics[0].partitions[0].currentVoters[0]).toMatchObject({ replicaId: 1, replicaDirectoryId: "00112233445566778899aabbccddeeff", lastFetchTimestamp: -1, lastCaughtUpTimestamp: 100 });
  });

  test("GetTelemetrySubscriptions v0 response", () => {
    const v = roundTrip(GetTelemetrySubscriptions, 0, "response", hex(`
      00000000 0000                           // throttle, error
      0102030405060708090a0b0c0d0e0f10        // client_instance_id
      0000002a                                // subscription_id 42
      05 04 03 01 02                          // accepted_compression_types [zstd, lz4, gzip, snappy]
      000001f4                                // push_interval_ms 500
      00100000                                // telemetry_max_bytes 1048576
      01                                      // delta_temporality
      02 01                                   // requested_metrics [""]
      00
    `));
    expect(v).toMatchObject({ subscriptionId: 42, acceptedCompressionTypes: [4, 3, 1, 2], pushIntervalMs: 500, telemetryMaxBytes: 1048576, deltaTemporality: true, requestedMetrics: [""] });
  });

  test("AlterClientQuotas v1 request: a default-user entity (null name) and a float64 value", () => {
    const v = roundTrip(AlterClientQuotas, 1, "request", hex(`
      02                          // entries: 1
        02                        //   entity: 1
          05 75736572             //     entity_type "user"
          00                      //     entity_name null (the default user)
          00
        02                        //   ops: 1
          13 70726f64756365725f627974655f72617465   // key "producer_byte_rate"
          40d0000000000000        //     value 16384.0
          00                      //     remove false
          00
        00
      00                          // validate_only false
      00
    `));
    expect(v.entries[0].entity).toEqual([{ entityType: "user", entityName: null }]);
    expect(v.entries[0].ops[0]).toMatchObject({ key: "producer_byte_rate", value: 16384, remove: false });
  });

  test("ApiVersions v4 response: the tagged feature fields", () => {
    const tv = Buffer.from("transaction.version").toString("hex");
    const v = roundTrip(ApiVersions, 4, "response", hex(`
      0000                        // error_code
      01                          // api_keys: none
      00000000                    // throttle_time_ms
      03                          // 3 tagged fields
        00 1a                     //   tag 0 supported_features, 26 bytes
          02                      //     1 feature
            14 ${tv}              //     "transaction.version"
            0000 0002 00          //     min 0, max 2
        01 08                     //   tag 1 finalized_features_epoch, 8 bytes
          0000000000000005
        02 1a                     //   tag 2 finalized_features, 26 bytes
          02
            14 ${tv}
            0002 0002 00          //     max level 2, min level 2
    `));
    expect(v.supportedFeatures).toEqual([{ name: "transaction.version", minVersion: 0, maxVersion: 2 }]);
    expect(v.finalizedFeatures).toEqual([{ name: "transaction.version", maxVersionLevel: 2, minVersionLevel: 2 }]);
    expect(v.finalizedFeaturesEpoch).toBe(5);
  });
});
