#!/usr/bin/env bash
# The real Prometheus 2.42 scrapes tocsin-exporter and remote-writes into tocsin-tsdb: every
# sample is accepted (none rejected), the series count matches what Prometheus scraped, text
# import works beside it, and a corrupt body gets 400 while the server keeps serving.
source "$(dirname "$0")/lib.sh"
need_peers prometheus
start_on_free_port ep exporter -/healthy "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT --storage.tsdb.path="$WORK/tsdb"
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$ep']
remote_write:
  - url: http://127.0.0.1:$tp/api/v1/write
    queue_config:
      batch_send_deadline: 1s
YAML
start_on_free_port pp prometheus -/ready "$PEERS/prometheus" --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/data" --web.listen-address=127.0.0.1:PORT
metric() { curl -fsS "http://127.0.0.1:$tp/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
deadline=$((SECONDS + 120))  # Prometheus starts remote-writing only after reading its WAL
until [[ $(metric tocsin_tsdb_head_series | cut -d. -f1) -gt 100 ]]; do
  ((SECONDS < deadline)) || fail "tocsin-tsdb received too few samples: $(metric tocsin_tsdb_head_samples_appended_total)"
  sleep 1
done
rejected=$(curl -fsS "http://127.0.0.1:$tp/metrics" | awk '/^tocsin_tsdb_samples_rejected_total/ {s += $2} END {print s+0}')
[[ $rejected == 0 ]] || fail "$rejected samples rejected: $(curl -fsS "http://127.0.0.1:$tp/metrics" | grep rejected)"
series=$(metric tocsin_tsdb_head_series)
scraped=$(curl -fsS "http://127.0.0.1:$pp/api/v1/query" --data-urlencode 'query=count({__name__=~".+"})' |
  grep -o '"value":\[[0-9.]*,"[0-9]*"' | grep -o '"[0-9]*"$' | tr -d '"')
# Prometheus also remote-writes its synthetic series (up, scrape_*), so tocsin holds at least as
# many as the exporter serves; allow series that appeared or vanished between the two reads.
[[ $series -ge $((scraped * 9 / 10)) ]] || fail "tocsin-tsdb has $series series, Prometheus $scraped"
code=$(curl -s -o /dev/null -w '%{http_code}' --data-binary "x{a=\"1\"} 5 $(date +%s)000" "http://127.0.0.1:$tp/api/v1/import/prometheus")
[[ $code == 204 ]] || fail "import answered $code"
body=$(curl -s -w ' %{http_code}' --data-binary 'garbage' -H 'Content-Encoding: snappy' "http://127.0.0.1:$tp/api/v1/write")
[[ $body == *"snappy"*" 400" ]] || fail "a corrupt remote-write body got: $body"
curl -fsS -o /dev/null "http://127.0.0.1:$tp/-/healthy" || fail "tocsin-tsdb stopped serving"
# The same samples are now in both stores: PromQL must give the same answers. Wait for ten
# seconds of scrapes, then evaluate at a time safely behind what both hold.
for _ in $(seq 60); do
  n=$(curl -fsS "http://127.0.0.1:$tp/api/v1/query" --data-urlencode 'query=min(count_over_time(up[12s]))' |
    python3 -c 'import sys, json; r = json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)')
  ((n >= 11)) && break
  sleep 1
done
sleep 2
t=$(curl -fsS "http://127.0.0.1:$tp/api/v1/query" --data-urlencode 'query=max(timestamp(up))' |
  python3 -c 'import sys, json; print(float(json.load(sys.stdin)["data"]["result"][0]["value"][1]) - 2)')
compare() {  # compare QUERY: identical label sets and values (relative 1e-9) in both stores
  local a b
  a=$(curl -fsS "http://127.0.0.1:$tp/api/v1/query" --data-urlencode "query=$1" -d time="$t")
  b=$(curl -fsS "http://127.0.0.1:$pp/api/v1/query" --data-urlencode "query=$1" -d time="$t")
  python3 - "$1" "$a" "$b" <<'PY' || fail "query differs from Prometheus: $1"
import json, math, sys
q, a, b = sys.argv[1], json.loads(sys.argv[2])["data"], json.loads(sys.argv[3])["data"]
def norm(d):
    if d["resultType"] == "scalar":
        return {"": float(d["result"][1])}
    return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in d["result"]}
na, nb = norm(a), norm(b)
if a["resultType"] != b["resultType"] or na.keys() != nb.keys() or not na:
    print("tocsin:", a, "\nprometheus:", b, file=sys.stderr); sys.exit(1)
for k in na:
    x, y = na[k], nb[k]
    if not (x == y or (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-9 * max(abs(x), abs(y))):
        print(q, k, x, y, file=sys.stderr); sys.exit(1)
PY
}
queries=(
  'up'
  'count by (job) (up)'
  'sum by (mode) (rate(node_cpu_seconds_total[10s]))'
  'irate(node_network_receive_bytes_total[10s])'
  'increase(node_context_switches_total[10s])'
  'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100'
  'topk(3, node_filesystem_avail_bytes)'
  'avg_over_time(node_load1[10s])'
  'max_over_time(scrape_duration_seconds[10s]) > bool 0'
  'count(count by (cpu) (node_cpu_seconds_total))'
  'label_replace(up, "host", "$1", "instance", "(.*):.*")'
  'sum(rate(node_cpu_seconds_total{mode!="idle"}[10s])) / count(node_cpu_seconds_total{mode="idle"})'
  'predict_linear(node_filesystem_free_bytes{mountpoint="/"}[10s], 3600)'
  'deriv(process_resident_memory_bytes[10s])'
  'quantile(0.9, rate(node_cpu_seconds_total[10s]))'
  'time() - node_boot_time_seconds > 0'
)
for q in "${queries[@]}"; do compare "$q"; done
echo "PromQL: ${#queries[@]} queries give Prometheus's answers on the same samples"
echo "PASS: Prometheus remote-wrote $(metric tocsin_tsdb_head_samples_appended_total) samples of $series series, none rejected ($scraped series in Prometheus); import 204; corrupt body 400"
