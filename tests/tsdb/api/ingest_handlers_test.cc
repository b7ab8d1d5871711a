#include "tsdb/api/ingest_handlers.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include "common/expfmt/parser.h"
#include "common/http/gzip.h"
#include "tsdb/remote/write_request.h"

namespace tocsin::tsdb::api {
namespace {

http::Request Post(std::string body, http::HeaderList headers = {}) {
  http::Request r;
  r.method = "POST";
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string Snappy(const std::string& s) {
  std::string out;
  snappy::Compress(s.data(), s.size(), &out);
  return out;
}

TEST(IngestHandlers, RemoteWrite) {
  Head head;
  IngestHandlers h(&head, {.max_decoded_bytes = 4096});
  std::string proto;
  remote::EncodeTimeSeries({{"__name__", "up"}, {"job", "node"}}, {{1, 1000}, {1, 2000}}, &proto);
  http::Response r = h.Write(Post(Snappy(proto)));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(head.Stats().samples_appended, 2u);
  // Resending the newest sample with the same value is accepted (and stored once).
  std::string again;
  remote::EncodeTimeSeries({{"__name__", "up"}, {"job", "node"}}, {{1, 2000}}, &again);
  EXPECT_EQ(h.Write(Post(Snappy(again))).status, 204);
  // Older samples are refused with what and where.
  std::string old;
  remote::EncodeTimeSeries({{"__name__", "up"}, {"job", "node"}}, {{0, 500}}, &old);
  r = h.Write(Post(Snappy(old)));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("out_of_order sample for series up{job=\"node\"} at timestamp 500"),
            std::string::npos)
      << r.body;
  r = h.Write(Post("not snappy at all"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("snappy"), std::string::npos);
  std::string big;
  for (int i = 0; i < 200; ++i)
    remote::EncodeTimeSeries({{"__name__", "m" + std::to_string(i)}}, {{1, 1}}, &big);
  EXPECT_EQ(h.Write(Post(Snappy(big))).status, 413);
  http::Request get = Post("");
  get.method = "GET";
  EXPECT_EQ(h.Write(get).status, 405);
  EXPECT_EQ(head.Stats().samples_appended, 2u);  // nothing else got in
}

TEST(IngestHandlers, ImportTextWithTimestamps) {
  Head head;
  IngestHandlers h(&head, {});
  http::Response r = h.Import(Post(
      "# HELP x help\n# TYPE x gauge\nx{a=\"1\"} 5 1700000000000\nx{a=\"2\"} 6 1700000000000\n"));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(head.Stats().samples_appended, 2u);
  // A parse error rejects the whole request and names the line.
  r = h.Import(Post("y 1 1700000000000\ny{ 2\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("line 2"), std::string::npos) << r.body;
  EXPECT_EQ(head.Stats().samples_appended, 2u);
  std::string z;
  ASSERT_TRUE(http::GzipCompress("z 7 1700000000000\n", &z).ok());
  EXPECT_EQ(h.Import(Post(z, {{"content-encoding", "gzip"}})).status, 204);
  EXPECT_EQ(head.Stats().samples_appended, 3u);
  EXPECT_EQ(h.Import(Post("garbage", {{"content-encoding", "gzip"}})).status, 400);
}

TEST(IngestHandlers, ImportRepeatedSeriesUsesOneLookup) {
  Head head;
  IngestHandlers h(&head, {});
  // The same series text at three times, then once out of order: the cached reference path
  // applies the same rules as the first append.
  http::Response r = h.Import(
      Post("m{a=\"1\"} 1 1000\nm{a=\"1\"} 2 2000\nm{a=\"1\"} 3 3000\nm{a=\"1\"} 9 2500\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("1 samples rejected (3 stored); first: line 4: out_of_order sample"),
            std::string::npos)
      << r.body;
  HeadStats st = head.Stats();
  EXPECT_EQ(st.series, 1u);
  EXPECT_EQ(st.samples_appended, 3u);
}

TEST(IngestHandlers, MetricsParse) {
  Head head;
  IngestHandlers h(&head, {});
  h.Import(Post("x 1 1000\nx 2 500\n"));  // the second is out of order
  http::Response r = h.Metrics(http::Request());
  expfmt::Parser p(r.body);
  expfmt::Parser::Entry e;
  bool saw = false;
  while (p.Next(&e)) {
    if (e == expfmt::Parser::Entry::kSample &&
        p.metric_name() == "tocsin_tsdb_samples_rejected_total" &&
        p.label_value(0) == "out_of_order") {
      EXPECT_EQ(p.value(), 1);
      saw = true;
    }
  }
  EXPECT_TRUE(p.status().ok());
  EXPECT_TRUE(saw);
}

}  // namespace
}  // namespace tocsin::tsdb::api
