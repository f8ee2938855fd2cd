// Byte-level checks of the generic codec against bytes that Brook did not produce:
//  1. hand-written fixtures (hex, one field per line, derived from the Kafka message specs), decoded
//     and re-encoded by Brook;
//  2. requests encoded by kafkajs (an independent implementation), decoded by Brook;
//  3. responses encoded by Brook, decoded by kafkajs's own response decoders.
// kafkajs only speaks non-flexible versions, so flexible versions are covered by the hand fixtures.
import { describe, expect, test } from "bun:test";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { readRequestHeader } from "../protocol/header.ts";
import { Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import {
  ApiVersions,
  CreateTopics,
  DeleteGroups,
  DeleteTopics,
  DescribeGroups,
  Fetch,
  FindCoordinator,
  Heartbeat,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  Produce,
  SyncGroup,
} from "../protocol/apis/index.ts";
import type { ApiDefinition } from "../protocol/types.ts";

const ZERO_UUID = "0".repeat(32);

/** Hex with `//` comments and whitespace ignored. */
function hex(text: string): Uint8Array {
  const digits = text.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`bad hex fixture: ${digits}`);
  return new Uint8Array(Buffer.from(digits, "hex"));
}

const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function decodeRequest(def: ApiDefinition, version: number, bytes: Uint8Array): any {
  const r = new Reader(bytes);
  const value = requestCodec(def, version).decode(r);
  expect(r.remaining).toBe(0);
  return value;
}

function decodeResponse(def: ApiDefinition, version: number, bytes: Uint8Array): any {
  const r = new Reader(bytes);
  const value = responseCodec(def, version).decode(r);
  expect(r.remaining).toBe(0);
  return value;
}

// Large enough never to grow: growth itself is tested separately below.
const WRITER_SIZE = 1 << 16;

function encodeRequest(def: ApiDefinition, version: number, value: any, w = new Writer(WRITER_SIZE)): Uint8Array {
  requestCodec(def, version).encode(w, value);
  return w.finish().slice();
}

function encodeResponse(def: ApiDefinition, version: number, value: any, w = new Writer(WRITER_SIZE)): Uint8Array {
  responseCodec(def, version).encode(w, value);
  return w.finish().slice();
}

// ---------------------------------------------------------------------------------------------------
// 1. Hand-written fixtures
// ---------------------------------------------------------------------------------------------------

