// The web console in a real browser: Debian's Chromium, headless, driven by puppeteer-core. Data comes
// from stock clients (kafkajs producers, consumers and admin; kcat/librdkafka) and every check compares
// what a person sees on the page with what those clients report independently: rows, counts, offsets,
// decoded keys, values and headers, lag, configs after an edit. Screenshots of each view go to a
// temporary directory, or to $BROOK_CONSOLE_SCREENSHOTS (and stay there) to look at them.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { AssignerProtocol, ConfigResourceTypes, Kafka, Partitioners, logLevel, type Admin, type Consumer } from "kafkajs";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startBroker, type BrokerHandle } from "../src/index.ts";
import { murmur2 } from "../src/http/console-api.ts";
import { kcat, kcatConsume, kcatHeaders, requireTools } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

// Callbacks passed to page.$eval / waitForFunction run in the page; the tree's TypeScript config has
// no DOM library, so the few page globals they use are declared here, for this file only.
declare const document: { querySelector(sel: string): { textContent: string | null; getAttribute(n: string): string | null } | null; querySelectorAll(sel: string): ArrayLike<{ textContent: string | null; getAttribute(n: string): string | null }> };
type InputLike = { value: string; disabled: boolean };

const CHROMIUM = "/usr/bin/chromium";
const ORDERS = "shop-orders";
const TIMELINE = "timeline";
const BIG = "big";
const BIG_RECORDS = 2_000_000;
const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);

let dir: TempDir;
let shots: TempDir;
let profile: TempDir;
let b: BrokerHandle;
let kafka: Kafka;
let admin: Admin;
let browser: Browser;
let page: Page;
let live: Consumer;

/** Screenshots go to $BROOK_CONSOLE_SCREENSHOTS when set (kept), else to a temporary directory. */
async function screenshotDir(): Promise<TempDir> {
  const keep = process.env.BROOK_CONSOLE_SCREENSHOTS;
  if (!keep) return tempDir("brook-console-shots-");
  mkdirSync(keep, { recursive: true });
  return { path: keep, join: (...p: string[]) => join(keep, ...p), remove: async () => {}, [Symbol.asyncDispose]: async () => {} };
}

const tid = (id: string) => `[data-testid="${id}"]`;

async function open(hash: string, ready: string): Promise<void> {
  // A fresh document each time: going from one hash to another would keep the old view's DOM around
  // until the new one renders, and `ready` could match the old view.
  await page.goto("about:blank");
  await page.goto(`${b.http!.url}/${hash}`);
  await page.waitForSelector(ready);
}

async function texts(selector: string): Promise<string[]> {
  return page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? "").trim()));
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: shots.join(`${name}.png`), fullPage: true });
}

/** Waits for the page to show a message box (ok, error or info) and returns its text. */
async function messageText(kind: "ok" | "error" | "info"): Promise<string> {
  const el = await page.waitForSelector(tid(`msg-${kind}`));
  return (await el!.evaluate((e) => e.textContent ?? "")).trim();
}

beforeAll(async () => {
  await requireTools();
  if (!existsSync(CHROMIUM)) throw new Error(`missing test tool ${CHROMIUM} — run scripts/ensure-test-tools.sh`);
  dir = await tempDir("brook-console-");
  shots = await screenshotDir();
  profile = await tempDir("brook-console-chromium-");
  b = await startBroker({
    dataDir: dir.path,
    logLevel: "warn",
    overrides: { "brook.http.listener": "127.0.0.1:0", "num.partitions": 3, "group.initial.rebalance.delay.ms": 0 },
  });
  kafka = new Kafka({ clientId: "console-test", brokers: [b.address], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: ORDERS, numPartitions: 3 }, { topic: TIMELINE, numPartitions: 1 }, { topic: BIG, numPartitions: 1 }] });

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: ORDERS,
    messages: Array.from({ length: 60 }, (_, i) => ({ key: `order-${i}`, value: JSON.stringify({ order: i, item: `widget-${i}` }), headers: { source: "kafkajs" } })),
  });
  await producer.send({
    topic: ORDERS,
    messages: [
      { partition: 0, key: "plain", value: "hello plain text" },
      { partition: 0, key: "binary", value: Buffer.from([0x00, 0xff, 0x10, 0x80]) },
    ],
  });
  await producer.send({ topic: TIMELINE, messages: [0, 1, 2].map((h) => ({ value: `hour ${h}`, timestamp: String(T0 + h * 3600_000) })) });
  await producer.disconnect();

  // Two million records through librdkafka, value "v-N" at offset N.
  const lines = new Array<string>(BIG_RECORDS);
  for (let i = 0; i < BIG_RECORDS; i++) lines[i] = `v-${i}`;
  await kcat(["-b", b.address, "-P", "-t", BIG, "-p", "0", "-X", "linger.ms=50", "-X", "batch.num.messages=10000", "-X", "queue.buffering.max.messages=2000000"], {
    stdin: lines.join("\n") + "\n",
    timeoutMs: 120_000,
  });

  // A group without members but with committed offsets (lag to show and reset), and a live one.
  await admin.setOffsets({ groupId: "billing", topic: ORDERS, partitions: [0, 1, 2].map((partition) => ({ partition, offset: "3" })) });
  live = kafka.consumer({ groupId: "live-readers", heartbeatInterval: 500 });
  await live.connect();
  await live.subscribe({ topic: ORDERS, fromBeginning: true });
  await live.run({ eachMessage: async () => {} });
  await until("live-readers to be Stable", async () => (await admin.describeGroups(["live-readers"])).groups[0]!.state === "Stable");

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile.path,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1360, height: 900 });
  page.on("pageerror", (e) => console.error(`console page error: ${(e as Error).message}`));
  page.on("dialog", (d) => void d.accept());
});

