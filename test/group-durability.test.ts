// Committed offsets are durable: they survive a clean restart, a kill -9 of a broker run as a child process
// (through the CLI, as a user runs it), a torn tail of the offsets log, and compaction; and they expire per
// offsets.retention.minutes the way Kafka 2.1+ expires them.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join as pathJoin } from "node:path";
import { JoinGroup } from "../protocol/apis/11-join-group.ts";
import { ListGroups } from "../protocol/apis/16-list-groups.ts";
import { OffsetCommit } from "../protocol/apis/08-offset-commit.ts";
import { OffsetFetch } from "../protocol/apis/09-offset-fetch.ts";
import { SyncGroup } from "../protocol/apis/14-sync-group.ts";
import { CreateTopics } from "../protocol/apis/19-create-topics.ts";
import { startBroker } from "../src/index.ts";
import { WireClient } from "../src/client.ts";
import { encodeSubscription } from "../src/group/consumer-protocol.ts";
import { OFFSETS_FILE } from "../src/group/offset-store.ts";
import { spawnBroker } from "./helpers/broker.ts";
import { tempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

const OVERRIDES = { "group.initial.rebalance.delay.ms": 0, "group.min.session.timeout.ms": 100 };

async function commit(c: WireClient, groupId: string, topic: string, offsets: [number, number, string?][], version = 8) {
  const r = await c.request(
    OffsetCommit,
    {
      groupId,
      topics: [
        {
          name: topic,
          partitions: offsets.map(([partitionIndex, committedOffset, committedMetadata]) => ({
            partitionIndex,
            committedOffset,
            committedLeaderEpoch: 0,
            committedMetadata: committedMetadata ?? "",
          })),
        },
      ],
    },
    version,
  );
  expect(r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))).toEqual(offsets.map(() => 0));
}

async function fetchAll(c: WireClient, groupId: string) {
  const r = await c.request(OffsetFetch, { groupId, topics: null }, 7);
  expect(r.errorCode).toBe(0);
  return r.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset, p.metadata]));
}

