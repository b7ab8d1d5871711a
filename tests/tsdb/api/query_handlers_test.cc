#include "tsdb/api/query_handlers.h"

#include <gtest/gtest.h>

#include "tsdb/storage/head.h"

namespace tocsin::tsdb::api {
namespace {

http::Request Get(std::string path, http::HeaderList query) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto app = head_.NewAppender();
    for (int i = 0; i <= 10; ++i) {
      labels::Labels a, b;
      ASSERT_TRUE(labels::Labels::FromPairs({{"__name__", "req_total"}, {"job", "api"}}, &a).ok());
      ASSERT_TRUE(labels::Labels::FromPairs({{"__name__", "req_total"}, {"job", "web"}}, &b).ok());
      app->Append(a, i * 15000, i * 30.0);
      app->Append(b, i * 15000, i * 15.0);
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  Head head_;
  QueryHandlers q_{&head_, {}};
};

TEST_F(QueryTest, ResultShapesAsPrometheus) {
  EXPECT_EQ(q_.Query(Get("/api/v1/query", {{"query", "1+1"}, {"time", "100"}})).body,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[100,\"2\"]}}");
  EXPECT_EQ(
      q_.Query(Get("/api/v1/query", {{"query", "\"hi\""}, {"time", "1.5"}})).body,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1.500,\"hi\"]}}");
  EXPECT_EQ(q_.Query(Get("/api/v1/query",
                         {{"query", "sum by (job) (rate(req_total[1m]))"}, {"time", "150"}}))
                .body,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            "{\"metric\":{\"job\":\"api\"},\"value\":[150,\"2\"]},"
            "{\"metric\":{\"job\":\"web\"},\"value\":[150,\"1\"]}]}}");
  EXPECT_EQ(q_.QueryRange(Get("/api/v1/query_range", {{"query", "req_total{job=\"web\"} / 15"},
                                                      {"start", "0"},
                                                      {"end", "30"},
                                                      {"step", "15s"}}))
                .body,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
            "{\"metric\":{\"job\":\"web\"},\"values\":[[0,\"0\"],[15,\"1\"],[30,\"2\"]]}]}}");
  // An instant query of a range vector returns its raw samples.
  std::string body =
      q_.Query(Get("/api/v1/query", {{"query", "req_total{job=\"api\"}[30s]"}, {"time", "30"}}))
          .body;
  EXPECT_NE(body.find("\"values\":[[0,\"0\"],[15,\"30\"],[30,\"60\"]]"), std::string::npos) << body;
}

TEST_F(QueryTest, ErrorsUsePrometheusTypesAndCodes) {
  http::Response r = q_.Query(Get("/api/v1/query", {{"query", "sum(("}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"errorType\":\"bad_data\""), std::string::npos);
  EXPECT_NE(r.body.find("invalid parameter \\\"query\\\": 1:"), std::string::npos) << r.body;
  r = q_.QueryRange(
      Get("/api/v1/query_range", {{"query", "up"}, {"start", "10"}, {"end", "0"}, {"step", "1"}}));
  EXPECT_EQ(r.status, 400);
  r = q_.QueryRange(Get("/api/v1/query_range",
                        {{"query", "up"}, {"start", "0"}, {"end", "100000"}, {"step", "1"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("11,000 points"), std::string::npos);
  r = q_.QueryRange(Get("/api/v1/query_range",
                        {{"query", "up[5m]"}, {"start", "0"}, {"end", "10"}, {"step", "1"}}));
  EXPECT_EQ(r.status, 400);
  // Many-to-many matching is an execution error (422), as in Prometheus.
  r = q_.Query(Get("/api/v1/query", {{"query", "req_total + on() req_total"}, {"time", "30"}}));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("\"errorType\":\"execution\""), std::string::npos);
}

TEST(QueryJson, TimestampsAndValues) {
  std::string s;
  AppendTimestamp(&s, 1435781451781);
  EXPECT_EQ(s, "1435781451.781");
  s.clear();
  AppendTimestamp(&s, 1005);
  EXPECT_EQ(s, "1.005");
  s.clear();
  AppendSampleValue(&s, 1e21);
  EXPECT_EQ(s, "\"1000000000000000000000\"");
  s.clear();
  AppendSampleValue(&s, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(s, "\"-Inf\"");
}

}  // namespace
}  // namespace tocsin::tsdb::api
