// The consumer group protocol of KIP-848 with stock clients: librdkafka 2.15 (@confluentinc/kafka-javascript,
// group.protocol=consumer, one Node process per member) and @platformatic/kafka (groupProtocol
// "consumer"). Server-side assignment covers the partitions disjointly and records are consumed exactly
// once; a member leaving hands its partitions over without the others giving theirs up; regex
// subscriptions pick up topics created later; a classic and a consumer group share a topic; consumer
// groups, their members and their committed offsets survive a broker restart.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Consumer, Producer, stringSerializers } from "@platformatic/kafka";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { GroupMember } from "./helpers/group-member.ts";
import { until } from "./helpers/poll.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

const OVERRIDES = {
  "group.consumer.heartbeat.interval.ms": 300,
  "group.consumer.min.heartbeat.interval.ms": 100,
  "group.consumer.session.timeout.ms": 6000,
  "group.consumer.min.session.timeout.ms": 1000,
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
};

let dir: TempDir;
let broker: BrokerHandle;

beforeAll(async () => {
  dir = await tempDir("brook-kip848-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: OVERRIDES });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

async function produce(address: string, topic: string, partitions: number, perPartition: number, tag = "m"): Promise<string[]> {
  const producer = new Producer({ clientId: "kip848-producer", bootstrapBrokers: [address], serializers: stringSerializers });
  try {
    const values: string[] = [];
    const messages = [];
    for (let i = 0; i < perPartition; i++)
      for (let p = 0; p < partitions; p++) {
        const value = `${tag}-${p}-${i}`;
        values.push(value);
        messages.push({ topic, partition: p, key: value, value });
      }
    for (let i = 0; i < messages.length; i += 500) await producer.send({ messages: messages.slice(i, i + 500) });
    return values;
  } finally {
    await producer.close();
  }
}

const key = (m: { partition: number; offset: number }) => `${m.partition}@${m.offset}`;

function expectExactlyOnce(members: GroupMember[], produced: string[]): void {
  const consumed = members.flatMap((m) => m.messages);
  const keys = consumed.map(key);
  expect(new Set(keys).size).toBe(keys.length); // no record twice
  expect(consumed.map((m) => m.value!).sort()).toEqual([...produced].sort()); // every record once
}

/** The group as the broker describes it (ConsumerGroupDescribe's view). */
const described = (b: BrokerHandle, groupId: string) => b.broker.groups.describeConsumerGroup(groupId);

function stableWith(b: BrokerHandle, groupId: string, members: number): boolean {
  const d = described(b, groupId);
  return d.errorCode === 0 && d.groupState === "Stable" && d.members.length === members && d.members.every((m) => m.memberEpoch === d.groupEpoch);
}

describe("librdkafka (group.protocol=consumer)", () => {
  test("three members on 6 partitions: a disjoint cover, every record consumed exactly once", async () => {
    const topic = topicName("kip848-cover");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, 6);
    await using a = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "a", commit: true });
    await using b = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "b", commit: true });
    await using c = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "c", commit: true });
    const members = [a, b, c];
    await until("three members, two partitions each", () => stableWith(broker, groupId, 3) && members.every((m) => m.assigned.size === 2), 60_000, () =>
      members.map((m) => [...m.assigned]),
    );

    const all = members.flatMap((m) => [...m.assigned]).sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5].map((p) => `${topic}:${p}`).sort()); // disjoint and complete
    const d = described(broker, groupId);
    expect(d.assignorName).toBe("uniform");
    for (const m of d.members) expect(m.assignment.topicPartitions[0]!.partitions.length).toBe(2);

    const produced = await produce(broker.address, topic, 6, 40);
    await until("every record consumed", () => members.reduce((n, m) => n + m.messages.length, 0) >= produced.length, 60_000);
    for (const m of members) for (const msg of m.messages) expect(m.assigned.has(`${topic}:${msg.partition}`)).toBe(true);
    expectExactlyOnce(members, produced);
    await Promise.all(members.map((m) => m.close()));
  });

  test("a member leaves: its partitions move to the others, who keep theirs and keep consuming", async () => {
    const topic = topicName("kip848-leave");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, 6);
    await using a = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "a", commit: true });
    await using b = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "b", commit: true });
    await using c = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "c", commit: true });
    const members = [a, b, c];
    await until("three members, two partitions each", () => stableWith(broker, groupId, 3) && members.every((m) => m.assigned.size === 2), 60_000);
    const kept = new Map([a, b].map((m) => [m, new Set(m.assigned)]));
    const revokedBefore = a.revoked.length + b.revoked.length;

    const produced = await produce(broker.address, topic, 6, 20, "before");
    await until("the first records consumed", () => members.reduce((n, m) => n + m.messages.length, 0) >= produced.length, 60_000);

    await c.close();
    // Records produced while c's partitions are handed over.
    produced.push(...(await produce(broker.address, topic, 6, 20, "during")));
    await until("a and b own all 6 partitions", () => a.assigned.size + b.assigned.size === 6 && stableWith(broker, groupId, 2), 60_000, () => [
      [...a.assigned],
      [...b.assigned],
    ]);
    produced.push(...(await produce(broker.address, topic, 6, 20, "after")));
    await until("every record consumed", () => members.reduce((n, m) => n + m.messages.length, 0) >= produced.length, 60_000);

    // No stop-the-world: a and b gave up nothing and kept every partition they had.
    expect(a.revoked.length + b.revoked.length).toBe(revokedBefore);
    for (const [m, had] of kept) for (const tp of had) expect(m.assigned.has(tp)).toBe(true);
    expect([...a.assigned, ...b.assigned].sort()).toEqual([0, 1, 2, 3, 4, 5].map((p) => `${topic}:${p}`).sort());
    // No gap: on every partition the offsets consumed are 0..n-1, each once, across the handover.
    const byPartition = new Map<number, number[]>();
    for (const msg of members.flatMap((m) => m.messages)) byPartition.set(msg.partition, [...(byPartition.get(msg.partition) ?? []), msg.offset]);
    for (const [, offsets] of byPartition) expect(offsets.sort((x, y) => x - y)).toEqual(offsets.map((_, i) => i));
    expectExactlyOnce(members, produced);
    // The ones that stayed consumed their own partitions' records produced during and after the handover.
    for (const [m, had] of kept) {
      const during = m.messages.filter((msg) => had.has(`${topic}:${msg.partition}`) && msg.value!.startsWith("during"));
      expect(during.length).toBe(had.size * 20);
    }
    await Promise.all([a.close(), b.close()]);
  });

  test("a regex subscription picks up a topic created later", async () => {
    const prefix = topicName("kip848-re");
    const groupId = `${prefix}-g`;
    broker.broker.topics.create(`${prefix}-one`, 2);
    await using m = new GroupMember({ bootstrap: broker.address, groupId, topics: [`^${prefix}-.*`], clientId: "re", commit: true });
    await until("the first topic assigned", () => m.assigned.size === 2, 60_000, () => [...m.assigned]);
    expect(described(broker, groupId).members[0]!.subscribedTopicRegex).toBe(`(^${prefix}-.*)`);

    broker.broker.topics.create(`${prefix}-two`, 3);
    await until("the new topic assigned too", () => m.assigned.size === 5, 60_000, () => [...m.assigned]);
    const produced = [...(await produce(broker.address, `${prefix}-one`, 2, 5, "one")), ...(await produce(broker.address, `${prefix}-two`, 3, 5, "two"))];
    await until("records of both topics consumed", () => m.messages.length >= produced.length, 60_000);
    expect(m.messages.map((x) => x.value!).sort()).toEqual(produced.sort());
    await m.close();
  });

  test("a classic group and a consumer group side by side on one topic", async () => {
    const topic = topicName("kip848-side");
    broker.broker.topics.create(topic, 4);
    await using classic = new GroupMember({ bootstrap: broker.address, groupId: `${topic}-classic`, topics: [topic], protocol: "classic", clientId: "classic", commit: true });
    await using modern = new GroupMember({ bootstrap: broker.address, groupId: `${topic}-consumer`, topics: [topic], clientId: "consumer", commit: true });
    await until("both groups own the 4 partitions", () => classic.assigned.size === 4 && modern.assigned.size === 4, 60_000);
    const produced = await produce(broker.address, topic, 4, 10);
    await until("each group consumed everything", () => classic.messages.length >= produced.length && modern.messages.length >= produced.length, 60_000);
    expectExactlyOnce([classic], produced);
    expectExactlyOnce([modern], produced);

    const listed = broker.broker.groups.listGroups([], []).groups;
    expect(listed.find((g) => g.groupId === `${topic}-classic`)).toMatchObject({ groupType: "classic", protocolType: "consumer", groupState: "Stable" });
    expect(listed.find((g) => g.groupId === `${topic}-consumer`)).toMatchObject({ groupType: "consumer", protocolType: "consumer", groupState: "Stable" });
    expect(broker.broker.groups.listGroups([], ["Consumer"]).groups.map((g) => g.groupId)).toContain(`${topic}-consumer`);
    expect(broker.broker.groups.listGroups([], ["Consumer"]).groups.map((g) => g.groupId)).not.toContain(`${topic}-classic`);
    await Promise.all([classic.close(), modern.close()]);
  });
});

