#include <gtest/gtest.h>

#include <cmath>

#include "common/base/flags.h"
#include "common/base/strings.h"

namespace tocsin {
namespace {

TEST(ParseDouble, AcceptsPrometheusSpellings) {
  double v;
  EXPECT_TRUE(ParseDouble("+Inf", &v) && std::isinf(v) && v > 0);
  EXPECT_TRUE(ParseDouble("-Inf", &v) && std::isinf(v) && v < 0);
  EXPECT_TRUE(ParseDouble("NaN", &v) && std::isnan(v));
  EXPECT_TRUE(ParseDouble("1.5e-3", &v) && v == 1.5e-3);
  EXPECT_FALSE(ParseDouble("", &v));
  EXPECT_FALSE(ParseDouble("12abc", &v));
  EXPECT_FALSE(ParseDouble("--1", &v));
}

TEST(ParseByteSize, PrometheusUnits) {
  uint64_t b;
  ASSERT_TRUE(ParseByteSize("512MB", &b));
  EXPECT_EQ(b, 512ull << 20);
  ASSERT_TRUE(ParseByteSize("1TB", &b));
  EXPECT_EQ(b, 1ull << 40);
  ASSERT_TRUE(ParseByteSize("0", &b));
  EXPECT_EQ(b, 0u);
  EXPECT_FALSE(ParseByteSize("12", &b));
  EXPECT_FALSE(ParseByteSize("MB", &b));
  EXPECT_FALSE(ParseByteSize("5mb", &b));
  EXPECT_FALSE(ParseByteSize("99999999999EB", &b));
}

TEST(ParseDuration, PrometheusUnits) {
  std::chrono::milliseconds d;
  ASSERT_TRUE(ParseDuration("1h30m", &d));
  EXPECT_EQ(d.count(), 5400000);
  ASSERT_TRUE(ParseDuration("250ms", &d));
  EXPECT_EQ(d.count(), 250);
  EXPECT_FALSE(ParseDuration("30m1h", &d));  // units out of order
  EXPECT_FALSE(ParseDuration("5", &d));
  EXPECT_FALSE(ParseDuration("", &d));
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(5400000)), "1h30m");
}

TEST(FlagSet, KingpinSpellings) {
  std::string addr = ":9100";
  bool cpu = true, extra = false;
  std::chrono::milliseconds timeout{5000};
  FlagSet f("t", "test");
  f.String("web.listen-address", &addr, "addr");
  f.Bool("collector.cpu", &cpu, "cpu");
  f.Bool("collector.extra", &extra, "extra");
  f.Duration("timeout", &timeout, "timeout");
  const char* argv[] = {"t",
                        "--web.listen-address",
                        "127.0.0.1:0",
                        "--no-collector.cpu",
                        "--collector.extra",
                        "--timeout=2s"};
  ASSERT_TRUE(f.Parse(6, argv).ok());
  EXPECT_EQ(addr, "127.0.0.1:0");
  EXPECT_FALSE(cpu);
  EXPECT_TRUE(extra);
  EXPECT_EQ(timeout.count(), 2000);
  EXPECT_TRUE(f.WasSet("collector.cpu"));
  EXPECT_NE(f.Usage().find("--[no-]collector.cpu"), std::string::npos);
}

TEST(FlagSet, ErrorsNameTheFlag) {
  std::chrono::milliseconds timeout{0};
  FlagSet f("t", "test");
  f.Duration("timeout", &timeout, "timeout");
  const char* bad_value[] = {"t", "--timeout=soon"};
  Status st = f.Parse(2, bad_value);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--timeout"), std::string_view::npos);
  FlagSet g("t", "test");
  const char* unknown[] = {"t", "--bogus"};
  st = g.Parse(2, unknown);
  EXPECT_NE(st.message().find("unknown flag --bogus"), std::string_view::npos);
}

}  // namespace
}  // namespace tocsin
