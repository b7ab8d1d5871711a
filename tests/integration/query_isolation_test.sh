#!/usr/bin/env bash
# Heavy queries do not disturb ingestion or other queries (issue 4, safety): while four queries
# that run into --query.timeout and one over --query.max-samples are evaluated at once, a writer
# keeps importing every 100 ms and a light query keeps answering; every write is acknowledged
# quickly, every acknowledged sample is there afterwards, and the heavy queries fail with
# Prometheus's errors (503 "timeout", 422 "execution") within their limit.
source "$(dirname "$0")/lib.sh"
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT \
  --storage.tsdb.path="$WORK/tsdb" --storage.tsdb.retention.time=100y \
  --query.timeout=2s --query.max-samples=2000000
base="http://127.0.0.1:$tp"

# 400 series x 1,440 samples (4 h at 10 s) to query over.
now=$(date +%s)
t0=$(( (now - 4 * 3600) / 10 * 10 ))
python3 - "$t0" >"$WORK/data.prom" <<'PY'
import sys
t0 = int(sys.argv[1])
for s in range(400):
    for i in range(1440):
        print('heavy_total{job="j%d",instance="i%d"} %d %d' % (s % 8, s, i * (s + 1), (t0 + 10 * i) * 1000))
PY
code=$(curl -s -o "$WORK/import.out" -w '%{http_code}' --data-binary @"$WORK/data.prom" "$base/api/v1/import/prometheus")
[[ $code == 204 ]] || fail "import answered $code: $(cat "$WORK/import.out")"

# Four queries that take far longer than 2 s (a subquery re-evaluating 400 series' rates at
# every 10 s of 4 h, at every step), and one that loads 576,000 samples for each of 8 offsets.
slow='max_over_time(sum by (job) (rate(heavy_total[5m]))[4h:10s])'
big='sum(count_over_time(heavy_total[4h])) + sum(count_over_time(heavy_total[4h] offset 1m)) + sum(count_over_time(heavy_total[4h] offset 2m)) + sum(count_over_time(heavy_total[4h] offset 3m)) + sum(count_over_time(heavy_total[4h] offset 4m))'
began=$SECONDS
heavy=()
for i in 1 2 3 4; do
  curl -s -o "$WORK/slow$i.json" -w '%{http_code} %{time_total}\n' "$base/api/v1/query_range" \
    --data-urlencode "query=$slow" -d start=$((t0 + 3600)) -d end=$((t0 + 4 * 3600 - 10)) -d step=10 \
    >"$WORK/slow$i.code" &
  heavy+=($!)
done
curl -s -o "$WORK/big.json" -w '%{http_code} %{time_total}\n' "$base/api/v1/query" \
  --data-urlencode "query=$big" -d time=$((t0 + 4 * 3600)) >"$WORK/big.code" &
heavy+=($!)

# Meanwhile: one write every 100 ms for 3 s, and a light query after each.
python3 - "$base" "$now" >"$WORK/writer.out" <<'PY' || fail "writer: $(cat "$WORK/writer.out")"
import sys, time, urllib.request, urllib.parse
base, now = sys.argv[1], int(sys.argv[2])
worst_write = worst_query = 0.0
for i in range(30):
    body = ('live_total{writer="w"} %d %d\n' % (i, (now + i) * 1000)).encode()
    t = time.monotonic()
    with urllib.request.urlopen(urllib.request.Request(base + "/api/v1/import/prometheus", data=body), timeout=10) as r:
        assert r.status == 204, r.status
    worst_write = max(worst_write, time.monotonic() - t)
    t = time.monotonic()
    q = urllib.parse.urlencode({"query": 'heavy_total{instance="i7"}', "time": now})
    with urllib.request.urlopen(base + "/api/v1/query?" + q, timeout=10) as r:
        assert r.status == 200 and b'"i7"' in r.read(), "light query"
    worst_query = max(worst_query, time.monotonic() - t)
    time.sleep(0.1)
print("%.3f %.3f" % (worst_write, worst_query))
PY
read -r worst_write worst_query <"$WORK/writer.out"
wait "${heavy[@]}"
busy=$((SECONDS - began))
for i in 1 2 3 4; do
  read -r code secs <"$WORK/slow$i.code"
  [[ $code == 503 ]] && grep -q '"errorType":"timeout","error":"query timed out in expression evaluation"' "$WORK/slow$i.json" ||
    fail "slow query $i: $code $(head -c 300 "$WORK/slow$i.json")"
  python3 -c "import sys; sys.exit(0 if float('$secs') < 6 else 1)" || fail "slow query $i took ${secs}s (timeout 2s)"
done
read -r code secs <"$WORK/big.code"
[[ $code == 422 ]] && grep -q 'query processing would load too many samples' "$WORK/big.json" ||
  fail "big query: $code $(head -c 300 "$WORK/big.json")"
python3 -c "import sys; sys.exit(0 if float('$worst_write') < 0.5 and float('$worst_query') < 1 else 1)" ||
  fail "slowest write ${worst_write}s, slowest light query ${worst_query}s while heavy queries ran"
n=$(curl -fsS "$base/api/v1/query" --data-urlencode 'query=count_over_time(live_total[1h])' -d time=$((now + 40)) |
  python3 -c 'import sys, json; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
[[ $n == 30 ]] || fail "$n of 30 acknowledged samples found after the heavy queries"
echo "PASS: 4 slow queries -> 503 timeout, 1 over max-samples -> 422, in ${busy}s; meanwhile 30 writes (slowest ${worst_write}s) and 30 light queries (slowest ${worst_query}s), all 30 samples there"
