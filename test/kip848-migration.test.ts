// Mixed groups (KIP-848's online migration between the classic and the consumer protocol) request by
// request, in bytes built from the spec: JoinGroup v5/v7, SyncGroup v3/v5, Heartbeat v3, LeaveGroup v3
// and OffsetCommit v7 to a consumer group, ConsumerGroupHeartbeat v1, and the embedded consumer protocol
// (ConsumerProtocolSubscription v0–v3, ConsumerProtocolAssignment). Covers the online upgrade of a classic
// group with members, classic members working inside the consumer group (rejoin on REBALANCE_IN_PROGRESS,
// cooperative revocation, eager members, commits with their generation), the errors they get, LeaveGroup
// of either kind of member, the downgrade when the last new-protocol member leaves or is replaced by a
// classic static member, their session/join/sync timeouts, the group.consumer.migration.policy values,
// the refusals Kafka sends, and a mixed group across a restart.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ErrorCode as E } from "../protocol/errors.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { until } from "./helpers/poll.ts";
import { ByteReader, bytes, concat, int16, int32, int64, nullableStr, RawClient, requestFrame, str, uvarint } from "./helpers/wire.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

const OVERRIDES = {
  "group.consumer.heartbeat.interval.ms": 250,
  "group.consumer.min.heartbeat.interval.ms": 100,
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 500,
};

// ---- the embedded consumer protocol, by ConsumerProtocolSubscription.json / ConsumerProtocolAssignment.json

interface TPs {
  topic: string;
  partitions: number[];
}
const tpArray = (tps: TPs[]) => concat(int32(tps.length), ...tps.map((tp) => concat(str(tp.topic), int32(tp.partitions.length), ...tp.partitions.map(int32))));

/** ConsumerProtocolSubscription: v0 topics + user data, v1 owned partitions, v2 generation, v3 rack. */
function subscription(topics: string[], owned: TPs[] = [], version = 1, userData: Uint8Array | null = null): Uint8Array {
  return concat(
    int16(version),
    int32(topics.length),
    ...topics.map(str),
    userData === null ? int32(-1) : bytes(userData),
    version >= 1 ? tpArray(owned) : new Uint8Array(0),
    version >= 2 ? int32(-1) : new Uint8Array(0),
    version >= 3 ? int16(-1) : new Uint8Array(0),
  );
}

function assignment(tps: TPs[], version = 1, userData: Uint8Array | null = null): Uint8Array {
  return concat(int16(version), tpArray(tps), userData === null ? int32(-1) : bytes(userData));
}

/** Reads a ConsumerProtocolAssignment: version, topic → sorted partitions, user data. */
function readAssignment(b: Uint8Array): { version: number; partitions: Record<string, number[]>; userData: Uint8Array | null } {
  const r = new ByteReader(b);
  const version = r.int16();
  const partitions: Record<string, number[]> = {};
  for (let n = r.int32(); n > 0; n--) {
    const topic = r.string()!;
    const ps: number[] = [];
    for (let k = r.int32(); k > 0; k--) ps.push(r.int32());
    partitions[topic] = ps.sort((x, y) => x - y);
  }
  const len = r.int32();
  const userData = len < 0 ? null : b.subarray(r.offset, r.offset + len);
  return { version, partitions, userData };
}

// ---- flexible encoding (compact strings/arrays, tagged fields) -----------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);
const TAGS = Uint8Array.of(0);
const cstr = (s: string | null) => (s === null ? uvarint(0) : concat(uvarint(utf8(s).length + 1), utf8(s)));
const cbytes = (b: Uint8Array) => concat(uvarint(b.length + 1), b);
const carr = <T>(items: T[] | null, enc: (x: T) => Uint8Array) => (items === null ? uvarint(0) : concat(uvarint(items.length + 1), ...items.map(enc)));

class Flex extends ByteReader {
  uvarint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.buf[this.offset++]!;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
    }
  }
  cstr(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    const s = new TextDecoder().decode(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }
  cbytes(): Uint8Array | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    const b = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
  uuid(): string {
    const s = [...this.buf.subarray(this.offset, this.offset + 16)].map((x) => x.toString(16).padStart(2, "0")).join("");
    this.offset += 16;
    return s;
  }
  carr<T>(dec: () => T): T[] | null {
    const n = this.uvarint() - 1;
    return n < 0 ? null : Array.from({ length: n }, dec);
  }
  tags(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint();
      this.offset += this.uvarint();
    }
  }
}

// ---- one member's connection ------------------------------------------------------------------------

interface JoinAnswer {
  errorCode: number;
  generationId: number;
  protocolType?: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; metadata: Uint8Array }[];
}

interface Heartbeat {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId?: string | null;
  rebalanceTimeoutMs?: number;
  topics?: string[] | null;
  owned?: { topicId: string; partitions: number[] }[] | null;
}

