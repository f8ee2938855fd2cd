// Online migration between the classic and the consumer group protocol with stock clients: librdkafka
// 2.15 (@confluentinc/kafka-javascript, one Node process per member) with group.protocol=classic (eager
// "range", as older applications run it) and group.protocol=consumer. A rolling upgrade replaces three
// classic members one by one by new-protocol members while records keep flowing, and a rolling downgrade
// does the reverse; every record is consumed exactly once (committed offsets are honoured across every
// hand-over) and the group ends as the other kind. With group.consumer.migration.policy=disabled the
// new-protocol member gets Kafka's refusal and the classic group goes on undisturbed. An older client
// (confluent_kafka 2.0.2, librdkafka 2.0.2) with cooperative-sticky inside a mixed group gives up only the
// partitions that move to the new-protocol member. kafkajs, which speaks only the classic protocol, joins
// a consumer group as a classic member and gets its share from the server-side assignor. A mixed group survives a broker restart with both
// kinds of member going on without rejoining.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Producer, stringSerializers } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { requireTools, spawnPyScript } from "./helpers/clients.ts";
import { GroupMember, type MemberOptions } from "./helpers/group-member.ts";
import { until } from "./helpers/poll.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(240_000);

const OVERRIDES = {
  "group.consumer.heartbeat.interval.ms": 300,
  "group.consumer.min.heartbeat.interval.ms": 100,
  "group.consumer.session.timeout.ms": 6000,
  "group.consumer.min.session.timeout.ms": 1000,
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
};

const PARTITIONS = 6;

let dir: TempDir;
let broker: BrokerHandle;

beforeAll(async () => {
  dir = await tempDir("brook-kip848-migc-");
  broker = await startBroker({ dataDir: dir.path, logLevel: "warn", overrides: OVERRIDES });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});

async function produce(address: string, topic: string, perPartition: number, tag: string): Promise<string[]> {
  const producer = new Producer({ clientId: "kip848-migration-producer", bootstrapBrokers: [address], serializers: stringSerializers });
  try {
    const values = Array.from({ length: perPartition * PARTITIONS }, (_, i) => `${tag}-${i % PARTITIONS}-${Math.floor(i / PARTITIONS)}`);
    await producer.send({ messages: values.map((value, i) => ({ topic, partition: i % PARTITIONS, key: value, value })) });
    return values;
  } finally {
    await producer.close();
  }
}

/** Records produced in small batches to every partition until stopped; only acknowledged ones are listed. */
function flow(address: string, topic: string, tag: string) {
  const producer = new Producer({ clientId: "kip848-migration-producer", bootstrapBrokers: [address], serializers: stringSerializers });
  const produced: string[] = [];
  let stopping = false;
  const running = (async () => {
    for (let i = 0; !stopping; i++) {
      const batch = Array.from({ length: PARTITIONS }, (_, p) => `${tag}-${p}-${i}`);
      await producer.send({ messages: batch.map((value, partition) => ({ topic, partition, key: value, value })) });
      produced.push(...batch);
      await Bun.sleep(40); // pacing, so records keep arriving throughout the migration
    }
  })();
  return {
    produced,
    async stop(): Promise<string[]> {
      stopping = true;
      await running;
      await producer.close();
      return produced;
    },
  };
}

const all = (topic: string) => Array.from({ length: PARTITIONS }, (_, p) => `${topic}:${p}`).sort();

function expectExactlyOnce(members: GroupMember[], produced: string[]): void {
  const consumed = members.flatMap((m) => m.messages.map((c) => ({ ...c, by: m.name })));
  const keys = consumed.map((m) => `${m.partition}@${m.offset}`);
  const seen = new Map<string, string[]>();
  consumed.forEach((c, i) => seen.set(keys[i]!, [...(seen.get(keys[i]!) ?? []), c.by]));
  const twice = [...seen].filter(([, by]) => by.length > 1);
  // no record twice (when there is one: by whom, and what the members reported besides records)
  const report = twice.length === 0 ? [] : [twice.slice(0, 10), members.map((m) => [m.name, m.events.filter((e) => e.event !== "message" && e.event !== "committed")])];
  expect(report).toEqual([]);
  expect(consumed.map((m) => m.value!).sort()).toEqual([...produced].sort()); // every record
}

