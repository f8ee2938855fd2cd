// ACLs at the request level. First the ACL APIs byte for byte: requests and expected responses written by
// hand from Kafka's message definitions (shared/kafka-protocol/message/{Create,Describe,Delete}Acls*.json:
// v1 adds the pattern type, v2+ is flexible with compact strings/arrays and tagged fields), sent over a raw
// socket after a SASL/PLAIN login. Then what each API answers to a principal the ACLs do not allow, as
// Kafka's KafkaApis does it (error code and where it goes: per partition, per topic, per group, top level),
// with exact requests from Brook's protocol client on a PLAINTEXT listener (User:ANONYMOUS), ACLs set
// directly on the broker's authorizer.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  AlterConfigs,
  CreatePartitions,
  CreateTopics,
  DeleteGroups,
  DeleteRecords,
  DeleteTopics,
  DescribeCluster,
  DescribeConfigs,
  DescribeGroups,
  DescribeLogDirs,
  DescribeProducers,
  DescribeTransactions,
  EndTxn,
  Fetch,
  FindCoordinator,
  Heartbeat,
  IncrementalAlterConfigs,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  ListOffsets,
  ListTransactions,
  Metadata,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  Produce,
  SyncGroup,
  TxnOffsetCommit,
} from "../protocol/apis/index.ts";
import { AclOperation as Op, PatternType, Permission, ResourceType as Res, type AclBinding } from "../src/acl/acl.ts";
import type { Authorizer } from "../src/acl/authorizer.ts";
import { startBroker, type BrokerHandle } from "../src/broker.ts";
import { KafkaClient } from "../src/client.ts";
import { plainJaas, plainLogin } from "./helpers/sasl.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { batch } from "./helpers/txn.ts";
import { RawClient, concat, int16, int32, requestFrame, str } from "./helpers/wire.ts";

setDefaultTimeout(30_000);

// Error codes (clients/src/main/java/org/apache/kafka/common/protocol/Errors.java).
const E = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_REQUEST: 42,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  OPERATION_NOT_ATTEMPTED: 55,
};
const NOT_REQUESTED = -2147483648;

/** Hex with `// comments` and whitespace, as the fixtures are written. */
const hex = (s: string) =>
  Uint8Array.from(
    s
      .split("\n")
      .map((l) => l.replace(/\/\/.*$/, ""))
      .join("")
      .replace(/\s+/g, "")
      .match(/../g)!
      .map((b) => parseInt(b, 16)),
  );
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const USERS = { admin: "admin-secret", alice: "alice-secret" };
const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

let dir: TempDir;
let broker: BrokerHandle;