describe("hand-written fixtures", () => {
  test("Metadata v0 request for topic t", () => {
    const bytes = hex(`
      00000001  // topics: int32 array length 1
      0001 74   //   name: int16 length 1, "t"
    `);
    expect(decodeRequest(Metadata, 0, bytes)).toEqual({
      topics: [{ name: "t", topicId: ZERO_UUID }],
      allowAutoTopicCreation: true, // absent before v4: the spec default
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(toHex(encodeRequest(Metadata, 0, { topics: [{ name: "t" }] }))).toBe(toHex(bytes));
  });

  test("Metadata v1 request with a null topic list (all topics)", () => {
    const bytes = hex(`
      ffffffff  // topics: null (int32 length -1)
    `);
    expect(decodeRequest(Metadata, 1, bytes).topics).toBeNull();
    expect(toHex(encodeRequest(Metadata, 1, { topics: null }))).toBe(toHex(bytes));
  });

  test("Metadata v9 request (first flexible version)", () => {
    const bytes = hex(`
      02      // topics: compact array, 1 element (n+1)
      02 74   //   name: compact string "t"
      00      //   topic: no tagged fields
      01      // allowAutoTopicCreation: true
      00      // includeClusterAuthorizedOperations (v8-v10): false
      01      // includeTopicAuthorizedOperations: true
      00      // no tagged fields
    `);
    const value = {
      topics: [{ name: "t", topicId: ZERO_UUID }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    };
    expect(decodeRequest(Metadata, 9, bytes)).toEqual(value);
    expect(toHex(encodeRequest(Metadata, 9, value))).toBe(toHex(bytes));
  });

  test("Metadata v12 request by topic id with a null name", () => {
    const bytes = hex(`
      02                                // topics: compact array, 1 element
      000102030405060708090a0b0c0d0e0f  //   topicId: uuid
      00                                //   name: compact null (nullable since v10)
      00                                //   topic: no tagged fields
      00                                // allowAutoTopicCreation: false
      00                                // includeTopicAuthorizedOperations: false (the cluster flag is gone after v10)
      00                                // no tagged fields
    `);
    const value = {
      topics: [{ topicId: "000102030405060708090a0b0c0d0e0f", name: null }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    expect(decodeRequest(Metadata, 12, bytes)).toEqual(value);
    expect(toHex(encodeRequest(Metadata, 12, value))).toBe(toHex(bytes));
  });

  test("Metadata v1 response", () => {
    const bytes = hex(`
      00000001        // brokers: 1
      00000001        //   nodeId 1
      0009 6c6f63616c686f7374  // host "localhost"
      00002384        //   port 9092
      ffff            //   rack: null (v1+)
      00000001        // controllerId 1 (v1+; clusterId only from v2)
      00000001        // topics: 1
      0000            //   errorCode 0
      0001 74         //   name "t"
      00              //   isInternal false (v1+)
      00000001        //   partitions: 1
      0000            //     errorCode 0
      00000000        //     partitionIndex 0
      00000001        //     leaderId 1
      00000001 00000001  // replicaNodes [1]
      00000001 00000001  // isrNodes [1]
    `);
    const value = {
      brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: "t",
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    };
    expect(toHex(encodeResponse(Metadata, 1, value))).toBe(toHex(bytes));
    expect(decodeResponse(Metadata, 1, bytes)).toMatchObject(value);
  });

  test("ApiVersions v3 request with client software name and version", () => {
    const bytes = hex(`
      06 62726f6f6b   // clientSoftwareName: compact string "brook" (length 5 + 1)
      04 312e30       // clientSoftwareVersion: compact string "1.0"
      00              // no tagged fields
    `);
    const value = { clientSoftwareName: "brook", clientSoftwareVersion: "1.0" };
    expect(decodeRequest(ApiVersions, 3, bytes)).toEqual(value);
    expect(toHex(encodeRequest(ApiVersions, 3, value))).toBe(toHex(bytes));
  });

  test("ApiVersions v3 response with a tagged finalized-features epoch", () => {
    const bytes = hex(`
      0000            // errorCode 0
      02              // apiKeys: compact array, 1 element
      0012 0000 0003  //   apiKey 18, min 0, max 3
      00              //   no tagged fields
      00000000        // throttleTimeMs 0
      01              // 1 tagged field
      01 08           //   tag 1 (finalizedFeaturesEpoch), 8 bytes
      0000000000000007 //  epoch 7
    `);
    const value = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
      throttleTimeMs: 0,
      finalizedFeaturesEpoch: 7,
    };
    expect(toHex(encodeResponse(ApiVersions, 3, value))).toBe(toHex(bytes));
    expect(decodeResponse(ApiVersions, 3, bytes)).toEqual({
      ...value,
      supportedFeatures: [],
      finalizedFeatures: [],
      zkMigrationReady: false,
    });
  });

  test("Produce v3 request with an opaque records blob", () => {
    const bytes = hex(`
      ffff              // transactionalId: null
      ffff              // acks: -1
      00007530          // timeoutMs: 30000
      00000001          // topicData: 1
      0001 74           //   name "t"
      00000001          //   partitionData: 1
      00000000          //     index 0
      00000004 deadbeef //     records: int32 length 4, bytes
    `);
    const decoded = decodeRequest(Produce, 3, bytes);
    expect(decoded.transactionalId).toBeNull();
    expect(decoded.acks).toBe(-1);
    expect(decoded.timeoutMs).toBe(30000);
    expect(decoded.topicData).toHaveLength(1);
    expect(decoded.topicData[0].name).toBe("t");
    expect(decoded.topicData[0].partitionData[0].index).toBe(0);
    expect(toHex(decoded.topicData[0].partitionData[0].records)).toBe("deadbeef");
    const again = encodeRequest(Produce, 3, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: hex("deadbeef") }] }],
    });
    expect(toHex(again)).toBe(toHex(bytes));
  });

  test("Produce v9 response (flexible) with a record error", () => {
    const bytes = hex(`
      02              // responses: compact array, 1
      02 74           //   name "t"
      02              //   partitionResponses: 1
      00000000        //     index 0
      0057            //     errorCode 87 (INVALID_RECORD)
      ffffffffffffffff //    baseOffset -1
      ffffffffffffffff //    logAppendTimeMs -1
      0000000000000000 //    logStartOffset 0
      02              //     recordErrors: 1
      00000002        //       batchIndex 2
      04 626164       //       batchIndexErrorMessage "bad"
      00              //       no tagged fields
      00              //     errorMessage: compact null
      00              //     no tagged fields
      00              //   no tagged fields
      00000000        // throttleTimeMs 0
      00              // no tagged fields
    `);
    const value = {
      responses: [
        {
          name: "t",
          partitionResponses: [
            {
              index: 0,
              errorCode: 87,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: 0,
              recordErrors: [{ batchIndex: 2, batchIndexErrorMessage: "bad" }],
              errorMessage: null,
            },
          ],
        },
      ],
      throttleTimeMs: 0,
    };
    expect(toHex(encodeResponse(Produce, 9, value))).toBe(toHex(bytes));
    // v10's tagged leader hints do not exist in v9: they decode to their defaults
    const withDefaults = structuredClone(value) as any;
    withDefaults.responses[0].partitionResponses[0].currentLeader = { leaderId: -1, leaderEpoch: -1 };
    withDefaults.nodeEndpoints = [];
    expect(decodeResponse(Produce, 9, bytes)).toEqual(withDefaults);
  });

  test("Fetch v4 request", () => {
    const bytes = hex(`
      ffffffff          // replicaId -1 (a consumer)
      000001f4          // maxWaitMs 500
      00000001          // minBytes 1
      00100000          // maxBytes 1 MiB
      01                // isolationLevel: read committed
      00000001          // topics: 1
      0001 74           //   topic "t"
      00000001          //   partitions: 1
      00000000          //     partition 0
      000000000000002a  //     fetchOffset 42
      00010000          //     partitionMaxBytes 64 KiB
    `);
    const decoded = decodeRequest(Fetch, 4, bytes);
    expect(decoded).toMatchObject({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 42, partitionMaxBytes: 65536, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
      forgottenTopicsData: [],
      rackId: "",
      clusterId: null,
    });
    expect(toHex(encodeRequest(Fetch, 4, decoded))).toBe(toHex(bytes));
  });

  test("Fetch v12 request (flexible) with the tagged cluster id", () => {
    const bytes = hex(`
      ffffffff 000001f4 00000001 00100000 00  // replicaId, maxWaitMs, minBytes, maxBytes, isolationLevel
      00000000          // sessionId 0
      ffffffff          // sessionEpoch -1
      02                // topics: 1
      02 74             //   topic "t"
      02                //   partitions: 1
      00000000          //     partition 0
      ffffffff          //     currentLeaderEpoch -1
      0000000000000000  //     fetchOffset 0
      ffffffff          //     lastFetchedEpoch -1
      ffffffffffffffff  //     logStartOffset -1
      00100000          //     partitionMaxBytes
      00                //     no tagged fields
      00                //   no tagged fields
      01                // forgottenTopicsData: empty
      01                // rackId: ""
      01                // 1 tagged field
      00 04 04 616263   //   tag 0 (clusterId), 4 bytes: compact string "abc"
    `);
    const decoded = decodeRequest(Fetch, 12, bytes);
    expect(decoded.clusterId).toBe("abc");
    expect(decoded.topics[0].partitions[0]).toEqual({
      partition: 0,
      currentLeaderEpoch: -1,
      fetchOffset: 0,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: 1048576,
    });
    expect(decoded.forgottenTopicsData).toEqual([]);
    expect(decoded.rackId).toBe("");
    expect(toHex(encodeRequest(Fetch, 12, decoded))).toBe(toHex(bytes));
  });

  test("Fetch v12 response with a tagged struct (current leader) and null records", () => {
    const bytes = hex(`
      00000000          // throttleTimeMs
      0000              // errorCode
      00000000          // sessionId
      02                // responses: 1
      02 74             //   topic "t"
      02                //   partitions: 1
      00000000          //     partitionIndex 0
      004a              //     errorCode 74 (FENCED_LEADER_EPOCH)
      000000000000000a  //     highWatermark 10
      000000000000000a  //     lastStableOffset 10
      0000000000000000  //     logStartOffset 0
      00                //     abortedTransactions: compact null
      ffffffff          //     preferredReadReplica -1
      00                //     records: compact null
      01                //     1 tagged field
      01 09             //       tag 1 (currentLeader), 9 bytes:
      00000001 00000002 00  //     leaderId 1, leaderEpoch 2, no tagged fields
      00                //   no tagged fields
      00                // no tagged fields
    `);
    const partition = {
      partitionIndex: 0,
      errorCode: 74,
      highWatermark: 10,
      lastStableOffset: 10,
      logStartOffset: 0,
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: null,
      currentLeader: { leaderId: 1, leaderEpoch: 2 },
    };
    const value = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: "t", partitions: [partition] }] };
    expect(toHex(encodeResponse(Fetch, 12, value))).toBe(toHex(bytes));
    const decoded = decodeResponse(Fetch, 12, bytes);
    expect(decoded.responses[0].partitions[0]).toEqual({
      ...partition,
      divergingEpoch: { epoch: -1, endOffset: -1 },
      snapshotId: { endOffset: -1, epoch: -1 },
    });
  });

  test("unknown tagged fields are kept, not rejected", () => {
    const bytes = hex(`
      02 67       // groupId "g"
      00000001    // generationId 1
      02 6d       // memberId "m"
      00          // groupInstanceId: null
      01          // 1 tagged field
      05 02 abcd  //   tag 5 (unknown to v4), 2 bytes
    `);
    const decoded = decodeRequest(Heartbeat, 4, bytes);
    expect(decoded.groupId).toBe("g");
    expect(decoded._unknownTags).toHaveLength(1);
    expect(decoded._unknownTags[0].tag).toBe(5);
    expect(toHex(decoded._unknownTags[0].data)).toBe("abcd");
  });

  test("CreateTopics v5 response with the tagged topic config error code", () => {
    const bytes = hex(`
      00000000        // throttleTimeMs 0
      02              // topics: compact array, 1
      02 74           //   name "t"
      0000            //   errorCode 0
      00              //   errorMessage: compact null
      00000003        //   numPartitions 3
      0001            //   replicationFactor 1
      02              //   configs: compact nullable array, 1
      0f 636c65616e75702e706f6c696379  // name "cleanup.policy"
      07 64656c657465 //     value "delete"
      00              //     readOnly false
      05              //     configSource 5 (DEFAULT_CONFIG)
      00              //     isSensitive false
      00              //     no tagged fields
      01              //   1 tagged field
      00 02 001d      //     tag 0 (topicConfigErrorCode), 2 bytes: 29
      00              // no tagged fields
    `);
    const topic = {
      name: "t",
      errorCode: 0,
      errorMessage: null,
      topicConfigErrorCode: 29,
      numPartitions: 3,
      replicationFactor: 1,
      configs: [{ name: "cleanup.policy", value: "delete", readOnly: false, configSource: 5, isSensitive: false }],
    };
    expect(toHex(encodeResponse(CreateTopics, 5, { throttleTimeMs: 0, topics: [topic] }))).toBe(toHex(bytes));
    expect(decodeResponse(CreateTopics, 5, bytes)).toEqual({ throttleTimeMs: 0, topics: [{ ...topic, topicId: ZERO_UUID }] });
  });

  test("CreateTopics v5 response: an absent tagged field decodes to its default", () => {
    const bytes = hex(`
      00000000 02 02 74 0000 00  // throttle, 1 topic "t", errorCode 0, errorMessage null
      00000001 0001              // numPartitions 1, replicationFactor 1
      00                         // configs: null
      00                         // topic: no tagged fields
      00                         // no tagged fields
    `);
    const topic = decodeResponse(CreateTopics, 5, bytes).topics[0];
    expect(topic.topicConfigErrorCode).toBe(0);
    expect(topic.configs).toBeNull();
  });

  test("Heartbeat v4 request", () => {
    const bytes = hex(`
      06 67726f7570   // groupId: compact string "group"
      00000005        // generationId 5
      04 6d2d31       // memberId: compact string "m-1"
      00              // groupInstanceId: compact null
      00              // no tagged fields
    `);
    const value = { groupId: "group", generationId: 5, memberId: "m-1", groupInstanceId: null };
    expect(decodeRequest(Heartbeat, 4, bytes)).toEqual(value);
    expect(toHex(encodeRequest(Heartbeat, 4, value))).toBe(toHex(bytes));
  });

  test("ListOffsets v0 request and response (old-style offsets)", () => {
    const req = hex(`
      ffffffff          // replicaId -1
      00000001          // topics: 1
      0001 74           //   name "t"
      00000001          //   partitions: 1
      00000000          //     partitionIndex 0
      fffffffffffffffe  //     timestamp -2 (earliest)
      00000001          //     maxNumOffsets 1 (v0 only)
    `);
    expect(decodeRequest(ListOffsets, 0, req).topics[0].partitions[0]).toEqual({
      partitionIndex: 0,
      currentLeaderEpoch: -1,
      timestamp: -2,
      maxNumOffsets: 1,
    });
    const res = hex(`
      00000001          // topics: 1
      0001 74           //   name "t"
      00000001          //   partitions: 1
      00000000          //     partitionIndex 0
      0000              //     errorCode 0
      00000001 0000000000000000  // oldStyleOffsets [0] (v0 only)
    `);
    const value = { topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [0], timestamp: 5, offset: 7 }] }] };
    expect(toHex(encodeResponse(ListOffsets, 0, value))).toBe(toHex(res));
  });

  test("encoding into a writer that has to grow gives the same bytes", () => {
    const value = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
      clusterId: "c",
      controllerId: 1,
      topics: [{ errorCode: 0, name: "t", isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
    };
    for (const v of [0, 5, 9, 12]) {
      expect(toHex(encodeResponse(Metadata, v, value, new Writer(1)))).toBe(toHex(encodeResponse(Metadata, v, value)));
    }
  });

  test("OffsetFetch v8 request (groups batch) with null topics", () => {
    const bytes = hex(`
      02            // groups: 1
      02 67         //   groupId "g"
      00            //   topics: compact null (all partitions)
      00            //   no tagged fields
      01            // requireStable true
      00            // no tagged fields
    `);
    expect(decodeRequest(OffsetFetch, 8, bytes)).toEqual({
      groupId: "",
      topics: null,
      groups: [{ groupId: "g", memberId: null, memberEpoch: -1, topics: null }], // v9's member fields take their defaults
      requireStable: true,
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// 2. kafkajs-encoded requests, decoded by Brook
// ---------------------------------------------------------------------------------------------------

const kafkajs = (p: string) => require(`kafkajs/src/protocol/${p}`);

/** Encodes a full request frame with kafkajs, then parses it with Brook's header reader and codec. */
async function viaKafkajs(def: ApiDefinition, requestPath: string, args: unknown): Promise<any> {
  const request = kafkajs(`requests/${requestPath}/request.js`)(args);
  const frame = await kafkajs("request.js")({ correlationId: 42, clientId: "kafkajs-test", request });
  const bytes = new Uint8Array(frame.buffer);
  const r = new Reader(bytes);
  expect(r.int32()).toBe(bytes.length - 4);
  const header = readRequestHeader(r);
  expect(header).toEqual({ apiKey: def.key, apiVersion: header.apiVersion, correlationId: 42, clientId: "kafkajs-test" });
  expect(header.apiVersion).toBeGreaterThanOrEqual(def.versions[0]);
  expect(header.apiVersion).toBeLessThanOrEqual(def.versions[1]);
  expect(header.apiVersion < def.flexible).toBe(true);
  const body = requestCodec(def, header.apiVersion).decode(r);
  expect(r.remaining).toBe(0);
  return body;
}

/** A kafkajs-encoded v2 record batch (key/value pairs), as raw bytes. */
async function kafkajsBatch(firstOffset: number, messages: { key: string; value: string }[]): Promise<Uint8Array> {
  const Long = require("kafkajs/src/utils/long");
  const Record = kafkajs("recordBatch/record/v0");
  const { RecordBatch } = kafkajs("recordBatch/v0");
  const now = 1_700_000_000_000;
  const records = messages.map((m, i) => Record({ key: m.key, value: m.value, offsetDelta: i, timestampDelta: 0 }));
  const batch = await RecordBatch({
    firstOffset: Long.fromNumber(firstOffset),
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: records.length - 1,
    records,
  });
  return new Uint8Array(batch.buffer);
}

describe("kafkajs requests decode in Brook", () => {
  test("Metadata v6", async () => {
    const body = await viaKafkajs(Metadata, "metadata/v6", { topics: ["a", "bb"], allowAutoTopicCreation: false });
    expect(body.topics.map((t: any) => t.name)).toEqual(["a", "bb"]);
    expect(body.allowAutoTopicCreation).toBe(false);
  });

  test("Metadata v1 with no topics", async () => {
    // kafkajs writes a null array for "all topics"
    const body = await viaKafkajs(Metadata, "metadata/v1", { topics: [] });
    expect(body.topics === null || body.topics.length === 0).toBe(true);
  });

  test("Produce v3 with a message set", async () => {
    const body = await viaKafkajs(Produce, "produce/v3", {
      acks: -1,
      timeout: 1234,
      transactionalId: "tx-1",
      topicData: [
        {
          topic: "orders",
          partitions: [
            { partition: 2, messages: [{ key: "k1", value: "v1" }, { key: "k2", value: "v2" }] },
          ],
        },
      ],
    });
    expect(body.transactionalId).toBe("tx-1");
    expect(body.acks).toBe(-1);
    expect(body.timeoutMs).toBe(1234);
    expect(body.topicData[0].name).toBe("orders");
    const part = body.topicData[0].partitionData[0];
    expect(part.index).toBe(2);
    const records: Uint8Array = part.records;
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    expect(Number(view.getBigInt64(0))).toBe(0); // baseOffset
    expect(view.getInt32(8)).toBe(records.length - 12); // batchLength covers the rest
    expect(records[16]).toBe(2); // magic
    expect(view.getInt32(57)).toBe(2); // record count
  });

  test("Fetch v4", async () => {
    const body = await viaKafkajs(Fetch, "fetch/v4", {
      replicaId: -1,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 10_000,
      isolationLevel: 0,
      topics: [{ topic: "t", partitions: [{ partition: 3, fetchOffset: "123", maxBytes: 999 }] }],
    });
    expect(body).toMatchObject({
      replicaId: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 10_000,
      isolationLevel: 0,
      topics: [{ topic: "t", partitions: [{ partition: 3, fetchOffset: 123, partitionMaxBytes: 999 }] }],
    });
  });

  test("Fetch v7 with a session and forgotten topics", async () => {
    const body = await viaKafkajs(Fetch, "fetch/v7", {
      replicaId: -1,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 10_000,
      sessionId: 77,
      sessionEpoch: 3,
      topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: "5", logStartOffset: "1", maxBytes: 999 }] }],
      forgottenTopics: [{ topic: "old", partitions: [1, 2] }],
    });
    expect(body).toMatchObject({
      isolationLevel: 1,
      sessionId: 77,
      sessionEpoch: 3,
      topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 5, logStartOffset: 1, partitionMaxBytes: 999 }] }],
      forgottenTopicsData: [{ topic: "old", partitions: [1, 2] }],
    });
  });

  test("Fetch v11 with a rack id", async () => {
    const body = await viaKafkajs(Fetch, "fetch/v11", {
      replicaId: -1,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 10_000,
      rackId: "rack-a",
      topics: [{ topic: "t", partitions: [{ partition: 0, currentLeaderEpoch: 4, fetchOffset: "9", maxBytes: 999 }] }],
    });
    expect(body.rackId).toBe("rack-a");
    expect(body.topics[0].partitions[0]).toEqual({
      partition: 0,
      currentLeaderEpoch: 4,
      fetchOffset: 9,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: 999,
    });
  });

  test("ListOffsets v2", async () => {
    const body = await viaKafkajs(ListOffsets, "listOffsets/v2", {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: "t", partitions: [{ partition: 0, timestamp: -1 }, { partition: 1, timestamp: 1_700_000_000_000 }] }],
    });
    expect(body).toMatchObject({
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, timestamp: -1 }, { partitionIndex: 1, timestamp: 1_700_000_000_000 }] }],
    });
  });

  test("CreateTopics v3", async () => {
    const body = await viaKafkajs(CreateTopics, "createTopics/v3", {
      topics: [
        {
          topic: "t",
          numPartitions: 3,
          replicationFactor: 1,
          replicaAssignment: [{ partition: 0, replicas: [1] }],
          configEntries: [{ name: "retention.ms", value: "1000" }],
        },
      ],
      validateOnly: true,
      timeout: 2000,
    });
    expect(body).toEqual({
      topics: [
        {
          name: "t",
          numPartitions: 3,
          replicationFactor: 1,
          assignments: [{ partitionIndex: 0, brokerIds: [1] }],
          configs: [{ name: "retention.ms", value: "1000" }],
        },
      ],
      timeoutMs: 2000,
      validateOnly: true,
    });
  });

  test("DeleteTopics v1", async () => {
    const body = await viaKafkajs(DeleteTopics, "deleteTopics/v1", { topics: ["a", "b"], timeout: 3000 });
    expect(body).toMatchObject({ topicNames: ["a", "b"], timeoutMs: 3000, topics: [] });
  });

  test("InitProducerId v1", async () => {
    const body = await viaKafkajs(InitProducerId, "initProducerId/v1", { transactionalId: "tx", transactionTimeout: 60000 });
    expect(body).toEqual({ transactionalId: "tx", transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    const idempotent = await viaKafkajs(InitProducerId, "initProducerId/v1", { transactionalId: null, transactionTimeout: 0 });
    expect(idempotent.transactionalId).toBeNull();
  });

  test("ApiVersions v2", async () => {
    const body = await viaKafkajs(ApiVersions, "apiVersions/v2", undefined);
    expect(body).toEqual({ clientSoftwareName: "", clientSoftwareVersion: "" });
  });

  test("FindCoordinator v2", async () => {
    const body = await viaKafkajs(FindCoordinator, "findCoordinator/v2", { coordinatorKey: "g", coordinatorType: 0 });
    expect(body).toEqual({ key: "g", keyType: 0, coordinatorKeys: [] });
  });

  test("JoinGroup v5", async () => {
    const body = await viaKafkajs(JoinGroup, "joinGroup/v5", {
      groupId: "g",
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: "",
      protocolType: "consumer",
      groupProtocols: [{ name: "RoundRobinAssigner", metadata: Buffer.from([1, 2, 3]) }],
    });
    expect(body).toMatchObject({
      groupId: "g",
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: "",
      groupInstanceId: null,
      protocolType: "consumer",
      reason: null,
    });
    expect(body.protocols[0].name).toBe("RoundRobinAssigner");
    expect([...body.protocols[0].metadata]).toEqual([1, 2, 3]);
  });

  test("SyncGroup v3", async () => {
    const body = await viaKafkajs(SyncGroup, "syncGroup/v3", {
      groupId: "g",
      generationId: 2,
      memberId: "m",
      groupAssignment: [{ memberId: "m", memberAssignment: Buffer.from([9]) }],
    });
    expect(body).toMatchObject({ groupId: "g", generationId: 2, memberId: "m", groupInstanceId: null });
    expect(body.assignments[0].memberId).toBe("m");
    expect([...body.assignments[0].assignment]).toEqual([9]);
  });

  test("Heartbeat v3", async () => {
    const body = await viaKafkajs(Heartbeat, "heartbeat/v3", { groupId: "g", groupGenerationId: 4, memberId: "m", groupInstanceId: null });
    expect(body).toEqual({ groupId: "g", generationId: 4, memberId: "m", groupInstanceId: null });
  });

  test("LeaveGroup v3", async () => {
    const body = await viaKafkajs(LeaveGroup, "leaveGroup/v3", { groupId: "g", members: [{ memberId: "m" }] });
    expect(body).toEqual({ groupId: "g", memberId: "", members: [{ memberId: "m", groupInstanceId: null, reason: null }] });
  });

  test("OffsetCommit v5", async () => {
    const body = await viaKafkajs(OffsetCommit, "offsetCommit/v5", {
      groupId: "g",
      groupGenerationId: 3,
      memberId: "m",
      topics: [{ topic: "t", partitions: [{ partition: 0, offset: "100" }] }],
    });
    expect(body).toMatchObject({
      groupId: "g",
      generationIdOrMemberEpoch: 3,
      memberId: "m",
      retentionTimeMs: -1,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 100, committedMetadata: null, committedLeaderEpoch: -1 }] }],
    });
  });

  test("OffsetFetch v4", async () => {
    const body = await viaKafkajs(OffsetFetch, "offsetFetch/v4", { groupId: "g", topics: [{ topic: "t", partitions: [{ partition: 0 }, { partition: 1 }] }] });
    expect(body).toMatchObject({ groupId: "g", topics: [{ name: "t", partitionIndexes: [0, 1] }], requireStable: false, groups: [] });
  });

  test("DescribeGroups v2", async () => {
    const body = await viaKafkajs(DescribeGroups, "describeGroups/v2", { groupIds: ["a", "b"] });
    expect(body).toEqual({ groups: ["a", "b"], includeAuthorizedOperations: false });
  });

  test("ListGroups v2", async () => {
    const body = await viaKafkajs(ListGroups, "listGroups/v2", undefined);
    expect(body).toEqual({ statesFilter: [], typesFilter: [] });
  });

  test("DeleteGroups v1", async () => {
    const body = await viaKafkajs(DeleteGroups, "deleteGroups/v1", ["a"]);
    expect(body).toEqual({ groupsNames: ["a"] });
  });
});

