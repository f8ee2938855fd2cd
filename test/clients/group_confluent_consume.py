#!/usr/bin/python3
"""Consume as a member of a consumer group with librdkafka (confluent_kafka): subscribe() + manual commit.

stdin JSON:
  bootstrap, topic, group
  max_messages  stop after this many messages (default: run until every assigned partition is at its end)
  commit        "each" (commit synchronously after every message) | "end" (default: once, before close)
  config        extra consumer properties
  until_file    run until this file exists (instead of max_messages / the end of the partitions)
  timeout_s     give up after this long (default 30)
stdout: one JSON line per message {"partition", "offset", "key", "value"}, {"assigned": [...], "added": [...]}
after each assignment and {"revoked": [...]} after each revocation (incremental with cooperative-sticky),
then {"summary": {"count", "committed": {"<p>": offset}, "assignment": [...]}} with the group's committed
offsets as the broker reports them after the final commit.
exit: 0 when done, 3 on timeout, 4 on a consumer error.
"""
import os
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

from _common import emit, fail, from_bytes, read_request

req = read_request()
topic = req["topic"]
conf = {
    "bootstrap.servers": req["bootstrap"],
    "group.id": req["group"],
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "enable.partition.eof": True,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
}
conf.update(req.get("config") or {})
timeout_s = req.get("timeout_s", 30)
deadline = time.monotonic() + timeout_s
max_messages = req.get("max_messages")
until_file = req.get("until_file")
commit_mode = req.get("commit", "end")
cooperative = "cooperative" in str(conf.get("partition.assignment.strategy", ""))

assigned = []
eof = set()


def on_assign(consumer, partitions):
    added = sorted(p.partition for p in partitions)
    if cooperative:
        assigned[:] = sorted(set(assigned) | set(added))
    else:
        assigned[:] = added
    eof.clear()
    emit({"assigned": assigned, "added": added})


def on_revoke(consumer, partitions):
    revoked = sorted(p.partition for p in partitions)
    assigned[:] = sorted(set(assigned) - set(revoked))
    emit({"revoked": revoked})


consumer = Consumer(conf)
count = 0
try:
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while True:
        if until_file is not None:
            if os.path.exists(until_file):
                break
        elif max_messages is not None:
            if count >= max_messages:
                break
        elif assigned and eof >= set(assigned):
            break
        if time.monotonic() > deadline:
            emit({"summary": {"count": count, "timeout": True}})
            fail("group_confluent_consume: timed out (assigned %s, eof %s)" % (assigned, sorted(eof)), 3)
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                eof.add(msg.partition())
                continue
            emit({"error": {"code": err.code(), "name": err.name(), "str": err.str()}})
            fail("group_confluent_consume: %s" % err.str(), 4)
        eof.discard(msg.partition())
        emit({"partition": msg.partition(), "offset": msg.offset(), "key": from_bytes(msg.key()), "value": from_bytes(msg.value())})
        count += 1
        if commit_mode == "each":
            consumer.commit(message=msg, asynchronous=False)
    if commit_mode != "each" and count > 0:
        consumer.commit(asynchronous=False)
    parts = [TopicPartition(topic, p) for p in assigned]
    committed = consumer.committed(parts, timeout=10) if parts else []
    emit({"summary": {"count": count, "committed": {str(tp.partition): tp.offset for tp in committed},
                      "assignment": sorted(tp.partition for tp in consumer.assignment())}})
finally:
    consumer.close()
