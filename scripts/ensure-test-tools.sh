#!/usr/bin/env bash
# Installs the outside tools the end-to-end tests drive, when they are missing:
#   kcat                    (librdkafka CLI)
#   python3-confluent-kafka (librdkafka from Python)
#   python3-kafka           (kafka-python, a pure-Python client)
#   lz4, zstd, gzip         (codec interop checks)
#   openssl                 (test certificate authorities and broker certificates)
#   chromium                (the web console, driven headless by puppeteer-core)
#   mount                   (the disk-full test mounts a small tmpfs; as root)
#   test/clients/node       (@confluentinc/kafka-javascript: librdkafka 2.15 compiled from the source the
#                            package bundles, against Debian's libssl/zlib/zstd/lz4/sasl headers and
#                            Node's headers in /usr/include/node; run under Node by the tests)
# The tests call the Debian interpreter explicitly as /usr/bin/python3, because a python3 earlier on PATH
# (pyenv, venv) does not see the Debian packages. Idempotent: does nothing when everything is present.
# Another apt/dpkg process holding the lock (unattended upgrades, a parallel install) is waited for.
set -euo pipefail

PY=/usr/bin/python3
PACKAGES=(kcat python3-confluent-kafka python3-kafka lz4 zstd gzip openssl chromium mount
  gcc g++ make python3 pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev)
NATIVE_CLIENTS="$(cd "$(dirname "$0")/../test/clients/node" && pwd)"
LOCK_WAIT_SECONDS=${APT_LOCK_WAIT_SECONDS:-900}

have_native_clients() {
  [ -f "$NATIVE_CLIENTS/node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node" ] &&
    (cd "$NATIVE_CLIENTS" && node -e 'require("@confluentinc/kafka-javascript")') >/dev/null 2>&1
}

install_native_clients() {
  have_native_clients && return 0
  echo "ensure-test-tools: building @confluentinc/kafka-javascript in test/clients/node (librdkafka from source, a few minutes)" >&2
  (cd "$NATIVE_CLIENTS" && CKJS_LINKING=dynamic npm_config_nodedir=/usr npm ci --no-audit --no-fund >&2)
  if ! have_native_clients; then
    echo "ensure-test-tools: FAILED: @confluentinc/kafka-javascript did not build in $NATIVE_CLIENTS" >&2
    exit 1
  fi
}

have_tools() {
  command -v kcat >/dev/null 2>&1 &&
    command -v lz4 >/dev/null 2>&1 &&
    command -v zstd >/dev/null 2>&1 &&
    command -v openssl >/dev/null 2>&1 &&
    command -v mount >/dev/null 2>&1 && command -v umount >/dev/null 2>&1 &&
    command -v gcc >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 &&
    pkg-config --exists libssl zlib libzstd liblz4 libsasl2 >/dev/null 2>&1 &&
    [ -x /usr/bin/chromium ] &&
    [ -x "$PY" ] &&
    "$PY" -c 'import confluent_kafka, kafka' >/dev/null 2>&1
}

if have_tools; then
  install_native_clients
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

# apt-get waits for the dpkg frontend lock itself (DPkg::Lock::Timeout); `apt-get update` takes the
# lists lock, which that option does not always cover on older apt, so retry while it is held.
apt_get() {
  local deadline=$((SECONDS + LOCK_WAIT_SECONDS)) out status
  while :; do
    set +e
    out=$("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT_SECONDS" "$@" 2>&1)
    status=$?
    set -e
    printf '%s\n' "$out" >&2
    if [ $status -eq 0 ]; then return 0; fi
    if grep -qiE 'could not get lock|unable to lock|lock-frontend' <<<"$out" && [ $SECONDS -lt $deadline ]; then
      echo "ensure-test-tools: another apt/dpkg process holds the lock; waiting" >&2
      sleep 5
      continue
    fi
    return $status
  done
}

export DEBIAN_FRONTEND=noninteractive
apt_get update
apt_get install -y --no-install-recommends "${PACKAGES[@]}"

if ! have_tools; then
  echo "ensure-test-tools: FAILED: after installing, a tool is still missing" >&2
  command -v kcat >&2 || echo "  kcat: not on PATH" >&2
  command -v openssl >&2 || echo "  openssl: not on PATH" >&2
  [ -x /usr/bin/chromium ] || echo "  /usr/bin/chromium: missing" >&2
  "$PY" -c 'import confluent_kafka, kafka' >&2 || true
  exit 1
fi
install_native_clients
echo "ensure-test-tools: ok" >&2
