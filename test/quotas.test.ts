// Client quotas: the admin APIs and their enforcement.
// - @platformatic/kafka's Admin: alterClientQuotas / describeClientQuotas (v1) round trip, and the quotas
//   survive a restart;
// - request by request (Brook's protocol client): Kafka's validation messages, the describe filters
//   (exact, default, any; strict), validate_only;
// - the entity precedence Kafka's default quota callback applies (user/client-id levels and defaults);
// - enforcement with librdkafka (confluent_kafka, test/clients/quota_confluent.py): a producer over its
//   producer_byte_rate is told throttle_time_ms (its throttle_cb fires) and its acknowledged throughput
//   settles at the quota, while another client id on the same broker is not throttled; a consumer over
//   its consumer_byte_rate is throttled and still receives every record. Windows are shortened
//   (quota.window.num=2, 1 s samples) so the rate settles within seconds; tolerances are generous.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Admin } from "@platformatic/kafka";
import { AlterClientQuotas, DescribeClientQuotas } from "../protocol/apis/index.ts";
import { ErrorCode as E } from "../protocol/errors.ts";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { ClientQuotaStore, QuotaEnforcer } from "../src/quotas/client-quotas.ts";
import { Logger } from "../src/log.ts";
import { KafkaClient } from "../src/client.ts";
import { pyScript, requireTools } from "./helpers/clients.ts";
import { tempDir, topicName } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function newDir(): Promise<string> {
  const d = await tempDir("brook-quotas-");
  cleanups.push(() => d.remove());
  return d.path;
}

async function start(dir: string, overrides: Record<string, string | number> = {}): Promise<{ broker: BrokerHandle; client: KafkaClient }> {
  const broker = await startBroker({ dataDir: dir, logLevel: "error", overrides: { "group.initial.rebalance.delay.ms": 0, ...overrides } });
  cleanups.push(() => broker.close());
  const client = await KafkaClient.connect(broker.address, "quota-admin");
  cleanups.push(() => client.close());
  return { broker, client };
}

type EntityPart = { entityType: string; entityName: string | null };

async function alter(client: KafkaClient, entries: { entity: EntityPart[]; ops: { key: string; value?: number; remove?: boolean }[] }[], validateOnly = false) {
  const r = await client.request(AlterClientQuotas, 1, {
    entries: entries.map((e) => ({ entity: e.entity, ops: e.ops.map((o) => ({ key: o.key, value: o.value ?? 0, remove: o.remove ?? false })) })),
    validateOnly,
  });
  return r.entries.map((e) => [e.errorCode, e.errorMessage]);
}

async function describeQuotas(client: KafkaClient, components: { entityType: string; matchType: number; match: string | null }[], strict = false) {
  const r = await client.request(DescribeClientQuotas, 1, { components, strict });
  const entries = (r.entries ?? []).map((e) => ({
    entity: Object.fromEntries(e.entity.map((x) => [x.entityType, x.entityName])),
    values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
  }));
  entries.sort((a, b) => JSON.stringify(a.entity).localeCompare(JSON.stringify(b.entity)));
  return { errorCode: r.errorCode, errorMessage: r.errorMessage, entries };
}

const user = (name: string | null): EntityPart => ({ entityType: "user", entityName: name });
const client_ = (name: string | null): EntityPart => ({ entityType: "client-id", entityName: name });

