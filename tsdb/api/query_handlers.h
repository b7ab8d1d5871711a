#pragma once
// The Prometheus query API: /api/v1/query and /api/v1/query_range (GET and form POST), with
// Prometheus's JSON result shapes (scalar, string, vector, matrix), its error shape and codes
// (400 bad_data for a bad query or parameter, 422 execution, 503 timeout), and a cap on
// queries running at once (more wait their turn).
// Thread-safety: thread-safe.

#include <condition_variable>
#include <mutex>

#include "common/http/message.h"
#include "tsdb/promql/engine.h"
#include "tsdb/storage/interface.h"

namespace tocsin::tsdb::api {

struct QueryOptions {
  promql::EngineOptions engine;
  int max_concurrency = 20;
};

class QueryHandlers {
 public:
  QueryHandlers(Storage* storage, QueryOptions options)
      : storage_(storage), options_(options), engine_(options.engine) {}

  http::Response Query(const http::Request& req);
  http::Response QueryRange(const http::Request& req);

  uint64_t queries() const { return queries_.load(); }
  uint64_t failures() const { return failures_.load(); }
  double seconds() const { return static_cast<double>(micros_.load()) / 1e6; }

 private:
  http::Response Run(const http::Request& req, bool range);

  Storage* storage_;
  QueryOptions options_;
  promql::Engine engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> queries_{0}, failures_{0}, micros_{0};
};

// Prometheus's JSON spellings: timestamps as seconds with millisecond decimals ("1.5" is
// "1.500"), values as strings in the shortest fixed notation ("NaN", "+Inf", "-Inf").
void AppendTimestamp(std::string* out, int64_t ms);
void AppendSampleValue(std::string* out, double v);

}  // namespace tocsin::tsdb::api
