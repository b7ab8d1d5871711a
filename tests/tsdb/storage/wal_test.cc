#include "tsdb/storage/wal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "tests/tsdb/storage/kill_harness.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb {
namespace {

namespace fs = std::filesystem;

labels::Labels L(const std::string& name, const std::string& job) {
  labels::Labels l;
  EXPECT_TRUE(labels::Labels::FromPairs({{"__name__", name}, {"job", job}}, &l).ok());
  return l;
}

HeadOptions Opts(const std::string& dir, int samples_per_chunk = 240) {
  HeadOptions o;
  o.samples_per_chunk = samples_per_chunk;
  o.wal_dir = dir;
  return o;
}

std::string TempDir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/" + name;
  fs::remove_all(d);
  return d;
}

// Samples of every series, in order, as the querier returns them.
std::vector<std::tuple<std::string, TimestampMs, double>> All(Head& h) {
  labels::Matcher m;
  EXPECT_TRUE(labels::Matcher::Make(labels::Matcher::Type::kRegexp, "__name__", ".+", &m).ok());
  std::vector<labels::Matcher> ms = {m};
  std::unique_ptr<SeriesSet> set;
  EXPECT_TRUE(h.NewQuerier()->Select(INT64_MIN, INT64_MAX, ms, &set).ok());
  std::vector<std::tuple<std::string, TimestampMs, double>> out;
  while (set->Next()) {
    auto it = set->Iterator();
    while (it->Next()) out.emplace_back(set->labels().ToString(), it->t(), it->v());
  }
  return out;
}

TEST(HeadWal, ReopenReplaysEveryCommittedSample) {
  std::string dir = TempDir("wal-reopen");
  std::vector<std::tuple<std::string, TimestampMs, double>> before;
  {
    std::unique_ptr<Head> h;
    ASSERT_TRUE(Head::Open(Opts(dir, 50), &h).ok());
    auto app = h->NewAppender();
    for (int i = 0; i < 300; ++i) {
      app->Append(L("a", "x"), i * 1000, i * 0.5);
      app->Append(L("b", std::to_string(i % 3)), i * 1000, i);
      if (i % 10 == 9) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    app->Append(L("c", "rolled back"), 5, 5);
    app->Rollback();
    before = All(*h);
  }
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir, 50), &h).ok());
  EXPECT_EQ(h->replayed_samples(), 600u);
  EXPECT_FALSE(h->replay_dropped_torn_record());
  EXPECT_EQ(All(*h), before);
  // The reopened head keeps logging: a third generation sees both.
  auto app = h->NewAppender();
  app->Append(L("a", "x"), 400'000, 1);
  ASSERT_TRUE(app->Commit().ok());
  h.reset();
  ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
  EXPECT_EQ(h->replayed_samples(), 601u);
}

TEST(HeadWal, TornTailIsDroppedCorruptionIsNamed) {
  std::string dir = TempDir("wal-torn");
  {
    std::unique_ptr<Head> h;
    ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
    auto app = h->NewAppender();
    for (int i = 0; i < 10; ++i) {
      app->Append(L("a", "x"), i, i);
      ASSERT_TRUE(app->Commit().ok());
    }
  }
  std::string seg = dir + "/00000001";
  auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 5);  // a crash in the middle of the last record
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
  EXPECT_EQ(h->replayed_samples(), 9u);
  EXPECT_TRUE(h->replay_dropped_torn_record());
  h.reset();
  // A record that checksums but makes no sense is an error naming where it is.
  std::unique_ptr<Wal> w;
  ASSERT_TRUE(Wal::Open(dir, {}, &w).ok());
  ASSERT_TRUE(w->Append("\x07junk").ok());
  w.reset();
  Status st = Head::Open(Opts(dir), &h);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("record type 7"), std::string_view::npos) << st.ToString();
  EXPECT_NE(st.message().find("/0000000"), std::string_view::npos) << st.ToString();
}

// A writer acknowledges batches (after Commit returns) and is killed with SIGKILL at a random
// moment; the reopened head holds every acknowledged sample.
TEST(HeadWal, KillNineLosesNothingAcknowledged) {
  std::string dir = TempDir("wal-kill");
  int64_t acked = testing::RunWriterAndKill(Opts(dir), /*checkpoints=*/false, 50, 250);
  ASSERT_GE(acked, 10) << "the writer made too little progress to test anything";
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
  testing::ExpectEveryAcknowledgedBatch(*h, acked);
}

}  // namespace
}  // namespace tocsin::tsdb
