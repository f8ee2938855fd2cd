// Fault injection at the request level (src/faults): exact requests through Brook's protocol client to a
// broker embedded in this process, checking where each API carries an injected error (per partition for
// Produce/Fetch/ListOffsets, top level or per group for coordinator APIs), that the rest of a partly
// matched request is handled as usual, scoping, counting, the three ways a fault ends, delays that keep
// a connection's order, dropped connections, offline partitions and coordinator moves.
// Every registered API and version is also checked generically: an unscoped error encodes as a valid
// response of that version and lands in an error site.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DescribeGroups, FindCoordinator, Heartbeat, JoinGroup, ListOffsets, Metadata, OffsetCommit, OffsetFetch, Produce } from "../protocol/apis/index.ts";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Reader } from "../protocol/reader.ts";
import type { ApiDefinition, Field, FieldType } from "../protocol/types.ts";
import { Writer } from "../protocol/writer.ts";
import { KafkaClient } from "../src/client.ts";
import { FaultInjector, FaultSpecError } from "../src/faults/injector.ts";
import { errorResponse, levelAt, mergeErrors, shapeOf, splitRequest } from "../src/faults/shape.ts";
import { registry } from "../src/handlers/index.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { batch, dataValues, Wire } from "./helpers/txn.ts";

setDefaultTimeout(30_000);

const { NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, LEADER_NOT_AVAILABLE } = ErrorCode;

let dir: TempDir;
let b: BrokerHandle;
let wire: Wire;

beforeAll(async () => {
  dir = await tempDir("brook-faults-");
  b = await startBroker({ dataDir: dir.path, logLevel: "error", overrides: { "group.initial.rebalance.delay.ms": 0 } });
  wire = await Wire.connect(b.address);
});

afterAll(async () => {
  b.broker.faults.clear();
  wire?.client.close();
  await b?.close();
  await dir?.remove();
});

async function client(clientId = "faults-test"): Promise<KafkaClient> {
  return KafkaClient.connect(b.address, clientId);
}

function produceTo(c: KafkaClient, topic: string, values: Record<number, string[]>, acks = -1) {
  return c.request(Produce, 9, {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: Object.entries(values).map(([p, vs]) => ({ index: Number(p), records: batch(null, 0, vs) })) }],
  });
}

const partitionResults = (r: Awaited<ReturnType<typeof produceTo>>) =>
  r.responses.flatMap((t) => t.partitionResponses.map((p) => [t.name, p.index, p.errorCode, Number(p.baseOffset)] as const)).sort((x, y) => x[1] - y[1]);

describe("nothing by default", () => {
  test("a new broker has no faults and dispatch stays on the fast path", () => {
    expect(b.broker.faults.engaged).toBe(false);
    expect(b.broker.faults.list()).toEqual([]);
  });
});

