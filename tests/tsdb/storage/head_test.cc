#include "tsdb/storage/head.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace tocsin::tsdb {
namespace {

using labels::Labels;
using labels::Matcher;

HeadOptions ChunkOpts(int samples_per_chunk) {
  HeadOptions o;
  o.samples_per_chunk = samples_per_chunk;
  return o;
}

Labels L(std::vector<std::pair<std::string, std::string>> p) {
  Labels l;
  EXPECT_TRUE(Labels::FromPairs(std::move(p), &l).ok());
  return l;
}

Matcher M(Matcher::Type t, std::string n, std::string v) {
  Matcher m;
  EXPECT_TRUE(Matcher::Make(t, std::move(n), std::move(v), &m).ok());
  return m;
}

struct Got {
  std::string labels;
  std::vector<std::pair<TimestampMs, double>> samples;
};

std::vector<Got> Query(Head& h, TimestampMs mint, TimestampMs maxt, std::vector<Matcher> ms) {
  auto q = h.NewQuerier();
  std::unique_ptr<SeriesSet> set;
  EXPECT_TRUE(q->Select(mint, maxt, ms, &set).ok());
  std::vector<Got> out;
  while (set->Next()) {
    Got g{set->labels().ToString(), {}};
    auto it = set->Iterator();
    while (it->Next()) g.samples.emplace_back(it->t(), it->v());
    EXPECT_TRUE(it->status().ok());
    out.push_back(std::move(g));
  }
  return out;
}

TEST(Head, AppendAcrossChunkClosesAndQueryRanges) {
  Head h(ChunkOpts(100));
  auto app = h.NewAppender();
  for (int i = 0; i < 1000; ++i) {
    TimestampMs t = 1'000'000 + i * 15'000;
    ASSERT_EQ(
        app->Append(L({{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}, {"mode", "idle"}}), t,
                    i * 1.25),
        AppendError::kNone);
    ASSERT_EQ(
        app->Append(L({{"__name__", "node_cpu_seconds_total"}, {"cpu", "1"}, {"mode", "idle"}}), t,
                    i * 2.5),
        AppendError::kNone);
    if (i % 100 == 99) {
      ASSERT_TRUE(app->Commit().ok());
    }
  }
  HeadStats st = h.Stats();
  EXPECT_EQ(st.series, 2u);
  EXPECT_EQ(st.samples_appended, 2000u);
  EXPECT_EQ(st.chunks_closed, 20u);
  // A range inside one chunk, a range across chunks, and the whole span.
  auto got = Query(h, 1'000'000 + 150 * 15'000, 1'000'000 + 160 * 15'000,
                   {M(Matcher::Type::kEqual, "__name__", "node_cpu_seconds_total")});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, "node_cpu_seconds_total{cpu=\"0\", mode=\"idle\"}");
  ASSERT_EQ(got[0].samples.size(), 11u);
  EXPECT_EQ(got[0].samples.front().second, 150 * 1.25);
  EXPECT_EQ(got[1].samples.back().second, 160 * 2.5);
  got = Query(h, 0, INT64_MAX, {M(Matcher::Type::kEqual, "cpu", "1")});
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(got[0].samples[static_cast<size_t>(i)].second, i * 2.5);
  EXPECT_TRUE(Query(h, 0, 999'999, {M(Matcher::Type::kEqual, "cpu", "1")}).empty());
}

TEST(Head, MatchersAsPrometheus) {
  Head h;
  auto app = h.NewAppender();
  app->Append(L({{"__name__", "up"}, {"job", "api"}, {"env", "prod"}}), 1, 1);
  app->Append(L({{"__name__", "up"}, {"job", "web"}}), 1, 1);
  app->Append(L({{"__name__", "up"}, {"job", "db"}, {"env", "dev"}}), 1, 0);
  ASSERT_TRUE(app->Commit().ok());
  auto names = [&](std::vector<Matcher> ms) {
    std::vector<std::string> out;
    for (auto& g : Query(h, 0, 10, std::move(ms))) out.push_back(g.labels);
    return out;
  };
  auto up = M(Matcher::Type::kEqual, "__name__", "up");
  EXPECT_EQ(names({up, M(Matcher::Type::kRegexp, "job", "api|db")}).size(), 2u);
  // env!="prod" keeps series without env, as Prometheus does.
  EXPECT_EQ(names({up, M(Matcher::Type::kNotEqual, "env", "prod")}),
            (std::vector<std::string>{"up{env=\"dev\", job=\"db\"}", "up{job=\"web\"}"}));
  // env="" selects series without the label.
  EXPECT_EQ(names({up, M(Matcher::Type::kEqual, "env", "")}),
            (std::vector<std::string>{"up{job=\"web\"}"}));
  EXPECT_EQ(names({up, M(Matcher::Type::kNotRegexp, "job", "a.*|w.*")}),
            (std::vector<std::string>{"up{env=\"dev\", job=\"db\"}"}));
  EXPECT_TRUE(names({M(Matcher::Type::kEqual, "__name__", "nope")}).empty());

  auto q = h.NewQuerier();
  std::vector<std::string> v;
  ASSERT_TRUE(q->LabelNames({}, &v).ok());
  EXPECT_EQ(v, (std::vector<std::string>{"__name__", "env", "job"}));
  ASSERT_TRUE(q->LabelValues("job", {}, &v).ok());
  EXPECT_EQ(v, (std::vector<std::string>{"api", "db", "web"}));
  std::vector<Matcher> has_env = {M(Matcher::Type::kNotEqual, "env", "")};
  ASSERT_TRUE(q->LabelValues("job", has_env, &v).ok());
  EXPECT_EQ(v, (std::vector<std::string>{"api", "db"}));
}

TEST(Head, RejectionsAreCountedByReason) {
  Head h;
  auto app = h.NewAppender();
  Labels s = L({{"__name__", "x"}});
  EXPECT_EQ(app->Append(s, 100, 1), AppendError::kNone);
  EXPECT_EQ(app->Append(s, 100, 1), AppendError::kNone);  // identical: accepted, stored once
  EXPECT_EQ(app->Append(s, 100, 2), AppendError::kDuplicate);
  EXPECT_EQ(app->Append(s, 99, 1), AppendError::kOutOfOrder);
  EXPECT_EQ(app->Append(L({{"job", "no name"}}), 100, 1), AppendError::kInvalidLabels);
  ASSERT_TRUE(app->Commit().ok());
  // After the commit, the stored sample is the reference.
  EXPECT_EQ(app->Append(s, 50, 1), AppendError::kOutOfOrder);
  const double stale = std::bit_cast<double>(uint64_t{0x7ff0000000000002});
  EXPECT_EQ(app->Append(s, 200, stale), AppendError::kNone);  // staleness markers are samples
  ASSERT_TRUE(app->Commit().ok());
  HeadStats st = h.Stats();
  EXPECT_EQ(st.samples_appended, 2u);
  EXPECT_EQ(st.rejected[static_cast<int>(AppendError::kDuplicate)], 1u);
  EXPECT_EQ(st.rejected[static_cast<int>(AppendError::kOutOfOrder)], 2u);
  EXPECT_EQ(st.rejected[static_cast<int>(AppendError::kInvalidLabels)], 1u);
  auto got = Query(h, 0, 1000, {M(Matcher::Type::kEqual, "__name__", "x")});
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 2u);
  EXPECT_EQ(std::bit_cast<uint64_t>(got[0].samples[1].second), uint64_t{0x7ff0000000000002});
}

TEST(Head, RollbackDiscardsAndSeekFindsSamples) {
  Head h(ChunkOpts(10));
  auto app = h.NewAppender();
  Labels s = L({{"__name__", "x"}});
  for (int i = 0; i < 50; ++i) app->Append(s, i * 10, i);
  app->Rollback();
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(h.Stats().samples_appended, 0u);
  for (int i = 0; i < 50; ++i) app->Append(s, i * 10, i);
  ASSERT_TRUE(app->Commit().ok());
  auto q = h.NewQuerier();
  std::unique_ptr<SeriesSet> set;
  std::vector<Matcher> ms = {M(Matcher::Type::kEqual, "__name__", "x")};
  ASSERT_TRUE(q->Select(100, 400, ms, &set).ok());
  ASSERT_TRUE(set->Next());
  auto it = set->Iterator();
  ASSERT_TRUE(it->Seek(255));
  EXPECT_EQ(it->t(), 260);
  EXPECT_EQ(it->v(), 26);
  ASSERT_TRUE(it->Seek(260));   // already there
  EXPECT_FALSE(it->Seek(401));  // beyond the selected range
}

TEST(Head, ConcurrentAppendersAndQueriers) {
  Head h(ChunkOpts(50));
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::vector<Matcher> ms = {M(Matcher::Type::kRegexp, "__name__", "m.*")};
    while (!done.load()) {
      auto q = h.NewQuerier();
      std::unique_ptr<SeriesSet> set;
      ASSERT_TRUE(q->Select(0, INT64_MAX, ms, &set).ok());
      while (set->Next()) {
        auto it = set->Iterator();
        TimestampMs prev = -1;
        while (it->Next()) {
          ASSERT_GT(it->t(), prev);
          prev = it->t();
        }
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto app = h.NewAppender();
      for (int i = 0; i < 2000; ++i) {
        app->Append(L({{"__name__", "m" + std::to_string(i % 20)}, {"w", std::to_string(w)}}), i,
                    i);
        if (i % 37 == 0) {
          ASSERT_TRUE(app->Commit().ok());
        }
      }
      ASSERT_TRUE(app->Commit().ok());
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(h.Stats().series, 80u);
  EXPECT_EQ(h.Stats().samples_appended, 8000u);
}

}  // namespace
}  // namespace tocsin::tsdb
