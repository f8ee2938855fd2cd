// GET /metrics: the broker in Prometheus text format. Names are those the Prometheus JMX exporter's
// stock Kafka rules give Kafka's MBeans (lowercased, `PerSec` meters as `_total` counters), so dashboards
// built for Kafka read Brook too; consumer-group lag uses kafka_exporter's names, process metrics the
// Prometheus client conventions, and what Kafka has no metric for is named brook_*. Counters come from
// src/metrics.ts; every gauge (log sizes and offsets, lag, group and transaction states) is computed here,
// at scrape time, from the broker's own state.
import { ErrorCode } from "../../protocol/errors.ts";
import { heapStats } from "bun:jsc";
import { readFileSync, readdirSync } from "node:fs";
import type { BrokerContext } from "../handlers/handler.ts";
import { CONSUMER_GROUP_STATES } from "../group/consumer-group.ts";
import { GROUP_STATES } from "../group/group.ts";
import { LATENCY_BUCKETS_MS, TopicCounters, type RequestMetrics } from "../metrics.ts";
import { TXN_STATES } from "../txn/coordinator.ts";
import { Exposition } from "./prometheus.ts";

const ERROR_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
const errorName = (code: number) => ERROR_NAMES.get(code) ?? `ERROR_CODE_${code}`;

/** Kafka's BrokerState values (kafka.server:type=KafkaServer,name=BrokerState). */
const BROKER_STATE_RUNNING = 3;
const BROKER_STATE_SHUTTING_DOWN = 7;

const TOPIC_COUNTERS: [keyof TopicCounters, string, string][] = [
  ["bytesIn", "bytesin", "Bytes of record batches appended by Produce (as received)"],
  ["messagesIn", "messagesin", "Records appended by Produce (from the batch headers)"],
  ["bytesOut", "bytesout", "Bytes of record batches sent by Fetch"],
  ["messagesOut", "messagesout", "Records in the batches sent by Fetch (a Brook addition; Kafka has no MessagesOut meter)"],
  ["bytesRejected", "bytesrejected", "Bytes of batches refused as too large"],
  ["produceRequests", "totalproducerequests", "Produce partition requests"],
  ["failedProduceRequests", "failedproducerequests", "Produce partition requests answered with an error"],
  ["fetchRequests", "totalfetchrequests", "Fetch partition requests"],
  ["failedFetchRequests", "failedfetchrequests", "Fetch partition requests answered with an error"],
];

export interface ScrapeContext {
  broker: BrokerContext;
  /** the broker is shutting down */
  stopping: boolean;
  version: string;
}

export function renderMetrics({ broker, stopping, version }: ScrapeContext): string {
  const x = new Exposition();
  brokerInfo(x, broker, stopping, version);
  topicMetrics(x, broker);
  requestMetrics(x, broker);
  connectionMetrics(x, broker);
  logMetrics(x, broker);
  groupMetrics(x, broker);
  fetchSessionMetrics(x, broker);
  transactionMetrics(x, broker);
  maintenanceMetrics(x, broker);
  processMetrics(x);
  return x.text();
}

function brokerInfo(x: Exposition, broker: BrokerContext, stopping: boolean, version: string): void {
  let partitions = 0, topics = 0;
  for (const t of broker.topics.all()) {
    topics++;
    partitions += t.partitions.length;
  }
  x.single("brook_info", "gauge", "Brook's version, cluster id and node id", 1, { version, cluster_id: broker.clusterId, node_id: broker.nodeId });
  x.single("kafka_server_kafkaserver_brokerstate", "gauge", "Broker state (3 running, 7 shutting down)", stopping ? BROKER_STATE_SHUTTING_DOWN : BROKER_STATE_RUNNING);
  x.single("kafka_controller_kafkacontroller_activecontrollercount", "gauge", "Active controllers on this node (Brook is its own controller)", 1);
  x.single("kafka_controller_kafkacontroller_globaltopiccount", "gauge", "Topics in the cluster", topics);
  x.single("kafka_controller_kafkacontroller_globalpartitioncount", "gauge", "Partitions in the cluster", partitions);
  x.single("kafka_controller_kafkacontroller_offlinepartitionscount", "gauge", "Partitions without a leader (always 0 on one node)", 0);
  x.single("kafka_server_replicamanager_partitioncount", "gauge", "Partitions on this broker", partitions);
  x.single("kafka_server_replicamanager_leadercount", "gauge", "Partitions this broker leads", partitions);
  x.single("kafka_server_replicamanager_underreplicatedpartitions", "gauge", "Under-replicated partitions (always 0 on one node)", 0);
}

