// brook groups (alias: brook consumer-groups): Kafka's kafka-consumer-groups.sh over the wire, so it works
// against Apache Kafka too.
//
//   brook groups list [--state] [--type]
//   brook groups describe (GROUP... | --all-groups) [--offsets (default) | --members [--verbose] | --state]
//   brook groups delete (GROUP... | --all-groups)
//   brook groups reset-offsets GROUP (--topic T[:P,P...]... | --all-topics) --to-earliest|--to-latest|...
//                              [--dry-run (default) | --execute]
//
// Actions are also accepted as kafka-consumer-groups.sh's flags (--list, --describe, --delete,
// --reset-offsets) and groups as --group. The offsets view prints GROUP TOPIC PARTITION CURRENT-OFFSET
// LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID, one row per assigned partition and per partition with a
// committed offset but no owner ("-" where there is nothing to show); group states other than Stable are
// reported on stderr as Kafka's tool does. Consumer groups of the new protocol (KIP-848) are described
// with ConsumerGroupDescribe, classic groups with DescribeGroups (the order Kafka's tool tries them in). Offsets are reset only for groups without members, with an
// OffsetCommit outside any generation (what Kafka's admin client sends), and only with --execute.
import { DeleteGroups } from "../../protocol/apis/42-delete-groups.ts";
import { DescribeGroups } from "../../protocol/apis/15-describe-groups.ts";
import { ListGroups } from "../../protocol/apis/16-list-groups.ts";
import { ConsumerGroupDescribe } from "../../protocol/apis/69-consumer-group-describe.ts";
import { OffsetCommit } from "../../protocol/apis/08-offset-commit.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, type TopicPartitions } from "../group/consumer-protocol.ts";
import { CliError, UsageError, parseArgs, parseTimestamp, type OptionSpec, type Parsed } from "./args.ts";
import { Cluster, EARLIEST, LATEST, fetchCommittedOffsets, tpKey } from "./cluster.ts";
import { CONNECTION_OPTIONS, connectionOf, errorName, runCommand, stdio, type Output } from "./common.ts";
import type { WireClient } from "../client.ts";

export const USAGE = `usage: brook groups ACTION [GROUP...] [OPTIONS]        (also: brook consumer-groups)

Actions (a word, or kafka-consumer-groups.sh's flag: --list, --describe, ...):
  list                    consumer groups, one per line (--state: with their states, --type: with
                          their types, classic or consumer)
  describe GROUP...       (or --all-groups) committed offsets, log end offsets and lag per partition;
                          --members [--verbose] the members and their partitions; --state the
                          coordinator, assignor, state and member count
  delete GROUP...         (or --all-groups) groups without members
  reset-offsets GROUP...  new committed offsets for a group without members:
      scope:     --topic TOPIC[:P,P,...] (repeatable) or --all-topics (those with committed offsets)
      target:    --to-earliest, --to-latest, --to-current, --to-offset N, --shift-by N (+/-),
                 --to-datetime YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm] (local time without a zone),
                 --by-duration PnDTnHnMnS (that long ago)
      --dry-run  show the new offsets only (the default); --execute commits them

Options:
  -g, --group GROUP                 a group (repeatable; same as naming it after the action)
  -b, --bootstrap-server HOST:PORT  where to connect (default 127.0.0.1:9092)
  --timeout MS                      per-request timeout (default 30000)
  -h, --help                        this text`;

const ACTIONS = ["list", "describe", "delete", "reset-offsets"];

const OPTIONS: OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  { names: ["--group", "-g"], value: true, repeat: true },
  { names: ["--all-groups"] },
  { names: ["--members"] },
  { names: ["--offsets"] },
  { names: ["--state"] },
  { names: ["--type"] },
  { names: ["--verbose"] },
  { names: ["--topic", "-t"], value: true, repeat: true },
  { names: ["--all-topics"] },
  { names: ["--to-earliest"] },
  { names: ["--to-latest"] },
  { names: ["--to-current"] },
  { names: ["--to-offset"], value: true },
  { names: ["--shift-by"], value: true },
  { names: ["--to-datetime"], value: true },
  { names: ["--by-duration"], value: true },
  { names: ["--dry-run"] },
  { names: ["--execute"] },
];

