#!/usr/bin/env bash
# Starts the Tocsin stack locally (no Docker): tocsin-exporter on :9100, tocsin-tsdb on :9090
# (scraping the exporter, itself, alertd and the health URLs of config/tocsin-tsdb.yml, data in
# ./data, kept across restarts) and tocsin-alertd on :8880 (rules/*.rules.yml against tocsin-tsdb;
# Slack when SLACK_WEBHOOK_URL or TOCSIN_SLACK_URL_FILE is set, else notifications go to the
# log and data/alerts.log). Installs what is missing, builds, prints where each service is, and
# stops everything cleanly on Ctrl-C.
# Environment: TOCSIN_DATA (data directory), TOCSIN_TSDB_CONFIG (configuration file),
# TOCSIN_EXTRA_RULES (more rule files, e.g. a test alert), TOCSIN_ALERTD_CONFIG (alertd.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Same build directory as scripts/test.sh and the same options; only the daemons are built.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOCSIN_TESTS=ON -DTOCSIN_BENCH=ON >/dev/null
cmake --build build -j "$(nproc)" --target tocsin-exporter tocsin-tsdb tocsin-alertd
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
  --config.file="$CONFIG" --alertd.url=http://127.0.0.1:8880 &
PIDS+=($!)
ALERTD_ARGS=(--web.listen-address=127.0.0.1:8880 --rules.file="$PWD/rules/*.rules.yml"
  --datasource.url=http://127.0.0.1:9090 --remote-write.url=http://127.0.0.1:9090/api/v1/write
  --notify.log-file="$DATA/alerts.log" --storage.path="$DATA/alertd")
[[ -n ${TOCSIN_SLACK_URL_FILE:-} ]] && ALERTD_ARGS+=(--slack.api-url-file="$TOCSIN_SLACK_URL_FILE")
[[ -n ${TOCSIN_EXTRA_RULES:-} ]] && ALERTD_ARGS+=(--rules.file="$TOCSIN_EXTRA_RULES")
[[ -n ${TOCSIN_ALERTD_CONFIG:-} ]] && ALERTD_ARGS+=(--config.file="$TOCSIN_ALERTD_CONFIG")
build/alertd/tocsin-alertd "${ALERTD_ARGS[@]}" &
PIDS+=($!)
for url in http://127.0.0.1:9100/metrics http://127.0.0.1:9090/-/ready http://127.0.0.1:8880/-/ready; do
  for _ in $(seq 50); do curl -fs -o /dev/null "$url" && break; sleep 0.2; done
  curl -fs -o /dev/null "$url" || { echo "the stack failed to start ($url)" >&2; stop; }
done
echo
echo "tocsin-exporter  http://127.0.0.1:9100/metrics   probes: http://127.0.0.1:9100/probe?target=URL"
echo "tocsin-tsdb      http://127.0.0.1:9090           the page (query, targets, alerts); Grafana data source URL"
echo "                 data: $DATA/tsdb   config: $CONFIG"
if [[ -n ${SLACK_WEBHOOK_URL:-}${TOCSIN_SLACK_URL_FILE:-} ]]; then receiver=Slack; else receiver="the log and $DATA/alerts.log"; fi
echo "tocsin-alertd    http://127.0.0.1:8880/api/v1/alerts   rules: rules/*.rules.yml   notifications: $receiver"
echo "Press Ctrl-C to stop."
wait
