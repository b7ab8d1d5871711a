#pragma once
// The only code that includes RocksDB: closed chunks, the series index and the head's
// checkpoint, as keys of one RocksDB database (layout in tsdb/docs/format.md, "On disk"):
//
//   'S' id                      -> label set bytes             (every series)
//   'H' id                      -> head state of the series    (written by checkpoints)
//   'C' block id maxt           -> chunk bytes                 (closed chunks)
//   'M' name                    -> metadata (e.g. the first WAL segment to replay)
//
// Integers are big-endian so keys sort by them; timestamps have their sign bit flipped.
// Chunks are grouped by day ("blocks", by the chunk's first sample; a chunk never crosses a
// day boundary), so retention drops whole days with one range deletion and whole files.
// RocksDB's own log is off: the head's write-ahead log covers everything written here until
// Flush() returns.
// Thread-safety: thread-safe, except that a Reader is used by one thread at a time.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "tsdb/chunk/chunk.h"

namespace tocsin::tsdb {

inline constexpr TimestampMs kBlockMs = 24 * 3600 * 1000;
inline int64_t BlockOf(TimestampMs t) { return t >= 0 ? t / kBlockMs : (t + 1) / kBlockMs - 1; }

struct StoredChunk {
  TimestampMs mint = 0, maxt = 0;
  std::string bytes;
};

class ChunkDb {
 public:
  struct Options {
    // Memtable size; two may exist at once. Small tables keep resident memory low.
    size_t write_buffer_bytes = 16 << 20;
    size_t block_cache_bytes = 16 << 20;
  };
  static Status Open(const std::string& dir, Options options, std::unique_ptr<ChunkDb>* out);
  ~ChunkDb();

  // Stores a closed chunk. REQUIRES: BlockOf(mint) == BlockOf(maxt).
  Status PutChunk(uint32_t series, TimestampMs mint, TimestampMs maxt, std::string_view bytes);

  // Several writes applied atomically (checkpoints).
  class Batch {
   public:
    Batch();
    ~Batch();
    void PutSeries(uint32_t series, std::string_view labels);
    void PutHead(uint32_t series, std::string_view state);
    void DeleteSeries(uint32_t series);  // its S and H keys (chunks: DeleteSeriesChunks)
    void PutMeta(std::string_view name, std::string_view value);
    size_t count() const;
    void Clear();

   private:
    friend class ChunkDb;
    struct Rep;
    std::unique_ptr<Rep> rep_;
  };
  Status Write(Batch* batch);
  // Makes everything written so far durable (flushes the memtables to table files).
  Status Flush();

  // Calls fn for every series in id order, with its head state ("" when none was written).
  Status ForEachSeries(
      const std::function<Status(uint32_t id, std::string_view labels, std::string_view head)>& fn);
  Status GetMeta(std::string_view name, std::string* value);  // NotFound when absent

  // Reads chunks of series that overlap [mint, maxt], in time order.
  class Reader {
   public:
    virtual ~Reader() = default;
    virtual Status Read(uint32_t series, TimestampMs mint, TimestampMs maxt,
                        std::vector<StoredChunk>* out) = 0;
  };
  std::unique_ptr<Reader> NewReader();

  // Day blocks that hold chunks, ascending.
  Status Blocks(std::vector<int64_t>* out);
  // Deletes every chunk of blocks < block, and the table files that only they filled.
  Status DropBlocksBefore(int64_t block);
  // Deletes every chunk of the series (all blocks).
  Status DeleteSeriesChunks(const std::vector<uint32_t>& series);
  // Bytes of table files and memtables: the database's share of the disk.
  uint64_t SizeBytes();
  // Estimated bytes of one block's chunks on disk.
  uint64_t BlockBytes(int64_t block);
  // A consistent copy of the database in dir (hard links where possible).
  Status Checkpoint(const std::string& dir);

 private:
  struct Rep;
  explicit ChunkDb(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace tocsin::tsdb
