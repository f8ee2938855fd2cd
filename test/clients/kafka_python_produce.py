#!/usr/bin/python3
"""Produce with kafka-python (pure Python; it fingerprints the broker version from ApiVersions).

stdin JSON:
  bootstrap, topic
  config     KafkaProducer keyword arguments (acks, compression_type, linger_ms, ...)
  messages   [{key, value, headers: [[k, v]], partition, timestamp}]
stdout: one JSON line per message, in send order, after flush:
  {"i", "topic", "partition", "offset", "timestamp", "error"}
  then {"summary": {"delivered", "failed", "api_version"}}
exit: 0 when all were delivered, 2 otherwise.
"""
import sys

from kafka import KafkaProducer

from _common import emit, headers_in, read_request, to_bytes

req = read_request()
config = {"acks": 1, "request_timeout_ms": 15000, "max_block_ms": 15000}
config.update(req.get("config") or {})
producer = KafkaProducer(bootstrap_servers=req["bootstrap"], **config)

futures = []
for m in req.get("messages") or []:
    kwargs = {"value": to_bytes(m.get("value")), "key": to_bytes(m.get("key"))}
    if m.get("partition") is not None:
        kwargs["partition"] = m["partition"]
    if m.get("timestamp") is not None:
        kwargs["timestamp_ms"] = m["timestamp"]
    if m.get("headers"):
        kwargs["headers"] = headers_in(m["headers"])
    futures.append(producer.send(m.get("topic") or req["topic"], **kwargs))
producer.flush(timeout=30)

delivered = failed = 0
for i, f in enumerate(futures):
    try:
        md = f.get(timeout=30)
        emit({"i": i, "topic": md.topic, "partition": md.partition, "offset": md.offset,
              "timestamp": md.timestamp, "error": None})
        delivered += 1
    except Exception as e:  # noqa: BLE001
        emit({"i": i, "error": repr(e)})
        failed += 1
api_version = producer.config.get("api_version")
producer.close(timeout=10)
emit({"summary": {"delivered": delivered, "failed": failed,
                  "api_version": list(api_version) if api_version else None}})
sys.exit(0 if failed == 0 else 2)
