// The HTTP listener's /metrics, /healthz and /readyz, scraped and parsed as Prometheus would, while
// stock clients make real traffic: kcat (librdkafka) producing and consuming, kafkajs consumer groups,
// transactions and admin calls, plus exact byte counts from batches the test builds itself.
// The expected numbers come from the clients' side (what was sent, what kafkajs's admin reports as
// committed and end offsets, the segment files on disk), not from Brook's own counters.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { Fetch } from "../protocol/apis/01-fetch.ts";
import { Produce } from "../protocol/apis/00-produce.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { encodeBatch } from "../protocol/records/records.ts";
import { buildConfig, ConfigError, startBroker, type BrokerHandle } from "../src/index.ts";
import { WireClient } from "../src/client.ts";
import { HttpRoutes } from "../src/http/server.ts";
import { registerOpsRoutes } from "../src/http/ops-routes.ts";
import { LATENCY_BUCKETS_MS } from "../src/metrics.ts";
import { spawnBroker } from "./helpers/broker.ts";
import { kcat, kcatConsume, requireTools } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { parsePrometheus, scrape } from "./helpers/prometheus.ts";
import { run } from "./helpers/run.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(90_000);

let dir: TempDir;
let b: BrokerHandle;
let base: string;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-metrics-");
  b = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: {
      "brook.http.listener": "127.0.0.1:0",
      "num.partitions": 2,
      "group.initial.rebalance.delay.ms": 0,
      "log.retention.check.interval.ms": 3_600_000,
      "log.cleaner.backoff.ms": 3_600_000,
    },
  });
  base = b.http!.url;
  kafka = new Kafka({ clientId: "metrics-test", brokers: [b.address], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await b?.close();
  await dir?.remove();
});

