#!/usr/bin/env bash
# Differential PromQL test against the real Prometheus 2.42: the shared dataset
# (../shared/datasets/gen_dataset.py, node_exporter-shaped, 2 h) is written as blocks for
# Prometheus by promtool and imported into tocsin-tsdb; more than 300 range queries covering
# every function, operator and aggregation run on both (over the 2 h at a 60 s step) and must
# give the same label sets, timestamps and values (relative 1e-9; NaN equals NaN; values both
# below 1e-15 count as equal: rounding noise of cancelling terms).
source "$(dirname "$0")/lib.sh"
need_peers prometheus promtool
GEN=${DATASETS:-$(dirname "$0")/../../../shared/datasets}/gen_dataset.py
[[ -f $GEN ]] || { echo "SKIP: $GEN not present"; exit 77; }
python3 "$GEN" --format om --start 1763748000 --instances 3 -o "$WORK/ds.om"
python3 "$GEN" --format prom --start 1763748000 --instances 3 -o "$WORK/ds.prom"
"$PEERS/promtool" tsdb create-blocks-from openmetrics "$WORK/ds.om" "$WORK/prom" >/dev/null
printf 'global: {}\n' >"$WORK/prom.yml"
start_on_free_port pp prometheus -/ready "$PEERS/prometheus" --config.file="$WORK/prom.yml" \
  --storage.tsdb.path="$WORK/prom" --storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:PORT
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT \
  --storage.tsdb.path="$WORK/tsdb" --storage.tsdb.retention.time=100y
split -l 20000 "$WORK/ds.prom" "$WORK/part."
for f in "$WORK"/part.*; do
  code=$(curl -s -o "$WORK/import.out" -w '%{http_code}' --data-binary @"$f" "http://127.0.0.1:$tp/api/v1/import/prometheus")
  [[ $code == 204 ]] || fail "import answered $code: $(cat "$WORK/import.out")"
done
python3 - "$tp" "$pp" <<'PY' || fail "PromQL results differ from Prometheus (see above)"
import itertools, json, math, sys, urllib.parse, urllib.request
tp, pp = sys.argv[1], sys.argv[2]
start, end, step = 1763748000 + 600, 1763748000 + 7200 - 60, 60

counters = ['node_cpu_seconds_total', 'node_network_receive_bytes_total{device!="lo"}',
            'node_context_switches_total', 'go_gc_duration_seconds_count']
gauges = ['node_load1', 'node_memory_MemAvailable_bytes', 'node_filesystem_avail_bytes',
          'go_goroutines', 'go_gc_duration_seconds']
ranges = ['1m', '5m', '10m']
q = []
for f in ['rate', 'irate', 'increase', 'delta', 'idelta', 'resets', 'changes']:
    for m, r in itertools.product(counters, ranges):
        q.append(f'{f}({m}[{r}])')
for f in ['deriv', 'avg_over_time', 'min_over_time', 'max_over_time', 'sum_over_time',
          'count_over_time', 'stddev_over_time', 'stdvar_over_time', 'last_over_time',
          'present_over_time']:
    for m, r in itertools.product(gauges, ranges[:2]):
        q.append(f'{f}({m}[{r}])')
for m in gauges:
    q += [f'quantile_over_time(0.9, {m}[5m])', f'predict_linear({m}[10m], 600)',
          f'holt_winters({m}[10m], 0.5, 0.3)', f'absent_over_time({m}[1m])']
for f in ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'sgn', 'round',
          'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh',
          'acosh', 'atanh', 'deg', 'rad', 'timestamp', 'sort', 'sort_desc', 'absent',
          'day_of_week', 'day_of_month', 'day_of_year', 'days_in_month', 'hour', 'minute',
          'month', 'year']:
    q.append(f'{f}(node_load1)')
q += ['round(node_load1, 0.1)', 'clamp(node_load1, 0.2, 0.8)', 'clamp_min(node_load1, 0.5)',
      'clamp_max(node_load1, 0.5)', 'vector(1)', 'scalar(sum(node_load1))', 'time()',
      'vector(time())', 'hour()', 'minute()', 'pi()', 'absent(nonexistent)',
      'absent(nonexistent{job="x"})',
      'label_replace(node_load1, "host", "$1", "instance", "(.*):.*")',
      'label_replace(node_load1, "x", "y", "nope", ".+")',
      'label_join(node_load1, "id", "/", "instance", "job")',
      'histogram_quantile(0.9, rate(go_gc_duration_seconds_count[5m]))',
      'timestamp(node_load1 offset 5m)', 'node_load1 @ 1763749800', 'node_load1 offset -5m',
      'rate(node_cpu_seconds_total[5m] @ end())', 'node_load1 @ start()']
for a in ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar']:
    for g in ['', ' by (instance)', ' without (cpu)', ' by (mode)', ' without ()']:
        q.append(f'{a}{g} (rate(node_cpu_seconds_total[5m]))')
