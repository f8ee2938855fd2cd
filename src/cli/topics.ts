// brook topics: kafka-topics.sh (and the topic half of kafka-configs.sh) over the wire, so it works
// against Apache Kafka too. Actions: list, create, describe, delete, alter (partition count and
// configs). The describe output has kafka-topics.sh's layout.
import { CreatePartitions } from "../../protocol/apis/37-create-partitions.ts";
import { CreateTopics } from "../../protocol/apis/19-create-topics.ts";
import { DeleteTopics } from "../../protocol/apis/20-delete-topics.ts";
import { DescribeConfigs } from "../../protocol/apis/32-describe-configs.ts";
import { IncrementalAlterConfigs } from "../../protocol/apis/44-incremental-alter-configs.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { CliError, UsageError, intOption, keyValue, parseArgs, type OptionSpec } from "./args.ts";
import { Cluster, type TopicInfo } from "./cluster.ts";
import { CONNECTION_OPTIONS, connectionOf, describeError, runCommand, stdio, type Output } from "./common.ts";

export const USAGE = `usage: brook topics ACTION [TOPIC...] [OPTIONS]

Actions (a word, or kafka-topics.sh's flag: --list, --create, ...):
  list                    topic names, one per line (--exclude-internal leaves out internal topics)
  create TOPIC...         --partitions N (default: the broker's num.partitions)
                          --replication-factor N (default: the broker's default.replication.factor)
                          --config key=value (repeatable), --if-not-exists
  describe [TOPIC...]     partitions, leaders, replicas and the topic's own configs (default: all topics)
  delete TOPIC...         --if-exists
  alter TOPIC...          --partitions N (raise the partition count)
                          --config key=value (set, repeatable), --delete-config key (back to the default)

Options:
  -t, --topic TOPIC                 a topic (repeatable; same as naming it after the action)
  -b, --bootstrap-server HOST:PORT  where to connect (default 127.0.0.1:9092)
  --timeout MS                      per-request timeout (default 30000)
  -h, --help                        this text`;

const ACTIONS = ["list", "create", "describe", "delete", "alter"];

const OPTIONS: OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  { names: ["--topic", "-t"], value: true, repeat: true },
  { names: ["--partitions"], value: true },
  { names: ["--replication-factor"], value: true },
  { names: ["--config"], value: true, repeat: true },
  { names: ["--delete-config"], value: true, repeat: true },
  { names: ["--if-not-exists"] },
  { names: ["--if-exists"] },
  { names: ["--exclude-internal"] },
];

const TOPIC_RESOURCE = 2;
const CONFIG_SOURCE_TOPIC = 1;
const OP_SET = 0;
const OP_DELETE = 1;

export function runTopics(argv: string[], io: Output = stdio): Promise<number> {
  return runCommand("topics", USAGE, argv, io, async () => {
    const p = parseArgs(argv, OPTIONS, ACTIONS);
    const topics = [...p.all("topic"), ...p.positional];
    const action = p.action!;
    if ((action === "create" || action === "delete" || action === "alter") && topics.length === 0)
      throw new UsageError(`${action} needs a topic name`);
    if (action === "list" && topics.length > 0) throw new UsageError("list takes no topic name");
    const { bootstrap, timeoutMs } = connectionOf(p);
    const cluster = new Cluster(bootstrap, timeoutMs, "brook-topics");
    try {
      switch (action) {
        case "list": {
          const all = await cluster.metadata(null);
          const names = all.filter((t) => !(p.has("exclude-internal") && t.internal)).map((t) => t.name);
          for (const n of names.sort()) io.out(n);
          return 0;
        }
        case "create":
          return await create(cluster, topics, {
            partitions: intOption(p, "partitions", -1, 1),
            replicationFactor: intOption(p, "replication-factor", -1, 1, 32767),
            configs: p.all("config").map((c) => keyValue(c, "--config")),
            ifNotExists: p.has("if-not-exists"),
            timeoutMs,
          }, io);
        case "describe":
          return await describe(cluster, topics, io);
        case "delete":
          return await remove(cluster, topics, p.has("if-exists"), timeoutMs, io);
        case "alter": {
          const partitions = intOption(p, "partitions", -1, 1);
          const set = p.all("config").map((c) => keyValue(c, "--config"));
          const unset = p.all("delete-config");
          if (partitions < 0 && set.length === 0 && unset.length === 0)
            throw new UsageError("alter needs --partitions, --config or --delete-config");
          return await alter(cluster, topics, partitions, set, unset, timeoutMs, io);
        }
      }
      return 0;
    } finally {
      await cluster.close();
    }
  });
}

