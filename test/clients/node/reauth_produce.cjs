// Produces one message every `interval_ms` for `count` messages with librdkafka 2.15 (KIP-368
// re-authentication built in), over one connection, and reports every delivery.
// stdin JSON: { bootstrap, topic, config: {librdkafka properties}, count, interval_ms }
// stdout: {"delivered": n, "errors": [...]}; exit 0 when all were delivered.
const { Producer } = require("@confluentinc/kafka-javascript");

const req = JSON.parse(require("fs").readFileSync(0, "utf8"));
const producer = new Producer({ "bootstrap.servers": req.bootstrap, dr_cb: true, ...req.config });
let delivered = 0;
const errors = [];
producer.on("delivery-report", (err) => {
  if (err) errors.push(String(err));
  else delivered++;
});
producer.on("event.error", (err) => errors.push(String(err)));
producer.setPollInterval(50);
producer.connect({}, (err) => {
  if (err) {
    console.log(JSON.stringify({ delivered, errors: [String(err)] }));
    process.exit(1);
  }
  let sent = 0;
  const timer = setInterval(() => {
    producer.produce(req.topic, null, Buffer.from(`m${sent}`));
    if (++sent === req.count) {
      clearInterval(timer);
      // Delivery reports arrive through polling: wait for all of them (bounded), then report.
      producer.flush(15000, () => {
        const deadline = Date.now() + 15000;
        const done = setInterval(() => {
          producer.poll();
          if (delivered + errors.length < req.count && Date.now() < deadline) return;
          clearInterval(done);
          console.log(JSON.stringify({ delivered, errors }));
          producer.disconnect(() => process.exit(delivered === req.count ? 0 : 2));
        }, 50);
      });
    }
  }, req.interval_ms);
});
