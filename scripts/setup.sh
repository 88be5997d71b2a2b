#!/usr/bin/env bash
# Installs what campus-power needs on a Debian/Ubuntu machine, only what is missing:
#   - npm packages (npm ci, when node_modules is absent or older than package-lock.json)
#   - InfluxDB from the distribution's `influxdb` package, unless INFLUX_URL points at another host
#     (always for --for-tests: the integration tests start their own influxd)
#   - openssl (for `up --demo --tls`); mosquitto-clients and redis-server for --for-tests
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
[ "${1:-}" = "--for-tests" ] && for_tests=true

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root (or sudo) to run: $*" >&2; exit 1
  fi
}

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-fund --no-audit
fi

# `up --demo --tls` makes its self-signed certificate with openssl (docs/tls.md), and the tests compare
# device passwords with openssl's own HMAC (CONTRACT §3 documents that command).
if ! command -v openssl >/dev/null; then
  echo "setup: installing openssl (up --demo --tls makes its certificate with it)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi

# The TLS tests publish with mosquitto_pub --cafile, as docs/tls.md tells a device maker to try.
if $for_tests && ! command -v mosquitto_pub >/dev/null; then
  echo "setup: installing mosquitto-clients (the TLS tests publish with mosquitto_pub)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto-clients >/dev/null
fi

# The failure drills and the other REDIS_URL tests (CONTRACT §12) start their own redis-server on a free port.
# Debian's package may also start a system service on :6379; the tests do not use it.
if $for_tests && ! command -v redis-server >/dev/null; then
  echo "setup: installing redis-server (the tests of REDIS_URL, the failure drills, start their own)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

# The dashboard's browser test drives Debian's chromium through playwright-core (no browser download).
# A CJK font, so the Simplified Chinese screenshots it keeps show characters rather than boxes.
if $for_tests && [ -d tests/browser ] && { ! command -v chromium >/dev/null || ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; }; then
  echo "setup: installing chromium and a CJK font (for the dashboard's browser test)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi

need_influxd=false
# `up` starts its own InfluxDB only for a loopback INFLUX_URL (the default); a remote one is the user's.
case "${INFLUX_URL:-http://127.0.0.1:8086}" in
  *://127.0.0.1[:/]*|*://127.0.0.1|*://localhost[:/]*|*://localhost|*://\[::1\]*) need_influxd=true ;;
esac
$for_tests && need_influxd=true
if $need_influxd && ! command -v influxd >/dev/null && [ ! -x /usr/bin/influxd ]; then
  echo "setup: installing InfluxDB (Debian package influxdb)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb >/dev/null
  # The package may start a system service on :8086; campus-power runs its own when it needs one.
  if command -v systemctl >/dev/null && systemctl is-active --quiet influxdb 2>/dev/null; then
    echo "setup: note: the influxdb system service is running on :8086; campus-power will use it"
  fi
fi
