// `bun src/cli.ts consumer-groups` (the old name of `brook groups`, kept as an alias): the
// kafka-consumer-groups.sh look-alike with its flag syntax, run as a child process against
// an embedded broker. Checks the lag it computes (committed offsets vs log end offsets), its member and
// state views, listing, deleting, and its answers for unknown groups and bad arguments.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import { JoinGroup } from "../protocol/apis/11-join-group.ts";
import { OffsetCommit } from "../protocol/apis/08-offset-commit.ts";
import { SyncGroup } from "../protocol/apis/14-sync-group.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { WireClient } from "../src/client.ts";
import { encodeAssignment, encodeSubscription } from "../src/group/consumer-protocol.ts";
import { CLI } from "./helpers/broker.ts";
import { run } from "./helpers/run.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(60_000);

let dir: TempDir;
let broker: BrokerHandle;
let member: WireClient;
let memberId: string;

const cli = (...args: string[]) => run([process.execPath, CLI, "consumer-groups", "--bootstrap-server", broker.address, ...args], { timeoutMs: 30_000 });

/** The data rows of the table printed after a header starting with `first`. */
function rows(stdout: string, first: string): string[][] {
  const lines = stdout.split("\n");
  const out: string[][] = [];
  let inTable = false;
  for (const line of lines) {
    if (line.startsWith(first)) {
      inTable = true;
      continue;
    }
    if (inTable && line.trim() === "") {
      inTable = false;
      continue;
    }
    if (inTable) out.push(line.trim().split(/\s+/));
  }
  return out;
}

beforeAll(async () => {
  dir = await tempDir("brook-group-cli-");
  broker = await startBroker({ dataDir: dir.path, overrides: { "group.initial.rebalance.delay.ms": 0 }, logLevel: "warn" });
  broker.broker.topics.create("orders", 3);
  const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  // 10, 20 and 30 messages in partitions 0, 1, 2.
  for (const [p, n] of [[0, 10], [1, 20], [2, 30]] as const)
    await producer.send({ topic: "orders", messages: Array.from({ length: n }, (_, i) => ({ partition: p, value: `m${i}` })) });
  await producer.disconnect();

  // "lagged": a Stable group whose only member owns all three partitions; commits on 0 and 1.
  member = await WireClient.connect(broker.address, { clientId: "lag-client" });
  const j = await member.request(
    JoinGroup,
    { groupId: "lagged", sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: encodeSubscription(["orders"]) }] },
    3,
  );
  memberId = j.memberId;
  await member.request(
    SyncGroup,
    { groupId: "lagged", generationId: j.generationId, memberId, assignments: [{ memberId, assignment: encodeAssignment([{ topic: "orders", partitions: [0, 1, 2] }]) }] },
    3,
  );
  await member.request(
    OffsetCommit,
    {
      groupId: "lagged",
      generationIdOrMemberEpoch: j.generationId,
      memberId,
      topics: [{ name: "orders", partitions: [{ partitionIndex: 0, committedOffset: 4 }, { partitionIndex: 1, committedOffset: 20 }] }],
    },
    8,
  );
  // "idle": only a committed offset, no members.
  await member.request(OffsetCommit, { groupId: "idle", topics: [{ name: "orders", partitions: [{ partitionIndex: 1, committedOffset: 5 }] }] }, 2);
});

afterAll(async () => {
  member?.close();
  await broker?.close();
  await dir?.remove();
});

describe("consumer-groups CLI", () => {
  test("--describe prints committed offsets, log end offsets and lag per partition with the owner", async () => {
    const r = await cli("--describe", "--group", "lagged");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID");
    expect(rows(r.stdout, "GROUP")).toEqual([
      ["lagged", "orders", "0", "4", "10", "6", memberId, "/127.0.0.1", "lag-client"],
      ["lagged", "orders", "1", "20", "20", "0", memberId, "/127.0.0.1", "lag-client"],
      ["lagged", "orders", "2", "-", "30", "-", memberId, "/127.0.0.1", "lag-client"],
    ]);
    expect(r.stderr).toBe("");
  });

  test("a group without members: its committed partitions, no owner, and Kafka's notice on stderr", async () => {
    const r = await cli("--describe", "--group", "idle");
    expect(r.exitCode).toBe(0);
    expect(rows(r.stdout, "GROUP")).toEqual([["idle", "orders", "1", "5", "20", "15", "-", "-", "-"]]);
    expect(r.stderr).toContain("Consumer group 'idle' has no active members.");
  });

  test("--all-groups, --list, --list --state", async () => {
    const all = await cli("--describe", "--all-groups");
    expect(all.exitCode).toBe(0);
    expect(rows(all.stdout, "GROUP").map((x) => x.slice(0, 6))).toEqual([
      ["idle", "orders", "1", "5", "20", "15"],
      ["lagged", "orders", "0", "4", "10", "6"],
      ["lagged", "orders", "1", "20", "20", "0"],
      ["lagged", "orders", "2", "-", "30", "-"],
    ]);
    const list = await cli("--list");
    expect(list.stdout.trim().split("\n").sort()).toEqual(["idle", "lagged"]);
    const states = await cli("--list", "--state");
    expect(rows(states.stdout, "GROUP").sort()).toEqual([
      ["idle", "Empty"],
      ["lagged", "Stable"],
    ]);
  });

  test("--members --verbose and --state", async () => {
    const m = await cli("--describe", "--group", "lagged", "--members", "--verbose");
    expect(m.exitCode).toBe(0);
    expect(rows(m.stdout, "GROUP")).toEqual([["lagged", memberId, "-", "/127.0.0.1", "lag-client", "3", "orders(0,1,2)"]]);
    const s = await cli("--describe", "--group", "lagged", "--state");
    expect(rows(s.stdout, "GROUP")).toEqual([["lagged", broker.address, "(1)", "range", "Stable", "1"]]);
  });

  test("unknown groups, deleting, bad arguments", async () => {
    const unknown = await cli("--describe", "--group", "nobody");
    expect(unknown.stderr).toContain("Error: Consumer group 'nobody' does not exist.");
    expect(unknown.stdout.trim()).toBe("");

    const busy = await cli("--delete", "--group", "lagged");
    expect(busy.exitCode).toBe(1);
    expect(busy.stderr).toContain("Group 'lagged' could not be deleted due to: NON_EMPTY_GROUP");
    const del = await cli("--delete", "--group", "idle");
    expect(del.exitCode).toBe(0);
    expect(del.stdout).toContain("Deletion of requested consumer groups ('idle') was successful.");
    expect((await cli("--list")).stdout.trim()).toBe("lagged");

    const bad = await run([process.execPath, CLI, "consumer-groups", "--describe"], { timeoutMs: 30_000 });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe("brook consumer-groups: describe needs a group (or --all-groups) (see brook consumer-groups --help)\n");
  });
});