interface HeartbeatAnswer {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

/** A connection of its own per member, as clients have (a parked JoinGroup holds up its connection). */
class Conn {
  private correlation = 1;
  private constructor(private readonly raw: RawClient) {}

  static async open(b: BrokerHandle): Promise<Conn> {
    const c = new Conn(await RawClient.connect(b.host, b.port));
    conns.push(c);
    return c;
  }

  close(): void {
    this.raw.close();
  }

  private async call(apiKey: number, apiVersion: number, body: Uint8Array, flexible: boolean): Promise<Flex> {
    const correlationId = this.correlation++;
    this.raw.send(requestFrame({ apiKey, apiVersion, correlationId, flexibleHeader: flexible }, body));
    const r = await this.raw.response(20_000);
    expect(r.int32()).toBe(correlationId);
    const f = new Flex(r.buf.subarray(r.offset));
    if (flexible) f.tags();
    return f;
  }

  /** JoinGroup v5 (non-flexible). */
  async join(
    groupId: string,
    o: { memberId?: string; instanceId?: string | null; protocolType?: string; protocols: { name: string; metadata: Uint8Array }[]; sessionTimeoutMs?: number; rebalanceTimeoutMs?: number },
  ): Promise<JoinAnswer> {
    const body = concat(
      str(groupId),
      int32(o.sessionTimeoutMs ?? 10_000),
      int32(o.rebalanceTimeoutMs ?? 10_000),
      str(o.memberId ?? ""),
      nullableStr(o.instanceId ?? null),
      str(o.protocolType ?? "consumer"),
      int32(o.protocols.length),
      ...o.protocols.map((p) => concat(str(p.name), bytes(p.metadata))),
    );
    const r = await this.call(11, 5, body, false);
    r.int32(); // throttle
    const errorCode = r.int16();
    const generationId = r.int32();
    const protocolName = r.string();
    const leader = r.string()!;
    const memberId = r.string()!;
    const members: JoinAnswer["members"] = [];
    for (let n = r.int32(); n > 0; n--) {
      const id = r.string()!;
      r.string(); // group instance id
      const len = r.int32();
      members.push({ memberId: id, metadata: r.buf.slice(r.offset, r.offset + len) });
      r.offset += len;
    }
    return { errorCode, generationId, protocolName, leader, memberId, members };
  }

  /** JoinGroup v4+ the KIP-394 way: MEMBER_ID_REQUIRED with an id first, then the join with it. */
  async joinNew(groupId: string, o: Parameters<Conn["join"]>[1]): Promise<JoinAnswer> {
    const first = await this.join(groupId, o);
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    return this.join(groupId, { ...o, memberId: first.memberId });
  }

  /** JoinGroup v7 (flexible; the response names the protocol type). */
  async joinV7(groupId: string, memberId: string, protocols: { name: string; metadata: Uint8Array }[]): Promise<JoinAnswer> {
    const body = concat(
      cstr(groupId),
      int32(10_000),
      int32(10_000),
      cstr(memberId),
      cstr(null),
      cstr("consumer"),
      carr(protocols, (p) => concat(cstr(p.name), cbytes(p.metadata), TAGS)),
      TAGS,
    );
    const r = await this.call(11, 7, body, true);
    r.int32();
    const errorCode = r.int16();
    const generationId = r.int32();
    const protocolType = r.cstr();
    const protocolName = r.cstr();
    const leader = r.cstr()!;
    const id = r.cstr()!;
    const members = r.carr(() => {
      const m = { memberId: r.cstr()!, instanceId: r.cstr(), metadata: r.cbytes()! };
      r.tags();
      return { memberId: m.memberId, metadata: m.metadata };
    })!;
    r.tags();
    return { errorCode, generationId, protocolType, protocolName, leader, memberId: id, members };
  }

  /** SyncGroup v3 (non-flexible). */
  async sync(groupId: string, generationId: number, memberId: string, assignments: { memberId: string; assignment: Uint8Array }[] = [], instanceId: string | null = null) {
    const body = concat(
      str(groupId),
      int32(generationId),
      str(memberId),
      nullableStr(instanceId),
      int32(assignments.length),
      ...assignments.map((a) => concat(str(a.memberId), bytes(a.assignment))),
    );
    const r = await this.call(14, 3, body, false);
    r.int32();
    const errorCode = r.int16();
    const len = r.int32();
    return { errorCode, assignment: r.buf.slice(r.offset, r.offset + len) };
  }

