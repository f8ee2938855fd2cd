#!/usr/bin/env bash
# Installs the stock Kafka clients the end-to-end tests drive, when they are missing:
#   kcat                    (librdkafka CLI)
#   python3-confluent-kafka (librdkafka from Python)
#   python3-kafka           (kafka-python, a pure-Python client)
# The tests call the Debian interpreter explicitly as /usr/bin/python3, because a python3 earlier on PATH
# (pyenv, venv) does not see the Debian packages. Idempotent: does nothing when everything is present.
set -euo pipefail

PY=/usr/bin/python3
PACKAGES=(kcat python3-confluent-kafka python3-kafka lz4 zstd gzip)

have_tools() {
  command -v kcat >/dev/null 2>&1 &&
    command -v lz4 >/dev/null 2>&1 &&
    command -v zstd >/dev/null 2>&1 &&
    [ -x "$PY" ] &&
    "$PY" -c 'import confluent_kafka, kafka' >/dev/null 2>&1
}

if have_tools; then
  exit 0
fi

echo "ensure-test-tools: installing ${PACKAGES[*]}" >&2

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "ensure-test-tools: not root and no sudo; install ${PACKAGES[*]} by hand" >&2
    exit 1
  fi
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: apt-get not found; install ${PACKAGES[*]} by hand" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}"

if ! have_tools; then
  echo "ensure-test-tools: FAILED: after installing, kcat or '$PY -c \"import confluent_kafka, kafka\"' still fails" >&2
  command -v kcat >&2 || echo "  kcat: not on PATH" >&2
  "$PY" -c 'import confluent_kafka, kafka' >&2 || true
  exit 1
fi
echo "ensure-test-tools: ok" >&2
