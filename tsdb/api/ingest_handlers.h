#pragma once
// HTTP handlers that write into tocsin-tsdb: Prometheus remote write 1.0 (POST /api/v1/write)
// and text-format import (POST /api/v1/import/prometheus, as VictoriaMetrics accepts it), plus
// the store's own /metrics. Handlers are plain Request -> Response functions.
// Thread-safety: thread-safe (each request uses its own appender).

#include <atomic>
#include <cstddef>

#include "common/http/message.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb::api {

struct IngestOptions {
  // Largest decompressed body accepted (Prometheus sends up to ~2 MB per request by default).
  size_t max_decoded_bytes = 64 << 20;
};

class IngestHandlers {
 public:
  IngestHandlers(Head* head, IngestOptions options) : head_(head), options_(options) {}

  // 204 on success; 400 naming the first problem (corrupt snappy/protobuf, invalid labels,
  // out-of-order or duplicate samples — valid samples of the same request are kept, as
  // Prometheus does); 413 when the decoded body is over the limit; 405 for other methods.
  http::Response Write(const http::Request& req);
  // Text exposition format; a sample without a timestamp gets the time of the request. A
  // parse error rejects the whole request with 400 naming the line, and stores nothing.
  http::Response Import(const http::Request& req);
  // The store's own metrics (text format).
  http::Response Metrics(const http::Request& req);

 private:
  Head* head_;
  IngestOptions options_;
  std::atomic<uint64_t> write_requests_{0}, write_failures_{0}, import_requests_{0},
      import_failures_{0};
};

}  // namespace tocsin::tsdb::api
