#pragma once
// Writes rule results back by Prometheus remote write: recording rules' series, and for alerts
// ALERTS{alertname, alertstate, ...} = 1 and ALERTS_FOR_STATE{alertname, ...} = the Unix
// seconds the alert became active (what Prometheus writes), with staleness markers when an alert
// ends. Requests are snappy-compressed protobuf; failures are retried a few times and counted.
// Thread-safety: thread-safe.

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tocsin::alertd {

struct OutputSeries {
  std::map<std::string, std::string> labels;  // includes __name__
  int64_t t = 0;                              // Unix ms
  double v = 0;
};

class RemoteWriter {
 public:
  RemoteWriter(std::string url, std::chrono::milliseconds timeout)
      : url_(std::move(url)), timeout_(timeout) {}
  Status Write(const std::vector<OutputSeries>& series);
  uint64_t samples_written() const { return written_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  std::string url_;
  std::chrono::milliseconds timeout_;
  std::atomic<uint64_t> written_{0}, failures_{0};
};

}  // namespace tocsin::alertd
