// A librdkafka (@confluentinc/kafka-javascript, librdkafka 2.15) producer that stays connected so that it
// pushes client telemetry (KIP-714) when the broker's subscriptions ask for it; run under Node by the
// tests. Input: one JSON object as argv[2]: { bootstrap, topic, clientId, messages?, debug? }.
// Output: JSON lines on stdout: {event:"ready"} once its messages are delivered, {event:"log", ...} for
// librdkafka's telemetry debug lines (with debug: true), {event:"closed"}. Command on stdin: "close".
"use strict";
const Kafka = require("@confluentinc/kafka-javascript");

const opts = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const conf = {
  "bootstrap.servers": opts.bootstrap,
  "client.id": opts.clientId,
  "enable.metrics.push": true,
  dr_cb: true,
};
if (opts.debug) conf.debug = "telemetry";
const producer = new Kafka.Producer(conf);
producer.on("event.log", (log) => {
  if (/telemetry/i.test(log.message) || /Telemetry/i.test(log.fac)) out({ event: "log", message: log.message });
});
producer.setPollInterval(50);
let pending = opts.messages ?? 5;
producer.on("delivery-report", (err) => {
  if (err) out({ event: "error", message: String(err) });
  if (--pending === 0) out({ event: "ready" });
});
producer.connect({}, (err) => {
  if (err) {
    out({ event: "error", message: String(err) });
    process.exit(1);
  }
  for (let i = 0; i < (opts.messages ?? 5); i++) producer.produce(opts.topic, null, Buffer.from(`m${i}`), null);
});

let buf = "";
process.stdin.on("data", (d) => {
  buf += d.toString();
  if (buf.includes("close")) {
    producer.disconnect(() => {
      out({ event: "closed" });
      process.exit(0);
    });
  }
});