const MISSING = "-";

type Target =
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "current" }
  | { kind: "offset"; offset: number }
  | { kind: "shift"; by: number }
  | { kind: "time"; timestamp: number };

interface Options {
  action: "list" | "describe" | "delete" | "reset-offsets";
  groups: string[];
  allGroups: boolean;
  view: "offsets" | "members" | "state";
  verbose: boolean;
  state: boolean;
  type: boolean;
  reset?: { topics: { topic: string; partitions: number[] | null }[]; allTopics: boolean; target: Target; execute: boolean; dryRun: boolean };
}

/** ISO 8601 durations as kafka-consumer-groups.sh takes them: PnDTnHnMnS (fractional seconds allowed). */
export function parseDuration(s: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s.trim());
  if (!m || s.trim() === "P" || s.trim().endsWith("T")) throw new UsageError(`--by-duration: expected PnDTnHnMnS, got "${s}"`);
  const [, d, h, min, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(sec ?? 0) * 1000);
}

function parseTarget(p: Parsed): Target {
  const targets: Target[] = [];
  if (p.has("to-earliest")) targets.push({ kind: "earliest" });
  if (p.has("to-latest")) targets.push({ kind: "latest" });
  if (p.has("to-current")) targets.push({ kind: "current" });
  const int = (name: string) => {
    const v = p.get(name)!;
    if (!/^[+-]?\d+$/.test(v.trim())) throw new UsageError(`--${name} expects an integer, got "${v}"`);
    return Number(v);
  };
  if (p.has("to-offset")) targets.push({ kind: "offset", offset: int("to-offset") });
  if (p.has("shift-by")) targets.push({ kind: "shift", by: int("shift-by") });
  if (p.has("to-datetime")) targets.push({ kind: "time", timestamp: parseTimestamp(p.get("to-datetime")!, "--to-datetime") });
  if (p.has("by-duration")) targets.push({ kind: "time", timestamp: Date.now() - parseDuration(p.get("by-duration")!) });
  if (targets.length !== 1)
    throw new UsageError("reset-offsets needs exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime, --by-duration");
  return targets[0]!;
}

function parseOptions(p: Parsed): Options {
  const action = p.action as Options["action"];
  const groups = [...p.all("group"), ...p.positional];
  const allGroups = p.has("all-groups");
  if (action !== "list" && groups.length === 0 && !allGroups) throw new UsageError(`${action} needs a group (or --all-groups)`);
  if (action === "list" && groups.length > 0) throw new UsageError("list takes no group");
  const members = p.has("members");
  const offsets = p.has("offsets");
  const state = p.has("state");
  if ([members, offsets, action === "describe" && state].filter(Boolean).length > 1)
    throw new UsageError("--offsets, --members and --state are mutually exclusive");
  const view = members ? "members" : state && action === "describe" ? "state" : "offsets";
  const opts: Options = { action, groups, allGroups, view, verbose: p.has("verbose"), state, type: p.has("type") };
  if (action === "reset-offsets") {
    const topics = p.all("topic").map((spec) => {
      const colon = spec.indexOf(":");
      if (colon < 0) return { topic: spec, partitions: null };
      const list = spec.slice(colon + 1).split(",");
      if (list.some((x) => !/^\d+$/.test(x.trim()))) throw new UsageError(`--topic: expected TOPIC or TOPIC:P,P,..., got "${spec}"`);
      return { topic: spec.slice(0, colon), partitions: list.map((x) => Number(x)) };
    });
    const allTopics = p.has("all-topics");
    if ((topics.length > 0) === allTopics) throw new UsageError("reset-offsets needs --topic or --all-topics (one of them)");
    if (p.has("dry-run") && p.has("execute")) throw new UsageError("--dry-run and --execute do not go together");
    opts.reset = { topics, allTopics, target: parseTarget(p), execute: p.has("execute"), dryRun: p.has("dry-run") };
  } else if (p.has("execute") || p.has("dry-run")) throw new UsageError("--dry-run and --execute belong to reset-offsets");
  return opts;
}

