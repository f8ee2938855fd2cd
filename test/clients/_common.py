"""Shared bits of the stock-client scripts: JSON in on stdin, JSON lines out on stdout.

Byte strings travel as UTF-8 text; bytes that are not valid UTF-8 travel as {"b64": "..."}.
"""
import base64
import json
import sys


def read_request():
    raw = sys.stdin.read()
    return json.loads(raw) if raw.strip() else {}


def emit(obj):
    """One JSON line, flushed at once (the crash test reads these while the client runs)."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def to_bytes(v):
    if v is None:
        return None
    if isinstance(v, dict) and "b64" in v:
        return base64.b64decode(v["b64"])
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    return str(v).encode("utf-8")


def from_bytes(b):
    if b is None:
        return None
    if isinstance(b, str):
        return b
    try:
        return bytes(b).decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(bytes(b)).decode("ascii")}


def headers_out(headers):
    """[[key, value], ...] in wire order; value None for a null header value."""
    return [[k if isinstance(k, str) else from_bytes(k), from_bytes(v)] for (k, v) in (headers or [])]


def headers_in(headers):
    return [(k, to_bytes(v)) for (k, v) in (headers or [])]


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    sys.exit(code)
