#!/usr/bin/env bash
# promtool check metrics finds no format error in tocsin-exporter's output on this machine and on
# every fixture tree, and no lint problem beyond node_exporter's own legacy names.
source "$(dirname "$0")/lib.sh"
need_peers promtool
check() {  # check LABEL ARGS...
  local label=$1; shift
  local port
  start_on_free_port port "exp-$label" metrics "$TOCSIN_EXPORTER" --web.listen-address=127.0.0.1:PORT "$@"
  curl -fsS "http://127.0.0.1:$port/metrics" >"$WORK/$label.txt"
  kill "${PIDS[-1]}"
  local out rc=0
  out=$("$PEERS/promtool" check metrics <"$WORK/$label.txt" 2>&1) || rc=$?
  # Legacy names node_exporter itself keeps (see ../shared/conformance/node_exporter_promtool_lint.txt).
  local extra
  extra=$(grep -v -E "^node_(memory|netstat)_[A-Za-z0-9_]+ metric names should be written in 'snake_case' not 'camelCase'$|^node_entropy_(available|pool_size)_bits use base unit \"bytes\" instead of \"bits\"$" <<<"$out" | grep -v '^$' || true)
  [[ -z $extra ]] || fail "$label: promtool reports: $extra"
  if ((rc != 0)) && [[ -z $(grep -E 'camelCase|bits' <<<"$out") ]]; then fail "$label: promtool failed: $out"; fi
  echo "ok: $label ($(grep -vc '^#' "$WORK/$label.txt") samples)"
}
check live
for tree in v2 v1 hybrid; do
  check "fixtures-$tree" --path.procfs="$FIXTURES/proc" --path.sysfs="$FIXTURES/sys" --path.rootfs="$FIXTURES/rootfs" \
    --path.udev.data="$FIXTURES/udev" --path.cgroupfs="$FIXTURES/cgroup/$tree" --collector.textfile.directory="$FIXTURES/textfile"
done
echo "PASS: promtool check metrics clean on live output and 3 fixture trees"