describe("admin APIs", () => {
  test("@platformatic/kafka alters and describes quotas; they survive a restart", async () => {
    const dir = await newDir();
    let { broker } = await start(dir);
    const admin = new Admin({ clientId: "plt-quotas", bootstrapBrokers: [broker.address] } as any) as any;
    cleanups.push(() => admin.close());
    const altered = await admin.alterClientQuotas({
      entries: [
        { entities: [{ entityType: "client-id", entityName: "slow" }], ops: [{ key: "producer_byte_rate", value: 1024, remove: false }] },
        { entities: [{ entityType: "user", entityName: "alice" }, { entityType: "client-id", entityName: null }], ops: [{ key: "consumer_byte_rate", value: 2048, remove: false }, { key: "request_percentage", value: 12.5, remove: false }] },
      ],
    });
    expect(altered.map((e: any) => e.errorCode)).toEqual([0, 0]);
    await admin.close();

    await broker.close();
    ({ broker } = await start(dir));
    const admin2 = new Admin({ clientId: "plt-quotas-2", bootstrapBrokers: [broker.address] } as any) as any;
    cleanups.push(() => admin2.close());
    const slow = await admin2.describeClientQuotas({ components: [{ entityType: "client-id", matchType: 0, match: "slow" }] });
    expect(slow.map((e: any) => [e.entity, e.values])).toEqual([[[{ entityType: "client-id", entityName: "slow" }], [{ key: "producer_byte_rate", value: 1024 }]]]);
    const alice = await admin2.describeClientQuotas({ components: [{ entityType: "user", matchType: 0, match: "alice" }], strict: true });
    expect(alice).toEqual([]); // strict: alice's only entity also names a client id
    const aliceAny = await admin2.describeClientQuotas({ components: [{ entityType: "user", matchType: 0, match: "alice" }] });
    expect(aliceAny).toHaveLength(1);
    expect(Object.fromEntries(aliceAny[0].values.map((v: any) => [v.key, v.value]))).toEqual({ consumer_byte_rate: 2048, request_percentage: 12.5 });
    // The enforcement sees the restored quota.
    expect(broker.broker.quotas.limit("producer_byte_rate", "", "slow")).toBe(1024);
  });

  test("validation and filters as Kafka's controller answers them", async () => {
    const { client } = await start(await newDir());
    expect(
      await alter(client, [
        { entity: [client_("a")], ops: [{ key: "producer_byte_rate", value: 100 }] },
        { entity: [user("u"), client_("c")], ops: [{ key: "consumer_byte_rate", value: 200 }] },
        { entity: [user(null)], ops: [{ key: "producer_byte_rate", value: 300 }] },
        { entity: [{ entityType: "ip", entityName: "10.0.0.1" }], ops: [{ key: "connection_creation_rate", value: 5 }] },
      ]),
    ).toEqual([[0, null], [0, null], [0, null], [0, null]]);
    expect(
      await alter(client, [
        { entity: [], ops: [] },
        { entity: [{ entityType: "group", entityName: "g" }], ops: [] },
        { entity: [user("")], ops: [] },
        { entity: [user("x"), user("y")], ops: [] },
        { entity: [{ entityType: "ip", entityName: "10.0.0.2" }, client_("c")], ops: [] },
        { entity: [{ entityType: "ip", entityName: "not an ip" }], ops: [] },
        { entity: [client_("b")], ops: [{ key: "connection_creation_rate", value: 1 }] },
        { entity: [client_("b2")], ops: [{ key: "producer_byte_rate", value: 0 }] },
        { entity: [client_("d")], ops: [{ key: "producer_byte_rate", value: 1.5 }] },
        { entity: [client_("e")], ops: [{ key: "producer_byte_rate", value: 1 }, { key: "producer_byte_rate", value: 2 }] },
      ]),
    ).toEqual([
      [E.INVALID_REQUEST, "Invalid empty client quota entity"],
      [E.INVALID_REQUEST, "Unhandled client quota entity type: group"],
      [E.INVALID_REQUEST, "Empty user not supported"],
      [E.INVALID_REQUEST, "Invalid client quota entity, duplicate entity entry user"],
      [E.INVALID_REQUEST, "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId"],
      [E.INVALID_REQUEST, "not an ip is not a valid IP or resolvable host."],
      [E.INVALID_REQUEST, "Invalid configuration key connection_creation_rate"],
      [E.INVALID_REQUEST, "Quota producer_byte_rate must be greater than 0"],
      [E.INVALID_REQUEST, "producer_byte_rate cannot be a fractional value."],
      [E.INVALID_REQUEST, "Duplicate quota key producer_byte_rate not updating quota for this entity client-id=e"],
    ]);
    // validate_only changes nothing.
    expect(await alter(client, [{ entity: [client_("v")], ops: [{ key: "producer_byte_rate", value: 5 }] }], true)).toEqual([[0, null]]);
    expect((await describeQuotas(client, [{ entityType: "client-id", matchType: 0, match: "v" }])).entries).toEqual([]);

    // Filters: exact, default (null name), any of a type; strict leaves out entities with more types.
    expect((await describeQuotas(client, [{ entityType: "client-id", matchType: 2, match: null }])).entries).toEqual([
      { entity: { "client-id": "a" }, values: { producer_byte_rate: 100 } },
      { entity: { "client-id": "c", user: "u" }, values: { consumer_byte_rate: 200 } },
    ]);
    expect((await describeQuotas(client, [{ entityType: "client-id", matchType: 2, match: null }], true)).entries).toEqual([
      { entity: { "client-id": "a" }, values: { producer_byte_rate: 100 } },
    ]);
    expect((await describeQuotas(client, [{ entityType: "user", matchType: 1, match: null }])).entries).toEqual([{ entity: { user: null }, values: { producer_byte_rate: 300 } }]);
    expect((await describeQuotas(client, [])).entries).toHaveLength(4);
    expect((await describeQuotas(client, [], true)).entries).toEqual([]);
    // Bad filters.
    expect(await describeQuotas(client, [{ entityType: "user", matchType: 0, match: null }])).toMatchObject({
      errorCode: E.INVALID_REQUEST,
      errorMessage: "Request specified MATCH_TYPE_EXACT, but set match string to null.",
    });
    expect(await describeQuotas(client, [{ entityType: "ip", matchType: 2, match: null }, { entityType: "user", matchType: 2, match: null }])).toMatchObject({
      errorCode: E.INVALID_REQUEST,
      errorMessage: "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
    });
    expect(await describeQuotas(client, [{ entityType: "topic", matchType: 2, match: null }])).toMatchObject({ errorCode: E.UNSUPPORTED_VERSION, errorMessage: "Unsupported entity type topic" });

    // Removing the last value removes the entity.
    expect(await alter(client, [{ entity: [client_("a")], ops: [{ key: "producer_byte_rate", remove: true }] }])).toEqual([[0, null]]);
    expect((await describeQuotas(client, [{ entityType: "client-id", matchType: 0, match: "a" }])).entries).toEqual([]);
  });
});

