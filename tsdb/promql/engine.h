#pragma once
// The PromQL engine: evaluates a parsed expression over a Storage for one instant or a range of
// steps, with Prometheus 2.42's semantics (lookback delta and staleness for instant selectors,
// left-closed range windows, extrapolated rate/increase/delta, vector matching, aggregations).
// Every selector's samples are loaded once per query (decoding only the chunks its time range
// needs), then every step is computed from memory.
// Thread-safety: an Engine may run queries from several threads at once.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/labels/labels.h"
#include "tsdb/promql/ast.h"
#include "tsdb/storage/interface.h"

namespace tocsin::promql {

struct Point {
  int64_t t;
  double v;
};

struct ResultSeries {
  labels::Labels labels;
  std::vector<Point> points;
};

struct QueryResult {
  ValueType type = ValueType::kNone;  // kScalar, kVector, kMatrix or kString
  // kScalar: one point per step; kString: str. kVector (instant queries): one point per series;
  // kMatrix: a range query's series, or an instant query of a range vector.
  std::vector<Point> scalar;
  std::string str;
  std::vector<ResultSeries> series;
  std::vector<std::string> warnings;
};

struct EngineOptions {
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  int64_t default_subquery_step_ms = 60 * 1000;
  size_t max_samples = 50'000'000;  // loaded or produced at once; above: an error
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
};

// Errors: InvalidArgument (bad query: HTTP 400 bad_data), ResourceExhausted (too many
// samples: 422 execution), Timeout (503), other codes (422 execution).
class Engine {
 public:
  explicit Engine(EngineOptions options = {}) : options_(options) {}

  Status Instant(tsdb::Storage* storage, const Node& expr, int64_t t, QueryResult* out) const;
  Status Range(tsdb::Storage* storage, const Node& expr, int64_t start, int64_t end, int64_t step,
               QueryResult* out) const;

  const EngineOptions& options() const { return options_; }

 private:
  EngineOptions options_;
};

// True for Prometheus's staleness marker (a NaN with a reserved bit pattern).
bool IsStaleNaN(double v);

}  // namespace tocsin::promql
