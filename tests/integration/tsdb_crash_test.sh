#!/usr/bin/env bash
# tocsin-tsdb is killed with SIGKILL while a writer imports batches, at a random moment; after a
# restart every batch it acknowledged (204) is there: the head holds at least as many samples as
# were acknowledged, and the replay reported them. Restart time is printed.
source "$(dirname "$0")/lib.sh"
data="$WORK/tsdb"
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT --storage.tsdb.path="$data" --storage.tsdb.retention.time=100y
pid=$LAST_PID
# The writer runs on its own and records each acknowledged batch; the server is killed at a
# random moment, most likely in the middle of a request.
writer() {
  local batch=0 body s
  while ((batch < 5000)); do
    body=""
    for s in $(seq 0 99); do body+="crash_test{series=\"$s\"} $batch $((1700000000000 + batch * 1000))"$'\n'; done
    [[ $(curl -s -o /dev/null -w '%{http_code}' --data-binary "$body" \
      "http://127.0.0.1:$tp/api/v1/import/prometheus") == 204 ]] || return 0
    echo "$batch" >>"$WORK/acked"
    batch=$((batch + 1))
  done
}
writer &
wpid=$!
sleep "0.$((3 + RANDOM % 7))"
kill -9 "$pid"
wait "$wpid" 2>/dev/null || true
acked=$(($(wc -l <"$WORK/acked") * 100))
kill_after=$((acked / 100))
wait "$pid" 2>/dev/null || true
start_on_free_port tp2 tsdb2 -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT --storage.tsdb.path="$data" --storage.tsdb.retention.time=100y
have=$(curl -fsS "http://127.0.0.1:$tp2/metrics" | awk '$1 == "tocsin_tsdb_head_samples_appended_total" {print $2}')
series=$(curl -fsS "http://127.0.0.1:$tp2/metrics" | awk '$1 == "tocsin_tsdb_head_series" {print $2}')
replay=$(grep -o 'msg="Storage opened".*' "$WORK/tsdb2.log")
((acked > 0)) || fail "nothing was acknowledged before the kill"
[[ ${have%.*} -ge $acked ]] || fail "after kill -9: $have samples, $acked acknowledged ($replay)"
[[ ${series%.*} == 100 ]] || fail "after kill -9: $series series, want 100"
echo "PASS: killed after $kill_after acknowledged batches; $acked samples acknowledged, $have recovered; $replay"