function topicMetrics(x: Exposition, broker: BrokerContext): void {
  const metrics = broker.metrics;
  // Counters of deleted topics go with them, as Kafka removes a deleted topic's meters.
  for (const [name] of [...metrics.topicEntries()]) if (!broker.topics.get(name)) metrics.forgetTopic(name);
  const zero = new TopicCounters();
  const topics = [...broker.topics.all()].map((t) => t.name).sort();
  for (const [field, meter, help] of TOPIC_COUNTERS) {
    const name = `kafka_server_brokertopicmetrics_${meter}_total`;
    x.family(name, "counter", `${help}; without a topic label: all topics`);
    x.sample(name, metrics.allTopics[field]);
    for (const topic of topics) {
      x.sample(name, (metrics.peekTopic(topic) ?? zero)[field], { topic });
    }
  }
}

function requestMetrics(x: Exposition, broker: BrokerContext): void {
  // Kafka counts a consumer's Fetch under both request="Fetch" and request="FetchConsumer" (Brook has no
  // follower fetches, so they are the same).
  const series: [string, RequestMetrics][] = [];
  for (const m of broker.metrics.requests) {
    if (!m) continue;
    const always = m.api.name === "Produce" || m.api.name === "Fetch";
    if (!always && m.latency.count === 0) continue;
    series.push([m.api.name, m]);
    if (m.api.name === "Fetch") series.push(["FetchConsumer", m]);
  }
  const requests = "kafka_network_requestmetrics_requests_total";
  x.family(requests, "counter", "Requests by API and version");
  for (const [request, m] of series) {
    let any = false;
    for (let v = 0; v < m.byVersion.length; v++) {
      if (m.byVersion[v]! === 0) continue;
      any = true;
      x.sample(requests, m.byVersion[v]!, { request, version: v });
    }
    if (!any) x.sample(requests, 0, { request, version: m.api.versions[1] });
  }
  const errors = "kafka_network_requestmetrics_errors_total";
  x.family(errors, "counter", "Error codes in responses, by API (every partition's code counts, NONE included, as in Kafka)");
  for (const [request, m] of series) {
    if (request === "FetchConsumer") continue;
    x.sample(errors, m.noErrors, { request, error: "NONE" });
    for (const [code, n] of [...m.errors].sort((a, b) => a[0] - b[0])) x.sample(errors, n, { request, error: errorName(code) });
  }
  const time = "kafka_network_requestmetrics_totaltimems";
  x.family(time, "histogram", "Time from a request's arrival to its response being ready, in milliseconds");
  for (const [request, m] of series) x.histogram(time, LATENCY_BUCKETS_MS, m.latency.counts, m.latency.sum, m.latency.count, { request });
}

function connectionMetrics(x: Exposition, broker: BrokerContext): void {
  const listeners = [...broker.metrics.listenerEntries()];
  const families: [string, "counter" | "gauge", string, (c: (typeof listeners)[number][1]) => number][] = [
    ["connection_count", "gauge", "Open client connections", (c) => c.connections],
    ["connection_creation_total", "counter", "Client connections accepted", (c) => c.created],
    ["connection_close_total", "counter", "Client connections closed", (c) => c.closed],
    ["successful_authentication_total", "counter", "Successful authentications", (c) => c.successfulAuthentication],
    ["failed_authentication_total", "counter", "Failed authentications", (c) => c.failedAuthentication],
  ];
  for (const [suffix, type, help, value] of families) {
    const name = `kafka_server_socket_server_metrics_${suffix}`;
    x.family(name, type, `${help}, by listener`);
    for (const [listener, c] of listeners) x.sample(name, value(c), { listener });
  }
}

function logMetrics(x: Exposition, broker: BrokerContext): void {
  const rows: { topic: string; partition: number; size: number; segments: number; end: number; start: number }[] = [];
  for (const t of broker.topics.all())
    for (const p of t.partitions) {
      const log = p.log;
      if (log.isClosed) continue;
      rows.push({ topic: t.name, partition: p.index, size: log.size, segments: log.sealedSegments().length + 1, end: log.logEndOffset, start: log.logStartOffset });
    }
  rows.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  const gauges: [string, string, (r: (typeof rows)[number]) => number][] = [
    ["kafka_log_log_size", "Bytes of record batches in the partition's log", (r) => r.size],
    ["kafka_log_log_numlogsegments", "Segments of the partition's log", (r) => r.segments],
    ["kafka_log_log_logendoffset", "Log end offset (the high watermark, on one node)", (r) => r.end],
    ["kafka_log_log_logstartoffset", "Log start offset", (r) => r.start],
  ];
  for (const [name, help, value] of gauges) {
    x.family(name, "gauge", help);
    for (const r of rows) x.sample(name, value(r), { topic: r.topic, partition: r.partition });
  }
}

