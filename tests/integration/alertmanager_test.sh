#!/usr/bin/env bash
# tocsin-alertd in front of the real Alertmanager 0.25 (Debian's prometheus-alertmanager):
# alerts it fires appear in Alertmanager's /api/v2/alerts with their labels, annotations and a
# generatorURL; one that resolves leaves Alertmanager's active list; the one still firing stays
# active across several resends.
source "$(dirname "$0")/lib.sh"
need_peers prometheus-alertmanager
cat >"$WORK/am.yml" <<'YAML'
route:
  receiver: blackhole
  group_wait: 1s
receivers:
  - name: blackhole
YAML
# Debian's build reads its default templates from /usr/share/prometheus/alertmanager, which only
# an installed package has; the unpacked copy is pointed at its own share directory instead
# through a link of the same length (the path is a constant in the binary).
share=/tmp/tocsin-peer-alertmanager-tmpl
ln -sfn "$(cd "$PEERS/../share/prometheus/alertmanager" && pwd)" "$share"
perl -0777 -pe "s|/usr/share/prometheus/alertmanager|$share|g" "$PEERS/prometheus-alertmanager" >"$WORK/alertmanager"
chmod +x "$WORK/alertmanager"
start_on_free_port amp alertmanager -/ready "$WORK/alertmanager" --config.file="$WORK/am.yml" \
  --storage.path="$WORK/am" --web.listen-address=127.0.0.1:PORT --cluster.listen-address=
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT \
  --storage.tsdb.path="$WORK/tsdb" --query.lookback-delta=3s
feed() {  # feed VALUE: the toggle metric now (and again each second by the loop below)
  curl -fsS --data-binary "toggle{service=\"api\"} $1 $(date +%s%3N)" "http://127.0.0.1:$tp/api/v1/import/prometheus"
}
echo 1 >"$WORK/toggle"
(while :; do feed "$(cat "$WORK/toggle")"; sleep 0.5; done) &
PIDS+=($!)
cat >"$WORK/rules.yml" <<'YAML'
groups:
  - name: am
    interval: 1s
    rules:
      - alert: AlwaysOn
        expr: vector(1)
        labels: {severity: info}
        annotations: {summary: "always on"}
      - alert: ApiToggle
        expr: toggle == 1
        labels: {severity: page}
        annotations: {summary: "{{ $labels.service }} toggled"}
YAML
start_on_free_port ap alertd -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT \
  --rules.file="$WORK/rules.yml" --datasource.url="http://127.0.0.1:$tp" --evaluation-interval=1s \
  --alertmanager.url="http://127.0.0.1:$amp" --rules.alert.resend-delay=1s --web.external-url=http://alertd.example:8880 \
  --storage.path="$WORK/alertd"
am_alerts() {  # names of Alertmanager's active alerts, sorted, space-separated
  curl -fsS "http://127.0.0.1:$amp/api/v2/alerts?active=true&silenced=false&inhibited=false" |
    python3 -c 'import sys, json; print(" ".join(sorted(a["labels"]["alertname"] for a in json.load(sys.stdin) if a["status"]["state"] == "active")))'
}
for _ in $(seq 100); do [[ $(am_alerts) == "AlwaysOn ApiToggle" ]] && break; sleep 0.2; done
[[ $(am_alerts) == "AlwaysOn ApiToggle" ]] || fail "Alertmanager's active alerts: '$(am_alerts)', want AlwaysOn and ApiToggle"
curl -fsS "http://127.0.0.1:$amp/api/v2/alerts" | python3 -c '
import sys, json
alerts = {a["labels"]["alertname"]: a for a in json.load(sys.stdin)}
t = alerts["ApiToggle"]
assert t["labels"] == {"alertname": "ApiToggle", "service": "api", "severity": "page"}, t["labels"]
assert t["annotations"] == {"summary": "api toggled"}, t["annotations"]
assert t["generatorURL"].startswith("http://alertd.example:8880/graph?g0.expr=toggle"), t["generatorURL"]
' || fail "alert shape in Alertmanager"
# The toggle goes to 0: ApiToggle resolves and leaves the active list; AlwaysOn stays, re-sent
# every second (its endsAt moves ahead), for longer than one validity window would last
# without resends (4 s here).
echo 0 >"$WORK/toggle"
for _ in $(seq 100); do [[ $(am_alerts) == "AlwaysOn" ]] && break; sleep 0.2; done
[[ $(am_alerts) == "AlwaysOn" ]] || fail "after resolving: '$(am_alerts)', want AlwaysOn only"
sleep 6
[[ $(am_alerts) == "AlwaysOn" ]] || fail "AlwaysOn left Alertmanager while firing: '$(am_alerts)'"
sent=$(curl -fsS "http://127.0.0.1:$ap/metrics" | awk '$1 == "tocsin_alertd_alertmanager_alerts_sent_total" {print $2}')
errors=$(curl -fsS "http://127.0.0.1:$ap/metrics" | awk '$1 == "tocsin_alertd_alertmanager_errors_total" {print $2}')
[[ $errors == 0 ]] || fail "$errors failed requests to Alertmanager"
echo "PASS: AlwaysOn and ApiToggle appeared in Alertmanager 0.25 with labels, annotations and generatorURL; ApiToggle resolved and left it; AlwaysOn stayed active over 6 s of resends ($sent alerts sent, 0 errors)"
