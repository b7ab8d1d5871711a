#include "tsdb/storage/rocks/chunk_db.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/base/log.h"

namespace tocsin::tsdb {

namespace {

constexpr char kSeries = 'S', kHeadState = 'H', kChunk = 'C', kMeta = 'M';

void PutBe32(std::string* dst, uint32_t v) {
  for (int i = 3; i >= 0; --i) dst->push_back(static_cast<char>(v >> (8 * i)));
}
void PutBe64(std::string* dst, uint64_t v) {
  for (int i = 7; i >= 0; --i) dst->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetBe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t OrderedTime(TimestampMs t) { return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63); }
uint32_t OrderedBlock(int64_t b) { return static_cast<uint32_t>(b) ^ (uint32_t{1} << 31); }
int64_t BlockFromOrdered(uint32_t b) { return static_cast<int32_t>(b ^ (uint32_t{1} << 31)); }

std::string SeriesKey(char kind, uint32_t id) {
  std::string k(1, kind);
  PutBe32(&k, id);
  return k;
}
// 'C' block [id [maxt]]
std::string ChunkKey(int64_t block) {
  std::string k(1, kChunk);
  PutBe32(&k, OrderedBlock(block));
  return k;
}
std::string ChunkKey(int64_t block, uint32_t id) {
  std::string k = ChunkKey(block);
  PutBe32(&k, id);
  return k;
}
std::string ChunkKey(int64_t block, uint32_t id, TimestampMs maxt) {
  std::string k = ChunkKey(block, id);
  PutBe64(&k, OrderedTime(maxt));
  return k;
}
constexpr size_t kChunkKeySize = 1 + 4 + 4 + 8;

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  return Status::IoError(msg);
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// RocksDB's warnings and errors go to the daemon's log; its informational chatter (an options
// dump at every open, a line per flush) is dropped rather than kept in files beside the data.
class ForwardingLogger : public rocksdb::Logger {
 public:
  ForwardingLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  void Logv(const char*, va_list) override {}
  void LogHeader(const char*, va_list) override {}
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL) {
      log::Warn("RocksDB", {{"detail", buf}});
    } else {
      log::Error("RocksDB", {{"detail", buf}});
    }
  }
};

}  // namespace

struct ChunkDb::Rep {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write;
};

struct ChunkDb::Batch::Rep {
  rocksdb::WriteBatch batch;
};

ChunkDb::Batch::Batch() : rep_(std::make_unique<Rep>()) {}
ChunkDb::Batch::~Batch() = default;
void ChunkDb::Batch::PutSeries(uint32_t series, std::string_view labels) {
  rep_->batch.Put(SeriesKey(kSeries, series), ToSlice(labels));
}
void ChunkDb::Batch::PutHead(uint32_t series, std::string_view state) {
  rep_->batch.Put(SeriesKey(kHeadState, series), ToSlice(state));
}
void ChunkDb::Batch::DeleteSeries(uint32_t series) {
  rep_->batch.Delete(SeriesKey(kSeries, series));
  rep_->batch.Delete(SeriesKey(kHeadState, series));
}
void ChunkDb::Batch::PutMeta(std::string_view name, std::string_view value) {
  rep_->batch.Put(std::string(1, kMeta) + std::string(name), ToSlice(value));
}
size_t ChunkDb::Batch::count() const { return static_cast<size_t>(rep_->batch.Count()); }
void ChunkDb::Batch::Clear() { rep_->batch.Clear(); }

ChunkDb::ChunkDb(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

ChunkDb::~ChunkDb() {
  if (rep_->db) {
    (void)rep_->db->Flush(rocksdb::FlushOptions());
    (void)rep_->db->Close();
  }
}

Status ChunkDb::Open(const std::string& dir, Options options, std::unique_ptr<ChunkDb>* out) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = options.write_buffer_bytes;
  o.max_write_buffer_number = 2;
  o.max_background_jobs = 2;
  o.max_open_files = 512;
  o.info_log = std::make_shared<ForwardingLogger>();
  o.info_log_level = rocksdb::WARN_LEVEL;
  // Closed chunks are already compressed by their encoding; zstd on the bottom level (most of
  // the data) still takes off what is shared between neighbouring chunks and keys. Upper
  // levels are rewritten soon, so they get the cheaper LZ4.
  o.compression = rocksdb::kZSTD;
  o.bottommost_compression = rocksdb::kZSTD;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.block_size = 64 << 10;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Created first: RocksDB reports a missing directory as an error before creating it.
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("mkdir " + dir, errno);
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) return FromRocks(s, "opening RocksDB in " + dir);
  auto rep = std::make_unique<Rep>();
  rep->db.reset(db);
  rep->write.disableWAL = true;  // the head's write-ahead log covers unflushed writes
  out->reset(new ChunkDb(std::move(rep)));
  return Status::Ok();
}

