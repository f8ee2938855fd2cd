#!/usr/bin/python3
"""Connect with librdkafka (confluent_kafka), ask for metadata, and report the errors it sees: how a
client fails authentication or TLS verification.

stdin JSON:
  bootstrap
  config         librdkafka properties (security.protocol, sasl.*, ssl.*)
  expired_token  if set, a principal name: present an unsecured OAUTHBEARER token for it whose exp claim
                 has passed (librdkafka itself is told it lives on, through oauth_cb)
stdout: {"summary": {"errors": [...], "metadata": true|false}}
exit: 0 if metadata was obtained, 2 otherwise.
"""
import base64
import json
import time

from confluent_kafka import Producer

from _common import emit, read_request

req = read_request()
errors = []
conf = {"bootstrap.servers": req["bootstrap"], "error_cb": lambda e: errors.append(str(e))}
conf.update(req.get("config") or {})


def b64(o):
    return base64.urlsafe_b64encode(json.dumps(o).encode()).decode().rstrip("=")


if req.get("expired_token"):
    def token_cb(_config):
        now = time.time()
        jws = b64({"alg": "none"}) + "." + b64({"sub": req["expired_token"], "iat": now - 7200, "exp": now - 3600}) + "."
        return jws, now + 3600

    conf.update({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "OAUTHBEARER", "oauth_cb": token_cb})

p = Producer(conf)
p.poll(0.5)
ok = True
try:
    p.list_topics(timeout=4)
except Exception as e:  # noqa: BLE001
    ok = False
    errors.append(str(e))
p.poll(0.2)
emit({"summary": {"errors": errors, "metadata": ok}})
raise SystemExit(0 if ok else 2)