// ---------------------------------------------------------------------------------------------------
// 3. Brook-encoded responses, decoded by kafkajs
// ---------------------------------------------------------------------------------------------------

async function kafkajsDecode(responsePath: string, bytes: Uint8Array): Promise<any> {
  const { decode, parse } = kafkajs(`requests/${responsePath}/response.js`);
  return parse(await decode(Buffer.from(bytes)));
}

describe("Brook responses decode in kafkajs", () => {
  test("Metadata v6", async () => {
    const bytes = encodeResponse(Metadata, 6, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
      clusterId: "brook-cluster",
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: "t",
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
        },
      ],
    });
    const data = await kafkajsDecode("metadata/v6", bytes);
    expect(data).toMatchObject({
      brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
      clusterId: "brook-cluster",
      controllerId: 1,
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: "t",
          isInternal: false,
          partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1], isr: [1], offlineReplicas: [] }],
        },
      ],
    });
  });

  test("Produce v3", async () => {
    const bytes = encodeResponse(Produce, 3, {
      responses: [{ name: "t", partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 41, logAppendTimeMs: -1 }] }],
      throttleTimeMs: 0,
    });
    const data = await kafkajsDecode("produce/v3", bytes);
    expect(data).toEqual({
      topics: [{ topicName: "t", partitions: [{ partition: 0, errorCode: 0, baseOffset: "41", logAppendTime: "-1" }] }],
      throttleTime: 0,
    });
  });

  test("Fetch v4 with records written from two slices", async () => {
    const first = await kafkajsBatch(0, [{ key: "k0", value: "v0" }, { key: "k1", value: "v1" }]);
    const second = await kafkajsBatch(2, [{ key: "k2", value: "v2" }]);
    const bytes = encodeResponse(Fetch, 4, {
      throttleTimeMs: 0,
      responses: [
        {
          topic: "t",
          partitions: [
            { partitionIndex: 0, errorCode: 0, highWatermark: 3, lastStableOffset: 3, abortedTransactions: [], records: [first, second] },
          ],
        },
      ],
    });
    const data = await kafkajsDecode("fetch/v4", bytes);
    const p = data.responses[0].partitions[0];
    expect(p).toMatchObject({ partition: 0, errorCode: 0, highWatermark: "3", lastStableOffset: "3", abortedTransactions: [] });
    expect(p.messages.map((m: any) => [m.offset, m.key.toString(), m.value.toString()])).toEqual([
      ["0", "k0", "v0"],
      ["1", "k1", "v1"],
      ["2", "k2", "v2"],
    ]);
  });

  test("Fetch v11", async () => {
    const batch = await kafkajsBatch(5, [{ key: "k", value: "v" }]);
    const bytes = encodeResponse(Fetch, 11, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 9,
      responses: [
        {
          topic: "t",
          partitions: [
            {
              partitionIndex: 1,
              errorCode: 0,
              highWatermark: 6,
              lastStableOffset: 6,
              logStartOffset: 0,
              abortedTransactions: [{ producerId: 7, firstOffset: 2 }],
              records: batch,
            },
          ],
        },
      ],
    });
    const data = await kafkajsDecode("fetch/v11", bytes);
    expect(data.sessionId).toBe(9);
    const p = data.responses[0].partitions[0];
    expect(p).toMatchObject({
      partition: 1,
      highWatermark: "6",
      lastStartOffset: "0",
      abortedTransactions: [{ producerId: "7", firstOffset: "2" }],
      preferredReadReplica: -1,
    });
    expect(p.messages.map((m: any) => [m.offset, m.value.toString()])).toEqual([["5", "v"]]);
  });

  test("ListOffsets v2", async () => {
    const bytes = encodeResponse(ListOffsets, 2, {
      throttleTimeMs: 0,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 12 }] }],
    });
    expect(await kafkajsDecode("listOffsets/v2", bytes)).toEqual({
      throttleTime: 0,
      responses: [{ topic: "t", partitions: [{ partition: 0, errorCode: 0, timestamp: "-1", offset: "12" }] }],
    });
  });

  test("CreateTopics v3", async () => {
    const bytes = encodeResponse(CreateTopics, 3, {
      throttleTimeMs: 0,
      topics: [{ name: "t", errorCode: 0, errorMessage: null }],
    });
    expect(await kafkajsDecode("createTopics/v3", bytes)).toMatchObject({
      topicErrors: [{ topic: "t", errorCode: 0, errorMessage: null }],
    });
  });

  test("DeleteTopics v1", async () => {
    const bytes = encodeResponse(DeleteTopics, 1, { throttleTimeMs: 5, responses: [{ name: "a", errorCode: 0 }] });
    expect(await kafkajsDecode("deleteTopics/v1", bytes)).toMatchObject({
      clientSideThrottleTime: 5,
      topicErrors: [{ topic: "a", errorCode: 0 }],
    });
  });

  test("InitProducerId v1", async () => {
    const bytes = encodeResponse(InitProducerId, 1, { throttleTimeMs: 0, errorCode: 0, producerId: 1000, producerEpoch: 0 });
    expect(await kafkajsDecode("initProducerId/v1", bytes)).toMatchObject({ errorCode: 0, producerId: "1000", producerEpoch: 0 });
  });

  test("ApiVersions v2", async () => {
    const bytes = encodeResponse(ApiVersions, 2, {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 9 },
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
      ],
      throttleTimeMs: 0,
    });
    expect(await kafkajsDecode("apiVersions/v2", bytes)).toMatchObject({
      errorCode: 0,
      apiVersions: [
        { apiKey: 0, minVersion: 3, maxVersion: 9 },
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
      ],
    });
  });

  test("FindCoordinator v2", async () => {
    const bytes = encodeResponse(FindCoordinator, 2, { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: "h", port: 9092 });
    expect(await kafkajsDecode("findCoordinator/v2", bytes)).toMatchObject({
      errorCode: 0,
      errorMessage: null,
      coordinator: { nodeId: 1, host: "h", port: 9092 },
    });
  });

  test("JoinGroup v5", async () => {
    const bytes = encodeResponse(JoinGroup, 5, {
      throttleTimeMs: 0,
      errorCode: 0,
      generationId: 1,
      protocolName: "RoundRobinAssigner",
      leader: "m1",
      memberId: "m1",
      members: [{ memberId: "m1", groupInstanceId: null, metadata: new Uint8Array([1, 2]) }],
    });
    const data = await kafkajsDecode("joinGroup/v5", bytes);
    expect(data).toMatchObject({ errorCode: 0, generationId: 1, groupProtocol: "RoundRobinAssigner", leaderId: "m1", memberId: "m1" });
    expect(data.members[0].memberId).toBe("m1");
    expect(data.members[0].groupInstanceId).toBeNull();
    expect([...data.members[0].memberMetadata]).toEqual([1, 2]);
  });

  test("SyncGroup v3", async () => {
    const bytes = encodeResponse(SyncGroup, 3, { throttleTimeMs: 0, errorCode: 0, assignment: new Uint8Array([7, 8]) });
    const data = await kafkajsDecode("syncGroup/v3", bytes);
    expect(data.errorCode).toBe(0);
    expect([...data.memberAssignment]).toEqual([7, 8]);
  });

  test("Heartbeat v3", async () => {
    const bytes = encodeResponse(Heartbeat, 3, { throttleTimeMs: 0, errorCode: 0 });
    expect(await kafkajsDecode("heartbeat/v3", bytes)).toMatchObject({ errorCode: 0 });
  });

  test("LeaveGroup v3", async () => {
    const bytes = encodeResponse(LeaveGroup, 3, { throttleTimeMs: 0, errorCode: 0, members: [{ memberId: "m", groupInstanceId: null, errorCode: 0 }] });
    expect(await kafkajsDecode("leaveGroup/v3", bytes)).toMatchObject({ errorCode: 0, members: [{ memberId: "m", groupInstanceId: null, errorCode: 0 }] });
  });

  test("OffsetCommit v5", async () => {
    const bytes = encodeResponse(OffsetCommit, 5, { throttleTimeMs: 0, topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0 }] }] });
    expect(await kafkajsDecode("offsetCommit/v5", bytes)).toMatchObject({
      responses: [{ topic: "t", partitions: [{ partition: 0, errorCode: 0 }] }],
    });
  });

  test("OffsetFetch v4", async () => {
    const bytes = encodeResponse(OffsetFetch, 4, {
      throttleTimeMs: 0,
      topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 100, metadata: "md", errorCode: 0 }] }],
      errorCode: 0,
    });
    expect(await kafkajsDecode("offsetFetch/v4", bytes)).toMatchObject({
      errorCode: 0,
      responses: [{ topic: "t", partitions: [{ partition: 0, offset: "100", metadata: "md", errorCode: 0 }] }],
    });
  });

  test("DescribeGroups v2", async () => {
    const bytes = encodeResponse(DescribeGroups, 2, {
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 0,
          groupId: "g",
          groupState: "Stable",
          protocolType: "consumer",
          protocolData: "RoundRobinAssigner",
          members: [{ memberId: "m", clientId: "c", clientHost: "/127.0.0.1", memberMetadata: new Uint8Array([1]), memberAssignment: new Uint8Array([2]) }],
        },
      ],
    });
    const data = await kafkajsDecode("describeGroups/v2", bytes);
    expect(data.groups[0]).toMatchObject({ errorCode: 0, groupId: "g", state: "Stable", protocolType: "consumer", protocol: "RoundRobinAssigner" });
    expect(data.groups[0].members[0]).toMatchObject({ memberId: "m", clientId: "c", clientHost: "/127.0.0.1" });
  });

  test("ListGroups v2", async () => {
    const bytes = encodeResponse(ListGroups, 2, { throttleTimeMs: 0, errorCode: 0, groups: [{ groupId: "g", protocolType: "consumer" }] });
    expect(await kafkajsDecode("listGroups/v2", bytes)).toMatchObject({ errorCode: 0, groups: [{ groupId: "g", protocolType: "consumer" }] });
  });

  test("DeleteGroups v1", async () => {
    const bytes = encodeResponse(DeleteGroups, 1, { throttleTimeMs: 0, results: [{ groupId: "g", errorCode: 0 }] });
    expect(await kafkajsDecode("deleteGroups/v1", bytes)).toMatchObject({ results: [{ groupId: "g", errorCode: 0 }] });
  });
});
