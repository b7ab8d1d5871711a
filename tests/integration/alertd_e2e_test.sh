#!/usr/bin/env bash
# End to end on loopback: tocsin-tsdb probes a small service's /health through tocsin-exporter;
# tocsin-alertd evaluates a service-down rule against tocsin-tsdb; the service stops: the alert
# goes pending, then firing, and a Slack-shaped receiver gets exactly one firing message; the
# service returns: exactly one resolved message follows. The webhook URL appears in no log.
source "$(dirname "$0")/lib.sh"
TOCSIN_ALERTD=${TOCSIN_ALERTD:?}
# A Slack-shaped receiver that records each POSTed body.
cat >"$WORK/slack.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"receiver")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
sp=$(free_port)
start slack python3 "$WORK/slack.py" "$sp" "$WORK/messages"
wait_http "http://127.0.0.1:$sp/"
# The service: only a JSON /health.
mkdir -p "$WORK/svc"
echo '{"status":"ok"}' >"$WORK/svc/health"
svc_port=$(free_port)
start_service() {
  start svc python3 -m http.server --bind 127.0.0.1 --directory "$WORK/svc" "$svc_port"
  svc_pid=$LAST_PID
  wait_http "http://127.0.0.1:$svc_port/health"
}
start_service
start_on_free_port ep exporter -/healthy "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT
cat >"$WORK/tsdb.yml" <<YAML
scrape_configs:
  - job_name: health
    scrape_interval: 1s
    metrics_path: /probe
    params: {module: [http_2xx]}
    static_configs: [{targets: ['http://127.0.0.1:$svc_port/health']}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '127.0.0.1:$ep'}
YAML
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT \
  --storage.tsdb.path="$WORK/tsdb" --config.file="$WORK/tsdb.yml" --query.lookback-delta=3s
cat >"$WORK/rules.yml" <<'YAML'
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: ServiceHealthCheckFailed
        expr: probe_success == 0
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: "Health check of {{ $labels.instance }} fails"
YAML
secret_url="http://127.0.0.1:$sp/services/T000/B000/s3cr3tT0k3n"
export SLACK_WEBHOOK_URL=$secret_url
alertd_args=(--rules.file="$WORK/rules.yml" --datasource.url="http://127.0.0.1:$tp" --evaluation-interval=1s
  --remote-write.url="http://127.0.0.1:$tp/api/v1/write" --storage.path="$WORK/alertd")
start_on_free_port ap alertd -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT "${alertd_args[@]}"
alertd_pid=$LAST_PID
unset SLACK_WEBHOOK_URL
count() {  # messages whose title is $1
  local n=0
  [[ -f $WORK/messages ]] && n=$(grep -cF "\"title\":\"$1" "$WORK/messages" || true)
  echo "${n:-0}"
}
# Healthy for a few seconds: nothing is sent.
sleep 4
[[ $(count "[FIRING:1] ServiceHealthCheckFailed") == 0 ]] || fail "an alert fired while the service was up"
kill "$svc_pid"; wait "$svc_pid" 2>/dev/null || true
saw_pending=no
for _ in $(seq 100); do
  state=$(curl -fsS "http://127.0.0.1:$ap/api/v1/alerts" | python3 -c 'import sys, json; a = json.load(sys.stdin)["data"]["alerts"]; print(a[0]["state"] if a else "none")')
  [[ $state == pending ]] && saw_pending=yes
  [[ $state == firing ]] && break
  sleep 0.2
done
[[ $state == firing ]] || fail "the alert did not fire (state $state)"
[[ $saw_pending == yes ]] || fail "the alert never showed as pending before firing"
for _ in $(seq 50); do [[ $(count "[FIRING:1] ServiceHealthCheckFailed") -ge 1 ]] && break; sleep 0.2; done
sleep 3  # more evaluations while firing must not send again
[[ $(count "[FIRING:1] ServiceHealthCheckFailed") == 1 ]] || fail "want exactly one firing message, got $(count "[FIRING:1] ServiceHealthCheckFailed")"
grep -q "Health check of http://127.0.0.1:$svc_port/health fails" "$WORK/messages" || fail "message text: $(cat "$WORK/messages")"
# alertd wrote ALERTS and ALERTS_FOR_STATE back into tocsin-tsdb (remote write), as Prometheus.
for q in 'ALERTS{alertname="ServiceHealthCheckFailed",alertstate="firing"}' 'ALERTS_FOR_STATE{alertname="ServiceHealthCheckFailed"}'; do
  n=$(curl -fsS "http://127.0.0.1:$tp/api/v1/query" --data-urlencode "query=$q" | python3 -c 'import sys, json; print(len(json.load(sys.stdin)["data"]["result"]))')
  [[ $n == 1 ]] || fail "$q: $n series in tocsin-tsdb, want 1"
done
# alertd dies (kill -9) while the alert fires and comes back: the alert is firing again at once,
# restored from what it wrote back, and nobody is paged a second time.
kill -9 "$alertd_pid"; wait "$alertd_pid" 2>/dev/null || true
export SLACK_WEBHOOK_URL=$secret_url
start_on_free_port ap alertd2 -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT "${alertd_args[@]}"
unset SLACK_WEBHOOK_URL
for _ in $(seq 50); do
  state=$(curl -fsS "http://127.0.0.1:$ap/api/v1/alerts" | python3 -c 'import sys, json; a = json.load(sys.stdin)["data"]["alerts"]; print(a[0]["state"] if a else "none")')
  [[ $state != none ]] && break
  sleep 0.2
done
[[ $state == firing ]] || fail "after a restart the alert is $state, want firing (restored)"
sleep 2
[[ $(count "[FIRING:1] ServiceHealthCheckFailed") == 1 ]] || fail "the restart paged again"
start_service
for _ in $(seq 100); do [[ $(count "[RESOLVED] ServiceHealthCheckFailed") -ge 1 ]] && break; sleep 0.2; done
sleep 3
[[ $(count "[RESOLVED] ServiceHealthCheckFailed") == 1 ]] || fail "want exactly one resolved message, got $(count "[RESOLVED] ServiceHealthCheckFailed")"
[[ $(count "[FIRING:1] ServiceHealthCheckFailed") == 1 ]] || fail "fired again after resolving"
# The webhook URL is a secret: in no log and no API answer.
for f in "$WORK"/*.log; do ! grep -q "s3cr3tT0k3n" "$f" || fail "the webhook URL leaked into $(basename "$f")"; done
for path in /api/v1/rules /api/v1/alerts /metrics; do
  ! curl -fsS "http://127.0.0.1:$ap$path" | grep -q "s3cr3tT0k3n" || fail "the webhook URL leaked into $path"
done
echo "PASS: service down -> pending -> one firing Slack message; alertd kill -9 -> restored firing, no second page; service back -> one resolved message; no secret leaked"
