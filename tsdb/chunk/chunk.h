#pragma once
// Chunk encodings of tocsin-tsdb. The byte layout is frozen and written down in
// tsdb/docs/format.md; tests/tsdb/chunk/xor_chunk_test.cc pins it with golden bytes.
// Thread-safety: appenders and iterators are values used by one thread at a time.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "tsdb/chunk/bitstream.h"
#include "tsdb/chunk/bucketed.h"

namespace tocsin::tsdb {

using TimestampMs = int64_t;

// Stored in the first byte of every chunk. FROZEN: never renumber; add new values only.
enum class Encoding : uint8_t {
  kXor = 1,      // Gorilla: delta-of-delta timestamps, XOR'd float bits
  kDecimal = 2,  // values m / 10^k: delta-of-delta of the integers m (closed chunks)
};

// Bytes before the bit stream: encoding (1) + sample count, big-endian (2).
inline constexpr size_t kChunkHeaderSize = 1 + 2;
// A chunk holds at most this many samples (the count field's range).
inline constexpr int kMaxChunkSamples = 65535;

// Appends samples to an XOR chunk kept in a caller-owned string.
class XorAppender {
 public:
  // Starts a new, empty chunk in *dst (its content is replaced). REQUIRES: dst outlives use.
  void Reset(std::string* dst);
  // Appends one sample. REQUIRES: t greater than the previous sample's, fewer than
  // kMaxChunkSamples samples so far. Values are stored bit-exactly (NaN payloads such as
  // Prometheus's staleness marker survive).
  void Append(TimestampMs t, double v);
  int num_samples() const { return count_; }

 private:
  void WriteTimestamp(TimestampMs t);
  void WriteValue(uint64_t bits);

  std::string* dst_ = nullptr;
  BitWriter writer_{nullptr};
  int count_ = 0;
  TimestampMs t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  int leading_ = 0xff;  // 0xff: no XOR window yet
  int trailing_ = 0;
};

// Iterates an XOR chunk:
//   XorIterator it;  it.Reset(bytes);
//   while (it.Next()) use(it.t(), it.v());
//   if (!it.status().ok()) ...  // corrupt or truncated chunk
class XorIterator {
 public:
  // REQUIRES: bytes outlive the iteration.
  void Reset(std::string_view bytes);
  bool Next();
  // Advances to the first sample with timestamp >= t; false when there is none.
  bool Seek(TimestampMs t);
  TimestampMs t() const { return t_; }
  double v() const;
  int num_samples() const { return total_; }
  const Status& status() const { return status_; }

 private:
  bool Fail(std::string_view what);
  bool ReadValue();

  BitReader reader_;
  Status status_;
  int total_ = 0;
  int read_ = 0;
  TimestampMs t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  int leading_ = 0;
  int trailing_ = 0;
};

// Encodes whole sample runs as a decimal chunk: every value is m / 10^k for one k <= 18 and
// integers |m| <= 2^53 (true of most exported values: counters, byte counts, values printed
// with few decimals). Returns InvalidArgument, leaving *dst unspecified, when a value is not
// (NaN, staleness markers, infinities, -0, too many digits) or timestamps do not increase.
// REQUIRES: t.size() == v.size() <= kMaxChunkSamples.
Status EncodeDecimal(std::span<const TimestampMs> t, std::span<const double> v, std::string* dst);
// Replaces *dst with the smaller of the decimal and XOR encodings of the samples (XOR when
// decimal does not apply). REQUIRES: increasing timestamps, at most kMaxChunkSamples.
void EncodeBest(std::span<const TimestampMs> t, std::span<const double> v, std::string* dst);

// Iterates a chunk of any encoding; same contract as XorIterator.
class ChunkIterator {
 public:
  void Reset(std::string_view bytes);
  bool Next();
  bool Seek(TimestampMs t);
  TimestampMs t() const { return xor_active_ ? xor_.t() : t_; }
  double v() const { return xor_active_ ? xor_.v() : v_; }
  int num_samples() const { return xor_active_ ? xor_.num_samples() : total_; }
  const Status& status() const { return xor_active_ ? xor_.status() : status_; }

 private:
  bool Fail(std::string_view what);

  bool xor_active_ = false;
  XorIterator xor_;
  // Decimal state.
  BitReader reader_;
  Status status_;
  int total_ = 0, read_ = 0, exponent_ = 0;
  uint8_t flags_ = 0;
  TimestampMs t_ = 0;
  int64_t delta_ = 0, m_ = 0, dm_ = 0;
  double v_ = 0;
  AdaptiveCode value_code_, ts_code_;
  BitReader values_;  // the value stream of a two-stream chunk
};

}  // namespace tocsin::tsdb
