#include "common/labels/labels.h"

#include <gtest/gtest.h>

namespace tocsin::labels {
namespace {

Labels L(std::vector<std::pair<std::string, std::string>> p) {
  Labels l;
  Status st = Labels::FromPairs(std::move(p), &l);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return l;
}

TEST(Labels, SortedFlatAndEmptyValuesDropped) {
  Labels a = L({{"job", "node"}, {"__name__", "up"}, {"instance", "h:9100"}, {"zone", ""}});
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.Get("job"), "node");
  EXPECT_EQ(a.Get("zone"), "");
  EXPECT_EQ(a.ToString(), "up{instance=\"h:9100\", job=\"node\"}");
  Labels b = L({{"instance", "h:9100"}, {"job", "node"}, {"__name__", "up"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Hash(), b.Hash());
  Labels c;
  ASSERT_TRUE(Labels::FromBytes(a.bytes(), &c).ok());
  EXPECT_EQ(c, a);
  std::vector<std::string> names;
  a.ForEach([&](std::string_view n, std::string_view) { names.emplace_back(n); });
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "instance", "job"}));
}

TEST(Labels, OrderingAsPrometheus) {
  EXPECT_LT(L({{"a", "1"}}), L({{"a", "2"}}));
  EXPECT_LT(L({{"a", "1"}}), L({{"a", "1"}, {"b", "1"}}));
  EXPECT_LT(L({{"a", "9"}, {"b", "1"}}), L({{"b", "0"}}));
  EXPECT_FALSE(L({{"a", "1"}}) < L({{"a", "1"}}));
}

TEST(Labels, ErrorsNameTheLabel) {
  Labels l;
  Status st = Labels::FromPairs({{"9lives", "x"}}, &l);
  EXPECT_NE(st.message().find("invalid label name \"9lives\""), std::string_view::npos);
  st = Labels::FromPairs({{"a", "1"}, {"a", "2"}}, &l);
  EXPECT_NE(st.message().find("\"a\" given more than once"), std::string_view::npos);
  st = Labels::FromPairs({{"a", std::string("\xc3\x28")}}, &l);
  EXPECT_NE(st.message().find("not UTF-8"), std::string_view::npos);
  EXPECT_TRUE(Labels::FromPairs({{"a", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x94\x94"}}, &l).ok());
  EXPECT_FALSE(Labels::FromBytes(std::string("\x05\0\0\0ab", 6), &l).ok());
}

TEST(Matcher, PrometheusSemantics) {
  Matcher m;
  ASSERT_TRUE(Matcher::Make(Matcher::Type::kRegexp, "job", "api|web", &m).ok());
  EXPECT_TRUE(m.Matches("api"));
  EXPECT_FALSE(m.Matches("xapi"));  // fully anchored
  EXPECT_FALSE(m.MatchesEmpty());
  ASSERT_TRUE(Matcher::Make(Matcher::Type::kRegexp, "x", "a.b", &m).ok());
  EXPECT_TRUE(m.Matches("a\nb"));  // . matches newline, as Prometheus's (?s)
  ASSERT_TRUE(Matcher::Make(Matcher::Type::kNotRegexp, "env", "prod.*", &m).ok());
  EXPECT_TRUE(m.Matches("dev"));
  EXPECT_TRUE(m.MatchesEmpty());
  ASSERT_TRUE(Matcher::Make(Matcher::Type::kNotEqual, "env", "", &m).ok());
  EXPECT_FALSE(m.MatchesEmpty());
  EXPECT_EQ(m.ToString(), "env!=\"\"");
  Status st = Matcher::Make(Matcher::Type::kRegexp, "x", "(unclosed", &m);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("invalid regular expression \"(unclosed\""), std::string_view::npos);
}

}  // namespace
}  // namespace tocsin::labels