describe("which quota applies (Kafka's precedence of entities)", () => {
  test("user/client-id, user/<default>, user, <default>/client-id, <default>/<default>, <default> user, client-id, <default> client-id", async () => {
    const dir = await newDir();
    const log = new Logger("error");
    const store = ClientQuotaStore.load(dir, log);
    const q = new QuotaEnforcer(store, 11, 1);
    const set = (entity: EntityPart[], value: number) =>
      expect(store.alter([{ entity, ops: [{ key: "producer_byte_rate", value, remove: false }] }], false)[0]!.errorCode).toBe(0);
    const quotaOf = (u: string, c: string) => {
      const [tu, tc] = q.sensorTags("producer_byte_rate", u, c);
      return q.limit("producer_byte_rate", tu, tc);
    };
    expect(quotaOf("ANONYMOUS", "app")).toBe(Infinity);
    set([client_(null)], 8);
    expect(quotaOf("ANONYMOUS", "app")).toBe(8);
    set([client_("app")], 7);
    expect(quotaOf("ANONYMOUS", "app")).toBe(7);
    set([user(null)], 6);
    expect(quotaOf("ANONYMOUS", "app")).toBe(6);
    set([user(null), client_(null)], 5);
    expect(quotaOf("ANONYMOUS", "app")).toBe(5);
    set([user(null), client_("app")], 4);
    expect(quotaOf("ANONYMOUS", "app")).toBe(4);
    set([user("bob")], 3);
    expect([quotaOf("bob", "app"), quotaOf("ANONYMOUS", "app")]).toEqual([3, 4]);
    set([user("bob"), client_(null)], 2);
    expect([quotaOf("bob", "app"), quotaOf("bob", "other")]).toEqual([2, 2]);
    set([user("bob"), client_("app")], 1);
    expect([quotaOf("bob", "app"), quotaOf("bob", "other"), quotaOf("carol", "other")]).toEqual([1, 2, 5]);
    // Clients of one user with a user-level quota share one sensor; <user, client-id> quotas do not.
    expect(new QuotaEnforcer(store, 11, 1).sensorTags("consumer_byte_rate", "bob", "app")).toEqual(["", "app"]);
  });
});

