#!/usr/bin/python3
"""Produce with librdkafka (confluent_kafka) and report every delivery.

stdin JSON:
  bootstrap       "host:port"
  topic           default topic
  config          extra producer properties (acks, compression.type, linger.ms, ...)
  messages        [{key, value, headers: [[k, v]], partition, timestamp, topic}], all fields optional
  generate        {count, key_prefix, value_prefix, keys}: generate messages i=0..count-1 instead
  flush_every     flush after every N messages (forces separate requests/batches); default: only at the end
  flush_timeout   seconds (default 30)
  warm_metadata   fetch the topic's metadata before producing, so messages queue straight on their
                  partition (with linger.ms, the whole run then goes out as one batch at flush)
stdout: one JSON line per delivery report, as it arrives:
  {"i", "topic", "partition", "offset", "key", "value", "headers", "timestamp", "error"}
  then {"summary": {"delivered": n, "failed": m}}
exit: 0 when every message was delivered, 2 when some failed, 1 on other errors.
"""
import sys

from confluent_kafka import Producer

from _common import emit, fail, from_bytes, headers_in, read_request, to_bytes

req = read_request()
conf = {
    "bootstrap.servers": req["bootstrap"],
    "enable.idempotence": False,
    "acks": "all",
}
conf.update(req.get("config") or {})

messages = req.get("messages")
gen = req.get("generate")
if gen:
    keys = gen.get("keys") or 1
    messages = [
        {
            "key": "%s%d" % (gen.get("key_prefix", "k"), i % keys),
            "value": "%s%d" % (gen.get("value_prefix", "v"), i),
        }
        for i in range(gen["count"])
    ]
messages = messages or []

state = {"delivered": 0, "failed": 0}


def make_report(i, m):
    def report(err, msg):
        out = {
            "i": i,
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": from_bytes(msg.key()),
            "value": from_bytes(msg.value()),
            "headers": m.get("headers") or [],
            "timestamp": list(msg.timestamp()),
            "error": None if err is None else {"code": err.code(), "name": err.name(), "str": err.str()},
        }
        state["failed" if err is not None else "delivered"] += 1
        emit(out)

    return report


producer = Producer(conf)
flush_every = req.get("flush_every")
flush_timeout = req.get("flush_timeout", 30)
try:
    if req.get("warm_metadata"):
        producer.list_topics(req["topic"], timeout=flush_timeout)
    for i, m in enumerate(messages):
        kwargs = {
            "value": to_bytes(m.get("value")),
            "key": to_bytes(m.get("key")),
            "on_delivery": make_report(i, m),
        }
        if m.get("partition") is not None:
            kwargs["partition"] = m["partition"]
        if m.get("timestamp") is not None:
            kwargs["timestamp"] = m["timestamp"]
        if m.get("headers"):
            kwargs["headers"] = headers_in(m["headers"])
        while True:
            try:
                producer.produce(m.get("topic") or req["topic"], **kwargs)
                break
            except BufferError:
                producer.poll(0.1)  # local queue full: serve delivery reports, then retry
        producer.poll(0)
        if flush_every and (i + 1) % flush_every == 0:
            producer.flush(flush_timeout)
    remaining = producer.flush(flush_timeout)
except Exception as e:  # noqa: BLE001
    fail("confluent_produce: %r" % (e,))

emit({"summary": {"delivered": state["delivered"], "failed": state["failed"], "undelivered": remaining}})
sys.exit(0 if state["failed"] == 0 and remaining == 0 else 2)