describe("errors where each API carries them", () => {
  test("Produce: a partition-scoped error answers that partition only; the others are appended; the fault ends after `times`", async () => {
    const topic = topicName("f-produce");
    await wire.createTopic(topic, 2);
    const fault = b.broker.faults.inject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", times: 2, topic, partition: 1 });
    await using c = await client();
    const r1 = await produceTo(c, topic, { 0: ["a"], 1: ["x"] });
    expect(partitionResults(r1)).toEqual([[topic, 0, 0, 0], [topic, 1, NOT_LEADER_OR_FOLLOWER, -1]]);
    const r2 = await produceTo(c, topic, { 0: ["b"], 1: ["x"] });
    expect(partitionResults(r2)).toEqual([[topic, 0, 0, 1], [topic, 1, NOT_LEADER_OR_FOLLOWER, -1]]);
    expect(r2.responses[0]!.partitionResponses.find((p) => p.index === 1)!.errorMessage).toContain(`fault ${fault.id}`);
    expect(fault.fired).toBe(2);
    expect(fault.active).toBe(false);
    const r3 = await produceTo(c, topic, { 1: ["y"] });
    expect(partitionResults(r3)).toEqual([[topic, 1, 0, 0]]);
    // Nothing was written for the refused partition.
    expect(dataValues((await wire.fetch(topic, 1, 0, 0)).records)).toEqual(["y"]);
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a", "b"]);
    expect(b.broker.faults.get(fault.id)).toMatchObject({ fired: 2, matched: 2, active: false, ended: "times" });
    b.broker.faults.clear();
    expect(b.broker.faults.engaged).toBe(false);
  });

  test("Produce: a topic-scoped fault leaves other topics alone, a client-scoped one other clients", async () => {
    const t1 = topicName("f-scope-a");
    const t2 = topicName("f-scope-b");
    await wire.createTopic(t1);
    await wire.createTopic(t2);
    const byTopic = b.broker.faults.inject({ api: "Produce", error: "REQUEST_TIMED_OUT", topic: t1 });
    const byClient = b.broker.faults.inject({ api: "Produce", error: "NOT_ENOUGH_REPLICAS", clientId: "unlucky" });
    await using c = await client();
    await using unlucky = await client("unlucky");
    expect(partitionResults(await produceTo(c, t1, { 0: ["a"] }))).toEqual([[t1, 0, REQUEST_TIMED_OUT, -1]]);
    expect(partitionResults(await produceTo(c, t2, { 0: ["a"] }))).toEqual([[t2, 0, 0, 0]]);
    expect(partitionResults(await produceTo(unlucky, t2, { 0: ["b"] }))).toEqual([[t2, 0, ErrorCode.NOT_ENOUGH_REPLICAS, -1]]);
    expect([byTopic.fired, byClient.fired]).toEqual([1, 1]);
    b.broker.faults.clear();
  });

  test("Fetch and ListOffsets: per partition, Fetch's top-level (session) error stays 0", async () => {
    const topic = topicName("f-fetch");
    await wire.createTopic(topic);
    await wire.produce(topic, 0, batch(null, 0, ["v"]));
    b.broker.faults.inject({ api: ["Fetch", "ListOffsets"], error: "NOT_LEADER_OR_FOLLOWER", topic, times: 2 });
    await using c = await client();
    const f = await c.request((await import("../protocol/apis/index.ts")).Fetch, 12, {
      maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    expect(f.errorCode).toBe(0);
    expect(f.responses[0]!.partitions[0]).toMatchObject({ partitionIndex: 0, errorCode: NOT_LEADER_OR_FOLLOWER, highWatermark: -1 });
    const lo = await c.request(ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
    expect(lo.topics[0]!.partitions[0]).toMatchObject({ partitionIndex: 0, errorCode: NOT_LEADER_OR_FOLLOWER, offset: -1 });
    // both fired once each from the same fault: it ended after two requests
    const lo2 = await c.request(ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
    expect(lo2.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, offset: 1 });
    b.broker.faults.clear();
  });

  test("group APIs: top level (Heartbeat, JoinGroup, OffsetFetch v5), per partition (OffsetCommit, no top-level code), per group (DescribeGroups, OffsetFetch v8)", async () => {
    const fault = b.broker.faults.inject({ api: ["Heartbeat", "JoinGroup", "OffsetCommit", "OffsetFetch", "DescribeGroups"], error: "NOT_COORDINATOR", group: "g1" });
    await using c = await client();
    const hb = await c.request(Heartbeat, 4, { groupId: "g1", generationId: 1, memberId: "m" });
    expect(hb.errorCode).toBe(NOT_COORDINATOR);
    const hbOther = await c.request(Heartbeat, 4, { groupId: "g2", generationId: 1, memberId: "m" });
    expect(hbOther.errorCode).not.toBe(NOT_COORDINATOR);
    const jg = await c.request(JoinGroup, 9, { groupId: "g1", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }] });
    expect([jg.errorCode, jg.generationId, jg.members]).toEqual([NOT_COORDINATOR, -1, []]);
    const oc = await c.request(OffsetCommit, 8, { groupId: "g1", generationIdOrMemberEpoch: -1, memberId: "", topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: null }, { partitionIndex: 1, committedOffset: 5, committedMetadata: null }] }] });
    expect(oc.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode])).toEqual([[0, NOT_COORDINATOR], [1, NOT_COORDINATOR]]);
    const of5 = await c.request(OffsetFetch, 5, { groupId: "g1", topics: [{ name: "t", partitionIndexes: [0] }] });
    expect([of5.errorCode, of5.topics]).toEqual([NOT_COORDINATOR, []]);
    const of8 = await c.request(OffsetFetch, 8, { groups: [{ groupId: "g1", topics: null }, { groupId: "g2", topics: null }] });
    expect(of8.groups.map((g) => [g.groupId, g.errorCode]).sort()).toEqual([["g1", NOT_COORDINATOR], ["g2", 0]]);
    const dg = await c.request(DescribeGroups, 5, { groups: ["g2", "g1"] });
    expect(dg.groups.map((g) => [g.groupId, g.errorCode]).sort()).toEqual([["g1", NOT_COORDINATOR], ["g2", 0]]);
    expect(fault.fired).toBe(6); // every request above but the g2 heartbeat
    b.broker.faults.clear();
  });

  test("FindCoordinator: top level up to v3, per key in v4; transaction keys are not groups", async () => {
    b.broker.faults.inject({ api: "FindCoordinator", error: "COORDINATOR_NOT_AVAILABLE", group: "g1" });
    await using c = await client();
    const v3 = await c.request(FindCoordinator, 3, { key: "g1", keyType: 0 });
    expect([v3.errorCode, v3.nodeId, v3.port]).toEqual([COORDINATOR_NOT_AVAILABLE, -1, -1]);
    const txn = await c.request(FindCoordinator, 3, { key: "g1", keyType: 1 });
    expect(txn.errorCode).toBe(0);
    const v4 = await c.request(FindCoordinator, 4, { keyType: 0, coordinatorKeys: ["g0", "g1"] });
    expect(v4.coordinators.map((k) => [k.key, k.errorCode, k.nodeId]).sort()).toEqual([["g0", 0, 1], ["g1", COORDINATOR_NOT_AVAILABLE, -1]]);
    b.broker.faults.clear();
  });

  test("after: the request is handled, then answered with the error (a lost acknowledgement)", async () => {
    const topic = topicName("f-after");
    await wire.createTopic(topic);
    b.broker.faults.inject({ api: "Produce", error: "REQUEST_TIMED_OUT", after: true, times: 1 });
    await using c = await client();
    expect(partitionResults(await produceTo(c, topic, { 0: ["a"] }))).toEqual([[topic, 0, REQUEST_TIMED_OUT, -1]]);
    expect(partitionResults(await produceTo(c, topic, { 0: ["b"] }))).toEqual([[topic, 0, 0, 1]]);
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a", "b"]);
    b.broker.faults.clear();
  });
});

