#!/usr/bin/env bash
# Starts the Tocsin stack locally (no Docker): tocsin-exporter on :9100 and tocsin-tsdb on :9090
# (scraping the exporter, itself and the health URLs of config/tocsin-tsdb.yml, data in
# ./data, kept across restarts). tocsin-alertd (:8880) joins here when it lands. Installs what
# is missing, builds, prints where each service is, and stops everything cleanly on Ctrl-C.
# Environment: TOCSIN_DATA (data directory), TOCSIN_TSDB_CONFIG (configuration file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Same build directory as scripts/test.sh and the same options; only the daemons are built.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOCSIN_TESTS=ON -DTOCSIN_BENCH=ON >/dev/null
cmake --build build -j "$(nproc)" --target tocsin-exporter tocsin-tsdb
DATA=${TOCSIN_DATA:-$PWD/data}
CONFIG=${TOCSIN_TSDB_CONFIG:-$PWD/config/tocsin-tsdb.yml}
mkdir -p "$DATA"
PIDS=()
stop() {
  echo
  echo "stopping the stack"
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit 0
}
trap stop INT TERM
build/exporter/tocsin-exporter --web.listen-address=127.0.0.1:9100 &
PIDS+=($!)
build/tsdb/tocsin-tsdb --web.listen-address=127.0.0.1:9090 --storage.tsdb.path="$DATA/tsdb" \
  --config.file="$CONFIG" &
PIDS+=($!)
for url in http://127.0.0.1:9100/metrics http://127.0.0.1:9090/-/ready; do
  for _ in $(seq 50); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
  curl -fs -o /dev/null "$url" || { echo "the stack failed to start ($url)" >&2; stop; }
done
echo
echo "tocsin-exporter  http://127.0.0.1:9100/metrics   probes: http://127.0.0.1:9100/probe?target=URL"
echo "tocsin-tsdb      http://127.0.0.1:9090           targets: http://127.0.0.1:9090/api/v1/targets"
echo "                 data: $DATA/tsdb   config: $CONFIG"
echo "Press Ctrl-C to stop."
wait
