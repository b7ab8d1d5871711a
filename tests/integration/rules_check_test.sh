#!/usr/bin/env bash
# The shipped rules (rules/*.rules.yml) pass both `promtool check rules` (Prometheus 2.42) and
# `tocsin-alertd check rules`, and a broken file fails both, each naming the problem. Their unit
# tests (rules/*.test.yml) pass both `promtool test rules` and `tocsin-alertd test rules`; the
# same tests with wrong expectations fail both, with the same report.
source "$(dirname "$0")/lib.sh"
need_peers promtool
RULES=$(dirname "$0")/../../rules
"$PEERS/promtool" check rules "$RULES"/*.rules.yml >"$WORK/promtool.out" 2>&1 || fail "promtool: $(cat "$WORK/promtool.out")"
"$TOCSIN_ALERTD" check rules "$RULES"/*.rules.yml >"$WORK/tocsin.out" 2>&1 || fail "tocsin-alertd: $(cat "$WORK/tocsin.out")"
[[ $(grep -c SUCCESS "$WORK/promtool.out") == $(grep -c SUCCESS "$WORK/tocsin.out") ]] || fail "different verdicts"
diff <(grep -o '[0-9]* rules found' "$WORK/promtool.out") <(grep -o '[0-9]* rules found' "$WORK/tocsin.out") ||
  fail "different rule counts"
printf 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(up)\n' >"$WORK/bad.yml"
! "$PEERS/promtool" check rules "$WORK/bad.yml" >/dev/null 2>&1 || fail "promtool accepted a broken file"
! "$TOCSIN_ALERTD" check rules "$WORK/bad.yml" >"$WORK/bad.out" 2>&1 || fail "tocsin-alertd accepted a broken file"
grep -q "bad.yml:4:9: could not parse expression" "$WORK/bad.out" || fail "error text: $(cat "$WORK/bad.out")"

"$PEERS/promtool" test rules "$RULES"/*.test.yml >"$WORK/ptest.out" 2>&1 || fail "promtool test: $(cat "$WORK/ptest.out")"
"$TOCSIN_ALERTD" test rules "$RULES"/*.test.yml >"$WORK/ttest.out" 2>&1 || fail "tocsin-alertd test: $(cat "$WORK/ttest.out")"
tests=$(grep -c "eval_time:" "$RULES"/*.test.yml | awk -F: '{n += $2} END {print n}')
# Wrong expectations: an annotation, an alert's timing and a recorded value.
mkdir "$WORK/bad"
cp "$RULES"/*.rules.yml "$WORK/bad/"
sed -e 's/has 5.0% memory available/has 6.0% memory available/' -e 's/value: 0.05$/value: 0.06/' \
  -e 's/eval_time: 11m$/eval_time: 10m/' "$RULES/node.rules.test.yml" >"$WORK/bad/node.test.yml"
for tool in "$PEERS/promtool" "$TOCSIN_ALERTD"; do
  ! (cd "$WORK/bad" && "$tool" test rules node.test.yml) >"$WORK/bad-$(basename "$tool").out" 2>&1 ||
    fail "$tool passed wrong expectations"
done
diff "$WORK/bad-promtool.out" "$WORK/bad-tocsin-alertd.out" >"$WORK/report.diff" ||
  fail "reports differ: $(cat "$WORK/report.diff")"
failures=$(grep -c "alertname:\|expr:" "$WORK/bad-tocsin-alertd.out")
((failures == 3)) || fail "expected 3 failures in the report, got $failures: $(cat "$WORK/bad-tocsin-alertd.out")"
echo "PASS: $(grep -c SUCCESS "$WORK/tocsin.out") rule files pass both checkers with the same rule counts; a broken one fails both;" \
  "$(grep -c SUCCESS "$WORK/ttest.out") unit-test files ($tests cases) pass both test runners; wrong expectations fail both with the same report"