function groupMetrics(x: Exposition, broker: BrokerContext): void {
  const listed = broker.groups.listGroups([]);
  const byState = new Map<string, number>(GROUP_STATES.map((s) => [s, 0]));
  const classicByState = new Map<string, number>(GROUP_STATES.map((s) => [s, 0]));
  const consumerByState = new Map<string, number>(CONSUMER_GROUP_STATES.map((s) => [s, 0]));
  const groups = listed.groups.map((g) => g.groupId).sort();
  for (const g of listed.groups) {
    byState.set(g.groupState, (byState.get(g.groupState) ?? 0) + 1);
    const perType = g.groupType === "consumer" ? consumerByState : classicByState;
    perType.set(g.groupState, (perType.get(g.groupState) ?? 0) + 1);
  }

  let offsets = 0;
  const lagRows: { group: string; topic: string; partition: number; offset: number; lag: number | null }[] = [];
  const members: [string, number][] = [];
  for (const id of groups) {
    members.push([id, broker.groups.group(id)?.members.size ?? broker.groups.consumerGroup(id)?.members.size ?? 0]);
    const committed = broker.groups.fetchOffsets(id, null);
    if (committed.errorCode !== 0) continue;
    for (const t of [...committed.topics].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      for (const p of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
        if (p.committedOffset < 0) continue;
        offsets++;
        const log = broker.topics.partition(t.name, p.partitionIndex)?.log;
        // kafka_exporter's lag: log end offset minus the committed offset.
        lagRows.push({ group: id, topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, lag: log && !log.isClosed ? Math.max(0, log.logEndOffset - p.committedOffset) : null });
      }
    }
  }

  x.single("kafka_coordinator_group_groupmetadatamanager_numgroups", "gauge", "Consumer groups", groups.length);
  for (const s of GROUP_STATES) {
    x.single(`kafka_coordinator_group_groupmetadatamanager_numgroups${s.toLowerCase()}`, "gauge", `Consumer groups in state ${s}`, byState.get(s) ?? 0);
  }
  x.single("kafka_coordinator_group_groupmetadatamanager_numoffsets", "gauge", "Committed offsets held", offsets);
  const classic = "kafka_server_group_coordinator_metrics_classic_group_count";
  x.family(classic, "gauge", "Classic-protocol groups by state (Kafka 4's name)");
  for (const s of GROUP_STATES) x.sample(classic, classicByState.get(s) ?? 0, { state: s });
  const consumer = "kafka_server_group_coordinator_metrics_consumer_group_count";
  x.family(consumer, "gauge", "Consumer-protocol (KIP-848) groups by state (Kafka 4's name)");
  for (const s of CONSUMER_GROUP_STATES) x.sample(consumer, consumerByState.get(s) ?? 0, { state: s.toLowerCase() });

  x.family("kafka_consumergroup_members", "gauge", "Members of a consumer group");
  for (const [group, n] of members) x.sample("kafka_consumergroup_members", n, { consumergroup: group });
  x.family("kafka_consumergroup_current_offset", "gauge", "Committed offset of a group on a partition");
  for (const r of lagRows) x.sample("kafka_consumergroup_current_offset", r.offset, { consumergroup: r.group, topic: r.topic, partition: r.partition });
  x.family("kafka_consumergroup_lag", "gauge", "Log end offset minus the group's committed offset");
  for (const r of lagRows) if (r.lag !== null) x.sample("kafka_consumergroup_lag", r.lag, { consumergroup: r.group, topic: r.topic, partition: r.partition });
  x.family("kafka_consumergroup_lag_sum", "gauge", "Lag of a group summed over a topic's partitions");
  const sums = new Map<string, { group: string; topic: string; lag: number }>();
  for (const r of lagRows) {
    if (r.lag === null) continue;
    const k = `${r.group}\u0000${r.topic}`;
    const s = sums.get(k) ?? { group: r.group, topic: r.topic, lag: 0 };
    s.lag += r.lag;
    sums.set(k, s);
  }
  for (const s of sums.values()) x.sample("kafka_consumergroup_lag_sum", s.lag, { consumergroup: s.group, topic: s.topic });
}

