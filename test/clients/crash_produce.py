#!/usr/bin/python3
"""An idempotent librdkafka producer (confluent_kafka) that runs until SIGTERM, for the crash driver.

It keeps producing at a steady rate while the broker is killed and restarted under it: librdkafka
retries what was in flight, and the broker's producer state must turn those retries into duplicates
it acknowledges rather than records it appends twice.

stdin JSON:
  bootstrap   "host:port"
  session     a name unique to this process: every value is "<session>:<topic>:<n>"
  topics      [{"topic", "keys"}]: each message goes to the next topic in turn; with "keys" K the key
              is "k<n % K>" (a compacted topic), without it "k<n>" (spread over the partitions)
  rate        messages per second over all topics (default 200)
  config      extra producer properties
stdout: one JSON line per delivery report {"t": topic, "p": partition, "o": offset, "k": key, "v": value,
        "e": null | error name}; on SIGTERM the queue is flushed (20 s at most) and
        {"summary": {"produced", "delivered", "failed", "undelivered"}} ends the output.
"""
import signal
import sys
import time

from confluent_kafka import Producer

from _common import emit, read_request

req = read_request()
conf = {
    "bootstrap.servers": req["bootstrap"],
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 5,
    # Long enough to outlive a broker restart: records are retried, never given up on.
    "message.timeout.ms": 300000,
    "retry.backoff.ms": 50,
    "reconnect.backoff.ms": 20,
    "reconnect.backoff.max.ms": 300,
    "topic.metadata.refresh.interval.ms": 1000,
}
conf.update(req.get("config") or {})
session = req["session"]
topics = req["topics"]
rate = float(req.get("rate", 200))

stopping = {"now": False}
signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__("now", True))
state = {"produced": 0, "delivered": 0, "failed": 0}


def report(err, msg):
    key = msg.key()
    emit({
        "t": msg.topic(),
        "p": msg.partition(),
        "o": msg.offset(),
        "k": key.decode() if key is not None else None,
        "v": msg.value().decode(),
        "e": None if err is None else err.name(),
    })
    state["failed" if err is not None else "delivered"] += 1


producer = Producer(conf)
counters = [0] * len(topics)
started = time.monotonic()
turn = 0
while not stopping["now"]:
    due = int((time.monotonic() - started) * rate) - state["produced"]
    for _ in range(max(0, min(due, 1000))):
        i = turn % len(topics)
        turn += 1
        spec = topics[i]
        n = counters[i]
        counters[i] += 1
        keys = spec.get("keys")
        key = "k%d" % (n % keys if keys else n)
        value = "%s:%s:%d" % (session, spec["topic"], n)
        while True:
            try:
                producer.produce(spec["topic"], value=value.encode(), key=key.encode(), on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        state["produced"] += 1
    producer.poll(0.01)

remaining = producer.flush(20)
emit({"summary": {"produced": state["produced"], "delivered": state["delivered"], "failed": state["failed"], "undelivered": remaining}})
sys.exit(0)
