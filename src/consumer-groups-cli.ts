// brook consumer-groups: Kafka's kafka-consumer-groups.sh for Brook (and any Kafka), over the wire with
// Brook's own codec (src/group/admin-client.ts).
//
//   bun src/cli.ts consumer-groups --bootstrap-server HOST:PORT --list [--state] [--type]
//   bun src/cli.ts consumer-groups --bootstrap-server HOST:PORT --describe (--group G ... | --all-groups)
//                                  [--offsets (default) | --members [--verbose] | --state]
//   bun src/cli.ts consumer-groups --bootstrap-server HOST:PORT --delete --group G ...
//
// The output follows kafka-consumer-groups.sh: the offsets view prints GROUP TOPIC PARTITION
// CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID, one row per assigned partition and per
// partition with a committed offset but no owner ("-" where there is nothing to show); group states other
// than Stable are reported on stderr as Kafka's tool does. Consumer groups of the new protocol (KIP-848)
// are described with ConsumerGroupDescribe, classic groups with DescribeGroups (the order Kafka's tool
// tries them in).
import { DeleteGroups } from "../protocol/apis/42-delete-groups.ts";
import { DescribeGroups } from "../protocol/apis/15-describe-groups.ts";
import { FindCoordinator } from "../protocol/apis/10-find-coordinator.ts";
import { ListGroups } from "../protocol/apis/16-list-groups.ts";
import { ConsumerGroupDescribe } from "../protocol/apis/69-consumer-group-describe.ts";
import { ListOffsets } from "../protocol/apis/02-list-offsets.ts";
import { Metadata } from "../protocol/apis/03-metadata.ts";
import { OffsetFetch } from "../protocol/apis/09-offset-fetch.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { WireClient } from "./client.ts";
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, type TopicPartitions } from "./group/consumer-protocol.ts";

const USAGE = `usage: brook consumer-groups --bootstrap-server HOST:PORT ACTION [OPTIONS]

Actions:
  --list                     list all consumer groups (with --state: and their states, with --type: and
                             their types, classic or consumer)
  --describe                 describe --group G (repeatable) or --all-groups:
      --offsets              committed offsets, log end offsets and lag per partition (default)
      --members              members and how many partitions each has (--verbose: which ones)
      --state                coordinator, assignment strategy, state and member count
  --delete                   delete --group G (repeatable); only groups without members

Options:
  --bootstrap-server HOST:PORT   a broker to start from (required)
  --group G                      a group id (repeatable)
  --all-groups                   every group
  --timeout MS                   per-request timeout (default 30000)`;

const MISSING = "-";

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
const errorName = (code: number) => ERROR_NAMES.get(code) ?? `error ${code}`;

class UsageError extends Error {}

interface Options {
  bootstrap: string;
  action: "list" | "describe" | "delete";
  groups: string[];
  allGroups: boolean;
  view: "offsets" | "members" | "state";
  verbose: boolean;
  state: boolean;
  type: boolean;
  timeoutMs: number;
}

function parseArgs(argv: string[]): Options {
  let bootstrap: string | undefined;
  const actions = new Set<Options["action"]>();
  const groups: string[] = [];
  let allGroups = false;
  let members = false;
  let state = false;
  let offsets = false;
  let verbose = false;
  let type = false;
  let timeoutMs = 30_000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0 && arg.startsWith("--")) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--bootstrap-server":
        bootstrap = value();
        break;
      case "--list":
        actions.add("list");
        break;
      case "--describe":
        actions.add("describe");
        break;
      case "--delete":
        actions.add("delete");
        break;
      case "--group":
        groups.push(value());
        break;
      case "--all-groups":
        allGroups = true;
        break;
      case "--members":
        members = true;
        break;
      case "--state":
        state = true;
        break;
      case "--offsets":
        offsets = true;
        break;
      case "--verbose":
        verbose = true;
        break;
      case "--type":
        type = true;
        break;
      case "--timeout":
        timeoutMs = Number(value());
        if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError("--timeout expects a positive number of ms");
        break;
      case "-h":
      case "--help":
        throw new UsageError("");
      default:
        throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  if (!bootstrap) throw new UsageError("--bootstrap-server is required");
  if (actions.size !== 1) throw new UsageError("exactly one of --list, --describe, --delete is required");
  const action = [...actions][0]!;
  if (action !== "list" && groups.length === 0 && !allGroups) throw new UsageError(`--${action} needs --group or --all-groups`);
  if ([members, offsets, action === "describe" && state].filter(Boolean).length > 1)
    throw new UsageError("--offsets, --members and --state are mutually exclusive");
  const view = members ? "members" : state && action === "describe" ? "state" : "offsets";
  return { bootstrap, action, groups, allGroups, view, verbose, state, type, timeoutMs };
}

