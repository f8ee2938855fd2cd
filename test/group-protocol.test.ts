// The group coordinator driven request by request through Brook's codec-based client (src/group/
// admin-client.ts), one connection per member as real clients do (a parked JoinGroup holds up its
// connection). Covers the rebalance protocol's states and errors, KIP-394, static membership, session and
// rebalance timeouts, offsets (commit/fetch across versions), Describe/List/Delete groups, OffsetDelete,
// and that malformed or out-of-order requests get error codes instead of hanging.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DeleteGroups } from "../protocol/apis/42-delete-groups.ts";
import { DescribeGroups } from "../protocol/apis/15-describe-groups.ts";
import { FindCoordinator } from "../protocol/apis/10-find-coordinator.ts";
import { Heartbeat } from "../protocol/apis/12-heartbeat.ts";
import { JoinGroup } from "../protocol/apis/11-join-group.ts";
import { LeaveGroup } from "../protocol/apis/13-leave-group.ts";
import { ListGroups } from "../protocol/apis/16-list-groups.ts";
import { OffsetCommit } from "../protocol/apis/08-offset-commit.ts";
import { OffsetDelete } from "../protocol/apis/47-offset-delete.ts";
import { OffsetFetch } from "../protocol/apis/09-offset-fetch.ts";
import { SyncGroup } from "../protocol/apis/14-sync-group.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { WireClient } from "../src/client.ts";
import { encodeAssignment, encodeSubscription } from "../src/group/consumer-protocol.ts";
import { concat, int32, RawClient, requestFrame, str } from "./helpers/wire.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(30_000);

let dir: TempDir;
let broker: BrokerHandle;
const clients: WireClient[] = [];
let groupCounter = 0;
const newGroup = (label: string) => `${label}-${++groupCounter}`;

beforeAll(async () => {
  dir = await tempDir("brook-group-proto-");
  broker = await startBroker({
    dataDir: dir.path,
    overrides: {
      "group.initial.rebalance.delay.ms": 0,
      "group.min.session.timeout.ms": 100,
      "num.partitions": 3,
    },
    logLevel: "warn",
  });
  broker.broker.topics.create("orders", 3);
  broker.broker.topics.create("payments", 2);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await broker?.close();
  await dir?.remove();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function client(): Promise<WireClient> {
  const c = await WireClient.connect(broker.address, { clientId: "proto-test", requestTimeoutMs: 15_000 });
  clients.push(c);
  return c;
}

const SUB = encodeSubscription(["orders"]);

interface JoinOpts {
  version?: number;
  memberId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  instanceId?: string | null;
  protocolType?: string;
  protocols?: { name: string; metadata: Uint8Array }[];
}

function join(c: WireClient, groupId: string, o: JoinOpts = {}) {
  return c.request(
    JoinGroup,
    {
      groupId,
      sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 10_000,
      memberId: o.memberId ?? "",
      groupInstanceId: o.instanceId ?? null,
      protocolType: o.protocolType ?? "consumer",
      protocols: o.protocols ?? [{ name: "range", metadata: SUB }],
    },
    o.version ?? 5,
  );
}

/** JoinGroup v4+ the KIP-394 way: MEMBER_ID_REQUIRED first, then the join with the given id. */
async function joinNew(c: WireClient, groupId: string, o: JoinOpts = {}) {
  const first = await join(c, groupId, { ...o, version: o.version ?? 7 });
  expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
  expect(first.memberId).not.toBe("");
  return join(c, groupId, { ...o, version: o.version ?? 7, memberId: first.memberId });
}

function sync(
  c: WireClient,
  groupId: string,
  generationId: number,
  memberId: string,
  assignments: { memberId: string; assignment: Uint8Array }[] = [],
  version = 5,
  extra: { protocolType?: string | null; protocolName?: string | null; instanceId?: string | null } = {},
) {
  return c.request(
    SyncGroup,
    {
      groupId,
      generationId,
      memberId,
      groupInstanceId: extra.instanceId ?? null,
      protocolType: extra.protocolType === undefined ? "consumer" : extra.protocolType,
      protocolName: extra.protocolName === undefined ? null : extra.protocolName,
      assignments,
    },
    version,
  );
}

const heartbeat = (c: WireClient, groupId: string, generationId: number, memberId: string, instanceId: string | null = null) =>
  c.request(Heartbeat, { groupId, generationId, memberId, groupInstanceId: instanceId }, 4).then((r) => r.errorCode);

async function describeGroup(c: WireClient, groupId: string) {
  const r = await c.request(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false }, 5);
  return r.groups[0]!;
}

/** Polls a real condition with a bound (no sleeps as synchronisation). */
async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await Bun.sleep(25);
  }
}