/** The live members' partitions as they see them: every partition once. */
function coverOk(members: GroupMember[], topic: string): boolean {
  const owned = members.flatMap((m) => [...m.assigned]).sort();
  return JSON.stringify(owned) === JSON.stringify(all(topic));
}

/** A consumer group (possibly mixed) whose members have all reconciled to the group epoch. */
function consumerStable(groupId: string, members: number, classic: number): boolean {
  const g = broker.broker.groups.consumerGroup(groupId);
  const d = broker.broker.groups.describeConsumerGroup(groupId);
  return (
    g !== undefined &&
    d.groupState === "Stable" &&
    d.members.length === members &&
    g.numClassicMembers === classic &&
    d.members.every((m) => m.memberEpoch === d.groupEpoch)
  );
}

function classicStable(groupId: string, members: number): boolean {
  const g = broker.broker.groups.group(groupId);
  return g !== undefined && g.state === "Stable" && g.members.size === members;
}

/** The member with this client id is no longer in the group (of either kind). */
function memberGone(groupId: string, clientId: string, b: BrokerHandle = broker): boolean {
  const c = b.broker.groups.consumerGroup(groupId);
  if (c) return ![...c.members.values()].some((m) => m.clientId === clientId);
  const g = b.broker.groups.group(groupId);
  return !g || ![...g.members.values()].some((m) => m.clientId === clientId);
}

const state = (groupId: string) => {
  const c = broker.broker.groups.consumerGroup(groupId);
  if (c) return { type: "consumer", ...broker.broker.groups.describeConsumerGroup(groupId), classic: c.numClassicMembers };
  const g = broker.broker.groups.group(groupId);
  return { type: "classic", state: g?.state, generation: g?.generationId, members: g ? [...g.members.keys()] : [] };
};