describe("@platformatic/kafka (groupProtocol consumer)", () => {
  test("three members share 6 partitions; commits with member epochs; a leaving member's partitions move", async () => {
    const topic = topicName("kip848-plt");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, 6);
    const consumers = ["x", "y", "z"].map(
      (clientId) => new Consumer({ groupId, clientId, bootstrapBrokers: [broker.address], groupProtocol: "consumer", retries: 3 } as any) as any,
    );
    try {
      // The streams stay paused, so they fetch nothing: this test is about membership and offsets (this
      // client fetches by topic id, Fetch v13+).
      const streams = await Promise.all(consumers.map((c) => c.consume({ topics: [topic], autocommit: false })));
      for (const s of streams) {
        s.pause();
        // The first fetch can start before the pause and fail (Fetch v12 by topic id): it is not what
        // this test is about, and the membership goes on.
        s.on("error", () => {});
      }
      const owned = (c: any) => (c.assignments ?? []).flatMap((a: any) => a.partitions.map((p: number) => `${a.topic}:${p}`)) as string[];
      await until("two partitions each", () => stableWith(broker, groupId, 3) && consumers.every((c) => owned(c).length === 2), 60_000, () =>
        consumers.map(owned),
      );
      expect(consumers.flatMap(owned).sort()).toEqual([0, 1, 2, 3, 4, 5].map((p) => `${topic}:${p}`).sort());

      // OffsetCommit v9 carries the member epoch; OffsetFetch v9 the member id and epoch.
      for (const c of consumers)
        await c.commit({ offsets: owned(c).map((tp: string) => ({ topic, partition: Number(tp.split(":").pop()), offset: 7n, leaderEpoch: 0 })) });
      const committed = await consumers[0].listCommittedOffsets({ topics: [{ topic, partitions: [0, 1, 2, 3, 4, 5] }] });
      expect(committed.get(topic).map(Number)).toEqual([7, 7, 7, 7, 7, 7]);

      const [x, y, z] = consumers;
      const kept = [...owned(x), ...owned(y)];
      await z.close();
      await until("x and y own all 6", () => owned(x).length + owned(y).length === 6 && stableWith(broker, groupId, 2), 60_000, () => [owned(x), owned(y)]);
      for (const tp of kept) expect([...owned(x), ...owned(y)]).toContain(tp);
    } finally {
      await Promise.all(consumers.map((c) => c.close(true).catch(() => {})));
    }
  });
});