beforeAll(async () => {
  dir = await tempDir();
  broker = await startBroker({
    dataDir: dir.path,
    logLevel: "error",
    overrides: {
      listeners: "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
      "sasl.enabled.mechanisms": "PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config": plainJaas(USERS),
      "authorizer.class.name": STANDARD_AUTHORIZER,
      "super.users": "User:admin",
      "group.initial.rebalance.delay.ms": 0,
    },
  });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

const plaintext = () => broker.listeners.find((l) => l.securityProtocol === "PLAINTEXT")!;
const saslListener = () => broker.listeners.find((l) => l.securityProtocol === "SASL_PLAINTEXT")!;

async function loggedIn(user: keyof typeof USERS): Promise<RawClient> {
  const l = saslListener();
  const c = await RawClient.connect(l.host, l.port);
  const auth = await plainLogin(c, user, USERS[user]);
  expect(auth.errorCode).toBe(0);
  return c;
}

async function exchange(c: RawClient, frame: Uint8Array): Promise<string> {
  c.send(frame);
  const r = await c.response();
  return toHex(r.buf);
}

describe("ACL APIs, byte for byte", () => {
  let admin: RawClient;
  beforeAll(async () => {
    admin = await loggedIn("admin");
  });
  afterAll(() => admin?.close());

  test("CreateAcls v1: a prefixed ALLOW READ; the result has no error and a null message", async () => {
    const body = hex(`
      00000001                 // creations: 1
      02                       //   resource_type TOPIC
      0002 7431                //   resource_name "t1"
      04                       //   resource_pattern_type PREFIXED (v1+)
      000a 557365723a616c696365 // principal "User:alice"
      0001 2a                  //   host "*"
      03                       //   operation READ
      03                       //   permission_type ALLOW
    `);
    const response = await exchange(admin, requestFrame({ apiKey: 30, apiVersion: 1, correlationId: 11 }, body));
    expect(response).toBe(
      toHex(
        hex(`
          0000000b   // correlation id
          00000000   // throttle_time_ms
          00000001   // results: 1
          0000       //   error_code NONE
          ffff       //   error_message null
        `),
      ),
    );
  });

  test("CreateAcls v3 (flexible): a literal DENY DESCRIBE", async () => {
    const body = hex(`
      02                       // creations: compact array, 1 element
      02                       //   resource_type TOPIC
      03 7432                  //   resource_name compact "t2"
      03                       //   resource_pattern_type LITERAL
      0b 557365723a616c696365  //   principal compact "User:alice"
      02 2a                    //   host compact "*"
      08                       //   operation DESCRIBE
      02                       //   permission_type DENY
      00                       //   no tagged fields
      00                       // no tagged fields
    `);
    const response = await exchange(admin, requestFrame({ apiKey: 30, apiVersion: 3, correlationId: 12, flexibleHeader: true }, body));
    expect(response).toBe(
      toHex(
        hex(`
          0000000c 00  // correlation id, response header v1 tagged fields
          00000000     // throttle_time_ms
          02           // results: compact array, 1 element
          0000         //   error_code NONE
          00           //   error_message compact null
          00           //   no tagged fields
          00           // no tagged fields
        `),
      ),
    );
  });

  test("DescribeAcls v0: literal only (v0 has no pattern type), one resource with its ACL", async () => {
    const body = hex(`
      02                         // resource_type_filter TOPIC
      ffff                       // resource_name_filter null (any)
      000a 557365723a616c696365  // principal_filter "User:alice"
      ffff                       // host_filter null
      01                         // operation ANY
      01                         // permission_type ANY
    `);
    const response = await exchange(admin, requestFrame({ apiKey: 29, apiVersion: 0, correlationId: 13 }, body));
    expect(response).toBe(
      toHex(
        hex(`
          0000000d                   // correlation id
          00000000                   // throttle_time_ms
          0000                       // error_code
          ffff                       // error_message null
          00000001                   // resources: 1
          02                         //   resource_type TOPIC
          0002 7432                  //   resource_name "t2"
          00000001                   //   acls: 1
          000a 557365723a616c696365  //     principal
          0001 2a                    //     host "*"
          08                         //     operation DESCRIBE
          02                         //     permission_type DENY
        `),
      ),
    );
  });

  test("DescribeAcls v2 (flexible) with a MATCH filter finds the prefixed ACL covering the name", async () => {
    const body = hex(`
      02                         // resource_type_filter TOPIC
      05 74312d78                // resource_name_filter compact "t1-x"
      02                         // pattern_type_filter MATCH
      0b 557365723a616c696365    // principal_filter compact "User:alice"
      00                         // host_filter compact null
      01                         // operation ANY
      01                         // permission_type ANY
      00                         // no tagged fields
    `);
    const response = await exchange(admin, requestFrame({ apiKey: 29, apiVersion: 2, correlationId: 14, flexibleHeader: true }, body));
    expect(response).toBe(
      toHex(
        hex(`
          0000000e 00               // correlation id, header tagged fields
          00000000                  // throttle_time_ms
          0000                      // error_code
          00                        // error_message compact null
          02                        // resources: 1
          02                        //   resource_type TOPIC
          03 7431                   //   resource_name "t1"
          04                        //   pattern_type PREFIXED
          02                        //   acls: 1
          0b 557365723a616c696365   //     principal
          02 2a                     //     host
          03                        //     operation READ
          03                        //     permission_type ALLOW
          00                        //     no tagged fields
          00                        //   no tagged fields
          00                        // no tagged fields
        `),
      ),
    );
  });

  test("DeleteAcls v1 deletes what the filter matches and lists it", async () => {
    const body = hex(`
      00000001    // filters: 1
      02          //   resource_type_filter TOPIC
      0002 7431   //   resource_name_filter "t1"
      04          //   pattern_type_filter PREFIXED
      ffff        //   principal_filter null
      ffff        //   host_filter null
      01          //   operation ANY
      01          //   permission_type ANY
    `);
    const response = await exchange(admin, requestFrame({ apiKey: 31, apiVersion: 1, correlationId: 15 }, body));
    expect(response).toBe(
      toHex(
        hex(`
          0000000f                   // correlation id
          00000000                   // throttle_time_ms
          00000001                   // filter_results: 1
          0000                       //   error_code
          ffff                       //   error_message null
          00000001                   //   matching_acls: 1
          0000                       //     error_code
          ffff                       //     error_message null
          02                         //     resource_type TOPIC
          0002 7431                  //     resource_name "t1"
          04                         //     pattern_type PREFIXED
          000a 557365723a616c696365  //     principal
          0001 2a                    //     host
          03                         //     operation READ
          03                         //     permission_type ALLOW
        `),
      ),
    );
    // The same filter again matches nothing.
    expect(await exchange(admin, requestFrame({ apiKey: 31, apiVersion: 1, correlationId: 16 }, body))).toBe(
      toHex(hex(`00000010 00000000 00000001 0000 ffff 00000000`)),
    );
  });

  test("DeleteAcls v2 (flexible) removes the literal ACL", async () => {
    const body = hex(`
      02                         // filters: 1
      01                         //   resource_type_filter ANY
      00                         //   resource_name_filter compact null
      01                         //   pattern_type_filter ANY
      0b 557365723a616c696365    //   principal_filter "User:alice"
      00                         //   host_filter null
      08                         //   operation DESCRIBE
      02                         //   permission_type DENY
      00                         //   no tagged fields
      00                         // no tagged fields
    `);
    expect(await exchange(admin, requestFrame({ apiKey: 31, apiVersion: 2, correlationId: 17, flexibleHeader: true }, body))).toBe(
      toHex(
        hex(`
          00000011 00                // correlation id, header tagged fields
          00000000                   // throttle_time_ms
          02                         // filter_results: 1
          0000 00                    //   error_code, error_message null
          02                         //   matching_acls: 1
          0000 00                    //     error_code, error_message null
          02 03 7432 03              //     TOPIC "t2" LITERAL
          0b 557365723a616c696365    //     principal
          02 2a 08 02                //     host "*", DESCRIBE, DENY
          00                         //     no tagged fields
          00                         //   no tagged fields
          00                         // no tagged fields
        `),
      ),
    );
  });

  test("invalid creations and filters get INVALID_REQUEST with Kafka's message", async () => {
    const body = concat(
      int32(2),
      Uint8Array.of(4), str("my-cluster"), Uint8Array.of(3), str("User:alice"), str("*"), Uint8Array.of(7, 3), // CLUSTER named other than kafka-cluster
      Uint8Array.of(2), str("t"), Uint8Array.of(3), str("User:alice"), str("*"), Uint8Array.of(0, 3), //         operation UNKNOWN
    );
    expect(await exchange(admin, requestFrame({ apiKey: 30, apiVersion: 1, correlationId: 18 }, body))).toBe(
      toHex(
        concat(
          int32(18), int32(0), int32(2),
          int16(E.INVALID_REQUEST), str("The only valid name for the CLUSTER resource is kafka-cluster"),
          int16(E.INVALID_REQUEST), str("Invalid operation UNKNOWN"),
        ),
      ),
    );
    // A DescribeAcls filter with operation UNKNOWN (0).
    const filter = concat(Uint8Array.of(2), int16(-1), Uint8Array.of(3), int16(-1), int16(-1), Uint8Array.of(0, 1));
    expect(await exchange(admin, requestFrame({ apiKey: 29, apiVersion: 1, correlationId: 19 }, filter))).toBe(
      toHex(concat(int32(19), int32(0), int16(E.INVALID_REQUEST), str("Unknown entryFilter."), int32(0))),
    );
  });

  test("without ALTER / DESCRIBE on the cluster: CLUSTER_AUTHORIZATION_FAILED where each response has room for it", async () => {
    const anon = await RawClient.connect(plaintext().host, plaintext().port);
    const alice = await loggedIn("alice");
    const message = "Cluster authorization failed.";
    for (const c of [anon, alice]) {
      const creation = concat(int32(1), Uint8Array.of(2), str("t"), Uint8Array.of(3), str("User:x"), str("*"), Uint8Array.of(3, 3));
      expect(await exchange(c, requestFrame({ apiKey: 30, apiVersion: 1, correlationId: 21 }, creation))).toBe(
        toHex(concat(int32(21), int32(0), int32(1), int16(E.CLUSTER_AUTHORIZATION_FAILED), str(message))),
      );
      const filter = concat(Uint8Array.of(1), int16(-1), Uint8Array.of(1), int16(-1), int16(-1), Uint8Array.of(1, 1));
      expect(await exchange(c, requestFrame({ apiKey: 29, apiVersion: 1, correlationId: 22 }, filter))).toBe(
        toHex(concat(int32(22), int32(0), int16(E.CLUSTER_AUTHORIZATION_FAILED), str(message), int32(0))),
      );
      expect(await exchange(c, requestFrame({ apiKey: 31, apiVersion: 1, correlationId: 23 }, concat(int32(1), filter)))).toBe(
        toHex(concat(int32(23), int32(0), int32(1), int16(E.CLUSTER_AUTHORIZATION_FAILED), str(message), int32(0))),
      );
    }
    anon.close();
    alice.close();
  });

  test("without an authorizer the ACL APIs answer SECURITY_DISABLED, as Kafka does", async () => {
    await using d = await tempDir();
    await using plain = await startBroker({ dataDir: d.path, logLevel: "error" });
    const c = await RawClient.connect(plain.host, plain.port);
    const filter = concat(Uint8Array.of(1), int16(-1), Uint8Array.of(1), int16(-1), int16(-1), Uint8Array.of(1, 1));
    expect(await exchange(c, requestFrame({ apiKey: 29, apiVersion: 1, correlationId: 1 }, filter))).toBe(
      toHex(concat(int32(1), int32(0), int16(E.SECURITY_DISABLED), str("No Authorizer is configured on the broker"), int32(0))),
    );
    const creation = concat(int32(1), Uint8Array.of(2), str("t"), Uint8Array.of(3), str("User:x"), str("*"), Uint8Array.of(3, 3));
    expect(await exchange(c, requestFrame({ apiKey: 30, apiVersion: 1, correlationId: 2 }, creation))).toBe(
      toHex(concat(int32(2), int32(0), int32(1), int16(E.SECURITY_DISABLED), str("No Authorizer is configured."))),
    );
    expect(await exchange(c, requestFrame({ apiKey: 31, apiVersion: 1, correlationId: 3 }, concat(int32(1), filter)))).toBe(
      toHex(concat(int32(3), int32(0), int32(1), int16(E.SECURITY_DISABLED), str("No Authorizer is configured."), int32(0))),
    );
    c.close();
  });
});

// ---- every API, as an unprivileged principal ------------------------------------------------------

describe("each API's checks (User:ANONYMOUS on the PLAINTEXT listener)", () => {
  let client: KafkaClient;
  let authorizer: Authorizer;
  const ANON = "User:ANONYMOUS";

  const grant = (operation: number, resourceType: number, resourceName: string, more: Partial<AclBinding> = {}) =>
    expect(authorizer.create([{ principal: ANON, host: "*", operation, resourceType, resourceName, patternType: PatternType.LITERAL, permission: Permission.ALLOW, ...more }], "test")).toEqual([null]);
  const topic = (label: string, partitions = 1) => {
    const name = topicName(label);
    broker.broker.topics.create(name, partitions);
    return name;
  };

  beforeAll(async () => {
    authorizer = broker.broker.authorizer!;
    client = await KafkaClient.connect(plaintext().address);
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
  });
  afterEach(() => {
    authorizer.delete([{ resourceType: Res.ANY, resourceName: null, patternType: PatternType.ANY, principal: ANON, host: null, operation: Op.ANY, permission: Permission.ANY }], "test");
  });

  test("Produce: WRITE on each topic, checked before existence; transactional batches need WRITE on the transactional id", async () => {
    const allowed = topic("acl-produce-ok");
    const refused = topic("acl-produce-no");
    grant(Op.WRITE, Res.TOPIC, allowed);
    const records = batch(null, 0, ["v"]);
    const r = await client.request(Produce, 9, {
      acks: -1,
      timeoutMs: 5000,
      topicData: [allowed, refused, "acl-missing-topic"].map((name) => ({ name, partitionData: [{ index: 0, records }] })),
    });
    expect(r.responses.map((t) => t.partitionResponses.map((p) => p.errorCode))).toEqual([[E.NONE], [E.TOPIC_AUTHORIZATION_FAILED], [E.TOPIC_AUTHORIZATION_FAILED]]);
    const txn = await client.request(Produce, 9, {
      transactionalId: "acl-tx",
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: allowed, partitionData: [{ index: 0, records: batch({ producerId: 1, producerEpoch: 0 }, 0, ["t"], true) }] }],
    });
    expect(txn.responses[0]!.partitionResponses[0]!.errorCode).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  test("Fetch READ and ListOffsets DESCRIBE per topic; DescribeProducers READ", async () => {
    const readable = topic("acl-fetch-ok");
    const other = topic("acl-fetch-no");
    grant(Op.READ, Res.TOPIC, readable);
    const f = await client.request(Fetch, 12, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      topics: [readable, other].map((t) => ({ topic: t, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] })),
    });
    expect(f.responses.map((t) => t.partitions[0]!.errorCode)).toEqual([E.NONE, E.TOPIC_AUTHORIZATION_FAILED]);
    const lo = await client.request(ListOffsets, 7, { replicaId: -1, topics: [readable, other].map((name) => ({ name, partitions: [{ partitionIndex: 0, timestamp: -1 }] })) });
    expect(lo.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([E.NONE, E.TOPIC_AUTHORIZATION_FAILED]);
    const dp = await client.request(DescribeProducers, 0, { topics: [readable, other].map((name) => ({ name, partitionIndexes: [0] })) });
    expect(dp.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([E.NONE, E.TOPIC_AUTHORIZATION_FAILED]);
  });

  test("Metadata: undescribable topics are left out of 'all', refused by name (no id); auto-creation needs CREATE", async () => {
    const visible = topic("acl-md-ok");
    const hidden = topic("acl-md-no");
    grant(Op.READ, Res.TOPIC, visible);
    const all = await client.request(Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true });
    expect(all.topics.map((t) => t.name)).toEqual([visible]);
    // READ implies DESCRIBE: the bits of READ (3) and DESCRIBE (8).
    expect(all.topics[0]!.topicAuthorizedOperations).toBe((1 << Op.READ) | (1 << Op.DESCRIBE));
    const named = await client.request(Metadata, 12, { topics: [{ name: hidden }, { name: visible }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(named.topics.map((t) => [t.name, t.errorCode, t.topicId])).toEqual([
      [visible, E.NONE, broker.broker.topics.get(visible)!.id],
      [hidden, E.TOPIC_AUTHORIZATION_FAILED, "0".repeat(32)],
    ]);
    expect(named.topics[0]!.topicAuthorizedOperations).toBe(NOT_REQUESTED);
    // By id, a refused topic keeps its id but not its name.
    const byId = await client.request(Metadata, 12, { topics: [{ topicId: broker.broker.topics.get(hidden)!.id, name: null }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(byId.topics.map((t) => [t.name, t.errorCode])).toEqual([[null, E.TOPIC_AUTHORIZATION_FAILED]]);

    const wanted = topicName("acl-md-auto");
    grant(Op.DESCRIBE, Res.TOPIC, wanted);
    const noCreate = await client.request(Metadata, 9, { topics: [{ name: wanted }], allowAutoTopicCreation: true });
    expect(noCreate.topics.map((t) => [t.name, t.errorCode])).toEqual([[wanted, E.TOPIC_AUTHORIZATION_FAILED]]);
    expect(broker.broker.topics.get(wanted)).toBeUndefined();
    grant(Op.CREATE, Res.TOPIC, wanted);
    const created = await client.request(Metadata, 9, { topics: [{ name: wanted }], allowAutoTopicCreation: true });
    expect(created.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([[wanted, E.NONE, 1]]);
    // The cluster's operations (v8–v10) are 0 without DESCRIBE on the cluster.
    const v10 = await client.request(Metadata, 10, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true });
    expect(v10.clusterAuthorizedOperations).toBe(0);
  });

  test("groups: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup need READ (DESCRIBE to find); GROUP_AUTHORIZATION_FAILED", async () => {
    const g = topicName("acl-group");
    const fc = await client.request(FindCoordinator, 4, { keyType: 0, coordinatorKeys: [g] });
    expect(fc.coordinators.map((c) => [c.errorCode, c.nodeId])).toEqual([[E.GROUP_AUTHORIZATION_FAILED, -1]]);
    const fc3 = await client.request(FindCoordinator, 3, { keyType: 0, key: g });
    expect([fc3.errorCode, fc3.errorMessage, fc3.nodeId, fc3.host, fc3.port]).toEqual([E.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.", -1, "", -1]);
    const join = await client.request(JoinGroup, 9, { groupId: g, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }] });
    expect([join.errorCode, join.generationId, join.memberId]).toEqual([E.GROUP_AUTHORIZATION_FAILED, -1, ""]);
    const sync = await client.request(SyncGroup, 5, { groupId: g, generationId: 1, memberId: "m", protocolType: "consumer", protocolName: "range", assignments: [] });
    expect(sync.errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED);
    expect((await client.request(Heartbeat, 4, { groupId: g, generationId: 1, memberId: "m" })).errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED);
    const leave = await client.request(LeaveGroup, 5, { groupId: g, members: [{ memberId: "m" }] });
    expect([leave.errorCode, leave.members]).toEqual([E.GROUP_AUTHORIZATION_FAILED, []]);
    // With READ on the group, joining works (a dynamic member first gets MEMBER_ID_REQUIRED, 79).
    grant(Op.READ, Res.GROUP, g);
    const joined = await client.request(JoinGroup, 9, { groupId: g, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }] });
    expect(joined.errorCode).toBe(79);
  });

  test("OffsetCommit: READ on the group, then READ per topic; OffsetFetch: DESCRIBE on both, where each version reports it", async () => {
    const g = topicName("acl-offsets");
    const mine = topic("acl-offsets-ok");
    const theirs = topic("acl-offsets-no");
    const commit = () =>
      client.request(OffsetCommit, 8, {
        groupId: g,
        generationIdOrMemberEpoch: -1,
        memberId: "",
        topics: [mine, theirs].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 5 }] })),
      });
    expect((await commit()).topics.map((t) => t.partitions[0]!.errorCode)).toEqual([E.GROUP_AUTHORIZATION_FAILED, E.GROUP_AUTHORIZATION_FAILED]);
    grant(Op.READ, Res.GROUP, g);
    grant(Op.READ, Res.TOPIC, mine);
    expect((await commit()).topics.map((t) => t.partitions[0]!.errorCode)).toEqual([E.NONE, E.TOPIC_AUTHORIZATION_FAILED]);

    const wanted = [mine, theirs].map((name) => ({ name, partitionIndexes: [0] }));
    const v5 = await client.request(OffsetFetch, 5, { groupId: g, topics: wanted });
    expect(v5.errorCode).toBe(E.NONE);
    expect(v5.topics.map((t) => [t.name, t.partitions[0]!.committedOffset, t.partitions[0]!.errorCode])).toEqual([
      [mine, 5, E.NONE],
      [theirs, -1, E.TOPIC_AUTHORIZATION_FAILED],
    ]);
    // All of the group's offsets: only the describable topics.
    const everything = await client.request(OffsetFetch, 5, { groupId: g, topics: null });
    expect(everything.topics.map((t) => t.name)).toEqual([mine]);
    const other = topicName("acl-offsets-other-group");
    const v5denied = await client.request(OffsetFetch, 5, { groupId: other, topics: wanted });
    expect([v5denied.errorCode, v5denied.topics]).toEqual([E.GROUP_AUTHORIZATION_FAILED, []]);
    const v1denied = await client.request(OffsetFetch, 1, { groupId: other, topics: wanted });
    expect(v1denied.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([E.GROUP_AUTHORIZATION_FAILED, E.GROUP_AUTHORIZATION_FAILED]);
    const v8 = await client.request(OffsetFetch, 8, { groups: [{ groupId: g, topics: wanted }, { groupId: other, topics: wanted }] });
    expect(v8.groups.map((x) => x.errorCode)).toEqual([E.NONE, E.GROUP_AUTHORIZATION_FAILED]);
  });

  test("DescribeGroups DESCRIBE per group (with authorized operations), ListGroups filtered, DeleteGroups and OffsetDelete DELETE", async () => {
    const seen = topicName("acl-dg-ok");
    const unseen = topicName("acl-dg-no");
    const t = topic("acl-dg-topic");
    const offsetTopics = [{ name: t, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }];
    // Groups that exist: simple commits (no members) create them.
    for (const g of [seen, unseen]) broker.broker.groups.commitOffsets({ groupId: g, generationId: -1, memberId: "", groupInstanceId: null, retentionTimeMs: -1, topics: offsetTopics });
    grant(Op.DESCRIBE, Res.GROUP, seen);
    const dg = await client.request(DescribeGroups, 5, { groups: [seen, unseen], includeAuthorizedOperations: true });
    expect(dg.groups.map((g) => [g.groupId, g.errorCode, g.authorizedOperations])).toEqual([
      [seen, E.NONE, 1 << Op.DESCRIBE],
      [unseen, E.GROUP_AUTHORIZATION_FAILED, NOT_REQUESTED],
    ]);
    const listed = await client.request(ListGroups, 4, { statesFilter: [] });
    expect(listed.groups.map((g) => g.groupId).filter((id) => id === seen || id === unseen)).toEqual([seen]);
    const od = await client.request(OffsetDelete, 0, { groupId: seen, topics: [{ name: t, partitions: [{ partitionIndex: 0 }] }] });
    expect([od.errorCode, od.topics]).toEqual([E.GROUP_AUTHORIZATION_FAILED, []]);
    grant(Op.DELETE, Res.GROUP, seen);
    const od2 = await client.request(OffsetDelete, 0, { groupId: seen, topics: [{ name: t, partitions: [{ partitionIndex: 0 }] }] });
    expect([od2.errorCode, od2.topics.map((x) => x.partitions[0]!.errorCode)]).toEqual([E.NONE, [E.TOPIC_AUTHORIZATION_FAILED]]);
    const del = await client.request(DeleteGroups, 2, { groupsNames: [seen, unseen] });
    expect(del.results.map((r) => [r.groupId, r.errorCode])).toEqual([
      [seen, E.NONE],
      [unseen, E.GROUP_AUTHORIZATION_FAILED],
    ]);
    // DESCRIBE on the cluster lists every group.
    grant(Op.DESCRIBE, Res.CLUSTER, "kafka-cluster");
    const all = await client.request(ListGroups, 4, { statesFilter: [] });
    expect(all.groups.map((g) => g.groupId)).toContain(unseen);
  });

  test("topic admin: CreateTopics CREATE (configs need DESCRIBE_CONFIGS), DeleteTopics DELETE (DESCRIBE first), CreatePartitions ALTER, DeleteRecords DELETE", async () => {
    const [a, b] = [topicName("acl-ct-a"), topicName("acl-ct-b")];
    grant(Op.CREATE, Res.TOPIC, a);
    const ct = await client.request(CreateTopics, 5, { topics: [a, b].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 5000 });
    expect(ct.topics.map((t) => [t.name, t.errorCode, t.errorMessage, t.topicConfigErrorCode, (t.configs ?? []).length])).toEqual([
      [a, E.NONE, null, E.TOPIC_AUTHORIZATION_FAILED, 0],
      [b, E.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.", E.NONE, 0],
    ]);
    const cp = await client.request(CreatePartitions, 3, { topics: [{ name: a, count: 2, assignments: null }], timeoutMs: 5000, validateOnly: true });
    expect(cp.results.map((r) => r.errorCode)).toEqual([E.TOPIC_AUTHORIZATION_FAILED]);
    const dr = await client.request(DeleteRecords, 2, { topics: [{ name: a, partitions: [{ partitionIndex: 0, offset: 0 }] }], timeoutMs: 5000 });
    expect(dr.topics[0]!.partitions[0]!.errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED);
    const missing = topicName("acl-dt-missing");
    const dt = await client.request(DeleteTopics, 6, { topics: [{ name: a }, { name: missing }], timeoutMs: 5000 });
    expect(dt.responses.map((r) => [r.name, r.errorCode])).toEqual([
      [a, E.TOPIC_AUTHORIZATION_FAILED],
      [missing, E.TOPIC_AUTHORIZATION_FAILED],
    ]);
    // DESCRIBE without DELETE: an existing topic is refused, a missing one is reported missing.
    grant(Op.DESCRIBE, Res.TOPIC, missing);
    const dt2 = await client.request(DeleteTopics, 6, { topics: [{ name: missing }], timeoutMs: 5000 });
    expect(dt2.responses.map((r) => r.errorCode)).toEqual([E.UNKNOWN_TOPIC_OR_PARTITION]);
    grant(Op.DELETE, Res.TOPIC, a);
    const dt3 = await client.request(DeleteTopics, 6, { topics: [{ name: a }], timeoutMs: 5000 });
    expect(dt3.responses.map((r) => r.errorCode)).toEqual([E.NONE]);
  });

  test("configs: DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic or the cluster; DescribeLogDirs DESCRIBE on the cluster", async () => {
    const t = topic("acl-configs");
    grant(Op.DESCRIBE_CONFIGS, Res.TOPIC, t);
    const dc = await client.request(DescribeConfigs, 4, {
      resources: [
        { resourceType: 4, resourceName: "1", configurationKeys: ["num.partitions"] },
        { resourceType: 2, resourceName: t, configurationKeys: ["retention.ms"] },
      ],
    });
    // Refused resources come after the described ones, as in Kafka.
    expect(dc.results.map((r) => [r.resourceType, r.errorCode, r.configs.length])).toEqual([
      [2, E.NONE, 1],
      [4, E.CLUSTER_AUTHORIZATION_FAILED, 0],
    ]);
    const ac = await client.request(AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: t, configs: [{ name: "retention.ms", value: "1000" }] }], validateOnly: true });
    expect(ac.responses.map((r) => [r.errorCode, r.errorMessage])).toEqual([[E.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed."]]);
    const iac = await client.request(IncrementalAlterConfigs, 1, { resources: [{ resourceType: 4, resourceName: "", configs: [{ name: "log.retention.ms", configOperation: 0, value: "1000" }] }], validateOnly: true });
    expect(iac.responses.map((r) => r.errorCode)).toEqual([E.CLUSTER_AUTHORIZATION_FAILED]);
    grant(Op.ALTER_CONFIGS, Res.TOPIC, t);
    const ac2 = await client.request(AlterConfigs, 2, { resources: [{ resourceType: 2, resourceName: t, configs: [{ name: "retention.ms", value: "1000" }] }], validateOnly: true });
    expect(ac2.responses.map((r) => r.errorCode)).toEqual([E.NONE]);
    const ld = await client.request(DescribeLogDirs, 4, { topics: null });
    expect([ld.errorCode, ld.results]).toEqual([E.CLUSTER_AUTHORIZATION_FAILED, []]);
  });

  test("DescribeCluster needs no permission; its authorized operations are 0 without DESCRIBE, ALTER's implications with it", async () => {
    const none = await client.request(DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    expect([none.errorCode, none.clusterAuthorizedOperations, none.brokers.length]).toEqual([E.NONE, 0, 1]);
    grant(Op.ALTER, Res.CLUSTER, "kafka-cluster");
    const some = await client.request(DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    expect(some.clusterAuthorizedOperations).toBe((1 << Op.ALTER) | (1 << Op.DESCRIBE));
  });

  test("transactions: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn; FindCoordinator; Describe/ListTransactions", async () => {
    const tid = topicName("acl-tx");
    const t = topic("acl-tx-topic");
    const refuse = await client.request(InitProducerId, 4, { transactionalId: tid, transactionTimeoutMs: 10000, producerId: -1, producerEpoch: -1 });
    expect([refuse.errorCode, refuse.producerId]).toEqual([E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1]);
    const fc = await client.request(FindCoordinator, 4, { keyType: 1, coordinatorKeys: [tid] });
    expect(fc.coordinators[0]!.errorCode).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // Idempotent producers: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic (KIP-679).
    const idem = () => client.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
    expect((await idem()).errorCode).toBe(E.CLUSTER_AUTHORIZATION_FAILED);
    grant(Op.WRITE, Res.TOPIC, topicName("acl-some-topic"));
    expect((await idem()).errorCode).toBe(E.NONE);

    grant(Op.WRITE, Res.TRANSACTIONAL_ID, tid);
    const p = await client.request(InitProducerId, 4, { transactionalId: tid, transactionTimeoutMs: 10000, producerId: -1, producerEpoch: -1 });
    expect(p.errorCode).toBe(E.NONE);
    const other = topic("acl-tx-other");
    grant(Op.WRITE, Res.TOPIC, t);
    const add = await client.request(AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: tid,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [
        { name: t, partitions: [0, 7] },
        { name: other, partitions: [0] },
      ],
    });
    // One refused topic fails the request: the others are not attempted (or unknown).
    expect(add.resultsByTopicV3AndBelow.map((x) => x.resultsByPartition.map((r) => r.partitionErrorCode))).toEqual([
      [E.OPERATION_NOT_ATTEMPTED, E.UNKNOWN_TOPIC_OR_PARTITION],
      [E.TOPIC_AUTHORIZATION_FAILED],
    ]);
    const g = topicName("acl-tx-group");
    const ao = await client.request(AddOffsetsToTxn, 3, { transactionalId: tid, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId: g });
    expect(ao.errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED);
    grant(Op.READ, Res.GROUP, g);
    expect((await client.request(AddOffsetsToTxn, 3, { transactionalId: tid, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId: g })).errorCode).toBe(E.NONE);
    const toc = await client.request(TxnOffsetCommit, 3, {
      transactionalId: tid,
      groupId: g,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      generationId: -1,
      memberId: "",
      topics: [t, other].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 0 }] })),
    });
    expect(toc.topics.map((x) => x.partitions[0]!.errorCode)).toEqual([E.TOPIC_AUTHORIZATION_FAILED, E.TOPIC_AUTHORIZATION_FAILED]);
    const someoneElse = topicName("acl-tx-else");
    const end = await client.request(EndTxn, 3, { transactionalId: someoneElse, producerId: p.producerId, producerEpoch: p.producerEpoch, committed: false });
    expect(end.errorCode).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await client.request(EndTxn, 3, { transactionalId: tid, producerId: p.producerId, producerEpoch: p.producerEpoch, committed: false })).errorCode).toBe(E.NONE);

    const described = await client.request(DescribeTransactions, 0, { transactionalIds: [tid, someoneElse] });
    expect(described.transactionStates.map((s) => s.errorCode)).toEqual([E.NONE, E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);
    const listed = await client.request(ListTransactions, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1 });
    expect(listed.transactionStates.map((s) => s.transactionalId)).toEqual([tid]);
  });
});
