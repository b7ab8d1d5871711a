#!/usr/bin/env bash
# Checks the README's first command end to end (issue 6, acceptance 1): runs scripts/run-stack.sh
# with a fresh data directory and one extra rule that always fires, then checks that within two
# scrape intervals of the stack being up every target in tocsin-tsdb's /api/v1/targets is up,
# that the test alert reached the log receiver (data/alerts.log), and that the page answers;
# stops the stack as Ctrl-C does (SIGTERM: a background job ignores SIGINT). Run it on a fresh machine:
#   ../shared/tools/fresh-debian 'bash scripts/stack-check.sh'
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$(mktemp -d)
STACK_PID=
trap '[[ -n $STACK_PID ]] && kill -TERM "$STACK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"' EXIT
cat >"$DATA/test.rules.yml" <<'YAML'
groups:
  - name: stack-check
    interval: 5s
    rules:
      - alert: StackCheckTestAlert
        expr: vector(1)
        annotations: {summary: "a test alert from scripts/stack-check.sh"}
YAML
TOCSIN_DATA=$DATA/data TOCSIN_EXTRA_RULES=$DATA/test.rules.yml bash scripts/run-stack.sh >"$DATA/stack.log" 2>&1 &
STACK_PID=$!
echo "stack-check: building and starting the stack (log: $DATA/stack.log)"
for _ in $(seq 1800); do  # a fresh machine installs and builds first
  grep -q "Press Ctrl-C to stop" "$DATA/stack.log" && break
  kill -0 "$STACK_PID" 2>/dev/null || { cat "$DATA/stack.log"; echo "stack-check: FAIL: run-stack.sh exited" >&2; exit 1; }
  sleep 1
done
grep -q "Press Ctrl-C to stop" "$DATA/stack.log" || { tail -20 "$DATA/stack.log"; echo "stack-check: FAIL: not up after 30 min" >&2; exit 1; }
up_at=$SECONDS
# Two scrape intervals (15 s each in config/tocsin-tsdb.yml).
targets=""
while ((SECONDS - up_at <= 30)); do
  targets=$(curl -fsS http://127.0.0.1:9090/api/v1/targets | python3 -c '
import sys, json
t = json.load(sys.stdin)["data"]["activeTargets"]
print(len(t), sum(x["health"] == "up" for x in t), " ".join(x["scrapeUrl"] for x in t if x["health"] != "up"))')
  read -r total up _ <<<"$targets"
  ((total > 0 && total == up)) && break
  sleep 1
done
read -r total up down <<<"$targets"
((total > 0 && total == up)) || { echo "stack-check: FAIL: $up of $total targets up after two scrape intervals; down: $down" >&2; exit 1; }
echo "stack-check: all $total targets up $((SECONDS - up_at)) s after the stack was up"
for _ in $(seq 60); do grep -q "StackCheckTestAlert" "$DATA/data/alerts.log" 2>/dev/null && break; sleep 1; done
grep -q "StackCheckTestAlert" "$DATA/data/alerts.log" 2>/dev/null ||
  { echo "stack-check: FAIL: the test alert did not reach the log receiver" >&2; exit 1; }
echo "stack-check: the test alert reached the log receiver: $(grep -m1 StackCheckTestAlert "$DATA/data/alerts.log")"
curl -fsS http://127.0.0.1:9090/ | grep -q "tocsin-tsdb" || { echo "stack-check: FAIL: no page at /" >&2; exit 1; }
kill -TERM "$STACK_PID"
wait "$STACK_PID" || true
STACK_PID=
grep -q "stopping the stack" "$DATA/stack.log" || { echo "stack-check: FAIL: no clean stop" >&2; exit 1; }
echo "stack-check: PASS (the stack stopped cleanly on Ctrl-C)"