describe("librdkafka: rolling migration of a group", () => {
  test("upgrade: three eager classic members replaced one by one by new-protocol members, records flowing, each consumed once", async () => {
    const topic = topicName("mig-up");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, PARTITIONS);
    const base: Omit<MemberOptions, "clientId"> = { bootstrap: broker.address, groupId, topics: [topic], commit: true };
    const classicOpts = { ...base, protocol: "classic" as const, strategy: "range", config: { "max.poll.interval.ms": 30_000 } };
    const everyone: GroupMember[] = [];
    const start = (o: MemberOptions) => {
      const m = new GroupMember(o);
      everyone.push(m);
      return m;
    };
    try {
      const classic = ["c1", "c2", "c3"].map((clientId) => start({ ...classicOpts, clientId }));
      await until("a Stable classic group of three, two partitions each", () => classicStable(groupId, 3) && coverOk(classic, topic) && classic.every((m) => m.assigned.size === 2), 90_000, () => ({
        group: state(groupId),
        assigned: classic.map((m) => [...m.assigned]),
      }));
      const records = flow(broker.address, topic, "up");
      await until("records consumed by the classic group", () => classic.reduce((n, m) => n + m.messages.length, 0) >= 60, 60_000);

      const live = [...classic];
      for (let i = 0; i < 3; i++) {
        const modern = start({ ...base, clientId: `n${i + 1}` });
        live.push(modern);
        await until(`n${i + 1} joined: a Stable mixed group of four`, () => consumerStable(groupId, 4, 3 - i) && coverOk(live, topic), 90_000, () => ({
          group: state(groupId),
          assigned: live.map((m) => [m.name, ...m.assigned]),
        }));
        expect(broker.broker.groups.listGroups([], []).groups.find((g) => g.groupId === groupId)).toMatchObject({ groupType: "consumer", protocolType: "consumer" });
        const leaving = live.splice(live.indexOf(classic[i]!), 1)[0]!;
        const consumedBefore = live.reduce((n, m) => n + m.messages.length, 0);
        await leaving.close(() => memberGone(groupId, leaving.name));
        await until(`c${i + 1} left: a Stable group of three`, () => consumerStable(groupId, 3, 2 - i) && coverOk(live, topic), 90_000, () => ({
          group: state(groupId),
          assigned: live.map((m) => [m.name, ...m.assigned]),
        }));
        // Consumption goes on after every step.
        await until("records consumed after the step", () => live.reduce((n, m) => n + m.messages.length, 0) > consumedBefore + 30, 60_000);
      }

      const produced = await records.stop();
      await until("every record consumed", () => everyone.reduce((n, m) => n + m.messages.length, 0) >= produced.length, 90_000, () => ({
        produced: produced.length,
        consumed: everyone.map((m) => [m.name, m.messages.length]),
      }));
      expectExactlyOnce(everyone, produced);
      // The group ended as a plain consumer group, and every classic member really handed over partitions.
      expect(state(groupId)).toMatchObject({ type: "consumer", groupState: "Stable", classic: 0 });
      for (const m of classic) expect(m.messages.length).toBeGreaterThan(0);
      for (const m of live) expect(m.messages.length).toBeGreaterThan(0);
      // A member reports a record before its commit of it returns: wait for the last commits to land.
      const perPartition = produced.length / PARTITIONS;
      const committedOffsets = () => broker.broker.groups.fetchOffsets(groupId, null).topics[0]!.partitions.map((p) => p.committedOffset);
      await until("the last records' commits", () => committedOffsets().every((o) => o === perPartition), 30_000, committedOffsets);
      expect(committedOffsets()).toEqual(Array(PARTITIONS).fill(perPartition));
      await Promise.all(live.map((m) => m.close(() => memberGone(groupId, m.name))));
    } finally {
      await Promise.all(everyone.map((m) => m[Symbol.asyncDispose]()));
    }
  });

  test("downgrade: three new-protocol members replaced one by one by eager classic members; the group ends classic", async () => {
    const topic = topicName("mig-down");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, PARTITIONS);
    const base: Omit<MemberOptions, "clientId"> = { bootstrap: broker.address, groupId, topics: [topic], commit: true };
    const classicOpts = { ...base, protocol: "classic" as const, strategy: "range", config: { "max.poll.interval.ms": 30_000 } };
    const everyone: GroupMember[] = [];
    const start = (o: MemberOptions) => {
      const m = new GroupMember(o);
      everyone.push(m);
      return m;
    };
    try {
      const modern = ["n1", "n2", "n3"].map((clientId) => start({ ...base, clientId }));
      await until("a Stable consumer group of three", () => consumerStable(groupId, 3, 0) && coverOk(modern, topic), 90_000, () => state(groupId));
      const records = flow(broker.address, topic, "down");
      await until("records consumed by the consumer group", () => modern.reduce((n, m) => n + m.messages.length, 0) >= 60, 60_000);

      const live = [...modern];
      for (let i = 0; i < 3; i++) {
        const classic = start({ ...classicOpts, clientId: `c${i + 1}` });
        live.push(classic);
        await until(`c${i + 1} joined: a Stable mixed group of four`, () => consumerStable(groupId, 4, i + 1) && coverOk(live, topic), 90_000, () => ({
          group: state(groupId),
          assigned: live.map((m) => [m.name, ...m.assigned]),
        }));
        const leaving = live.splice(live.indexOf(modern[i]!), 1)[0]!;
        const consumedBefore = live.reduce((n, m) => n + m.messages.length, 0);
        await leaving.close(() => memberGone(groupId, leaving.name));
        if (i < 2)
          await until(`n${i + 1} left: a Stable mixed group of three`, () => consumerStable(groupId, 3, i + 1) && coverOk(live, topic), 90_000, () => ({
            group: state(groupId),
            assigned: live.map((m) => [m.name, ...m.assigned]),
          }));
        // The last new-protocol member left: the classic members rebalance as a classic group.
        else
          await until("a Stable classic group of three", () => classicStable(groupId, 3) && coverOk(live, topic), 90_000, () => ({
            group: state(groupId),
            assigned: live.map((m) => [m.name, ...m.assigned]),
          }));
        await until("records consumed after the step", () => live.reduce((n, m) => n + m.messages.length, 0) > consumedBefore + 30, 60_000);
      }

      const produced = await records.stop();
      await until("every record consumed", () => everyone.reduce((n, m) => n + m.messages.length, 0) >= produced.length, 90_000, () => ({
        produced: produced.length,
        consumed: everyone.map((m) => [m.name, m.messages.length]),
      }));
      expectExactlyOnce(everyone, produced);
      expect(broker.broker.groups.consumerGroup(groupId)).toBeUndefined();
      expect(broker.broker.groups.listGroups([], []).groups.find((g) => g.groupId === groupId)).toMatchObject({ groupType: "classic", groupState: "Stable" });
      // The classic leader assigned with range: two contiguous partitions each.
      for (const m of live) expect(m.assigned.size).toBe(2);
      await Promise.all(live.map((m) => m.close(() => memberGone(groupId, m.name))));
    } finally {
      await Promise.all(everyone.map((m) => m[Symbol.asyncDispose]()));
    }
  });
});

