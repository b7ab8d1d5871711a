// The head with its RocksDB database: closed chunks on disk, checkpoints that truncate the WAL,
// retention, deletion, snapshots, and kill -9 while checkpoints run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "tests/tsdb/storage/kill_harness.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb {
namespace {

namespace fs = std::filesystem;
using Samples = std::vector<std::tuple<std::string, TimestampMs, double>>;

labels::Labels L(const std::string& name, const std::string& job) {
  labels::Labels l;
  EXPECT_TRUE(labels::Labels::FromPairs({{"__name__", name}, {"job", job}}, &l).ok());
  return l;
}

std::string TempDir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

HeadOptions Opts(const std::string& dir, int samples_per_chunk = 60) {
  HeadOptions o;
  o.samples_per_chunk = samples_per_chunk;
  o.wal_dir = dir + "/wal";
  o.db_dir = dir + "/db";
  return o;
}

labels::Matcher M(labels::Matcher::Type type, const std::string& name, const std::string& v) {
  labels::Matcher m;
  EXPECT_TRUE(labels::Matcher::Make(type, name, v, &m).ok());
  return m;
}

Samples Query(Head& h, TimestampMs mint = INT64_MIN, TimestampMs maxt = INT64_MAX,
              std::string name_re = ".+") {
  std::vector<labels::Matcher> ms = {M(labels::Matcher::Type::kRegexp, "__name__", name_re)};
  std::unique_ptr<SeriesSet> set;
  Status st = h.NewQuerier()->Select(mint, maxt, ms, &set);
  EXPECT_TRUE(st.ok()) << st.ToString();
  Samples out;
  while (set->Next()) {
    auto it = set->Iterator();
    while (it->Next()) out.emplace_back(set->labels().ToString(), it->t(), it->v());
    EXPECT_TRUE(it->status().ok());
  }
  return out;
}

size_t WalSegments(const std::string& dir) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(dir + "/wal")) n += e.is_regular_file() ? 1 : 0;
  return n;
}

void Write(Head& h, int series, TimestampMs from, TimestampMs to, TimestampMs step) {
  auto app = h.NewAppender();
  int n = 0;
  for (TimestampMs t = from; t < to; t += step) {
    for (int s = 0; s < series; ++s) {
      ASSERT_EQ(app->Append(L("m", std::to_string(s)), t, static_cast<double>(t / step + s)),
                AppendError::kNone);
    }
    if (++n % 10 == 0) {
      ASSERT_TRUE(app->Commit().ok());
    }
  }
  ASSERT_TRUE(app->Commit().ok());
}

