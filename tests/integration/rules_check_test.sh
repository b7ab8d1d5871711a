#!/usr/bin/env bash
# The shipped rules (rules/*.yml) pass both `promtool check rules` (Prometheus 2.42) and
# `tocsin-alertd check rules`, and a broken file fails both, each naming the problem.
source "$(dirname "$0")/lib.sh"
need_peers promtool
RULES=$(dirname "$0")/../../rules
"$PEERS/promtool" check rules "$RULES"/*.yml >"$WORK/promtool.out" 2>&1 || fail "promtool: $(cat "$WORK/promtool.out")"
"$TOCSIN_ALERTD" check rules "$RULES"/*.yml >"$WORK/tocsin.out" 2>&1 || fail "tocsin-alertd: $(cat "$WORK/tocsin.out")"
[[ $(grep -c SUCCESS "$WORK/promtool.out") == $(grep -c SUCCESS "$WORK/tocsin.out") ]] || fail "different verdicts"
diff <(grep -o '[0-9]* rules found' "$WORK/promtool.out") <(grep -o '[0-9]* rules found' "$WORK/tocsin.out") ||
  fail "different rule counts"
printf 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(up)\n' >"$WORK/bad.yml"
! "$PEERS/promtool" check rules "$WORK/bad.yml" >/dev/null 2>&1 || fail "promtool accepted a broken file"
! "$TOCSIN_ALERTD" check rules "$WORK/bad.yml" >"$WORK/bad.out" 2>&1 || fail "tocsin-alertd accepted a broken file"
grep -q "bad.yml:4:9: could not parse expression" "$WORK/bad.out" || fail "error text: $(cat "$WORK/bad.out")"
echo "PASS: $(grep -c SUCCESS "$WORK/tocsin.out") rule files pass both checkers with the same rule counts; a broken one fails both"
