// Stock group consumers other than kafkajs: librdkafka through confluent_kafka (subscribe + manual commit)
// and kcat -G, and kafka-python's KafkaConsumer(group_id=...). Each consumes part of a topic, commits,
// the broker is restarted on the same log dir, and the next run of the same group resumes exactly after
// the committed offsets: together the two runs see every message exactly once.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { OffsetFetch } from "../protocol/apis/09-offset-fetch.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { WireClient } from "../src/client.ts";
import { jsonLines } from "./helpers/run.ts";
import { kcat, pyScript, requireTools, spawnPyScript } from "./helpers/clients.ts";
import { DescribeGroups } from "../protocol/apis/15-describe-groups.ts";
import { decodeAssignment } from "../src/group/consumer-protocol.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";
import { until } from "./helpers/poll.ts";

setDefaultTimeout(120_000);

const OVERRIDES = { "group.initial.rebalance.delay.ms": 0, "num.partitions": 3 };
const PARTITIONS = 3;

async function produce(address: string, topic: string, from: number, count: number) {
  const kafka = new Kafka({ clientId: "group-clients-producer", brokers: [address], logLevel: logLevel.NOTHING });
  const p = kafka.producer();
  await p.connect();
  try {
    await p.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition: (from + i) % PARTITIONS, key: `k${from + i}`, value: `v${from + i}` })) });
  } finally {
    await p.disconnect();
  }
}

async function committed(address: string, group: string, topic: string): Promise<Record<string, [number, string]>> {
  const c = await WireClient.connect(address);
  try {
    const r = await c.request(OffsetFetch, { groupId: group, topics: [{ name: topic, partitionIndexes: [0, 1, 2] }] }, 7);
    return Object.fromEntries(r.topics[0]!.partitions.map((p) => [p.partitionIndex, [p.committedOffset, p.metadata ?? ""] as [number, string]]));
  } finally {
    c.close();
  }
}

type Seen = { partition: number; offset: number; value: string | null };