/** Connections to the cluster's brokers, by node id, opened on demand. */
class Cluster {
  private readonly byAddress = new Map<string, Promise<WireClient>>();
  brokers = new Map<number, { host: string; port: number }>();
  /** topic → partition → leader node id */
  leaders = new Map<string, Map<number, number>>();

  constructor(
    readonly bootstrap: string,
    private readonly timeoutMs: number,
  ) {}

  connect(address: string): Promise<WireClient> {
    let c = this.byAddress.get(address);
    if (!c) {
      c = WireClient.connect(address, { clientId: "brook-consumer-groups", requestTimeoutMs: this.timeoutMs });
      this.byAddress.set(address, c);
    }
    return c;
  }

  node(id: number): Promise<WireClient> {
    const b = this.brokers.get(id);
    if (!b) throw new Error(`unknown broker ${id}`);
    return this.connect(`${b.host.includes(":") ? `[${b.host}]` : b.host}:${b.port}`);
  }

  async loadMetadata(): Promise<void> {
    const c = await this.connect(this.bootstrap);
    const md = await c.request(Metadata, { topics: null, allowAutoTopicCreation: false });
    this.brokers = new Map(md.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }]));
    this.leaders = new Map();
    for (const t of md.topics) {
      if (t.name === null) continue;
      this.leaders.set(t.name, new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId])));
    }
  }

  async coordinator(group: string): Promise<{ client: WireClient; nodeId: number; host: string; port: number }> {
    const c = await this.connect(this.bootstrap);
    const v = c.versionFor(FindCoordinator);
    const r = await c.request(FindCoordinator, v >= 4 ? { keyType: 0, coordinatorKeys: [group] } : { key: group, keyType: 0 });
    const one = v >= 4 ? r.coordinators[0]! : { errorCode: r.errorCode, nodeId: r.nodeId, host: r.host, port: r.port, errorMessage: r.errorMessage };
    if (one.errorCode !== 0) throw new Error(`cannot find the coordinator of group '${group}': ${errorName(one.errorCode)}`);
    this.brokers.set(one.nodeId, { host: one.host, port: one.port });
    return { client: await this.node(one.nodeId), nodeId: one.nodeId, host: one.host, port: one.port };
  }

  async close(): Promise<void> {
    for (const c of this.byAddress.values()) {
      try {
        (await c).close();
      } catch {
        // a connection that never opened
      }
    }
  }
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
    if (r.errorCode !== 0) throw new Error(`ListGroups on broker ${id}: ${errorName(r.errorCode)}`);
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
  if (g.errorCode !== 0) throw new Error(`ConsumerGroupDescribe '${groupId}': ${errorName(g.errorCode)}`);
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

async function describe(cluster: Cluster, groupId: string): Promise<{ d: Described; committed: Map<string, Map<number, number>> }> {
  const coord = await cluster.coordinator(groupId);
  const c = coord.client;
  const modern = await describeConsumerGroup(c, groupId);
  const dr = modern ? null : await c.request(DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
  if (!modern && dr!.groups[0]!.errorCode !== 0) throw new Error(`DescribeGroups '${groupId}': ${errorName(dr!.groups[0]!.errorCode)}`);
  const groupState = modern ? modern.state : dr!.groups[0]!.groupState;
  const members = modern
    ? modern.members
    : dr!.groups[0]!.members.map((m) => {
        let assignment: TopicPartitions[] = [];
        if (dr!.groups[0]!.protocolType === CONSUMER_PROTOCOL_TYPE && m.memberAssignment.length > 0) {
          try {
            assignment = decodeAssignment(m.memberAssignment).partitions;
          } catch {
            assignment = [];
          }
        }
        return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, assignment };
      });
  const committed = new Map<string, Map<number, number>>();
  if (groupState !== "Dead") {
    const v = c.versionFor(OffsetFetch);
    let topics: { name: string; partitions: { partitionIndex: number; committedOffset: number; errorCode: number }[] }[];
    if (v >= 8) {
      const r = await c.request(OffsetFetch, { groups: [{ groupId, topics: null }], requireStable: false });
      const one = r.groups[0]!;
      if (one.errorCode !== 0) throw new Error(`OffsetFetch '${groupId}': ${errorName(one.errorCode)}`);
      topics = one.topics;
    } else {
      const r = await c.request(OffsetFetch, { groupId, topics: null, requireStable: false }, Math.max(v, 2));
      if (r.errorCode !== 0) throw new Error(`OffsetFetch '${groupId}': ${errorName(r.errorCode)}`);
      topics = r.topics;
    }
    for (const t of topics)
      for (const p of t.partitions) {
        if (p.errorCode !== 0 || p.committedOffset < 0) continue;
        let m = committed.get(t.name);
        if (!m) committed.set(t.name, (m = new Map()));
        m.set(p.partitionIndex, p.committedOffset);
      }
  }
  return {
    d: {
      groupId,
      state: groupState,
      protocolType: modern ? modern.protocolType : dr!.groups[0]!.protocolType,
      protocol: modern ? modern.protocol : dr!.groups[0]!.protocolData,
      coordinator: { nodeId: coord.nodeId, host: coord.host, port: coord.port },
      members,
    },
    committed,
  };
}

