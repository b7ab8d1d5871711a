#include "tsdb/promql/ast.h"

#include <cstdio>

#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "tsdb/promql/functions.h"

namespace tocsin::promql {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone:
      return "none";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kString:
      return "string";
  }
  return "?";
}

std::string_view BinaryOpName(BinaryOp op) {
  static constexpr std::string_view kNames[] = {"+",     "-",   "*",  "/",     "%", "^",
                                                "atan2", "==",  "!=", ">",     "<", ">=",
                                                "<=",    "and", "or", "unless"};
  return kNames[static_cast<int>(op)];
}

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEql && op <= BinaryOp::kLte; }
bool IsSetOperator(BinaryOp op) { return op >= BinaryOp::kAnd; }

std::string_view AggregateOpName(AggregateOp op) {
  static constexpr std::string_view kNames[] = {"sum",   "avg",     "min",      "max",
                                                "count", "group",   "stddev",   "stdvar",
                                                "topk",  "bottomk", "quantile", "count_values"};
  return kNames[static_cast<int>(op)];
}

namespace {

// Prometheus's model.Duration spelling: 1y, 2w, 1d2h, 90s -> 1m30s, 100ms.
std::string Duration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string r;
  auto unit = [&](const char* name, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (int64_t v = ms / mult; v > 0) {
      r += std::to_string(v) + name;
      ms -= v * mult;
    }
  };
  unit("y", 365LL * 24 * 3600 * 1000, true);
  unit("w", 7LL * 24 * 3600 * 1000, true);
  unit("d", 24LL * 3600 * 1000, false);
  unit("h", 3600LL * 1000, false);
  unit("m", 60LL * 1000, false);
  unit("s", 1000, false);
  unit("ms", 1, false);
  return r;
}

std::string Modifiers(const Node& n) {
  std::string s;
  switch (n.at.kind) {
    case AtModifier::Kind::kTimestamp: {
      char b[48];
      std::snprintf(b, sizeof b, " @ %.3f", static_cast<double>(n.at.timestamp_ms) / 1000.0);
      s += b;
      break;
    }
    case AtModifier::Kind::kStart:
      s += " @ start()";
      break;
    case AtModifier::Kind::kEnd:
      s += " @ end()";
      break;
    case AtModifier::Kind::kNone:
      break;
  }
  if (n.offset_ms > 0) s += " offset " + Duration(n.offset_ms);
  if (n.offset_ms < 0) s += " offset -" + Duration(-n.offset_ms);
  return s;
}

std::string LabelList(const std::vector<std::string>& l) {
  std::string s;
  for (size_t i = 0; i < l.size(); ++i) {
    if (i) s += ", ";
    s += l[i];
  }
  return s;
}

std::string Selector(const Node& n) {
  std::string s = n.metric_name;
  std::string inner;
  for (const auto& m : n.matchers) {
    if (!n.metric_name.empty() && m.name() == labels::kMetricName &&
        m.type() == labels::Matcher::Type::kEqual && m.value() == n.metric_name)
      continue;
    if (!inner.empty()) inner += ", ";
    static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
    inner += m.name();
    inner += kOps[static_cast<int>(m.type())];
    inner += GoQuote(m.value());
  }
  if (!inner.empty() || n.metric_name.empty()) s += "{" + inner + "}";
  return s;
}

}  // namespace

ValueType Node::Type() const {
  switch (kind) {
    case Kind::kNumber:
      return ValueType::kScalar;
    case Kind::kString:
      return ValueType::kString;
    case Kind::kVectorSelector:
      return ValueType::kVector;
    case Kind::kMatrixSelector:
    case Kind::kSubquery:
      return ValueType::kMatrix;
    case Kind::kParen:
    case Kind::kUnary:
      return expr->Type();
    case Kind::kBinary:
      return lhs->Type() == ValueType::kScalar && rhs->Type() == ValueType::kScalar
                 ? ValueType::kScalar
                 : ValueType::kVector;
    case Kind::kAggregate:
      return ValueType::kVector;
    case Kind::kCall:
      return func->return_type;
  }
  return ValueType::kNone;
}

std::string Node::String() const {
  switch (kind) {
    case Kind::kNumber: {
      std::string s;
      expfmt::AppendDouble(&s, number);
      if (s == "+Inf") return "Inf";  // Go's %v prints +Inf; Prometheus prints Inf
      return s;
    }
    case Kind::kString:
      return GoQuote(str);
    case Kind::kVectorSelector:
      return Selector(*this) + Modifiers(*this);
    case Kind::kMatrixSelector:
      return Selector(*expr) + "[" + Duration(range_ms) + "]" + Modifiers(*expr);
    case Kind::kSubquery:
      return expr->String() + "[" + Duration(range_ms) + ":" +
             (step_ms ? Duration(step_ms) : std::string()) + "]" + Modifiers(*this);
    case Kind::kParen:
      return "(" + expr->String() + ")";
    case Kind::kUnary:
      return std::string(negate ? "-" : "+") + expr->String();
    case Kind::kBinary: {
      std::string m;
      if (return_bool) m += " bool";
      if (matching && !IsSetOperator(op)) {
        if (matching->on) {
          m += " on(" + LabelList(matching->labels) + ")";
        } else if (!matching->labels.empty()) {
          m += " ignoring(" + LabelList(matching->labels) + ")";
        }
        if (matching->card == VectorMatching::Card::kManyToOne)
          m += " group_left(" + LabelList(matching->include) + ")";
        if (matching->card == VectorMatching::Card::kOneToMany)
          m += " group_right(" + LabelList(matching->include) + ")";
      } else if (matching && IsSetOperator(op)) {
        if (matching->on) {
          m += " on(" + LabelList(matching->labels) + ")";
        } else if (!matching->labels.empty()) {
          m += " ignoring(" + LabelList(matching->labels) + ")";
        }
      }
      return lhs->String() + " " + std::string(BinaryOpName(op)) + m + " " + rhs->String();
    }
    case Kind::kAggregate: {
      std::string s(AggregateOpName(agg));
      if (without) {
        s += " without (" + LabelList(grouping) + ") ";
      } else if (!grouping.empty()) {
        s += " by (" + LabelList(grouping) + ") ";
      }
      if (param) return s + "(" + param->String() + ", " + expr->String() + ")";
      return s + "(" + expr->String() + ")";
    }
    case Kind::kCall: {
      std::string s(func->name);
      s += "(";
      for (size_t i = 0; i < args.size(); ++i) {
        if (i) s += ", ";
        s += args[i]->String();
      }
      return s + ")";
    }
  }
  return "";
}

}  // namespace tocsin::promql
