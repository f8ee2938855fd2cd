#!/usr/bin/python3
"""CreateTopics with librdkafka's AdminClient (confluent_kafka), then the topics' metadata as it sees it.

stdin JSON: {"bootstrap", "topics": [{"name", "partitions", "replication_factor", "config": {}}],
             "validate_only": false, "timeout_s": 20}
stdout: one JSON line per topic {"created": name, "error": null | {"code", "name", "str"}}, then
{"metadata": {name: {"<p>": {"leader", "replicas", "isrs"}}}} for the topics that exist afterwards,
then a summary line.
"""
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from _common import emit, read_request

req = read_request()
timeout_s = req.get("timeout_s", 20)
admin = AdminClient({"bootstrap.servers": req["bootstrap"]})

new_topics = [
    NewTopic(t["name"], num_partitions=t.get("partitions", 1), replication_factor=t.get("replication_factor", 1),
             config=t.get("config") or {})
    for t in req["topics"]
]
futures = admin.create_topics(new_topics, operation_timeout=timeout_s, request_timeout=timeout_s,
                              validate_only=req.get("validate_only", False))
for name, future in futures.items():
    try:
        future.result(timeout=timeout_s)
        emit({"created": name, "error": None})
    except KafkaException as e:
        err = e.args[0]
        emit({"created": name, "error": {"code": err.code(), "name": err.name(), "str": err.str()}})

wanted = {t["name"] for t in req["topics"]}
md = admin.list_topics(timeout=timeout_s)
emit({"metadata": {
    name: {str(p.id): {"leader": p.leader, "replicas": list(p.replicas), "isrs": list(p.isrs)}
           for p in t.partitions.values()}
    for name, t in md.topics.items() if name in wanted and t.error is None
}})
emit({"summary": {"topics": len(new_topics)}})