/** Runs the tool; returns the exit code. */
export function runGroups(argv: string[], io: Output = stdio, name = "groups"): Promise<number> {
  return runCommand(name, USAGE, argv, io, async () => {
    const p = parseArgs(argv, OPTIONS, ACTIONS);
    const opts = parseOptions(p);
    const { bootstrap, timeoutMs } = connectionOf(p);
    const cluster = new Cluster(bootstrap, timeoutMs, "brook-groups");
    try {
      await cluster.metadata(null);
      switch (opts.action) {
        case "list": {
          const groups = await listGroups(cluster);
          if (opts.state || opts.type) {
            const header = ["GROUP", ...(opts.type ? ["TYPE"] : []), ...(opts.state ? ["STATE"] : [])];
            const rows = groups.map((g) => [g.groupId, ...(opts.type ? [g.type ?? MISSING] : []), ...(opts.state ? [g.state ?? MISSING] : [])]);
            const widths = header.map((h, i) => Math.max(i === 0 ? 15 : h.length, ...rows.map((r) => r[i]!.length)));
            io.out(table(header, rows, widths));
          } else for (const g of groups) io.out(g.groupId);
          return 0;
        }
        case "describe":
          return await describeGroups(cluster, opts, io);
        case "delete":
          return await deleteGroups(cluster, opts, io);
        case "reset-offsets":
          return await resetOffsets(cluster, opts, io);
      }
    } finally {
      await cluster.close();
    }
  });
}

interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string | null;
  /** "Classic" or "Consumer" (ListGroups v5+) */
  type: string | null;
}

async function listGroups(cluster: Cluster): Promise<GroupListing[]> {
  const out = new Map<string, GroupListing>();
  for (const id of cluster.brokers.keys()) {
    const c = await cluster.node(id);
    const r = await c.request(ListGroups, { statesFilter: [], typesFilter: [] });
    if (r.errorCode !== 0) throw new CliError(`ListGroups on broker ${id}: ${errorName(r.errorCode)}`);
    for (const g of r.groups)
      // Like Kafka's listConsumerGroups: consumer groups and offset-only ("simple") groups, not e.g. Connect.
      if (g.protocolType === CONSUMER_PROTOCOL_TYPE || g.protocolType === "")
        out.set(g.groupId, {
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: c.versionFor(ListGroups) >= 4 ? g.groupState : null,
          type: c.versionFor(ListGroups) >= 5 ? g.groupType.charAt(0).toUpperCase() + g.groupType.slice(1) : null,
        });
  }
  return [...out.values()];
}

async function groupIds(cluster: Cluster, opts: Options): Promise<string[]> {
  return opts.allGroups ? (await listGroups(cluster)).map((g) => g.groupId).sort() : opts.groups;
}

interface Row {
  group: string;
  topic: string;
  partition: string;
  current: string;
  end: string;
  lag: string;
  consumerId: string;
  host: string;
  clientId: string;
}

interface Described {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  coordinator: { nodeId: number; host: string; port: number };
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; assignment: TopicPartitions[] }[];
}

/** A consumer group (KIP-848) as ConsumerGroupDescribe tells it; null when the id is not one. */
async function describeConsumerGroup(c: WireClient, groupId: string): Promise<Omit<Described, "coordinator"> | null> {
  try {
    c.versionFor(ConsumerGroupDescribe);
  } catch {
    return null; // a broker without the new protocol
  }
  const r = await c.request(ConsumerGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false });
  const g = r.groups[0]!;
  if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return null;
  if (g.errorCode !== 0) throw new CliError(`cannot describe group '${groupId}': ${errorName(g.errorCode)}`);
  return {
    groupId,
    state: g.groupState,
    protocolType: CONSUMER_PROTOCOL_TYPE,
    protocol: g.assignorName,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: m.assignment.topicPartitions.map((tp) => ({ topic: tp.topicName, partitions: tp.partitions })),
    })),
  };
}