afterAll(async () => {
  await browser?.close();
  await live?.disconnect();
  await admin?.disconnect();
  await b?.close();
  await dir?.remove();
  await profile?.remove();
  await shots?.remove();
});

describe("overview", () => {
  test("shows the cluster and live throughput", async () => {
    await open("#/", tid("cluster-id"));
    expect(await texts(tid("cluster-id"))).toEqual([b.broker.clusterId]);
    expect(await texts(tid("topic-count"))).toEqual([String((await admin.listTopics()).length)]);
    // Traffic while the page is open: the chart's "in" rate leaves zero within a sample or two.
    const producer = kafka.producer();
    await producer.connect();
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        await producer.send({ topic: TIMELINE, messages: [{ value: `tick ${i}`, timestamp: String(T0 + 3 * 3600_000) }] });
        await Bun.sleep(20); // pacing the load generator, not synchronisation
      }
    })();
    try {
      await page.waitForFunction((sel) => !/^0 msg\/s$/.test(document.querySelector(sel)?.textContent ?? "0 msg/s"), { timeout: 20_000 }, tid("chart-messages-messagesIn"));
      expect((await page.$$(`${tid("chart-messages")} polyline`)).length).toBeGreaterThan(0);
      await shot("overview");
    } finally {
      stop = true;
      await traffic;
      await producer.disconnect();
    }
  });
});

describe("topics", () => {
  test("the list shows every topic with its message count", async () => {
    await open("#/topics", tid("topic-row"));
    for (const topic of [ORDERS, BIG]) {
      const offsets = await admin.fetchTopicOffsets(topic);
      const messages = offsets.reduce((a, o) => a + Number(o.high) - Number(o.low), 0);
      expect(await texts(`[data-topic="${topic}"] ${tid("topic-messages")}`)).toEqual([messages.toLocaleString("en-US")]);
    }
    expect(await texts(`[data-topic="${BIG}"] ${tid("topic-messages")}`)).toEqual(["2,000,000"]);
    await shot("topics");
  });

  test("create a topic with configs; a second create is refused with Kafka's error", async () => {
    await open("#/topics", tid("create-form"));
    await page.type(tid("create-name"), "made-in-console");
    await page.type(tid("create-partitions"), "4");
    await page.type(tid("create-configs"), "retention.ms=3600000");
    await page.click(tid("create-submit"));
    expect(await messageText("ok")).toContain("made-in-console");
    const meta = await admin.fetchTopicMetadata({ topics: ["made-in-console"] });
    expect(meta.topics[0]!.partitions.length).toBe(4);
    const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: "made-in-console", configNames: ["retention.ms"] }] });
    expect(cfg.resources[0]!.configEntries[0]!.configValue).toBe("3600000");
    await page.waitForSelector('[data-topic="made-in-console"]');

    await page.type(tid("create-name"), "made-in-console");
    await page.click(tid("create-submit"));
    expect(await messageText("error")).toContain("TOPIC_ALREADY_EXISTS");
  });

  test("partitions tab: offsets as the clients see them", async () => {
    await open(`#/topics/${ORDERS}/partitions`, tid("partition-row"));
    const offsets = (await admin.fetchTopicOffsets(ORDERS)).sort((a, x) => a.partition - x.partition);
    expect(await texts(tid("partition-end"))).toEqual(offsets.map((o) => Number(o.high).toLocaleString("en-US")));
    await shot("topic-partitions");
  });

  test("add partitions, then delete the topic", async () => {
    await open("#/topics/made-in-console/partitions", tid("partition-row"));
    await page.$eval(tid("add-partitions-count"), (e) => ((e as InputLike).value = "6"));
    await page.click(tid("add-partitions"));
    await until("6 partitions", async () => (await page.$$(tid("partition-row"))).length === 6);
    expect((await admin.fetchTopicMetadata({ topics: ["made-in-console"] })).topics[0]!.partitions.length).toBe(6);
    await page.click(tid("delete-topic")); // the confirm() dialog is accepted
    await page.waitForSelector(tid("topics-table"));
    expect(await admin.listTopics()).not.toContain("made-in-console");
  });

  test("configs tab: an edit is what DescribeConfigs then reports; reset goes back to the default", async () => {
    const describe = async () =>
      (await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: ORDERS, configNames: ["retention.ms"] }] })).resources[0]!.configEntries[0]!;
    await open(`#/topics/${ORDERS}/configs`, '[data-config="retention.ms"]');
    const row = '[data-config="retention.ms"]';
    await page.$eval(`${row} ${tid("config-input")}`, (e) => ((e as InputLike).value = "7200000"));
    await page.click(`${row} ${tid("config-save")}`);
    expect(await messageText("ok")).toBe("Saved");
    let entry = await describe();
    expect(entry.configValue).toBe("7200000");
    expect(entry.isDefault).toBe(false);
    await shot("topic-configs");
    await page.click(`${row} ${tid("config-reset")}`);
    await until("the reset to reach the broker", async () => (await describe()).isDefault);
    entry = await describe();
    expect(entry.configValue).toBe("604800000");
  });
});

