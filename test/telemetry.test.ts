// Client telemetry (KIP-714):
// - librdkafka 2.15 (@confluentinc/kafka-javascript, test/clients/node/telemetry-client.cjs) pushes its
//   metrics once a CLIENT_METRICS subscription (IncrementalAlterConfigs, resource type 16) matches it:
//   Brook decodes them and keeps them per client instance; a client the subscription does not match is
//   asked for no metrics and pushes none; closing the client sends a terminating push;
// - request by request: the errors Kafka's ClientMetricsManager answers (a second
//   GetTelemetrySubscriptions within the interval, a stale subscription id, an unknown compression, too
//   many bytes, a push after the terminating one), and the subscription configs through
//   DescribeConfigs/IncrementalAlterConfigs with Kafka's validation; subscriptions survive a restart.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { DescribeConfigs, GetTelemetrySubscriptions, IncrementalAlterConfigs, PushTelemetry } from "../protocol/apis/index.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { compress } from "../protocol/records/compression.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { KafkaClient } from "../src/client.ts";
import type { TelemetryClient } from "../src/telemetry/client-telemetry.ts";
import { REPO_ROOT } from "./helpers/broker.ts";
import { readLines } from "./helpers/run.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";

setDefaultTimeout(90_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dir?: string): Promise<{ broker: BrokerHandle; client: KafkaClient; dir: string }> {
  let path = dir;
  if (!path) {
    const d = await tempDir("brook-telemetry-");
    cleanups.push(() => d.remove());
    path = d.path;
  }
  const broker = await startBroker({ dataDir: path, logLevel: "error" });
  cleanups.push(() => broker.close());
  const client = await KafkaClient.connect(broker.address, "telemetry-admin");
  cleanups.push(() => client.close());
  return { broker, client, dir: path };
}

async function subscribe(client: KafkaClient, name: string, configs: Record<string, string>) {
  const r = await client.request(IncrementalAlterConfigs, 1, {
    resources: [{ resourceType: 16, resourceName: name, configs: Object.entries(configs).map(([n, value]) => ({ name: n, configOperation: 0, value })) }],
    validateOnly: false,
  });
  return [r.responses[0]!.errorCode, r.responses[0]!.errorMessage];
}

/** Resolves with the client once `count` pushes from client id `clientId` were accepted. */
function pushesFrom(broker: BrokerHandle, clientId: string, count: number): Promise<TelemetryClient> {
  return new Promise((resolve) => {
    const stop = broker.broker.telemetry.onPush((c) => {
      if (c.clientId === clientId && c.pushes >= count) {
        stop();
        resolve(c);
      }
    });
  });
}

const SCRIPT = join(REPO_ROOT, "test", "clients", "node", "telemetry-client.cjs");