describe("durability", () => {
  test("groups, members and committed offsets survive a broker restart; members go on where they were", async () => {
    await using d = await tempDir("brook-kip848-restart-");
    const port = await freePort();
    const overrides = { ...OVERRIDES, listeners: `PLAINTEXT://127.0.0.1:${port}` };
    let b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides, ephemeralPort: false });
    const topic = topicName("kip848-restart");
    const groupId = `${topic}-g`;
    b.broker.topics.create(topic, 4);
    try {
      await using m = new GroupMember({ bootstrap: b.address, groupId, topics: [topic], clientId: "survivor", commit: true });
      await until("the member owns 4 partitions", () => m.assigned.size === 4 && stableWith(b, groupId, 1), 60_000);
      const first = await produce(b.address, topic, 4, 10, "first");
      await until("the first records consumed and committed", () => m.events.filter((e) => e.event === "committed").length >= first.length, 60_000);
      const before = described(b, groupId);

      await b.close();
      b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides, ephemeralPort: false });
      const after = described(b, groupId);
      // The group came back as it was: same epoch, same member, same assignment.
      expect(after.groupEpoch).toBe(before.groupEpoch);
      expect(after.members.map((x) => [x.memberId, x.memberEpoch, x.assignment])).toEqual(before.members.map((x) => [x.memberId, x.memberEpoch, x.assignment]));
      const offsets = b.broker.groups.fetchOffsets(groupId, null).topics[0]!.partitions.map((p) => p.committedOffset);
      expect(offsets).toEqual([10, 10, 10, 10]);

      // The member reconnects and goes on consuming from its committed offsets, without rejoining.
      const second = await produce(b.address, topic, 4, 10, "second");
      await until("the new records consumed", () => m.messages.length >= first.length + second.length, 60_000);
      expectExactlyOnce([m], [...first, ...second]);
      expect(described(b, groupId).members.map((x) => x.memberId)).toEqual(before.members.map((x) => x.memberId));
      await m.close();
      await until("the member left", () => described(b, groupId).members.length === 0);

      // An empty consumer group with offsets survives too; a new member starts from the committed offsets.
      await b.close();
      b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides, ephemeralPort: false });
      expect(described(b, groupId)).toMatchObject({ errorCode: 0, groupState: "Empty" });
      await using n = new GroupMember({ bootstrap: b.address, groupId, topics: [topic], clientId: "next", commit: true });
      const third = await produce(b.address, topic, 4, 5, "third");
      await until("only the new records consumed", () => n.messages.length >= third.length, 60_000);
      expect(n.messages.map((x) => x.value!).sort()).toEqual(third.sort());
      await n.close();
    } finally {
      await b.close();
    }
  });
});

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
