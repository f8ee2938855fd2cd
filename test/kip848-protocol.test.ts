// The consumer group protocol (KIP-848) request by request, in bytes built from the spec (the JSON
// message definitions: ConsumerGroupHeartbeat v1, ConsumerGroupDescribe v0, OffsetCommit v9, OffsetFetch
// v9, ListGroups v5; flexible versions: compact strings and arrays, tagged fields, a nullable struct
// behind an int8 marker). Covers the errors Kafka sends (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID,
// UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, STALE_MEMBER_EPOCH, GROUP_ID_NOT_FOUND, INVALID_REQUEST,
// UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION), reconciliation (a partition moves only once its
// owner revoked it), static members, session and rebalance timeouts, conversions of empty groups between
// classic and consumer groups, and group.coordinator.rebalance.protocols.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ErrorCode as E } from "../protocol/errors.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { WireClient } from "../src/client.ts";
import { JoinGroup } from "../protocol/apis/11-join-group.ts";
import { ConsumerGroupHeartbeat } from "../protocol/apis/68-consumer-group-heartbeat.ts";
import { encodeSubscription } from "../src/group/consumer-protocol.ts";
import { runGroups } from "../src/cli/groups.ts";
import { until } from "./helpers/poll.ts";
import { concat, int32, int64, RawClient, requestFrame, uvarint } from "./helpers/wire.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

// ---- flexible-version encoding, by hand ------------------------------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);
const TAGS = Uint8Array.of(0); // no tagged fields
const cstr = (s: string | null) => (s === null ? uvarint(0) : concat(uvarint(utf8(s).length + 1), utf8(s)));
const carr = <T>(items: T[] | null, enc: (x: T) => Uint8Array) => (items === null ? uvarint(0) : concat(uvarint(items.length + 1), ...items.map(enc)));
const uuid = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));

