#pragma once
// The PromQL parser: text -> syntax tree, with Prometheus 2.42's grammar, operator precedence
// and associativity, and its type checks (function arguments, aggregation operands and
// parameters, binary operand types, bool and grouping modifiers). Errors are InvalidArgument,
// worded like Prometheus's: "1:8: parse error: unexpected ...".
// Thread-safety: pure function.

#include <string_view>

#include "common/base/status.h"
#include "tsdb/promql/ast.h"

namespace tocsin::promql {

Status ParseExpr(std::string_view input, NodePtr* out);

}  // namespace tocsin::promql
