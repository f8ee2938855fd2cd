// The cluster as the command-line tools see it: connections to its brokers by node id (opened on demand
// over WireClient, so they work against Apache Kafka as well as Brook), topic metadata with partition
// leaders, group coordinators, and the offset look-ups several tools share.
import { FindCoordinator } from "../../protocol/apis/10-find-coordinator.ts";
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { Metadata } from "../../protocol/apis/03-metadata.ts";
import { OffsetFetch } from "../../protocol/apis/09-offset-fetch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { WireClient, parseAddress } from "../client.ts";
import { CliError } from "./args.ts";
import { describeError, errorName } from "./common.ts";

export interface PartitionInfo {
  partition: number;
  errorCode: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offline: number[];
}

export interface TopicInfo {
  name: string;
  /** 32 hex digits (all zero when the broker's Metadata version has no topic ids) */
  id: string;
  errorCode: number;
  internal: boolean;
  partitions: PartitionInfo[];
}

/** Kafka's special ListOffsets timestamps. */
export const LATEST = -1;
export const EARLIEST = -2;

/** Errors after which fresh metadata (a new leader, a created topic) may help. */
export const RETRIABLE = new Set<number>([
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);

const formatAddress = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

export class Cluster {
  private readonly byAddress = new Map<string, Promise<WireClient>>();
  private readonly dedicated: WireClient[] = [];
  brokers = new Map<number, { host: string; port: number }>();
  topics = new Map<string, TopicInfo>();
  private bootstrapAddress: string | null = null;

  constructor(
    /** comma-separated host:port list */
    readonly bootstrap: string,
    readonly timeoutMs: number,
    readonly clientId: string,
  ) {}

  /** A connection to `address`, shared by everything that asks for the same address. */
  connect(address: string): Promise<WireClient> {
    let c = this.byAddress.get(address);
    if (!c) {
      const opening = this.open(address);
      opening.catch(() => this.forget(address, opening));
      this.byAddress.set(address, (c = opening));
    }
    const shared = c;
    return shared.then((client) => {
      if (client.isOpen) return client;
      this.forget(address, shared); // the broker closed it: open a new one
      return this.connect(address);
    });
  }

  private forget(address: string, c: Promise<WireClient>): void {
    if (this.byAddress.get(address) === c) this.byAddress.delete(address);
  }

  /**
   * A connection of its own, for requests that must not queue behind others on a shared one (group
   * membership: Kafka answers a connection's requests in order, and a long-poll Fetch would hold a
   * Heartbeat back). Closed with the cluster.
   */
  async connectDedicated(address: string, requestTimeoutMs: number): Promise<WireClient> {
    const c = await this.open(address, requestTimeoutMs);
    this.dedicated.push(c);
    return c;
  }

  private async open(address: string, requestTimeoutMs = this.timeoutMs): Promise<WireClient> {
    try {
      return await WireClient.connect(address, { clientId: this.clientId, requestTimeoutMs });
    } catch (e) {
      const err = e as Error & { code?: string };
      throw new CliError(`cannot connect to ${address}: ${err.code ?? err.message}`);
    }
  }

  /** Some broker: the bootstrap one that answered first. */
  async any(): Promise<WireClient> {
    if (this.bootstrapAddress) return this.connect(this.bootstrapAddress);
    const addresses = this.bootstrap.split(",").map((s) => s.trim()).filter((s) => s !== "");
    if (addresses.length === 0) throw new CliError("no bootstrap server given");
    let last: unknown;
    for (const a of addresses) {
      try {
        parseAddress(a);
      } catch {
        throw new CliError(`bad bootstrap server "${a}": expected HOST:PORT`);
      }
      try {
        const c = await this.connect(a);
        this.bootstrapAddress = a;
        return c;
      } catch (e) {
        last = e;
      }
    }
    throw last;
  }

  node(id: number): Promise<WireClient> {
    const b = this.brokers.get(id);
    if (!b) throw new CliError(`broker ${id} is not in the cluster metadata`);
    return this.connect(formatAddress(b.host, b.port));
  }

  /** Loads brokers and the given topics (null: all of them); returns those topics. */
  async metadata(topics: string[] | null, allowAutoTopicCreation = false): Promise<TopicInfo[]> {
    const c = await this.any();
    const md = await c.request(Metadata, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
    });
    this.brokers = new Map(md.brokers.map((b) => [b.nodeId, { host: b.host, port: b.port }]));
    const out: TopicInfo[] = [];
    for (const t of md.topics) {
      if (t.name === null) continue;
      const info: TopicInfo = {
        name: t.name,
        id: t.topicId,
        errorCode: t.errorCode,
        internal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            errorCode: p.errorCode,
            leader: p.leaderId,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offline: p.offlineReplicas,
          }))
          .sort((a, b) => a.partition - b.partition),
      };
      out.push(info);
      if (t.errorCode === ErrorCode.NONE) this.topics.set(t.name, info);
      else this.topics.delete(t.name);
    }
    return out;
  }

  /** Metadata for topics that must exist; one clear error otherwise. */
  async requireTopics(names: string[], allowAutoTopicCreation = false): Promise<Map<string, TopicInfo>> {
    const wanted = [...new Set(names)];
    // A freshly created topic can be LEADER_NOT_AVAILABLE for a moment on Kafka: ask a few times.
    for (let attempt = 0; ; attempt++) {
      const found = await this.metadata(wanted, allowAutoTopicCreation);
      const bad = found.find((t) => t.errorCode !== ErrorCode.NONE);
      const leaderless = found.find((t) => t.partitions.some((p) => p.leader < 0));
      if (!bad && !leaderless) return new Map(found.map((t) => [t.name, t]));
      const retriable = bad ? bad.errorCode === ErrorCode.LEADER_NOT_AVAILABLE : true;
      if (!retriable || attempt >= 20) {
        if (bad?.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new CliError(`topic '${bad.name}' does not exist`);
        if (bad) throw new CliError(`topic '${bad.name}': ${errorName(bad.errorCode)}`);
        throw new CliError(`topic '${leaderless!.name}' has partitions without a leader`);
      }
      await Bun.sleep(Math.min(100 * (attempt + 1), 1000)); // retry back-off
    }
  }

  /** The coordinator of a consumer group (FindCoordinator, key type 0). */
  async coordinator(group: string): Promise<{ nodeId: number; host: string; port: number; address: string }> {
    const c = await this.any();
    const v = c.versionFor(FindCoordinator);
    for (let attempt = 0; ; attempt++) {
      const r = await c.request(FindCoordinator, v >= 4 ? { keyType: 0, coordinatorKeys: [group] } : { key: group, keyType: 0 });
      const one = v >= 4 ? r.coordinators[0]! : { errorCode: r.errorCode, nodeId: r.nodeId, host: r.host, port: r.port, errorMessage: r.errorMessage };
      if (one.errorCode === ErrorCode.NONE) {
        this.brokers.set(one.nodeId, { host: one.host, port: one.port });
        return { nodeId: one.nodeId, host: one.host, port: one.port, address: formatAddress(one.host, one.port) };
      }
      if (!RETRIABLE.has(one.errorCode) || attempt >= 20)
        throw new CliError(`cannot find the coordinator of group '${group}': ${describeError(one.errorCode, one.errorMessage)}`);
      await Bun.sleep(Math.min(100 * (attempt + 1), 1000)); // retry back-off
    }
  }

  /**
   * ListOffsets from each partition's leader: `timestamp` is LATEST, EARLIEST or a time in ms. Returns
   * "topic\0partition" → offset (-1 when no record is that recent).
   */
  async listOffsets(partitions: { topic: string; partition: number }[], timestamp: number | ((tp: { topic: string; partition: number }) => number), isolationLevel = 0): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const byLeader = new Map<number, Map<string, { partitionIndex: number; timestamp: number }[]>>();
    for (const tp of partitions) {
      const leader = this.topics.get(tp.topic)?.partitions.find((p) => p.partition === tp.partition)?.leader;
      if (leader === undefined) throw new CliError(`partition ${tp.topic}-${tp.partition} does not exist`);
      if (leader < 0) throw new CliError(`partition ${tp.topic}-${tp.partition} has no leader`);
      let topics = byLeader.get(leader);
      if (!topics) byLeader.set(leader, (topics = new Map()));
      let list = topics.get(tp.topic);
      if (!list) topics.set(tp.topic, (list = []));
      list.push({ partitionIndex: tp.partition, timestamp: typeof timestamp === "function" ? timestamp(tp) : timestamp });
    }
    await Promise.all(
      [...byLeader].map(async ([leader, topics]) => {
        const c = await this.node(leader);
        const v = Math.max(1, c.versionFor(ListOffsets));
        const r = await c.request(
          ListOffsets,
          { replicaId: -1, isolationLevel, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) },
          v,
        );
        for (const t of r.topics)
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE) throw new CliError(`cannot list offsets of ${t.name}-${p.partitionIndex}: ${errorName(p.errorCode)}`);
            out.set(tpKey(t.name, p.partitionIndex), p.offset);
          }
      }),
    );
    return out;
  }

  async close(): Promise<void> {
    for (const c of this.dedicated) c.close();
    for (const c of this.byAddress.values()) {
      try {
        (await c).close();
      } catch {
        // a connection that never opened
      }
    }
  }
}

