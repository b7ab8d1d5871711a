#pragma once
// The series notation of Prometheus's PromQL test files and of `promtool test rules`
// input_series: a series as `name{label="value", ...}` and its values in expanding notation —
// `a+bxn` (a, a+b, ..., a+n*b), `a-bxn`, `axn` (a repeated n+1 times), `_` (no sample), `_xn`
// (n missing samples) and `stale` (a staleness marker).
// Thread-safety: pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/labels/labels.h"

namespace tocsin::promql {

// Appends one entry per position to *out (nullopt: no sample). Errors name the item.
Status ExpandSeriesValues(std::string_view text, std::vector<std::optional<double>>* out);

// Parses `name{a="b"}`, `{a="b"}` or `{}` into labels (only `=` matchers make sense here).
Status ParseSeriesLabels(std::string_view text, labels::Labels* out);

// The bit pattern of Prometheus's staleness marker.
double StaleMarker();

}  // namespace tocsin::promql
