#!/usr/bin/env bash
# The real Prometheus scrapes tocsin-exporter (metrics and /probe with blackbox's relabeling
# recipe) and answers queries over the data: up, rate(node_cpu_seconds_total[1m]),
# container_memory_working_set_bytes, probe_success.
source "$(dirname "$0")/lib.sh"
need_peers prometheus
cgroup_args=()
if [[ ! -e /sys/fs/cgroup/cgroup.controllers && ! -d /sys/fs/cgroup/memory ]]; then
  # No cgroup filesystem here (a chroot that bind-mounts /sys alone): serve the v2 fixture tree
  # so the container series still travel through Prometheus.
  echo "note: no cgroup filesystem mounted; container metrics come from $FIXTURES/cgroup/v2"
  cgroup_args=(--path.cgroupfs="$FIXTURES/cgroup/v2")
fi
start_on_free_port ep exporter -/healthy "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT "${cgroup_args[@]}"
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$ep']
  - job_name: health
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: ['http://127.0.0.1:$ep/-/healthy', 'http://127.0.0.1:1/health']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:$ep
YAML
start_on_free_port pp prometheus -/ready "$PEERS/prometheus" --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/data" --web.listen-address=127.0.0.1:PORT
q() { curl -fsS "http://127.0.0.1:$pp/api/v1/query" --data-urlencode "query=$1"; }
# Wait until enough scrapes happened for a 1m rate.
deadline=$((SECONDS + 40))
until q 'rate(node_cpu_seconds_total[1m])' | grep -q '"value"'; do
  ((SECONDS < deadline)) || fail "rate(node_cpu_seconds_total[1m]) returned no series"
  sleep 1
done
up=$(q 'up{job="node"}')
echo "$up" | grep -q '"value":\[[0-9.]*,"1"\]' || fail "up{job=node} is not 1: $up"
n=$(q 'count(rate(node_cpu_seconds_total[1m]))' | grep -o '"value":\[[0-9.]*,"[0-9]*"' | grep -o '"[0-9]*"$' | tr -d '"')
[[ ${n:-0} -ge 1 ]] || fail "no node_cpu_seconds_total rate series"
ws=$(q 'container_memory_working_set_bytes{id="/"}')
echo "$ws" | grep -q '"value"' || fail "container_memory_working_set_bytes has no series: $ws"
ok=$(q 'probe_success{instance="http://127.0.0.1:'$ep'/-/healthy"}')
echo "$ok" | grep -q ',"1"\]' || fail "probe of a healthy endpoint is not 1: $ok"
bad=$(q 'probe_success{instance="http://127.0.0.1:1/health"}')
echo "$bad" | grep -q ',"0"\]' || fail "probe of a dead endpoint is not 0: $bad"
pup=$(q 'up{job="health"}')
[[ $(echo "$pup" | grep -o ',"1"\]' | wc -l) -eq 2 ]] || fail "probe targets not both up: $pup"
echo "PASS: Prometheus sees up=1, $n cpu rate series, container working set, probe_success 1 and 0"
