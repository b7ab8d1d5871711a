#pragma once
// The narrow storage interface that ingestion (scrape, remote write), PromQL and the API meet
// at, after Prometheus's storage/interface.go. Engines behind it: the in-memory Head (here),
// the RocksDB store (to come). One iterator shape everywhere: Next(), Seek(), At-style
// accessors, status() checked after the loop.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/labels/labels.h"
#include "tsdb/chunk/chunk.h"

namespace tocsin::tsdb {

// Identifies a series within one storage for its lifetime.
using SeriesRef = uint64_t;

// Why a sample was not appended. Values are stable (used as metric label values).
enum class AppendError : uint8_t {
  kNone = 0,
  kOutOfOrder,     // older than the series' newest sample (beyond any out-of-order window)
  kDuplicate,      // same timestamp as the newest sample, different value
  kOutOfBounds,    // older than what the store still accepts (retention, closed head range)
  kInvalidLabels,  // no __name__, or labels Prometheus rejects
};
std::string_view AppendErrorName(AppendError e);

// Collects samples and makes them visible together on Commit().
// Thread-safety: one appender per goroutine-like caller; different appenders may run in
// parallel.
class Appender {
 public:
  virtual ~Appender() = default;
  // Queues one sample. A sample with the same timestamp and bit-identical value as the newest is
  // accepted and ignored (Prometheus's rule for retransmitted remote writes). When ref is given
  // it receives the series' reference, for AppendRef — even when the sample is rejected, as
  // long as the labels are valid (0 otherwise).
  virtual AppendError Append(const labels::Labels& series, TimestampMs t, double v,
                             SeriesRef* ref = nullptr) = 0;
  // Queues a sample of a series known by the reference an earlier Append returned (skips the
  // label lookup; ingestion caches refs by the series' text). REQUIRES: ref from this storage.
  virtual AppendError AppendRef(SeriesRef ref, TimestampMs t, double v) = 0;
  // Makes every queued sample visible. An error here (I/O) means none were.
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
};

class SeriesIterator {
 public:
  virtual ~SeriesIterator() = default;
  virtual bool Next() = 0;
  // Advances to the first sample at or after t; false when there is none.
  virtual bool Seek(TimestampMs t) = 0;
  virtual TimestampMs t() const = 0;
  virtual double v() const = 0;
  virtual Status status() const = 0;
  // The next samples, up to max, into t[] and v[]; how many (0 at the end or on an error, see
  // status()). Readers of whole ranges use it: one call per batch instead of three per sample.
  virtual size_t NextBatch(TimestampMs* t, double* v, size_t max) {
    size_t n = 0;
    while (n < max && Next()) {
      t[n] = this->t();
      v[n] = this->v();
      ++n;
    }
    return n;
  }
};

class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  virtual const labels::Labels& labels() const = 0;
  // Samples of the current series within the Select range. Valid until the set is destroyed.
  virtual std::unique_ptr<SeriesIterator> Iterator() const = 0;
  virtual Status status() const = 0;
};

// A read view. Thread-safety: a Querier may be used from one thread at a time; several
// queriers may run at once.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series with at least one sample in [mint, maxt] whose labels satisfy every matcher, sorted
  // by labels.
  virtual Status Select(TimestampMs mint, TimestampMs maxt,
                        std::span<const labels::Matcher> matchers,
                        std::unique_ptr<SeriesSet>* out) = 0;
  // The same where only each series' newest sample in [mint, maxt] matters (an instant
  // selector's lookback): a store that knows it may return just that sample. By default, all.
  virtual Status SelectLatest(TimestampMs mint, TimestampMs maxt,
                              std::span<const labels::Matcher> matchers,
                              std::unique_ptr<SeriesSet>* out) {
    return Select(mint, maxt, matchers, out);
  }
  // Sorted label names, and values of one name, over series matching the matchers (all series
  // when there are none).
  virtual Status LabelNames(std::span<const labels::Matcher> matchers,
                            std::vector<std::string>* out) = 0;
  virtual Status LabelValues(const std::string& name, std::span<const labels::Matcher> matchers,
                             std::vector<std::string>* out) = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
  virtual std::unique_ptr<Querier> NewQuerier() = 0;
};

}  // namespace tocsin::tsdb