describe("message browser", () => {
  test("the newest page of a partition, decoded as text, JSON and hex, with headers", async () => {
    const expected = await kcatConsume(b.address, ORDERS, { partition: 0 });
    await open(`#/topics/${ORDERS}/messages`, tid("message-row"));
    const offsets = (await texts(tid("msg-offset"))).map(Number);
    expect(offsets).toEqual(expected.slice(-50).map((m) => m.offset));
    const values = await page.$$eval(tid("message-row"), (rows) =>
      rows.map((r) => {
        const v = r.querySelector('[data-testid="msg-value"]')!;
        return [v.textContent, v.getAttribute("data-kind")];
      }),
    );
    const byOffset = new Map(offsets.map((o, i) => [o, values[i]!]));
    for (const m of expected.slice(-50)) {
      const [shown, kind] = byOffset.get(m.offset)!;
      if (m.key === "binary") expect([shown, kind]).toEqual(["00 ff 10 80", "hex"]);
      else if (m.key === "plain") expect([shown, kind]).toEqual(["hello plain text", "text"]);
      else expect([JSON.parse(shown!), kind]).toEqual([JSON.parse(m.payload!), "json"]);
    }
    const keyed = expected.filter((m) => m.key?.startsWith("order-")).slice(-1)[0]!;
    expect(kcatHeaders(keyed)).toEqual([["source", "kafkajs"]]);
    const rowOf = offsets.indexOf(keyed.offset);
    expect((await texts(tid("msg-headers")))[rowOf]).toBe("source: kafkajs");
    await shot("messages");

    await page.select(tid("browse-format"), "hex");
    await page.waitForFunction((sel) => Array.from(document.querySelectorAll(sel)).every((e) => e.getAttribute("data-kind") === "hex" || e.textContent === "null"), {}, tid("msg-value"));
    const plain = expected.find((m) => m.key === "plain")!;
    expect((await texts(tid("msg-value")))[offsets.indexOf(plain.offset)]).toBe(Buffer.from("hello plain text").toString("hex").replace(/(..)(?!$)/g, "$1 "));
  });

  test("from an offset, then newer and older pages", async () => {
    await open(`#/topics/${ORDERS}/messages`, tid("message-row"));
    await page.select(tid("browse-partition"), "1");
    await page.select(tid("browse-from"), "offset");
    await page.select(tid("browse-limit"), "20");
    await page.type(tid("browse-offset"), "2");
    await page.click(tid("browse-load"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "2", {}, tid("msg-offset"));
    const first = (await texts(tid("msg-offset"))).map(Number);
    const all = (await kcatConsume(b.address, ORDERS, { partition: 1 })).map((m) => m.offset);
    expect(first).toEqual(all.filter((o) => o >= 2).slice(0, 20));
    await page.click(tid("browse-newer"));
    await page.waitForFunction((sel, o) => document.querySelector(sel)?.textContent === String(o), {}, tid("msg-offset"), first[first.length - 1]! + 1);
    await page.click(tid("browse-older"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "2", {}, tid("msg-offset"));
  });

  test("from a point in time: the first record at or after it, as kcat's s@timestamp finds it", async () => {
    await open(`#/topics/${TIMELINE}/messages`, tid("message-row"));
    await page.select(tid("browse-from"), "timestamp");
    // The browser's local time of T0 + 1h, as a datetime-local value.
    await page.$eval(
      tid("browse-time"),
      (e, ms) => {
        const d = new Date(ms);
        const pad = (n: number) => String(n).padStart(2, "0");
        (e as InputLike).value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      },
      T0 + 3600_000,
    );
    await page.click(tid("browse-load"));
    const viaKcat = await kcatConsume(b.address, TIMELINE, { offset: `s@${T0 + 3600_000}`, extra: ["-c", "1"] });
    await page.waitForFunction((sel, o) => document.querySelector(sel)?.textContent === String(o), {}, tid("msg-offset"), viaKcat[0]!.offset);
    expect((await texts(tid("msg-value")))[0]).toBe("hour 1");
  });

  test("search in a range finds exactly the records containing the text", async () => {
    const all = await kcatConsume(b.address, ORDERS);
    const target = all.find((m) => m.key === "order-42")!;
    await open(`#/topics/${ORDERS}/messages`, tid("message-row"));
    await page.select(tid("browse-partition"), String(target.partition));
    await page.type(tid("search-q"), "widget-42");
    await page.click(tid("search-run"));
    await page.waitForFunction((sel) => /match/.test(document.querySelector(sel)?.textContent ?? ""), {}, tid("browse-status"));
    expect((await texts(tid("msg-offset"))).map(Number)).toEqual([target.offset]);
    expect(JSON.parse((await texts(tid("msg-value")))[0]!)).toEqual({ order: 42, item: "widget-42" });
  });

  test("a topic of two million records: any page is read by offset, and searching is bounded", async () => {
    const started = performance.now();
    const res = await fetch(`${b.http!.url}/api/topics/${BIG}/messages?partition=0&offset=1234567&limit=50`);
    const elapsed = performance.now() - started;
    const page1 = (await res.json()) as { records: { offset: number; value: string }[]; endOffset: number };
    expect(page1.endOffset).toBe(BIG_RECORDS);
    expect(page1.records.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 1234567 + i));
    expect(page1.records.map((r) => Buffer.from(r.value, "base64").toString())).toEqual(Array.from({ length: 50 }, (_, i) => `v-${1234567 + i}`));
    // An index lookup and one decoded chunk, not a scan of 2M records (which takes seconds).
    expect(elapsed).toBeLessThan(1000);

    // "v-150001" is in v-1500010 … v-1500019 only (within the range searched).
    const search = (await (await fetch(`${b.http!.url}/api/topics/${BIG}/search?partition=0&q=v-150001&from=1400000&to=1600000`)).json()) as { matches: { offset: number }[]; done: boolean; scanned: number };
    expect(search.matches.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 1500010 + i));
    expect(search.done).toBe(true);
    expect(search.scanned).toBe(200_000);

    await open(`#/topics/${BIG}/messages`, tid("message-row"));
    expect((await texts(tid("msg-offset"))).map(Number)).toEqual(Array.from({ length: 50 }, (_, i) => BIG_RECORDS - 50 + i));
    await page.select(tid("browse-from"), "offset");
    await page.type(tid("browse-offset"), "1999990");
    await page.click(tid("browse-load"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "1999990", {}, tid("msg-offset"));
    expect(await texts(tid("msg-value"))).toEqual(Array.from({ length: 10 }, (_, i) => `v-${1999990 + i}`));
  });
});

describe("produce", () => {
  test("a keyed record lands where Kafka's default partitioner puts it, with its headers", async () => {
    await open(`#/topics/${ORDERS}/produce`, tid("produce-send"));
    await page.type(tid("produce-key"), "console-key");
    await page.type(tid("produce-value"), '{"from":"console"}');
    await page.type(tid("produce-headers"), "origin=console");
    await page.click(tid("produce-send"));
    const text = await messageText("ok");
    const m = /partition (\d+) at offset (\d+)/.exec(text)!;
    const [partition, offset] = [Number(m[1]), Number(m[2])];
    const partitionMetadata = [0, 1, 2].map((p) => ({ partitionId: p, leader: 1 })) as never;
    expect(partition).toBe(Partitioners.DefaultPartitioner()({ topic: ORDERS, partitionMetadata, message: { key: "console-key", value: "" } }));
    const [got] = await kcatConsume(b.address, ORDERS, { partition, offset, extra: ["-c", "1"] });
    expect(got!.offset).toBe(offset);
    expect(got!.key).toBe("console-key");
    expect(got!.payload).toBe('{"from":"console"}');
    expect(kcatHeaders(got!)).toEqual([["origin", "console"]]);
  });
});

test("the console's partitioner is Kafka's default one (kafkajs's Java-compatible murmur2)", () => {
  for (const partitions of [1, 3, 7, 16]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({ partitionId: p, leader: 1 })) as never;
    const kafkajsPick = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 300; i++) {
      const key = `key-${i}-${"é".repeat(i % 5)}`;
      expect((murmur2(new TextEncoder().encode(key)) & 0x7fffffff) % partitions).toBe(kafkajsPick({ topic: "t", partitionMetadata, message: { key, value: null } }));
    }
  }
});

