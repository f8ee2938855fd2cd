#!/usr/bin/python3
"""Produce (or consume) flat out with librdkafka (confluent_kafka) for a while, reporting the broker's
throttling as the client sees it (throttle_cb) and the bytes that got through.

stdin JSON:
  bootstrap      "host:port"
  topic          topic to produce to / consume from
  mode           "produce" (default) or "consume"
  client_id      client.id (quotas match on it)
  seconds        how long to run (produce: keep producing; consume: stop at the end too)
  value_size     produce: bytes per record value (default 1000)
  max_bytes      produce: stop after this many value bytes and wait for all of them to be acknowledged
  expect         consume: stop once this many value bytes arrived (default: run the full time)
  config         extra client properties
stdout: {"throttle": ms, "t": seconds since start} per throttle event the client got, then
  {"summary": {"bytes": value bytes acked/consumed, "records": n, "elapsed": s, "throttles": n,
               "timeline": [[t, cumulative bytes], ...] every 0.25 s}}
"""
import time

from confluent_kafka import Consumer, KafkaError, Producer

from _common import emit, read_request

req = read_request()
mode = req.get("mode", "produce")
start = time.monotonic()
throttles = []


def on_throttle(ev):
    if ev.throttle_time > 0:
        throttles.append(ev.throttle_time)
        emit({"throttle": int(round(ev.throttle_time * 1000)), "t": round(time.monotonic() - start, 3)})


conf = {"bootstrap.servers": req["bootstrap"], "client.id": req.get("client_id", "quota-test"), "throttle_cb": on_throttle}
conf.update(req.get("config") or {})
seconds = float(req.get("seconds", 5))
state = {"bytes": 0, "records": 0}
timeline = []
next_mark = 0.25


def mark():
    global next_mark
    t = time.monotonic() - start
    while t >= next_mark:
        timeline.append([round(next_mark, 2), state["bytes"]])
        next_mark += 0.25


if mode == "produce":
    size = int(req.get("value_size", 1000))
    value = b"x" * size
    conf.setdefault("acks", "1")
    conf.setdefault("linger.ms", 5)
    p = Producer(conf)

    def on_delivery(err, msg):
        if err is None:
            state["bytes"] += len(msg.value())
            state["records"] += 1

    limit = req.get("max_bytes")
    queued = 0
    while time.monotonic() - start < seconds and (limit is None or queued < limit):
        try:
            p.produce(req["topic"], value, on_delivery=on_delivery)
            queued += size
        except BufferError:
            p.poll(0.01)
        p.poll(0)
        mark()
    if limit is not None:
        p.flush(60)
    # Otherwise what is still queued does not count: only what the broker acknowledged within the time.
    p.poll(0)
    elapsed = time.monotonic() - start
    mark()
    p.purge()
    p.flush(5)
else:
    conf.update({"group.id": req.get("group", "quota-consumer"), "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c = Consumer(conf)
    c.subscribe([req["topic"]])
    want = req.get("expect")
    while time.monotonic() - start < seconds and (want is None or state["bytes"] < want):
        msg = c.poll(0.1)
        if msg is not None and msg.error() is None:
            state["bytes"] += len(msg.value())
            state["records"] += 1
        mark()
    elapsed = time.monotonic() - start
    c.close()

emit({"summary": {"bytes": state["bytes"], "records": state["records"], "elapsed": round(elapsed, 3), "throttles": len(throttles), "timeline": timeline}})
