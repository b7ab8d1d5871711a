#!/usr/bin/env bash
# tocsin-alertd against a failing Slack and a failing datasource:
# 1. The receiver answers 500, then 429 with Retry-After: 2, then hangs past --notify.timeout,
#    then accepts: each message is delivered once, in the order the alerts fired, with the
#    backoff and the Retry-After delay honoured.
# 2. alertd is killed (-9) while a notification is still being retried; after a restart it is
#    delivered exactly once (from the notification log), and the restored alert does not page
#    again.
# 3. The datasource (tocsin-tsdb) is down for 10 evaluation rounds: the alert stays firing and
#    nothing resolves.
source "$(dirname "$0")/lib.sh"
TOCSIN_ALERTD=${TOCSIN_ALERTD:?}
cat >"$WORK/slack.py" <<'PY'
import http.server, json, sys, time, os
plan_file, log_file = sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        title = json.loads(body)["attachments"][0]["title"]
        plan = open(plan_file).read().split()
        step = plan[0] if plan else "ok"
        if len(plan) > 1:
            open(plan_file, "w").write(" ".join(plan[1:]))
        with open(log_file, "a") as f:
            f.write("%.3f %s %s\n" % (time.time(), step, title))
        if step == "hang":
            time.sleep(3)
            return
        code = {"ok": 200, "500": 500, "429": 429}[step]
        self.send_response(code)
        if code == 429:
            self.send_header("Retry-After", "2")
        self.end_headers()
        self.wfile.write(b"ok" if code == 200 else b"try later")
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"receiver")
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
echo "500 429 hang ok" >"$WORK/plan"
sp=$(free_port)
start slack python3 "$WORK/slack.py" "$sp" "$WORK/plan" "$WORK/requests"
wait_http "http://127.0.0.1:$sp/"
tsdb_port=$(free_port)
start_tsdb() {
  start tsdb "$TOCSIN_TSDB" --web.listen-address=127.0.0.1:$tsdb_port --storage.tsdb.path="$WORK/tsdb"
  tsdb_pid=$LAST_PID
  wait_http "http://127.0.0.1:$tsdb_port/-/ready"
}
start_tsdb
cat >"$WORK/rules.yml" <<'YAML'
groups:
  - name: faults
    interval: 1s
    rules:
      - alert: First
        expr: vector(1)
      - alert: Second
        expr: vector(1)
        for: 1s
YAML
export SLACK_WEBHOOK_URL="http://127.0.0.1:$sp/services/T0/B0/faulty"
alertd_args=(--rules.file="$WORK/rules.yml" --datasource.url="http://127.0.0.1:$tsdb_port" --evaluation-interval=1s
  --remote-write.url="http://127.0.0.1:$tsdb_port/api/v1/write" --notify.timeout=1s --storage.path="$WORK/alertd")
start_on_free_port ap alertd -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT "${alertd_args[@]}"
alertd_pid=$LAST_PID
delivered() { grep -c " ok " "$WORK/requests" 2>/dev/null || true; }
for _ in $(seq 150); do [[ $(delivered) -ge 2 ]] && break; sleep 0.2; done
sleep 2
python3 - "$WORK/requests" <<'PY' || fail "deliveries: $(cat "$WORK/requests")"
import sys
rows = [l.split(None, 2) for l in open(sys.argv[1])]
steps = [(float(t), s, title.strip()) for t, s, title in rows]
assert [s for _, s, _ in steps] == ["500", "429", "hang", "ok", "ok"], steps
assert all(title == "[FIRING:1] First" for _, _, title in steps[:4]), steps
assert steps[4][2] == "[FIRING:1] Second", steps  # in the order they fired, each once
gap = lambda i: steps[i + 1][0] - steps[i][0]
assert gap(0) >= 0.45, ("backoff after 500", gap(0))
assert gap(1) >= 1.95, ("Retry-After: 2 after 429", gap(1))
assert gap(2) >= 0.95, ("the hung attempt waits for --notify.timeout", gap(2))
print("deliveries ok: gaps %.2f %.2f %.2f s" % (gap(0), gap(1), gap(2)))
PY
# 2. Slack fails while a new alert fires; alertd dies before delivering it.
cat >>"$WORK/rules.yml" <<'YAML'
      - alert: Third
        expr: vector(1)
YAML
echo "500 500 500 500 500 500 500 500 500 500" >"$WORK/plan"
curl -fsS -X POST "http://127.0.0.1:$ap/-/reload" >/dev/null
for _ in $(seq 100); do grep -q " 500 \[FIRING:1\] Third" "$WORK/requests" && break; sleep 0.1; done
grep -q " 500 \[FIRING:1\] Third" "$WORK/requests" || fail "Third was not attempted"
sleep 2  # several evaluations with ALERTS_FOR_STATE written back
kill -9 "$alertd_pid"; wait "$alertd_pid" 2>/dev/null || true
echo "ok" >"$WORK/plan"
start_on_free_port ap alertd2 -/ready "$TOCSIN_ALERTD" --web.listen-address=127.0.0.1:PORT "${alertd_args[@]}"
for _ in $(seq 100); do grep -q " ok \[FIRING:1\] Third" "$WORK/requests" && break; sleep 0.1; done
sleep 3
n=$(grep -c " ok \[FIRING:1\] Third" "$WORK/requests" || true)
[[ $n == 1 ]] || fail "after kill -9 and restart, Third was delivered $n times, want 1: $(cat "$WORK/requests")"
[[ $(grep -c " ok \[FIRING:1\] First" "$WORK/requests") == 1 ]] || fail "the restart paged First again"
recovered=$(curl -fsS "http://127.0.0.1:$ap/metrics" | awk '$1 == "tocsin_alertd_notifications_recovered" {print $2}')
[[ $recovered == 1 ]] || fail "recovered notifications: $recovered, want 1"
# 3. The datasource goes away for 10 rounds: nothing resolves.
kill "$tsdb_pid"; wait "$tsdb_pid" 2>/dev/null || true
sleep 10
firing=$(curl -fsS "http://127.0.0.1:$ap/api/v1/alerts" | python3 -c 'import sys, json; print(sum(a["state"] == "firing" for a in json.load(sys.stdin)["data"]["alerts"]))')
[[ $firing == 3 ]] || fail "with the datasource down, $firing alerts firing, want 3"
failures=$(curl -fsS "http://127.0.0.1:$ap/metrics" | awk '$1 == "tocsin_alertd_rule_evaluation_failures_total" {print $2}')
((${failures%.*} >= 20)) || fail "evaluation failures counted: $failures"
start_tsdb
sleep 3
! grep -q RESOLVED "$WORK/requests" || fail "an alert resolved: $(grep RESOLVED "$WORK/requests")"
unset SLACK_WEBHOOK_URL
for f in "$WORK"/*.log; do ! grep -q "faulty" "$f" || fail "the webhook URL leaked into $(basename "$f")"; done
echo "PASS: 500, 429 (Retry-After 2 s), a hung attempt, then delivered once each, in order; kill -9 while retrying -> delivered once after restart, no second page; datasource down 10 s -> $failures failed evaluations, nothing resolved"
