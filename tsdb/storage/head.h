#pragma once
// The head: every series with its open chunk (XOR, appended to in place), an inverted index
// from label pairs to series, and Storage's appender and querier over them. Closed chunks
// (re-encoded with EncodeBest when full) go to RocksDB (ChunkDb) when a database directory is
// given, else they stay in memory (alertd's rule tests use the head alone).
//
// Durability: a commit is in the write-ahead log before it is applied. Checkpoint() writes
// every series and its open chunk to RocksDB, flushes it, and deletes the WAL segments it made
// redundant; Open() loads the last checkpoint and replays the WAL after it.
// Thread-safety: Head is thread-safe; see Appender and Querier for theirs.

#include <atomic>
#include <climits>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tsdb/storage/interface.h"
#include "tsdb/storage/rocks/chunk_db.h"
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
  // RocksDB directory for closed chunks, the series index and checkpoints; empty keeps closed
  // chunks in memory. REQUIRES: wal_dir set when db_dir is.
  std::string db_dir;
  ChunkDb::Options db;
};

struct HeadStats {
  uint64_t series = 0;
  uint64_t samples_appended = 0;
  uint64_t rejected[5] = {};  // by AppendError
  uint64_t chunks_closed = 0;
  uint64_t closed_chunk_bytes = 0;
  uint64_t closed_chunk_samples = 0;
  uint64_t chunk_write_failures = 0;
  uint64_t wal_bytes = 0;  // on disk now
  uint64_t wal_fsyncs = 0;
  double wal_fsync_seconds = 0;
  uint64_t db_bytes = 0;  // table files and memtables
  uint64_t checkpoints = 0;
  double last_checkpoint_seconds = 0;
  uint64_t retention_blocks_dropped = 0;
  uint64_t series_deleted = 0;
};

// The cardinality view of /api/v1/status/tsdb: top entries by count, largest first.
struct CardinalityStats {
  uint64_t series = 0;
  uint64_t label_pairs = 0;
  TimestampMs min_time = 0, max_time = 0;  // of the samples in memory (0 when none)
  std::vector<std::pair<std::string, uint64_t>> series_by_metric;
  std::vector<std::pair<std::string, uint64_t>> values_by_label;
  std::vector<std::pair<std::string, uint64_t>> bytes_by_label;  // value bytes x series
  std::vector<std::pair<std::string, uint64_t>> series_by_pair;  // "name=value"
};

struct RetentionPolicy {
  TimestampMs keep_after = INT64_MIN;  // drop whole days of chunks that end before this
  uint64_t max_bytes = 0;              // 0: no limit; else WAL + database bytes
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
  CardinalityStats Cardinality(size_t limit) const;
  // Persists every series and open chunk and drops the WAL segments that precede it. Runs
  // beside ingestion (commits wait only while the WAL segment is cut). No-op without a db.
  Status Checkpoint();
  // Deletes chunks per the policy (whole days, oldest first). No-op without a db.
  Status ApplyRetention(const RetentionPolicy& policy);
  // Removes every series matching all matchers, with all their samples. *deleted gets the count.
  Status DeleteSeries(std::span<const labels::Matcher> matchers, uint64_t* deleted);
  // A consistent copy of the stored data (after a checkpoint) in dir. Requires a db.
  Status Snapshot(const std::string& dir);
  bool persistent() const { return db_ != nullptr; }
  // The labels of a series by its id (the WAL's series ids); false when unknown or deleted.
  bool LabelsOf(uint32_t id, labels::Labels* out) const;
  // Readers of the WAL (remote write) name the oldest segment they still need; checkpoints
  // keep it and later ones. Set before concurrent use.
  void SetWalFloor(std::function<uint32_t()> floor) { wal_floor_ = std::move(floor); }
  const std::string& wal_dir() const { return options_.wal_dir; }
  // Grows with every DeleteSeries: holders of SeriesRefs (scrape caches) drop them when it moves.
  uint64_t deletion_generation() const { return deletion_generation_.load(); }

  // Samples replayed from the WAL at Open(), and whether a torn record was dropped.
  uint64_t replayed_samples() const { return replayed_; }
  bool replay_dropped_torn_record() const { return torn_; }

  struct MemSeries;  // opaque; public only for the appender and querier in head.cc

 private:
  friend class HeadAppender;
  friend class HeadQuerier;

  // Finds or creates the series. REQUIRES: labels are valid.
  MemSeries* GetOrCreate(const labels::Labels& l);
  // Creates the series with a given id (loading, replay); fails if the id holds other labels.
  Status CreateWithId(const labels::Labels& l, uint32_t id, MemSeries** out);
  void IndexLocked(MemSeries* s);   // REQUIRES: mu_ held exclusively
  void UnlinkLocked(MemSeries* s);  // REQUIRES: mu_ held exclusively
  Status Load();                    // from db_ and the WAL
  void MarkAllInDb();
  // Ids of series satisfying every matcher, sorted. REQUIRES: mu_ held (shared).
  std::vector<uint32_t> Select(std::span<const labels::Matcher> matchers) const;
  void CloseChunk(MemSeries* s);  // REQUIRES: s->mu held

  HeadOptions options_;
  std::unique_ptr<ChunkDb> db_;
  std::unique_ptr<Wal> wal_;
  std::mutex checkpoint_mu_;  // one checkpoint, retention or deletion at a time
  // Deleted series whose index keys the next checkpoint removes. GUARDED_BY(checkpoint_mu_)
  std::vector<uint32_t> pending_deletes_;
  // Serializes WAL writes with applying them, so replay sees samples in the order they were
  // applied and accepts exactly what was accepted.
  std::mutex commit_mu_;
  uint64_t replayed_ = 0;
  bool torn_ = false;
  mutable std::shared_mutex mu_;
  // Keys view the series' own label bytes (series live as long as the head), so each label set
  // is stored once.
  std::unordered_map<std::string_view, uint32_t> by_labels_;  // GUARDED_BY(mu_)
  // Indexed by series id; null where a series was deleted. Deleted series are unlinked from the
  // maps but kept alive (appenders may hold references to them).
  std::vector<MemSeries*> series_;                                                // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<MemSeries>> owned_;                                 // GUARDED_BY(mu_)
  std::map<std::string, std::map<std::string, std::vector<uint32_t>>> postings_;  // GUARDED_BY(mu_)

  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> rejected_[5] = {};
  std::atomic<uint64_t> chunks_closed_{0}, closed_bytes_{0}, closed_samples_{0},
      chunk_write_failures_{0}, checkpoints_{0}, blocks_dropped_{0}, series_deleted_{0};
  std::atomic<double> last_checkpoint_seconds_{0};
  std::atomic<uint64_t> deletion_generation_{0};
  // Samples before this are out of bounds: their day was dropped by retention.
  std::atomic<TimestampMs> min_valid_time_{INT64_MIN};
  std::function<uint32_t()> wal_floor_;
};

}  // namespace tocsin::tsdb
