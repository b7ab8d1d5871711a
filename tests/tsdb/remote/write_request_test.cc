#include "tsdb/remote/write_request.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <bit>
#include <cmath>
#include <limits>

#include "tsdb/remote/ingest.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb::remote {
namespace {

std::string Body(const std::string& proto) {
  std::string out;
  snappy::Compress(proto.data(), proto.size(), &out);
  return out;
}

std::string TwoSeries() {
  std::string proto;
  EncodeTimeSeries({{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}},
                   {{1, 1700000000000}, {0, 1700000015000}}, &proto);
  EncodeTimeSeries({{"__name__", "temp"}},
                   {{-3.5, -1000}, {std::numeric_limits<double>::infinity(), 0}}, &proto);
  return proto;
}

TEST(WriteRequest, DecodesSeriesLabelsAndSamples) {
  WriteRequest req;
  ASSERT_TRUE(req.Decode(Body(TwoSeries()), 1 << 20).ok());
  ASSERT_EQ(req.num_series(), 2u);
  EXPECT_EQ(req.num_samples(), 4u);
  const TimeSeries& a = req.series()[0];
  ASSERT_EQ(a.labels.size(), 3u);
  EXPECT_EQ(a.labels[1].name, "instance");
  EXPECT_EQ(a.labels[1].value, "a:9100");
  EXPECT_EQ(a.samples[1].value, 0);  // omitted default
  EXPECT_EQ(a.samples[1].timestamp_ms, 1700000015000);
  const TimeSeries& b = req.series()[1];
  EXPECT_EQ(b.samples[0].timestamp_ms, -1000);  // negative: a 10-byte varint
  EXPECT_EQ(b.samples[0].value, -3.5);
  EXPECT_TRUE(std::isinf(b.samples[1].value));
  EXPECT_EQ(b.samples[1].timestamp_ms, 0);
  // The object is reused: a second decode replaces the first.
  std::string one;
  EncodeTimeSeries({{"__name__", "x"}}, {{2, 5}}, &one);
  ASSERT_TRUE(req.Decode(Body(one), 1 << 20).ok());
  EXPECT_EQ(req.num_series(), 1u);
}

TEST(WriteRequest, SkipsUnknownFields) {
  // Metadata (field 3), a fixed32 field 9 and a varint field 10 at the top level.
  std::string proto = TwoSeries() + std::string("\x1a\x02\x08\x01", 4) +
                      std::string("\x4d\x01\x02\x03\x04", 5) + std::string("\x50\x07", 2);
  WriteRequest req;
  Status st = req.DecodeProto(proto);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(req.num_series(), 2u);
}

TEST(WriteRequest, ErrorsSayWhatAndWhere) {
  WriteRequest req;
  struct Case {
    std::string body;
    const char* want;
  };
  std::string proto = TwoSeries();
  const Case cases[] = {
      {std::string("\xff\x06\x00\x00sNaPpY", 10) + "xx", "framed stream format"},
      {"\xff\xff\xff\xff\xff\xff", "snappy: corrupt input"},
      {Body(proto).substr(0, 10), "snappy: corrupt input"},
  };
  for (const Case& c : cases) {
    Status st = req.Decode(c.body, 1 << 20);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find(c.want), std::string_view::npos) << st.ToString();
  }
  Status st = req.Decode(Body(proto), 10);
  EXPECT_EQ(st.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(st.message().find("exceeds the limit of 10"), std::string_view::npos);
  st = req.DecodeProto(proto.substr(0, proto.size() - 3));
  EXPECT_NE(st.message().find("runs past the end"), std::string_view::npos) << st.ToString();
  st = req.DecodeProto(std::string("\x08\x01", 2));  // field 1 as a varint
  EXPECT_NE(st.message().find("field 1 has wire type 0, want 2 at byte"), std::string_view::npos)
      << st.ToString();
  std::string nameless;
  EncodeTimeSeries({{"", "v"}}, {{1, 1}}, &nameless);
  st = req.DecodeProto(nameless);
  EXPECT_NE(st.message().find("label without a name"), std::string_view::npos) << st.ToString();
  st = req.DecodeProto(std::string("\x0a\x80", 2));
  EXPECT_NE(st.message().find("truncated varint at byte 2"), std::string_view::npos)
      << st.ToString();
}

TEST(Ingest, AppendsValidSamplesAndReportsTheRest) {
  Head head;
  std::string proto = TwoSeries();
  // Older than this series' newest sample in the same request: out of order.
  EncodeTimeSeries({{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}},
                   {{5, 1700000000000}}, &proto);
  EncodeTimeSeries({{"9bad", "x"}, {"__name__", "y"}}, {{1, 1}}, &proto);
  EncodeTimeSeries({{"job", "nameless"}}, {{1, 1}}, &proto);
  WriteRequest req;
  ASSERT_TRUE(req.DecodeProto(proto).ok());
  auto app = head.NewAppender();
  IngestResult r;
  ASSERT_TRUE(Ingest(req, app.get(), &r).ok());
  EXPECT_EQ(r.appended, 4u);
  EXPECT_EQ(r.rejected[static_cast<int>(AppendError::kOutOfOrder)], 1u);
  EXPECT_EQ(r.rejected[static_cast<int>(AppendError::kInvalidLabels)], 2u);
  EXPECT_EQ(r.total_rejected(), 3u);
  EXPECT_NE(
      r.first_error.find("out_of_order sample for series up{instance=\"a:9100\", job=\"node\"}"),
      std::string::npos)
      << r.first_error;
  EXPECT_EQ(head.Stats().samples_appended, 4u);
}

}  // namespace
}  // namespace tocsin::tsdb::remote
