#!/usr/bin/python3
"""Consume as a member of a consumer group with kafka-python: KafkaConsumer(group_id=...) + manual commit.

stdin JSON:
  bootstrap, topic, group
  max_messages  stop after this many messages (default: until the end offsets taken at assignment)
  metadata      commit metadata string to commit with (default: none)
  config        extra KafkaConsumer keyword arguments
  timeout_s     give up after this long (default 30)
stdout: one JSON line per message {"partition", "offset", "key", "value"}, then
{"summary": {"count", "committed": {"<p>": [offset, metadata]}, "assigned": [...]}}.
exit: 0 when done, 3 on timeout.
"""
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from _common import emit, fail, from_bytes, read_request

req = read_request()
topic = req["topic"]
config = {
    "group_id": req["group"],
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 500,
    "request_timeout_ms": 15000,
}
config.update(req.get("config") or {})
timeout_s = req.get("timeout_s", 30)
deadline = time.monotonic() + timeout_s
max_messages = req.get("max_messages")
metadata = req.get("metadata")

consumer = KafkaConsumer(topic, bootstrap_servers=req["bootstrap"], **config)
count = 0
positions = {}
ends = None
try:
    while True:
        if max_messages is not None and count >= max_messages:
            break
        assignment = consumer.assignment()
        if max_messages is None and assignment:
            if ends is None:
                ends = consumer.end_offsets(list(assignment))
            if all(consumer.position(tp) >= ends[tp] for tp in assignment):
                break
        if time.monotonic() > deadline:
            emit({"summary": {"count": count, "timeout": True}})
            fail("group_kafka_python_consume: timed out", 3)
        batch = consumer.poll(timeout_ms=200, max_records=1 if max_messages is not None else 500)
        for tp, records in batch.items():
            for r in records:
                emit({"partition": r.partition, "offset": r.offset, "key": from_bytes(r.key), "value": from_bytes(r.value)})
                positions[tp] = r.offset + 1
                count += 1
    if positions:
        if metadata is None:
            consumer.commit({tp: OffsetAndMetadata(off, None) for tp, off in positions.items()})
        else:
            consumer.commit({tp: OffsetAndMetadata(off, metadata) for tp, off in positions.items()})
    assigned = sorted(tp.partition for tp in consumer.assignment())
    committed = {}
    for p in assigned:
        tp = TopicPartition(topic, p)
        off = consumer.committed(tp)
        committed[str(p)] = off
    emit({"summary": {"count": count, "committed": committed, "assigned": assigned}})
finally:
    consumer.close()