describe("group.consumer.migration.policy=disabled", () => {
  test("a new-protocol member joining a classic group with members gets GROUP_ID_NOT_FOUND; the classic group goes on", async () => {
    await using d = await tempDir("brook-kip848-migc-off-");
    await using b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: { ...OVERRIDES, "group.consumer.migration.policy": "disabled" } });
    const topic = topicName("mig-off");
    const groupId = `${topic}-g`;
    b.broker.topics.create(topic, PARTITIONS);
    const base = { bootstrap: b.address, groupId, topics: [topic], commit: true };
    await using c1 = new GroupMember({ ...base, clientId: "c1", protocol: "classic", strategy: "range" });
    await using c2 = new GroupMember({ ...base, clientId: "c2", protocol: "classic", strategy: "range" });
    const classic = [c1, c2];
    await until(
      "a Stable classic group of two, three partitions each",
      () => b.broker.groups.group(groupId)?.state === "Stable" && b.broker.groups.group(groupId)!.members.size === 2 && coverOk(classic, topic) && c1.assigned.size === 3,
      90_000,
    );
    const generation = b.broker.groups.group(groupId)!.generationId;

    await using n = new GroupMember({ ...base, clientId: "n1" });
    // librdkafka treats the refusal (GROUP_ID_NOT_FOUND) as fatal for the consumer.
    const fatal = () => n.events.find((e) => e.event === "error" && e.fac === "FATAL");
    await n.waitFor("the refusal", () => fatal() !== undefined, 60_000);
    expect(fatal().message).toContain("ConsumerGroupHeartbeat fatal error: Broker: The group id does not exist");
    expect(n.assigned.size).toBe(0);
    // The classic group was not touched: same generation, same members, still consuming.
    expect(b.broker.groups.consumerGroup(groupId)).toBeUndefined();
    expect(b.broker.groups.group(groupId)).toMatchObject({ state: "Stable", generationId: generation });
    const records = flow(b.address, topic, "off");
    await until("the classic members consume", () => c1.messages.length + c2.messages.length >= 60, 60_000);
    const produced = await records.stop();
    await until("every record consumed", () => c1.messages.length + c2.messages.length >= produced.length, 60_000);
    expectExactlyOnce(classic, produced);
    expect(n.messages.length).toBe(0);
    await Promise.all([c1, c2].map((m) => m.close(() => memberGone(groupId, m.name, b))));
  });
});

