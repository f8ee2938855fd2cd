// Stock clients retrying through injected faults, with idempotent producers: every record is stored
// exactly once, in order, at the offsets expected (read back with kcat).
// - kafkajs 2.2.4 (embedding API, broker.faults): NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT after the
//   append (a lost acknowledgement), a dropped connection after the append, a delay past the client's
//   request timeout, an offline partition; a kafkajs group consumer through Fetch errors and a
//   coordinator move.
// - librdkafka 2.0.2 (python confluent_kafka), with the faults injected over the broker's HTTP listener
//   (brook.http.listener, /faults): the same errors, drop and delay.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { startBroker, type BrokerHandle, type FaultInfo, type FaultSpec } from "../src/index.ts";
import { confluentProduce, kcatConsume, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(90_000);

let dir: TempDir;
let b: BrokerHandle;
let kafka: Kafka;
let http: string;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir("brook-faults-clients-");
  b = await startBroker({
    dataDir: dir.path,
    logLevel: "error",
    overrides: { "group.initial.rebalance.delay.ms": 0, "brook.http.listener": "127.0.0.1:0" },
  });
  http = b.http!.url;
  kafka = new Kafka({
    clientId: "faults-kafkajs",
    brokers: [b.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 500 },
  });
});

// Faults outlive the requests they fired on (their counts stay readable) until cleared.
afterEach(() => {
  b.broker.faults.clear();
});

afterAll(async () => {
  await b?.close();
  await dir?.remove();
});

async function createTopic(topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** Sends `batches` batches of `per` records with an idempotent kafkajs producer, one send at a time. */
async function kafkajsProduce(topic: string, batches: number, per: number, opts: { requestTimeout?: number } = {}): Promise<string[]> {
  const k = opts.requestTimeout
    ? new Kafka({ clientId: "faults-kafkajs", brokers: [b.address], logLevel: logLevel.NOTHING, requestTimeout: opts.requestTimeout, retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 500 } })
    : kafka;
  const producer: Producer = k.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent: string[] = [];
  try {
    for (let i = 0; i < batches; i++) {
      const vs = values(`b${i}`, per);
      await producer.send({ topic, acks: -1, messages: vs.map((value) => ({ key: value, value })) });
      sent.push(...vs);
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}

/** Everything in partition 0, as [offset, value], read by librdkafka (kcat). */
async function readBack(topic: string, partition = 0): Promise<[number, string][]> {
  return (await kcatConsume(b.address, topic, { partition })).map((m) => [m.offset, m.payload!]);
}

const inOrder = (vs: string[]) => vs.map((v, i) => [i, v] as [number, string]);

describe("kafkajs idempotent producer", () => {
  test("retries through NOT_LEADER_OR_FOLLOWER", async () => {
    const topic = topicName("fk-notleader");
    await createTopic(topic);
    const fault = b.broker.faults.inject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", times: 3, topic, skip: 1 });
    const sent = await kafkajsProduce(topic, 5, 20);
    expect(fault.fired).toBe(3);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("retries through REQUEST_TIMED_OUT answered after the append: the retries are recognised as duplicates", async () => {
    const topic = topicName("fk-timedout");
    await createTopic(topic);
    const fault = b.broker.faults.inject({ api: "Produce", error: "REQUEST_TIMED_OUT", after: true, times: 2, topic, skip: 1 });
    const sent = await kafkajsProduce(topic, 5, 20);
    expect(fault.fired).toBe(2);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("reconnects after a connection dropped once the batch was appended", async () => {
    const topic = topicName("fk-drop");
    await createTopic(topic);
    const fault = b.broker.faults.inject({ api: "Produce", drop: true, after: true, times: 1, topic, skip: 2 });
    const sent = await kafkajsProduce(topic, 5, 20);
    expect(fault.fired).toBe(1);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("retries a produce delayed past its request timeout", async () => {
    const topic = topicName("fk-delay");
    await createTopic(topic);
    const fault = b.broker.faults.inject({ api: "Produce", delayMs: 1500, times: 1, topic, skip: 1 });
    const sent = await kafkajsProduce(topic, 4, 20, { requestTimeout: 1000 });
    expect(fault.fired).toBe(1);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("waits out an offline partition", async () => {
    const topic = topicName("fk-offline");
    await createTopic(topic);
    const fault = b.broker.faults.partitionUnavailable({ topic, partition: 0, durationMs: 1500 });
    const t0 = Date.now();
    const sent = await kafkajsProduce(topic, 3, 20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(fault.fired).toBeGreaterThan(0);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });
});

describe("kafkajs group consumer", () => {
  test("consumes everything through Fetch errors and a coordinator move", async () => {
    const topic = topicName("fk-consume");
    const groupId = `g-${topic}`;
    await createTopic(topic, 2);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = values("c", 60);
    await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ value, partition: i % 2 })) });
    await producer.disconnect();

    const fetchErrors = b.broker.faults.inject({ api: "Fetch", error: "NOT_LEADER_OR_FOLLOWER", topic, times: 3 });
    const move = b.broker.faults.coordinatorMove({ group: groupId, durationMs: 1500 });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 } });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, string>(); // "partition:offset" → value
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.set(`${partition}:${message.offset}`, message.value!.toString());
        if (seen.size === sent.length) done();
      },
    });
    try {
      await all;
    } finally {
      await consumer.disconnect();
    }
    expect([...seen.values()].sort()).toEqual([...sent].sort());
    for (const p of [0, 1]) {
      const offsets = [...seen.keys()].filter((k) => k.startsWith(`${p}:`)).map((k) => Number(k.split(":")[1])).sort((x, y) => x - y);
      expect(offsets).toEqual(Array.from({ length: 30 }, (_, i) => i));
    }
    expect(fetchErrors.fired).toBe(3);
    expect(move.fired).toBeGreaterThan(0);
  });
});