  /** SyncGroup v5 (flexible, with protocol type and name). */
  async syncV5(groupId: string, generationId: number, memberId: string, protocolType: string | null, protocolName: string | null) {
    const body = concat(cstr(groupId), int32(generationId), cstr(memberId), cstr(null), cstr(protocolType), cstr(protocolName), carr([], () => new Uint8Array(0)), TAGS);
    const r = await this.call(14, 5, body, true);
    r.int32();
    const errorCode = r.int16();
    const type = r.cstr();
    const name = r.cstr();
    const assignmentBytes = r.cbytes()!;
    r.tags();
    return { errorCode, protocolType: type, protocolName: name, assignment: assignmentBytes };
  }

  /** Heartbeat v3. */
  async heartbeat(groupId: string, generationId: number, memberId: string, instanceId: string | null = null): Promise<number> {
    const r = await this.call(12, 3, concat(str(groupId), int32(generationId), str(memberId), nullableStr(instanceId)), false);
    r.int32();
    return r.int16();
  }

  /** LeaveGroup v3: the top-level error and each member's. */
  async leave(groupId: string, members: { memberId: string; instanceId?: string | null }[]) {
    const body = concat(str(groupId), int32(members.length), ...members.map((m) => concat(str(m.memberId), nullableStr(m.instanceId ?? null))));
    const r = await this.call(13, 3, body, false);
    r.int32();
    const errorCode = r.int16();
    const out: { memberId: string; instanceId: string | null; errorCode: number }[] = [];
    for (let n = r.int32(); n > 0; n--) out.push({ memberId: r.string()!, instanceId: r.string(), errorCode: r.int16() });
    return { errorCode, members: out };
  }

  /** OffsetCommit v7 of one partition: its error code. */
  async commit(groupId: string, generationId: number, memberId: string, topic: string, partition: number, offset: number): Promise<number> {
    const body = concat(
      str(groupId),
      int32(generationId),
      str(memberId),
      nullableStr(null),
      int32(1),
      str(topic),
      int32(1),
      int32(partition),
      int64(offset),
      int32(-1),
      nullableStr(null),
    );
    const r = await this.call(8, 7, body, false);
    r.int32();
    r.int32(); // one topic
    r.string();
    r.int32(); // one partition
    r.int32();
    return r.int16();
  }

  /** ConsumerGroupHeartbeat v1. */
  async cgh(h: Heartbeat): Promise<HeartbeatAnswer> {
    const body = concat(
      cstr(h.groupId),
      cstr(h.memberId),
      int32(h.memberEpoch),
      cstr(h.instanceId ?? null),
      cstr(null),
      int32(h.rebalanceTimeoutMs ?? -1),
      carr(h.topics === undefined ? null : h.topics, cstr),
      cstr(null),
      cstr(null),
      carr(h.owned === undefined ? null : h.owned, (tp) => concat(uuidBytes(tp.topicId), carr(tp.partitions, int32), TAGS)),
      TAGS,
    );
    const r = await this.call(68, 1, body, true);
    r.int32();
    const errorCode = r.int16();
    const errorMessage = r.cstr();
    const memberId = r.cstr();
    const memberEpoch = r.int32();
    r.int32(); // heartbeat interval
    let assigned: HeartbeatAnswer["assignment"] = null;
    if (r.int8() >= 0) {
      assigned = r.carr(() => {
        const topicId = r.uuid();
        const partitions = r.carr(() => r.int32())!.sort((x, y) => x - y);
        r.tags();
        return { topicId, partitions };
      });
      r.tags();
    }
    r.tags();
    return { errorCode, errorMessage, memberId, memberEpoch, assignment: assigned };
  }

  /** A new-protocol member joining (epoch 0) with these topics. */
  cghJoin(groupId: string, memberId: string, topics: string[], extra: Partial<Heartbeat> = {}): Promise<HeartbeatAnswer> {
    return this.cgh({ groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs: 10_000, topics, owned: [], ...extra });
  }
}

const uuidBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));

// ---- the broker -------------------------------------------------------------------------------------

let dir: TempDir;
let broker: BrokerHandle;
const conns: Conn[] = [];
let groupCounter = 0;
const newGroup = (label: string) => `mig-${label}-${++groupCounter}`;
const TOPIC = "mig-a";
const RANGE = (owned: TPs[] = [], version = 1) => [{ name: "range", metadata: subscription([TOPIC], owned, version) }];

