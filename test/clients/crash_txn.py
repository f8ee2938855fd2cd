#!/usr/bin/python3
"""A transactional librdkafka producer (confluent_kafka) running transactions until SIGTERM, for the
crash driver: each transaction writes a few records to several partitions and is committed or aborted
(decided by a seeded random generator), while the broker is killed and restarted under it.

stdin JSON:
  bootstrap         "host:port"
  transactional_id  the producer's transactional.id
  session           a name unique to this process (part of every value)
  targets           [[topic, partition], ...]: each transaction writes to every one of them
  per_partition     [min, max] records per partition and transaction (default [1, 4])
  abort_ratio       share of transactions that are aborted (default 0.3)
  seed              seeds the decisions
  pause_ms          pause between transactions (default 20)
  config            extra producer properties
stdout, per transaction n:
  {"b": n, "k": records}                 before its first record: how many it will write
  {"x": n, "outcome": "committed" | "aborted" | "unknown", "error": ...}
                                         "unknown": the commit failed in a way that leaves its fate to
                                         the broker (the producer is then re-created; init fences it)
  {"err": ...}                           other errors (a re-created producer, a failed init)
  and {"summary": {...}} after SIGTERM.
Values: "<session>:<n>:<i>" (i counts the transaction's records).
"""
import random
import signal
import sys
import time

from confluent_kafka import KafkaException, Producer

from _common import emit, read_request

req = read_request()
conf = {
    "bootstrap.servers": req["bootstrap"],
    "transactional.id": req["transactional_id"],
    "acks": "all",
    "linger.ms": 2,
    "message.timeout.ms": 20000,
    "transaction.timeout.ms": 20000,
    "retry.backoff.ms": 50,
    "reconnect.backoff.ms": 20,
    "reconnect.backoff.max.ms": 300,
}
conf.update(req.get("config") or {})
session = req["session"]
targets = req["targets"]
lo, hi = req.get("per_partition", [1, 4])
abort_ratio = float(req.get("abort_ratio", 0.3))
rng = random.Random(req.get("seed", 0))
pause = req.get("pause_ms", 20) / 1000.0
OP_TIMEOUT = 30

stopping = {"now": False}
signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__("now", True))
counts = {"committed": 0, "aborted": 0, "unknown": 0}


def error_of(e):
    err = e.args[0] if e.args else None
    if err is None or not hasattr(err, "code"):
        return {"str": repr(e), "fatal": True, "retriable": False, "abortable": False}
    return {"name": err.name(), "str": err.str(), "fatal": err.fatal(), "retriable": err.retriable(), "abortable": err.txn_requires_abort()}


def new_producer():
    while not stopping["now"]:
        p = Producer(conf)
        try:
            p.init_transactions(OP_TIMEOUT)
            return p
        except KafkaException as e:
            emit({"err": error_of(e), "at": "init"})
            time.sleep(0.2)
    return None


def retrying(call):
    """Runs a transactional call, repeating it while librdkafka says the error is retriable."""
    for _ in range(20):
        try:
            call(OP_TIMEOUT)
            return None
        except KafkaException as e:
            info = error_of(e)
            if not info["retriable"] or info["fatal"]:
                return info
            time.sleep(0.1)
    return {"str": "still retriable after 20 attempts", "fatal": True, "retriable": True, "abortable": False}


producer = new_producer()
n = 0
while producer is not None and not stopping["now"]:
    commit = rng.random() >= abort_ratio
    per = [rng.randint(lo, hi) for _ in targets]
    total = sum(per)
    emit({"b": n, "k": total})
    outcome, error = None, None
    try:
        producer.begin_transaction()
        i = 0
        for (topic, partition), count in zip(targets, per):
            for _ in range(count):
                producer.produce(topic, value=("%s:%d:%d" % (session, n, i)).encode(), partition=partition)
                i += 1
        if not commit:
            producer.flush(OP_TIMEOUT)  # sent first, so the aborted records really are in the log
    except (KafkaException, BufferError) as e:
        error = error_of(e) if isinstance(e, KafkaException) else {"str": repr(e), "abortable": True}
        commit = False  # abort what was begun
    if commit:
        error = retrying(producer.commit_transaction)
        if error is None:
            outcome = "committed"
        elif error["abortable"]:
            commit = False
        else:
            outcome = "unknown"
    if outcome is None:
        abort_error = retrying(producer.abort_transaction)
        if abort_error is None:
            outcome = "aborted"
        else:
            outcome, error = "unknown", abort_error
    counts[outcome] += 1
    emit({"x": n, "outcome": outcome, "error": error})
    n += 1
    if outcome == "unknown":
        producer = new_producer()  # its init_transactions completes or aborts whatever was left open
    elif pause > 0:
        time.sleep(pause)

emit({"summary": counts})
sys.exit(0)