describe("an older client inside a mixed group", () => {
  test("confluent_kafka 2.0.2 (cooperative-sticky) gives up only what moves to a new-protocol member, then leaves", async () => {
    await requireTools();
    const topic = topicName("mig-coop");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, PARTITIONS);
    const produced = await produce(broker.address, topic, 10, "first");
    const stop = dir.join(`${topic}-stop`);
    type Line = { partition?: number; offset?: number; value?: string; assigned?: number[]; added?: number[]; revoked?: number[]; summary?: any };
    const proc = spawnPyScript("group_confluent_consume.py", {
      bootstrap: broker.address,
      topic,
      group: groupId,
      commit: "each",
      timeout_s: 120,
      until_file: stop,
      config: { "partition.assignment.strategy": "cooperative-sticky" },
    });
    const lines: Line[] = [];
    const done = (async () => {
      for await (const line of readLines(proc.stdout)) if (line.startsWith("{")) lines.push(JSON.parse(line));
    })();
    const old = () => lines.filter((l) => l.offset !== undefined);
    let member: GroupMember | undefined;
    try {
      await until("the old client owns the six partitions and read the first records", () => old().length === produced.length, 60_000);
      expect(broker.broker.groups.group(groupId)?.state).toBe("Stable");
      const n = (member = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "n1", commit: true }));
      await until("a Stable mixed group, three partitions each", () => consumerStable(groupId, 2, 1) && n.assigned.size === 3, 60_000, () => state(groupId));
      // Incremental: the old client revoked exactly the three the new member got, and kept the others.
      const revoked = lines.filter((l) => l.revoked && l.revoked.length > 0);
      expect(revoked.length).toBe(1);
      expect(revoked[0]!.revoked!.map((p) => `${topic}:${p}`)).toEqual([...n.assigned].sort());
      expect(lines.filter((l) => l.assigned).at(-1)!.assigned!.length).toBe(3);

      produced.push(...(await produce(broker.address, topic, 10, "second")));
      await until("the second records consumed", () => old().length + n.messages.length === produced.length, 60_000);
      // The old client leaves (LeaveGroup): the new-protocol member takes over its partitions and the
      // group stays a consumer group.
      await Bun.write(stop, "");
      await proc.exited;
      await done;
      expect(proc.exitCode).toBe(0);
      await until("the new-protocol member owns all six", () => consumerStable(groupId, 1, 0) && n.assigned.size === PARTITIONS, 60_000, () => state(groupId));
      produced.push(...(await produce(broker.address, topic, 5, "third")));
      await until("the third records consumed", () => old().length + n.messages.length === produced.length, 60_000);
      const consumed = [...old().map((l) => ({ key: `${l.partition}@${l.offset}`, value: l.value! })), ...n.messages.map((m) => ({ key: `${m.partition}@${m.offset}`, value: m.value! }))];
      expect(new Set(consumed.map((c) => c.key)).size).toBe(consumed.length);
      expect(consumed.map((c) => c.value).sort()).toEqual([...produced].sort());
      await n.close(() => memberGone(groupId, "n1"));
    } finally {
      if (proc.exitCode === null) proc.kill();
      await member?.[Symbol.asyncDispose]();
    }
  });
});