describe("durable offsets", () => {
  test("survive a clean restart; the group comes back Empty and its generations go on", async () => {
    await using dir = await tempDir("brook-group-restart-");
    let generation: number;
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
      b.broker.topics.create("t", 2);
      const c = await WireClient.connect(b.address);
      const j = await c.request(
        JoinGroup,
        { groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: encodeSubscription(["t"]) }] },
        3,
      );
      generation = j.generationId;
      await c.request(SyncGroup, { groupId: "g", generationId: generation, memberId: j.memberId, assignments: [] }, 3);
      const r = await c.request(
        OffsetCommit,
        {
          groupId: "g",
          generationIdOrMemberEpoch: generation,
          memberId: j.memberId,
          topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 17, committedMetadata: "hello" }, { partitionIndex: 1, committedOffset: 4, committedMetadata: "" }] }],
        },
        8,
      );
      expect(r.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([0, 0]);
      await commit(c, "simple", "t", [[1, 99, "s"]]);
      c.close();
    }
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
      const c = await WireClient.connect(b.address);
      expect(await fetchAll(c, "g")).toEqual([
        ["t", 0, 17, "hello"],
        ["t", 1, 4, ""],
      ]);
      expect(await fetchAll(c, "simple")).toEqual([["t", 1, 99, "s"]]);
      const listed = await c.request(ListGroups, { statesFilter: [] }, 4);
      expect(listed.groups.map((g) => [g.groupId, g.protocolType, g.groupState]).sort()).toEqual([
        ["g", "consumer", "Empty"],
        ["simple", "", "Empty"],
      ]);
      const j = await c.request(
        JoinGroup,
        { groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: encodeSubscription(["t"]) }] },
        3,
      );
      expect(j.generationId).toBeGreaterThan(generation);
      c.close();
    }
  });

  test("a torn tail of the offsets log is cut off; what came before it is kept", async () => {
    await using dir = await tempDir("brook-group-torn-");
    const file = pathJoin(dir.path, OFFSETS_FILE);
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
      b.broker.topics.create("t", 1);
      const c = await WireClient.connect(b.address);
      await commit(c, "g", "t", [[0, 1]]);
      await commit(c, "g", "t", [[0, 2]]);
      c.close();
    }
    const good = statSync(file).size;
    // Half a record: a length field promising more bytes than follow, as a kill -9 mid-write leaves.
    appendFileSync(file, Uint8Array.of(0, 0, 0, 40, 1, 2, 3, 4, 5, 6));
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "silent" });
      expect(statSync(file).size).toBe(good);
      const c = await WireClient.connect(b.address);
      expect(await fetchAll(c, "g")).toEqual([["t", 0, 2, ""]]);
      await commit(c, "g", "t", [[0, 3]]);
      c.close();
    }
    // A corrupt record (CRC mismatch) in the middle: everything from it on is dropped.
    const bytes = readFileSync(file);
    const corrupt = Uint8Array.from(bytes);
    corrupt[good + 9] = corrupt[good + 9]! ^ 0xff; // inside the payload of the record after `good`
    await Bun.write(file, corrupt);
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "silent" });
      const c = await WireClient.connect(b.address);
      expect(await fetchAll(c, "g")).toEqual([["t", 0, 2, ""]]);
      c.close();
    }
  });

  test("the log is compacted when it grows, and the state is unchanged after a restart", async () => {
    await using dir = await tempDir("brook-group-compact-");
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
      b.broker.topics.create("t", 4);
      const c = await WireClient.connect(b.address);
      for (let i = 0; i < 1500; i++) await commit(c, `g${i % 3}`, "t", [[i % 4, i]]);
      const stats = b.broker.groups.storeStats;
      // 1500 commits of 12 live offsets: compaction kept the file far below one record per commit.
      expect(stats.records).toBeLessThan(1100);
      b.broker.groups.compact();
      expect(b.broker.groups.storeStats.records).toBe(12);
      await commit(c, "g0", "t", [[0, 100_000, "after compaction"]]);
      c.close();
    }
    {
      await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
      const c = await WireClient.connect(b.address);
      // What the 1500 commits leave: per group and partition, the last i that went there.
      const last = (g: number, p: number) => {
        let best = -1;
        for (let i = 0; i < 1500; i++) if (i % 3 === g && i % 4 === p) best = i;
        return best;
      };
      expect(await fetchAll(c, "g0")).toEqual([
        ["t", 0, 100_000, "after compaction"],
        ["t", 1, last(0, 1), ""],
        ["t", 2, last(0, 2), ""],
        ["t", 3, last(0, 3), ""],
      ]);
      expect((await fetchAll(c, "g2")).map((x) => x[2])).toEqual([0, 1, 2, 3].map((p) => last(2, p)));
      c.close();
    }
  });

  test("survive kill -9 of a broker run through the CLI", async () => {
    await using dir = await tempDir("brook-group-kill9-");
    {
      const b = await spawnBroker({ dataDir: dir.path, overrides: OVERRIDES });
      try {
        const c = await WireClient.connect(b.address);
        const created = await c.request(CreateTopics, { topics: [{ name: "k9", numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000 }, 4);
        expect(created.topics[0]!.errorCode).toBe(0);
        for (let i = 1; i <= 50; i++) await commit(c, "crash-group", "k9", [[i % 3, i, `m${i}`]]);
        c.close();
      } finally {
        expect(await b.kill("SIGKILL")).toBeNull();
      }
    }
    {
      await using b = await spawnBroker({ dataDir: dir.path, overrides: OVERRIDES });
      const c = await WireClient.connect(b.address);
      expect(await fetchAll(c, "crash-group")).toEqual([
        ["k9", 0, 48, "m48"],
        ["k9", 1, 49, "m49"],
        ["k9", 2, 50, "m50"],
      ]);
      c.close();
    }
  });
});