/** A classic group as DescribeGroups tells it. */
async function describeClassicGroup(c: WireClient, groupId: string): Promise<Omit<Described, "coordinator">> {
  const dr = await c.request(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
  const g = dr.groups[0]!;
  if (g.errorCode !== 0) throw new CliError(`cannot describe group '${groupId}': ${errorName(g.errorCode)}`);
  const members = g.members.map((m) => {
    let assignment: TopicPartitions[] = [];
    if (g.protocolType === CONSUMER_PROTOCOL_TYPE && m.memberAssignment.length > 0) {
      try {
        assignment = decodeAssignment(m.memberAssignment).partitions;
      } catch {
        assignment = [];
      }
    }
    return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, assignment };
  });
  return { groupId, state: g.groupState, protocolType: g.protocolType, protocol: g.protocolData, members };
}

async function describeGroup(cluster: Cluster, groupId: string, withOffsets: boolean): Promise<{ d: Described; committed: Map<string, number> }> {
  const coord = await cluster.coordinator(groupId);
  const c = await cluster.connect(coord.address);
  const g = (await describeConsumerGroup(c, groupId)) ?? (await describeClassicGroup(c, groupId));
  const committed = withOffsets && g.state !== "Dead" ? await fetchCommittedOffsets(c, groupId, null) : new Map<string, number>();
  return { d: { ...g, coordinator: { nodeId: coord.nodeId, host: coord.host, port: coord.port } }, committed };
}

const splitKey = (key: string) => {
  const at = key.lastIndexOf("\0");
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
};

const byTopicPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }) =>
  a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;

function offsetRows(d: Described, committed: Map<string, number>, ends: Map<string, number>): Row[] {
  const row = (topic: string, partition: number, consumerId: string, host: string, clientId: string): Row => {
    const cur = committed.get(tpKey(topic, partition));
    const end = ends.get(tpKey(topic, partition));
    return {
      group: d.groupId,
      topic,
      partition: String(partition),
      current: cur === undefined ? MISSING : String(cur),
      end: end === undefined ? MISSING : String(end),
      lag: cur === undefined || end === undefined ? MISSING : String(Math.max(0, end - cur)),
      consumerId,
      host,
      clientId,
    };
  };
  const rows: Row[] = [];
  const assigned = new Set<string>();
  const count = (m: Described["members"][number]) => m.assignment.reduce((n, tp) => n + tp.partitions.length, 0);
  const owners = d.members.filter((m) => count(m) > 0).sort((a, b) => count(b) - count(a));
  for (const m of owners) {
    const tps = m.assignment.flatMap((tp) => tp.partitions.map((p) => ({ topic: tp.topic, partition: p })));
    tps.sort(byTopicPartition);
    for (const { topic, partition } of tps) {
      assigned.add(tpKey(topic, partition));
      rows.push(row(topic, partition, m.memberId, m.clientHost, m.clientId));
    }
  }
  const unowned = [...committed.keys()].filter((k) => !assigned.has(k)).map(splitKey).sort(byTopicPartition);
  for (const { topic, partition } of unowned) rows.push(row(topic, partition, MISSING, MISSING, MISSING));
  return rows;
}

