#!/usr/bin/python3
"""Consume with librdkafka (confluent_kafka) using assign() only: no group membership, no commits.

librdkafka insists on a group.id for a Consumer; a dummy one is set, but the script never subscribes,
never commits (enable.auto.commit=false, enable.auto.offset.store=false) and gives explicit start
offsets, so no group API should be needed.

stdin JSON:
  bootstrap, topic
  partitions   [p, ...] (default: all, from metadata)
  start        "beginning" (default) | "end" | {"<p>": offset}
  config       extra consumer properties
  timeout_s    give up after this long (default 20)
  max_messages stop after this many
stdout: one JSON line per message:
  {"partition", "offset", "key", "value", "headers", "timestamp", "tstype"}
  then {"summary": {"count", "eof": [p...]}}
exit: 0 when every assigned partition reached its end, 3 on timeout, 4 on a consumer error.
"""
import sys
import time

from confluent_kafka import (OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaError, TopicPartition)

from _common import emit, fail, from_bytes, headers_out, read_request

req = read_request()
topic = req["topic"]
conf = {
    "bootstrap.servers": req["bootstrap"],
    "group.id": "brook-e2e-unused-group",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,
    "auto.offset.reset": "earliest",
}
conf.update(req.get("config") or {})
timeout_s = req.get("timeout_s", 20)
deadline = time.monotonic() + timeout_s

consumer = Consumer(conf)
try:
    partitions = req.get("partitions")
    if partitions is None:
        md = consumer.list_topics(topic, timeout=timeout_s)
        t = md.topics.get(topic)
        if t is None or t.error is not None:
            fail("confluent_consume: topic %s not in metadata: %r" % (topic, t and t.error), 4)
        partitions = sorted(t.partitions.keys())

    start = req.get("start", "beginning")
    tps = []
    for p in partitions:
        if start == "beginning":
            off = OFFSET_BEGINNING
        elif start == "end":
            off = OFFSET_END
        else:
            off = int(start[str(p)])
        tps.append(TopicPartition(topic, p, off))
    consumer.assign(tps)

    eof = set()
    count = 0
    max_messages = req.get("max_messages")
    while len(eof) < len(partitions):
        if max_messages is not None and count >= max_messages:
            break
        if time.monotonic() > deadline:
            emit({"summary": {"count": count, "eof": sorted(eof), "timeout": True}})
            fail("confluent_consume: timed out; eof for %s of %s" % (sorted(eof), partitions), 3)
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                eof.add(msg.partition())
                continue
            emit({"error": {"code": err.code(), "name": err.name(), "str": err.str()}})
            fail("confluent_consume: %s" % err.str(), 4)
        eof.discard(msg.partition())
        tstype, ts = msg.timestamp()
        emit({
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": from_bytes(msg.key()),
            "value": from_bytes(msg.value()),
            "headers": headers_out(msg.headers()),
            "timestamp": ts,
            "tstype": tstype,
        })
        count += 1
    emit({"summary": {"count": count, "eof": sorted(eof)}})
finally:
    consumer.close()
