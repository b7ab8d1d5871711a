#pragma once
// The PromQL syntax tree, as Prometheus 2.42 defines the language: literals, vector and matrix
// selectors with offset and @, subqueries, unary and binary expressions with vector matching,
// aggregations and function calls. Nodes are plain values owned through unique_ptr; String()
// prints an expression back in Prometheus's canonical spelling (used by /api/v1/format_query
// and in error messages). Thread-safety: immutable after parsing.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/labels/labels.h"

namespace tocsin::promql {

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType t);  // "scalar", "instant vector", ...

struct Node;
using NodePtr = std::unique_ptr<Node>;

// The @ modifier: a fixed time, or the query's start() / end().
struct AtModifier {
  enum class Kind { kNone, kTimestamp, kStart, kEnd };
  Kind kind = Kind::kNone;
  int64_t timestamp_ms = 0;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};
std::string_view BinaryOpName(BinaryOp op);
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kMin,
  kMax,
  kCount,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kQuantile,
  kCountValues,
};
std::string_view AggregateOpName(AggregateOp op);

struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Card card = Card::kOneToOne;
  bool on = false;                   // on(...) rather than ignoring(...)
  bool explicit_matching = false;    // on/ignoring was written
  std::vector<std::string> labels;   // of on/ignoring
  std::vector<std::string> include;  // of group_left/group_right
};

struct Function;  // see functions.h

struct Node {
  enum class Kind {
    kNumber,
    kString,
    kVectorSelector,
    kMatrixSelector,
    kSubquery,
    kParen,
    kUnary,
    kBinary,
    kAggregate,
    kCall,
  };
  Kind kind;
  size_t pos = 0;  // byte offset in the query, for errors

  // kNumber
  double number = 0;
  // kString
  std::string str;
  // kVectorSelector
  std::string metric_name;  // as written ("" with only a {...})
  std::vector<labels::Matcher> matchers;
  // kVectorSelector, kSubquery: modifiers (for a matrix selector they sit on its vector)
  int64_t offset_ms = 0;
  AtModifier at;
  // kMatrixSelector: range; kSubquery: range and step (0: the default step)
  int64_t range_ms = 0;
  int64_t step_ms = 0;
  // kParen, kUnary, kMatrixSelector, kSubquery, kAggregate: the operand
  NodePtr expr;
  // kUnary: '-' (true) or '+'
  bool negate = false;
  // kBinary
  BinaryOp op = BinaryOp::kAdd;
  NodePtr lhs, rhs;
  bool return_bool = false;
  std::optional<VectorMatching> matching;  // set when both sides are vectors
  // kAggregate
  AggregateOp agg = AggregateOp::kSum;
  NodePtr param;                      // topk k, quantile q, count_values label
  std::vector<std::string> grouping;  // by/without labels
  bool without = false;
  bool grouping_written = false;  // "by ()" prints, absent does not
  // kCall
  const Function* func = nullptr;
  std::vector<NodePtr> args;

  ValueType Type() const;
  std::string String() const;
};

}  // namespace tocsin::promql
