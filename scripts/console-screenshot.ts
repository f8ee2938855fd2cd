// Regenerates the README's console screenshots (docs/console.png, docs/console-messages.png): starts a
// broker with the HTTP listener, runs a little shop on it with kafkajs for a while (paced producers, one
// consumer group keeping up and one stopped with lag), then photographs the overview and the message
// browser in headless Chromium.
//   bun scripts/console-screenshot.ts [seconds of traffic, default 90]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import puppeteer from "puppeteer-core";
import { startBroker } from "../src/index.ts";

const seconds = Number(process.argv[2] ?? 90);
const docs = resolve(import.meta.dir, "..", "docs");
const data = mkdtempSync(join(tmpdir(), "brook-screenshot-"));
const profile = mkdtempSync(join(tmpdir(), "brook-screenshot-chromium-"));

await using broker = await startBroker({ dataDir: data, logLevel: "warn", overrides: { "brook.http.listener": "127.0.0.1:0", "group.initial.rebalance.delay.ms": 0 } });
const kafka = new Kafka({ clientId: "shop", brokers: [broker.address], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 3 }, { topic: "payments", numPartitions: 2 }, { topic: "audit-log", numPartitions: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }] });

const producer = kafka.producer();
await producer.connect();
const billing = kafka.consumer({ groupId: "billing" });
await billing.connect();
await billing.subscribe({ topic: "payments", fromBeginning: true });
await billing.run({ eachMessage: async () => {} });
const shipping = kafka.consumer({ groupId: "shipping" });
await shipping.connect();
await shipping.subscribe({ topic: "orders", fromBeginning: true });
await shipping.run({ eachMessage: async () => {} });

const items = ["keyboard", "monitor", "cable", "lamp", "chair", "desk", "headset", "webcam"];
const started = Date.now();
let n = 0;
let running = true;
let shippingStopped = false;
console.log(`traffic for ${seconds} s …`);
// The traffic keeps going while the screenshots are taken, so the charts show live rates.
const traffic = (async () => {
  while (running) {
    const t = (Date.now() - started) / 1000;
    const burst = Math.round(32 + 15 * Math.sin(t / 9) + 10 * Math.sin(t / 3.7));
    const orders = Array.from({ length: burst }, () => {
      n++;
      return {
        key: `customer-${n % 97}`,
        value: JSON.stringify({ order: n, item: items[n % items.length], qty: 1 + (n % 3), price: Math.round(((n * 37) % 5000) + 99) / 100 }),
        headers: { "trace-id": `t-${n.toString(16)}`, source: "checkout" },
      };
    });
    await producer.sendBatch({
      topicMessages: [
        { topic: "orders", messages: orders },
        { topic: "payments", messages: orders.slice(0, Math.ceil(burst / 2)).map((o) => ({ key: o.key, value: o.value })) },
        { topic: "audit-log", messages: [{ key: `user-${n % 11}`, value: `checkout at ${new Date().toISOString()}` }] },
      ],
    });
    if (!shippingStopped && t > seconds * 0.6) {
      shippingStopped = true;
      await shipping.stop(); // from here on "shipping" falls behind
    }
    await Bun.sleep(100); // pacing the load, not synchronisation
  }
})();
await Bun.sleep(seconds * 1000);

const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  userDataDir: profile,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1360, height: 860 });
  await page.goto(`${broker.http!.url}/#/`);
  await page.waitForSelector('[data-testid="chart-messages"] polyline');
  await page.screenshot({ path: join(docs, "console.png") });
  await page.goto(`${broker.http!.url}/#/topics/orders/messages`);
  await page.waitForSelector('[data-testid="message-row"]');
  await page.screenshot({ path: join(docs, "console-messages.png") });
  console.log(`wrote ${join(docs, "console.png")} and console-messages.png`);
} finally {
  running = false;
  await traffic;
  await shipping.disconnect();
  await browser.close();
  await billing.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  rmSync(profile, { recursive: true, force: true });
}
await broker.close();
rmSync(data, { recursive: true, force: true });
