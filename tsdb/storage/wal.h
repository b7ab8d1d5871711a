#pragma once
// The head's write-ahead log: every committed batch is written here before it becomes visible,
// so that a sample acknowledged to a writer survives kill -9 (and, with fsync, a power cut).
//
// Layout: numbered segment files 00000001, 00000002, ... in one directory. A record is
//   [u32 length of payload, little-endian][u32 CRC-32 of payload][payload]
// A torn or corrupt tail (a crash mid-write) ends replay at the last whole record of the last
// segment; corruption anywhere else is an error naming the segment and offset.
// Thread-safety: Append() and Sync() may be called from any thread (serialized inside).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin::tsdb {

struct WalOptions {
  // fsync after every committed batch (durable across power loss) or leave flushing to the
  // kernel (durable across process crashes, which is what kill -9 tests).
  bool fsync_every_commit = false;
  size_t segment_bytes = 128 << 20;
};

// Record types of the head's WAL (FROZEN values): the first byte of each record.
enum class WalRecord : char {
  kSeries = 1,   // [u32 series id][labels bytes]
  kSamples = 2,  // repeated [u32 series id][i64 t][f64 v bits], little-endian
  kDelete = 3,   // repeated [u32 series id]
};

class Wal {
 public:
  // Creates dir if needed and opens a new segment after the existing ones.
  static Status Open(const std::string& dir, WalOptions options, std::unique_ptr<Wal>* out);
  ~Wal();

  // Appends one record; with fsync_every_commit, returns after it is on disk.
  Status Append(std::string_view payload);
  // Calls fn for every record of every segment numbered first or later, in order. A torn tail
  // of a segment is not an error; *torn is set when one was dropped.
  static Status Replay(const std::string& dir, uint32_t first,
                       const std::function<Status(std::string_view)>& fn, bool* torn);

  // Starts a new segment and returns its number: records appended after Cut() returns are in
  // it or later ones.
  Status Cut(uint32_t* segment);
  // Removes segments numbered below segment (their records are persisted elsewhere).
  Status DeleteSegmentsBefore(uint32_t segment);

  uint64_t bytes_written() const { return bytes_; }
  // Numbers of the segments on disk, ascending.
  static Status ListSegments(const std::string& dir, std::vector<uint32_t>* out);
  // fsync calls and the seconds they took.
  uint64_t fsyncs() const { return fsyncs_.load(std::memory_order_relaxed); }
  double fsync_seconds() const { return fsync_ns_.load(std::memory_order_relaxed) / 1e9; }
  // Bytes in the segments still on disk.
  uint64_t size_bytes() const { return size_.load(std::memory_order_relaxed); }

 private:
  Wal(std::string dir, WalOptions options) : dir_(std::move(dir)), options_(options) {}
  Status OpenSegment(uint32_t index);

  std::string dir_;
  WalOptions options_;
  std::mutex mu_;
  int fd_ = -1;              // GUARDED_BY(mu_)
  uint32_t segment_ = 0;     // GUARDED_BY(mu_)
  size_t segment_size_ = 0;  // GUARDED_BY(mu_)
  uint64_t bytes_ = 0;       // GUARDED_BY(mu_)
  std::atomic<uint64_t> size_{0};
  std::atomic<uint64_t> fsyncs_{0}, fsync_ns_{0};
  int Sync();        // fdatasync, timed; REQUIRES: mu_ held
  std::string buf_;  // GUARDED_BY(mu_)
};

// Follows the WAL as it is written, for the remote-write sender: returns whole records from a
// position (segment, byte offset) onwards, moving to the next segment when the current one is
// finished. A record not yet completely written is waited for, not reported as corrupt.
// Thread-safety: used by one thread.
class WalReader {
 public:
  WalReader(std::string dir, uint32_t segment, uint64_t offset)
      : dir_(std::move(dir)), segment_(segment), offset_(offset) {}
  ~WalReader();
  // Sets *record to the next record and returns true, or false when none is available yet.
  // A corrupt record in a finished segment skips the rest of that segment (*skipped += 1).
  bool Next(std::string* record, uint64_t* skipped);
  // The position after the last record returned.
  uint32_t segment() const { return segment_; }
  uint64_t offset() const { return offset_; }

 private:
  bool Fill();  // reads what the current segment holds beyond the buffer
  std::string dir_;
  uint32_t segment_;
  uint64_t offset_;
  int fd_ = -1;
  uint32_t fd_segment_ = 0;
  std::string buf_;         // bytes from offset_ on
  uint64_t buf_start_ = 0;  // segment offset of buf_[0]
};

}  // namespace tocsin::tsdb
