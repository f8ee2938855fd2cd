// One consumer group member on librdkafka (@confluentinc/kafka-javascript), run under Node by the tests.
// Input: one JSON object as argv[2]:
//   { bootstrap, groupId, topics: [names or ^regex], protocol: "consumer" | "classic", clientId?,
//     instanceId?, remoteAssignor?, commit?: true (commit each message synchronously),
//     sessionTimeoutMs?, strategy? (classic: partition.assignment.strategy, default cooperative-sticky),
//     config? (more librdkafka properties), debug? }
// Output: JSON lines on stdout: {event:"ready"}, {event:"assigned"|"revoked", partitions:[{topic,partition}]},
// {event:"message", topic, partition, offset, value}, {event:"committed", ...}, {event:"error", ...}
// (errors librdkafka only logs: where "log", with fac and message), {event:"closed"}. Commands, one per
// stdin line: "close" leaves the group and exits; "kill" exits at once without leaving (its session
// times out on the broker).
"use strict";
const Kafka = require("@confluentinc/kafka-javascript");

const opts = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const tps = (list) => (list || []).map((p) => ({ topic: p.topic, partition: p.partition }));

const conf = {
  "bootstrap.servers": opts.bootstrap,
  "group.id": opts.groupId,
  "client.id": opts.clientId || "group-member",
  "group.protocol": opts.protocol || "consumer",
  "enable.auto.commit": false,
  "topic.metadata.refresh.interval.ms": 500,
  "socket.keepalive.enable": true,
  rebalance_cb: function (err, assignment) {
    try {
      if (err.code === Kafka.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        out({ event: "assigned", partitions: tps(assignment) });
        if (this.rebalanceProtocol() === "COOPERATIVE") this.incrementalAssign(assignment);
        else this.assign(assignment);
      } else if (err.code === Kafka.CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
        out({ event: "revoked", partitions: tps(assignment) });
        if (this.rebalanceProtocol() === "COOPERATIVE") this.incrementalUnassign(assignment);
        else this.unassign();
      } else out({ event: "error", where: "rebalance", code: err.code, message: err.message });
    } catch (e) {
      out({ event: "error", where: "rebalance_cb", message: String(e && e.message) });
    }
  },
};
if (opts.instanceId) conf["group.instance.id"] = opts.instanceId;
if (opts.remoteAssignor) conf["group.remote.assignor"] = opts.remoteAssignor;
if (opts.protocol === "classic") {
  conf["partition.assignment.strategy"] = opts.strategy || "cooperative-sticky";
  conf["session.timeout.ms"] = opts.sessionTimeoutMs || 6000;
  conf["heartbeat.interval.ms"] = 500;
}
if (opts.config) Object.assign(conf, opts.config);
if (opts.debug) conf.debug = opts.debug;

const consumer = new Kafka.KafkaConsumer(conf, { "auto.offset.reset": "earliest" });
let closing = false;

consumer.on("event.error", (e) => out({ event: "error", code: e.code, message: e.message }));
// Errors librdkafka only logs (a fatal ConsumerGroupHeartbeat error is one) are events too.
consumer.on("event.log", (l) => {
  if (l.severity <= 3) out({ event: "error", where: "log", fac: l.fac, message: l.message });
  if (opts.debug) process.stderr.write(`${l.fac} ${l.message}\n`);
});
consumer.on("ready", () => {
  consumer.subscribe(opts.topics);
  consumer.consume((err) => {
    if (err) out({ event: "error", where: "consume", code: err.code, message: err.message });
  });
  out({ event: "ready" });
});
consumer.on("data", (m) => {
  // A member that is closing does not process what was still on its way to it (as an application that
  // stops consuming would not): it is not committed, so its next owner reads it.
  if (opts.commit && closing) return;
  out({ event: "message", topic: m.topic, partition: m.partition, offset: m.offset, value: m.value ? m.value.toString() : null });
  if (opts.commit) {
    try {
      consumer.commitMessageSync(m);
      out({ event: "committed", topic: m.topic, partition: m.partition, offset: m.offset + 1 });
    } catch (e) {
      out({ event: "error", where: "commit", code: e.code, message: e.message });
    }
  }
});
consumer.connect();

let buffered = "";
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const cmd = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    if (cmd === "kill") process.exit(0);
    if (cmd === "close" && !closing) {
      closing = true;
      // Stop fetching first: disconnecting while records are still being handed to JavaScript can leave
      // the binding waiting on them long after the consumer has left its group.
      try {
        consumer.pause(consumer.assignments());
      } catch (e) {
        out({ event: "error", where: "pause", message: String(e && e.message) });
      }
      consumer.disconnect(() => {
        out({ event: "closed" });
        process.exit(0);
      });
    }
  }
});
