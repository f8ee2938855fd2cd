// kafkajs group consumers (consumer.run) against the embedded broker: partitions split among members,
// every message consumed exactly once in the clean case, partitions moving when a member leaves gracefully
// (LeaveGroup) or crashes (a child process killed with SIGKILL, expired by its session timeout), a fourth
// member joining, and two groups reading one topic independently.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { AssignerProtocol, Kafka, logLevel, type Consumer } from "kafkajs";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { REPO_ROOT } from "./helpers/broker.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { until } from "./helpers/poll.ts";

setDefaultTimeout(90_000);

const SESSION_TIMEOUT = 6000;
const PARTITIONS = 6;

let dir: TempDir;
let broker: BrokerHandle;
let kafka: Kafka;

beforeAll(async () => {
  dir = await tempDir("brook-group-kafkajs-");
  broker = await startBroker({
    dataDir: dir.path,
    overrides: { "group.initial.rebalance.delay.ms": 0, "num.partitions": PARTITIONS },
    logLevel: "warn",
  });
  kafka = new Kafka({ clientId: "group-kafkajs", brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
});

afterAll(async () => {
  await broker?.close();
  await dir?.remove();
});


interface Member {
  name: string;
  consumer: Consumer;
  /** partitions of the latest GROUP_JOIN */
  assignment: number[];
  memberId: string;
  generation: number;
  joins: number;
  seen: Map<string, number>;
}

async function startMember(name: string, groupId: string, topic: string, seenAll: Map<string, number>): Promise<Member> {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: SESSION_TIMEOUT,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 200,
    retry: { retries: 10, initialRetryTime: 100 },
  });
  const m: Member = { name, consumer, assignment: [], memberId: "", generation: -1, joins: 0, seen: new Map() };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assignment = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    m.memberId = e.payload.memberId;
    m.joins++;
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const key = `${partition}:${message.offset}`;
      m.seen.set(key, (m.seen.get(key) ?? 0) + 1);
      seenAll.set(key, (seenAll.get(key) ?? 0) + 1);
    },
  });
  return m;
}

/** The group as the broker describes it: state and each member's decoded partitions. */
async function describeGroup(groupId: string, topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const g = groups[0]!;
    return {
      state: g.state,
      members: g.members.map((mm) => {
        const a = AssignerProtocol.MemberAssignment.decode(mm.memberAssignment);
        return { memberId: mm.memberId, partitions: [...(a?.assignment[topic] ?? [])].sort((x, y) => x - y) };
      }),
    };
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the broker reports a Stable group whose members are exactly `members`, splitting all partitions. */
async function untilBalanced(groupId: string, topic: string, members: Member[], timeoutMs = 30_000) {
  let last: unknown;
  await until(
    `${members.length} members of ${groupId} to own all ${PARTITIONS} partitions`,
    async () => {
      const d = await describeGroup(groupId, topic);
      last = { d, events: members.map((m) => [m.name, m.memberId, m.assignment]) };
      if (d.state !== "Stable" || d.members.length !== members.length) return false;
      const owned = d.members.flatMap((x) => x.partitions).sort((a, b) => a - b);
      if (JSON.stringify(owned) !== JSON.stringify([...Array(PARTITIONS).keys()])) return false;
      // The GROUP_JOIN events agree with the broker's view.
      for (const m of members) {
        const dm = d.members.find((x) => x.memberId === m.memberId);
        if (!dm || JSON.stringify(dm.partitions) !== JSON.stringify(m.assignment)) return false;
      }
      return true;
    },
    timeoutMs,
    () => last,
  );
}

async function produce(topic: string, from: number, count: number) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })) });
  } finally {
    await producer.disconnect();
  }
}

async function createTopic(topic: string) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
}