/** A one-member Stable group: returns the member's client, id and generation. */
async function stableGroup(groupId: string, assignment = encodeAssignment([{ topic: "orders", partitions: [0, 1, 2] }])) {
  const c = await client();
  const j = await joinNew(c, groupId);
  expect(j.errorCode).toBe(0);
  const s = await sync(c, groupId, j.generationId, j.memberId, [{ memberId: j.memberId, assignment }]);
  expect(s.errorCode).toBe(0);
  return { c, memberId: j.memberId, generationId: j.generationId };
}

describe("FindCoordinator", () => {
  test("v0–v3 name this broker for groups and transactional ids; v4 answers per key", async () => {
    const c = await client();
    for (const v of [0, 1, 2, 3]) {
      const r = await c.request(FindCoordinator, { key: "g", keyType: v === 0 ? 0 : 1 }, v);
      expect([r.errorCode, r.nodeId, r.host, r.port]).toEqual([0, broker.broker.nodeId, broker.listeners[0]!.host, broker.port]);
    }
    const r4 = await c.request(FindCoordinator, { keyType: 0, coordinatorKeys: ["a", "b", "c"] }, 4);
    expect(r4.coordinators.map((x) => [x.key, x.errorCode, x.nodeId, x.port])).toEqual([
      ["a", 0, 1, broker.port],
      ["b", 0, 1, broker.port],
      ["c", 0, 1, broker.port],
    ]);
    const bad = await c.request(FindCoordinator, { key: "g", keyType: 7 }, 3);
    expect(bad.errorCode).toBe(E.INVALID_REQUEST);
  });
});

