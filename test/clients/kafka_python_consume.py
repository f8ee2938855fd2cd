#!/usr/bin/python3
"""Consume with kafka-python without a group (group_id=None): assign() plus seek/seek_to_beginning.

stdin JSON:
  bootstrap, topic
  partitions  [p, ...] (default: partitions_for_topic)
  start       "beginning" (default: seek_to_beginning) | {"<p>": offset} (seek)
  config      extra KafkaConsumer keyword arguments
  timeout_s   give up after this long (default 20)
stdout: one JSON line per record:
  {"partition", "offset", "key", "value", "headers", "timestamp", "tstype"}
  then {"summary": {"count", "end_offsets", "api_version"}}
The script reads until each partition's position reaches its end offset (taken once at the start).
exit: 0 when done, 3 on timeout.
"""
import sys
import time

from kafka import KafkaConsumer, TopicPartition

from _common import emit, fail, from_bytes, headers_out, read_request

req = read_request()
topic = req["topic"]
config = {
    "group_id": None,
    "enable_auto_commit": False,
    "auto_offset_reset": "earliest",
    "request_timeout_ms": 15000,
}
config.update(req.get("config") or {})
timeout_s = req.get("timeout_s", 20)
deadline = time.monotonic() + timeout_s

consumer = KafkaConsumer(bootstrap_servers=req["bootstrap"], **config)
try:
    partitions = req.get("partitions")
    if partitions is None:
        found = None
        while not found:
            found = consumer.partitions_for_topic(topic)
            if found:
                break
            if time.monotonic() > deadline:
                fail("kafka_python_consume: no partitions for %s" % topic, 3)
            consumer.poll(timeout_ms=200)  # lets the client refresh metadata
        partitions = sorted(found)
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    start = req.get("start", "beginning")
    if start == "beginning":
        consumer.seek_to_beginning(*tps)
    else:
        for tp in tps:
            consumer.seek(tp, int(start[str(tp.partition)]))
    end = consumer.end_offsets(tps)

    count = 0
    while any(consumer.position(tp) < end[tp] for tp in tps):
        if time.monotonic() > deadline:
            fail("kafka_python_consume: timed out at %r of %r" % (
                {tp.partition: consumer.position(tp) for tp in tps}, {tp.partition: o for tp, o in end.items()}), 3)
        batches = consumer.poll(timeout_ms=500)
        for tp in sorted(batches.keys(), key=lambda t: t.partition):
            for r in batches[tp]:
                emit({
                    "partition": r.partition,
                    "offset": r.offset,
                    "key": from_bytes(r.key),
                    "value": from_bytes(r.value),
                    "headers": headers_out(r.headers),
                    "timestamp": r.timestamp,
                    "tstype": r.timestamp_type,
                })
                count += 1
    api_version = consumer.config.get("api_version")
    emit({"summary": {"count": count, "end_offsets": {str(tp.partition): o for tp, o in end.items()},
                      "api_version": list(api_version) if api_version else None}})
finally:
    consumer.close()
