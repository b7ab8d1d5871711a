#pragma once
// The bucketed signed-integer code shared by the chunk encodings (tsdb/docs/format.md):
// "0" for 0; otherwise i+1 one-bits, then a zero bit unless bucket i is the last, then the value
// in widths[i] bits. A width-n payload holds [-(2^(n-1) - 1), 2^(n-1)]; above 2^(n-1) it is
// read as negative (payload - 2^n). The last width must be 64. Thread-safety: pure.

#include <array>
#include <cstdint>

#include "tsdb/chunk/bitstream.h"

namespace tocsin::tsdb {

template <size_t N>
void WriteBucketed(BitWriter* w, int64_t v, const std::array<int, N>& widths) {
  static_assert(N >= 1);
  if (v == 0) {
    w->WriteBit(false);
    return;
  }
  size_t i = 0;
  for (; i + 1 < N; ++i) {
    int64_t hi = int64_t{1} << (widths[i] - 1);
    if (v >= -(hi - 1) && v <= hi) break;
  }
  // i+1 ones, then a terminating zero except for the last bucket.
  w->WriteBits((uint64_t{1} << (i + 1)) - 1, static_cast<int>(i + 1));
  if (i + 1 < N) w->WriteBit(false);
  uint64_t payload = static_cast<uint64_t>(v);
  if (widths[i] < 64) payload &= (uint64_t{1} << widths[i]) - 1;
  w->WriteBits(payload, widths[i]);
}

// The number of bits WriteBucketed spends on v.
template <size_t N>
int BucketedBits(int64_t v, const std::array<int, N>& widths) {
  if (v == 0) return 1;
  size_t i = 0;
  for (; i + 1 < N; ++i) {
    int64_t hi = int64_t{1} << (widths[i] - 1);
    if (v >= -(hi - 1) && v <= hi) break;
  }
  return static_cast<int>(i + 1) + (i + 1 < N ? 1 : 0) + widths[i];
}

template <size_t N>
int64_t ReadBucketed(BitReader* r, const std::array<int, N>& widths) {
  if (!r->ReadBit()) return 0;
  size_t ones = 1;
  while (ones < N && r->ReadBit()) ++ones;
  int bits = widths[ones - 1];
  uint64_t v = r->ReadBits(bits);
  if (bits == 64) return static_cast<int64_t>(v);
  if (v > (uint64_t{1} << (bits - 1))) return static_cast<int64_t>(v) - (int64_t{1} << bits);
  return static_cast<int64_t>(v);
}

}  // namespace tocsin::tsdb
