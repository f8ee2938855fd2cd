#!/usr/bin/python3
"""A transactional (or idempotent) librdkafka producer (confluent_kafka) driven by a list of steps.

stdin JSON:
  bootstrap         "host:port"
  transactional_id  the producer's transactional.id (omit for an idempotent-only producer)
  config            extra producer properties
  steps             run in order; each prints {"step": i, "op": ..., "ok": true, ...} or, when it raises,
                    {"step": i, "op": ..., "ok": false, "error": {code, name, str, fatal, retriable, abortable}}
                    and the script stops (exit 3) unless the step has "may_fail": true.
    {"op": "init"}                                  init_transactions()
    {"op": "begin"}                                 begin_transaction()
    {"op": "produce", "topic", "partition"?, "prefix", "count", "key"?}
                                                    produce count messages, value "<prefix><i>"
    {"op": "flush"}                                 flush(), reports delivered/failed counts
    {"op": "commit"} / {"op": "abort"}              commit_transaction() / abort_transaction()
    {"op": "send_offsets", "group", "offsets": {"topic": {"partition": offset}}}
                                                    send_offsets_to_transaction() with a consumer's group
                                                    metadata (a consumer of that group, never subscribed)
    {"op": "wait_file", "path"}                     block until the file exists (the test's signal)
    {"op": "ctp", "input", "output", "group", "count", "per_txn"}
                                                    consume-transform-produce: a group consumer
                                                    (read_committed) reads `count` messages from `input`;
                                                    every `per_txn` of them go, upper-cased, to `output`
                                                    in one transaction together with the consumer's
                                                    positions (send_offsets_to_transaction)
stdout: one JSON line per step, per delivery failure {"delivery_error": ...}, and at the end
        {"summary": {"delivered": n, "failed": m}}.
"""
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from _common import emit, read_request

req = read_request()
conf = {"bootstrap.servers": req["bootstrap"], "acks": "all"}
if req.get("transactional_id"):
    conf["transactional.id"] = req["transactional_id"]
conf.update(req.get("config") or {})

state = {"delivered": 0, "failed": 0}


def on_delivery(err, msg):
    if err is None:
        state["delivered"] += 1
    else:
        state["failed"] += 1
        emit({"delivery_error": {"code": err.code(), "name": err.name(), "str": err.str()}, "value": msg.value().decode()})


def error_of(e):
    err = e.args[0] if e.args else None
    if err is None or not hasattr(err, "code"):
        return {"str": repr(e)}
    return {
        "code": err.code(),
        "name": err.name(),
        "str": err.str(),
        "fatal": err.fatal(),
        "retriable": err.retriable(),
        "abortable": err.txn_requires_abort(),
    }


producer = Producer(conf)


def produce(topic, prefix, count, partition=None, key=None):
    for i in range(count):
        kwargs = {"value": ("%s%d" % (prefix, i)).encode(), "on_delivery": on_delivery}
        if key is not None:
            kwargs["key"] = key.encode()
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)


def group_metadata(group):
    c = Consumer({"bootstrap.servers": req["bootstrap"], "group.id": group, "enable.auto.commit": False})
    try:
        return c.consumer_group_metadata()
    finally:
        c.close()


def ctp(step):
    consumer = Consumer({
        "bootstrap.servers": req["bootstrap"],
        "group.id": step["group"],
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 6000,
    })
    consumer.subscribe([step["input"]])
    done = 0
    txns = 0
    deadline = time.monotonic() + step.get("timeout_s", 40)
    try:
        while done < step["count"]:
            batch = []
            while len(batch) < step["per_txn"] and done + len(batch) < step["count"]:
                if time.monotonic() > deadline:
                    raise RuntimeError("ctp: timed out after %d of %d messages" % (done + len(batch), step["count"]))
                msg = consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                batch.append(msg)
            producer.begin_transaction()
            for m in batch:
                producer.produce(step["output"], key=m.key(), value=m.value().upper(), on_delivery=on_delivery)
            positions = consumer.position(consumer.assignment())
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata())
            producer.commit_transaction()
            done += len(batch)
            txns += 1
    finally:
        consumer.close()
    return {"consumed": done, "transactions": txns}


code = 0
for i, step in enumerate(req.get("steps") or []):
    op = step["op"]
    out = {"step": i, "op": op}
    try:
        if op == "init":
            producer.init_transactions(step.get("timeout_s", 30))
        elif op == "begin":
            producer.begin_transaction()
        elif op == "produce":
            produce(step["topic"], step.get("prefix", "v"), step["count"], step.get("partition"), step.get("key"))
        elif op == "flush":
            out["remaining"] = producer.flush(step.get("timeout_s", 30))
            out["delivered"] = state["delivered"]
            out["failed"] = state["failed"]
        elif op == "commit":
            producer.commit_transaction(step.get("timeout_s", 30))
        elif op == "abort":
            producer.abort_transaction(step.get("timeout_s", 30))
        elif op == "send_offsets":
            tps = [TopicPartition(t, int(p), off) for t, parts in step["offsets"].items() for p, off in parts.items()]
            producer.send_offsets_to_transaction(tps, group_metadata(step["group"]), step.get("timeout_s", 30))
        elif op == "wait_file":
            while not os.path.exists(step["path"]):
                producer.poll(0.05)
        elif op == "ctp":
            out.update(ctp(step))
        else:
            raise ValueError("unknown op " + op)
        out["ok"] = True
        emit(out)
    except (KafkaException, RuntimeError) as e:  # noqa: PERF203
        out["ok"] = False
        out["error"] = error_of(e)
        emit(out)
        if not step.get("may_fail"):
            code = 3
            break

emit({"summary": {"delivered": state["delivered"], "failed": state["failed"]}})
sys.exit(code)
