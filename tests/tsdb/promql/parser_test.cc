#include "tsdb/promql/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base/strings.h"

namespace tocsin::promql {
namespace {

std::string Canonical(const std::string& in) {
  NodePtr n;
  Status st = ParseExpr(in, &n);
  EXPECT_TRUE(st.ok()) << in << ": " << st.ToString();
  return st.ok() ? n->String() : "";
}

TEST(PromqlParser, PrecedenceAssociativityAndCanonicalForm) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"1 + 2 * 3", "1 + 2 * 3"},
      {"-2 ^ 2", "-2 ^ 2"},
      {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2"},
      {"sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))",
       "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m]))"},
      {"sum(rate(x[5m])) without (instance)", "sum without (instance) (rate(x[5m]))"},
      {"topk(3, x)", "topk(3, x)"},
      {"count_values(\"v\", x)", "count_values(\"v\", x)"},
      {"a / on(job) group_left(team) b", "a / on(job) group_left(team) b"},
      {"a > bool 1", "a > bool 1"},
      {"a and ignoring(x) b", "a and ignoring(x) b"},
      {"x offset 5m", "x offset 5m"},
      {"x offset -1h30m", "x offset -1h30m"},
      {"x[5m] offset 1w", "x[5m] offset 1w"},
      {"x @ 100", "x @ 100.000"},
      {"x @ start()", "x @ start()"},
      {"rate(x[5m])[30m:1m]", "rate(x[5m])[30m:1m]"},
      {"max_over_time(deriv(rate(x[1m])[5m:])[10m:])",
       "max_over_time(deriv(rate(x[1m])[5m:])[10m:])"},
      {"{__name__=~\"job:.*\"}", "{__name__=~\"job:.*\"}"},
      {"1e3", "1000"},
      {"0x10", "16"},
      {"Inf", "Inf"},
      {"-Inf", "-Inf"},
      {"  # comment only line\n up # trailing", "up"},
      {"'single' ", "\"single\""},
      {"vector(time())", "vector(time())"},
      {"label_join(up, \"a\", \",\", \"b\", \"c\")", "label_join(up, \"a\", \",\", \"b\", \"c\")"},
      {"round(x)", "round(x)"},
      {"hour()", "hour()"},
      {"(a + b) * c", "(a + b) * c"},
      {"a - - b", "a - -b"},
      {"a atan2 b", "a atan2 b"},
  };
  for (const auto& c : cases) EXPECT_EQ(Canonical(c.in), c.want) << c.in;
}

TEST(PromqlParser, TypeAndSyntaxErrorsSayWhatAndWhere) {
  struct Case {
    std::string in, want;
  } cases[] = {
      {"rate(x)",
       "1:6: parse error: expected type range vector in call to function \"rate\", got instant "
       "vector"},
      {"sum(x[5m])", "expected type instant vector in aggregation expression, got range vector"},
      {"topk(x, y)", "expected type scalar in aggregation parameter, got instant vector"},
      {"1 > 2", "comparisons between scalars must use BOOL modifier"},
      {"1 and 2", "set operator \"and\" not allowed in binary scalar expression"},
      {"a + bool b", "bool modifier can only be used on comparison operators"},
      {"a and on(x) group_left b", "no grouping allowed for \"and\" operation"},
      {"x[5m][5m]", "ranges only allowed for vector selectors"},
      {"sum(x) offset 5m", "offset modifier must be preceded by an instant vector selector"},
      {"x offset 5m offset 1m", "offset may not be set multiple times"},
      {"foo(x)", "unknown function with name \"foo\""},
      {"rate(x[5m], 1)", "expected 1 argument(s) in call to \"rate\", got 2"},
      {"x[5m:1m", "1:8: parse error: unexpected end of input in subquery"},
      {"(x", "unexpected end of input in paren expression"},
      {"x{a=\"b\"", "unexpected end of input in label matching"},
      {"{}", "vector selector must contain at least one non-empty matcher"},
      {"x y", "1:3: parse error: unexpected identifier \"y\""},
      {"5x", "bad number or duration syntax"},
      {"x[5]", "expected duration"},
      {"\"unterminated", "unterminated quoted string"},
      {"x{a=~\"(\"}", "invalid regular expression"},
      {"rate(x[5m])[5m]", "ranges only allowed for vector selectors"},
      {"x[1m:] [1m]", "ranges only allowed for vector selectors"},
      {"$", "unexpected character: '$'"},
  };
  for (const auto& c : cases) {
    NodePtr n;
    Status st = ParseExpr(c.in, &n);
    ASSERT_FALSE(st.ok()) << c.in << " parsed as " << (n ? n->String() : "");
    EXPECT_NE(st.message().find(c.want), std::string_view::npos)
        << c.in << " gave: " << st.message();
  }
}

// Every query in Prometheus 2.42's own PromQL test files parses (those marked eval_fail may fail
// here or at evaluation), and prints in a form that parses to the same canonical form.
TEST(PromqlParser, PrometheusTestFilesParse) {
  std::string dir = std::string(TOCSIN_CONFORMANCE) + "/promql/v2.42.0";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " not present";
  int parsed = 0, fail_cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(entry.path());
    std::string line;
    int line_no = 0;
    while (std::getline(f, line)) {
      ++line_no;
      std::string_view t = TrimSpace(line);
      if (!StartsWith(t, "eval")) continue;
      size_t at = t.find(" at ");
      if (at == std::string_view::npos) continue;
      std::string_view rest = TrimSpace(t.substr(at + 4));
      size_t sp = rest.find(' ');
      std::string query(TrimSpace(rest.substr(sp + 1)));
      bool must_fail = StartsWith(t, "eval_fail");
      NodePtr n;
      Status st = ParseExpr(query, &n);
      if (must_fail) {
        ++fail_cases;
        continue;
      }
      ASSERT_TRUE(st.ok()) << entry.path().filename() << ":" << line_no << ": " << query << ": "
                           << st.ToString();
      NodePtr again;
      std::string printed = n->String();
      ASSERT_TRUE(ParseExpr(printed, &again).ok()) << query << " printed as " << printed;
      EXPECT_EQ(again->String(), printed) << query;
      ++parsed;
    }
  }
  EXPECT_GT(parsed, 500);
  std::printf(
      "parsed %d queries of Prometheus 2.42's test files (%d eval_fail cases not required)\n",
      parsed, fail_cases);
}

}  // namespace
}  // namespace tocsin::promql
