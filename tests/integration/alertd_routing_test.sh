#!/usr/bin/env bash
# tocsin-alertd with an Alertmanager-shaped alertd.yml: alerts are routed by label to two Slack
# receivers (one with Block Kit layout) and grouped; a silence made with the real amtool
# (Alertmanager 0.25's CLI, against alertd's /api/v2/silences) keeps one alert quiet; expiring
# it lets the alert through at the next group interval. Silences survive a restart.
source "$(dirname "$0")/lib.sh"
need_peers amtool
TOCSIN_ALERTD=${TOCSIN_ALERTD:?}
cat >"$WORK/slack.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as f:
            f.write(self.path.encode() + b" " + body + b"\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"receiver")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
sp=$(free_port)
start slack python3 "$WORK/slack.py" "$sp" "$WORK/messages"
wait_http "http://127.0.0.1:$sp/"
start_on_free_port tp tsdb -/ready "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:PORT --storage.tsdb.path="$WORK/tsdb"
cat >"$WORK/rules.yml" <<'YAML'
groups:
  - name: routing
    interval: 1s
    rules:
      - alert: DiskFull
        expr: label_replace(vector(1), "instance", "db1", "", "") or label_replace(vector(1), "instance", "db2", "", "")
        labels: {severity: page, team: dba}
        annotations: {summary: "disk full on {{ $labels.instance }}"}
      - alert: CpuBusy
        expr: vector(1)
        labels: {severity: warning, team: web}
YAML
echo "http://127.0.0.1:$sp/hooks/dba-s3cr3t" >"$WORK/dba.url"
chmod 600 "$WORK/dba.url"
cat >"$WORK/alertd.yml" <<YAML
route:
  receiver: web
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['team="dba"']
      receiver: dba
receivers:
  - name: web
    slack_configs:
      - api_url: http://127.0.0.1:$sp/hooks/web-s3cr3t
        channel: '#web'
  - name: dba
    slack_configs:
      - api_url_file: $WORK/dba.url
        layout: blocks
YAML
alertd_args=(--rules.file="$WORK/rules.yml" --datasource.url="http://127.0.0.1:$tp" --evaluation-interval=1s
  --config.file="$WORK/alertd.yml" --storage.path="$WORK/alertd")
start_on_free_port ap alertd -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT "${alertd_args[@]}"
# A silence for db2, with amtool, before the first group flush.
id=$("$PEERS/amtool" --alertmanager.url="http://127.0.0.1:$ap" silence add instance=db2 \
  --duration=1h --comment="maintenance" --author=test 2>"$WORK/amtool.err") || fail "amtool silence add: $(cat "$WORK/amtool.err")"
"$PEERS/amtool" --alertmanager.url="http://127.0.0.1:$ap" silence query -o json >"$WORK/silences.json" 2>&1 ||
  fail "amtool silence query: $(cat "$WORK/silences.json")"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); assert len(s) == 1 and s[0]["status"]["state"] == "active" and s[0]["comment"] == "maintenance", s' "$WORK/silences.json" ||
  fail "silence listing: $(cat "$WORK/silences.json")"
for _ in $(seq 100); do [[ $(grep -c "" "$WORK/messages" 2>/dev/null || echo 0) -ge 2 ]] && break; sleep 0.1; done
sleep 3
python3 - "$WORK/messages" <<'PY' || fail "routing: $(cat "$WORK/messages")"
import json, sys
msgs = [(l.split(" ", 1)[0], json.loads(l.split(" ", 1)[1])) for l in open(sys.argv[1])]
dba = [m for p, m in msgs if p == "/hooks/dba-s3cr3t"]
web = [m for p, m in msgs if p == "/hooks/web-s3cr3t"]
assert len(dba) == 1 and len(web) == 1, msgs
assert dba[0]["blocks"][0]["type"] == "header", dba[0]
assert dba[0]["blocks"][0]["text"]["text"] == "[FIRING:1] DiskFull", dba[0]
body = json.dumps(dba[0])
assert "disk full on db1" in body and "db2" not in body, body  # db2 silenced
assert web[0]["channel"] == "#web" and web[0]["attachments"][0]["title"] == "[FIRING:1] CpuBusy", web[0]
PY
# Restart: the silence is still there, and nobody is paged again.
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
start_on_free_port ap alertd2 -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT "${alertd_args[@]}"
state=$(curl -fsS "http://127.0.0.1:$ap/api/v2/silence/$id" | python3 -c 'import sys, json; print(json.load(sys.stdin)["status"]["state"])')
[[ $state == active ]] || fail "after a restart the silence is $state"
"$PEERS/amtool" --alertmanager.url="http://127.0.0.1:$ap" silence expire "$id" 2>"$WORK/amtool.err" || fail "amtool silence expire: $(cat "$WORK/amtool.err")"
for _ in $(seq 100); do grep -q "disk full on db2" "$WORK/messages" && break; sleep 0.1; done
grep -q "disk full on db2" "$WORK/messages" || fail "db2 was not notified after its silence expired"
sleep 2
n=$(wc -l <"$WORK/messages")
[[ $n == 3 ]] || fail "want 3 messages (dba, web, then dba with db2), got $n: $(cat "$WORK/messages")"
for f in "$WORK"/*.log; do ! grep -q "s3cr3t" "$f" || fail "a webhook URL leaked into $(basename "$f")"; done
for path in /api/v1/rules /api/v1/alerts /metrics /api/v2/silences; do
  ! curl -fsS "http://127.0.0.1:$ap$path" | grep -q "s3cr3t" || fail "a webhook URL leaked into $path"
done
echo "PASS: routed by team to two Slack receivers (Block Kit and attachments); an amtool silence kept db2 quiet, survived a restart, and once expired db2 was notified; no second page; no secret leaked"
