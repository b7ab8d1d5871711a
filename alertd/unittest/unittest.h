#pragma once
// `tocsin-alertd test rules FILE...`: rule unit tests in `promtool test rules` format
// (rule_files, evaluation_interval, group_eval_order, tests with interval, input_series in the
// expanding notation, alert_rule_test, promql_expr_test, external_labels, external_url, name).
// Each test group loads its series into an in-memory store, evaluates every rule group from time
// 0 to the last eval_time at the evaluation interval with the same evaluator and PromQL engine
// the daemons use (recording results and ALERTS written back to the store), and compares firing
// alerts and expression results as promtool does. The report and the exit code mirror promtool's.
// Thread-safety: one call at a time per output stream.

#include <cstdio>
#include <string>
#include <vector>

namespace tocsin::alertd {

// Runs every file; prints "Unit Testing:  FILE" and "  SUCCESS" to out, failures to err.
// Returns 0 when every test of every file passed, else 1.
int RunRuleTests(const std::vector<std::string>& files, std::FILE* out, std::FILE* err);

}  // namespace tocsin::alertd
