#!/usr/bin/env bash
# Every panel query of every dashboard in dashboards/ runs against tocsin-tsdb scraping
# tocsin-exporter, with the variables substituted as Grafana would ($__rate_interval as four
# scrape intervals): each parses and returns at least one series, unless the panel's
# description starts with "Conditional:". The template variables' label_values() queries
# return the scraped job and instance.
source "$(dirname "$0")/lib.sh"
DASH=$(dirname "$0")/../../dashboards
start_on_free_port ep exporter -/healthy "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT
tp=$(free_port)
ap=$(free_port)
cat >"$WORK/tsdb.yml" <<YAML
scrape_configs:
  - job_name: node
    scrape_interval: 1s
    static_configs: [{targets: ['127.0.0.1:$ep']}]
  - job_name: tocsin-tsdb
    scrape_interval: 1s
    static_configs: [{targets: ['127.0.0.1:$tp']}]
  - job_name: tocsin-alertd
    scrape_interval: 1s
    static_configs: [{targets: ['127.0.0.1:$ap']}]
YAML
start tsdb "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:$tp --storage.tsdb.path="$WORK/tsdb" --config.file="$WORK/tsdb.yml"
wait_http "http://127.0.0.1:$tp/-/ready"
start alertd "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:$ap --rules.file="$(dirname "$0")/../../rules/*.rules.yml" --storage.path="$WORK/alertd" \
  --datasource.url="http://127.0.0.1:$tp" --evaluation-interval=1s
wait_http "http://127.0.0.1:$ap/-/ready"
sleep 8  # eight scrapes: every rate() has samples
# Some queries, so the query-latency panel has a rate to show.
for _ in 1 2 3; do curl -fsS "http://127.0.0.1:$tp/api/v1/query?query=up" >/dev/null; sleep 1; done
python3 - "$DASH" "$tp" "127.0.0.1:$ep" <<'PY'
import glob, json, sys, urllib.parse, urllib.request
dash_dir, tp, instance = sys.argv[1], sys.argv[2], sys.argv[3]
def api(path, params):
    url = f"http://127.0.0.1:{tp}{path}?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url) as r:
        return json.load(r)
bad, checked, conditional = [], 0, 0
# Container panels need cgroups the exporter can read; some sandboxes (e.g. a bare chroot) have
# none. Then the containers dashboard is skipped, and said so.
have_containers = bool(api("/api/v1/query", {"query": 'count({__name__=~"container_.+"})'})["data"]["result"])
for path in sorted(glob.glob(dash_dir + "/*.json")):
    d = json.load(open(path))
    if "containers" in d.get("tags", []) and not have_containers:
        print(f"SKIP {path}: the exporter sees no cgroups here (no container_* series)")
        continue
    for v in d["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        metric, label = q[len("label_values("):-1].rsplit(",", 1)
        metric = metric.replace("$job", "node")
        values = api(f"/api/v1/label/{label.strip()}/values", {"match[]": metric})["data"]
        want = "node" if label.strip() == "job" else instance
        if want not in values:
            bad.append(f"{path}: variable {v['name']}: {q} gave {values}")
    for p in d["panels"]:
        for t in p.get("targets", []):
            expr = (t["expr"].replace("$job", "node").replace("$instance", instance)
                    .replace("$__rate_interval", "4s"))
            r = api("/api/v1/query", {"query": expr})
            checked += 1
            if r["status"] != "success":
                bad.append(f"{path}: panel {p['title']!r}: {expr}: {r}")
            elif not r["data"]["result"]:
                if p.get("description", "").startswith("Conditional:"):
                    conditional += 1
                else:
                    bad.append(f"{path}: panel {p['title']!r}: no series for {expr}")
for b in bad:
    print("FAIL", b)
print(f"{checked} panel queries, {conditional} empty conditional ones, {len(bad)} failures")
sys.exit(1 if bad else 0)
PY
echo "PASS: every dashboard panel query answers with data"
