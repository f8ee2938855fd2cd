#!/usr/bin/python3
"""Offset look-ups with kafka-python (no group).

stdin JSON: {bootstrap, config, ops: [...]}, each op one of
  {"op": "partitions", "topic"}                          partitions_for_topic
  {"op": "beginning_offsets", "topic", "partitions"}
  {"op": "end_offsets", "topic", "partitions"}
  {"op": "offsets_for_times", "topic", "times": {"<p>": ts_ms}}
stdout: one JSON line per op.
"""
import time

from kafka import KafkaConsumer, TopicPartition

from _common import emit, read_request

req = read_request()
config = {"group_id": None, "enable_auto_commit": False, "request_timeout_ms": 15000}
config.update(req.get("config") or {})
consumer = KafkaConsumer(bootstrap_servers=req["bootstrap"], **config)
try:
    for op in req["ops"]:
        kind = op["op"]
        if kind == "partitions":
            deadline = time.monotonic() + 10
            found = consumer.partitions_for_topic(op["topic"])
            while not found and time.monotonic() < deadline:
                consumer.poll(timeout_ms=200)
                found = consumer.partitions_for_topic(op["topic"])
            emit({"op": kind, "partitions": sorted(found) if found else None})
        elif kind in ("beginning_offsets", "end_offsets"):
            tps = [TopicPartition(op["topic"], p) for p in op["partitions"]]
            res = getattr(consumer, kind)(tps)
            emit({"op": kind, "offsets": {str(tp.partition): o for tp, o in res.items()}})
        elif kind == "offsets_for_times":
            res = consumer.offsets_for_times({TopicPartition(op["topic"], int(p)): int(ts)
                                              for p, ts in op["times"].items()})
            emit({"op": kind, "offsets": {
                str(tp.partition): (None if o is None else {"offset": o.offset, "timestamp": o.timestamp})
                for tp, o in res.items()}})
        else:
            raise ValueError("unknown op %r" % kind)
    api_version = consumer.config.get("api_version")
    emit({"op": "api_version", "api_version": list(api_version) if api_version else None})
finally:
    consumer.close()