Status ChunkDb::PutChunk(uint32_t series, TimestampMs mint, TimestampMs maxt,
                         std::string_view bytes) {
  // The value is the chunk alone: its first timestamp is mint.
  return FromRocks(
      rep_->db->Put(rep_->write, ChunkKey(BlockOf(mint), series, maxt), ToSlice(bytes)),
      "writing a chunk");
}

Status ChunkDb::Write(Batch* batch) {
  return FromRocks(rep_->db->Write(rep_->write, &batch->rep_->batch), "writing a batch");
}

Status ChunkDb::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  return FromRocks(rep_->db->Flush(fo), "flushing RocksDB");
}

Status ChunkDb::ForEachSeries(
    const std::function<Status(uint32_t, std::string_view, std::string_view)>& fn) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> s(rep_->db->NewIterator(ro));
  std::unique_ptr<rocksdb::Iterator> h(rep_->db->NewIterator(ro));
  h->Seek(std::string(1, kHeadState));
  for (s->Seek(std::string(1, kSeries)); s->Valid(); s->Next()) {
    rocksdb::Slice k = s->key();
    if (k.size() != 5 || k[0] != kSeries) break;
    auto id = static_cast<uint32_t>(GetBe(k.data() + 1, 4));
    std::string_view head;
    // Both scans go in id order; advance the head-state one up to this id.
    while (h->Valid() && h->key().size() == 5 && h->key()[0] == kHeadState &&
           GetBe(h->key().data() + 1, 4) < id)
      h->Next();
    if (h->Valid() && h->key().size() == 5 && h->key()[0] == kHeadState &&
        GetBe(h->key().data() + 1, 4) == id)
      head = std::string_view(h->value().data(), h->value().size());
    TOCSIN_RETURN_IF_ERROR(fn(id, std::string_view(s->value().data(), s->value().size()), head));
  }
  TOCSIN_RETURN_IF_ERROR(FromRocks(s->status(), "reading the series index"));
  return FromRocks(h->status(), "reading head states");
}

Status ChunkDb::GetMeta(std::string_view name, std::string* value) {
  return FromRocks(
      rep_->db->Get(rocksdb::ReadOptions(), std::string(1, kMeta) + std::string(name), value),
      "reading " + std::string(name));
}

namespace {

class RocksReader : public ChunkDb::Reader {
 public:
  RocksReader(rocksdb::DB* db, std::vector<int64_t> blocks) : blocks_(std::move(blocks)) {
    it_.reset(db->NewIterator(rocksdb::ReadOptions()));
  }
  Status Read(uint32_t series, TimestampMs mint, TimestampMs maxt,
              std::vector<StoredChunk>* out) override {
    out->clear();
    if (mint > maxt) return Status::Ok();
    int64_t first = BlockOf(mint), last = BlockOf(maxt);
    for (int64_t block : blocks_) {
      if (block < first || block > last) continue;
      std::string prefix = ChunkKey(block, series);
      // Keys order by maxt: the first chunk ending at or after mint is the first that may
      // overlap.
      for (it_->Seek(ChunkKey(block, series, mint)); it_->Valid(); it_->Next()) {
        rocksdb::Slice k = it_->key();
        if (k.size() != kChunkKeySize || std::memcmp(k.data(), prefix.data(), prefix.size()) != 0)
          break;
        std::string_view v(it_->value().data(), it_->value().size());
        first_.Reset(v);
        if (!first_.Next()) {
          return Status::Corruption(
              "chunk of series " + std::to_string(series) + ": " +
              (first_.status().ok() ? std::string("no samples") : first_.status().ToString()));
        }
        StoredChunk c;
        c.mint = first_.t();
        c.maxt = static_cast<TimestampMs>(GetBe(k.data() + 9, 8) ^ (uint64_t{1} << 63));
        if (c.mint > maxt) break;  // chunks of one series do not overlap: later ones neither
        c.bytes.assign(v);
        out->push_back(std::move(c));
      }
      TOCSIN_RETURN_IF_ERROR(FromRocks(it_->status(), "reading chunks"));
    }
    return Status::Ok();
  }