describe("lifetime and counting", () => {
  test("skip lets N matching requests through; durationMs ends a fault; clear ends one or all", async () => {
    const topic = topicName("f-life");
    await wire.createTopic(topic);
    const f = b.broker.faults;
    const skipped = f.inject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", topic, skip: 1, times: 1 });
    await using c = await client();
    expect(partitionResults(await produceTo(c, topic, { 0: ["a"] }))[0]![2]).toBe(0);
    expect(partitionResults(await produceTo(c, topic, { 0: ["b"] }))[0]![2]).toBe(NOT_LEADER_OR_FOLLOWER);
    expect(skipped.info()).toMatchObject({ matched: 2, fired: 1, active: false });

    const timed = f.inject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", topic, durationMs: 150 });
    expect(partitionResults(await produceTo(c, topic, { 0: ["c"] }))[0]![2]).toBe(NOT_LEADER_OR_FOLLOWER);
    const ended = new Promise<void>((resolve) => {
      const check = () => (timed.active ? setTimeout(check, 20) : resolve());
      check();
    });
    await ended;
    expect(timed.info().ended).toBe("duration");
    expect(partitionResults(await produceTo(c, topic, { 0: ["d"] }))[0]![2]).toBe(0);
    expect(f.engaged).toBe(false);

    const one = f.inject({ api: "Metadata", delayMs: 1 });
    const two = f.inject({ api: "Metadata", delayMs: 1 });
    expect(f.list().map((x) => x.id)).toContain(one.id);
    expect(f.clear(one.id)).toBe(1);
    expect(f.list().map((x) => x.id)).not.toContain(one.id);
    expect(two.active).toBe(true);
    expect(f.clear()).toBeGreaterThanOrEqual(1);
    expect(f.list()).toEqual([]);
    expect(f.engaged).toBe(false);
  });

  test("bad specs are refused with a reason", () => {
    const f = new FaultInjector();
    const bad = (spec: unknown, re: RegExp) => expect(() => f.inject(spec as never)).toThrow(re);
    bad({ api: "Produce" }, /needs an effect/);
    bad({ api: "Nope", error: "NOT_LEADER_OR_FOLLOWER" }, /unknown API/);
    bad({ api: "Produce", error: "NOT_AN_ERROR" }, /unknown error/);
    bad({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", times: 0 }, /times/);
    bad({ api: "Produce", error: 6, drop: true }, /one of/);
    bad({ partition: 1, error: 6 }, /partition needs topic/);
    bad({ unavailable: true }, /needs topic/);
    bad({ api: "Produce", coordinatorMove: true }, /none of the named APIs/);
    bad({ api: "Produce", error: 6, colour: "red" }, /unknown fault property/);
    expect(() => f.inject({ delayMs: -1 })).toThrow(FaultSpecError);
    expect(f.engaged).toBe(false);
  });
});

describe("delays and dropped connections", () => {
  test("a delayed produce holds the connection's later requests: responses and appends stay in order", async () => {
    const topic = topicName("f-delay");
    await wire.createTopic(topic);
    const fault = b.broker.faults.inject({ api: "Produce", delayMs: 300, times: 1 });
    await using c = await client();
    const t0 = performance.now();
    const [r1, r2, r3] = await Promise.all([produceTo(c, topic, { 0: ["a"] }), produceTo(c, topic, { 0: ["b"] }), produceTo(c, topic, { 0: ["c"] })]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect([r1, r2, r3].map((r) => Number(r.responses[0]!.partitionResponses[0]!.baseOffset))).toEqual([0, 1, 2]);
    expect(fault.fired).toBe(1);
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a", "b", "c"]);
    await Promise.resolve();
    expect(b.broker.faults.engaged).toBe(false);
  });

  test("drop after N requests closes the connection; with after: true the request was handled first", async () => {
    const topic = topicName("f-drop");
    await wire.createTopic(topic);
    const fault = b.broker.faults.inject({ api: "Produce", drop: true, skip: 2, times: 1 });
    await using c = await client();
    await produceTo(c, topic, { 0: ["a"] });
    await produceTo(c, topic, { 0: ["b"] });
    await expect(produceTo(c, topic, { 0: ["lost"] })).rejects.toThrow(/closed/);
    expect(c.closed).toBe(true);
    expect(fault.info()).toMatchObject({ matched: 3, fired: 1 });

    b.broker.faults.inject({ api: "Produce", drop: true, after: true, times: 1 });
    await using c2 = await client();
    await expect(produceTo(c2, topic, { 0: ["handled"] })).rejects.toThrow(/closed/);
    expect(dataValues((await wire.fetch(topic, 0, 0, 0)).records)).toEqual(["a", "b", "handled"]);
    b.broker.faults.clear();
  });

  test("an errored acks=0 produce closes the connection, as Kafka does", async () => {
    const topic = topicName("f-acks0");
    await wire.createTopic(topic);
    b.broker.faults.inject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", times: 1 });
    await using c = await client();
    await produceTo(c, topic, { 0: ["a"] }, 0);
    await expect(produceTo(c, topic, { 0: ["b"] })).rejects.toThrow(/closed/);
    b.broker.faults.clear();
  });
});

describe("offline partitions and coordinator moves", () => {
  test("an unavailable partition has no leader in Metadata and refuses produce until the time is up", async () => {
    const topic = topicName("f-offline");
    await wire.createTopic(topic, 2);
    const fault = b.broker.faults.partitionUnavailable({ topic, partition: 1, durationMs: 60_000 });
    await using c = await client();
    const md = await c.request(Metadata, 12, { topics: [{ topicId: "0".repeat(32), name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const parts = md.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.isrNodes]).sort();
    expect(parts).toEqual([[0, 0, 1, [1]], [1, LEADER_NOT_AVAILABLE, -1, []]]);
    expect(partitionResults(await produceTo(c, topic, { 0: ["a"], 1: ["b"] }))).toEqual([[topic, 0, 0, 0], [topic, 1, NOT_LEADER_OR_FOLLOWER, -1]]);
    fault.clear();
    expect(partitionResults(await produceTo(c, topic, { 1: ["b"] }))).toEqual([[topic, 1, 0, 0]]);
    b.broker.faults.clear();
  });

  test("a coordinator move: group APIs answer NOT_COORDINATOR, FindCoordinator COORDINATOR_NOT_AVAILABLE, for that group only", async () => {
    const fault = b.broker.faults.coordinatorMove({ group: "moved", durationMs: 60_000 });
    await using c = await client();
    expect((await c.request(FindCoordinator, 3, { key: "moved", keyType: 0 })).errorCode).toBe(COORDINATOR_NOT_AVAILABLE);
    expect((await c.request(FindCoordinator, 3, { key: "stays", keyType: 0 })).errorCode).toBe(0);
    expect((await c.request(Heartbeat, 4, { groupId: "moved", generationId: 1, memberId: "m" })).errorCode).toBe(NOT_COORDINATOR);
    expect(fault.fired).toBe(2);
    fault.clear();
    expect((await c.request(FindCoordinator, 3, { key: "moved", keyType: 0 })).errorCode).toBe(0);
    b.broker.faults.clear();
  });
});

// ---- every API and version: the generic placement ----

/** A request with one element in every array, so every mirrored level has a unit. */
function sample(fields: readonly Field[], version: number, flexible: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (version < (f.since ?? 0) || version > (f.until ?? Infinity) || (f.tag !== undefined && !flexible)) continue;
    o[f.name] = sampleValue(f.type, version, flexible);
  }
  return o;
}
function sampleValue(t: FieldType, version: number, flexible: boolean): unknown {
  if (typeof t === "string") return t === "string" ? "s" : t === "int32" || t === "int16" || t === "int8" ? 0 : undefined;
  if (t.kind === "struct") return sample(t.fields, version, flexible);
  return [sampleValue(t.of, version, flexible)];
}

function roundTrip(def: ApiDefinition, version: number, body: unknown): any {
  const w = new Writer(256);
  responseCodec(def, version).encode(w, body as never);
  return responseCodec(def, version).decode(new Reader(w.finish()));
}

/** Every error code in a decoded response, with its path. */
function errorCodes(o: unknown, path = ""): [string, number][] {
  if (Array.isArray(o)) return o.flatMap((x, i) => errorCodes(x, `${path}[${i}]`));
  if (o && typeof o === "object" && !(o instanceof Uint8Array))
    return Object.entries(o).flatMap(([k, v]) => (/errorCode$/i.test(k) && typeof v === "number" ? [[`${path}.${k}`, v] as [string, number]] : errorCodes(v, `${path}.${k}`)));
  return [];
}

describe("generic placement for every served API and version", () => {
  const cases = [...registry.values()].flatMap((h) => {
    const out: [string, number][] = [];
    for (let v = h.api.versions[0]; v <= h.api.versions[1]; v++) out.push([h.api.name, v]);
    return out;
  });
  test.each(cases)("%s v%d", (name, version) => {
    const def = [...registry.values()].find((h) => h.api.name === name)!.api;
    const flexible = version >= def.flexible;
    // the sample must itself be a valid request of this version
    const w = new Writer(64);
    requestCodec(def, version).encode(w, sample(def.request, version, flexible) as never);
    const request = requestCodec(def, version).decode(new Reader(w.finish()));
    const shape = shapeOf(def, version);
    const err = { code: REQUEST_TIMED_OUT, message: "m" };
    let body: unknown;
    if (shape.placement === 0) body = errorResponse(shape, err);
    else if (shape.placement > 0) {
      const split = splitRequest(shape, request, () => err);
      expect(split.rest).toBeNull(); // every unit errored: the handler is not called
      body = mergeErrors(shape, {}, split.errors!, false);
      expect(levelAt(shape, shape.placement).errorField).not.toBeNull();
    } else {
      // No error site this version can reach: listed here, so a new API cannot silently lose injected
      // errors. DescribeLogDirs v0–2 answers errors per log dir, which a request does not name;
      // AlterUserScramCredentials answers one result per user named in either of two request lists;
      // ElectLeaders v0 per partition under differently named arrays (partitions → partitionResult) and
      // no top-level code; AlterClientQuotas per entity, a list of (type, name) pairs rather than a name;
      // CreateAcls and DeleteAcls per creation / filter by position, with no name to mirror.
      expect(`${name} v${version}`).toMatch(/^(DescribeLogDirs v[0-2]|AlterUserScramCredentials v0|ElectLeaders v0|AlterClientQuotas v[01]|CreateAcls v[0-3]|DeleteAcls v[0-3])$/);
      return;
    }
    const codes = errorCodes(roundTrip(def, version, body));
    expect(codes.filter(([, c]) => c === REQUEST_TIMED_OUT).length).toBeGreaterThanOrEqual(1);
    // other error codes in the response (Fetch's session error, CreateTopics' config error) stay 0
    expect(codes.filter(([, c]) => c !== REQUEST_TIMED_OUT)).toEqual(codes.filter(([, c]) => c === 0));
  });
});
