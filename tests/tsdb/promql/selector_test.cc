#include "tsdb/promql/selector.h"

#include <gtest/gtest.h>

namespace tocsin::promql {
namespace {

std::string Describe(const std::vector<labels::Matcher>& ms) {
  std::string out;
  for (const auto& m : ms) out += m.ToString() + ";";
  return out;
}

TEST(Selector, ParsesWhatTheApiTakes) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"up", "__name__=\"up\";"},
      {"  node_cpu_seconds_total  ", "__name__=\"node_cpu_seconds_total\";"},
      {"up{job=\"node\"}", "__name__=\"up\";job=\"node\";"},
      {"up{job=\"node\",}", "__name__=\"up\";job=\"node\";"},
      {"{__name__=~\"node_.*\", instance!=\"a\"}", "__name__=~\"node_.*\";instance!=\"a\";"},
      {"{job!~'x|y', job=~`a\\d`}", "job!~\"x|y\";job=~\"a\\\\d\";"},
      {"rule:metric:rate5m", "__name__=\"rule:metric:rate5m\";"},
      {"up{a=\"\\u00e9\\x41\\101\\n\"}", "__name__=\"up\";a=\"éAA\\n\";"},
      {"up # a comment\n", "__name__=\"up\";"},
  };
  for (const auto& c : cases) {
    std::vector<labels::Matcher> ms;
    Status st = ParseSeriesSelector(c.in, &ms);
    ASSERT_TRUE(st.ok()) << c.in << ": " << st.ToString();
    EXPECT_EQ(Describe(ms), c.want) << c.in;
  }
}

TEST(Selector, ErrorsSayWhatAndWhere) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"", "1:1: parse error: unexpected end of input"},
      {"{job=\"\"}",
       "1:1: parse error: vector selector must contain at least one non-empty matcher"},
      {"{}", "vector selector must contain at least one non-empty matcher"},
      {"up{job=~\"a\"", "1:12: parse error: unexpected end of input in label matching"},
      {"up{job=node}",
       "1:8: parse error: unexpected character 'n' in label matching, expected string"},
      {"up{job~\"a\"}",
       "1:7: parse error: unexpected character '~' in label matching, expected label matching "
       "operator"},
      {"up{job=\"a}", "1:8: parse error: unterminated quoted string"},
      {"up{job=\"\\q\"}", "1:9: parse error: unknown escape sequence"},
      {"up{job=~\"(\"}", "invalid regular expression"},
      {"up{__name__=\"x\"}", "metric name must not be set twice: \"up\" or \"x\""},
      {"up}", "1:3: parse error: unexpected character after selector: '}'"},
      {"rate(up[5m])", "1:5: parse error"},
      {"up{\n1=\"a\"}", "2:1: parse error: unexpected character inside braces: '1'"},
  };
  for (const auto& c : cases) {
    std::vector<labels::Matcher> ms;
    Status st = ParseSeriesSelector(c.in, &ms);
    ASSERT_FALSE(st.ok()) << c.in;
    EXPECT_NE(st.message().find(c.want), std::string_view::npos)
        << c.in << " gave: " << st.message();
  }
}

}  // namespace
}  // namespace tocsin::promql
