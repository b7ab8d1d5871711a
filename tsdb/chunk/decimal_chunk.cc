#include <bit>
#include <cmath>

#include "tsdb/chunk/bucketed.h"
#include "tsdb/chunk/chunk.h"

namespace tocsin::tsdb {

namespace {

// Bytes before the bit stream: encoding, count (2), exponent k, flags.
constexpr size_t kDecimalHeaderSize = kChunkHeaderSize + 2;
// Flags (FROZEN bit values).
constexpr uint8_t kRegularTimestamps = 1;  // every delta equal: stored once
constexpr uint8_t kConstantValues = 2;     // every m equal: only m0 stored
constexpr uint8_t kValueDeltas = 4;        // values as deltas of m instead of delta-of-deltas
constexpr uint8_t kAdaptiveValues = 8;     // values in an adaptive code (2 header bytes)
constexpr uint8_t kAdaptiveTimes = 16;     // timestamps in an adaptive code (2 header bytes)
// Timestamps and values as two streams (2 header bytes: the timestamp stream's length), so the
// timestamp stream of series scraped together is byte-identical and block compression stores
// it once. Set when timestamps are irregular (with a regular interval they cost 16 bytes).
constexpr uint8_t kSeparateStreams = 32;
constexpr uint8_t kKnownFlags = 63;
constexpr int kMaxExponent = 18;
constexpr int64_t kMaxMantissa = int64_t{1} << 53;  // integers a double holds exactly
constexpr std::array<int, 4> kTimestampBuckets = {8, 14, 20, 64};
constexpr std::array<int, 5> kValueBuckets = {7, 14, 21, 32, 64};

constexpr std::array<double, kMaxExponent + 1> kPow10 = [] {
  std::array<double, kMaxExponent + 1> p{};
  double x = 1;
  for (double& e : p) {
    e = x;
    x *= 10;
  }
  return p;
}();

// The smallest k with v == m / 10^k for an integer |m| <= 2^53, or -1.
int DecimalExponent(double v) {
  if (!std::isfinite(v) || (v == 0 && std::signbit(v))) return -1;  // NaN, ±Inf, -0
  for (int k = 0; k <= kMaxExponent; ++k) {
    double scaled = v * kPow10[static_cast<size_t>(k)];
    if (std::fabs(scaled) > static_cast<double>(kMaxMantissa)) return -1;
    double m = std::nearbyint(scaled);
    // Division of an exact integer by an exact power of ten is correctly rounded, so this is
    // the value a reader will compute.
    if (std::bit_cast<uint64_t>(m / kPow10[static_cast<size_t>(k)]) == std::bit_cast<uint64_t>(v))
      return k;
  }
  return -1;
}

}  // namespace

Status EncodeDecimal(std::span<const TimestampMs> t, std::span<const double> v, std::string* dst) {
  size_t n = t.size();
  if (n != v.size() || n > static_cast<size_t>(kMaxChunkSamples)) {
    return Status::InvalidArgument("decimal chunk: bad sample count");
  }
  int k = 0;
  for (double x : v) {
    int e = DecimalExponent(x);
    if (e < 0) return Status::InvalidArgument("decimal chunk: value is not m / 10^k");
    if (e > k) k = e;
  }
  thread_local std::vector<int64_t> ms;
  ms.clear();
  for (double x : v) {
    double scaled = std::nearbyint(x * kPow10[static_cast<size_t>(k)]);
    if (std::fabs(scaled) > static_cast<double>(kMaxMantissa)) {
      return Status::InvalidArgument("decimal chunk: mantissa out of range at the common exponent");
    }
    ms.push_back(static_cast<int64_t>(scaled));
  }
  for (size_t i = 1; i < n; ++i) {
    if (t[i] <= t[i - 1])
      return Status::InvalidArgument("decimal chunk: timestamps do not increase");
  }
  // Choose the flags: runs that need no per-sample bits, the cheaper value mode, and per
  // stream the fixed or an adaptive code, whichever is smaller with its header bytes.
  uint8_t flags = kRegularTimestamps | kConstantValues;
  int64_t dod_bits = 0, delta_bits = 0, ts_bits = 0;
  WidthHistogram dod_hist{}, delta_hist{}, ts_hist{}, unsigned_delta_hist{};
  bool non_negative = true;
  for (size_t i = 1; i < n; ++i) {
    if (i >= 2 && t[i] - t[i - 1] != t[1] - t[0])
      flags &= static_cast<uint8_t>(~kRegularTimestamps);
    if (ms[i] != ms[0]) flags &= static_cast<uint8_t>(~kConstantValues);
    int64_t dm = ms[i] - ms[i - 1];
    int64_t prev_dm = i >= 2 ? ms[i - 1] - ms[i - 2] : 0;
    dod_bits += BucketedBits(dm - prev_dm, kValueBuckets);
    delta_bits += BucketedBits(dm, kValueBuckets);
    CountWidth(&dod_hist, dm - prev_dm);
    CountWidth(&delta_hist, dm);
    CountUnsignedWidth(&unsigned_delta_hist, dm);
    non_negative = non_negative && dm >= 0;
    int64_t dt = t[i] - t[i - 1], prev_dt = i >= 2 ? t[i - 1] - t[i - 2] : 0;
    ts_bits += BucketedBits(dt - prev_dt, kTimestampBuckets);
    CountWidth(&ts_hist, dt - prev_dt);
  }
  int64_t adaptive_dod_bits = INT64_MAX / 2, adaptive_delta_bits = INT64_MAX / 2,
          adaptive_ts_bits = INT64_MAX / 2;
  AdaptiveCode dod_code, delta_code, ts_code;
  if (!(flags & kConstantValues)) {
    dod_code = ChooseAdaptiveCode(dod_hist, &adaptive_dod_bits);
    delta_code = ChooseAdaptiveCode(delta_hist, &adaptive_delta_bits);
    if (non_negative) {  // counters: no sign bit
      int64_t unsigned_bits;
      AdaptiveCode c = ChooseAdaptiveCode(unsigned_delta_hist, &unsigned_bits);
      if (unsigned_bits < adaptive_delta_bits) {
        adaptive_delta_bits = unsigned_bits;
        delta_code = c;
        delta_code.non_negative = true;
      }
    }
  }
  if (!(flags & kRegularTimestamps)) ts_code = ChooseAdaptiveCode(ts_hist, &adaptive_ts_bits);
  AdaptiveCode value_code;
  int64_t best = dod_bits;
  if (delta_bits < best) {
    best = delta_bits;
    flags |= kValueDeltas;
  }
  if (adaptive_dod_bits + 16 < best) {
    best = adaptive_dod_bits + 16;
    flags = static_cast<uint8_t>((flags & ~kValueDeltas) | kAdaptiveValues);
    value_code = dod_code;
  }
  if (adaptive_delta_bits + 16 < best) {
    flags |= kValueDeltas | kAdaptiveValues;
    value_code = delta_code;
  }
  if (flags & kConstantValues) flags &= static_cast<uint8_t>(~(kAdaptiveValues | kValueDeltas));
  if (!(flags & kRegularTimestamps) && adaptive_ts_bits + 16 < ts_bits) flags |= kAdaptiveTimes;
  if (!(flags & kRegularTimestamps)) flags |= kSeparateStreams;
  dst->assign(kDecimalHeaderSize, '\0');
  (*dst)[0] = static_cast<char>(Encoding::kDecimal);
  (*dst)[1] = static_cast<char>(n >> 8);
  (*dst)[2] = static_cast<char>(n & 0xff);
  (*dst)[3] = static_cast<char>(k);
  (*dst)[4] = static_cast<char>(flags);
  auto put_code = [&](const AdaptiveCode& c) {
    dst->push_back(static_cast<char>((c.zero_code ? 0x80 : 0) | c.a));
    dst->push_back(static_cast<char>((c.non_negative ? 0x80 : 0) | c.b));
  };
  if (flags & kAdaptiveValues) put_code(value_code);
  if (flags & kAdaptiveTimes) put_code(ts_code);
  if (n == 0) return Status::Ok();
  auto write_time = [&](BitWriter* w, size_t i, int64_t* prev_delta) {
    int64_t delta = t[i] - t[i - 1];
    if (flags & kAdaptiveTimes) {
      WriteAdaptive(w, delta - *prev_delta, ts_code);
    } else {
      WriteBucketed(w, delta - *prev_delta, kTimestampBuckets);
    }
    *prev_delta = delta;
  };
  auto write_value = [&](BitWriter* w, size_t i, int64_t* prev_dm) {
    int64_t dm = ms[i] - ms[i - 1];
    int64_t x = (flags & kValueDeltas) ? dm : dm - *prev_dm;
    if (flags & kAdaptiveValues) {
      WriteAdaptive(w, x, value_code);
    } else {
      WriteBucketed(w, x, kValueBuckets);
    }
    *prev_dm = dm;
  };
  int64_t prev_delta = 0, prev_dm = 0;
  if (flags & kSeparateStreams) {
    size_t length_at = dst->size();
    dst->append(2, '\0');
    size_t ts_start = dst->size();
    {
      BitWriter w(dst);
      w.WriteBits(static_cast<uint64_t>(t[0]), 64);
      for (size_t i = 1; i < n; ++i) write_time(&w, i, &prev_delta);
    }
    size_t ts_len = dst->size() - ts_start;
    if (ts_len > 0xffff) return Status::InvalidArgument("decimal chunk: timestamp stream too long");
    (*dst)[length_at] = static_cast<char>(ts_len >> 8);
    (*dst)[length_at + 1] = static_cast<char>(ts_len & 0xff);
    BitWriter w(dst);
    w.WriteBits(static_cast<uint64_t>(ms[0]), 64);
    if (!(flags & kConstantValues)) {
      for (size_t i = 1; i < n; ++i) write_value(&w, i, &prev_dm);
    }
    return Status::Ok();
  }
  BitWriter w(dst);
  // Fixed-width start fields keep the bit stream aligned alike in every chunk, which RocksDB's
  // block compression exploits (a variable-length start measured larger on disk).
  w.WriteBits(static_cast<uint64_t>(t[0]), 64);
  if ((flags & kRegularTimestamps) && n >= 2) w.WriteBits(static_cast<uint64_t>(t[1] - t[0]), 64);
  w.WriteBits(static_cast<uint64_t>(ms[0]), 64);
  for (size_t i = 1; i < n; ++i) {
    if (!(flags & kRegularTimestamps)) write_time(&w, i, &prev_delta);
    if (!(flags & kConstantValues)) write_value(&w, i, &prev_dm);
  }
  return Status::Ok();
}

void EncodeBest(std::span<const TimestampMs> t, std::span<const double> v, std::string* dst) {
  std::string xor_chunk;
  XorAppender a;
  a.Reset(&xor_chunk);
  for (size_t i = 0; i < t.size(); ++i) a.Append(t[i], v[i]);
  if (EncodeDecimal(t, v, dst).ok() && dst->size() <= xor_chunk.size()) return;
  *dst = std::move(xor_chunk);
}

bool ChunkIterator::Fail(std::string_view what) {
  status_ = Status::Corruption("decimal chunk: " + std::string(what) + " at sample " +
                               std::to_string(read_));
  read_ = total_;
  return false;
}

void ChunkIterator::Reset(std::string_view bytes) {
  xor_active_ =
      !bytes.empty() && static_cast<uint8_t>(bytes[0]) != static_cast<uint8_t>(Encoding::kDecimal);
  if (xor_active_) {
    xor_.Reset(bytes);  // reports unknown encodings
    return;
  }
  status_ = Status::Ok();
  total_ = read_ = 0;
  t_ = 0;
  delta_ = m_ = dm_ = 0;
  v_ = 0;
  if (bytes.size() < kDecimalHeaderSize) {
    status_ = Status::Corruption("chunk: " + std::to_string(bytes.size()) +
                                 " bytes, shorter than its header");
    return;
  }
  total_ = (static_cast<uint8_t>(bytes[1]) << 8) | static_cast<uint8_t>(bytes[2]);
  exponent_ = static_cast<uint8_t>(bytes[3]);
  flags_ = static_cast<uint8_t>(bytes[4]);
  if (exponent_ > kMaxExponent) {
    status_ =
        Status::Corruption("decimal chunk: exponent " + std::to_string(exponent_) + " above 18");
    total_ = 0;
    return;
  }
  if (flags_ & ~kKnownFlags) {
    status_ = Status::Corruption("decimal chunk: unknown flags " + std::to_string(flags_));
    total_ = 0;
    return;
  }
  size_t header = kDecimalHeaderSize;
  auto get_code = [&](AdaptiveCode* c) {
    if (bytes.size() < header + 2) return false;
    auto x = static_cast<uint8_t>(bytes[header]), y = static_cast<uint8_t>(bytes[header + 1]);
    c->zero_code = (x & 0x80) != 0;
    c->a = x & 0x7f;
    c->non_negative = (y & 0x80) != 0;
    c->b = y & 0x7f;
    header += 2;
    return c->a >= 1 && c->a < c->b && c->b < 64;
  };
  if (((flags_ & kAdaptiveValues) && !get_code(&value_code_)) ||
      ((flags_ & kAdaptiveTimes) && !get_code(&ts_code_))) {
    status_ = Status::Corruption("decimal chunk: bad adaptive code header");
    total_ = 0;
    return;
  }
  if (flags_ & kSeparateStreams) {
    if ((flags_ & kRegularTimestamps) || bytes.size() < header + 2) {
      status_ = Status::Corruption("decimal chunk: bad stream header");
      total_ = 0;
      return;
    }
    size_t ts_len =
        (static_cast<uint8_t>(bytes[header]) << 8) | static_cast<uint8_t>(bytes[header + 1]);
    header += 2;
    if (bytes.size() - header < ts_len) {
      status_ = Status::Corruption("decimal chunk: timestamp stream longer than the chunk");
      total_ = 0;
      return;
    }
    reader_ = BitReader(bytes.substr(header, ts_len));
    values_ = BitReader(bytes.substr(header + ts_len));
    return;
  }
  reader_ = BitReader(bytes.substr(header));
}

bool ChunkIterator::Next() {
  if (xor_active_) return xor_.Next();
  if (!status_.ok() || read_ >= total_) return false;
  // Wrapping arithmetic throughout: a corrupt stream must not be undefined behaviour.
  auto add = [](int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  };
  // Values come from their own stream when the chunk has two.
  BitReader* values = (flags_ & kSeparateStreams) ? &values_ : &reader_;
  if (read_ == 0) {
    t_ = static_cast<TimestampMs>(reader_.ReadBits(64));
    if ((flags_ & kRegularTimestamps) && total_ >= 2)
      delta_ = static_cast<int64_t>(reader_.ReadBits(64));
    m_ = static_cast<int64_t>(values->ReadBits(64));
  } else {
    if (!(flags_ & kRegularTimestamps)) {
      delta_ = add(delta_, (flags_ & kAdaptiveTimes) ? ReadAdaptive(&reader_, ts_code_)
                                                     : ReadBucketed(&reader_, kTimestampBuckets));
    }
    t_ = add(t_, delta_);
    if (!(flags_ & kConstantValues)) {
      int64_t x = (flags_ & kAdaptiveValues) ? ReadAdaptive(values, value_code_)
                                             : ReadBucketed(values, kValueBuckets);
      dm_ = (flags_ & kValueDeltas) ? x : add(dm_, x);
      m_ = add(m_, dm_);
    }
  }
  if (reader_.overflow() || values->overflow()) return Fail("truncated bit stream");
  v_ = static_cast<double>(m_) / kPow10[static_cast<size_t>(exponent_)];
  ++read_;
  return true;
}

bool ChunkIterator::Seek(TimestampMs t) {
  if (xor_active_) return xor_.Seek(t);
  if (read_ > 0 && t_ >= t && status_.ok()) return true;
  while (Next()) {
    if (t_ >= t) return true;
  }
  return false;
}

}  // namespace tocsin::tsdb