TEST(Persistence, ClosedChunksLiveInTheDatabaseAndCheckpointsTruncateTheWal) {
  std::string dir = TempDir("persist-basic");
  Samples before;
  {
    std::unique_ptr<Head> h;
    ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
    Write(*h, 20, 0, 600'000, 1000);  // 600 samples per series: 10 closed chunks each
    EXPECT_EQ(h->Stats().chunks_closed, 200u);
    EXPECT_EQ(h->Stats().chunk_write_failures, 0u);
    ASSERT_TRUE(h->Checkpoint().ok());
    // The segment written before the checkpoint is gone; the new (current) one stays.
    EXPECT_EQ(WalSegments(dir), 1u);
    Write(*h, 20, 600'000, 630'000, 1000);  // 30 more: in the WAL and an open chunk
    before = Query(*h);
    ASSERT_EQ(before.size(), 20u * 630);
    // Range queries read only what they need, from disk and head alike.
    Samples mid = Query(*h, 100'000, 100'999);
    ASSERT_EQ(mid.size(), 20u);
    EXPECT_EQ(std::get<1>(mid[0]), 100'000);
  }
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
  // Only what came after the checkpoint was replayed.
  EXPECT_EQ(h->replayed_samples(), 20u * 30);
  EXPECT_EQ(h->Stats().series, 20u);
  EXPECT_EQ(Query(*h), before);
  // Appends continue where they left off; old samples stay rejected as out of order.
  auto app = h->NewAppender();
  EXPECT_EQ(app->Append(L("m", "0"), 5000, 1), AppendError::kOutOfOrder);
  EXPECT_EQ(app->Append(L("m", "0"), 630'000, 1), AppendError::kNone);
  EXPECT_EQ(app->Append(L("m", "new"), 1, 1), AppendError::kNone);
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_EQ(Query(*h).size(), 20u * 630 + 2);
}

TEST(Persistence, RetentionDropsWholeDaysAndSizeLimitKeepsTheNewest) {
  std::string dir = TempDir("persist-retention");
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir, 30), &h).ok());
  const TimestampMs day = kBlockMs;
  // Three days, one sample a minute.
  Write(*h, 5, 0, 3 * day, 60'000);
  ASSERT_TRUE(h->Checkpoint().ok());
  ASSERT_EQ(Query(*h).size(), 5u * 3 * 1440);
  // Keep from the middle of day 2: day 1 goes entirely, day 2 stays whole.
  ASSERT_TRUE(h->ApplyRetention({.keep_after = day + day / 2}).ok());
  EXPECT_EQ(h->Stats().retention_blocks_dropped, 1u);
  Samples left = Query(*h);
  ASSERT_EQ(left.size(), 5u * 2 * 1440);
  EXPECT_EQ(std::get<1>(left.front()), day);
  // A size limit below what is stored drops days oldest first but never the newest.
  ASSERT_TRUE(h->ApplyRetention({.max_bytes = 1}).ok());
  left = Query(*h);
  ASSERT_FALSE(left.empty());
  for (auto& s : left) ASSERT_GE(std::get<1>(s), 2 * day);
  // Samples of dropped days are refused, not stored again.
  auto app = h->NewAppender();
  EXPECT_EQ(app->Append(L("m", "late"), day + 5, 1), AppendError::kOutOfBounds);
  EXPECT_EQ(app->Append(L("m", "late"), 2 * day + 5, 1), AppendError::kNone);
  ASSERT_TRUE(app->Commit().ok());
  left = Query(*h);
  h.reset();
  ASSERT_TRUE(Head::Open(Opts(dir, 30), &h).ok());
  EXPECT_EQ(Query(*h), left);
}

TEST(Persistence, DeletedSeriesStayDeletedAcrossRestarts) {
  std::string dir = TempDir("persist-delete");
  {
    std::unique_ptr<Head> h;
    ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
    Write(*h, 3, 0, 200'000, 1000);
    ASSERT_TRUE(h->Checkpoint().ok());
    Write(*h, 3, 200'000, 210'000, 1000);
    std::vector<labels::Matcher> ms = {M(labels::Matcher::Type::kEqual, "job", "1")};
    uint64_t n = 0;
    ASSERT_TRUE(h->DeleteSeries(ms, &n).ok());
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(Query(*h).size(), 2u * 210);
    // The same labels start a new, empty series.
    auto app = h->NewAppender();
    EXPECT_EQ(app->Append(L("m", "1"), 1, 42), AppendError::kNone);
    ASSERT_TRUE(app->Commit().ok());
  }
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
  Samples all = Query(*h);
  ASSERT_EQ(all.size(), 2u * 210 + 1);
  size_t job1 = 0;
  for (auto& [l, t, v] : all) {
    if (l.find("job=\"1\"") != std::string::npos) {
      ++job1;
      EXPECT_EQ(t, 1);
      EXPECT_EQ(v, 42);
    }
  }
  EXPECT_EQ(job1, 1u);
}

TEST(Persistence, SnapshotOpensAsAStoreWithTheSameData) {
  std::string dir = TempDir("persist-snap");
  std::unique_ptr<Head> h;
  ASSERT_TRUE(Head::Open(Opts(dir), &h).ok());
  Write(*h, 4, 0, 100'000, 1000);
  Samples before = Query(*h);
  std::string snap = TempDir("persist-snap-copy");
  fs::remove_all(snap);
  fs::create_directories(snap);
  ASSERT_TRUE(h->Snapshot(snap + "/db").ok());
  Write(*h, 4, 100'000, 110'000, 1000);  // not in the snapshot
  std::unique_ptr<Head> copy;
  ASSERT_TRUE(Head::Open(Opts(snap), &copy).ok());
  EXPECT_EQ(Query(*copy), before);
}

// kill -9 while a thread checkpoints (cutting and deleting WAL segments) as fast as it can:
// every acknowledged sample is found, none twice.
TEST(Persistence, KillNineDuringCheckpointsLosesNothingAcknowledged) {
  std::string dir = TempDir("persist-kill");
  int64_t acked = testing::RunWriterAndKill(Opts(dir, 20), /*checkpoints=*/true, 200, 400);
  ASSERT_GE(acked, 50) << "the writer made too little progress to test anything";
  std::unique_ptr<Head> h;
  Status st = Head::Open(Opts(dir, 20), &h);
  ASSERT_TRUE(st.ok()) << st.ToString();
  testing::ExpectEveryAcknowledgedBatch(*h, acked);
}

}  // namespace
}  // namespace tocsin::tsdb