/** Both runs together: every message of the topic exactly once, and run 2 starts at the committed offsets. */
function expectResumedExactly(first: Seen[], second: Seen[], total: number, commits: Record<string, [number, string]>) {
  const keys = [...first, ...second].map((m) => `${m.partition}:${m.offset}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.length).toBe(total);
  for (let p = 0; p < PARTITIONS; p++) {
    const firstOffsetAfter = second.filter((m) => m.partition === p).map((m) => m.offset);
    if (firstOffsetAfter.length > 0) expect(Math.min(...firstOffsetAfter)).toBe(commits[p]![0] < 0 ? 0 : commits[p]![0]);
  }
}

/** Runs `first` against a broker, restarts it on the same log dir, runs `second`. */
async function withRestart(label: string, first: (b: BrokerHandle, topic: string) => Promise<void>, second: (b: BrokerHandle, topic: string) => Promise<void>) {
  await using dir = await tempDir(`brook-group-${label}-`);
  const topic = topicName(label);
  {
    await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
    await first(b, topic);
  }
  {
    await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
    await second(b, topic);
  }
}

describe("librdkafka and kafka-python group consumers", () => {
  test("confluent_kafka: subscribe, commit, restart the broker, resume after the committed offsets", async () => {
    await requireTools();
    const group = `cg-${process.pid}`;
    let firstRun: Seen[] = [];
    let commits: Record<string, [number, string]> = {};
    await withRestart(
      "confluent",
      async (b, topic) => {
        await produce(b.address, topic, 0, 30);
        const r = await pyScript("group_confluent_consume.py", { bootstrap: b.address, topic, group, max_messages: 12, commit: "each" });
        firstRun = r.lines.filter((l) => "offset" in l);
        expect(firstRun.length).toBe(12);
        expect(r.lines.some((l) => "assigned" in l && l.assigned.length === PARTITIONS)).toBe(true);
        commits = await committed(b.address, group, topic);
        // What the client committed is what it consumed: next offset per partition.
        for (let p = 0; p < PARTITIONS; p++) {
          const mine = firstRun.filter((m) => m.partition === p).map((m) => m.offset);
          expect(commits[p]![0]).toBe(mine.length ? Math.max(...mine) + 1 : -1);
          expect(r.summary.committed[String(p)]).toBe(mine.length ? Math.max(...mine) + 1 : -1001);
        }
      },
      async (b, topic) => {
        expect(await committed(b.address, group, topic)).toEqual(commits);
        await produce(b.address, topic, 30, 9);
        const r = await pyScript("group_confluent_consume.py", { bootstrap: b.address, topic, group });
        expectResumedExactly(firstRun, r.lines.filter((l) => "offset" in l), 39, commits);
        expect(Object.values(r.summary.committed)).toEqual([13, 13, 13]);
      },
    );
  });

  test("kcat -G: balanced consumer with auto commit, restart, resume", async () => {
    await requireTools();
    const group = `kcat-${process.pid}`;
    let firstRun: Seen[] = [];
    let commits: Record<string, [number, string]> = {};
    const kcatGroup = async (address: string, topic: string, extra: string[]) => {
      const r = await kcat(
        ["-b", address, "-G", group, "-J", "-q", "-X", "auto.offset.reset=earliest", "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", "-X", "session.timeout.ms=6000", ...extra, topic],
        { timeoutMs: 60_000 },
      );
      return jsonLines<{ partition: number; offset: number; payload: string | null }>(r.stdout).map((m) => ({ partition: m.partition, offset: m.offset, value: m.payload }));
    };
    await withRestart(
      "kcat",
      async (b, topic) => {
        await produce(b.address, topic, 0, 30);
        firstRun = await kcatGroup(b.address, topic, ["-c", "10"]);
        expect(firstRun.length).toBe(10);
        commits = await committed(b.address, group, topic);
        const total = Object.values(commits).reduce((n, [o]) => n + Math.max(o, 0), 0);
        expect(total).toBe(10); // kcat commits what it consumed when it closes
      },
      async (b, topic) => {
        await produce(b.address, topic, 30, 6);
        const second = await kcatGroup(b.address, topic, ["-e"]);
        expectResumedExactly(firstRun, second, 36, commits);
      },
    );
  });

  test("kafka-python: KafkaConsumer(group_id) commits with metadata, restart, resume", async () => {
    await requireTools();
    const group = `kp-${process.pid}`;
    let firstRun: Seen[] = [];
    let commits: Record<string, [number, string]> = {};
    await withRestart(
      "kafka-python",
      async (b, topic) => {
        await produce(b.address, topic, 0, 30);
        const r = await pyScript("group_kafka_python_consume.py", { bootstrap: b.address, topic, group, max_messages: 14, metadata: "kp-meta" });
        firstRun = r.lines;
        expect(firstRun.length).toBe(14);
        expect(r.summary.assigned).toEqual([0, 1, 2]);
        commits = await committed(b.address, group, topic);
        for (let p = 0; p < PARTITIONS; p++) {
          const mine = firstRun.filter((m) => m.partition === p).map((m) => m.offset);
          if (mine.length > 0) expect(commits[p]).toEqual([Math.max(...mine) + 1, "kp-meta"]);
          else expect(commits[p]).toEqual([-1, ""]);
        }
      },
      async (b, topic) => {
        expect(await committed(b.address, group, topic)).toEqual(commits);
        await produce(b.address, topic, 30, 3);
        const r = await pyScript("group_kafka_python_consume.py", { bootstrap: b.address, topic, group });
        expectResumedExactly(firstRun, r.lines, 33, commits);
        expect(r.summary.committed).toEqual({ "0": 11, "1": 11, "2": 11 });
      },
    );
  });

  test("librdkafka cooperative-sticky: a second member takes over half the partitions incrementally", async () => {
    await requireTools();
    await using dir = await tempDir("brook-group-coop-");
    await using b = await startBroker({ dataDir: dir.path, overrides: { ...OVERRIDES, "num.partitions": 6 }, logLevel: "warn" });
    const topic = topicName("coop");
    const group = `coop-${process.pid}`;
    b.broker.topics.create(topic, 6);
    await produce(b.address, topic, 0, 60);
    const stop = dir.join("stop");
    const input = {
      bootstrap: b.address,
      topic,
      group,
      commit: "each",
      timeout_s: 60,
      config: { "partition.assignment.strategy": "cooperative-sticky" },
    };
    type Line = { partition?: number; offset?: number; assigned?: number[]; added?: number[]; revoked?: number[]; summary?: any };
    const start = (name: string) => {
      const proc = spawnPyScript("group_confluent_consume.py", { ...input, until_file: `${stop}-${name}` });
      const lines: Line[] = [];
      const done = (async () => {
        for await (const line of readLines(proc.stdout)) if (line.startsWith("{")) lines.push(JSON.parse(line));
      })();
      return { name, proc, lines, done };
    };
    const describeNow = async () => {
      const c = await WireClient.connect(b.address);
      try {
        const g = (await c.request(DescribeGroups, { groups: [group] }, 5)).groups[0]!;
        return {
          state: g.groupState,
          protocol: g.protocolData,
          members: g.members.map((m) => decodeAssignment(m.memberAssignment).partitions.flatMap((tp) => tp.partitions).sort()),
        };
      } finally {
        c.close();
      }
    };
    const a = start("a");
    const consumed = () => new Set([...a.lines, ...(bm?.lines ?? [])].filter((l) => l.offset !== undefined).map((l) => `${l.partition}:${l.offset}`));
    let bm: ReturnType<typeof start> | undefined;
    try {
      await until("the first member to own all six partitions", async () => {
        const d = await describeNow();
        return d.state === "Stable" && d.members.length === 1 && d.members[0]!.length === 6;
      }, 45_000, describeNow);
      bm = start("b");
      await until("two members with three partitions each", async () => {
        const d = await describeNow();
        return d.state === "Stable" && d.members.length === 2 && d.members.every((m) => m.length === 3);
      }, 45_000, describeNow);
      expect((await describeNow()).protocol).toBe("cooperative-sticky");
      await until("all 60 messages consumed", () => consumed().size === 60, 45_000, describeNow);
    } finally {
      // The second member stops first, so its record of added partitions is only the hand-over.
      await Bun.write(`${stop}-b`, "");
      await bm?.proc.exited;
      await Bun.write(`${stop}-a`, "");
      await a.proc.exited;
      await Promise.all([a.done, bm?.done]);
    }
    expect(a.proc.exitCode).toBe(0);
    expect(bm!.proc.exitCode).toBe(0);
    // Incremental: the first member gave up only the three partitions the second one got, never all six.
    const aRevoked = a.lines.filter((l) => l.revoked && l.revoked.length > 0);
    const bAdded = bm!.lines.filter((l) => l.added).flatMap((l) => l.added!).sort();
    expect(aRevoked.length).toBeGreaterThanOrEqual(1);
    expect(aRevoked[0]!.revoked!).toEqual(bAdded);
    expect(bAdded.length).toBe(3);
    expect(bm!.lines.find((l) => l.summary)!.summary.assignment).toEqual(bAdded);
  });

  test("librdkafka static membership: a restarted instance gets its partitions back without a rebalance", async () => {
    await requireTools();
    await using dir = await tempDir("brook-group-static-");
    await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
    const topic = topicName("static");
    const group = `static-${process.pid}`;
    b.broker.topics.create(topic, 3);
    const run = (name: string) => {
      const lines: { assigned?: number[] }[] = [];
      const proc = spawnPyScript("group_confluent_consume.py", {
        bootstrap: b.address,
        topic,
        group,
        until_file: dir.join(`stop-${name}`),
        timeout_s: 60,
        config: { "group.instance.id": "instance-1", "session.timeout.ms": 30000 },
      });
      const done = (async () => {
        for await (const line of readLines(proc.stdout)) if (line.startsWith("{")) lines.push(JSON.parse(line));
      })();
      return { proc, lines, done, stop: async () => (await Bun.write(dir.join(`stop-${name}`), ""), await proc.exited, await done) };
    };
    const first = run("first");
    try {
      await until("the first incarnation to be assigned", () => first.lines.some((l) => l.assigned?.length === 3));
      await until("a stable group", () => b.broker.groups.group(group)?.state === "Stable");
    } finally {
      await first.stop();
    }
    const g = b.broker.groups.group(group)!;
    const generation = g.generationId;
    const oldMember = [...g.members.keys()];
    expect(oldMember.length).toBe(1); // a static member does not leave when it closes
    expect(oldMember[0]!).toStartWith("instance-1-");
    const second = run("second");
    try {
      await until("the second incarnation to be assigned", () => second.lines.some((l) => l.assigned?.length === 3));
      expect(g.state).toBe("Stable");
      expect(g.generationId).toBe(generation); // no rebalance
      expect([...g.members.keys()].length).toBe(1);
      expect([...g.members.keys()][0]).not.toBe(oldMember[0]);
    } finally {
      await second.stop();
    }
  });
});
