#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "tsdb/chunk/chunk.h"

namespace tocsin::tsdb {
namespace {

struct Sample {
  TimestampMs t;
  double v;
};

std::string Encode(const std::vector<Sample>& samples) {
  std::string chunk;
  XorAppender a;
  a.Reset(&chunk);
  for (const Sample& s : samples) a.Append(s.t, s.v);
  return chunk;
}

std::vector<Sample> Decode(std::string_view chunk, Status* st) {
  std::vector<Sample> out;
  XorIterator it;
  it.Reset(chunk);
  while (it.Next()) out.push_back({it.t(), it.v()});
  *st = it.status();
  return out;
}

void ExpectRoundTrip(const std::vector<Sample>& in) {
  std::string chunk = Encode(in);
  Status st;
  std::vector<Sample> out = Decode(chunk, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v)) << i;
  }
}

TEST(XorChunk, RoundTripShapes) {
  std::mt19937_64 rng(42);
  std::vector<Sample> counter, gauge, jittered, wild;
  double c = 1000;
  for (int i = 0; i < 480; ++i) {
    TimestampMs t = 1763748000000 + i * 15000;
    c += static_cast<double>(rng() % 5000);
    counter.push_back({t, c});
    gauge.push_back({t, std::sin(i / 10.0) * 123.456});
    jittered.push_back({t + static_cast<TimestampMs>(rng() % 50), 0.5 * i});
    // Timestamp steps that need every delta-of-delta bucket, and arbitrary bit patterns.
    static constexpr int64_t kSteps[] = {
        1, 8192, 8193, 131072, 131073, 1 << 20, (1LL << 20) + 1, 1LL << 40};
    TimestampMs prev = wild.empty() ? -5 : wild.back().t;
    wild.push_back({prev + kSteps[i % 8], std::bit_cast<double>(rng())});
  }
  ExpectRoundTrip(counter);
  ExpectRoundTrip(gauge);
  ExpectRoundTrip(jittered);
  ExpectRoundTrip(wild);
  ExpectRoundTrip({});
  ExpectRoundTrip({{-7, 1.5}});
}

TEST(XorChunk, SpecialValuesAreBitExact) {
  const double stale =
      std::bit_cast<double>(uint64_t{0x7ff0000000000002});  // Prometheus staleness marker
  ExpectRoundTrip({{1, std::numeric_limits<double>::quiet_NaN()},
                   {2, stale},
                   {3, std::numeric_limits<double>::infinity()},
                   {4, -std::numeric_limits<double>::infinity()},
                   {5, -0.0},
                   {6, 0.0},
                   {7, std::numeric_limits<double>::denorm_min()},
                   {8, stale}});
}

// Freezes the layout of tsdb/docs/format.md: any change to these bytes breaks stored chunks.
TEST(XorChunk, GoldenBytes) {
  std::string chunk = Encode({{1000, 1.0}, {16000, 1.0}, {31000, 2.0}, {46005, 2.0}});
  const unsigned char want[] = {
      0x01, 0x00, 0x04,                                // encoding XOR, 4 samples
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // t0 = 1000
      0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // v0 = 1.0
      // 0xc3 0xa9 0x83: '110' (17-bit bucket) + 15000 in 17 bits = t1; '0' v1 unchanged;
      //                 '0' t2 dod 0; '11' v2 new window,
      // 0x09 0x7f:      leading = 1 (5 bits), significant = 11 (6 bits),
      // 0x7f 0xfe:      the 11 significant bits of 1.0 ^ 2.0 = 0x7ff0000000000000 (all ones),
      // 0xfe 0x00 0x14: '10' (14-bit bucket) + 5 in 14 bits = t3; '0' v3 unchanged; pad '0'.
      0xc3, 0xa9, 0x83, 0x09, 0x7f, 0xfe, 0x00, 0x14};
  EXPECT_EQ(chunk, std::string(reinterpret_cast<const char*>(want), sizeof want));
}

TEST(XorChunk, ConstantSeriesCostTwoBitsPerSample) {
  std::vector<Sample> in;
  for (int i = 0; i < 480; ++i) in.push_back({1763748000000 + i * 15000, 42});
  std::string chunk = Encode(in);
  // header + t0 + v0 + first delta ('110' + 17 bits) + 479 x ('0' timestamp, '0' value)
  EXPECT_EQ(chunk.size(), kChunkHeaderSize + 16 + (20 + 1 + 478 * 2 + 7) / 8);
}

TEST(XorChunk, CorruptionIsAnErrorNotACrash) {
  std::vector<Sample> in;
  for (int i = 0; i < 50; ++i) in.push_back({i * 1000LL + (i % 3), i * 1.25});
  std::string chunk = Encode(in);
  Status st;
  for (size_t cut = 0; cut < chunk.size(); cut += 3) {
    std::vector<Sample> out = Decode(chunk.substr(0, cut), &st);
    EXPECT_FALSE(st.ok()) << cut;
    EXPECT_LT(out.size(), in.size());
  }
  std::string bad = chunk;
  bad[0] = 9;
  Decode(bad, &st);
  EXPECT_NE(st.message().find("encoding byte 9"), std::string_view::npos) << st.ToString();
  bad = chunk;
  bad[2] = static_cast<char>(200);  // claims more samples than the stream holds
  Decode(bad, &st);
  EXPECT_NE(st.message().find("truncated"), std::string_view::npos) << st.ToString();
}

TEST(XorIterator, Seek) {
  std::string chunk = Encode({{10, 1}, {20, 2}, {30, 3}});
  XorIterator it;
  it.Reset(chunk);
  ASSERT_TRUE(it.Seek(15));
  EXPECT_EQ(it.t(), 20);
  ASSERT_TRUE(it.Seek(20));  // already there
  EXPECT_EQ(it.v(), 2);
  EXPECT_FALSE(it.Seek(31));
}

}  // namespace
}  // namespace tocsin::tsdb