describe("configuration", () => {
  test("brook.http.listener is off by default and validated like every property", () => {
    expect(buildConfig([]).httpListener).toBeNull();
    expect(buildConfig([["brook.http.listener", "127.0.0.1:9644"]]).httpListener).toEqual({ host: "127.0.0.1", port: 9644 });
    expect(buildConfig([["brook.http.listener", "[::1]:0"]]).httpListener).toEqual({ host: "::1", port: 0 });
    expect(buildConfig([["brook.http.listener", ":9644"]]).httpListener).toEqual({ host: "", port: 9644 });
    for (const bad of ["localhost", "127.0.0.1:99999", "host:port", "http://127.0.0.1:9644"])
      expect(() => buildConfig([["brook.http.listener", bad]])).toThrow(ConfigError);
  });

  test("a broker without it has no HTTP listener", async () => {
    await using d = await tempDir("brook-metrics-off-");
    await using off = await startBroker({ dataDir: d.path, logLevel: "warn" });
    expect(off.http).toBeNull();
  });

  test("the CLI refuses a bad value with exit code 2 before listening", async () => {
    await using d = await tempDir("brook-metrics-cli-");
    const r = await run([process.execPath, join(import.meta.dir, "..", "src", "cli.ts"), "--override", `log.dirs=${d.path}`, "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override", "brook.http.listener=nowhere"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("brook.http.listener");
    expect(r.stdout).not.toContain("listening");
  });

  test("a port already in use is a startup error naming the property", async () => {
    await using d = await tempDir("brook-metrics-busy-");
    const port = b.http!.port;
    await expect(startBroker({ dataDir: d.path, logLevel: "silent", overrides: { "brook.http.listener": `127.0.0.1:${port}` } })).rejects.toThrow(/brook\.http\.listener/);
  });
});

describe("health and routing", () => {
  test("/healthz and /readyz answer 200 once the broker is up", async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("ok\n");
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe("ready\n");
  });

  test("/debug/heap counts live objects by type; an object the broker holds shows up", async () => {
    const res = await fetch(`${base}/debug/heap?gc=1`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as { anonymousMemory: number; heapSize: number; heapCapacity: number; objectCount: number; objectTypeCounts: Record<string, number> };
    expect(h.heapSize).toBeGreaterThan(0);
    expect(h.heapCapacity).toBeGreaterThanOrEqual(h.heapSize);
    expect(h.anonymousMemory).toBeGreaterThan(0);
    expect(h.objectTypeCounts.Object).toBeGreaterThan(0);
    expect(Object.keys(h.objectTypeCounts).length).toBeLessThanOrEqual(50);
    const sum = Object.values(h.objectTypeCounts).reduce((a, n) => a + n, 0);
    expect(sum).toBeLessThanOrEqual(h.objectCount);
  });

  test("/readyz answers 503 while starting and while shutting down", async () => {
    const routes = new HttpRoutes();
    const state = { ready: false, stopping: false, listener: null, listeners: [] };
    const ops = registerOpsRoutes(Object.create(b.broker, { http: { value: routes } }), state);
    try {
      const readyz = async () => {
        const m = routes.match("GET", "/readyz");
        if (!m || !("handler" in m)) throw new Error("no /readyz route");
        const res = await m.handler(new Request("http://x/readyz"), { params: m.params, url: new URL("http://x/readyz") });
        return [res.status, await res.text()];
      };
      expect(await readyz()).toEqual([503, "starting\n"]);
      state.ready = true;
      expect(await readyz()).toEqual([200, "ready\n"]);
      Object.assign(state, { ready: false, stopping: true });
      expect(await readyz()).toEqual([503, "shutting down\n"]);
    } finally {
      ops.stop();
    }
  });

  test("unknown paths get 404, known paths with another method 405; other modules can add routes", async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const res = await fetch(`${base}/metrics`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    const off = b.broker.http.add("GET", "/extra/:id", (_req, { params }) => Response.json({ id: params.id }));
    expect(await (await fetch(`${base}/extra/a%2Fb`)).json()).toEqual({ id: "a/b" });
    off();
    expect((await fetch(`${base}/extra/x`)).status).toBe(404);
  });
});

describe("metrics with real traffic", () => {
  test("the scrape is valid Prometheus text with Kafka's names", async () => {
    const m = await scrape(base);
    for (const [name, type] of [
      ["kafka_server_brokertopicmetrics_bytesin_total", "counter"],
      ["kafka_server_brokertopicmetrics_messagesin_total", "counter"],
      ["kafka_server_brokertopicmetrics_bytesout_total", "counter"],
      ["kafka_network_requestmetrics_requests_total", "counter"],
      ["kafka_network_requestmetrics_errors_total", "counter"],
      ["kafka_network_requestmetrics_totaltimems", "histogram"],
      ["kafka_server_socket_server_metrics_connection_count", "gauge"],
      ["kafka_server_socket_server_metrics_failed_authentication_total", "counter"],
      ["kafka_log_log_size", "gauge"],
      ["kafka_log_log_numlogsegments", "gauge"],
      ["kafka_log_log_logendoffset", "gauge"],
      ["kafka_log_log_logstartoffset", "gauge"],
      ["kafka_consumergroup_lag", "gauge"],
      ["kafka_coordinator_group_groupmetadatamanager_numgroupsstable", "gauge"],
      ["brook_transactions", "gauge"],
      ["brook_log_cleaner_bytes_reclaimed_total", "counter"],
      ["process_cpu_seconds_total", "counter"],
      ["process_resident_memory_bytes", "gauge"],
    ])
      expect(m.families.get(name)?.type).toBe(type);
    expect(m.value("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(1 << 20);
    expect(m.value("kafka_server_kafkaserver_brokerstate")).toBe(3);
    expect(m.value("kafka_server_socket_server_metrics_failed_authentication_total", { listener: "PLAINTEXT" })).toBe(0);
  });

  test("bytes and messages in count exactly what was produced; out what kcat consumed", async () => {
    const topic = topicName("metrics-io");
    // A batch built here: its size is what the broker must count as bytes in.
    const batch = encodeBatch({ records: [1, 2, 3, 4, 5].map((i) => ({ key: `wire-${i}`, value: `value ${i}`, headers: [{ key: "h", value: "x" }] })) });
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const before = await scrape(base);
    const wire = await WireClient.connect(b.address);
    const produced = await wire.request(Produce, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] }).finally(() => wire.close());
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    let m = await scrape(base);
    expect(m.value("kafka_server_brokertopicmetrics_bytesin_total", { topic })).toBe(batch.length);
    expect(m.value("kafka_server_brokertopicmetrics_messagesin_total", { topic })).toBe(5);
    expect(m.value("kafka_server_brokertopicmetrics_messagesin_total") - before.value("kafka_server_brokertopicmetrics_messagesin_total")).toBe(5);

    // 40 more through librdkafka, keyed over both partitions.
    const lines = Array.from({ length: 40 }, (_, i) => `k${i}:v${i}-${"x".repeat(i)}`).join("\n") + "\n";
    await kcat(["-b", b.address, "-P", "-t", topic, "-K:", "-z", "none"], { stdin: lines });
    m = await scrape(base);
    expect(m.value("kafka_server_brokertopicmetrics_messagesin_total", { topic })).toBe(45);
    // Nothing is recompressed or compacted here, so what came in is exactly what the logs hold.
    const logSize = m.sum("kafka_log_log_size", { topic });
    expect(m.value("kafka_server_brokertopicmetrics_bytesin_total", { topic })).toBe(logSize);
    const offsets = await admin.fetchTopicOffsets(topic);
    for (const o of offsets) {
      expect(m.value("kafka_log_log_logendoffset", { topic, partition: o.partition })).toBe(Number(o.high));
      expect(m.value("kafka_log_log_logstartoffset", { topic, partition: o.partition })).toBe(Number(o.low));
    }
    expect(offsets.reduce((a, o) => a + Number(o.high), 0)).toBe(45);

    // kcat reads everything once: every batch leaves exactly once.
    const consumed = await kcatConsume(b.address, topic);
    expect(consumed.length).toBe(45);
    m = await scrape(base);
    expect(m.value("kafka_server_brokertopicmetrics_messagesout_total", { topic })).toBe(45);
    expect(m.value("kafka_server_brokertopicmetrics_bytesout_total", { topic })).toBe(logSize);
    expect(m.value("kafka_server_brokertopicmetrics_totalproducerequests_total", { topic })).toBeGreaterThanOrEqual(2);
    expect(m.value("kafka_server_brokertopicmetrics_failedproducerequests_total", { topic })).toBe(0);
  });

  test("requests, latency histograms and error codes per API", async () => {
    const topic = topicName("metrics-errors");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await kcat(["-b", b.address, "-P", "-t", topic], { stdin: "a\nb\nc\n" });
    const before = await scrape(base);
    const wire = await WireClient.connect(b.address);
    // Out of range: the log ends at offset 3.
    const f = await wire.request(Fetch, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 1000, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: "",
    }, 12); // by topic name (v13+ names topics by id)
    expect(f.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const p = await wire.request(Produce, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: "no-such-topic-here", partitionData: [{ index: 0, records: encodeBatch({ records: [{ value: "x" }] }) }] }] });
    wire.close();
    expect(p.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const m = await scrape(base);
    const delta = (name: string, labels: Record<string, string>) => m.valueOr0(name, labels) - before.valueOr0(name, labels);
    expect(delta("kafka_network_requestmetrics_errors_total", { request: "Fetch", error: "OFFSET_OUT_OF_RANGE" })).toBe(1);
    expect(delta("kafka_network_requestmetrics_errors_total", { request: "Produce", error: "UNKNOWN_TOPIC_OR_PARTITION" })).toBe(1);
    // Every request counted once per API, and once in its latency histogram.
    for (const request of ["Produce", "Fetch", "FetchConsumer", "Metadata", "ApiVersions"]) {
      const count = m.sum("kafka_network_requestmetrics_requests_total", { request });
      expect(count).toBeGreaterThan(0);
      expect(m.value("kafka_network_requestmetrics_totaltimems_count", { request })).toBe(count);
      const buckets = m.samples("kafka_network_requestmetrics_totaltimems_bucket", { request }).map((s) => s.value);
      expect(buckets.length).toBe(LATENCY_BUCKETS_MS.length + 1);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!).toBeGreaterThanOrEqual(buckets[i - 1]!);
      expect(buckets[buckets.length - 1]).toBe(count);
      expect(m.value("kafka_network_requestmetrics_totaltimems_sum", { request })).toBeGreaterThan(0);
    }
    expect(m.value("kafka_network_requestmetrics_requests_total", { request: "Fetch", version: 12 }) - before.valueOr0("kafka_network_requestmetrics_requests_total", { request: "Fetch", version: 12 })).toBe(1);
  });

  test("connections: current, created and closed per listener", async () => {
    const before = await scrape(base);
    await kcat(["-b", b.address, "-L"]);
    const wire = await WireClient.connect(b.address);
    const m = await scrape(base);
    const created = m.value("kafka_server_socket_server_metrics_connection_creation_total", { listener: "PLAINTEXT" });
    expect(created - before.value("kafka_server_socket_server_metrics_connection_creation_total", { listener: "PLAINTEXT" })).toBeGreaterThanOrEqual(2);
    wire.close();
    // The close reaches the broker asynchronously: wait for the gauge to settle back.
    let after = m;
    await until("the closed connections to be counted", async () => {
      after = await scrape(base);
      return after.value("kafka_server_socket_server_metrics_connection_count", { listener: "PLAINTEXT" }) === before.value("kafka_server_socket_server_metrics_connection_count", { listener: "PLAINTEXT" });
    });
    const c = (n: string) => after.value(`kafka_server_socket_server_metrics_${n}`, { listener: "PLAINTEXT" });
    expect(c("connection_creation_total") - c("connection_close_total")).toBe(c("connection_count"));
  });

  test("segments and log start offset per partition follow the log on disk", async () => {
    const topic = topicName("metrics-segments");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "1024" }] }] });
    await kcat(["-b", b.address, "-P", "-t", topic, "-X", "linger.ms=0", "-X", "batch.num.messages=1"], { stdin: Array.from({ length: 30 }, (_, i) => `record ${i} ${"y".repeat(100)}`).join("\n") + "\n" });
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs looks the leader up in its metadata cache
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "7" }] });
    const m = await scrape(base);
    const files = readdirSync(join(dir.path, `${topic}-0`)).filter((f) => /^\d{20}\.log$/.test(f));
    expect(files.length).toBeGreaterThan(1);
    expect(m.value("kafka_log_log_numlogsegments", { topic, partition: 0 })).toBe(files.length);
    expect(m.value("kafka_log_log_logstartoffset", { topic, partition: 0 })).toBe(7);
    expect(m.value("kafka_log_log_logendoffset", { topic, partition: 0 })).toBe(30);
  });

  test("consumer groups: state, members and lag = log end offset - committed offset", async () => {
    const topic = topicName("metrics-lag");
    const groupId = topicName("metrics-group");
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    const consumer = kafka.consumer({ groupId, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let received = 0;
    await consumer.run({ autoCommitThreshold: 1, eachMessage: async () => void received++ });
    const committed = async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.reduce((a, p) => a + Math.max(0, Number(p.offset)), 0);
    await until("the group to commit all 30", async () => received === 30 && (await committed()) === 30, 30_000, () => ({ received }));
    let m = await scrape(base);
    expect(m.value("kafka_consumergroup_members", { consumergroup: groupId })).toBe(1);
    expect(m.value("kafka_coordinator_group_groupmetadatamanager_numgroupsstable")).toBeGreaterThanOrEqual(1);
    expect(m.value("kafka_server_group_coordinator_metrics_classic_group_count", { state: "Stable" })).toBeGreaterThanOrEqual(1);
    expect(m.sum("kafka_consumergroup_lag", { consumergroup: groupId })).toBe(0);
    await consumer.disconnect();

    await producer.send({ topic, messages: Array.from({ length: 12 }, (_, i) => ({ key: `late${i}`, value: `late ${i}` })) });
    await producer.disconnect();
    m = await scrape(base);
    const ends = await admin.fetchTopicOffsets(topic);
    const commits = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions;
    for (const e of ends) {
      const c = Number(commits.find((p) => p.partition === e.partition)!.offset);
      expect(m.value("kafka_consumergroup_current_offset", { consumergroup: groupId, topic, partition: e.partition })).toBe(c);
      expect(m.value("kafka_consumergroup_lag", { consumergroup: groupId, topic, partition: e.partition })).toBe(Number(e.high) - c);
    }
    expect(m.value("kafka_consumergroup_lag_sum", { consumergroup: groupId, topic })).toBe(12);
    expect(m.value("kafka_consumergroup_members", { consumergroup: groupId })).toBe(0);
    expect(m.value("kafka_server_group_coordinator_metrics_classic_group_count", { state: "Empty" })).toBeGreaterThanOrEqual(1);
  });

  test("transactions by state", async () => {
    const topic = topicName("metrics-txn");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const committer = kafka.producer({ transactionalId: topicName("tx-commit"), idempotent: true, maxInFlightRequests: 1 });
    const aborter = kafka.producer({ transactionalId: topicName("tx-abort"), idempotent: true, maxInFlightRequests: 1 });
    await committer.connect();
    await aborter.connect();
    const before = await scrape(base);
    const state = (m: Awaited<ReturnType<typeof scrape>>, s: string) => m.value("brook_transactions", { state: s }) - before.value("brook_transactions", { state: s });
    const t1 = await committer.transaction();
    await t1.send({ topic, messages: [{ value: "committed" }] });
    const t2 = await aborter.transaction();
    await t2.send({ topic, messages: [{ value: "aborted" }] });
    let m = await scrape(base);
    expect(state(m, "Ongoing")).toBe(2);
    await t1.commit();
    await t2.abort();
    m = await scrape(base);
    expect(state(m, "Ongoing")).toBe(0);
    expect(state(m, "CompleteCommit")).toBe(1);
    expect(state(m, "CompleteAbort")).toBe(1);
    await committer.disconnect();
    await aborter.disconnect();
  });

  test("retention and compaction runs and the bytes they reclaim", async () => {
    const retained = topicName("metrics-retention");
    const compacted = topicName("metrics-compact");
    await admin.createTopics({
      topics: [
        { topic: retained, numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "1024" }, { name: "retention.bytes", value: "2048" }] },
        { topic: compacted, numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "1024" }, { name: "cleanup.policy", value: "compact" }, { name: "min.cleanable.dirty.ratio", value: "0.01" }] },
      ],
    });
    const one = ["-X", "linger.ms=0", "-X", "batch.num.messages=1"];
    await kcat(["-b", b.address, "-P", "-t", retained, ...one], { stdin: Array.from({ length: 60 }, (_, i) => `r${i} ${"z".repeat(80)}`).join("\n") + "\n" });
    await kcat(["-b", b.address, "-P", "-t", compacted, "-K:", ...one], { stdin: Array.from({ length: 60 }, (_, i) => `key${i % 3}:c${i} ${"w".repeat(80)}`).join("\n") + "\n" });

    const before = await scrape(base);
    b.broker.maintenance.runRetention();
    while (await b.broker.maintenance.cleaner!.runOnce()) {}
    const m = await scrape(base);
    const delta = (name: string) => m.value(name) - before.value(name);
    const shrink = (topic: string) => before.value("kafka_log_log_size", { topic, partition: 0 }) - m.value("kafka_log_log_size", { topic, partition: 0 });
    expect(delta("brook_log_retention_checks_total")).toBe(1);
    expect(delta("brook_log_retention_segments_deleted_total")).toBeGreaterThan(0);
    expect(delta("brook_log_retention_bytes_deleted_total")).toBe(shrink(retained));
    expect(shrink(retained)).toBeGreaterThan(0);
    expect(delta("brook_log_cleaner_runs_total")).toBeGreaterThanOrEqual(1);
    expect(delta("brook_log_cleaner_bytes_reclaimed_total")).toBe(shrink(compacted));
    expect(shrink(compacted)).toBeGreaterThan(0);
    expect(m.value("kafka_log_logcleaner_cleaner_recopy_percent")).toBeLessThan(100);
  });

  test("a deleted topic's series go with it", async () => {
    const topic = topicName("metrics-deleted");
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await kcat(["-b", b.address, "-P", "-t", topic], { stdin: "x\n" });
    expect((await scrape(base)).value("kafka_server_brokertopicmetrics_messagesin_total", { topic })).toBe(1);
    await admin.deleteTopics({ topics: [topic] });
    const m = await scrape(base);
    expect(m.samples("kafka_server_brokertopicmetrics_messagesin_total", { topic })).toEqual([]);
    expect(m.samples("kafka_log_log_size", { topic })).toEqual([]);
  });
});

