#!/usr/bin/env bash
# Starts the Tocsin stack locally (no Docker): for now tocsin-exporter on :9100. tocsin-tsdb
# (:9090) and tocsin-alertd (:8880) join here as they land. Installs what is missing, builds,
# prints where each service is, and stops everything cleanly on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Same build directory as scripts/test.sh and the same options: only the exporter target is built.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOCSIN_TESTS=ON -DTOCSIN_BENCH=ON >/dev/null
cmake --build build -j "$(nproc)" --target tocsin-exporter
ADDR=${TOCSIN_EXPORTER_ADDRESS:-127.0.0.1:9100}
build/exporter/tocsin-exporter --web.listen-address="$ADDR" "$@" &
pid=$!
trap 'echo; echo "stopping tocsin-exporter"; kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; exit 0' INT TERM
sleep 0.5
kill -0 $pid 2>/dev/null || { echo "tocsin-exporter failed to start" >&2; exit 1; }
echo
echo "tocsin-exporter  http://$ADDR/metrics   probes: http://$ADDR/probe?target=URL"
echo "Press Ctrl-C to stop."
wait $pid