/** Log end offsets (ListOffsets, latest) from each partition's leader. */
async function logEndOffsets(cluster: Cluster, partitions: { topic: string; partition: number }[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const byLeader = new Map<number, Map<string, number[]>>();
  for (const { topic, partition } of partitions) {
    const leader = cluster.leaders.get(topic)?.get(partition);
    if (leader === undefined || leader < 0) continue;
    let topics = byLeader.get(leader);
    if (!topics) byLeader.set(leader, (topics = new Map()));
    let ps = topics.get(topic);
    if (!ps) topics.set(topic, (ps = []));
    ps.push(partition);
  }
  for (const [leader, topics] of byLeader) {
    const c = await cluster.node(leader);
    const v = Math.max(1, c.versionFor(ListOffsets));
    const r = await c.request(
      ListOffsets,
      {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...topics].map(([name, ps]) => ({ name, partitions: ps.map((p) => ({ partitionIndex: p, timestamp: -1 })) })),
      },
      v,
    );
    for (const t of r.topics) for (const p of t.partitions) if (p.errorCode === 0) out.set(`${t.name}\0${p.partitionIndex}`, p.offset);
  }
  return out;
}

function offsetRows(d: Described, committed: Map<string, Map<number, number>>, ends: Map<string, number>): Row[] {
  const row = (topic: string, partition: number, consumerId: string, host: string, clientId: string): Row => {
    const cur = committed.get(topic)?.get(partition);
    const end = ends.get(`${topic}\0${partition}`);
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
    tps.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    for (const { topic, partition } of tps) {
      assigned.add(`${topic}\0${partition}`);
      rows.push(row(topic, partition, m.memberId, m.clientHost, m.clientId));
    }
  }
  const unowned: { topic: string; partition: number }[] = [];
  for (const [topic, parts] of committed) for (const p of parts.keys()) if (!assigned.has(`${topic}\0${p}`)) unowned.push({ topic, partition: p });
  unowned.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  for (const { topic, partition } of unowned) rows.push(row(topic, partition, MISSING, MISSING, MISSING));
  return rows;
}