describe("enforcement with librdkafka (confluent_kafka)", () => {
  test("a producer over producer_byte_rate is throttled and settles at the quota; another client id is not", async () => {
    await requireTools();
    const { broker, client } = await start(await newDir(), { "quota.window.num": 2, "quota.window.size.seconds": 1 });
    const topic = topicName("quota-produce");
    broker.broker.topics.create(topic, 1);
    const QUOTA = 256 * 1024;
    expect(await alter(client, [{ entity: [client_("throttled-producer")], ops: [{ key: "producer_byte_rate", value: QUOTA }] }])).toEqual([[0, null]]);

    const seconds = 7;
    // Batches of at most 64 KiB: librdkafka's default (1 MB) makes each request a quarter of the quota.
    const r = await pyScript(
      "quota_confluent.py",
      { bootstrap: broker.address, topic, client_id: "throttled-producer", seconds, value_size: 1000, config: { "batch.size": 65536 } },
      { timeoutMs: 60_000 },
    );
    const { summary } = r;
    // The client saw throttle_time_ms in responses and the broker muted its connection.
    expect(summary.throttles).toBeGreaterThan(0);
    expect(broker.broker.quotas.throttled.producer_byte_rate.requests).toBeGreaterThan(0);
    // Throughput once the first requests (several batches are in flight before the first throttle reaches
    // the client) are paid off is near the quota (measured: 1.03× over seconds 3–8).
    const timeline: [number, number][] = summary.timeline;
    const from = timeline.find(([t]) => t >= 3)!;
    const to = timeline[timeline.length - 1]!;
    const rate = (to[1] - from[1]) / (to[0] - from[0]);
    expect(rate).toBeGreaterThan(QUOTA * 0.4);
    expect(rate).toBeLessThan(QUOTA * 1.6);

    const free = await pyScript("quota_confluent.py", { bootstrap: broker.address, topic, client_id: "free-producer", seconds: 2, value_size: 1000 }, { timeoutMs: 60_000 });
    expect(free.summary.throttles).toBe(0);
    expect(free.summary.bytes).toBeGreaterThan(QUOTA * 2);
  });

  test("a consumer over consumer_byte_rate is throttled and still gets every record", async () => {
    await requireTools();
    const { broker, client } = await start(await newDir(), { "quota.window.num": 2, "quota.window.size.seconds": 1 });
    const topic = topicName("quota-fetch");
    broker.broker.topics.create(topic, 1);
    // 3 MB written by an unthrottled producer.
    const filled = await pyScript(
      "quota_confluent.py",
      { bootstrap: broker.address, topic, client_id: "filler", seconds: 60, value_size: 1000, max_bytes: 3_000_000, config: { acks: "all" } },
      { timeoutMs: 90_000 },
    );
    const total = filled.summary.bytes;
    expect(total).toBe(3_000_000);
    const QUOTA = 512 * 1024;
    expect(await alter(client, [{ entity: [client_("slow-reader")], ops: [{ key: "consumer_byte_rate", value: QUOTA }] }])).toEqual([[0, null]]);
    const r = await pyScript(
      "quota_confluent.py",
      { bootstrap: broker.address, topic, mode: "consume", client_id: "slow-reader", seconds: 60, expect: total, group: `${topic}-g` },
      { timeoutMs: 90_000 },
    );
    expect(r.summary.bytes).toBe(total);
    expect(r.summary.throttles).toBeGreaterThan(0);
    expect(broker.broker.quotas.throttled.consumer_byte_rate.requests).toBeGreaterThan(0);
    // Reading it took about as long as the quota allows (the first window may pass unthrottled).
    const floor = (total - 2 * QUOTA) / QUOTA;
    expect(r.summary.elapsed).toBeGreaterThan(floor * 0.6);
  });
});