function spawnClient(opts: object) {
  const proc = Bun.spawn(["node", SCRIPT, JSON.stringify(opts)], { cwd: REPO_ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  cleanups.push(() => proc.kill());
  const events: any[] = [];
  const waiters: { pred: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  (async () => {
    for await (const line of readLines(proc.stdout)) {
      const e = JSON.parse(line);
      events.push(e);
      for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e));
    }
  })();
  return {
    events,
    next: (pred: (e: any) => boolean) =>
      new Promise<any>((resolve) => {
        const seen = events.find(pred);
        if (seen) resolve(seen);
        else waiters.push({ pred, resolve });
      }),
    close: () => {
      proc.stdin.write("close\n");
      proc.stdin.flush();
    },
    exited: proc.exited,
  };
}

describe("librdkafka 2.15", () => {
  test("pushes its metrics when a subscription matches it; Brook decodes and keeps them", async () => {
    const { broker, client } = await start();
    const topic = topicName("telemetry");
    broker.broker.topics.create(topic, 1);
    expect(await subscribe(client, "producers", { metrics: "org.apache.kafka.producer.", "interval.ms": "500", match: "client_id=telemetry-.*" })).toEqual([E.NONE, null]);

    const pushed = pushesFrom(broker, "telemetry-producer", 2);
    const c = spawnClient({ bootstrap: broker.address, topic, clientId: "telemetry-producer" });
    const other = spawnClient({ bootstrap: broker.address, topic, clientId: "unsubscribed" });
    const got = await pushed;
    expect(got.softwareName).not.toBe("");
    expect(got.requestedMetrics).toEqual(["org.apache.kafka.producer."]);
    expect(got.pushIntervalMs).toBe(500);
    expect(got.metrics.length).toBeGreaterThan(0);
    for (const m of got.metrics) expect(m.name.startsWith("org.apache.kafka.producer.")).toBe(true);
    expect(got.metrics.some((m) => m.points.length > 0 && Number.isFinite(m.points[0]!.value))).toBe(true);

    // The client the subscription does not match was asked for nothing and pushed nothing.
    await other.next((e) => e.event === "ready");
    const unsubscribed = broker.broker.telemetry.clients().filter((x) => x.clientId === "unsubscribed");
    expect(unsubscribed.length).toBeGreaterThan(0);
    for (const x of unsubscribed) expect([x.requestedMetrics, x.pushes]).toEqual([[], 0]);

    // Closing sends a last, terminating push.
    await c.next((e) => e.event === "ready");
    c.close();
    await c.next((e) => e.event === "closed");
    const mine = broker.broker.telemetry.clients().find((x) => x.clientInstanceId === got.clientInstanceId)!;
    expect(mine.terminating).toBe(true);
    other.close();
    await other.exited;
  });
});

describe("request by request", () => {
  test("GetTelemetrySubscriptions and PushTelemetry errors, as Kafka's ClientMetricsManager answers", async () => {
    const { broker, client } = await start();
    expect(await subscribe(client, "all", { metrics: "*", "interval.ms": "60000" })).toEqual([E.NONE, null]);
    const zero = "0".repeat(32);
    const first = await client.request(GetTelemetrySubscriptions, 0, { clientInstanceId: zero });
    expect(first.errorCode).toBe(E.NONE);
    expect(first.clientInstanceId).not.toBe(zero);
    expect(first.requestedMetrics).toEqual([""]); // "*": every metric
    expect([first.pushIntervalMs, first.telemetryMaxBytes, first.deltaTemporality, first.acceptedCompressionTypes]).toEqual([60000, 1048576, true, [4, 3, 1, 2]]);
    const id = first.clientInstanceId;
    // Asked again within the push interval.
    expect((await client.request(GetTelemetrySubscriptions, 0, { clientInstanceId: id })).errorCode).toBe(E.THROTTLING_QUOTA_EXCEEDED);

    const push = (o: Partial<{ subscriptionId: number; terminating: boolean; compressionType: number; metrics: Uint8Array; clientInstanceId: string }>) =>
      client.request(PushTelemetry, 0, {
        clientInstanceId: o.clientInstanceId ?? id,
        subscriptionId: o.subscriptionId ?? first.subscriptionId,
        terminating: o.terminating ?? false,
        compressionType: o.compressionType ?? 0,
        metrics: o.metrics ?? new Uint8Array(0),
      });
    expect((await push({ clientInstanceId: zero })).errorCode).toBe(E.INVALID_REQUEST);
    expect((await push({ subscriptionId: first.subscriptionId + 1 })).errorCode).toBe(E.UNKNOWN_SUBSCRIPTION_ID);
    // After UNKNOWN_SUBSCRIPTION_ID the client may ask again at once.
    const again = await client.request(GetTelemetrySubscriptions, 0, { clientInstanceId: id });
    expect([again.errorCode, again.subscriptionId]).toEqual([E.NONE, first.subscriptionId]);
    expect((await push({ compressionType: 9 })).errorCode).toBe(E.UNSUPPORTED_COMPRESSION_TYPE);
    await client.request(GetTelemetrySubscriptions, 0, { clientInstanceId: id });
    expect((await push({ metrics: new Uint8Array(1048577) })).errorCode).toBe(E.TELEMETRY_TOO_LARGE);
    await client.request(GetTelemetrySubscriptions, 0, { clientInstanceId: id });

    // A gzip-compressed MetricsData with one gauge, written by hand from the OpenTelemetry proto:
    // MetricsData{1: ResourceMetrics{2: ScopeMetrics{2: Metric{1: "org.apache.kafka.test", 5: Gauge{1: NumberDataPoint{4: 2.5}}}}}}
    const name = new TextEncoder().encode("org.apache.kafka.test");
    const point = [0x21, ...new Uint8Array(new Float64Array([2.5]).buffer)]; // field 4, fixed64
    const gauge = [0x0a, point.length, ...point];
    const metric = [0x0a, name.length, ...name, 0x2a, gauge.length, ...gauge];
    const scope = [0x12, metric.length, ...metric];
    const rm = [0x12, scope.length, ...scope];
    const data = new Uint8Array([0x0a, rm.length, ...rm]);
    expect((await push({ compressionType: 1, metrics: compress(1, data), terminating: true })).errorCode).toBe(E.NONE);
    const kept = broker.broker.telemetry.clients().find((c) => c.clientInstanceId === id)!;
    expect(kept.metrics).toEqual([{ name: "org.apache.kafka.test", unit: "", kind: "gauge", points: [{ value: 2.5, attributes: {}, timeUnixNano: "0" }] }]);
    expect(kept.terminating).toBe(true);
    // Nothing is accepted after the terminating push.
    expect((await push({})).errorCode).toBe(E.INVALID_REQUEST);
  });

  test("subscriptions are CLIENT_METRICS config resources, validated, and survive a restart", async () => {
    const { broker, client, dir } = await start();
    expect(await subscribe(client, "s1", { "interval.ms": "50" })).toEqual([E.INVALID_CONFIG, "Invalid value 50 for interval.ms, interval must be between 100 and 3600000 (1 hour)"]);
    expect(await subscribe(client, "s1", { match: "client_name=x" })).toEqual([E.INVALID_CONFIG, "Illegal client matching pattern: client_name=x"]);
    expect(await subscribe(client, "s1", { colour: "red" })).toEqual([E.INVALID_REQUEST, "Unknown client metrics configuration(s): colour"]);
    expect(await subscribe(client, "s1", { metrics: "org.apache.kafka.consumer.fetch,org.apache.kafka.producer.", "interval.ms": "1000", match: "client_software_name=librdkafka" })).toEqual([E.NONE, null]);
    const describe = async () => {
      const r = await client.request(DescribeConfigs, 4, { resources: [{ resourceType: 16, resourceName: "s1", configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
      return Object.fromEntries(r.results[0]!.configs.map((c) => [c.name, [c.value, c.configSource]]));
    };
    expect(await describe()).toEqual({
      metrics: ["org.apache.kafka.consumer.fetch,org.apache.kafka.producer.", 7],
      "interval.ms": ["1000", 7],
      match: ["client_software_name=librdkafka", 7],
    });
    await client.close();
    await broker.close();
    const again = await start(dir);
    const r = await again.client.request(DescribeConfigs, 4, { resources: [{ resourceType: 16, resourceName: "s1", configurationKeys: ["interval.ms"] }], includeSynonyms: false, includeDocumentation: false });
    expect(r.results[0]!.configs.map((c) => [c.name, c.value, c.configSource])).toEqual([["interval.ms", "1000", 7]]);
    expect(again.broker.broker.telemetry.subscriptionNames()).toEqual(["s1"]);
  });
});
