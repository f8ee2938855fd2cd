// A transactional producer on librdkafka 2.15 (@confluentinc/kafka-javascript), run under Node by the
// tests. Input: one JSON object as argv[2]: { bootstrap, topic, transactionalId, transactions: [{ values:
// [...], partition, commit: bool }] }. Each transaction is begun, its values produced, and committed or
// aborted. Output: JSON lines {event:"committed"|"aborted", index}, then {event:"done"} (or {event:"error"}).
"use strict";
const Kafka = require("@confluentinc/kafka-javascript");

const opts = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (e) => {
  out({ event: "error", message: String(e) });
  process.exit(1);
};
const p = (fn) => new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

const producer = new Kafka.Producer({
  "bootstrap.servers": opts.bootstrap,
  "transactional.id": opts.transactionalId,
  "client.id": "txn-producer-2.15",
  dr_cb: true,
});
producer.setPollInterval(20);

(async () => {
  await p((cb) => producer.connect({}, cb));
  await p((cb) => producer.initTransactions(30000, cb));
  for (let i = 0; i < opts.transactions.length; i++) {
    const t = opts.transactions[i];
    await p((cb) => producer.beginTransaction(cb));
    for (const v of t.values) producer.produce(opts.topic, t.partition ?? 0, Buffer.from(v), null);
    if (t.commit) {
      await p((cb) => producer.commitTransaction(30000, cb));
      out({ event: "committed", index: i });
    } else {
      // Sent first, so the aborted records are in the log (abort alone would purge unsent ones).
      await p((cb) => producer.flush(30000, cb));
      await p((cb) => producer.abortTransaction(30000, cb));
      out({ event: "aborted", index: i });
    }
  }
  await p((cb) => producer.disconnect(cb));
  out({ event: "done" });
  process.exit(0);
})().catch(fail);
