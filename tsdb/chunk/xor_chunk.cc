#include <bit>
#include <cstring>

#include "tsdb/chunk/bucketed.h"
#include "tsdb/chunk/chunk.h"

namespace tocsin::tsdb {

namespace {

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Timestamp delta-of-delta buckets of the XOR encoding: 0 | 14 | 17 | 20 | 64 bits.
constexpr std::array<int, 4> kTimestampBuckets = {14, 17, 20, 64};

}  // namespace

void XorAppender::Reset(std::string* dst) {
  dst_ = dst;
  dst_->assign(kChunkHeaderSize, '\0');
  (*dst_)[0] = static_cast<char>(Encoding::kXor);
  writer_ = BitWriter(dst_);
  count_ = 0;
  t_ = 0;
  delta_ = 0;
  v_ = 0;
  leading_ = 0xff;
  trailing_ = 0;
}

void XorAppender::WriteTimestamp(TimestampMs t) {
  int64_t delta = t - t_;
  WriteBucketed(&writer_, delta - delta_, kTimestampBuckets);
  delta_ = delta;
  t_ = t;
}

void XorAppender::WriteValue(uint64_t bits) {
  uint64_t x = bits ^ v_;
  v_ = bits;
  if (x == 0) {
    writer_.WriteBit(false);
    return;
  }
  writer_.WriteBit(true);
  int leading = std::countl_zero(x);
  int trailing = std::countr_zero(x);
  if (leading > 31) leading = 31;  // the field has 5 bits
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    // Fits the previous window: reuse it.
    writer_.WriteBit(false);
    writer_.WriteBits(x >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  int significant = 64 - leading - trailing;
  writer_.WriteBit(true);
  writer_.WriteBits(static_cast<uint64_t>(leading), 5);
  writer_.WriteBits(static_cast<uint64_t>(significant & 63), 6);  // 64 is written as 0
  writer_.WriteBits(x >> trailing, significant);
}

void XorAppender::Append(TimestampMs t, double v) {
  if (count_ == 0) {
    writer_.WriteBits(static_cast<uint64_t>(t), 64);
    writer_.WriteBits(Bits(v), 64);
    t_ = t;
    v_ = Bits(v);
  } else {
    WriteTimestamp(t);
    WriteValue(Bits(v));
  }
  ++count_;
  (*dst_)[1] = static_cast<char>(count_ >> 8);
  (*dst_)[2] = static_cast<char>(count_ & 0xff);
}

bool XorIterator::Fail(std::string_view what) {
  status_ =
      Status::Corruption("xor chunk: " + std::string(what) + " at sample " + std::to_string(read_));
  read_ = total_;
  return false;
}

void XorIterator::Reset(std::string_view bytes) {
  status_ = Status::Ok();
  read_ = 0;
  total_ = 0;
  t_ = 0;
  delta_ = 0;
  v_ = 0;
  leading_ = 0;
  trailing_ = 0;
  if (bytes.size() < kChunkHeaderSize) {
    status_ = Status::Corruption("xor chunk: " + std::to_string(bytes.size()) +
                                 " bytes, shorter than its header");
    return;
  }
  if (static_cast<uint8_t>(bytes[0]) != static_cast<uint8_t>(Encoding::kXor)) {
    status_ =
        Status::Corruption("xor chunk: encoding byte " +
                           std::to_string(static_cast<uint8_t>(bytes[0])) + " is not XOR (1)");
    return;
  }
  total_ = (static_cast<uint8_t>(bytes[1]) << 8) | static_cast<uint8_t>(bytes[2]);
  reader_ = BitReader(bytes.substr(kChunkHeaderSize));
}

double XorIterator::v() const { return std::bit_cast<double>(v_); }

bool XorIterator::ReadValue() {
  if (!reader_.ReadBit()) return true;  // same value
  if (reader_.ReadBit()) {
    leading_ = static_cast<int>(reader_.ReadBits(5));
    int significant = static_cast<int>(reader_.ReadBits(6));
    if (significant == 0) significant = 64;
    trailing_ = 64 - leading_ - significant;
    if (trailing_ < 0) return Fail("XOR window larger than 64 bits");
  } else if (read_ == 1) {
    return Fail("XOR window reused before one was set");
  }
  int significant = 64 - leading_ - trailing_;
  uint64_t x = reader_.ReadBits(significant);
  v_ ^= (significant == 64 ? x : x << trailing_);
  return true;
}

bool XorIterator::Next() {
  if (!status_.ok() || read_ >= total_) return false;
  if (read_ == 0) {
    t_ = static_cast<TimestampMs>(reader_.ReadBits(64));
    v_ = reader_.ReadBits(64);
  } else {
    int64_t dod = ReadBucketed(&reader_, kTimestampBuckets);
    // Wrapping arithmetic: a corrupt stream must not be undefined behaviour.
    delta_ = static_cast<int64_t>(static_cast<uint64_t>(delta_) + static_cast<uint64_t>(dod));
    t_ = static_cast<TimestampMs>(static_cast<uint64_t>(t_) + static_cast<uint64_t>(delta_));
    if (!ReadValue()) return false;
  }
  if (reader_.overflow()) return Fail("truncated bit stream");
  ++read_;
  return true;
}

bool XorIterator::Seek(TimestampMs t) {
  if (read_ > 0 && t_ >= t && status_.ok()) return true;
  while (Next()) {
    if (t_ >= t) return true;
  }
  return false;
}

}  // namespace tocsin::tsdb
