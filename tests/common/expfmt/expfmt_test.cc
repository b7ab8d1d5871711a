#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/base/strings.h"
#include "common/expfmt/parser.h"
#include "common/expfmt/writer.h"

namespace tocsin::expfmt {
namespace {

std::string Fmt(double v) {
  std::string s;
  AppendDouble(&s, v);
  return s;
}

TEST(AppendDouble, MatchesGoStrconvG) {
  EXPECT_EQ(Fmt(0), "0");
  EXPECT_EQ(Fmt(1), "1");
  EXPECT_EQ(Fmt(-3), "-3");
  EXPECT_EQ(Fmt(123456), "123456");
  EXPECT_EQ(Fmt(1e6), "1e+06");
  EXPECT_EQ(Fmt(2.5217069056e10), "2.5217069056e+10");
  EXPECT_EQ(Fmt(0.1), "0.1");
  EXPECT_EQ(Fmt(0.0001), "0.0001");
  EXPECT_EQ(Fmt(0.00001), "1e-05");
  EXPECT_EQ(Fmt(294.86), "294.86");
  EXPECT_EQ(Fmt(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(Fmt(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(Fmt(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Fmt(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(AppendDouble, RoundTrips) {
  for (double v : {0.1, 1.0 / 3, 2.5e-300, 123456789.123, 9007199254740993.0, -42.125}) {
    std::string s = Fmt(v);
    double back;
    ASSERT_TRUE(ParseDouble(s, &back)) << s;
    EXPECT_EQ(back, v) << s;
  }
}

TEST(Writer, EscapesAndParsesBack) {
  std::string out;
  Writer w(&out);
  w.Family("demo_total", "Help with \\ and\nnewline.", MetricType::kCounter);
  w.Sample("demo_total", {{"path", "C:\\dir"}, {"msg", "say \"hi\"\nbye"}}, 1.5);
  w.Sample("demo_total", {}, 2);
  EXPECT_EQ(out,
            "# HELP demo_total Help with \\\\ and\\nnewline.\n# TYPE demo_total counter\n"
            "demo_total{path=\"C:\\\\dir\",msg=\"say \\\"hi\\\"\\nbye\"} 1.5\ndemo_total 2\n");
  Parser p(out);
  Parser::Entry e;
  ASSERT_TRUE(p.Next(&e));
  EXPECT_EQ(e, Parser::Entry::kHelp);
  EXPECT_EQ(p.help(), "Help with \\ and\nnewline.");
  ASSERT_TRUE(p.Next(&e));
  EXPECT_EQ(p.type(), MetricType::kCounter);
  ASSERT_TRUE(p.Next(&e));
  ASSERT_EQ(p.label_count(), 2u);
  EXPECT_EQ(p.label_value(0), "C:\\dir");
  EXPECT_EQ(p.label_value(1), "say \"hi\"\nbye");
  EXPECT_EQ(p.value(), 1.5);
  ASSERT_TRUE(p.Next(&e));
  EXPECT_EQ(p.label_count(), 0u);
  EXPECT_FALSE(p.Next(&e));
  EXPECT_TRUE(p.status().ok());
}

TEST(Parser, TimestampsAndSpecialValues) {
  Parser p("a{x=\"1\"} +Inf 1700000000000\nb NaN\n");
  Parser::Entry e;
  ASSERT_TRUE(p.Next(&e));
  EXPECT_TRUE(std::isinf(p.value()));
  EXPECT_EQ(*p.timestamp_ms(), 1700000000000);
  ASSERT_TRUE(p.Next(&e));
  EXPECT_TRUE(std::isnan(p.value()));
  EXPECT_FALSE(p.timestamp_ms().has_value());
}

struct BadCase {
  const char* input;
  const char* want;
};

TEST(Parser, ErrorsNameLineAndProblem) {
  const BadCase cases[] = {
      {"ok 1\n1bad 2\n", "line 2: invalid metric name \"1bad\""},
      {"m{a=\"x\" 1\n", "line 1: expected ',' or '}'"},
      {"m{a=\"x} 1\n", "line 1: unterminated value"},
      {"m{a=\"1\",a=\"2\"} 1\n", "duplicate label name \"a\""},
      {"m 12x\n", "line 1: invalid value \"12x\""},
      {"m 1 later\n", "invalid timestamp"},
      {"# TYPE m bogus\n", "unknown metric type \"bogus\""},
      {"m\n", "missing value"},
      {"m{1a=\"x\"} 1\n", "invalid label name"},
      {"m{a=\"\\q\"} 1\n", "invalid escape"},
  };
  for (const BadCase& c : cases) {
    Parser p(c.input);
    Parser::Entry e;
    while (p.Next(&e)) {
    }
    EXPECT_FALSE(p.status().ok()) << c.input;
    EXPECT_NE(p.status().message().find(c.want), std::string_view::npos) << p.status().ToString();
  }
}

TEST(Names, ValidationAndSanitizing) {
  EXPECT_TRUE(IsValidMetricName("node_cpu:rate5m"));
  EXPECT_FALSE(IsValidMetricName("9lives"));
  EXPECT_TRUE(IsValidLabelName("_x9"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_EQ(SanitizeName("com.docker.compose-service"), "com_docker_compose_service");
  EXPECT_EQ(SanitizeName("9x"), "_9x");
}

}  // namespace
}  // namespace tocsin::expfmt
