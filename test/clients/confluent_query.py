#!/usr/bin/python3
"""Metadata and offset look-ups with librdkafka (confluent_kafka).

stdin JSON: {bootstrap, config, timeout_s, ops: [...]}, each op one of
  {"op": "metadata", "topic": name | null}
  {"op": "watermarks", "topic", "partition"}           get_watermark_offsets(cached=False)
  {"op": "offsets_for_times", "topic", "times": {"<p>": ts_ms}}
stdout: one JSON line per op, in order: {"op", ...result}
"""
from confluent_kafka import Consumer, TopicPartition

from _common import emit, read_request

req = read_request()
conf = {
    "bootstrap.servers": req["bootstrap"],
    "group.id": "brook-e2e-unused-group",
    "enable.auto.commit": False,
}
conf.update(req.get("config") or {})
timeout_s = req.get("timeout_s", 10)


def err_out(e):
    return None if e is None else {"code": e.code(), "name": e.name(), "str": e.str()}


consumer = Consumer(conf)
try:
    for op in req["ops"]:
        kind = op["op"]
        if kind == "metadata":
            md = consumer.list_topics(op.get("topic"), timeout=timeout_s)
            emit({
                "op": kind,
                "controller_id": md.controller_id,
                "orig_broker_id": md.orig_broker_id,
                "brokers": sorted(
                    [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()],
                    key=lambda b: b["id"]),
                "topics": {
                    name: {
                        "error": err_out(t.error),
                        "partitions": {
                            str(p.id): {
                                "leader": p.leader,
                                "replicas": list(p.replicas),
                                "isrs": list(p.isrs),
                                "error": err_out(p.error),
                            }
                            for p in t.partitions.values()
                        },
                    }
                    for name, t in md.topics.items()
                },
            })
        elif kind == "watermarks":
            low, high = consumer.get_watermark_offsets(
                TopicPartition(op["topic"], op["partition"]), timeout=timeout_s, cached=False)
            emit({"op": kind, "partition": op["partition"], "low": low, "high": high})
        elif kind == "offsets_for_times":
            tps = [TopicPartition(op["topic"], int(p), int(ts)) for p, ts in op["times"].items()]
            res = consumer.offsets_for_times(tps, timeout=timeout_s)
            emit({
                "op": kind,
                "offsets": {str(tp.partition): {"offset": tp.offset, "error": err_out(tp.error)} for tp in res},
            })
        else:
            raise ValueError("unknown op %r" % kind)
finally:
    consumer.close()
