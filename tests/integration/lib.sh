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
    p=$((20000 + RANDOM % 12000))  # below the ephemeral range (32768+) outgoing connections use
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
  done
  fail "no free port"
}
# try_http URL [seconds]: waits until URL answers 2xx. Returns 1 when the server started last
# has exited (a port taken between choosing and binding it), fails the test on a time-out.
try_http() {
  local deadline=$((SECONDS + ${2:-20}))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    if [[ -n ${LAST_PID:-} ]] && ! kill -0 "$LAST_PID" 2>/dev/null; then
      echo "note: $LAST_NAME exited: $(grep -iE "err|fail|panic" "$WORK/$LAST_NAME.log" | tail -2)" >&2
      return 1
    fi
    ((SECONDS < deadline)) || fail "timed out waiting for $1: $(tail -3 "$WORK/${LAST_NAME:-none}.log" 2>/dev/null)"
    sleep 0.2
  done
}
wait_http() { try_http "$@" || fail "$LAST_NAME exited before answering $1"; }
# start_on_free_port VAR NAME PATH CMD...: picks a free port into VAR, runs CMD (where the word
# PORT is replaced by it) and waits for http://127.0.0.1:PORT/PATH; retries with another port
# when the server exits because the port was taken meanwhile.
start_on_free_port() {
  local var=$1 name=$2 path=$3; shift 3
  for _ in 1 2 3; do
    local _p; _p=$(free_port)  # not "port": the caller's variable may be called that
    start "$name" "${@//PORT/$_p}"
    if try_http "http://127.0.0.1:$_p/$path" 30; then
      printf -v "$var" '%s' "$_p"
      return 0
    fi
  done
  fail "$name did not start"
}
start() {  # start LOGNAME CMD...: runs CMD in the background, logs to $WORK/LOGNAME.log
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
  LAST_NAME=$name
}
