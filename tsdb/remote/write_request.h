#pragma once
// Prometheus remote write 1.0: the snappy (block format) + protobuf WriteRequest body, decoded
// by hand into views of the decompressed bytes (no generated code, no per-label allocation).
// Field numbers and rules: ../shared/conformance/PROTOCOLS.md section 1.
// Thread-safety: a WriteRequest is used by one thread at a time.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin::tsdb::remote {

struct Label {
  std::string_view name, value;
};
struct Sample {
  double value = 0;
  int64_t timestamp_ms = 0;
};
struct TimeSeries {
  std::vector<Label> labels;
  std::vector<Sample> samples;
  size_t histograms = 0;  // native histograms present (not stored yet; counted and refused)
};

// A decoded request. Views point into the object's own buffer; Decode() reuses every vector.
class WriteRequest {
 public:
  // Decompresses body (snappy block format) and decodes the protobuf. Errors say what and at
  // which byte: a framed-snappy stream, a corrupt block, a decoded size above max_bytes
  // (ResourceExhausted), a truncated varint, a wrong wire type, a label without a name.
  Status Decode(std::string_view body, size_t max_bytes);
  // Decodes an uncompressed protobuf (for tests and fuzzing).
  Status DecodeProto(std::string_view proto);

  const std::vector<TimeSeries>& series() const { return series_; }
  size_t num_series() const { return num_series_; }
  size_t num_samples() const;

 private:
  std::string buf_;
  std::vector<TimeSeries> series_;  // only the first num_series_ are valid
  size_t num_series_ = 0;
};

// Encodes a WriteRequest (uncompressed protobuf) — for tests, benchmarks and, later, the
// remote-write sender. Appends to *dst.
void EncodeTimeSeries(const std::vector<Label>& labels, const std::vector<Sample>& samples,
                      std::string* dst);

}  // namespace tocsin::tsdb::remote
