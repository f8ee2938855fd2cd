#!/usr/bin/python3
"""Topic administration with kafka-python's KafkaAdminClient (2.0.2), plus the admin requests that client
has no method for (DescribeLogDirs, DeleteRecords, IncrementalAlterConfigs), written with kafka-python's
own protocol types and sent through the admin client's connection: an encoder independent of Brook's.

stdin JSON: {"bootstrap", "op", ...op arguments}
  describe_topic_configs  topic, keys (optional), synonyms (bool)
  describe_broker_configs broker ("1" or ""), keys (optional), synonyms (bool)
  alter_topic_configs     topic, configs {name: value}
  alter_broker_configs    broker, configs {name: value}
  create_partitions       topic, count, validate_only
  describe_cluster
  describe_log_dirs       version (0|1), topics (null or [[topic, [partitions]]])
  delete_records          version (0|1), topic, offsets {"p": offset}
  incremental_alter       resources [[type, name, [[key, op, value]]]], validate_only
stdout: one JSON line with the result (responses as nested lists in schema order), then a summary.
"""
from kafka.errors import KafkaError
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions
from kafka.protocol.api import Request, Response
from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Int64, Schema, String

from _common import emit, read_request


def plain(v):
    """Responses (Structs, tuples of nested arrays) as JSON-friendly nested lists."""
    if hasattr(v, "SCHEMA"):
        return {name: plain(getattr(v, name)) for name in v.SCHEMA.names}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


S = String("utf-8")


class DescribeLogDirsResponse_v0(Response):
    API_KEY = 35
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", Array(("error_code", Int16), ("log_dir", S),
                          ("topics", Array(("name", S), ("partitions", Array(
                              ("partition_index", Int32), ("partition_size", Int64),
                              ("offset_lag", Int64), ("is_future_key", Boolean))))))),
    )


class DescribeLogDirsResponse_v1(Response):
    API_KEY = 35
    API_VERSION = 1
    SCHEMA = DescribeLogDirsResponse_v0.SCHEMA


class DescribeLogDirsRequest_v0(Request):
    API_KEY = 35
    API_VERSION = 0
    RESPONSE_TYPE = DescribeLogDirsResponse_v0
    SCHEMA = Schema(("topics", Array(("topic", S), ("partitions", Array(Int32)))))


class DescribeLogDirsRequest_v1(Request):
    API_KEY = 35
    API_VERSION = 1
    RESPONSE_TYPE = DescribeLogDirsResponse_v1
    SCHEMA = DescribeLogDirsRequest_v0.SCHEMA


class DeleteRecordsResponse_v0(Response):
    API_KEY = 21
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("topics", Array(("name", S), ("partitions", Array(
            ("partition_index", Int32), ("low_watermark", Int64), ("error_code", Int16))))),
    )


class DeleteRecordsResponse_v1(Response):
    API_KEY = 21
    API_VERSION = 1
    SCHEMA = DeleteRecordsResponse_v0.SCHEMA


class DeleteRecordsRequest_v0(Request):
    API_KEY = 21
    API_VERSION = 0
    RESPONSE_TYPE = DeleteRecordsResponse_v0
    SCHEMA = Schema(
        ("topics", Array(("name", S), ("partitions", Array(("partition_index", Int32), ("offset", Int64))))),
        ("timeout_ms", Int32),
    )


class DeleteRecordsRequest_v1(Request):
    API_KEY = 21
    API_VERSION = 1
    RESPONSE_TYPE = DeleteRecordsResponse_v1
    SCHEMA = DeleteRecordsRequest_v0.SCHEMA


class IncrementalAlterConfigsResponse_v0(Response):
    API_KEY = 44
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("responses", Array(("error_code", Int16), ("error_message", S), ("resource_type", Int8), ("resource_name", S))),
    )


class IncrementalAlterConfigsRequest_v0(Request):
    API_KEY = 44
    API_VERSION = 0
    RESPONSE_TYPE = IncrementalAlterConfigsResponse_v0
    SCHEMA = Schema(
        ("resources", Array(("resource_type", Int8), ("resource_name", S),
                            ("configs", Array(("name", S), ("config_operation", Int8), ("value", S))))),
        ("validate_only", Boolean),
    )


def keys(req):
    """kafka-python wants the config names to describe as the keys of a dict."""
    return {k: None for k in req["keys"]} if req.get("keys") else None


def send(admin, request):
    """Sends a request on the admin client's connection to a broker and waits for the answer."""
    node = admin._client.least_loaded_node()
    future = admin._send_request_to_node(node, request)
    admin._wait_for_futures([future])
    return future.value


req = read_request()
op = req["op"]
admin = KafkaAdminClient(bootstrap_servers=req["bootstrap"], client_id="brook-admin-test", request_timeout_ms=15000)
try:
    if op == "describe_topic_configs":
        res = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, req["topic"], configs=keys(req))],
            include_synonyms=bool(req.get("synonyms")))
        out = [plain(r) for r in res]
    elif op == "describe_broker_configs":
        res = admin.describe_configs(
            [ConfigResource(ConfigResourceType.BROKER, req["broker"], configs=keys(req))],
            include_synonyms=bool(req.get("synonyms")))
        out = [plain(r) for r in res]
    elif op == "alter_topic_configs":
        res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, req["topic"], configs=req["configs"])])
        out = {"errors": [[r[0], r[1]] for r in plain(res)["resources"]]}
    elif op == "alter_broker_configs":
        res = admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, req["broker"], configs=req["configs"])])
        out = {"errors": [[r[0], r[1]] for r in plain(res)["resources"]]}
    elif op == "create_partitions":
        try:
            res = admin.create_partitions({req["topic"]: NewPartitions(req["count"])}, validate_only=bool(req.get("validate_only")))
            out = plain(res)
        except KafkaError as e:  # kafka-python raises on a topic error here
            out = {"error": type(e).__name__, "errno": getattr(e, "errno", None)}
    elif op == "describe_cluster":
        out = admin.describe_cluster()
    elif op == "describe_log_dirs":
        cls = DescribeLogDirsRequest_v1 if req.get("version") == 1 else DescribeLogDirsRequest_v0
        out = plain(send(admin, cls(topics=req.get("topics"))))
    elif op == "delete_records":
        cls = DeleteRecordsRequest_v1 if req.get("version") == 1 else DeleteRecordsRequest_v0
        parts = [(int(p), int(o)) for p, o in req["offsets"].items()]
        out = plain(send(admin, cls(topics=[(req["topic"], parts)], timeout_ms=10000)))
    elif op == "incremental_alter":
        out = plain(send(admin, IncrementalAlterConfigsRequest_v0(
            resources=[(t, n, [tuple(c) for c in cs]) for t, n, cs in req["resources"]],
            validate_only=bool(req.get("validate_only")))))
    else:
        raise SystemExit("unknown op %s" % op)
    emit(out if isinstance(out, dict) and not isinstance(out, list) else {"result": out})
    emit({"summary": {"op": op}})
finally:
    admin.close()