describe("JoinGroup / SyncGroup / Heartbeat", () => {
  test("KIP-394: v4+ join without member id gets MEMBER_ID_REQUIRED and an id; v3 joins directly", async () => {
    const g = newGroup("kip394");
    const c = await client();
    const first = await join(c, g, { version: 4 });
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect(first.memberId).toStartWith("proto-test-");
    expect(first.generationId).toBe(-1);
    const second = await join(c, g, { version: 4, memberId: first.memberId });
    expect([second.errorCode, second.generationId, second.leader, second.memberId, second.protocolName]).toEqual([
      0, 1, first.memberId, first.memberId, "range",
    ]);
    expect(second.members.map((m) => [m.memberId, Buffer.from(m.metadata).equals(Buffer.from(SUB))])).toEqual([[first.memberId, true]]);

    const g3 = newGroup("v3");
    const c3 = await client();
    const direct = await join(c3, g3, { version: 3 });
    expect([direct.errorCode, direct.generationId]).toEqual([0, 1]);
    expect(direct.memberId).toStartWith("proto-test-");
  });

  test("a second member: heartbeat says rebalance, both rejoin, each gets exactly its own assignment", async () => {
    const g = newGroup("two");
    const a = await stableGroup(g);
    expect(await heartbeat(a.c, g, a.generationId, a.memberId)).toBe(0);

    const cb = await client();
    const bFirst = await join(cb, g, { version: 7 });
    const bJoin = join(cb, g, { version: 7, memberId: bFirst.memberId }); // parks
    expect(await heartbeat(a.c, g, a.generationId, a.memberId)).toBe(E.REBALANCE_IN_PROGRESS);
    expect((await describeGroup(a.c, g)).groupState).toBe("PreparingRebalance");
    // Stale generation meanwhile: ILLEGAL_GENERATION, not a hang.
    expect(await heartbeat(a.c, g, a.generationId + 5, a.memberId)).toBe(E.ILLEGAL_GENERATION);

    const aJoin = await join(a.c, g, { version: 7, memberId: a.memberId });
    const bJoined = await bJoin;
    expect(aJoin.generationId).toBe(a.generationId + 1);
    expect(bJoined.generationId).toBe(a.generationId + 1);
    expect(aJoin.leader).toBe(a.memberId); // the first member stays leader
    expect(bJoined.leader).toBe(a.memberId);
    expect(aJoin.members.map((m) => m.memberId).sort()).toEqual([a.memberId, bFirst.memberId].sort());
    expect(bJoined.members).toEqual([]);
    expect(aJoin.protocolType).toBe("consumer");

    // The follower's SyncGroup parks until the leader's arrives.
    const bytesA = encodeAssignment([{ topic: "orders", partitions: [0, 2] }], 1, new Uint8Array([9, 8, 7]));
    const bytesB = encodeAssignment([{ topic: "orders", partitions: [1] }], 0);
    const gen = aJoin.generationId;
    const bSync = sync(cb, g, gen, bFirst.memberId);
    // A commit while the leader has not synced yet: REBALANCE_IN_PROGRESS.
    const early = await a.c.request(
      OffsetCommit,
      { groupId: g, generationIdOrMemberEpoch: gen, memberId: a.memberId, topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 1 }] }] },
      8,
    );
    expect(early.topics[0]!.partitions[0]!.errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    expect(await heartbeat(a.c, g, gen, a.memberId)).toBe(0); // heartbeats are fine in CompletingRebalance
    const aSync = await sync(a.c, g, gen, a.memberId, [
      { memberId: a.memberId, assignment: bytesA },
      { memberId: bFirst.memberId, assignment: bytesB },
    ], 5, { protocolName: "range" });
    expect([aSync.errorCode, aSync.protocolType, aSync.protocolName]).toEqual([0, "consumer", "range"]);
    expect(Buffer.from(aSync.assignment).equals(Buffer.from(bytesA))).toBe(true);
    const bSynced = await bSync;
    expect(bSynced.errorCode).toBe(0);
    expect(Buffer.from(bSynced.assignment).equals(Buffer.from(bytesB))).toBe(true);

    const d = await describeGroup(a.c, g);
    expect([d.groupState, d.protocolType, d.protocolData]).toEqual(["Stable", "consumer", "range"]);
    expect(d.members.length).toBe(2);
    const mb = d.members.find((m) => m.memberId === bFirst.memberId)!;
    expect(Buffer.from(mb.memberAssignment).equals(Buffer.from(bytesB))).toBe(true);
    expect(mb.clientHost).toBe("/127.0.0.1");
    expect(mb.clientId).toBe("proto-test");

    // Out-of-order: SyncGroup of the old generation, Heartbeat of a stranger, commits with a bad generation.
    expect((await sync(a.c, g, gen - 1, a.memberId)).errorCode).toBe(E.ILLEGAL_GENERATION);
    expect((await sync(a.c, g, gen, "nobody")).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await sync(a.c, g, gen, a.memberId, [], 5, { protocolType: "connect" })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect(await heartbeat(a.c, g, gen, "nobody")).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await heartbeat(a.c, "no-such-group", 1, "nobody")).toBe(E.UNKNOWN_MEMBER_ID);
    const commit = (generation: number, memberId: string) =>
      a.c
        .request(
          OffsetCommit,
          {
            groupId: g,
            generationIdOrMemberEpoch: generation,
            memberId,
            topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 5, committedMetadata: "m" }] }],
          },
          8,
        )
        .then((r) => r.topics[0]!.partitions[0]!.errorCode);
    expect(await commit(gen - 1, a.memberId)).toBe(E.ILLEGAL_GENERATION);
    expect(await commit(gen, "nobody")).toBe(E.UNKNOWN_MEMBER_ID);
    expect(await commit(-1, "")).toBe(E.UNKNOWN_MEMBER_ID); // a simple commit only while the group is empty
    expect(await commit(gen, a.memberId)).toBe(0);

    // A follower rejoining a Stable group unchanged gets the current generation at once.
    const again = await join(cb, g, { version: 7, memberId: bFirst.memberId });
    expect([again.errorCode, again.generationId, again.members.length]).toEqual([0, gen, 0]);
    expect((await sync(cb, g, gen, bFirst.memberId)).assignment).toEqual(bytesB);
  });

  test("session timeout range, protocol type and protocol mismatches, empty group id", async () => {
    const g = newGroup("invalid");
    const c = await client();
    expect((await join(c, g, { sessionTimeoutMs: 50 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(c, g, { sessionTimeoutMs: 3_600_000 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(c, "", {})).errorCode).toBe(E.INVALID_GROUP_ID);
    expect((await join(c, g, { protocols: [] })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    await stableGroup(g);
    const c2 = await client();
    expect((await join(c2, g, { protocolType: "connect", version: 3 })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join(c2, g, { protocols: [{ name: "sticky", metadata: SUB }], version: 3 })).errorCode).toBe(
      E.INCONSISTENT_GROUP_PROTOCOL,
    );
    // Unknown member id on a known group, and on an unknown group.
    expect((await join(c2, g, { memberId: "made-up" })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await join(c2, newGroup("none"), { memberId: "made-up" })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("the protocol is chosen by vote among the protocols all members support", async () => {
    const g = newGroup("vote");
    const cs = [await client(), await client(), await client()];
    const prefs = [["range", "roundrobin"], ["roundrobin", "range", "sticky"], ["roundrobin", "range"]];
    const proto = (names: string[]) => names.map((name) => ({ name, metadata: new TextEncoder().encode(`${name}-meta`) }));
    // v3 (no KIP-394 round trip). The first join completes alone (no initial delay), so all rejoin after.
    const first = await join(cs[0]!, g, { version: 3, protocols: proto(prefs[0]!) });
    const p1 = join(cs[1]!, g, { version: 3, protocols: proto(prefs[1]!) });
    const p2 = join(cs[2]!, g, { version: 3, protocols: proto(prefs[2]!) });
    const p0 = join(cs[0]!, g, { version: 3, memberId: first.memberId, protocols: proto(prefs[0]!) });
    const rs = await Promise.all([p0, p1, p2]);
    expect(rs.map((r) => r.errorCode)).toEqual([0, 0, 0]);
    expect(new Set(rs.map((r) => r.generationId)).size).toBe(1);
    expect(rs.map((r) => r.protocolName)).toEqual(["roundrobin", "roundrobin", "roundrobin"]);
    const leader = rs.find((r) => r.members.length > 0)!;
    expect(leader.memberId).toBe(first.memberId);
    // The leader sees each member's metadata for the chosen protocol.
    expect(leader.members.map((m) => new TextDecoder().decode(m.metadata))).toEqual(["roundrobin-meta", "roundrobin-meta", "roundrobin-meta"]);
  });

  test("a member that does not rejoin within the rebalance timeout is removed", async () => {
    const g = newGroup("rebalance-timeout");
    const ca = await client();
    const cb = await client();
    const a0 = await join(ca, g, { version: 3, rebalanceTimeoutMs: 400, sessionTimeoutMs: 20_000 });
    await sync(ca, g, a0.generationId, a0.memberId, [], 3);
    const bJoin = join(cb, g, { version: 3, rebalanceTimeoutMs: 400, sessionTimeoutMs: 20_000 });
    // a0 never rejoins (and its session is long): only the rebalance timeout can complete this join.
    const started = Date.now();
    const b = await bJoin;
    expect(b.errorCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(b.leader).toBe(b.memberId);
    expect(b.members.map((m) => m.memberId)).toEqual([b.memberId]);
    expect(await heartbeat(ca, g, a0.generationId, a0.memberId)).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("a member whose heartbeats stop is expired after its session timeout", async () => {
    const g = newGroup("session");
    const a = await client();
    const j = await join(a, g, { version: 3, sessionTimeoutMs: 300 });
    expect((await sync(a, g, j.generationId, j.memberId, [], 3)).errorCode).toBe(0);
    const d = await until("the member to expire", () => describeGroup(a, g), (d) => d.groupState === "Empty", 5_000);
    expect(d.members).toEqual([]);
    expect(await heartbeat(a, g, j.generationId, j.memberId)).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test("members that get the JoinGroup response but never sync are removed after the rebalance timeout", async () => {
    const g = newGroup("no-sync");
    const ca = await client();
    const a = await join(ca, g, { version: 3, rebalanceTimeoutMs: 300, sessionTimeoutMs: 20_000 });
    expect(a.errorCode).toBe(0);
    const d = await until("the group to give up on the sync", () => describeGroup(ca, g), (d) => d.groupState === "Empty", 5_000);
    expect(d.members).toEqual([]);
  });

  test("a join with a 0 ms rebalance timeout leaves time for the SyncGroup that follows (kafkajs' broker tests)", async () => {
    const g = newGroup("zero-rebalance-timeout");
    const ca = await client();
    const a = await join(ca, g, { version: 3, rebalanceTimeoutMs: 0, sessionTimeoutMs: 20_000 });
    expect(a.errorCode).toBe(0);
    // The client's own pause between the two requests (kafkajs sends SyncGroup a few ms later), not a wait
    // for the broker: Kafka's purgatory has not expired the pending sync by then.
    await Bun.sleep(30);
    const s = await sync(ca, g, a.generationId, a.memberId, [{ memberId: a.memberId, assignment: new Uint8Array([1, 2]) }], 3);
    expect(s.errorCode).toBe(0);
    expect([...s.assignment]).toEqual([1, 2]);
  });

  test("the leader leaves: a remaining member becomes leader in the next generation", async () => {
    const g = newGroup("leader-leaves");
    const ca = await client();
    const cb = await client();
    const a0 = await join(ca, g, { version: 3 });
    const bP = join(cb, g, { version: 3 });
    const a1 = await join(ca, g, { version: 3, memberId: a0.memberId });
    const b1 = await bP;
    expect(a1.leader).toBe(a0.memberId);
    const [sa, sb] = await Promise.all([sync(ca, g, a1.generationId, a0.memberId, [], 3), sync(cb, g, b1.generationId, b1.memberId, [], 3)]);
    expect([sa.errorCode, sb.errorCode]).toEqual([0, 0]);

    const left = await ca.request(LeaveGroup, { groupId: g, members: [{ memberId: a0.memberId, groupInstanceId: null }, { memberId: "ghost", groupInstanceId: null }] }, 4);
    expect(left.errorCode).toBe(0);
    expect(left.members.map((m) => [m.memberId, m.errorCode])).toEqual([[a0.memberId, 0], ["ghost", E.UNKNOWN_MEMBER_ID]]);
    expect(await heartbeat(cb, g, b1.generationId, b1.memberId)).toBe(E.REBALANCE_IN_PROGRESS);
    const b2 = await join(cb, g, { version: 3, memberId: b1.memberId });
    expect([b2.errorCode, b2.generationId, b2.leader]).toEqual([0, b1.generationId + 1, b1.memberId]);

    // LeaveGroup v0 answers a single member's error at the top level.
    const v0 = await cb.request(LeaveGroup, { groupId: g, memberId: "ghost" }, 0);
    expect(v0.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    const v0unknownGroup = await cb.request(LeaveGroup, { groupId: newGroup("nothing"), memberId: "ghost" }, 1);
    expect(v0unknownGroup.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // v3+ for a group that does not exist: Kafka 4's coordinator answers UNKNOWN_MEMBER_ID at the top
    // level with no members (the group lookup fails before any member is looked at).
    const v4unknownGroup = await cb.request(LeaveGroup, { groupId: newGroup("nothing"), members: [{ memberId: "ghost", groupInstanceId: null }] }, 4);
    expect([v4unknownGroup.errorCode, v4unknownGroup.members]).toEqual([E.UNKNOWN_MEMBER_ID, []]);
  });

  test("static membership: a restarted instance takes over without a rebalance; the old id is fenced", async () => {
    const g = newGroup("static");
    const c1 = await client();
    const j1 = await join(c1, g, { version: 5, instanceId: "instance-1" });
    expect(j1.errorCode).toBe(0); // static members skip MEMBER_ID_REQUIRED
    expect(j1.memberId).toStartWith("instance-1-");
    const bytes = encodeAssignment([{ topic: "orders", partitions: [0, 1, 2] }]);
    await sync(c1, g, j1.generationId, j1.memberId, [{ memberId: j1.memberId, assignment: bytes }], 5, { instanceId: "instance-1" });

    const c2 = await client();
    const j2 = await join(c2, g, { version: 5, instanceId: "instance-1" });
    expect(j2.errorCode).toBe(0);
    expect(j2.memberId).not.toBe(j1.memberId);
    expect(j2.generationId).toBe(j1.generationId); // no rebalance
    expect((await describeGroup(c2, g)).groupState).toBe("Stable");
    const s2 = await sync(c2, g, j2.generationId, j2.memberId, [], 5, { instanceId: "instance-1" });
    expect(Buffer.from(s2.assignment).equals(Buffer.from(bytes))).toBe(true);

    expect(await heartbeat(c1, g, j1.generationId, j1.memberId, "instance-1")).toBe(E.FENCED_INSTANCE_ID);
    const fencedCommit = await c1.request(
      OffsetCommit,
      {
        groupId: g,
        generationIdOrMemberEpoch: j1.generationId,
        memberId: j1.memberId,
        groupInstanceId: "instance-1",
        topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 1 }] }],
      },
      7,
    );
    expect(fencedCommit.topics[0]!.partitions[0]!.errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(await heartbeat(c2, g, j2.generationId, j2.memberId, "instance-1")).toBe(0);
    // A static member may leave by instance id alone.
    const left = await c2.request(LeaveGroup, { groupId: g, members: [{ memberId: "", groupInstanceId: "instance-1" }] }, 3);
    expect(left.members[0]!.errorCode).toBe(0);
    await until("the group to empty", () => describeGroup(c2, g), (d) => d.groupState === "Empty");
  });

  test("group.max.size: a member over the limit gets GROUP_MAX_SIZE_REACHED", async () => {
    await using dir2 = await tempDir("brook-group-maxsize-");
    await using b2 = await startBroker({ dataDir: dir2.path, overrides: { "group.initial.rebalance.delay.ms": 0, "group.max.size": 2 }, logLevel: "warn" });
    const cs = await Promise.all([0, 1, 2].map(() => WireClient.connect(b2.address)));
    try {
      const a = await join(cs[0]!, "small", { version: 3 });
      const bP = join(cs[1]!, "small", { version: 3 });
      const a2 = await join(cs[0]!, "small", { version: 3, memberId: a.memberId });
      const b = await bP;
      expect([a2.errorCode, b.errorCode, a2.generationId]).toEqual([0, 0, b.generationId]);
      await Promise.all([sync(cs[0]!, "small", a2.generationId, a.memberId, [], 3), sync(cs[1]!, "small", b.generationId, b.memberId, [], 3)]);
      const third = await join(cs[2]!, "small", { version: 3 });
      expect(third.errorCode).toBe(E.GROUP_MAX_SIZE_REACHED);
      expect((await describeGroup(cs[0]!, "small")).members.length).toBe(2);
    } finally {
      for (const c of cs) c.close();
    }
  });

  test("a second JoinGroup of a parked member supersedes the first, which is answered (no hang)", async () => {
    const g = newGroup("resend");
    const ca = await client();
    const cb = await client();
    const a0 = await join(ca, g, { version: 3 });
    const bP = join(cb, g, { version: 3 });
    const a1 = await join(ca, g, { version: 3, memberId: a0.memberId });
    const b1 = await bP;
    await Promise.all([sync(ca, g, a1.generationId, a0.memberId, [], 3), sync(cb, g, b1.generationId, b1.memberId, [], 3)]);
    // a rejoins and parks (b has not rejoined yet)...
    const aFirst = join(ca, g, { version: 3, memberId: a0.memberId });
    await until("the rebalance to start", () => describeGroup(cb, g), (d) => d.groupState === "PreparingRebalance");
    // ...then asks again from another connection (as after a client-side timeout).
    const other = await client();
    const aSecond = join(other, g, { version: 3, memberId: a0.memberId });
    const r1 = await aFirst;
    expect(r1.errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    const b2 = await join(cb, g, { version: 3, memberId: b1.memberId });
    const r2 = await aSecond;
    expect([r2.errorCode, b2.errorCode, r2.generationId]).toEqual([0, 0, b1.generationId + 1]);
  });

  test("group.initial.rebalance.delay.ms gathers members joining an empty group into one generation", async () => {
    await using dir2 = await tempDir("brook-group-delay-");
    await using b2 = await startBroker({ dataDir: dir2.path, overrides: { "group.initial.rebalance.delay.ms": 300 }, logLevel: "warn" });
    const g = "delayed";
    const c1 = await WireClient.connect(b2.address);
    const c2 = await WireClient.connect(b2.address);
    try {
      const started = Date.now();
      const p1 = join(c1, g, { version: 3 });
      const p2 = join(c2, g, { version: 3 });
      const [r1, r2] = await Promise.all([p1, p2]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect([r1.generationId, r2.generationId]).toEqual([1, 1]);
      expect(r1.leader).toBe(r1.memberId);
      expect(r1.members.length + r2.members.length).toBe(2);
    } finally {
      c1.close();
      c2.close();
    }
  });

  test("a parked JoinGroup is answered when the broker shuts down (no hang)", async () => {
    await using dir2 = await tempDir("brook-group-shutdown-");
    const b2 = await startBroker({ dataDir: dir2.path, overrides: { "group.initial.rebalance.delay.ms": 60_000 }, logLevel: "warn" });
    const c = await WireClient.connect(b2.address);
    try {
      const parked = join(c, "parked", { version: 3 });
      await until("the join to park", async () => b2.broker.groups.group("parked")?.state, (s) => s === "PreparingRebalance");
      const closed = b2.close();
      const r = await parked;
      expect(r.errorCode).toBe(E.NOT_COORDINATOR);
      await closed;
    } finally {
      c.close();
    }
  });

  test("malformed group requests get INVALID_REQUEST, and the connection keeps working", async () => {
    const raw = await RawClient.connect(broker.host, broker.port);
    try {
      // JoinGroup v3 cut off after the session timeout.
      raw.send(requestFrame({ apiKey: 11, apiVersion: 3, correlationId: 4242 }, concat(str("broken"), int32(10_000))));
      const r = await raw.response();
      expect([r.int32(), r.int32(), r.int16()]).toEqual([4242, 0, E.INVALID_REQUEST]);
      // Heartbeat v0 with the member id missing.
      raw.send(requestFrame({ apiKey: 12, apiVersion: 0, correlationId: 4243 }, concat(str("g"), int32(1))));
      const h = await raw.response();
      expect([h.int32(), h.int16()]).toEqual([4243, E.INVALID_REQUEST]);
      // A well-formed Heartbeat v0 for a member nobody knows, on the same connection.
      raw.send(requestFrame({ apiKey: 12, apiVersion: 0, correlationId: 4244 }, concat(str("g"), int32(1), str("who"))));
      const ok = await raw.response();
      expect([ok.int32(), ok.int16()]).toEqual([4244, E.UNKNOWN_MEMBER_ID]);
    } finally {
      raw.close();
    }
  });
});

describe("offsets", () => {
  test("commit and fetch across versions: metadata, leader epoch, unknown partitions, null topic list", async () => {
    const g = newGroup("offsets");
    const c = await client();
    // A simple commit (no membership) creates the group.
    const r = await c.request(
      OffsetCommit,
      {
        groupId: g,
        topics: [
          {
            name: "orders",
            partitions: [
              { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 3, committedMetadata: "meta-0" },
              { partitionIndex: 2, committedOffset: 7, committedLeaderEpoch: 1, committedMetadata: null },
              { partitionIndex: 9, committedOffset: 1, committedMetadata: "" },
            ],
          },
          { name: "no-such-topic", partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: "" }] },
          { name: "payments", partitions: [{ partitionIndex: 1, committedOffset: 5, committedMetadata: "x".repeat(5000) }] },
        ],
      },
      8,
    );
    expect(r.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [0, 0, E.UNKNOWN_TOPIC_OR_PARTITION],
      [E.UNKNOWN_TOPIC_OR_PARTITION],
      [12], // OFFSET_METADATA_TOO_LARGE
    ]);

    for (const v of [1, 2, 3, 4, 5, 6, 7]) {
      const f = await c.request(OffsetFetch, { groupId: g, topics: [{ name: "orders", partitionIndexes: [0, 1, 2] }] }, v);
      const parts = f.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]);
      expect(parts).toEqual([
        [0, 42, "meta-0", 0],
        [1, -1, "", 0],
        [2, 7, "", 0],
      ]);
      if (v >= 5) expect(f.topics[0]!.partitions.map((p) => p.committedLeaderEpoch)).toEqual([3, -1, 1]);
      if (v >= 2) expect(f.errorCode).toBe(0);
    }
    // v0 (no leader epochs, no top-level error)
    const f0 = await c.request(OffsetFetch, { groupId: g, topics: [{ name: "orders", partitionIndexes: [0] }] }, 0);
    expect(f0.topics[0]!.partitions[0]!.committedOffset).toBe(42);

    // A null topic list: everything the group committed.
    const all = await c.request(OffsetFetch, { groupId: g, topics: null }, 6);
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([
      ["orders", [[0, 42], [2, 7]]],
    ]);
    // v8: several groups at once, one of them unknown.
    const v8 = await c.request(
      OffsetFetch,
      {
        groups: [
          { groupId: g, topics: null },
          { groupId: "never-committed", topics: [{ name: "orders", partitionIndexes: [0] }] },
        ],
        requireStable: true,
      },
      8,
    );
    expect(v8.groups.map((x) => [x.groupId, x.errorCode, x.topics.map((t) => t.partitions.map((p) => [p.committedOffset, p.metadata]))])).toEqual([
      [g, 0, [[[42, "meta-0"], [7, ""]]]],
      ["never-committed", 0, [[[-1, ""]]]],
    ]);
    // A commit with a generation for a group that does not exist: ILLEGAL_GENERATION.
    const stale = await c.request(
      OffsetCommit,
      { groupId: newGroup("ghost"), generationIdOrMemberEpoch: 3, memberId: "m", topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 1 }] }] },
      2,
    );
    expect(stale.topics[0]!.partitions[0]!.errorCode).toBe(E.ILLEGAL_GENERATION);
  });

  test("OffsetDelete: only partitions of topics the group does not subscribe to", async () => {
    const g = newGroup("offset-delete");
    const m = await stableGroup(g);
    await m.c.request(
      OffsetCommit,
      {
        groupId: g,
        generationIdOrMemberEpoch: m.generationId,
        memberId: m.memberId,
        topics: [
          { name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 3 }] },
          { name: "payments", partitions: [{ partitionIndex: 0, committedOffset: 4 }] },
        ],
      },
      8,
    );
    const r = await m.c.request(
      OffsetDelete,
      { groupId: g, topics: [{ name: "orders", partitions: [{ partitionIndex: 0 }] }, { name: "payments", partitions: [{ partitionIndex: 0 }] }] },
      0,
    );
    expect(r.errorCode).toBe(0);
    expect(r.topics.map((t) => [t.name, t.partitions[0]!.errorCode])).toEqual([
      ["orders", E.GROUP_SUBSCRIBED_TO_TOPIC],
      ["payments", 0],
    ]);
    const f = await m.c.request(OffsetFetch, { groupId: g, topics: null }, 7);
    expect(f.topics.map((t) => t.name)).toEqual(["orders"]);
    const unknown = await m.c.request(OffsetDelete, { groupId: newGroup("unknown"), topics: [] }, 0);
    expect(unknown.errorCode).toBe(E.GROUP_ID_NOT_FOUND);
  });
});

describe("DescribeGroups / ListGroups / DeleteGroups", () => {
  test("list with state filter, describe unknown as Dead, delete only empty groups", async () => {
    const stable = newGroup("listed-stable");
    const m = await stableGroup(stable);
    const empty = newGroup("listed-empty");
    await m.c.request(OffsetCommit, { groupId: empty, topics: [{ name: "orders", partitions: [{ partitionIndex: 1, committedOffset: 9 }] }] }, 3);

    const all = await m.c.request(ListGroups, {}, 3);
    const listed = new Map(all.groups.map((x) => [x.groupId, x.protocolType]));
    expect(listed.get(stable)).toBe("consumer");
    expect(listed.get(empty)).toBe("");
    const onlyEmpty = await m.c.request(ListGroups, { statesFilter: ["empty"] }, 4);
    expect(onlyEmpty.groups.some((x) => x.groupId === empty && x.groupState === "Empty")).toBe(true);
    expect(onlyEmpty.groups.some((x) => x.groupId === stable)).toBe(false);

    const dead = await describeGroup(m.c, newGroup("nobody"));
    expect([dead.errorCode, dead.groupState, dead.members]).toEqual([0, "Dead", []]);

    const del = await m.c.request(DeleteGroups, { groupsNames: [stable, empty, newGroup("missing")] }, 2);
    expect(del.results.map((x) => x.errorCode)).toEqual([E.NON_EMPTY_GROUP, 0, E.GROUP_ID_NOT_FOUND]);
    const after = await m.c.request(OffsetFetch, { groupId: empty, topics: null }, 7);
    expect(after.topics).toEqual([]);
    expect((await describeGroup(m.c, empty)).groupState).toBe("Dead");
  });
});