function table(header: string[], rows: string[][], widths: number[]): string {
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join(" ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Kafka's tool reports non-Stable groups on stderr and prints nothing for a Dead (unknown) one. */
function reportState(d: Described, out: Output): boolean {
  switch (d.state) {
    case "Dead":
      out.err(`Error: Consumer group '${d.groupId}' does not exist.`);
      return false;
    case "Empty":
      out.err(`\nConsumer group '${d.groupId}' has no active members.`);
      return true;
    case "PreparingRebalance":
    case "CompletingRebalance":
    case "Assigning":
    case "Reconciling":
      out.err(`\nWarning: Consumer group '${d.groupId}' is rebalancing.`);
      return true;
    default:
      return true;
  }
}

interface Output {
  out(s: string): void;
  err(s: string): void;
}

async function describeGroups(cluster: Cluster, opts: Options, io: Output): Promise<number> {
  let ids = opts.groups;
  if (opts.allGroups) ids = (await listGroups(cluster)).map((g) => g.groupId).sort();
  let failures = 0;
  for (const id of ids) {
    let described: Awaited<ReturnType<typeof describe>>;
    try {
      described = await describe(cluster, id);
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
      io.out("\n" + table(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"], [[d.groupId, coordinator, d.protocol, d.state, String(d.members.length)]], widths) + "\n");
      continue;
    }
    if (!reportState(d, io)) continue;
    if (opts.view === "members") {
      if (d.members.length === 0) continue;
      const header = ["GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"];
      if (opts.verbose) header.push("ASSIGNMENT");
      const rows = d.members.map((m) => {
        const r = [
          d.groupId,
          m.memberId,
          m.groupInstanceId ?? MISSING,
          m.clientHost,
          m.clientId,
          String(m.assignment.reduce((n, tp) => n + tp.partitions.length, 0)),
        ];
        if (opts.verbose)
          r.push(m.assignment.length === 0 ? MISSING : m.assignment.map((tp) => `${tp.topic}(${[...tp.partitions].sort((a, b) => a - b).join(",")})`).join(","));
        return r;
      });
      const widths = header.map((h, i) => Math.max(i === 0 || i === 1 ? 15 : h.length, ...rows.map((r) => r[i]!.length)));
      io.out("\n" + table(header, rows, widths) + "\n");
      continue;
    }
    const partitions = new Map<string, { topic: string; partition: number }>();
    for (const m of d.members) for (const tp of m.assignment) for (const p of tp.partitions) partitions.set(`${tp.topic}\0${p}`, { topic: tp.topic, partition: p });
    for (const [topic, parts] of committed) for (const p of parts.keys()) partitions.set(`${topic}\0${p}`, { topic, partition: p });
    const ends = await logEndOffsets(cluster, [...partitions.values()]);
    const rows = offsetRows(d, committed, ends);
    if (rows.length === 0) continue;
    const w = (get: (r: Row) => string) => Math.max(15, ...rows.map((r) => get(r).length));
    const widths = [w((r) => r.group), w((r) => r.topic), 10, 15, 15, 15, w((r) => r.consumerId), w((r) => r.host)];
    const header = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"];
    io.out(
      "\n" +
        table(
          header,
          rows.map((r) => [r.group, r.topic, r.partition, r.current, r.end, r.lag, r.consumerId, r.host, r.clientId]),
          widths,
        ) +
        "\n",
    );
  }
  return failures > 0 ? 1 : 0;
}

async function deleteGroups(cluster: Cluster, opts: Options, io: Output): Promise<number> {
  let ids = opts.groups;
  if (opts.allGroups) ids = (await listGroups(cluster)).map((g) => g.groupId);
  const failed: [string, string][] = [];
  for (const id of ids) {
    const coord = await cluster.coordinator(id);
    const r = await coord.client.request(DeleteGroups, { groupsNames: [id] });
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

/** Runs the tool; returns the exit code. Output goes through `io` (stdout/stderr by default). */
export async function runConsumerGroups(
  argv: string[],
  io: Output = { out: (s) => console.log(s), err: (s) => console.error(s) },
): Promise<number> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message) io.err(`consumer-groups: ${e.message}\n`);
    io.err(USAGE);
    return e.message ? 2 : 0;
  }
  const cluster = new Cluster(opts.bootstrap, opts.timeoutMs);
  try {
    await cluster.loadMetadata();
    switch (opts.action) {
      case "list": {
        const groups = await listGroups(cluster);
        if (opts.state || opts.type) {
          const header = ["GROUP", ...(opts.type ? ["TYPE"] : []), ...(opts.state ? ["STATE"] : [])];
          const rows = groups.map((g) => [g.groupId, ...(opts.type ? [g.type ?? "-"] : []), ...(opts.state ? [g.state ?? "-"] : [])]);
          const widths = header.map((h, i) => Math.max(i === 0 ? 15 : h.length, ...rows.map((r) => r[i]!.length)));
          io.out(table(header, rows, widths));
        } else for (const g of groups) io.out(g.groupId);
        return 0;
      }
      case "describe":
        return await describeGroups(cluster, opts, io);
      case "delete":
        return await deleteGroups(cluster, opts, io);
    }
  } catch (e) {
    io.err(`Error: ${(e as Error).message}`);
    return 1;
  } finally {
    await cluster.close();
  }
}

if (import.meta.main) process.exit(await runConsumerGroups(process.argv.slice(2)));