test("the parser used here rejects what Prometheus rejects", () => {
  expect(() => parsePrometheus("x 1\n")).toThrow(/without # TYPE/);
  expect(() => parsePrometheus("# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na 2\n")).toThrow(/not contiguous/);
  expect(() => parsePrometheus('# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n')).toThrow(/duplicate/);
  expect(parsePrometheus('# TYPE a gauge\na{x="q\\"\\\\"} 1\n').value("a", { x: 'q"\\' })).toBe(1);
});

test("the CLI prints the HTTP address and serves metrics from the process", async () => {
  await using d = await tempDir("brook-metrics-proc-");
  await using child = await spawnBroker({ dataDir: d.path, overrides: { "brook.http.listener": "127.0.0.1:0" } });
  const line = child.output().stdout.split("\n").find((l) => l.startsWith("brook http listening on "));
  expect(line).toMatch(/^brook http listening on http:\/\/127\.0\.0\.1:\d+$/);
  const url = line!.slice("brook http listening on ".length);
  await kcat(["-b", child.address, "-P", "-t", "proc"], { stdin: "one\ntwo\n" });
  const m = await scrape(url);
  expect(m.value("kafka_server_brokertopicmetrics_messagesin_total", { topic: "proc" })).toBe(2);
  expect(m.value("kafka_log_log_logendoffset", { topic: "proc", partition: 0 })).toBe(2);
});