describe("kafkajs consumer groups", () => {
  test("three members split six partitions; exactly-once delivery; graceful leave; crash; a fourth joins", async () => {
    const topic = topicName("kjs-group");
    const groupId = `g-${topic}`;
    await createTopic(topic);
    const seen = new Map<string, number>();
    const members: Member[] = [];
    let child: Bun.Subprocess | undefined;
    try {
      for (const name of ["a", "b", "c"]) members.push(await startMember(name, groupId, topic, seen));
      await untilBalanced(groupId, topic, members);
      for (const m of members) expect(m.assignment.length).toBe(2);

      // Clean case: every message exactly once.
      await produce(topic, 0, 300);
      await until("300 messages consumed", () => seen.size === 300, 30_000, () => seen.size);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      // Each member consumed only from its own partitions.
      for (const m of members) for (const key of m.seen.keys()) expect(m.assignment).toContain(Number(key.split(":")[0]));

      // Graceful stop: LeaveGroup; the others take over well within the session timeout.
      const stoppedAt = Date.now();
      const leaving = members.shift()!;
      await leaving.consumer.disconnect();
      await untilBalanced(groupId, topic, members, SESSION_TIMEOUT);
      const tookOver = Date.now() - stoppedAt;
      expect(tookOver).toBeLessThan(SESSION_TIMEOUT);
      for (const m of members) expect(m.assignment.length).toBe(3);
      await produce(topic, 300, 120);
      await until("420 messages consumed", () => seen.size === 420, 30_000, () => seen.size);

      // Crash: a member in a child process, killed with SIGKILL; its session expires and the others take over.
      child = Bun.spawn(
        [
          process.execPath,
          "-e",
          `
          import { Kafka, logLevel } from "kafkajs";
          const kafka = new Kafka({ clientId: "crashy", brokers: [process.env.BROKER], logLevel: logLevel.NOTHING });
          const c = kafka.consumer({ groupId: process.env.GROUP, sessionTimeout: ${SESSION_TIMEOUT}, heartbeatInterval: 300, maxWaitTimeInMs: 200 });
          c.on(c.events.GROUP_JOIN, (e) => console.log(JSON.stringify({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment[process.env.TOPIC] ?? [] })));
          await c.connect();
          await c.subscribe({ topic: process.env.TOPIC, fromBeginning: true });
          await c.run({ eachMessage: async () => {} });
          `,
        ],
        { cwd: REPO_ROOT, env: { ...process.env, BROKER: broker.address, GROUP: groupId, TOPIC: topic }, stdout: "pipe", stderr: "ignore" },
      );
      const childJoins: { memberId: string; assignment: number[] }[] = [];
      const childOut = child.stdout as ReadableStream<Uint8Array>;
      void (async () => {
        for await (const line of readLines(childOut)) if (line.startsWith("{")) childJoins.push(JSON.parse(line));
      })();
      let childId = "";
      await until(
        "the child to own partitions in a stable group of three",
        async () => {
          const latest = childJoins.at(-1);
          if (!latest || latest.assignment.length === 0) return false;
          const d = await describeGroup(groupId, topic);
          childId = latest.memberId;
          return d.state === "Stable" && d.members.length === 3 && d.members.some((x) => x.memberId === childId && x.partitions.length === 2);
        },
        30_000,
      );
      await untilBalanced(groupId, topic, members.concat([{ memberId: childId, assignment: childJoins.at(-1)!.assignment.sort() } as Member]));
      child.kill("SIGKILL");
      await child.exited;
      const killedAt = Date.now();
      await untilBalanced(groupId, topic, members, SESSION_TIMEOUT + 10_000);
      const expiredAfter = Date.now() - killedAt;
      // Not before the session timeout ran out (no heartbeat means nothing else can tell), and not much after.
      expect(expiredAfter).toBeGreaterThanOrEqual(SESSION_TIMEOUT - 1000);
      expect(expiredAfter).toBeLessThan(SESSION_TIMEOUT + 5000);
      await produce(topic, 420, 60);
      await until("480 messages consumed", () => seen.size === 480, 30_000, () => seen.size);

      // A fourth member joins (two are running): the group rebalances to three owners of two partitions each.
      members.push(await startMember("d", groupId, topic, seen));
      await untilBalanced(groupId, topic, members);
      expect(members.map((m) => m.assignment.length)).toEqual([2, 2, 2]);
      members.push(await startMember("e", groupId, topic, seen));
      await untilBalanced(groupId, topic, members);
      expect(members.map((m) => m.assignment.length).sort()).toEqual([1, 1, 2, 2]);
      await produce(topic, 480, 60);
      await until("540 messages consumed", () => seen.size === 540, 30_000, () => seen.size);
    } finally {
      child?.kill("SIGKILL");
      await Promise.all(members.map((m) => m.consumer.disconnect().catch(() => {})));
    }
  });

  test("two groups read the same topic independently", async () => {
    const topic = topicName("kjs-two-groups");
    await createTopic(topic);
    await produce(topic, 0, 90);
    const seenA = new Map<string, number>();
    const seenB = new Map<string, number>();
    const members: Member[] = [];
    try {
      members.push(await startMember("a1", `A-${topic}`, topic, seenA));
      members.push(await startMember("b1", `B-${topic}`, topic, seenB));
      members.push(await startMember("b2", `B-${topic}`, topic, seenB));
      await until("both groups to read everything", () => seenA.size === 90 && seenB.size === 90, 30_000, () => [seenA.size, seenB.size]);
      await untilBalanced(`A-${topic}`, topic, [members[0]!]);
      await untilBalanced(`B-${topic}`, topic, [members[1]!, members[2]!]);
      // Committed offsets are per group: both at the end of every partition.
      const admin = kafka.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topic);
        const endOf = new Map(ends.map((p) => [p.partition, p.high]));
        for (const g of [`A-${topic}`, `B-${topic}`]) {
          await until(`${g} to commit to the end`, async () => {
            const offs = await admin.fetchOffsets({ groupId: g, topics: [topic] });
            return offs[0]!.partitions.every((p) => p.offset === endOf.get(p.partition));
          });
        }
      } finally {
        await admin.disconnect();
      }
    } finally {
      await Promise.all(members.map((m) => m.consumer.disconnect().catch(() => {})));
    }
  });
});