describe("consumer groups", () => {
  test("the list shows states, members and lag", async () => {
    const committed = 3 * 3;
    const ends = await admin.fetchTopicOffsets(ORDERS);
    const lag = ends.reduce((a, o) => a + Number(o.high), 0) - committed;
    await open("#/groups", tid("group-row"));
    expect(await texts(`[data-group="billing"] ${tid("group-state")}`)).toEqual(["Empty"]);
    expect(await texts(`[data-group="billing"] ${tid("group-lag")}`)).toEqual([lag.toLocaleString("en-US")]);
    expect(await texts(`[data-group="live-readers"] ${tid("group-state")}`)).toEqual(["Stable"]);
    await shot("groups");
  });

  test("a live group: its members and their assignments, as DescribeGroups tells kafkajs", async () => {
    const described = (await admin.describeGroups(["live-readers"])).groups[0]!;
    await open("#/groups/live-readers", tid("member-row"));
    const member = described.members[0]!;
    const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)!;
    const expected = Object.entries(assignment.assignment).map(([t, ps]) => `${t}: ${[...ps].sort((a, x) => a - x).join(", ")}`).join("; ");
    expect(await texts(tid("member-assignment"))).toEqual([expected]);
    expect(await page.$eval(tid("reset-run"), (e) => (e as InputLike).disabled)).toBe(true);
    await shot("group-live");
  });

  test("an empty group: lag per partition; reset to earliest (preview first); delete", async () => {
    await open("#/groups/billing", tid("offset-row"));
    const ends = new Map((await admin.fetchTopicOffsets(ORDERS)).map((o) => [o.partition, Number(o.high)]));
    for (const p of [0, 1, 2]) {
      const row = `[data-topic="${ORDERS}"][data-partition="${p}"]`;
      expect(await texts(`${row} ${tid("offset-committed")}`)).toEqual(["3"]);
      expect(await texts(`${row} ${tid("offset-lag")}`)).toEqual([(ends.get(p)! - 3).toLocaleString("en-US")]);
    }
    await page.select(tid("reset-to"), "earliest");
    await page.click(tid("reset-preview"));
    expect(await messageText("info")).toContain("Would reset");
    expect((await admin.fetchOffsets({ groupId: "billing", topics: [ORDERS] }))[0]!.partitions.map((p) => p.offset)).toEqual(["3", "3", "3"]);
    await page.click(tid("reset-run"));
    expect(await messageText("ok")).toContain("p0 3 → 0");
    const after = (await admin.fetchOffsets({ groupId: "billing", topics: [ORDERS] }))[0]!.partitions;
    expect(after.map((p) => p.offset)).toEqual(["0", "0", "0"]);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "0", {}, tid("offset-committed"));
    await page.click(tid("delete-group"));
    await page.waitForSelector(tid("groups-table"));
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain("billing");
  });
});

test("broker configs as kafkajs describes them", async () => {
  const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: String(b.broker.nodeId), configNames: ["num.partitions", "log.retention.hours"] }] });
  await open("#/broker", '[data-config="num.partitions"]');
  for (const e of cfg.resources[0]!.configEntries) {
    const row = `[data-config="${e.configName}"]`;
    const shown = await page.$eval(row, (r) => (r.querySelector("input") as InputLike | null)?.value ?? r.querySelector('[data-testid="config-value"]')?.textContent ?? "");
    expect(shown).toBe(e.configValue);
  }
  await shot("broker");
});