class Flex {
  private view: DataView;
  pos = 0;
  constructor(private buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  int8() {
    return this.view.getInt8(this.pos++);
  }
  int16() {
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  int32() {
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  uvarint() {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.pos++]!;
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v >>> 0;
      shift += 7;
    }
  }
  cstr(): string | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    const s = new TextDecoder().decode(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  uuid() {
    const s = [...this.buf.subarray(this.pos, this.pos + 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
    this.pos += 16;
    return s;
  }
  carr<T>(dec: () => T): T[] | null {
    const n = this.uvarint() - 1;
    if (n < 0) return null;
    return Array.from({ length: n }, dec);
  }
  tags() {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.pos += this.uvarint();
    }
  }
}

interface Heartbeat {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId?: string | null;
  rebalanceTimeoutMs?: number;
  topics?: string[] | null;
  regex?: string | null;
  assignor?: string | null;
  owned?: { topicId: string; partitions: number[] }[] | null;
}

function heartbeatBody(h: Heartbeat, version = 1): Uint8Array {
  return concat(
    cstr(h.groupId),
    cstr(h.memberId),
    int32(h.memberEpoch),
    cstr(h.instanceId ?? null),
    cstr(null), // rack id
    int32(h.rebalanceTimeoutMs ?? -1),
    carr(h.topics === undefined ? null : h.topics, cstr),
    version >= 1 ? cstr(h.regex ?? null) : new Uint8Array(0),
    cstr(h.assignor ?? null),
    carr(h.owned === undefined ? null : h.owned, (tp) => concat(uuid(tp.topicId), carr(tp.partitions, int32), TAGS)),
    TAGS,
  );
}

interface HeartbeatAnswer {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

function readHeartbeat(r: Flex): HeartbeatAnswer {
  r.int32(); // throttle
  const errorCode = r.int16();
  const errorMessage = r.cstr();
  const memberId = r.cstr();
  const memberEpoch = r.int32();
  const heartbeatIntervalMs = r.int32();
  let assignment: HeartbeatAnswer["assignment"] = null;
  if (r.int8() >= 0) {
    assignment = r.carr(() => {
      const topicId = r.uuid();
      const partitions = r.carr(() => r.int32())!;
      r.tags();
      return { topicId, partitions: partitions.sort((a, b) => a - b) };
    });
    r.tags();
  }
  r.tags();
  return { errorCode, errorMessage, memberId, memberEpoch, heartbeatIntervalMs, assignment };
}

// ---- the broker and a raw connection ------------------------------------------------------------------

let dir: TempDir;
let broker: BrokerHandle;
let raw: RawClient;
let correlation = 1;
let groupCounter = 0;
const newGroup = (label: string) => `${label}-${++groupCounter}`;

beforeAll(async () => {
  dir = await tempDir("brook-kip848-proto-");
  broker = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: {
      "group.consumer.heartbeat.interval.ms": 250,
      "group.consumer.min.heartbeat.interval.ms": 100,
      "group.consumer.session.timeout.ms": 1500,
      "group.consumer.min.session.timeout.ms": 1000,
      "group.initial.rebalance.delay.ms": 0,
      "group.min.session.timeout.ms": 1000,
    },
  });
  broker.broker.topics.create("kip-a", 4);
  broker.broker.topics.create("kip-b", 2);
  raw = await RawClient.connect(broker.host, broker.port);
});

afterAll(async () => {
  raw?.send(new Uint8Array(0));
  await broker?.close();
  await dir?.remove();
});

async function call(apiKey: number, apiVersion: number, body: Uint8Array): Promise<Flex> {
  const correlationId = correlation++;
  raw.send(requestFrame({ apiKey, apiVersion, correlationId, flexibleHeader: true }, body));
  const r = await raw.response();
  expect(r.int32()).toBe(correlationId);
  const f = new Flex(r.buf.subarray(r.offset));
  f.tags(); // response header v1
  return f;
}

const heartbeat = async (h: Heartbeat, version = 1) => readHeartbeat(await call(68, version, heartbeatBody(h, version)));
const join = (groupId: string, memberId: string, extra: Partial<Heartbeat> = {}) =>
  heartbeat({ groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs: 5000, topics: ["kip-a"], owned: [], ...extra });

const idOf = (topic: string) => broker.broker.topics.get(topic)!.id;

async function commitV9(groupId: string, memberId: string, epoch: number, partitions: number[]): Promise<number[]> {
  const body = concat(
    cstr(groupId),
    int32(epoch),
    cstr(memberId),
    cstr(null),
    carr(["kip-a"], (name) => concat(cstr(name), carr(partitions, (p) => concat(int32(p), int64(5), int32(-1), cstr(null), TAGS)), TAGS)),
    TAGS,
  );
  const r = await call(8, 9, body);
  r.int32();
  const topics = r.carr(() => {
    r.cstr();
    const codes = r.carr(() => {
      r.int32();
      const code = r.int16();
      r.tags();
      return code;
    })!;
    r.tags();
    return codes;
  })!;
  return topics[0]!;
}

async function fetchV9(groupId: string, memberId: string | null, epoch: number): Promise<{ errorCode: number; offsets: number[] }> {
  const body = concat(
    carr([groupId], (g) => concat(cstr(g), cstr(memberId), int32(epoch), carr(["kip-a"], (t) => concat(cstr(t), carr([0, 1, 2, 3], int32), TAGS)), TAGS)),
    Uint8Array.of(0), // requireStable false
    TAGS,
  );
  const r = await call(9, 9, body);
  r.int32();
  const groups = r.carr(() => {
    r.cstr();
    const offsets: number[] = [];
    r.carr(() => {
      r.cstr();
      r.carr(() => {
        r.int32();
        offsets.push(readInt64(r));
        r.int32();
        r.cstr();
        r.int16();
        r.tags();
      });
      r.tags();
    });
    const errorCode = r.int16();
    r.tags();
    return { errorCode, offsets };
  })!;
  return groups[0]!;
}

function readInt64(r: Flex): number {
  const hi = r.int32();
  const lo = r.int32();
  return hi * 2 ** 32 + (lo >>> 0);
}

const memberId = () => crypto.randomUUID();

describe("ConsumerGroupHeartbeat v1 in bytes", () => {
  test("join: the coordinator answers epoch 1, the heartbeat interval and the whole topic", async () => {
    const g = newGroup("join");
    const m = memberId();
    const r = await join(g, m);
    expect(r).toMatchObject({ errorCode: 0, errorMessage: null, memberId: m, memberEpoch: 1, heartbeatIntervalMs: 250 });
    expect(r.assignment).toEqual([{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }]);
    // A heartbeat that changes nothing carries no assignment (it is not a full request).
    const again = await heartbeat({ groupId: g, memberId: m, memberEpoch: 1 });
    expect(again).toMatchObject({ errorCode: 0, memberEpoch: 1, assignment: null });
    await heartbeat({ groupId: g, memberId: m, memberEpoch: -1 });
  });

  test("reconciliation: a partition moves to a new member only after its owner revoked it", async () => {
    const g = newGroup("move");
    const [a, b] = [memberId(), memberId()];
    expect((await join(g, a)).memberEpoch).toBe(1);
    const bJoin = await join(g, b);
    // b is at the new epoch but gets nothing its owner still holds.
    expect(bJoin).toMatchObject({ errorCode: 0, memberEpoch: 2, assignment: [] });
    const all = [{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }];
    // a is told to keep two partitions and stays at epoch 1 while it revokes the others.
    const revoke = await heartbeat({ groupId: g, memberId: a, memberEpoch: 1, owned: all, topics: ["kip-a"], rebalanceTimeoutMs: 5000 });
    expect(revoke.memberEpoch).toBe(1);
    const kept = revoke.assignment![0]!.partitions;
    expect(kept.length).toBe(2);
    expect((await heartbeat({ groupId: g, memberId: b, memberEpoch: 2 })).assignment).toBeNull(); // still nothing free
    // a reports it revoked them: epoch 2, and b gets the other two at its next heartbeat.
    const done = await heartbeat({ groupId: g, memberId: a, memberEpoch: 1, owned: [{ topicId: idOf("kip-a"), partitions: kept }] });
    expect(done).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    const got = await heartbeat({ groupId: g, memberId: b, memberEpoch: 2 });
    expect(got.assignment![0]!.partitions).toEqual([0, 1, 2, 3].filter((p) => !kept.includes(p)));
    expect(broker.broker.groups.describeConsumerGroup(g)).toMatchObject({ groupState: "Stable", groupEpoch: 2, assignmentEpoch: 2 });
  });

  test("FENCED_MEMBER_EPOCH: an epoch ahead of the coordinator's, or an old one", async () => {
    const g = newGroup("fenced");
    const m = memberId();
    await join(g, m);
    const ahead = await heartbeat({ groupId: g, memberId: m, memberEpoch: 5 });
    expect(ahead).toMatchObject({ errorCode: E.FENCED_MEMBER_EPOCH, memberId: null, memberEpoch: 0, assignment: null });
    expect(ahead.errorMessage).toContain("greater member epoch (5)");
    await join(g, memberId(), {}); // epoch 2 for the group; the first member moves to epoch 2 next
    await heartbeat({ groupId: g, memberId: m, memberEpoch: 1, owned: [{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }] });
    await heartbeat({ groupId: g, memberId: m, memberEpoch: 1, owned: [] }); // revoked: now at epoch 2
    const old = await heartbeat({ groupId: g, memberId: m, memberEpoch: 1, owned: [{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }] });
    expect(old.errorCode).toBe(E.FENCED_MEMBER_EPOCH);
    // Rejoining with epoch 0 and the same member id is how a fenced member recovers.
    expect((await join(g, m)).errorCode).toBe(0);
  });

  test("UNKNOWN_MEMBER_ID and GROUP_ID_NOT_FOUND", async () => {
    const g = newGroup("unknown");
    const m = memberId();
    const noGroup = await heartbeat({ groupId: g, memberId: m, memberEpoch: 3 });
    expect(noGroup).toMatchObject({ errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: `Consumer group ${g} not found.` });
    await join(g, m);
    const stranger = await heartbeat({ groupId: g, memberId: "not-a-member", memberEpoch: 1 });
    expect(stranger).toMatchObject({ errorCode: E.UNKNOWN_MEMBER_ID, errorMessage: `Member not-a-member is not a member of group ${g}.` });
    expect((await heartbeat({ groupId: g, memberId: "not-a-member", memberEpoch: -1 })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // Leaving answers the member id and epoch -1.
    expect(await heartbeat({ groupId: g, memberId: m, memberEpoch: -1 })).toMatchObject({ errorCode: 0, memberId: m, memberEpoch: -1 });
    expect((await heartbeat({ groupId: g, memberId: m, memberEpoch: 1 })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("static members: UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, and a successor after a -2 leave gets the partitions back", async () => {
    const g = newGroup("static");
    const first = memberId();
    const r = await join(g, first, { instanceId: "i-1" });
    expect(r.assignment![0]!.partitions).toEqual([0, 1, 2, 3]);
    const intruder = memberId();
    const unreleased = await join(g, intruder, { instanceId: "i-1" });
    expect(unreleased.errorCode).toBe(E.UNRELEASED_INSTANCE_ID);
    expect(unreleased.errorMessage).toBe(`Static member ${intruder} with instance id i-1 cannot join the group because the instance id is owned by ${first} member.`);
    expect((await heartbeat({ groupId: g, memberId: intruder, memberEpoch: 1, instanceId: "i-1" })).errorCode).toBe(E.FENCED_INSTANCE_ID);

    // The static member leaves for a while (-2): it keeps its partitions for its successor.
    expect(await heartbeat({ groupId: g, memberId: first, memberEpoch: -2, instanceId: "i-1" })).toMatchObject({ errorCode: 0, memberEpoch: -2 });
    const successor = memberId();
    const back = await join(g, successor, { instanceId: "i-1" });
    expect(back).toMatchObject({ errorCode: 0, memberId: successor, memberEpoch: 1 });
    expect(back.assignment).toEqual([{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }]);
    expect(broker.broker.groups.describeConsumerGroup(g).members.map((x) => [x.memberId, x.instanceId])).toEqual([[successor, "i-1"]]);
  });

  test("invalid requests: INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION", async () => {
    const g = newGroup("invalid");
    expect(await join(g, "")).toMatchObject({ errorCode: E.INVALID_REQUEST, errorMessage: "MemberId can't be empty." });
    expect(await heartbeat({ groupId: g, memberId: memberId(), memberEpoch: 0, topics: ["kip-a"], owned: [] })).toMatchObject({
      errorCode: E.INVALID_REQUEST,
      errorMessage: "RebalanceTimeoutMs must be provided in first request.",
    });
    expect(await heartbeat({ groupId: g, memberId: memberId(), memberEpoch: -3 })).toMatchObject({ errorCode: E.INVALID_REQUEST, errorMessage: "MemberEpoch is invalid." });
    const assignor = await join(g, memberId(), { assignor: "sticky" });
    expect(assignor).toMatchObject({ errorCode: E.UNSUPPORTED_ASSIGNOR, errorMessage: "ServerAssignor sticky is not supported. Supported assignors: uniform, range." });
    const regex = await join(g, memberId(), { topics: null, regex: "kip-(?=a)" });
    expect(regex.errorCode).toBe(E.INVALID_REGULAR_EXPRESSION);
    // v0 lets the coordinator generate the member id.
    const v0 = await heartbeat({ groupId: g, memberId: "", memberEpoch: 0, rebalanceTimeoutMs: 5000, topics: ["kip-a"], owned: [] }, 0);
    expect(v0.errorCode).toBe(0);
    expect(v0.memberId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a regex subscription (RE2/J, whole-name match) and the range assignor chosen by the members", async () => {
    const g = newGroup("regex");
    const [a, b] = [memberId(), memberId()];
    const r = await join(g, a, { topics: null, regex: "kip-[ab]", assignor: "range" });
    expect(r.errorCode).toBe(0);
    expect(r.assignment!.map((tp) => tp.topicId).sort()).toEqual([idOf("kip-a"), idOf("kip-b")].sort());
    await join(g, b, { topics: null, regex: "kip-[ab]", assignor: "range" });
    const d = broker.broker.groups.describeConsumerGroup(g);
    expect(d.assignorName).toBe("range");
    const target = Object.fromEntries(d.members.map((m) => [m.memberId, m.targetAssignment.topicPartitions.map((tp) => `${tp.topicName}:${tp.partitions.join(",")}`).sort()]));
    // Range: each member a contiguous share of each topic; a keeps the lower part of what it had.
    expect(target[a]).toEqual(["kip-a:0,1", "kip-b:0"]);
    expect(target[b]).toEqual(["kip-a:2,3", "kip-b:1"]);
  });
});

describe("offsets with member epochs", () => {
  test("OffsetCommit v9: STALE_MEMBER_EPOCH for an old epoch, GROUP_ID_NOT_FOUND for no group; OffsetFetch v9 checks the member", async () => {
    const g = newGroup("commit");
    const m = memberId();
    await join(g, m);
    expect(await commitV9(g, m, 1, [0, 1])).toEqual([0, 0]);
    expect(await commitV9(g, m, 7, [0])).toEqual([E.STALE_MEMBER_EPOCH]);
    expect(await commitV9(g, "stranger", 1, [0])).toEqual([E.UNKNOWN_MEMBER_ID]);
    expect(await commitV9(newGroup("nogroup"), "x", 3, [0])).toEqual([E.GROUP_ID_NOT_FOUND]);

    expect(await fetchV9(g, m, 1)).toEqual({ errorCode: 0, offsets: [5, 5, -1, -1] });
    expect(await fetchV9(g, m, 9)).toEqual({ errorCode: E.STALE_MEMBER_EPOCH, offsets: [] });
    expect(await fetchV9(g, "stranger", 1)).toEqual({ errorCode: E.UNKNOWN_MEMBER_ID, offsets: [] });
    expect(await fetchV9(g, null, -1)).toEqual({ errorCode: 0, offsets: [5, 5, -1, -1] }); // an admin client
  });
});

describe("groups, types and conversions", () => {
  test("ConsumerGroupDescribe v0 and ListGroups v5 in bytes", async () => {
    const g = newGroup("describe");
    const m = memberId();
    await join(g, m, { instanceId: "desc-1" });
    const r = await call(69, 0, concat(carr([g, "no-such-group"], cstr), Uint8Array.of(0), TAGS));
    r.int32();
    const groups = r.carr(() => {
      const errorCode = r.int16();
      const errorMessage = r.cstr();
      const groupId = r.cstr();
      const state = r.cstr();
      const groupEpoch = r.int32();
      const assignmentEpoch = r.int32();
      const assignor = r.cstr();
      const members = r.carr(() => {
        const mid = r.cstr();
        const instanceId = r.cstr();
        r.cstr(); // rack
        const epoch = r.int32();
        r.cstr(); // client id
        const host = r.cstr();
        const topics = r.carr(() => r.cstr());
        const regex = r.cstr();
        const assignment = () => {
          const tps = r.carr(() => {
            const id = r.uuid();
            const name = r.cstr();
            const parts = r.carr(() => r.int32());
            r.tags();
            return { id, name, parts };
          });
          r.tags();
          return tps;
        };
        const current = assignment();
        const target = assignment();
        r.tags();
        return { mid, instanceId, epoch, host, topics, regex, current, target };
      });
      r.int32(); // authorized operations
      r.tags();
      return { errorCode, errorMessage, groupId, state, groupEpoch, assignmentEpoch, assignor, members };
    })!;
    expect(groups[0]).toMatchObject({ errorCode: 0, groupId: g, state: "Stable", groupEpoch: 1, assignmentEpoch: 1, assignor: "uniform" });
    expect(groups[0]!.members).toEqual([
      {
        mid: m,
        instanceId: "desc-1",
        epoch: 1,
        host: "/127.0.0.1",
        topics: ["kip-a"],
        regex: null,
        current: [{ id: idOf("kip-a"), name: "kip-a", parts: [0, 1, 2, 3] }],
        target: [{ id: idOf("kip-a"), name: "kip-a", parts: [0, 1, 2, 3] }],
      },
    ]);
    expect(groups[1]).toMatchObject({ errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: "Group no-such-group not found.", groupId: "no-such-group" });

    // ListGroups v5 with a types filter (case-insensitive; an unknown type matches nothing).
    const list = async (types: string[]) => {
      const lr = await call(16, 5, concat(carr([], cstr), carr(types, cstr), TAGS));
      lr.int32();
      expect(lr.int16()).toBe(0);
      return lr.carr(() => {
        const x = { groupId: lr.cstr(), protocolType: lr.cstr(), state: lr.cstr(), type: lr.cstr() };
        lr.tags();
        return x;
      })!;
    };
    expect((await list(["CONSUMER"])).find((x) => x.groupId === g)).toEqual({ groupId: g, protocolType: "consumer", state: "Stable", type: "consumer" });
    expect((await list(["classic"])).find((x) => x.groupId === g)).toBeUndefined();
    expect(await list(["nonsense"])).toEqual([]);
  });

  test("the consumer-groups tool describes a consumer group and lists types", async () => {
    const g = newGroup("tool");
    const m = memberId();
    await join(g, m);
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s), write: (d: string | Uint8Array) => lines.push(String(d)) };
    expect(await runGroups(["--bootstrap-server", broker.address, "--describe", "--group", g, "--members", "--verbose"], io)).toBe(0);
    const text = lines.join("\n");
    expect(text).toContain(m);
    expect(text).toContain("kip-a(0,1,2,3)");
    lines.length = 0;
    expect(await runGroups(["--bootstrap-server", broker.address, "--describe", "--group", g, "--state"], io)).toBe(0);
    expect(lines.join("\n")).toMatch(new RegExp(`${g}\\s+\\S+:\\d+\\s+\\(1\\)\\s+uniform\\s+Stable\\s+1`));
    lines.length = 0;
    expect(await runGroups(["--bootstrap-server", broker.address, "--list", "--type"], io)).toBe(0);
    expect(lines.join("\n")).toMatch(new RegExp(`${g}\\s+Consumer`));
  });

  test("an empty classic group holding offsets becomes a consumer group (offsets kept), and back", async () => {
    const g = newGroup("convert");
    const c = await WireClient.connect(broker.address, { clientId: "convert", requestTimeoutMs: 15_000 });
    try {
      broker.broker.groups.commitOffsets({ groupId: g, generationId: -1, memberId: "", groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: "kip-a", partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }] });
      expect(broker.broker.groups.group(g)?.state).toBe("Empty");
      const m = memberId();
      expect((await join(g, m)).errorCode).toBe(0);
      expect(broker.broker.groups.group(g)).toBeUndefined();
      expect(broker.broker.groups.fetchOffsets(g, null).topics[0]!.partitions[0]!.committedOffset).toBe(42);

      // Once it is empty, a classic member turns it back into a classic group, with its offsets. (Groups
      // with members convert too: kip848-migration.test.ts.)
      const sub = encodeSubscription(["kip-a"]);
      await heartbeat({ groupId: g, memberId: m, memberEpoch: -1 });
      const joined = await c.request(JoinGroup, { groupId: g, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId: "", groupInstanceId: null, protocolType: "consumer", protocols: [{ name: "range", metadata: sub }], reason: null }, 3);
      expect(joined.errorCode).toBe(0);
      expect(broker.broker.groups.consumerGroup(g)).toBeUndefined();
      expect(broker.broker.groups.group(g)?.state).toBe("CompletingRebalance");
      expect(broker.broker.groups.fetchOffsets(g, null).topics[0]!.partitions[0]!.committedOffset).toBe(42);
    } finally {
      c.close();
    }
  });
});

describe("timeouts", () => {
  test("a member whose heartbeats stop is fenced after group.consumer.session.timeout.ms; the other gets its partitions", async () => {
    const g = newGroup("session");
    const [a, b] = [memberId(), memberId()];
    await join(g, a);
    await join(g, b);
    await until("a fenced by its session timeout", async () => {
      await heartbeat({ groupId: g, memberId: b, memberEpoch: broker.broker.groups.consumerGroup(g)!.members.get(b)!.memberEpoch });
      return !broker.broker.groups.consumerGroup(g)!.members.has(a);
    });
    const epoch = broker.broker.groups.consumerGroup(g)!.members.get(b)!.memberEpoch;
    const r = await heartbeat({ groupId: g, memberId: b, memberEpoch: epoch, topics: ["kip-a"], rebalanceTimeoutMs: 5000, owned: [] });
    expect(r.assignment).toEqual([{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }]);
  });

  test("a member that does not revoke within its rebalance timeout is fenced", async () => {
    const g = newGroup("rebalance");
    const [a, b] = [memberId(), memberId()];
    await join(g, a, { rebalanceTimeoutMs: 300 });
    await join(g, b);
    const all = [{ topicId: idOf("kip-a"), partitions: [0, 1, 2, 3] }];
    const revoke = await heartbeat({ groupId: g, memberId: a, memberEpoch: 1, owned: all });
    expect(revoke.assignment![0]!.partitions.length).toBe(2); // asked to revoke two
    // a keeps heartbeating but never lets go of them.
    await until("a fenced by its rebalance timeout", async () => {
      const r = await heartbeat({ groupId: g, memberId: a, memberEpoch: 1, owned: all });
      return r.errorCode === E.UNKNOWN_MEMBER_ID;
    });
  });
});

describe("group.coordinator.rebalance.protocols", () => {
  test("without consumer, ConsumerGroupHeartbeat is neither advertised nor served", async () => {
    await using d = await tempDir("brook-kip848-off-");
    await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: { "group.coordinator.rebalance.protocols": "classic" } });
    const c = await WireClient.connect(b.address, { clientId: "off" });
    try {
      expect(() => c.versionFor(ConsumerGroupHeartbeat)).toThrow("does not serve");
    } finally {
      c.close();
    }
    const r2 = await RawClient.connect(b.host, b.port);
    r2.send(requestFrame({ apiKey: 68, apiVersion: 1, correlationId: 7, flexibleHeader: true }, heartbeatBody({ groupId: "g", memberId: "m", memberEpoch: 0, rebalanceTimeoutMs: 1000, topics: ["x"], owned: [] })));
    const resp = await r2.response();
    expect(resp.int32()).toBe(7);
    const f = new Flex(resp.buf.subarray(resp.offset));
    f.tags();
    expect(readHeartbeat(f).errorCode).toBe(E.UNSUPPORTED_VERSION);
  });

  test("bad settings stop the broker before it listens", async () => {
    await using d = await tempDir("brook-kip848-bad-");
    const bad: Record<string, string | number>[] = [
      { "group.coordinator.rebalance.protocols": "consumer" },
      { "group.consumer.assignors": "sticky" },
      { "group.consumer.heartbeat.interval.ms": 50000, "group.consumer.max.heartbeat.interval.ms": 60000, "group.consumer.session.timeout.ms": 45000 },
    ];
    for (const overrides of bad)
      await expect(startBroker({ dataDir: d.path, logLevel: "silent", overrides })).rejects.toThrow();
  });
});