function table(header: string[], rows: string[][], widths: number[]): string {
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join(" ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Kafka's tool reports non-Stable groups on stderr and prints nothing for a Dead (unknown) one. */
function reportState(d: Described, io: Output): boolean {
  switch (d.state) {
    case "Dead":
      io.err(`Error: Consumer group '${d.groupId}' does not exist.`);
      return false;
    case "Empty":
      io.err(`\nConsumer group '${d.groupId}' has no active members.`);
      return true;
    case "PreparingRebalance":
    case "CompletingRebalance":
    case "Assigning":
    case "Reconciling":
      io.err(`\nWarning: Consumer group '${d.groupId}' is rebalancing.`);
      return true;
    default:
      return true;
  }
}

/** Log end offsets of the partitions that exist ("topic\0partition" → offset). */
async function logEndOffsets(cluster: Cluster, partitions: { topic: string; partition: number }[]): Promise<Map<string, number>> {
  const known = partitions.filter((tp) => (cluster.topics.get(tp.topic)?.partitions[tp.partition]?.leader ?? -1) >= 0);
  return known.length === 0 ? new Map() : cluster.listOffsets(known, LATEST);
}

async function describeGroups(cluster: Cluster, opts: Options, io: Output): Promise<number> {
  let failures = 0;
  for (const id of await groupIds(cluster, opts)) {
    let described: Awaited<ReturnType<typeof describeGroup>>;
    try {
      described = await describeGroup(cluster, id, opts.view === "offsets");
    } catch (e) {
      io.err(`Error: ${(e as Error).message}`);
      failures++;
      continue;
    }
    const { d, committed } = described;
    if (opts.view === "state") {
      if (d.state === "Dead") {
        io.err(`Error: Consumer group '${d.groupId}' does not exist.`);
        continue;
      }
      const coordinator = `${d.coordinator.host}:${d.coordinator.port}  (${d.coordinator.nodeId})`;
      const widths = [Math.max(15, d.groupId.length), Math.max(25, coordinator.length), 20, 20];
      io.out("\n" + table(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"], [[d.groupId, coordinator, d.protocol, d.state, String(d.members.length)]], widths));
      continue;
    }
    if (!reportState(d, io)) continue;
    if (opts.view === "members") {
      if (d.members.length === 0) continue;
      const header = ["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"];
      if (opts.verbose) header.push("ASSIGNMENT");
      const rows = d.members.map((m) => {
        const r = [d.groupId, m.memberId, m.groupInstanceId ?? MISSING, m.clientHost, m.clientId, String(m.assignment.reduce((n, tp) => n + tp.partitions.length, 0))];
        if (opts.verbose)
          r.push(m.assignment.length === 0 ? MISSING : m.assignment.map((tp) => `${tp.topic}(${[...tp.partitions].sort((a, b) => a - b).join(",")})`).join(","));
        return r;
      });
      const widths = header.map((h, i) => Math.max(i === 0 || i === 1 ? 15 : h.length, ...rows.map((r) => r[i]!.length)));
      io.out("\n" + table(header, rows, widths));
      continue;
    }
    const partitions = new Map<string, { topic: string; partition: number }>();
    for (const m of d.members) for (const tp of m.assignment) for (const p of tp.partitions) partitions.set(tpKey(tp.topic, p), { topic: tp.topic, partition: p });
    for (const k of committed.keys()) partitions.set(k, splitKey(k));
    const ends = await logEndOffsets(cluster, [...partitions.values()]);
    const rows = offsetRows(d, committed, ends);
    if (rows.length === 0) continue;
    const w = (get: (r: Row) => string) => Math.max(15, ...rows.map((r) => get(r).length));
    const widths = [w((r) => r.group), w((r) => r.topic), 10, 15, 15, 15, w((r) => r.consumerId), w((r) => r.host)];
    const header = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"];
    io.out("\n" + table(header, rows.map((r) => [r.group, r.topic, r.partition, r.current, r.end, r.lag, r.consumerId, r.host, r.clientId]), widths));
  }
  return failures > 0 ? 1 : 0;
}

async function deleteGroups(cluster: Cluster, opts: Options, io: Output): Promise<number> {
  const ids = await groupIds(cluster, opts);
  const failed: [string, string][] = [];
  for (const id of ids) {
    const coord = await cluster.coordinator(id);
    const r = await (await cluster.connect(coord.address)).request(DeleteGroups, { groupsNames: [id] });
    const code = r.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    if (code !== 0) failed.push([id, errorName(code)]);
  }
  const ok = ids.filter((id) => !failed.some(([f]) => f === id));
  if (failed.length === 0) io.out(`Deletion of requested consumer groups (${ok.map((g) => `'${g}'`).join(", ")}) was successful.`);
  else {
    io.err(`Deletion of some consumer groups failed:\n${failed.map(([g, e]) => `* Group '${g}' could not be deleted due to: ${e}`).join("\n")}`);
    if (ok.length > 0) io.out(`\nThese consumer groups were deleted successfully: ${ok.map((g) => `'${g}'`).join(", ")}`);
  }
  return failed.length > 0 ? 1 : 0;
}

async function resetOffsets(cluster: Cluster, opts: Options, io: Output): Promise<number> {
  const reset = opts.reset!;
  const plans: { group: string; offsets: Map<string, number> }[] = [];
  for (const group of await groupIds(cluster, opts)) {
    const { d, committed } = await describeGroup(cluster, group, true);
    // Kafka resets only inactive groups: a live member would overwrite the new offsets with its own.
    if (d.state !== "Empty" && d.state !== "Dead")
      throw new CliError(`cannot reset the offsets of group '${group}': it is ${d.state} with ${d.members.length} member(s); stop its consumers first`);
    let partitions: { topic: string; partition: number }[];
    if (reset.allTopics) partitions = [...committed.keys()].map(splitKey);
    else {
      const info = await cluster.requireTopics(reset.topics.map((t) => t.topic));
      partitions = reset.topics.flatMap(({ topic, partitions: chosen }) => {
        const count = info.get(topic)!.partitions.length;
        for (const p of chosen ?? []) if (p >= count) throw new CliError(`partition ${p} of '${topic}' does not exist (it has ${count})`);
        return (chosen ?? [...Array(count).keys()]).map((partition) => ({ topic, partition }));
      });
    }
    partitions = [...new Map(partitions.map((tp) => [tpKey(tp.topic, tp.partition), tp])).values()].sort(byTopicPartition);
    if (partitions.length === 0) {
      io.err(`group '${group}' has no committed offsets, so --all-topics resets nothing; name the topics with --topic`);
      continue;
    }
    await cluster.requireTopics([...new Set(partitions.map((tp) => tp.topic))]);
    plans.push({ group, offsets: await newOffsets(cluster, partitions, committed, reset.target) });
  }
  for (const { group, offsets } of plans) {
    const rows = [...offsets].map(([k, offset]) => {
      const { topic, partition } = splitKey(k);
      return [group, topic, String(partition), String(offset)];
    });
    const widths = [Math.max(15, group.length), Math.max(15, ...rows.map((r) => r[1]!.length)), 10];
    io.out("\n" + table(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], rows, widths));
    if (!reset.execute) continue;
    const topics = new Map<string, { partitionIndex: number; committedOffset: number; committedMetadata: string }[]>();
    for (const [k, offset] of offsets) {
      const { topic, partition } = splitKey(k);
      let list = topics.get(topic);
      if (!list) topics.set(topic, (list = []));
      list.push({ partitionIndex: partition, committedOffset: offset, committedMetadata: "" });
    }
    const coord = await cluster.coordinator(group);
    const r = await (await cluster.connect(coord.address)).request(OffsetCommit, {
      groupId: group,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of r.topics)
      for (const p of t.partitions)
        if (p.errorCode !== ErrorCode.NONE) throw new CliError(`cannot commit the new offset of ${t.name}-${p.partitionIndex} for group '${group}': ${errorName(p.errorCode)}`);
  }
  if (!reset.execute && !reset.dryRun) io.err("\nNothing was changed: add --execute to commit these offsets (--dry-run only shows them).");
  return 0;
}

/** The offset each partition would be reset to ("topic\0partition" → offset), kept within the log. */
async function newOffsets(
  cluster: Cluster,
  partitions: { topic: string; partition: number }[],
  committed: Map<string, number>,
  target: Target,
): Promise<Map<string, number>> {
  const [first, last] = await Promise.all([cluster.listOffsets(partitions, EARLIEST), cluster.listOffsets(partitions, LATEST)]);
  const clamp = (k: string, offset: number) => Math.min(Math.max(offset, first.get(k)!), last.get(k)!);
  const out = new Map<string, number>();
  const byTime = target.kind === "time" ? await cluster.listOffsets(partitions, target.timestamp) : null;
  for (const tp of partitions) {
    const k = tpKey(tp.topic, tp.partition);
    const current = committed.get(k);
    switch (target.kind) {
      case "earliest":
        out.set(k, first.get(k)!);
        break;
      case "latest":
        out.set(k, last.get(k)!);
        break;
      case "current":
        out.set(k, current ?? last.get(k)!);
        break;
      case "offset":
        out.set(k, clamp(k, target.offset));
        break;
      case "shift":
        if (current === undefined) throw new CliError(`cannot shift the offset of ${tp.topic}-${tp.partition}: the group has no committed offset there`);
        out.set(k, clamp(k, current + target.by));
        break;
      case "time": {
        const found = byTime!.get(k)!;
        out.set(k, found >= 0 ? found : last.get(k)!);
        break;
      }
    }
  }
  return out;
}
