#include "tsdb/api/metadata_handlers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "tsdb/api/api_util.h"

namespace tocsin::tsdb::api {
namespace {

http::Request Get(std::string path, http::HeaderList query = {}) {
  http::Request r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

labels::Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  labels::Labels l;
  EXPECT_TRUE(labels::Labels::FromPairs(std::move(pairs), &l).ok());
  return l;
}

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto app = head_.NewAppender();
    app->Append(L({{"__name__", "up"}, {"job", "node"}, {"instance", "a:9100"}}), 1000, 1);
    app->Append(L({{"__name__", "up"}, {"job", "tsdb"}, {"instance", "b:9090"}}), 1000, 1);
    app->Append(L({{"__name__", "node_load1"}, {"job", "node"}, {"instance", "a:9100"}}), 5000,
                0.5);
    ASSERT_TRUE(app->Commit().ok());
  }
  Head head_;
  MetadataHandlers h_{&head_,
                      {.admin_enabled = false, .snapshot_dir = "", .version = "t", .flags = {}}};
};

TEST_F(MetadataTest, SeriesByMatchAndTime) {
  http::Response r = h_.Series(Get("/api/v1/series", {{"match[]", "up"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"instance\":\"a:9100\","
            "\"job\":\"node\"},{\"__name__\":\"up\",\"instance\":\"b:9090\",\"job\":\"tsdb\"}]}");
  // Two match[] are a union; a time range leaves out series without samples in it.
  r = h_.Series(Get("/api/v1/series", {{"match[]", "up{job=\"tsdb\"}"},
                                       {"match[]", "{instance=\"a:9100\"}"},
                                       {"start", "4"},
                                       {"end", "1970-01-01T00:00:06Z"}}));
  EXPECT_EQ(r.body,
            "{\"status\":\"success\",\"data\":[{\"__name__\":\"node_load1\",\"instance\":\"a:"
            "9100\",\"job\":\"node\"}]}");
}

TEST_F(MetadataTest, LabelsAndValues) {
  EXPECT_EQ(h_.Labels(Get("/api/v1/labels")).body,
            "{\"status\":\"success\",\"data\":[\"__name__\",\"instance\",\"job\"]}");
  EXPECT_EQ(h_.LabelValues(Get("/api/v1/label/job/values")).body,
            "{\"status\":\"success\",\"data\":[\"node\",\"tsdb\"]}");
  EXPECT_EQ(
      h_.LabelValues(Get("/api/v1/label/__name__/values", {{"match[]", "{job=\"node\"}"}})).body,
      "{\"status\":\"success\",\"data\":[\"node_load1\",\"up\"]}");
  EXPECT_EQ(h_.LabelValues(Get("/api/v1/label/nope/values")).body,
            "{\"status\":\"success\",\"data\":[]}");
}

TEST_F(MetadataTest, BadRequestsGetPrometheusErrors) {
  http::Response r = h_.Series(Get("/api/v1/series"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"no match[] parameter "
            "provided\"}");
  r = h_.Series(Get("/api/v1/series", {{"match[]", "up{"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("1:4: parse error"), std::string::npos) << r.body;
  r = h_.Series(Get("/api/v1/series", {{"match[]", "up"}, {"start", "yesterday"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid parameter \\\"start\\\""), std::string::npos) << r.body;
  r = h_.Series(Get("/api/v1/series", {{"match[]", "up"}, {"start", "10"}, {"end", "5"}}));
  EXPECT_EQ(r.status, 400);
  r = h_.LabelValues(Get("/api/v1/label/1bad/values"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid label name"), std::string::npos);
  // Admin endpoints are off unless enabled.
  http::Request post = Get("/api/v1/admin/tsdb/delete_series", {{"match[]", "up"}});
  post.method = "POST";
  r = h_.DeleteSeries(post);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("admin APIs disabled"), std::string::npos);
}

TEST_F(MetadataTest, CardinalityView) {
  http::Response r = h_.StatusTsdb(Get("/api/v1/status/tsdb", {{"limit", "1"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"numSeries\":3"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"seriesCountByMetricName\":[{\"name\":\"up\",\"value\":2}]"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"labelValueCountByLabelName\":[{\"name\":\"__name__\",\"value\":2}]"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"maxTime\":5000"), std::string::npos) << r.body;
}

TEST_F(MetadataTest, DeleteSeriesWhenEnabled) {
  MetadataHandlers admin(&head_,
                         {.admin_enabled = true, .snapshot_dir = "", .version = "t", .flags = {}});
  http::Request post = Get("/api/v1/admin/tsdb/delete_series", {{"match[]", "up{job=\"tsdb\"}"}});
  post.method = "POST";
  EXPECT_EQ(admin.DeleteSeries(post).status, 204);
  EXPECT_EQ(h_.Series(Get("/api/v1/series", {{"match[]", "up"}})).body,
            "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"instance\":\"a:9100\","
            "\"job\":\"node\"}]}");
  // Part of a time range cannot be deleted: said, not silently widened.
  post.query.emplace_back("start", "100");
  http::Response r = admin.DeleteSeries(post);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("not supported"), std::string::npos);
}

TEST_F(MetadataTest, ExportWritesJsonLines) {
  auto app = head_.NewAppender();
  app->Append(L({{"__name__", "up"}, {"job", "node"}, {"instance", "a:9100"}}), 2000, 0);
  app->Append(L({{"__name__", "up"}, {"job", "node"}, {"instance", "a:9100"}}), 3000,
              std::numeric_limits<double>::quiet_NaN());
  ASSERT_TRUE(app->Commit().ok());
  http::Response r = h_.Export(Get("/api/v1/export", {{"match[]", "up{job=\"node\"}"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"metric\":{\"__name__\":\"up\",\"instance\":\"a:9100\",\"job\":\"node\"},"
            "\"values\":[1,0,\"NaN\"],\"timestamps\":[1000,2000,3000]}\n");
  // A time range narrows the samples; no match[] is an error.
  r = h_.Export(Get("/api/v1/export", {{"match[]", "up"}, {"start", "1.5"}, {"end", "2"}}));
  EXPECT_NE(r.body.find("\"values\":[0],\"timestamps\":[2000]"), std::string::npos) << r.body;
  EXPECT_EQ(h_.Export(Get("/api/v1/export")).status, 400);
}

TEST_F(MetadataTest, FormatQuery) {
  http::Response r =
      h_.FormatQuery(Get("/api/v1/format_query", {{"query", "SUM(rate(x[5m])) BY (job)"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"success\",\"data\":\"sum by (job) (rate(x[5m]))\"}");
  r = h_.FormatQuery(Get("/api/v1/format_query", {{"query", "rate(x)"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("expected type range vector"), std::string::npos) << r.body;
}

TEST(ApiUtil, TimesAndJson) {
  TimestampMs t;
  ASSERT_TRUE(ParseApiTime("1700000000.123", &t));
  EXPECT_EQ(t, 1700000000123);
  ASSERT_TRUE(ParseApiTime("2023-11-14T22:13:20.5Z", &t));
  EXPECT_EQ(t, 1700000000500);
  ASSERT_TRUE(ParseApiTime("2023-11-14T23:13:20+01:00", &t));
  EXPECT_EQ(t, 1700000000000);
  EXPECT_FALSE(ParseApiTime("2023-11-14", &t));
  EXPECT_FALSE(ParseApiTime("NaN", &t));
  int64_t ms;
  ASSERT_TRUE(ParseApiDuration("1m30s", &ms));
  EXPECT_EQ(ms, 90000);
  ASSERT_TRUE(ParseApiDuration("0.25", &ms));
  EXPECT_EQ(ms, 250);
  std::string s;
  AppendJsonString(&s, std::string("a\"b\\c\n<\x01\xff", 9));
  EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\u003c\\u0001\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace tocsin::tsdb::api
