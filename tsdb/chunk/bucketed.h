#pragma once
// The bucketed signed-integer code shared by the chunk encodings (tsdb/docs/format.md):
// "0" for 0; otherwise i+1 one-bits, then a zero bit unless bucket i is the last, then the value
// in widths[i] bits. A width-n payload holds [-(2^(n-1) - 1), 2^(n-1)]; above 2^(n-1) it is
// read as negative (payload - 2^n). The last width must be 64. Thread-safety: pure.

#include <array>
#include <bit>
#include <climits>
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

namespace tocsin::tsdb {

// The adaptive code of decimal chunks (format.md, "adaptive widths"): chosen per chunk from the
// distribution of its values. With zero_code: "0" is 0, "10" + a bits, "110" + b bits,
// "111" + 64 bits. Without: "0" + a bits, "10" + b bits, "11" + 64 bits. Payloads are signed
// as in the bucketed code. 1 <= a < b < 64.
struct AdaptiveCode {
  bool zero_code = true;
  bool non_negative = false;  // payloads are unsigned (every value >= 0)
  int a = 7, b = 21;
};

// The smallest unsigned payload width holding v >= 0 (1..64).
inline int NeededUnsignedWidth(int64_t v) {
  return v == 0 ? 1 : static_cast<int>(std::bit_width(static_cast<uint64_t>(v)));
}

// The smallest payload width holding v (1..64).
inline int NeededWidth(int64_t v) {
  if (v > 0) return 1 + static_cast<int>(std::bit_width(static_cast<uint64_t>(v) - 1));
  if (v == 0) return 1;
  return 1 + static_cast<int>(std::bit_width(0 - static_cast<uint64_t>(v)));
}

// Counts of values by needed width; [0] counts zeros.
using WidthHistogram = std::array<int64_t, 65>;
inline void CountWidth(WidthHistogram* h, int64_t v) { ++(*h)[v == 0 ? 0 : NeededWidth(v)]; }
inline void CountUnsignedWidth(WidthHistogram* h, int64_t v) {
  ++(*h)[v == 0 ? 0 : NeededUnsignedWidth(v)];
}

// The cheapest code for the histogram; *bits gets its total size in bits.
inline AdaptiveCode ChooseAdaptiveCode(const WidthHistogram& h, int64_t* bits) {
  // at_most[w]: non-zero values needing at most w bits.
  std::array<int64_t, 65> at_most{};
  for (int w = 1; w <= 64; ++w) at_most[w] = at_most[w - 1] + h[w];
  int64_t nonzero = at_most[64], zeros = h[0];
  AdaptiveCode best;
  int64_t best_bits = INT64_MAX;
  for (int zero_code = 0; zero_code <= 1; ++zero_code) {
    int p = zero_code;  // extra prefix bit for every non-zero class
    for (int a = 1; a < 63; ++a) {
      // Without a zero code, zeros travel in the a-bit class.
      int64_t in_a = at_most[a] + (zero_code ? 0 : zeros);
      int64_t base = (zero_code ? zeros : 0) + in_a * (1 + p + a);
      if (base >= best_bits) continue;
      for (int b = a + 1; b < 64; ++b) {
        int64_t in_b = at_most[b] - at_most[a];
        int64_t rest = nonzero - at_most[b];
        int64_t total = base + in_b * (2 + p + b) + rest * (2 + p + 64);
        if (total < best_bits) {
          best_bits = total;
          best = {zero_code == 1, false, a, b};
        }
        if (rest == 0) break;  // wider b only costs more
      }
      if (at_most[a] == nonzero) break;  // wider a only costs more
    }
  }
  *bits = best_bits;
  return best;
}

inline void WriteAdaptive(BitWriter* w, int64_t v, const AdaptiveCode& c) {
  int need = c.non_negative ? NeededUnsignedWidth(v) : NeededWidth(v);
  auto payload = [&](int width) {
    uint64_t p = static_cast<uint64_t>(v);
    if (width < 64) p &= (uint64_t{1} << width) - 1;
    w->WriteBits(p, width);
  };
  if (c.zero_code) {
    if (v == 0) {
      w->WriteBit(false);
      return;
    }
    w->WriteBit(true);
  }
  if (need <= c.a) {
    w->WriteBit(false);
    payload(c.a);
  } else if (need <= c.b) {
    w->WriteBits(2, 2);  // "10"
    payload(c.b);
  } else {
    w->WriteBits(3, 2);  // "11"
    payload(64);
  }
}

inline int64_t ReadAdaptive(BitReader* r, const AdaptiveCode& c) {
  if (c.zero_code && !r->ReadBit()) return 0;
  int bits = !r->ReadBit() ? c.a : (!r->ReadBit() ? c.b : 64);
  uint64_t v = r->ReadBits(bits);
  if (bits == 64 || c.non_negative) return static_cast<int64_t>(v);
  if (v > (uint64_t{1} << (bits - 1))) return static_cast<int64_t>(v) - (int64_t{1} << bits);
  return static_cast<int64_t>(v);
}

}  // namespace tocsin::tsdb
