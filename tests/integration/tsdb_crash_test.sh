#!/usr/bin/env bash
# tocsin-tsdb is killed with SIGKILL at a random moment while one writer remote-writes batches
# (as a Prometheus queue does), another imports batches, and it scrapes a target every 100 ms;
# after a restart every acknowledged batch (2xx) and every scrape it had reported as done is
# there (read back through /api/v1/export), and no timestamp is duplicated. Restart time is
# printed.
source "$(dirname "$0")/lib.sh"
data="$WORK/tsdb"
mkdir -p "$WORK/www"
printf 'crash_scrape{k="a"} 1\ncrash_scrape{k="b"} 2\n' >"$WORK/www/metrics"
wp=$(free_port)
start www python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$wp"
wait_http "http://127.0.0.1:$wp/metrics"
cat >"$WORK/tsdb.yml" <<YAML
scrape_configs:
  - job_name: crash
    scrape_interval: 100ms
    static_configs: [{targets: ['127.0.0.1:$wp']}]
YAML
args=(--storage.tsdb.path="$data" --storage.tsdb.retention.time=100y --config.file="$WORK/tsdb.yml"
  --storage.tsdb.checkpoint-interval=1s)
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT "${args[@]}"
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
"$RW_CRASH_WRITER" "http://127.0.0.1:$tp/api/v1/write" "$WORK/rw_acked" 100 100000 &
rwpid=$!
sleep "1.$((RANDOM % 10))"  # past the first checkpoints (every second)
scrapes=$(curl -fsS "http://127.0.0.1:$tp/metrics" | awk '$1 == "tocsin_tsdb_scrapes_total{result=\"ok\"}" {print $2}')
kill -9 "$pid"
wait "$wpid" "$rwpid" 2>/dev/null || true
acked=$(($(wc -l <"$WORK/acked") * 100))
rw_acked=$(($(wc -l <"$WORK/rw_acked" 2>/dev/null || echo 0) * 100))
kill_after=$((acked / 100))
wait "$pid" 2>/dev/null || true
t0=$(date +%s.%N)
start_on_free_port tp2 tsdb2 -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT "${args[@]}"
restart=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')
export_counts() {  # export_counts SELECTOR: "series samples min_per_series duplicates"
  curl -fsS "http://127.0.0.1:$tp2/api/v1/export" --data-urlencode "match[]=$1" | python3 -c '
import sys, json
rows = [json.loads(l) for l in sys.stdin if l.strip()]
counts = [len(r["timestamps"]) for r in rows]
dups = sum(len(r["timestamps"]) - len(set(r["timestamps"])) for r in rows)
print(len(rows), sum(counts), min(counts) if counts else 0, dups)'
}
read -r series samples min_per dups < <(export_counts 'crash_test')
((acked > 0)) || fail "nothing was acknowledged before the kill"
[[ $series == 100 ]] || fail "after kill -9: $series import series, want 100"
((min_per * 100 >= acked)) || fail "after kill -9: a series has $min_per samples, $((acked / 100)) batches were acknowledged"
[[ $dups == 0 ]] || fail "after kill -9: $dups duplicated timestamps in imported series"
read -r series samples min_per dups < <(export_counts 'crash_rw')
((rw_acked > 0)) || fail "no remote write was acknowledged before the kill"
[[ $series == 100 ]] || fail "after kill -9: $series remote-written series, want 100"
((min_per * 100 >= rw_acked)) || fail "after kill -9: a remote-written series has $min_per samples, $((rw_acked / 100)) requests were acknowledged"
[[ $dups == 0 ]] || fail "after kill -9: $dups duplicated timestamps in remote-written series"
read -r _ up_samples _ up_dups < <(export_counts 'up{job="crash"}')
# Scrapes after the restart add more; the ones reported before the kill must all be there.
((up_samples >= ${scrapes%.*})) || fail "after kill -9: $up_samples up samples, $scrapes scrapes were reported done"
[[ $up_dups == 0 ]] || fail "after kill -9: duplicated up timestamps"
echo "PASS: killed after $kill_after acknowledged import batches, $((rw_acked / 100)) acknowledged remote writes and ${scrapes%.*} reported scrapes; all there, none twice; restart ${restart}s"
