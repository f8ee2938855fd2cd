#!/usr/bin/python3
"""ACL administration with kafka-python's KafkaAdminClient (2.0.2): create_acls, describe_acls, delete_acls.

stdin JSON: {"bootstrap", "config" (KafkaAdminClient keyword arguments, e.g. SASL), "ops": [...]}, each op
  {"op": "create", "acls": [ACL]}
  {"op": "describe", "filter": FILTER}
  {"op": "delete", "filters": [FILTER]}
where an ACL is {"principal", "host", "operation", "permission", "resource_type", "name", "pattern"} with
kafka-python's enum names (operation READ, permission ALLOW, resource_type TOPIC, pattern LITERAL, ...),
and a FILTER the same with null principal/host/name meaning "any" (and ANY / MATCH allowed as names).
stdout: one JSON line per op:
  create   {"op", "succeeded": [ACL], "failed": [[ACL, error class name]]}
  describe {"op", "acls": [ACL] (sorted), "error": error class name}   (or {"op", "raised": name, "message"})
  delete   {"op", "results": [{"filter_error", "acls": [[ACL, error]]}]}
exit: 0 unless a client call raised unexpectedly (then 1).
"""
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, KafkaAdminClient,
                         ResourcePattern, ResourcePatternFilter, ResourceType)
from kafka.errors import KafkaError

from _common import emit, read_request


def acl_out(a):
    return {
        "principal": a.principal,
        "host": a.host,
        "operation": a.operation.name,
        "permission": a.permission_type.name,
        "resource_type": a.resource_pattern.resource_type.name,
        "name": a.resource_pattern.resource_name,
        "pattern": a.resource_pattern.pattern_type.name,
    }


def acl_in(d):
    return ACL(
        principal=d["principal"],
        host=d.get("host", "*"),
        operation=ACLOperation[d["operation"]],
        permission_type=ACLPermissionType[d["permission"]],
        resource_pattern=ResourcePattern(ResourceType[d["resource_type"]], d["name"], ACLResourcePatternType[d.get("pattern", "LITERAL")]),
    )


def filter_in(d):
    return ACLFilter(
        principal=d.get("principal"),
        host=d.get("host"),
        operation=ACLOperation[d.get("operation", "ANY")],
        permission_type=ACLPermissionType[d.get("permission", "ANY")],
        resource_pattern=ResourcePatternFilter(ResourceType[d.get("resource_type", "ANY")], d.get("name"), ACLResourcePatternType[d.get("pattern", "ANY")]),
    )


def key(d):
    return (d["resource_type"], d["pattern"], d["name"], d["principal"], d["host"], d["operation"], d["permission"])


req = read_request()
admin = KafkaAdminClient(bootstrap_servers=req["bootstrap"], request_timeout_ms=15000, **(req.get("config") or {}))
try:
    for op in req["ops"]:
        kind = op["op"]
        if kind == "create":
            r = admin.create_acls([acl_in(a) for a in op["acls"]])
            emit({"op": kind, "succeeded": [acl_out(a) for a in r["succeeded"]],
                  "failed": [[acl_out(a), type(e).__name__ if isinstance(e, Exception) else e.__name__] for a, e in r["failed"]]})
        elif kind == "describe":
            try:
                acls, error = admin.describe_acls(filter_in(op["filter"]))
                emit({"op": kind, "acls": sorted((acl_out(a) for a in acls), key=key), "error": error.__name__})
            except KafkaError as e:
                emit({"op": kind, "raised": type(e).__name__, "message": str(e)})
        elif kind == "delete":
            results = admin.delete_acls([filter_in(f) for f in op["filters"]])
            emit({"op": kind, "results": [
                {"filter_error": ferr.__name__, "acls": sorted(([acl_out(a), e.__name__] for a, e in matches), key=lambda x: key(x[0]))}
                for (_f, matches, ferr) in results
            ]})
        else:
            raise ValueError("unknown op %r" % kind)
finally:
    admin.close()
emit({"summary": {"ops": len(req["ops"])}})