describe("durability", () => {
  test("a mixed group survives a broker restart: both kinds of member go on without rejoining", async () => {
    await using d = await tempDir("brook-kip848-migc-restart-");
    const port = await freePort();
    const overrides = { ...OVERRIDES, listeners: `PLAINTEXT://127.0.0.1:${port}` };
    let b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides, ephemeralPort: false });
    const topic = topicName("mig-restart");
    const groupId = `${topic}-g`;
    b.broker.topics.create(topic, PARTITIONS);
    const base = { bootstrap: b.address, groupId, topics: [topic], commit: true };
    const members: GroupMember[] = [];
    try {
      const c = new GroupMember({ ...base, clientId: "c1", protocol: "classic", strategy: "range" });
      members.push(c);
      await until("a Stable classic group", () => b.broker.groups.group(groupId)?.state === "Stable" && c.assigned.size === PARTITIONS, 60_000);
      const n = new GroupMember({ ...base, clientId: "n1" });
      members.push(n);
      const stable = () => {
        const x = b.broker.groups.describeConsumerGroup(groupId);
        return x.groupState === "Stable" && x.members.length === 2 && x.members.every((m) => m.memberEpoch === x.groupEpoch);
      };
      await until("a Stable mixed group", () => stable() && coverOk(members, topic), 60_000);
      const produced = await produce(b.address, topic, 5, "before");
      await until("the first records consumed", () => c.messages.length + n.messages.length === produced.length, 60_000);
      const before = b.broker.groups.describeConsumerGroup(groupId);
      const revokedBefore = c.revoked.length + n.revoked.length;

      await b.close();
      b = await startBroker({ dataDir: d.path, logLevel: "warn", overrides, ephemeralPort: false });
      const after = b.broker.groups.describeConsumerGroup(groupId);
      expect(after.groupEpoch).toBe(before.groupEpoch);
      expect(after.members).toEqual(before.members);
      expect(b.broker.groups.consumerGroup(groupId)!.numClassicMembers).toBe(1);

      produced.push(...(await produce(b.address, topic, 5, "after")));
      await until("the records produced after the restart consumed", () => c.messages.length + n.messages.length === produced.length, 60_000, () => state(groupId));
      expectExactlyOnce(members, produced);
      // Nobody rejoined or gave anything up: same members, same epoch.
      expect(c.revoked.length + n.revoked.length).toBe(revokedBefore);
      expect(b.broker.groups.describeConsumerGroup(groupId)).toMatchObject({ groupEpoch: before.groupEpoch, groupState: "Stable" });
      await Promise.all(members.map((m) => m.close(() => memberGone(groupId, m.name, b))));
    } finally {
      await Promise.all(members.map((m) => m[Symbol.asyncDispose]()));
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

describe("kafkajs (classic protocol only)", () => {
  test("joins a consumer group as a classic member: the server-side assignor gives it its share; leaving hands it back", async () => {
    const topic = topicName("mig-kafkajs");
    const groupId = `${topic}-g`;
    broker.broker.topics.create(topic, PARTITIONS);
    await using n = new GroupMember({ bootstrap: broker.address, groupId, topics: [topic], clientId: "n1", commit: true });
    await until("the new-protocol member owns the six partitions", () => n.assigned.size === PARTITIONS && consumerStable(groupId, 1, 0), 60_000);

    const kafka = new Kafka({ clientId: "kafkajs-classic", brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 200 });
    const seen: { partition: number; offset: number; value: string }[] = [];
    let assignment: number[] = [];
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assignment = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({ partition, offset: Number(message.offset), value: message.value!.toString() });
        },
      });
      await until("a Stable mixed group, three partitions each", () => consumerStable(groupId, 2, 1) && assignment.length === 3 && n.assigned.size === 3, 60_000, () => ({
        group: state(groupId),
        kafkajs: assignment,
        n: [...n.assigned],
      }));
      const classic = broker.broker.groups.describeConsumerGroup(groupId).members.find((m) => m.clientId === "kafkajs-classic")!;
      expect(classic.subscribedTopicNames).toEqual([topic]);
      expect(classic.assignment.topicPartitions[0]!.partitions).toEqual(assignment);
      expect([...assignment.map((p) => `${topic}:${p}`), ...n.assigned].sort()).toEqual(all(topic));

      const produced = await produce(broker.address, topic, 10, "kjs");
      await until("every record consumed", () => seen.length + n.messages.length === produced.length, 60_000);
      for (const m of seen) expect(assignment).toContain(m.partition);
      const values = [...seen.map((m) => m.value), ...n.messages.map((m) => m.value!)];
      expect(values.sort()).toEqual([...produced].sort());

      await consumer.disconnect();
      await until("the new-protocol member owns the six partitions again", () => n.assigned.size === PARTITIONS && consumerStable(groupId, 1, 0), 60_000, () => state(groupId));
      await n.close(() => memberGone(groupId, "n1"));
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  });
});