for a in ['topk', 'bottomk']:
    for k in ['1', '3', '100']:
        q.append(f'{a}({k}, node_filesystem_avail_bytes)')
        q.append(f'{a} by (instance) ({k}, rate(node_cpu_seconds_total[5m]))')
for p in ['0', '0.5', '0.99', '1']:
    q.append(f'quantile({p}, node_load1)')
    q.append(f'quantile by (mode) ({p}, rate(node_cpu_seconds_total[5m]))')
q += ['count_values("v", go_goroutines)', 'count_values by (instance) ("v", node_load1 > 0.5)']
ops = ['+', '-', '*', '/', '%', '^', 'atan2']
for o in ops:
    q.append(f'node_load1 {o} 2')
    q.append(f'2 {o} node_load1')
    q.append(f'node_memory_MemAvailable_bytes {o} on(instance) node_load1')
    q.append(f'1 {o} 3')
for o in ['==', '!=', '>', '<', '>=', '<=']:
    q.append(f'node_load1 {o} 0.5')
    q.append(f'node_load1 {o} bool 0.5')
    q.append(f'0.5 {o} bool 1')
    q.append(f'rate(node_cpu_seconds_total[5m]) {o} ignoring(mode) group_left avg without (mode) (rate(node_cpu_seconds_total[5m]))')
for o in ['and', 'or', 'unless']:
    q.append(f'node_load1 > 0.3 {o} node_load1 < 0.7')
    q.append(f'rate(node_cpu_seconds_total[5m]) {o} on(instance) node_load1 > 0.6')
q += ['-node_load1', '+node_load1', '-(node_load1 * 2)', '(node_load1)',
      'sum(rate(node_cpu_seconds_total{mode!="idle"}[5m])) by (instance) / count(node_cpu_seconds_total{mode="idle"}) by (instance)',
      '100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)',
      'node_filesystem_avail_bytes / on(instance, device, mountpoint) group_left node_filesystem_size_bytes',
      'max_over_time(rate(node_context_switches_total[1m])[10m:1m])',
      'avg_over_time(node_load1[10m:30s])', 'min_over_time(sum(node_load1)[15m:])',
      'rate(node_cpu_seconds_total[5m] offset 10m)', 'deriv(node_load1[10m:1m])',
      'sum by (instance) (rate(node_network_receive_bytes_total[5m])) > bool 0',
      'count by (__name__) ({__name__=~"node_.+"})', 'count({__name__=~"go_.*"})',
      'sum(node_load1) + sum(node_load1 offset 1h)',
      'topk(1, sum by (mode) (rate(node_cpu_seconds_total[5m])))']
print(f"{len(q)} queries")

def run(port, query):
    data = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step}).encode()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query_range", data=data) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)

def norm(body):
    if body["status"] != "success":
        return ("error", body.get("errorType"))
    res = {}
    for s in body["data"]["result"]:
        res[json.dumps(s["metric"], sort_keys=True)] = [(v[0], float(v[1])) for v in s["values"]]
    return ("ok", res)

def same(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return True
    if a[1].keys() != b[1].keys():
        return False
    for k in a[1]:
        x, y = a[1][k], b[1][k]
        if len(x) != len(y):
            return False
        for (t1, v1), (t2, v2) in zip(x, y):
            if t1 != t2:
                return False
            if v1 == v2 or (math.isnan(v1) and math.isnan(v2)):
                continue
            # Relative 1e-9; below 1e-15 in magnitude both are the noise of cancelling terms
            # (e.g. the stddev of two equal rates), documented in docs/COMPATIBILITY.md.
            if abs(v1 - v2) > 1e-9 * max(abs(v1), abs(v2)) and max(abs(v1), abs(v2)) > 1e-15:
                return False
    return True

bad = 0
for query in q:
    a, b = norm(run(tp, query)), norm(run(pp, query))
    if not same(a, b):
        bad += 1
        detail = ""
        if a[0] == b[0] == "ok":
            only_a = set(a[1]) - set(b[1])
            only_b = set(b[1]) - set(a[1])
            detail = f" series only in tocsin: {list(only_a)[:2]} only in prometheus: {list(only_b)[:2]}"
            if not only_a and not only_b:
                for k in a[1]:
                    x, y = a[1][k], b[1][k]
                    if len(x) != len(y):
                        detail = f" {k}: {len(x)} points in tocsin, {len(y)} in prometheus"
                        break
                    bad_points = [(p1, p2) for p1, p2 in zip(x, y) if not same(("ok", {k: [p1]}), ("ok", {k: [p2]}))]
                    if bad_points:
                        detail = f" {k}: tocsin/prometheus {bad_points[:2]}"
                        break
        else:
            detail = f" tocsin {a[0]} {a[1] if a[0]=='error' else ''} prometheus {b[0]} {b[1] if b[0]=='error' else ''}"
        print(f"DIFF {query}:{detail}"[:600])
print(f"{len(q) - bad} passed, {bad} failed")
sys.exit(1 if bad else 0)
PY
echo "PASS: PromQL range queries give Prometheus 2.42's results"