 private:
  std::vector<int64_t> blocks_;
  std::unique_ptr<rocksdb::Iterator> it_;
  ChunkIterator first_;  // decodes a chunk's first sample: its mint
};

}  // namespace

std::unique_ptr<ChunkDb::Reader> ChunkDb::NewReader() {
  std::vector<int64_t> blocks;
  if (!Blocks(&blocks).ok()) blocks.clear();
  return std::make_unique<RocksReader>(rep_->db.get(), std::move(blocks));
}

Status ChunkDb::Blocks(std::vector<int64_t>* out) {
  out->clear();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(rep_->db->NewIterator(ro));
  // One seek per block: jump past each block's keys.
  for (it->Seek(std::string(1, kChunk)); it->Valid();) {
    rocksdb::Slice k = it->key();
    if (k.size() < 5 || k[0] != kChunk) break;
    auto ordered = static_cast<uint32_t>(GetBe(k.data() + 1, 4));
    out->push_back(BlockFromOrdered(ordered));
    if (ordered == UINT32_MAX) break;
    std::string next(1, kChunk);
    PutBe32(&next, ordered + 1);
    it->Seek(next);
  }
  return FromRocks(it->status(), "listing blocks");
}

Status ChunkDb::DropBlocksBefore(int64_t block) {
  std::string begin = ChunkKey(INT32_MIN), end = ChunkKey(block);
  TOCSIN_RETURN_IF_ERROR(
      FromRocks(rep_->db->DeleteRange(rep_->write, rep_->db->DefaultColumnFamily(), begin, end),
                "deleting old blocks"));
  rocksdb::Slice b(begin), e(end);
  return FromRocks(
      rocksdb::DeleteFilesInRange(rep_->db.get(), rep_->db->DefaultColumnFamily(), &b, &e),
      "deleting files of old blocks");
}

Status ChunkDb::DeleteSeriesChunks(const std::vector<uint32_t>& series) {
  std::vector<int64_t> blocks;
  TOCSIN_RETURN_IF_ERROR(Blocks(&blocks));
  rocksdb::WriteBatch batch;
  for (int64_t b : blocks) {
    for (uint32_t id : series) {
      std::string begin = ChunkKey(b, id);
      std::string end = id == UINT32_MAX ? ChunkKey(b + 1) : ChunkKey(b, id + 1);
      batch.DeleteRange(begin, end);
    }
  }
  return FromRocks(rep_->db->Write(rep_->write, &batch), "deleting chunks");
}

uint64_t ChunkDb::SizeBytes() {
  uint64_t sst = 0, mem = 0;
  rep_->db->GetIntProperty("rocksdb.total-sst-files-size", &sst);
  rep_->db->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return sst + mem;
}

uint64_t ChunkDb::BlockBytes(int64_t block) {
  std::string begin = ChunkKey(block), end = ChunkKey(block + 1);
  rocksdb::Range r(begin, end);
  uint64_t size = 0;
  rocksdb::SizeApproximationOptions o;
  o.include_memtables = true;
  o.include_files = true;
  (void)rep_->db->GetApproximateSizes(o, rep_->db->DefaultColumnFamily(), &r, 1, &size);
  return size;
}

Status ChunkDb::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* cp = nullptr;
  TOCSIN_RETURN_IF_ERROR(
      FromRocks(rocksdb::Checkpoint::Create(rep_->db.get(), &cp), "starting a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> owned(cp);
  return FromRocks(owned->CreateCheckpoint(dir), "writing a checkpoint to " + dir);
}

}  // namespace tocsin::tsdb
