#!/usr/bin/python3
"""A consumer group member (confluent_kafka, classic protocol) that consumes and commits until SIGTERM,
for the crash driver. Members come and go while the broker is killed and restarted, so the group
rebalances and its commits race the crashes.

stdin JSON:
  bootstrap, group, topics
  commit_every   commit synchronously after this many messages (default 50) and every 0.5 s
  config         extra consumer properties
stdout: {"c": {"<topic>/<p>": offset, ...}} for every commit the broker acknowledged (the offsets
        committed), {"ce": error} for one that failed, {"a": [...]} / {"r": [...]} on assignment and
        revocation, {"f": {"<topic>/<p>": offset}} for the first record read after each assignment
        (where the group's committed offset put the member), and {"summary": {...}} after SIGTERM
        (the member leaves the group).
"""
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException

from _common import emit, read_request

req = read_request()
conf = {
    "bootstrap.servers": req["bootstrap"],
    "group.id": req["group"],
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "reconnect.backoff.ms": 20,
    "reconnect.backoff.max.ms": 300,
}
conf.update(req.get("config") or {})
commit_every = req.get("commit_every", 50)

stopping = {"now": False}
signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__("now", True))
fresh = set()  # partitions assigned and not read from yet
state = {"consumed": 0, "commits": 0, "failed_commits": 0}


def tp_name(tp):
    return "%s/%d" % (tp.topic, tp.partition)


def on_assign(consumer, partitions):
    fresh.update(tp_name(p) for p in partitions)
    emit({"a": sorted(tp_name(p) for p in partitions)})


def on_revoke(consumer, partitions):
    commit(consumer)
    for p in partitions:
        fresh.discard(tp_name(p))
    emit({"r": sorted(tp_name(p) for p in partitions)})


def commit(consumer):
    try:
        done = consumer.commit(asynchronous=False)
    except KafkaException as e:
        err = e.args[0]
        if err.code() != KafkaError._NO_OFFSET:
            state["failed_commits"] += 1
            emit({"ce": err.name()})
        return
    ok = {tp_name(tp): tp.offset for tp in (done or []) if tp.error is None and tp.offset >= 0}
    if ok:
        state["commits"] += 1
        emit({"c": ok})


consumer = Consumer(conf)
consumer.subscribe(req["topics"], on_assign=on_assign, on_revoke=on_revoke)
since_commit = 0
last_commit = time.monotonic()
while not stopping["now"]:
    msg = consumer.poll(0.1)
    if msg is not None:
        if msg.error() is None:
            name = "%s/%d" % (msg.topic(), msg.partition())
            if name in fresh:
                fresh.discard(name)
                emit({"f": {name: msg.offset()}})
            state["consumed"] += 1
            since_commit += 1
        elif msg.error().code() != KafkaError._PARTITION_EOF:
            emit({"ce": msg.error().name()})
    if since_commit >= commit_every or (since_commit > 0 and time.monotonic() - last_commit > 0.5):
        commit(consumer)
        since_commit = 0
        last_commit = time.monotonic()

commit(consumer)
consumer.close()
emit({"summary": state})
sys.exit(0)
