#pragma once
// kill -9 harness shared by the WAL and persistence tests: a forked writer appends one sample
// to each of 50 series per batch and acknowledges each committed batch through a pipe (as a
// 2xx reply would); it is killed with SIGKILL at a random moment.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "tsdb/storage/head.h"

namespace tocsin::tsdb::testing {

inline labels::Labels KillSeries(int s) {
  labels::Labels l;
  EXPECT_TRUE(labels::Labels::FromPairs({{"__name__", "m"}, {"job", std::to_string(s)}}, &l).ok());
  return l;
}

// Returns the last acknowledged batch (-1 when none). With checkpoints, a thread in the writer
// checkpoints every 5 ms, so the kill lands during one most of the time.
inline int64_t RunWriterAndKill(const HeadOptions& opts, bool checkpoints, int min_ms,
                                int spread_ms) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  EXPECT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::unique_ptr<Head> h;
    if (!Head::Open(opts, &h).ok()) _exit(2);
    if (checkpoints) {
      std::thread([&] {
        for (;;) {
          if (!h->Checkpoint().ok()) _exit(5);
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }).detach();
    }
    auto app = h->NewAppender();
    for (int64_t batch = 0;; ++batch) {
      for (int s = 0; s < 50; ++s)
        app->Append(KillSeries(s), batch * 1000, static_cast<double>(batch));
      if (!app->Commit().ok()) _exit(3);
      if (write(fds[1], &batch, sizeof batch) != sizeof batch) _exit(4);
    }
  }
  close(fds[1]);
  std::mt19937 rng(std::random_device{}());
  int64_t acked = -1, b;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(min_ms + static_cast<int>(rng() % spread_ms));
  while (std::chrono::steady_clock::now() < deadline && read(fds[0], &b, sizeof b) == sizeof b)
    acked = b;
  kill(pid, SIGKILL);
  while (read(fds[0], &b, sizeof b) == sizeof b) acked = b;  // acknowledgements already sent
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer failed with exit code " << WEXITSTATUS(status);
  return acked;
}

// Every series has every acknowledged batch (more may have made it), none twice.
inline void ExpectEveryAcknowledgedBatch(Head& h, int64_t acked) {
  labels::Matcher m;
  ASSERT_TRUE(labels::Matcher::Make(labels::Matcher::Type::kEqual, "__name__", "m", &m).ok());
  std::vector<labels::Matcher> ms = {m};
  std::unique_ptr<SeriesSet> set;
  ASSERT_TRUE(h.NewQuerier()->Select(INT64_MIN, INT64_MAX, ms, &set).ok());
  std::map<std::string, std::vector<TimestampMs>> by_series;
  while (set->Next()) {
    auto it = set->Iterator();
    while (it->Next()) by_series[set->labels().ToString()].push_back(it->t());
  }
  ASSERT_EQ(by_series.size(), 50u);
  for (auto& [l, ts] : by_series) {
    ASSERT_GE(static_cast<int64_t>(ts.size()), acked + 1) << l;
    for (size_t i = 0; i < ts.size(); ++i)
      ASSERT_EQ(ts[i], static_cast<TimestampMs>(i) * 1000) << l;
  }
}

}  // namespace tocsin::tsdb::testing
