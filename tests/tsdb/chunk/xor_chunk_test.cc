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

namespace tocsin::tsdb {
namespace {

std::vector<Sample> DecodeAny(std::string_view chunk, Status* st) {
  std::vector<Sample> out;
  ChunkIterator it;
  it.Reset(chunk);
  while (it.Next()) out.push_back({it.t(), it.v()});
  *st = it.status();
  return out;
}

void Split(const std::vector<Sample>& s, std::vector<TimestampMs>* t, std::vector<double>* v) {
  for (const Sample& x : s) {
    t->push_back(x.t);
    v->push_back(x.v);
  }
}

TEST(DecimalChunk, RoundTripsDecimalValuesBitExactly) {
  std::vector<Sample> in;
  double cpu = 294.86;
  for (int i = 0; i < 480; ++i) {
    cpu += 0.01 * (i % 7);  // printed with 2 decimals, as /proc/stat
    in.push_back({1763748000000 + i * 15000 + (i % 3), std::round(cpu * 100) / 100});
  }
  in.push_back({1763760000000, 2.5217069056e10});  // large integer-valued gauge
  in.push_back({1763760000001, -17.25});           // negative
  std::vector<TimestampMs> t;
  std::vector<double> v;
  Split(in, &t, &v);
  std::string chunk;
  ASSERT_TRUE(EncodeDecimal(t, v, &chunk).ok());
  EXPECT_EQ(chunk[0], static_cast<char>(Encoding::kDecimal));
  Status st;
  std::vector<Sample> out = DecodeAny(chunk, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t) << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v))
        << i << " " << in[i].v;
  }
}

// Noisy data takes the adaptive codes: a counter whose increments need about 9 bits, a gauge
// wandering both ways, timestamps jittered by up to 50 ms. Every shape round-trips exactly, and
// the adaptive code spends well under the fixed buckets' 17 bits per increment.
TEST(DecimalChunk, AdaptiveCodesRoundTripAndPayOff) {
  std::mt19937_64 rng(7);
  std::vector<TimestampMs> t;
  std::vector<double> counter, gauge;
  double c = 1e6, g = 500;
  for (int i = 0; i < 240; ++i) {
    t.push_back(1763748000000 + i * 15000 + static_cast<TimestampMs>(rng() % 101) - 50);
    c += 300 + static_cast<double>(rng() % 200);
    g += static_cast<double>(static_cast<int>(rng() % 41) - 20);
    counter.push_back(c);
    gauge.push_back(g);
  }
  for (const auto* v : {&counter, &gauge}) {
    for (bool jitter : {false, true}) {
      std::vector<TimestampMs> ts = t;
      if (!jitter) {
        for (size_t i = 0; i < ts.size(); ++i)
          ts[i] = 1763748000000 + static_cast<TimestampMs>(i) * 15000;
      }
      std::string chunk;
      ASSERT_TRUE(EncodeDecimal(ts, *v, &chunk).ok());
      Status st;
      std::vector<Sample> out = DecodeAny(chunk, &st);
      ASSERT_TRUE(st.ok()) << st.ToString();
      ASSERT_EQ(out.size(), ts.size());
      for (size_t i = 0; i < ts.size(); ++i) {
        ASSERT_EQ(out[i].t, ts[i]) << i;
        ASSERT_EQ(out[i].v, (*v)[i]) << i;
      }
      if (v == &counter && !jitter) {
        // Increments of 300..499 need 9 unsigned bits: about 10 bits a sample with the code.
        EXPECT_LT(chunk.size(), 5u + 2 + 24 + 239 * 11 / 8) << chunk.size();
      }
    }
  }
  // A truncated two-stream chunk is an error, not a crash.
  std::string chunk;
  ASSERT_TRUE(EncodeDecimal(t, gauge, &chunk).ok());
  for (size_t cut : {size_t{6}, size_t{9}, chunk.size() - 3}) {
    Status st;
    DecodeAny(chunk.substr(0, cut), &st);
    EXPECT_FALSE(st.ok()) << cut;
  }
}

TEST(DecimalChunk, RefusesValuesItCannotHoldAndEncodeBestFallsBack) {
  const double stale = std::bit_cast<double>(uint64_t{0x7ff0000000000002});
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), stale,
                     std::numeric_limits<double>::infinity(), -0.0, 1.0 / 3, 1e300}) {
    std::vector<TimestampMs> t = {1, 2};
    std::vector<double> v = {1.5, bad};
    std::string chunk;
    EXPECT_FALSE(EncodeDecimal(t, v, &chunk).ok()) << bad;
    EncodeBest(t, v, &chunk);
    EXPECT_EQ(chunk[0], static_cast<char>(Encoding::kXor));
    Status st;
    std::vector<Sample> out = DecodeAny(chunk, &st);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(std::bit_cast<uint64_t>(out[1].v), std::bit_cast<uint64_t>(bad));
  }
  std::vector<TimestampMs> t = {5, 5};
  std::vector<double> v = {1, 2};
  std::string chunk;
  EXPECT_FALSE(EncodeDecimal(t, v, &chunk).ok());  // timestamps must increase
}

std::string Xor(const std::vector<TimestampMs>& t, const std::vector<double>& v) {
  std::string chunk;
  XorAppender a;
  a.Reset(&chunk);
  for (size_t i = 0; i < t.size(); ++i) a.Append(t[i], v[i]);
  return chunk;
}