async function create(
  cluster: Cluster,
  names: string[],
  o: { partitions: number; replicationFactor: number; configs: [string, string][]; ifNotExists: boolean; timeoutMs: number },
  io: Output,
): Promise<number> {
  const c = await cluster.any();
  const r = await c.request(CreateTopics, {
    topics: names.map((name) => ({
      name,
      numPartitions: o.partitions,
      replicationFactor: o.replicationFactor,
      assignments: [],
      configs: o.configs.map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: o.timeoutMs,
    validateOnly: false,
  });
  let failed = 0;
  for (const t of r.topics) {
    if (t.errorCode === ErrorCode.NONE) io.out(`Created topic ${t.name}.`);
    else if (t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && o.ifNotExists) continue;
    else {
      io.err(`brook topics: cannot create topic '${t.name}': ${describeError(t.errorCode, t.errorMessage)}`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

/** Java's Uuid.toString(): URL-safe base64 of the 16 bytes, no padding (what kafka-topics prints). */
function topicIdString(hex: string): string {
  return Buffer.from(hex, "hex").toString("base64url");
}

async function describe(cluster: Cluster, names: string[], io: Output): Promise<number> {
  const found = names.length === 0 ? await cluster.metadata(null) : await cluster.metadata(names);
  let failed = 0;
  const ok: TopicInfo[] = [];
  for (const t of found) {
    if (t.errorCode === ErrorCode.NONE) ok.push(t);
    else {
      io.err(`brook topics: ${t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? `topic '${t.name}' does not exist` : `topic '${t.name}': ${describeError(t.errorCode)}`}`);
      failed++;
    }
  }
  ok.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const configs = await topicConfigs(cluster, ok.map((t) => t.name));
  for (const t of ok) {
    const rf = t.partitions[0]?.replicas.length ?? 0;
    const own = (configs.get(t.name) ?? []).map(([k, v]) => `${k}=${v}`).join(",");
    io.out(`Topic: ${t.name}\tTopicId: ${topicIdString(t.id)}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${own}`);
    for (const part of t.partitions) {
      let line = `\tTopic: ${t.name}\tPartition: ${part.partition}\tLeader: ${part.leader < 0 ? "none" : part.leader}\tReplicas: ${part.replicas.join(",")}\tIsr: ${part.isr.join(",")}`;
      if (part.offline.length > 0) line += `\tOffline: ${part.offline.join(",")}`;
      io.out(line);
    }
  }
  return failed > 0 ? 1 : 0;
}

/** Each topic's explicitly set configs (source DYNAMIC_TOPIC_CONFIG), sorted by name. */
async function topicConfigs(cluster: Cluster, names: string[]): Promise<Map<string, [string, string][]>> {
  const out = new Map<string, [string, string][]>();
  if (names.length === 0) return out;
  const c = await cluster.any();
  const v = c.versionFor(DescribeConfigs);
  const r = await c.request(DescribeConfigs, {
    resources: names.map((resourceName) => ({ resourceType: TOPIC_RESOURCE, resourceName, configurationKeys: null })),
    includeSynonyms: false,
    includeDocumentation: false,
  });
  for (const res of r.results) {
    if (res.errorCode !== ErrorCode.NONE) throw new CliError(`cannot describe the configs of '${res.resourceName}': ${describeError(res.errorCode, res.errorMessage)}`);
    const own = res.configs
      .filter((e) => (v >= 1 ? e.configSource === CONFIG_SOURCE_TOPIC : !e.isDefault) && e.value !== null && !e.isSensitive)
      .map((e): [string, string] => [e.name, e.value!])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    out.set(res.resourceName, own);
  }
  return out;
}

async function remove(cluster: Cluster, names: string[], ifExists: boolean, timeoutMs: number, io: Output): Promise<number> {
  const c = await cluster.any();
  const v = c.versionFor(DeleteTopics);
  const r = await c.request(DeleteTopics, v >= 6 ? { topics: names.map((name) => ({ name })), timeoutMs } : { topicNames: names, timeoutMs });
  let failed = 0;
  for (const t of r.responses) {
    if (t.errorCode === ErrorCode.NONE) io.out(`Deleted topic ${t.name}.`);
    else if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && ifExists) continue;
    else {
      const why = t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? "it does not exist" : describeError(t.errorCode, t.errorMessage);
      io.err(`brook topics: cannot delete topic '${t.name}': ${why}`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}

async function alter(
  cluster: Cluster,
  names: string[],
  partitions: number,
  set: [string, string][],
  unset: string[],
  timeoutMs: number,
  io: Output,
): Promise<number> {
  const c = await cluster.any();
  let failed = 0;
  if (set.length > 0 || unset.length > 0) {
    const r = await c.request(IncrementalAlterConfigs, {
      resources: names.map((resourceName) => ({
        resourceType: TOPIC_RESOURCE,
        resourceName,
        configs: [
          ...set.map(([name, value]) => ({ name, configOperation: OP_SET, value })),
          ...unset.map((name) => ({ name, configOperation: OP_DELETE, value: null })),
        ],
      })),
      validateOnly: false,
    });
    for (const res of r.responses) {
      if (res.errorCode === ErrorCode.NONE) io.out(`Updated config for topic ${res.resourceName}.`);
      else {
        io.err(`brook topics: cannot alter the configs of '${res.resourceName}': ${describeError(res.errorCode, res.errorMessage)}`);
        failed++;
      }
    }
  }
  if (partitions > 0) {
    const r = await c.request(CreatePartitions, {
      topics: names.map((name) => ({ name, count: partitions, assignments: null })),
      timeoutMs,
      validateOnly: false,
    });
    for (const res of r.results) {
      if (res.errorCode === ErrorCode.NONE) io.out(`Topic ${res.name} now has ${partitions} partitions.`);
      else {
        io.err(`brook topics: cannot add partitions to '${res.name}': ${describeError(res.errorCode, res.errorMessage)}`);
        failed++;
      }
    }
  }
  return failed > 0 ? 1 : 0;
}
