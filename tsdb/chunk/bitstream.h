#pragma once
// Bit-level writer and reader for chunk encodings. Bits are written most significant first.
// Thread-safety: values; one thread each.

#include <cstdint>
#include <string>
#include <string_view>

namespace tocsin::tsdb {

// Appends bits to a caller-owned string (the chunk's bytes).
class BitWriter {
 public:
  // REQUIRES: dst outlives the writer. Continues after dst's existing bytes.
  explicit BitWriter(std::string* dst) : dst_(dst) {}

  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }
  // Writes the low `n` bits of v (n in [0, 64]).
  void WriteBits(uint64_t v, int n) {
    while (n > 0) {
      if (free_ == 0) {
        dst_->push_back('\0');
        free_ = 8;
      }
      int take = n < free_ ? n : free_;
      uint64_t chunk = (v >> (n - take)) & ((take == 64 ? ~0ULL : (1ULL << take) - 1));
      dst_->back() =
          static_cast<char>(static_cast<uint8_t>(dst_->back()) | (chunk << (free_ - take)));
      free_ -= take;
      n -= take;
    }
  }

 private:
  std::string* dst_;
  int free_ = 0;
};

// Reads bits from a byte view; reading past the end sets a sticky overflow flag and yields 0s.
class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view in) : in_(in) {}

  bool ReadBit() { return ReadBits(1) != 0; }
  uint64_t ReadBits(int n) {
    uint64_t v = 0;
    while (n > 0) {
      if (pos_ >= in_.size() * 8) {
        overflow_ = true;
        return 0;
      }
      size_t byte = pos_ / 8;
      int offset = static_cast<int>(pos_ % 8);
      int avail = 8 - offset;
      int take = n < avail ? n : avail;
      uint8_t b = static_cast<uint8_t>(in_[byte]);
      uint64_t bits = (b >> (avail - take)) & ((1u << take) - 1);
      v = (v << take) | bits;
      pos_ += static_cast<size_t>(take);
      n -= take;
    }
    return v;
  }
  bool overflow() const { return overflow_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool overflow_ = false;
};

}  // namespace tocsin::tsdb