/** Kafka's FetchSessionCache MBeans, plus Brook's counts of fetches by kind. */
function fetchSessionMetrics(x: Exposition, broker: BrokerContext): void {
  const s = broker.fetchSessions.stats();
  x.single("kafka_server_fetchsessioncache_numincrementalfetchsessions", "gauge", "Incremental fetch sessions in the cache", s.sessions);
  x.single("kafka_server_fetchsessioncache_numincrementalfetchpartitionscached", "gauge", "Partitions held by the cached fetch sessions", s.partitions);
  x.single("kafka_server_fetchsessioncache_incrementalfetchsessionevictions_total", "counter", "Fetch sessions evicted to make room", s.evicted);
  const kinds = "brook_fetch_requests_by_session_total";
  x.family(kinds, "counter", "Fetch requests by kind: full (creating or without a session), incremental, sessionless, session errors");
  x.sample(kinds, s.fullRequests, { kind: "full" });
  x.sample(kinds, s.incrementalRequests, { kind: "incremental" });
  x.sample(kinds, s.sessionlessRequests, { kind: "sessionless" });
  x.sample(kinds, s.sessionErrors, { kind: "error" });
}

function transactionMetrics(x: Exposition, broker: BrokerContext): void {
  const byState = new Map<string, number>(TXN_STATES.map((s) => [s, 0]));
  const listed = broker.txn.list([], [], -1);
  for (const t of listed.transactionStates) byState.set(t.transactionState, (byState.get(t.transactionState) ?? 0) + 1);
  x.family("brook_transactions", "gauge", "Transactional ids by transaction state");
  for (const [state, n] of byState) x.sample("brook_transactions", n, { state });
}

function maintenanceMetrics(x: Exposition, broker: BrokerContext): void {
  const r = broker.maintenance.retention;
  x.single("brook_log_retention_checks_total", "counter", "Retention checks run (each looks at every partition)", r.checks);
  x.single("brook_log_retention_segments_deleted_total", "counter", "Segments deleted by retention", r.segmentsDeleted);
  x.single("brook_log_retention_bytes_deleted_total", "counter", "Bytes deleted by retention", r.bytesDeleted);
  const c = broker.maintenance.cleaner?.stats;
  x.single("brook_log_cleaner_runs_total", "counter", "Log cleaner passes (compaction)", c?.passes ?? 0);
  x.single("brook_log_cleaner_bytes_reclaimed_total", "counter", "Bytes reclaimed by compaction", c?.bytesReclaimed ?? 0);
  x.single("brook_log_cleaner_segments_rewritten_total", "counter", "Segments rewritten by compaction", c?.segmentsRewritten ?? 0);
  x.single("brook_log_cleaner_records_removed_total", "counter", "Records removed by compaction (superseded keys)", c?.recordsRemoved ?? 0);
  x.single("brook_log_cleaner_tombstones_removed_total", "counter", "Tombstones removed by compaction", c?.tombstonesRemoved ?? 0);
  const last = c?.lastPass;
  x.single(
    "kafka_log_logcleaner_cleaner_recopy_percent",
    "gauge",
    "Share of the bytes read that the last cleaner pass wrote back",
    last && last.bytesBefore > 0 ? Math.round((100 * last.bytesAfter) / last.bytesBefore) : 0,
  );
  x.single("kafka_log_logcleaner_max_clean_time_secs", "gauge", "Duration of the last cleaner pass in seconds", last ? last.durationMs / 1000 : 0);
}

function processMetrics(x: Exposition): void {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  x.single("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds", (cpu.user + cpu.system) / 1e6);
  x.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes", mem.rss);
  const vsize = linuxVirtualMemory();
  if (vsize !== null) x.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes", vsize);
  x.single("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds", Math.round(Date.now() / 1000 - process.uptime()));
  const fds = openFds();
  if (fds !== null) x.single("process_open_fds", "gauge", "Open file descriptors", fds);
  const heap = heapStats();
  x.single("nodejs_heap_size_used_bytes", "gauge", "JavaScript heap in use, in bytes", heap.heapSize);
  x.single("nodejs_heap_size_total_bytes", "gauge", "JavaScript heap capacity, in bytes", heap.heapCapacity);
  x.single("nodejs_external_memory_bytes", "gauge", "Memory outside the JavaScript heap, in bytes (counts the mapped log segments at their full size)", mem.external);
}

function linuxVirtualMemory(): number | null {
  try {
    // /proc/self/stat field 23 is vsize; the command name (field 2) may contain spaces, so split after ")".
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[20]);
  } catch {
    return null;
  }
}

function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length - 1; // the directory handle readdir itself opened
  } catch {
    return null;
  }
}