export const tpKey = (topic: string, partition: number) => `${topic}\0${partition}`;

/** Committed offsets of a group ("topic\0partition" → offset), from its coordinator; topics null = all. */
export async function fetchCommittedOffsets(
  coordinator: WireClient,
  groupId: string,
  topics: { name: string; partitionIndexes: number[] }[] | null,
): Promise<Map<string, number>> {
  const v = coordinator.versionFor(OffsetFetch);
  let result: { name: string; partitions: { partitionIndex: number; committedOffset: number; errorCode: number }[] }[];
  for (let attempt = 0; ; attempt++) {
    let errorCode: number;
    if (v >= 8) {
      const r = await coordinator.request(OffsetFetch, { groups: [{ groupId, topics }], requireStable: true });
      errorCode = r.groups[0]!.errorCode;
      result = r.groups[0]!.topics;
    } else {
      const r = await coordinator.request(OffsetFetch, { groupId, topics, requireStable: true }, Math.max(v, topics === null ? 2 : 1));
      errorCode = r.errorCode;
      result = r.topics;
    }
    if (errorCode === ErrorCode.NONE) break;
    // UNSTABLE_OFFSET_COMMIT: a transaction holds offsets of this group; they settle shortly.
    if ((errorCode !== ErrorCode.UNSTABLE_OFFSET_COMMIT && !RETRIABLE.has(errorCode)) || attempt >= 20)
      throw new CliError(`cannot fetch the committed offsets of group '${groupId}': ${errorName(errorCode)}`);
    await Bun.sleep(Math.min(100 * (attempt + 1), 1000)); // retry back-off
  }
  const out = new Map<string, number>();
  for (const t of result!)
    for (const p of t.partitions) if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0) out.set(tpKey(t.name, p.partitionIndex), p.committedOffset);
  return out;
}
