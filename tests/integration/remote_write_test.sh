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
echo "PASS: Prometheus remote-wrote $(metric tocsin_tsdb_head_samples_appended_total) samples of $series series, none rejected ($scraped series in Prometheus); import 204; corrupt body 400"