beforeAll(async () => {
  dir = await tempDir("brook-kip848-mig-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: OVERRIDES });
  broker.broker.topics.create(TOPIC, 4);
});

afterAll(async () => {
  for (const c of conns) c.close();
  await broker?.close();
  await dir?.remove();
});

const idOf = (b: BrokerHandle, topic: string) => b.broker.topics.get(topic)!.id;
const groups = (b: BrokerHandle = broker) => b.broker.groups;
const memberOf = (g: string, id: string, b: BrokerHandle = broker) => groups(b).consumerGroup(g)!.members.get(id)!;
const listedType = (g: string, b: BrokerHandle = broker) => groups(b).listGroups([], []).groups.find((x) => x.groupId === g)?.groupType;

/** A classic group with one Stable member owning every partition of TOPIC at generation 1. */
async function classicGroup(b: BrokerHandle, g: string, protocols = RANGE(), protocolType = "consumer", given = assignment([{ topic: TOPIC, partitions: [0, 1, 2, 3] }])) {
  const c = await Conn.open(b);
  const j = await c.joinNew(g, { protocols, protocolType });
  expect(j).toMatchObject({ errorCode: 0, generationId: 1, leader: j.memberId });
  const s = await c.sync(g, 1, j.memberId, [{ memberId: j.memberId, assignment: given }]);
  expect(s.errorCode).toBe(0);
  expect(groups(b).group(g)?.state).toBe("Stable");
  return { c, id: j.memberId };
}

/** A consumer group with one new-protocol member owning every partition of TOPIC. */
async function consumerGroup(b: BrokerHandle, g: string, instanceId: string | null = null) {
  const n = await Conn.open(b);
  const id = crypto.randomUUID();
  const r = await n.cghJoin(g, id, [TOPIC], { instanceId });
  expect(r).toMatchObject({ errorCode: 0, memberEpoch: 1 });
  return { n, id };
}

/** A classic member joining a consumer group (v5, MEMBER_ID_REQUIRED first) and syncing: its generation and partitions. */
async function classicJoin(c: Conn, g: string, o: Partial<Parameters<Conn["join"]>[1]> = {}) {
  const first = await c.join(g, { protocols: RANGE(), ...o });
  const j = o.instanceId ? first : await c.join(g, { protocols: RANGE(), ...o, memberId: first.memberId });
  expect(j).toMatchObject({ errorCode: 0, protocolName: "range", leader: "", members: [] });
  const s = await c.sync(g, j.generationId, j.memberId, [], o.instanceId ?? null);
  return { id: j.memberId, generation: j.generationId, sync: s };
}

describe("online upgrade", () => {
  test("a new-protocol member joins a classic group with members: the classic member keeps working inside the consumer group", async () => {
    const g = newGroup("up");
    const { c, id } = await classicGroup(broker, g);
    expect(await c.commit(g, 1, id, TOPIC, 0, 10)).toBe(0);

    // The new-protocol member converts the group; it gets nothing the classic member still owns.
    const n = await Conn.open(broker);
    const nid = crypto.randomUUID();
    const joined = await n.cghJoin(g, nid, [TOPIC]);
    expect(joined).toMatchObject({ errorCode: 0, memberId: nid, memberEpoch: 2, assignment: [] });
    expect(groups().group(g)).toBeUndefined();
    expect(listedType(g)).toBe("consumer");
    const d = groups().describeConsumerGroup(g);
    expect(d).toMatchObject({ errorCode: 0, groupEpoch: 2, assignmentEpoch: 2, groupState: "Reconciling", assignorName: "uniform" });
    const classic = d.members.find((m) => m.memberId === id)!;
    expect(classic).toMatchObject({ memberEpoch: 1, subscribedTopicNames: [TOPIC], subscribedTopicRegex: null, clientId: "brook-raw-test" });
    expect(classic.assignment.topicPartitions).toEqual([{ topicId: idOf(broker, TOPIC), topicName: TOPIC, partitions: [0, 1, 2, 3] }]);
    expect(classic.targetAssignment.topicPartitions[0]!.partitions.length).toBe(2);
    // DescribeGroups does not describe a consumer group (Kafka 4.0: Dead, no error).
    expect(groups().describeGroup(g)).toMatchObject({ errorCode: 0, groupState: "Dead", members: [] });
    expect(groups().fetchOffsets(g, null).topics[0]!.partitions[0]!.committedOffset).toBe(10);

    // The classic member is told to rejoin; commits of its current generation still count.
    expect(await c.heartbeat(g, 1, id)).toBe(E.REBALANCE_IN_PROGRESS);
    expect(await c.commit(g, 1, id, TOPIC, 1, 11)).toBe(0);
    // A cooperative rejoin that still owns all four: it stays at generation 1 and learns what it keeps.
    const all = [{ topic: TOPIC, partitions: [0, 1, 2, 3] }];
    const j = await c.join(g, { memberId: id, protocols: RANGE(all) });
    expect(j).toMatchObject({ errorCode: 0, generationId: 1, protocolName: "range", leader: "", memberId: id, members: [] });
    const s = await c.sync(g, 1, id);
    expect(s.errorCode).toBe(0);
    const kept = readAssignment(s.assignment);
    expect(kept.version).toBe(1);
    expect(kept.partitions[TOPIC]!.length).toBe(2);
    expect(memberOf(g, id).state).toBe("UNREVOKED_PARTITIONS");
    expect(await c.heartbeat(g, 1, id)).toBe(E.REBALANCE_IN_PROGRESS);
    // Revoked: it rejoins owning what it kept and moves to generation 2.
    const j2 = await c.join(g, { memberId: id, protocols: RANGE([{ topic: TOPIC, partitions: kept.partitions[TOPIC]! }]) });
    expect(j2).toMatchObject({ errorCode: 0, generationId: 2 });
    const s2 = await c.sync(g, 2, id);
    expect(readAssignment(s2.assignment).partitions).toEqual(kept.partitions);
    expect(await c.heartbeat(g, 2, id)).toBe(0);
    expect(await c.commit(g, 1, id, TOPIC, 0, 12)).toBe(E.ILLEGAL_GENERATION);
    expect(await c.commit(g, 2, id, TOPIC, kept.partitions[TOPIC]![0]!, 12)).toBe(0);

    // The released partitions go to the new-protocol member.
    const got = await n.cgh({ groupId: g, memberId: nid, memberEpoch: 2 });
    expect(got.assignment).toEqual([{ topicId: idOf(broker, TOPIC), partitions: [0, 1, 2, 3].filter((p) => !kept.partitions[TOPIC]!.includes(p)) }]);
    expect(groups().describeConsumerGroup(g)).toMatchObject({ groupState: "Stable", groupEpoch: 2 });
  });

  test("an eager member (v0 subscription, nothing owned) is reconciled at once; JoinGroup v7 / SyncGroup v5 name the protocol", async () => {
    const g = newGroup("eager");
    const { n, id: nid } = await consumerGroup(broker, g);
    const c = await Conn.open(broker);
    const first = await c.joinV7(g, "", [{ name: "range", metadata: subscription([TOPIC], [], 0) }]);
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^[0-9a-f-]{36}$/);
    const j = await c.joinV7(g, first.memberId, [
      { name: "range", metadata: subscription([TOPIC], [], 0) },
      { name: "roundrobin", metadata: subscription([TOPIC], [], 0) },
    ]);
    expect(j).toMatchObject({ errorCode: 0, generationId: 2, protocolType: "consumer", protocolName: "range", leader: "", members: [] });
    // Its target is free only once the new-protocol member let go of it.
    expect(readAssignment((await c.syncV5(g, 2, j.memberId, "consumer", "range")).assignment).partitions).toEqual({});
    const revoke = await n.cgh({ groupId: g, memberId: nid, memberEpoch: 1, owned: [{ topicId: idOf(broker, TOPIC), partitions: [0, 1, 2, 3] }] });
    expect(revoke.assignment![0]!.partitions.length).toBe(2);
    expect(await c.heartbeat(g, 2, j.memberId)).toBe(0); // still waiting: the partitions are not released
    await n.cgh({ groupId: g, memberId: nid, memberEpoch: 1, owned: revoke.assignment });
    // Released: the heartbeat tells it to rejoin and collect them.
    expect(await c.heartbeat(g, 2, j.memberId)).toBe(E.REBALANCE_IN_PROGRESS);
    const j2 = await c.joinV7(g, j.memberId, [{ name: "range", metadata: subscription([TOPIC], [], 0) }]);
    expect(j2).toMatchObject({ errorCode: 0, generationId: 2 });
    const s = await c.syncV5(g, 2, j.memberId, "consumer", "range");
    expect(s).toMatchObject({ errorCode: 0, protocolType: "consumer", protocolName: "range" });
    // Encoded in the version the member subscribed with.
    const a = readAssignment(s.assignment);
    expect(a).toMatchObject({ version: 0, userData: null });
    expect(a.partitions[TOPIC]).toEqual([0, 1, 2, 3].filter((p) => !revoke.assignment![0]!.partitions.includes(p)));
    expect(groups().describeConsumerGroup(g).groupState).toBe("Stable");
  });

  test("the errors a classic member gets inside a consumer group", async () => {
    const g = newGroup("errors");
    const { id: nid } = await consumerGroup(broker, g);
    const c = await Conn.open(broker);
    const { id, generation } = await classicJoin(c, g);
    const other = await Conn.open(broker);
    // No protocol every classic member supports, or not the consumer protocol type.
    expect((await other.join(g, { memberId: "x", protocols: [{ name: "roundrobin", metadata: subscription([TOPIC]) }] })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await other.join(g, { memberId: "x", protocolType: "connect", protocols: RANGE() })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await other.join(g, { memberId: "x", protocols: RANGE(), sessionTimeoutMs: 100 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    // Heartbeat: an unknown member, a new-protocol member, an old generation.
    expect(await c.heartbeat(g, generation, "stranger")).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await c.heartbeat(g, 1, nid)).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await c.heartbeat(g, generation - 1, id)).toBe(E.ILLEGAL_GENERATION);
    // SyncGroup: an old generation, another protocol name or type.
    expect((await c.sync(g, generation - 1, id)).errorCode).toBe(E.ILLEGAL_GENERATION);
    expect((await c.syncV5(g, generation, id, "consumer", "roundrobin")).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.syncV5(g, generation, id, "connect", "range")).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    // A static member: an unknown instance id, a member id that is not its own.
    const s = await Conn.open(broker);
    const stat = await classicJoin(s, g, { instanceId: "static-1" });
    expect(await s.heartbeat(g, stat.generation, stat.id, "static-2")).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await s.heartbeat(g, stat.generation, "someone-else", "static-1")).toBe(E.FENCED_INSTANCE_ID);
    expect((await s.sync(g, stat.generation, "someone-else", [], "static-1")).errorCode).toBe(E.FENCED_INSTANCE_ID);
    // Rejoining with a member id, a static member must be the one its instance id belongs to.
    expect((await s.join(g, { memberId: "someone-else", instanceId: "static-1", protocols: RANGE() })).errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect((await s.join(g, { memberId: "someone-else", instanceId: "static-9", protocols: RANGE() })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    const again = await s.join(g, { memberId: stat.id, instanceId: "static-1", protocols: RANGE() });
    expect(again).toMatchObject({ errorCode: 0, memberId: stat.id });
  });
});

describe("LeaveGroup and downgrade", () => {
  test("when the last new-protocol member leaves, the classic members form a classic group that rebalances", async () => {
    const g = newGroup("down");
    const { n, id: nid } = await consumerGroup(broker, g);
    const c = await Conn.open(broker);
    const first = await classicJoin(c, g);
    const epoch = groups().consumerGroup(g)!.groupEpoch;
    expect(first.generation).toBe(epoch);
    expect(await c.commit(g, first.generation, first.id, TOPIC, 0, 7)).toBe(0);

    expect(await n.cgh({ groupId: g, memberId: nid, memberEpoch: -1 })).toMatchObject({ errorCode: 0, memberEpoch: -1 });
    expect(groups().consumerGroup(g)).toBeUndefined();
    const classic = groups().group(g)!;
    expect(classic).toMatchObject({ state: "PreparingRebalance", generationId: epoch, protocolType: "consumer", protocolName: "range" });
    expect(listedType(g)).toBe("classic");
    expect(groups().fetchOffsets(g, null).topics[0]!.partitions[0]!.committedOffset).toBe(7);

    // The classic member rejoins the classic way: it leads the next generation and assigns.
    expect(await c.heartbeat(g, epoch, first.id)).toBe(E.REBALANCE_IN_PROGRESS);
    const j = await c.join(g, { memberId: first.id, protocols: RANGE() });
    expect(j).toMatchObject({ errorCode: 0, generationId: epoch + 1, leader: first.id, protocolName: "range" });
    expect(j.members.map((m) => m.memberId)).toEqual([first.id]);
    const all = assignment([{ topic: TOPIC, partitions: [0, 1, 2, 3] }]);
    expect([...(await c.sync(g, epoch + 1, first.id, [{ memberId: first.id, assignment: all }])).assignment]).toEqual([...all]);
    expect(groups().group(g)!.state).toBe("Stable");
    // ConsumerGroupHeartbeat of a member of a classic group with members: an upgrade again.
    const back = await n.cghJoin(g, crypto.randomUUID(), [TOPIC]);
    expect(back.errorCode).toBe(0);
    expect(listedType(g)).toBe("consumer");
  });

  test("LeaveGroup removes members of either protocol; a static one by instance id alone", async () => {
    const g = newGroup("leave");
    const { n, id: nid } = await consumerGroup(broker, g, "n-static");
    const c1 = await Conn.open(broker);
    const dyn = await classicJoin(c1, g);
    const c2 = await Conn.open(broker);
    const stat = await classicJoin(c2, g, { instanceId: "c-static" });
    const epoch = groups().consumerGroup(g)!.groupEpoch;

    expect((await c1.leave(g, [{ memberId: "not-mine", instanceId: "c-static" }])).members).toEqual([{ memberId: "not-mine", instanceId: "c-static", errorCode: E.FENCED_INSTANCE_ID }]);
    const r = await c1.leave(g, [{ memberId: dyn.id }, { memberId: "", instanceId: "c-static" }, { memberId: "nobody" }]);
    expect(r).toEqual({
      errorCode: 0,
      members: [
        { memberId: dyn.id, instanceId: null, errorCode: 0 },
        { memberId: "", instanceId: "c-static", errorCode: 0 },
        { memberId: "nobody", instanceId: null, errorCode: E.UNKNOWN_MEMBER_ID },
      ],
    });
    const left = groups().consumerGroup(g)!;
    expect([...left.members.keys()]).toEqual([nid]);
    expect(left.groupEpoch).toBe(epoch + 1);
    expect(await c2.heartbeat(g, stat.generation, stat.id, "c-static")).toBe(E.UNKNOWN_MEMBER_ID);
    // An admin removes the new-protocol static member too: the group is empty, still a consumer group.
    expect((await c1.leave(g, [{ memberId: "", instanceId: "n-static" }])).members[0]!.errorCode).toBe(0);
    expect(groups().consumerGroup(g)).toMatchObject({ state: "Empty" });
    expect((await n.cgh({ groupId: g, memberId: nid, memberEpoch: 1, instanceId: "n-static" })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("a classic static member taking the place of the last new-protocol static member converts the group back at once", async () => {
    const g = newGroup("replace");
    const { id: nid } = await consumerGroup(broker, g, "inst-1");
    const c1 = await Conn.open(broker);
    const other = await classicJoin(c1, g);
    // Settle: the new-protocol member gives up the other member's share.
    const n2 = await Conn.open(broker);
    const cg = groups().consumerGroup(g)!;
    const target = cg.target(nid);
    await n2.cgh({ groupId: g, memberId: nid, memberEpoch: 1, instanceId: "inst-1", owned: [{ topicId: idOf(broker, TOPIC), partitions: [...target.get(idOf(broker, TOPIC))!] }] });
    const epoch = cg.groupEpoch;

    const c2 = await Conn.open(broker);
    const j = await c2.join(g, { instanceId: "inst-1", protocols: RANGE() });
    expect(j).toMatchObject({ errorCode: 0, generationId: epoch, protocolName: "range", leader: "", members: [] });
    expect(j.memberId).not.toBe(nid);
    expect(groups().consumerGroup(g)).toBeUndefined();
    const classic = groups().group(g)!;
    // Same subscription: no rebalance; it gets the replaced member's target assignment.
    expect(classic).toMatchObject({ state: "Stable", generationId: epoch });
    expect([...classic.members.keys()].sort()).toEqual([other.id, j.memberId].sort());
    const s = await c2.sync(g, epoch, j.memberId, [], "inst-1");
    expect(s.errorCode).toBe(0);
    expect(readAssignment(s.assignment).partitions[TOPIC]).toEqual([...target.get(idOf(broker, TOPIC))!].sort());
  });
});

describe("timeouts of classic members", () => {
  test("its own session timeout; told to rejoin, it must within its rebalance timeout; after joining, sync within it", async () => {
    const g = newGroup("timeouts");
    await consumerGroup(broker, g);
    const quiet = await Conn.open(broker);
    const q = await classicJoin(quiet, g, { sessionTimeoutMs: 600 });
    await until("the silent classic member's session expired", () => !groups().consumerGroup(g)!.members.has(q.id));
    expect(await quiet.heartbeat(g, q.generation, q.id)).toBe(E.UNKNOWN_MEMBER_ID);

    // Joins, but never syncs.
    const lazy = await Conn.open(broker);
    const first = await lazy.join(g, { protocols: RANGE(), rebalanceTimeoutMs: 300 });
    const lj = await lazy.join(g, { memberId: first.memberId, protocols: RANGE(), rebalanceTimeoutMs: 300 });
    expect(lj.errorCode).toBe(0);
    await until("the member that did not sync is fenced", () => !groups().consumerGroup(g)!.members.has(lj.memberId));

    // Told to rejoin, keeps heartbeating but never rejoins.
    const stubborn = await Conn.open(broker);
    const s = await classicJoin(stubborn, g, { rebalanceTimeoutMs: 400 });
    await (await Conn.open(broker)).cghJoin(g, crypto.randomUUID(), [TOPIC]); // the epoch moves on
    await until("the member that did not rejoin is fenced", async () => (await stubborn.heartbeat(g, s.generation, s.id)) === E.UNKNOWN_MEMBER_ID);
  });
});

describe("group.consumer.migration.policy", () => {
  for (const [policy, upgrade, downgrade] of [
    ["DISABLED", false, false],
    ["Upgrade", true, false],
    ["downgrade", false, true],
    ["bidirectional", true, true],
  ] as const)
    test(`${policy}: upgrade ${upgrade ? "allowed" : "refused"}, downgrade ${downgrade ? "allowed" : "refused"}`, async () => {
      await using d = await tempDir("brook-kip848-policy-");
      await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: { ...OVERRIDES, "group.consumer.migration.policy": policy } });
      b.broker.topics.create(TOPIC, 4);
      try {
        const up = `policy-up`;
        await classicGroup(b, up);
        const n = await Conn.open(b);
        const r = await n.cghJoin(up, crypto.randomUUID(), [TOPIC]);
        if (upgrade) expect(r).toMatchObject({ errorCode: 0, memberEpoch: 2 });
        else {
          expect(r).toMatchObject({ errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: `Cannot upgrade classic group ${up} to consumer group because online upgrade is disabled.` });
          expect(groups(b).group(up)?.state).toBe("Stable");
        }

        // A classic member may join a consumer group with members under every policy.
        const down = `policy-down`;
        const { n: m, id: mid } = await consumerGroup(b, down);
        const c = await Conn.open(b);
        const joined = await classicJoin(c, down);
        await m.cgh({ groupId: down, memberId: mid, memberEpoch: -1 });
        if (downgrade) expect(groups(b).group(down)?.state).toBe("PreparingRebalance");
        else {
          // Still a consumer group, of classic members only: this one rejoins and gets every partition.
          expect(groups(b).consumerGroup(down)!.members.size).toBe(1);
          expect(await c.heartbeat(down, joined.generation, joined.id)).toBe(E.REBALANCE_IN_PROGRESS);
          const j = await c.join(down, { memberId: joined.id, protocols: RANGE() });
          expect(readAssignment((await c.sync(down, j.generationId, joined.id)).assignment).partitions[TOPIC]).toEqual([0, 1, 2, 3]);
          expect(listedType(down, b)).toBe("consumer");
        }
      } finally {
        for (const x of conns.splice(0)) x.close();
      }
    });

  test("an unknown policy stops the broker before it listens", async () => {
    await using d = await tempDir("brook-kip848-policy-bad-");
    await expect(startBroker({ dataDir: d.path, logLevel: "silent", overrides: { "group.consumer.migration.policy": "sideways" } })).rejects.toThrow("group.consumer.migration.policy");
  });
});

describe("upgrade refusals", () => {
  test("a group of another protocol type, or a custom assignor's user data, stays classic (GROUP_ID_NOT_FOUND)", async () => {
    const connect = newGroup("connect");
    await classicGroup(broker, connect, [{ name: "default", metadata: new Uint8Array([1, 2, 3]) }], "connect", new Uint8Array([9]));
    const n = await Conn.open(broker);
    expect(await n.cghJoin(connect, crypto.randomUUID(), [TOPIC])).toMatchObject({
      errorCode: E.GROUP_ID_NOT_FOUND,
      errorMessage: `Cannot upgrade classic group ${connect} to consumer group because the group does not use the consumer embedded protocol.`,
    });
    expect(groups().group(connect)?.state).toBe("Stable");

    const custom = newGroup("custom");
    await classicGroup(broker, custom, RANGE(), "consumer", assignment([{ topic: TOPIC, partitions: [0, 1, 2, 3] }], 1, new Uint8Array([1])));
    const r = await n.cghJoin(custom, crypto.randomUUID(), [TOPIC]);
    expect(r.errorCode).toBe(E.GROUP_ID_NOT_FOUND);
    expect(r.errorMessage).toStartWith(`Cannot upgrade classic group ${custom} to consumer group because an unsupported custom assignor is in use.`);
    expect(groups().group(custom)?.state).toBe("Stable");
  });
});

describe("durability", () => {
  test("a mixed group survives a restart: the classic member goes on with its generation and assignment", async () => {
    await using d = await tempDir("brook-kip848-mig-restart-");
    let b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: OVERRIDES });
    b.broker.topics.create(TOPIC, 4);
    const g = "mixed-restart";
    try {
      const { id: nid } = await consumerGroup(b, g);
      const c = await Conn.open(b);
      const j = await classicJoin(c, g, { sessionTimeoutMs: 20_000 });
      const before = groups(b).describeConsumerGroup(g);
      await b.close();

      b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: { ...OVERRIDES, listeners: `PLAINTEXT://127.0.0.1:${b.port}` }, ephemeralPort: false });
      const after = groups(b).describeConsumerGroup(g);
      expect(after.groupEpoch).toBe(before.groupEpoch);
      expect(after.members).toEqual(before.members);
      expect(memberOf(g, j.id, b).classic).toMatchObject({ sessionTimeoutMs: 20_000, supportedProtocols: [{ name: "range" }] });
      const c2 = await Conn.open(b);
      // Still waiting for the partitions the new-protocol member owns: nothing to do.
      expect(await c2.heartbeat(g, j.generation, j.id)).toBe(0);
      expect((await c2.sync(g, j.generation, j.id)).errorCode).toBe(0);
      expect(memberOf(g, nid, b).classic).toBeNull();
    } finally {
      for (const x of conns.splice(0)) x.close();
      await b.close();
    }
  });
});