// ---- librdkafka, faults over HTTP ----

async function httpInject(spec: FaultSpec): Promise<FaultInfo> {
  const r = await fetch(`${http}/faults`, { method: "POST", body: JSON.stringify(spec), headers: { "content-type": "application/json" } });
  expect(r.status).toBe(201);
  return (await r.json()) as FaultInfo;
}

async function httpFault(id: number): Promise<FaultInfo> {
  const r = await fetch(`${http}/faults/${id}`);
  expect(r.status).toBe(200);
  return (await r.json()) as FaultInfo;
}

/** An idempotent librdkafka producer sending `n` values, flushing every `every` so faults hit mid-stream. */
async function confluentIdempotent(topic: string, n: number, every: number, config: Record<string, unknown> = {}): Promise<string[]> {
  const vs = values("r", n);
  const r = await confluentProduce({
    bootstrap: b.address,
    topic,
    config: { "enable.idempotence": true, acks: "all", "linger.ms": 5, "retry.backoff.ms": 50, ...config },
    messages: vs.map((value) => ({ key: value, value, partition: 0 })),
    flush_every: every,
    warm_metadata: true,
  }, { timeoutMs: 60_000 });
  expect(r.summary).toMatchObject({ delivered: n, failed: 0 });
  return vs;
}

describe("librdkafka (confluent_kafka) idempotent producer, faults injected over HTTP", () => {
  test("HTTP: inject, list with counts, clear; a bad spec is a 400", async () => {
    const base = `${http}/faults`;
    const made = await httpInject({ api: "Metadata", delayMs: 1, topic: "nowhere" });
    expect(made).toMatchObject({ fired: 0, active: true, spec: { api: "Metadata", delayMs: 1 } });
    const listed = (await (await fetch(base)).json()) as { faults: FaultInfo[] };
    expect(listed.faults.map((f) => f.id)).toContain(made.id);
    const bad = await fetch(base, { method: "POST", body: JSON.stringify({ api: "Produce", error: "NO_SUCH_ERROR" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown error/);
    expect((await fetch(`${base}/${made.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await fetch(`${base}/${made.id}`)).status).toBe(404);
    expect(await (await fetch(base, { method: "DELETE" })).json()).toEqual({ cleared: 0 });
  });

  test("retries through NOT_LEADER_OR_FOLLOWER", async () => {
    const topic = topicName("fr-notleader");
    await createTopic(topic);
    const f = await httpInject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", times: 3, topic, skip: 1 });
    const sent = await confluentIdempotent(topic, 100, 20);
    expect((await httpFault(f.id)).fired).toBe(3);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("retries through REQUEST_TIMED_OUT answered after the append", async () => {
    const topic = topicName("fr-timedout");
    await createTopic(topic);
    const f = await httpInject({ api: "Produce", error: "REQUEST_TIMED_OUT", after: true, times: 2, topic, skip: 1 });
    const sent = await confluentIdempotent(topic, 100, 20);
    expect((await httpFault(f.id)).fired).toBe(2);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("reconnects after a connection dropped once the batch was appended", async () => {
    const topic = topicName("fr-drop");
    await createTopic(topic);
    const f = await httpInject({ api: "Produce", drop: true, after: true, times: 1, topic, skip: 2 });
    const sent = await confluentIdempotent(topic, 100, 20);
    expect((await httpFault(f.id)).fired).toBe(1);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });

  test("rides out delayed produce requests", async () => {
    const topic = topicName("fr-delay");
    await createTopic(topic);
    const f = await httpInject({ api: "Produce", delayMs: 700, times: 2, topic, skip: 1 });
    const t0 = Date.now();
    const sent = await confluentIdempotent(topic, 100, 20);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect((await httpFault(f.id)).fired).toBe(2);
    expect(await readBack(topic)).toEqual(inOrder(sent));
  });
});
