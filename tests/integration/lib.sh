# Helpers for integration tests: free loopback ports, waiting, cleanup of started servers.
# Expects TOCSIN_EXPORTER (binary) and PEERS (dir with prometheus, promtool, node_exporter).
set -euo pipefail
PIDS=()
WORK=$(mktemp -d)
cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
need_peers() {
  for b in "$@"; do
    [[ -x $PEERS/$b ]] || { echo "SKIP: $PEERS/$b missing (scripts/deps.sh --peers fetches it)"; exit 77; }
  done
}
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  fail "no free port"
}
# wait_http URL [seconds]: waits until URL answers 2xx.
wait_http() {
  local deadline=$((SECONDS + ${2:-20}))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "timed out waiting for $1"
    sleep 0.2
  done
}
start() {  # start LOGNAME CMD...: runs CMD in the background, logs to $WORK/LOGNAME.log
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}