TEST(EncodeBest, PicksTheSmallerEncoding) {
  std::vector<TimestampMs> t;
  std::vector<double> cpu, bytes;
  double c = 294.86, b = 1.127719936e9;
  std::mt19937 rng(7);
  for (int i = 0; i < 480; ++i) {
    t.push_back(1763748000000 + i * 15000);
    c = std::round((c + 0.01 * static_cast<double>(rng() % 6)) * 100) /
        100;  // CPU seconds, 2 decimals
    cpu.push_back(c);
    b += 4096 * (i % 5);  // a sawtooth of increments: XOR's window suits it better
    bytes.push_back(b);
  }
  std::string best;
  EncodeBest(t, cpu, &best);
  EXPECT_EQ(best[0], static_cast<char>(Encoding::kDecimal));
  EXPECT_LT(best.size() * 2, Xor(t, cpu).size());
  EncodeBest(t, bytes, &best);
  EXPECT_EQ(best[0], static_cast<char>(Encoding::kXor));
  EXPECT_EQ(best, Xor(t, bytes));
}

// Freezes the decimal layout of tsdb/docs/format.md: today's writer produces the documented
// bytes, and chunks of the older one-stream layout (flags 0) still decode.
TEST(DecimalChunk, GoldenBytes) {
  std::vector<TimestampMs> t = {1000, 16000, 31000, 46005};
  std::vector<double> v = {1.5, 1.75, 2.0, 2.25};
  std::string chunk;
  ASSERT_TRUE(EncodeDecimal(t, v, &chunk).ok());
  const unsigned char want[] = {
      0x02, 0x00, 0x04, 0x02, 0x20,  // decimal, 4 samples, k = 2, two streams (irregular times)
      0x00, 0x0d,                    // the timestamp stream's length: 13 bytes
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // t0 = 1000
      // 0xe0 0x3a 0x98 0x40 0xa0: dod 15000 -> '1110' + 20 bits, 0 -> '0', 5 -> '10' + 8 bits
      0xe0, 0x3a, 0x98, 0x40, 0xa0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96,  // m0 = 150
      0x8c, 0x80};  // dod 25 -> '10' + 7 bits, then '0', '0', padding
  EXPECT_EQ(chunk, std::string(reinterpret_cast<const char*>(want), sizeof want));
  const unsigned char older[] = {
      0x02, 0x00, 0x04, 0x02, 0x00,                    // decimal, 4 samples, k = 2, no flags
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,  // t0 = 1000
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x96,  // m0 = 150
      // 0xe0 0x3a 0x98: t1 dod 15000 -> '1110' + 20 bits;
      // 0x8c 0x90 0x28: m1 dod 25 -> '10' + 7 bits, t2 '0', m2 '0', t3 dod 5 -> '10' + 8 bits,
      //                 m3 '0', padding.
      0xe0, 0x3a, 0x98, 0x8c, 0x90, 0x28};
  Status st;
  std::vector<Sample> out =
      DecodeAny(std::string(reinterpret_cast<const char*>(older), sizeof older), &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].t, t[i]);
    EXPECT_EQ(out[i].v, v[i]);
  }
}

TEST(DecimalChunk, RegularTimestampsAndConstantValuesCostNothingPerSample) {
  std::vector<TimestampMs> t;
  std::vector<double> v, counter;
  for (int i = 0; i < 480; ++i) {
    t.push_back(1763748000000 + i * 15000);
    v.push_back(42);
    counter.push_back(1000 + 3 * i);  // a counter at a constant rate
  }
  std::string chunk;
  ASSERT_TRUE(EncodeDecimal(t, v, &chunk).ok());
  EXPECT_EQ(chunk.size(), 5u + 8 + 8 + 8);  // header, t0, the interval, m0
  Status st;
  std::vector<Sample> out = DecodeAny(chunk, &st);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(out.size(), 480u);
  EXPECT_EQ(out[479].t, t[479]);
  EXPECT_EQ(out[479].v, 42);
  ASSERT_TRUE(EncodeDecimal(t, counter, &chunk).ok());
  // The first step costs '10' + 7 bits (dod 3), every later one a single bit (dod 0).
  EXPECT_EQ(chunk.size(), 5u + 24 + (9 + 478 + 7) / 8);
  out = DecodeAny(chunk, &st);
  ASSERT_EQ(out.size(), 480u);
  EXPECT_EQ(out[479].v, 1000 + 3 * 479);
}

TEST(ChunkIterator, CorruptDecimalChunks) {
  std::vector<TimestampMs> t = {1000, 16000, 31000};
  std::vector<double> v = {1.5, 1.75, 2.0};
  std::string chunk;
  ASSERT_TRUE(EncodeDecimal(t, v, &chunk).ok());
  Status st;
  for (size_t cut = 0; cut < chunk.size(); ++cut) {
    DecodeAny(chunk.substr(0, cut), &st);
    EXPECT_FALSE(st.ok()) << cut;
  }
  std::string bad = chunk;
  bad[3] = 40;
  DecodeAny(bad, &st);
  EXPECT_NE(st.message().find("exponent 40"), std::string_view::npos) << st.ToString();
  bad = chunk;
  bad[4] = static_cast<char>(0x80);
  DecodeAny(bad, &st);
  EXPECT_NE(st.message().find("unknown flags 128"), std::string_view::npos) << st.ToString();
  bad = chunk;
  bad[0] = 7;
  DecodeAny(bad, &st);
  EXPECT_NE(st.message().find("encoding byte 7"), std::string_view::npos) << st.ToString();
}

}  // namespace
}  // namespace tocsin::tsdb
