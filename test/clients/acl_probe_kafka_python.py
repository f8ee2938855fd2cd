#!/usr/bin/python3
"""What a kafka-python client is allowed to do: each step reports success or the exception it raised.

stdin JSON: {"bootstrap", "config" (client keyword arguments, e.g. SASL), "steps": [...]}, each step
  {"op": "consume", "topic", "group", "count"}  a group consumer (KafkaConsumer(group_id)) reads `count`
                                                messages from the beginning and commits them
  {"op": "produce", "topic", "values": [...]}   a KafkaProducer sends the values and waits for each
  {"op": "topics"}                              KafkaConsumer.topics(): the topics metadata shows
stdout: one JSON line per step: {"op", "ok": true, ...result} or {"op", "ok": false, "error": class name, "message"}
"""
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from _common import emit, from_bytes, read_request

req = read_request()
config = req.get("config") or {}


def consume(step):
    consumer = KafkaConsumer(step["topic"], bootstrap_servers=req["bootstrap"], group_id=step["group"],
                             enable_auto_commit=False, auto_offset_reset="earliest", session_timeout_ms=6000,
                             heartbeat_interval_ms=500, request_timeout_ms=15000, **config)
    try:
        # kafka-python 2.0.2 never raises a refused subscription to the consumer: a metadata answer with one
        # topic in error fails the client's metadata-update future, which nothing waits on, and the
        # consumer then waits without partitions. Wait on such an update here and raise its error.
        update = consumer._client.cluster.request_update()
        consumer._client.poll(future=update, timeout_ms=10000)
        if update.failed():
            raise update.exception
        values = []
        deadline = time.monotonic() + step.get("timeout_s", 20)
        while len(values) < step["count"]:
            if time.monotonic() > deadline:
                raise TimeoutError("read %d of %d messages" % (len(values), step["count"]))
            for records in consumer.poll(timeout_ms=200).values():
                values.extend(from_bytes(r.value) for r in records)
        consumer.commit()
        committed = consumer.committed(TopicPartition(step["topic"], 0))
        return {"values": values, "committed": committed}
    finally:
        consumer.close()


def produce(step):
    producer = KafkaProducer(bootstrap_servers=req["bootstrap"], acks=1, retries=0, request_timeout_ms=15000,
                             max_block_ms=15000, **config)
    try:
        offsets = [producer.send(step["topic"], value=v.encode()).get(timeout=15).offset for v in step["values"]]
        return {"offsets": offsets}
    finally:
        producer.close()


def topics(_step):
    consumer = KafkaConsumer(bootstrap_servers=req["bootstrap"], request_timeout_ms=15000, **config)
    try:
        return {"topics": sorted(consumer.topics())}
    finally:
        consumer.close()


for step in req["steps"]:
    try:
        out = {"consume": consume, "produce": produce, "topics": topics}[step["op"]](step)
        emit(dict(op=step["op"], ok=True, **out))
    except (KafkaError, TimeoutError) as e:
        emit({"op": step["op"], "ok": False, "error": type(e).__name__, "message": str(e)})
emit({"summary": {"steps": len(req["steps"])}})
