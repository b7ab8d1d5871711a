#pragma once
// Bit-level writer and reader for chunk encodings. Bits are written most significant first.
// Thread-safety: values; one thread each.

#include <bit>
#include <cstdint>
#include <cstring>
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

  bool ReadBit() {
    if (pos_ >= in_.size() * 8) {
      overflow_ = true;
      return false;
    }
    bool b = (static_cast<uint8_t>(in_[pos_ >> 3]) >> (7 - (pos_ & 7))) & 1;
    ++pos_;
    return b;
  }
  // Reads n bits (n in [0, 64]), most significant first. Away from the end of the stream it
  // loads eight bytes at once (the decoders' hot path); near it, byte by byte.
  uint64_t ReadBits(int n) {
    if (n <= 0) return 0;
    size_t want = static_cast<size_t>(n);
    if (pos_ + want > in_.size() * 8) {
      pos_ = in_.size() * 8;
      overflow_ = true;
      return 0;
    }
    size_t byte = pos_ >> 3;
    unsigned off = static_cast<unsigned>(pos_ & 7);
    uint64_t v;
    if (byte + 8 <= in_.size()) {
      uint64_t w;
      std::memcpy(&w, in_.data() + byte, 8);
      if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
      w <<= off;  // the next 64 - off bits on top, zeros below
      v = w >> (64 - want);
      if (want > 64 - off) {  // the last bits are in the ninth byte (there is one: see above)
        unsigned extra = static_cast<unsigned>(want - (64 - off));
        v |= static_cast<uint8_t>(in_[byte + 8]) >> (8 - extra);
      }
    } else {
      v = 0;
      for (size_t i = 0; i < want; ++i) {
        size_t p = pos_ + i;
        v = (v << 1) | ((static_cast<uint8_t>(in_[p >> 3]) >> (7 - (p & 7))) & 1);
      }
    }
    pos_ += want;
    return v;
  }
  bool overflow() const { return overflow_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  bool overflow_ = false;
};

}  // namespace tocsin::tsdb