describe("offset retention", () => {
  test("Empty groups expire from when they became empty; Stable groups keep subscribed topics; explicit retention", async () => {
    await using dir = await tempDir("brook-group-retention-");
    await using b = await startBroker({ dataDir: dir.path, overrides: { ...OVERRIDES, "offsets.retention.minutes": 1 }, logLevel: "warn" });
    b.broker.topics.create("sub", 1);
    b.broker.topics.create("other", 1);
    const groups = b.broker.groups;
    const c = await WireClient.connect(b.address);
    const minute = 60_000;

    // A Stable consumer group subscribed to "sub", with offsets on "sub" and "other".
    const j = await c.request(
      JoinGroup,
      { groupId: "stable", sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: encodeSubscription(["sub"]) }] },
      3,
    );
    await c.request(SyncGroup, { groupId: "stable", generationId: j.generationId, memberId: j.memberId, assignments: [] }, 3);
    await c.request(
      OffsetCommit,
      {
        groupId: "stable",
        generationIdOrMemberEpoch: j.generationId,
        memberId: j.memberId,
        topics: [
          { name: "sub", partitions: [{ partitionIndex: 0, committedOffset: 1 }] },
          { name: "other", partitions: [{ partitionIndex: 0, committedOffset: 2 }] },
        ],
      },
      8,
    );
    // A simple-commit group (no protocol): expires by commit time.
    await commit(c, "simple", "sub", [[0, 5]]);
    // OffsetCommit v2 with an explicit retention of 10 s.
    const v2 = await c.request(
      OffsetCommit,
      { groupId: "explicit", retentionTimeMs: 10_000, topics: [{ name: "sub", partitions: [{ partitionIndex: 0, committedOffset: 6, committedMetadata: "" }] }] },
      2,
    );
    expect(v2.topics[0]!.partitions[0]!.errorCode).toBe(0);

    const now = Date.now();
    expect(groups.expireOffsets(now + 30_000)).toBe(1); // only the explicit 10 s retention
    expect(groups.group("explicit")).toBeUndefined(); // an Empty group without offsets is gone
    expect(groups.expireOffsets(now + 2 * minute)).toBe(2); // "other" of the Stable group, and the simple group's
    expect(await fetchAll(c, "stable")).toEqual([["sub", 0, 1, ""]]);
    expect(await fetchAll(c, "simple")).toEqual([]);

    // The member leaves: the group is Empty from now, and its offsets live one retention period from here.
    const { LeaveGroup } = await import("../protocol/apis/13-leave-group.ts");
    await c.request(LeaveGroup, { groupId: "stable", memberId: j.memberId }, 1);
    expect(groups.group("stable")!.state).toBe("Empty");
    const emptySince = groups.group("stable")!.stateTimestamp;
    expect(groups.expireOffsets(emptySince + minute - 1000)).toBe(0);
    expect(groups.expireOffsets(emptySince + minute)).toBe(1);
    expect(groups.group("stable")).toBeUndefined();
    c.close();
  });

  test("offsets of a deleted topic go: at once via deleteTopicOffsets, else at the next retention check", async () => {
    await using dir = await tempDir("brook-group-deleted-topic-");
    await using b = await startBroker({ dataDir: dir.path, overrides: OVERRIDES, logLevel: "warn" });
    b.broker.topics.create("doomed", 2);
    b.broker.topics.create("kept", 1);
    const c = await WireClient.connect(b.address);
    await commit(c, "g", "doomed", [[0, 1], [1, 2]]);
    await commit(c, "g", "kept", [[0, 3]]);
    await commit(c, "h", "doomed", [[0, 4]]);
    b.broker.topics.delete("doomed");
    expect(b.broker.groups.expireOffsets()).toBe(3);
    expect(await fetchAll(c, "g")).toEqual([["kept", 0, 3, ""]]);
    b.broker.topics.create("doomed", 1);
    await commit(c, "g", "doomed", [[0, 9]]);
    expect(b.broker.groups.deleteTopicOffsets("doomed")).toBe(1);
    expect(await fetchAll(c, "g")).toEqual([["kept", 0, 3, ""]]);
    c.close();
  });
});
