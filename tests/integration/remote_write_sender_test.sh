#!/usr/bin/env bash
# tocsin-tsdb forwards to the real VictoriaMetrics by remote write (remote_write in its config):
# samples imported into tocsin-tsdb arrive in VictoriaMetrics with the external labels. Then
# VictoriaMetrics goes away, more samples are imported, tocsin-tsdb is killed with SIGKILL and
# restarted, VictoriaMetrics comes back: every sample arrives, none twice.
source "$(dirname "$0")/lib.sh"
need_peers victoria-metrics
vm_port=$(free_port)
start_vm() {
  start vm "$PEERS/victoria-metrics" -httpListenAddr=127.0.0.1:$vm_port -storageDataPath="$WORK/vm" \
    -retentionPeriod=100y -search.latencyOffset=0s
  wait_http "http://127.0.0.1:$vm_port/health"
  vm_pid=$LAST_PID
}
start_vm
cat >"$WORK/tsdb.yml" <<YAML
global:
  external_labels: {replica: a}
remote_write:
  - url: http://127.0.0.1:$vm_port/api/v1/write
    queue_config: {batch_send_deadline: 200ms, min_backoff: 50ms, max_backoff: 200ms}
YAML
tsdb_args=(--storage.tsdb.path="$WORK/tsdb" --config.file="$WORK/tsdb.yml" --storage.tsdb.retention.time=100y)
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT "${tsdb_args[@]}"
tsdb_pid=$LAST_PID
import() {  # import FIRST LAST: batches FIRST..LAST of 20 series
  local b s body
  for b in $(seq "$1" "$2"); do
    body=""
    for s in $(seq 0 19); do body+="fwd_test{series=\"$s\"} $b $((1700000000000 + b * 1000))"$'\n'; done
    curl -fsS --data-binary "$body" "http://127.0.0.1:$tp/api/v1/import/prometheus" || fail "import $b"
  done
}
vm_count() {  # samples of fwd_test in VictoriaMetrics (raw export, duplicates included)
  curl -fsS "http://127.0.0.1:$vm_port/internal/force_flush" >/dev/null
  curl -fsS "http://127.0.0.1:$vm_port/api/v1/export" --data-urlencode 'match[]=fwd_test{replica="a"}' \
    -d start=1699999999 -d end=1800000000 |
    python3 -c 'import sys, json; print(sum(len(json.loads(l)["values"]) for l in sys.stdin if l.strip()))'
}
wait_count() {
  local want=$1 got=0
  for _ in $(seq 150); do
    got=$(vm_count)
    [[ $got -ge $want ]] && break
    sleep 0.2
  done
  echo "$got"
}
import 0 49
got=$(wait_count 1000)
[[ $got == 1000 ]] || fail "VictoriaMetrics has $got of 1000 forwarded samples"
echo "forwarded 1000 samples with external labels"

# The receiver goes away; samples keep being accepted and wait in the WAL.
kill "$vm_pid"; wait "$vm_pid" 2>/dev/null || true
import 50 99
sleep 0.5
kill -9 "$tsdb_pid"; wait "$tsdb_pid" 2>/dev/null || true
start_vm
start_on_free_port tp tsdb2 -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT "${tsdb_args[@]}"
got=$(wait_count 2000)
sleep 1
got=$(vm_count)
[[ $got == 2000 ]] || fail "after kill -9 and restart VictoriaMetrics has $got samples, want exactly 2000"
sent=$(curl -fsS "http://127.0.0.1:$tp/metrics" | awk '/^tocsin_tsdb_remote_samples_sent_total/ {print $2}')
echo "PASS: 2000 of 2000 samples in VictoriaMetrics, none twice, across a receiver outage and a kill -9 (restarted sender sent $sent)"
