// A long-running librdkafka 2.15 consumer (@confluentinc/kafka-javascript's node-rdkafka API), run with
// `node` by the tests. Input: one JSON argument {bootstrap, topic, group, config?, exitAfter?}. It
// subscribes, and prints one JSON line per event on stdout:
//   {"ready":true}                                   once the consumer has started
//   {"message":{partition, offset, key, value, leaderEpoch}}
//   {"error":{code, message}}                        consumer/partition errors reported to the app
//   {"log":"..."}                                    librdkafka debug lines (when config.debug is set)
// It exits when stdin closes (or after `exitAfter` messages).
"use strict";
const path = require("node:path");
const Kafka = require(path.join(__dirname, "node", "node_modules", "@confluentinc", "kafka-javascript"));

const input = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const consumer = new Kafka.KafkaConsumer(
  {
    "bootstrap.servers": input.bootstrap,
    "group.id": input.group,
    "enable.auto.commit": true,
    "socket.timeout.ms": 10000,
    ...(input.config ?? {}),
  },
  // topic-level properties go here: an empty topic config would override them with the defaults
  { "auto.offset.reset": "earliest" },
);

let received = 0;
let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  consumer.disconnect(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};

const printMessage = (m) => {
  out({
    message: {
      partition: m.partition,
      offset: m.offset,
      key: m.key ? m.key.toString() : null,
      value: m.value ? m.value.toString() : null,
      leaderEpoch: m.leaderEpoch ?? null,
    },
  });
  if (input.exitAfter && ++received >= input.exitAfter) close();
};
// Poll in batches like an application's poll loop: a consumer error (e.g. a partition error librdkafka
// passes on) is reported and polling goes on, where the flowing consume() loop would stop at it.
const poll = () => {
  if (closing) return;
  consumer.consume(100, (err, messages) => {
    if (err) out({ error: { code: err.code, message: err.message } });
    for (const m of messages ?? []) printMessage(m);
    setImmediate(poll);
  });
};

consumer.on("event.log", (l) => out({ log: `${l.fac} ${l.message}` }));
consumer.on("event.error", (e) => out({ error: { code: e.code, message: e.message } }));
consumer.on("ready", () => {
  consumer.setDefaultConsumeTimeout(200);
  consumer.subscribe([input.topic]);
  out({ ready: true });
  poll();
});
process.stdin.on("end", close);
process.stdin.resume();
consumer.connect();
