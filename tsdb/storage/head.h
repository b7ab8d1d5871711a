#pragma once
// The in-memory head: every series with its open chunk (XOR, appended to in place) and its
// closed chunks (re-encoded with EncodeBest when full), an inverted index from label pairs to
// series, and Storage's appender and querier over them. The RocksDB store persists what the
// head closes (to come); alertd's rule tests use the head alone.
// Thread-safety: Head is thread-safe; see Appender and Querier for theirs.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tsdb/storage/interface.h"
#include "tsdb/storage/wal.h"

namespace tocsin::tsdb {

struct HeadOptions {
  // Samples in an open chunk before it is closed and re-encoded. 240 samples is one hour at
  // 15 s; longer chunks compress better (docs/PERFORMANCE.md), shorter ones decode less for
  // short queries.
  int samples_per_chunk = 240;
  // Write-ahead log directory; empty keeps the head in memory only.
  std::string wal_dir;
  WalOptions wal;
};

struct HeadStats {
  uint64_t series = 0;
  uint64_t samples_appended = 0;
  uint64_t rejected[5] = {};  // by AppendError
  uint64_t chunks_closed = 0;
  uint64_t closed_chunk_bytes = 0;
  uint64_t closed_chunk_samples = 0;
};

class Head : public Storage {
 public:
  // A head without a write-ahead log (options.wal_dir is ignored).
  explicit Head(HeadOptions options = {});
  // A head that replays options.wal_dir, then logs every commit there before applying it.
  // Replay errors name the segment and offset.
  static Status Open(HeadOptions options, std::unique_ptr<Head>* out);
  ~Head() override;

  std::unique_ptr<Appender> NewAppender() override;
  std::unique_ptr<Querier> NewQuerier() override;
  HeadStats Stats() const;
  // Samples replayed from the WAL at Open(), and whether a torn record was dropped.
  uint64_t replayed_samples() const { return replayed_; }
  bool replay_dropped_torn_record() const { return torn_; }

  struct MemSeries;  // opaque; public only for the appender and querier in head.cc

 private:
  friend class HeadAppender;
  friend class HeadQuerier;

  // Finds or creates the series. REQUIRES: labels are valid.
  MemSeries* GetOrCreate(const labels::Labels& l);
  // Ids of series satisfying every matcher, sorted. REQUIRES: mu_ held (shared).
  std::vector<uint32_t> Select(std::span<const labels::Matcher> matchers) const;
  void CloseChunk(MemSeries* s);  // REQUIRES: s->mu held

  HeadOptions options_;
  std::unique_ptr<Wal> wal_;
  // Serializes WAL writes with applying them, so replay sees samples in the order they were
  // applied and accepts exactly what was accepted.
  std::mutex commit_mu_;
  uint64_t replayed_ = 0;
  bool torn_ = false;
  mutable std::shared_mutex mu_;
  // Keys view the series' own label bytes (series live as long as the head), so each label set
  // is stored once.
  std::unordered_map<std::string_view, uint32_t> by_labels_;                      // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<MemSeries>> series_;                                // GUARDED_BY(mu_)
  std::map<std::string, std::map<std::string, std::vector<uint32_t>>> postings_;  // GUARDED_BY(mu_)

  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> rejected_[5] = {};
  std::atomic<uint64_t> chunks_closed_{0}, closed_bytes_{0}, closed_samples_{0};
};

}  // namespace tocsin::tsdb
