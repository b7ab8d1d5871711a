#include "tsdb/storage/head.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>

namespace tocsin::tsdb {

std::string_view AppendErrorName(AppendError e) {
  switch (e) {
    case AppendError::kNone:
      return "none";
    case AppendError::kOutOfOrder:
      return "out_of_order";
    case AppendError::kDuplicate:
      return "duplicate";
    case AppendError::kOutOfBounds:
      return "out_of_bounds";
    case AppendError::kInvalidLabels:
      return "invalid_labels";
  }
  return "unknown";
}

struct Head::MemSeries {
  MemSeries(labels::Labels l, uint32_t series_id) : labels(std::move(l)), id(series_id) {}
  const labels::Labels labels;
  const uint32_t id;
  std::atomic<bool> logged{false};     // its labels are in the WAL (or the database)
  std::atomic<bool> persisted{false};  // its labels are in the database
  std::atomic<bool> deleted{false};    // unlinked by DeleteSeries; samples are dropped
  std::mutex mu;
  struct Closed {
    TimestampMs mint, maxt;
    std::shared_ptr<const std::string> bytes;
  };
  std::vector<Closed> closed;  // GUARDED_BY(mu), in time order; only without a database
  std::string open;            // GUARDED_BY(mu): the open XOR chunk
  XorAppender appender;        // GUARDED_BY(mu), writes into `open`
  TimestampMs open_mint = 0;   // GUARDED_BY(mu)
  bool has_samples = false;    // GUARDED_BY(mu)
  TimestampMs last_t = 0;      // GUARDED_BY(mu)
  uint64_t last_v = 0;         // GUARDED_BY(mu): bits of the newest value
  // The database may hold chunks of it: one was stored, or it was loaded from the database.
  // A query skips the database lookup for series without (most fresh series).
  bool in_db = false;  // GUARDED_BY(mu)
};

namespace {

// WAL record types (FROZEN values).
constexpr char kSeriesRecord = 1;   // [u32 series id][labels bytes]
constexpr char kSamplesRecord = 2;  // repeated [u32 series id][i64 t][f64 v bits]
constexpr char kDeleteRecord = 3;   // repeated [u32 series id]

// Head state of a series in the database (FROZEN layout, version 1):
//   [u8 1][u8 has samples][i64 last t][u64 last value bits][open XOR chunk, may be empty]
constexpr char kHeadStateVersion = 1;
constexpr size_t kHeadStateSize = 1 + 1 + 8 + 8;

constexpr std::string_view kMetaWalStart = "wal_start";
constexpr std::string_view kMetaNextId = "next_series_id";

void Put(std::string* dst, const void* p, size_t n) { dst->append(static_cast<const char*>(p), n); }

// Whether sample (t, v) may follow a series whose newest sample is (last_t, last_v).
AppendError Check(bool has, TimestampMs last_t, uint64_t last_v, TimestampMs t, double v,
                  bool* skip) {
  *skip = false;
  if (!has || t > last_t) return AppendError::kNone;
  if (t == last_t) {
    if (std::bit_cast<uint64_t>(v) == last_v) {
      *skip = true;  // an identical retransmission
      return AppendError::kNone;
    }
    return AppendError::kDuplicate;
  }
  return AppendError::kOutOfOrder;
}

}  // namespace

class HeadAppender : public Appender {
 public:
  explicit HeadAppender(Head* head) : head_(head) {}
  ~HeadAppender() override { Rollback(); }

  AppendError Append(const labels::Labels& series, TimestampMs t, double v,
                     SeriesRef* ref) override {
    if (ref) *ref = 0;
    if (!series.Has(labels::kMetricName)) return Reject(AppendError::kInvalidLabels);
    Head::MemSeries* s = head_->GetOrCreate(series);
    if (ref) *ref = reinterpret_cast<SeriesRef>(s);  // series live as long as the head
    return AppendTo(s, t, v);
  }

  AppendError AppendRef(SeriesRef ref, TimestampMs t, double v) override {
    return AppendTo(reinterpret_cast<Head::MemSeries*>(ref), t, v);
  }

 private:
  AppendError AppendTo(Head::MemSeries* s, TimestampMs t, double v) {
    if (t < head_->min_valid_time_.load(std::memory_order_relaxed))
      return Reject(AppendError::kOutOfBounds);
    // The newest sample this series will have: a queued one, else the committed one.
    auto it = newest_.find(s);
    bool has;
    TimestampMs last_t;
    uint64_t last_v;
    if (it != newest_.end()) {
      has = true;
      last_t = it->second.t;
      last_v = std::bit_cast<uint64_t>(it->second.v);
    } else {
      std::lock_guard<std::mutex> lock(s->mu);
      has = s->has_samples;
      last_t = s->last_t;
      last_v = s->last_v;
    }
    bool skip;
    AppendError e = Check(has, last_t, last_v, t, v, &skip);
    if (e != AppendError::kNone) return Reject(e);
    if (skip) return AppendError::kNone;
    pending_.push_back({s, t, v});
    newest_[s] = {s, t, v};
    return AppendError::kNone;
  }

 public:
  Status Commit() override {
    std::lock_guard<std::mutex> commit_lock(head_->commit_mu_);
    if (head_->wal_ && !pending_.empty()) {
      record_.clear();
      for (const Pending& p : pending_) {
        if (p.series->logged.load(std::memory_order_acquire)) continue;
        record_.assign(1, kSeriesRecord);
        Put(&record_, &p.series->id, 4);
        record_.append(p.series->labels.bytes());
        TOCSIN_RETURN_IF_ERROR(head_->wal_->Append(record_));
        p.series->logged.store(true, std::memory_order_release);
      }
      record_.assign(1, kSamplesRecord);
      for (const Pending& p : pending_) {
        if (p.series->deleted.load(std::memory_order_relaxed)) continue;
        uint64_t bits = std::bit_cast<uint64_t>(p.v);
        Put(&record_, &p.series->id, 4);
        Put(&record_, &p.t, 8);
        Put(&record_, &bits, 8);
      }
      Status st = head_->wal_->Append(record_);
      if (!st.ok()) {
        Rollback();
        return st.WithContext("write-ahead log");
      }
    }
    for (const Pending& p : pending_) {
      if (p.series->deleted.load(std::memory_order_relaxed)) continue;
      std::lock_guard<std::mutex> lock(p.series->mu);
      bool skip;
      // Another appender may have committed newer samples meanwhile.
      AppendError e =
          Check(p.series->has_samples, p.series->last_t, p.series->last_v, p.t, p.v, &skip);
      if (e != AppendError::kNone) {
        Reject(e);
        continue;
      }
      if (skip) continue;
      Head::MemSeries* s = p.series;
      // A chunk never crosses a day boundary (the database's retention unit).
      if (s->appender.num_samples() > 0 && BlockOf(p.t) != BlockOf(s->open_mint))
        head_->CloseChunk(s);
      if (s->appender.num_samples() == 0) {
        s->appender.Reset(&s->open);
        s->open_mint = p.t;
      }
      s->appender.Append(p.t, p.v);
      s->has_samples = true;
      s->last_t = p.t;
      s->last_v = std::bit_cast<uint64_t>(p.v);
      head_->appended_.fetch_add(1, std::memory_order_relaxed);
      if (s->appender.num_samples() >= head_->options_.samples_per_chunk) head_->CloseChunk(s);
    }
    pending_.clear();
    newest_.clear();
    return Status::Ok();
  }

  void Rollback() override {
    pending_.clear();
    newest_.clear();
  }

 private:
  AppendError Reject(AppendError e) {
    head_->rejected_[static_cast<int>(e)].fetch_add(1, std::memory_order_relaxed);
    return e;
  }
  struct Pending {
    Head::MemSeries* series;
    TimestampMs t;
    double v;
  };
  Head* head_;
  std::string record_;
  std::vector<Pending> pending_;
  std::unordered_map<Head::MemSeries*, Pending> newest_;
};

Head::Head(HeadOptions options) : options_(std::move(options)) {}

namespace {

void PutBe32(std::string* dst, uint32_t v) {
  for (int i = 3; i >= 0; --i) dst->push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetBe32(std::string_view s) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[static_cast<size_t>(i)]);
  return v;
}

}  // namespace

Status Head::Open(HeadOptions options, std::unique_ptr<Head>* out) {
  if (!options.db_dir.empty() && options.wal_dir.empty())
    return Status::InvalidArgument("a database directory needs a write-ahead log directory");
  auto head = std::make_unique<Head>(options);
  TOCSIN_RETURN_IF_ERROR(head->Load());
  *out = std::move(head);
  return Status::Ok();
}

// Every series known at start (from the index or the WAL) may have chunks in the database:
// they were stored before the restart.
void Head::MarkAllInDb() {
  if (!db_) return;
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (MemSeries* s : series_) {
    if (s == nullptr) continue;
    std::lock_guard<std::mutex> slock(s->mu);
    s->in_db = true;
  }
}

Status Head::Load() {
  uint32_t wal_start = 0;
  if (!options_.db_dir.empty()) {
    TOCSIN_RETURN_IF_ERROR(ChunkDb::Open(options_.db_dir, options_.db, &db_));
    std::string meta;
    Status st = db_->GetMeta(kMetaNextId, &meta);
    if (st.ok() && meta.size() == 4) {
      std::unique_lock<std::shared_mutex> lock(mu_);
      series_.resize(GetBe32(meta), nullptr);
    }
    st = db_->GetMeta(kMetaWalStart, &meta);
    if (st.ok() && meta.size() == 4) wal_start = GetBe32(meta);
    st = db_->ForEachSeries([&](uint32_t id, std::string_view bytes,
                                std::string_view state) -> Status {
      labels::Labels l;
      TOCSIN_RETURN_IF_ERROR(labels::Labels::FromBytes(bytes, &l).WithContext("labels of series " +
                                                                              std::to_string(id)));
      MemSeries* s;
      TOCSIN_RETURN_IF_ERROR(CreateWithId(l, id, &s));
      s->logged.store(true);
      s->persisted.store(true);
      if (state.empty()) return Status::Ok();
      if (state.size() < kHeadStateSize || state[0] != kHeadStateVersion)
        return Status::Corruption("head state of series " + std::to_string(id));
      std::lock_guard<std::mutex> slock(s->mu);
      s->has_samples = state[1] != 0;
      std::memcpy(&s->last_t, state.data() + 2, 8);
      std::memcpy(&s->last_v, state.data() + 10, 8);
      std::string_view chunk = state.substr(kHeadStateSize);
      if (!chunk.empty()) {
        XorIterator it;
        it.Reset(chunk);
        s->appender.Reset(&s->open);
        while (it.Next()) {
          if (s->appender.num_samples() == 0) s->open_mint = it.t();
          s->appender.Append(it.t(), it.v());
        }
        if (!it.status().ok())
          return it.status().WithContext("open chunk of series " + std::to_string(id));
      }
      return Status::Ok();
    });
    TOCSIN_RETURN_IF_ERROR(st.WithContext("loading the series index from " + options_.db_dir));
  }
  if (options_.wal_dir.empty()) {
    MarkAllInDb();
    return Status::Ok();
  }
  // Replay through an ordinary appender (no WAL attached yet): the same checks accept the
  // same samples they accepted the first time. Samples already in the loaded checkpoint come
  // again and are skipped as identical or older.
  auto app = NewAppender();
  uint64_t replayed = 0;
  std::unordered_map<uint32_t, bool> deleted;
  Status st = Wal::Replay(
      options_.wal_dir, wal_start,
      [&](std::string_view rec) -> Status {
        if (rec.empty()) return Status::Corruption("empty WAL record");
        std::string_view body = rec.substr(1);
        if (rec[0] == kSeriesRecord) {
          if (body.size() < 4) return Status::Corruption("short series record");
          uint32_t id;
          std::memcpy(&id, body.data(), 4);
          labels::Labels l;
          TOCSIN_RETURN_IF_ERROR(labels::Labels::FromBytes(body.substr(4), &l));
          MemSeries* s;
          TOCSIN_RETURN_IF_ERROR(CreateWithId(l, id, &s));
          s->logged.store(true);
          return Status::Ok();
        }
        if (rec[0] == kDeleteRecord) {
          if (body.size() % 4 != 0) return Status::Corruption("malformed delete record");
          std::unique_lock<std::shared_mutex> lock(mu_);
          for (size_t off = 0; off < body.size(); off += 4) {
            uint32_t id;
            std::memcpy(&id, body.data() + off, 4);
            deleted[id] = true;
            if (id < series_.size() && series_[id] != nullptr) {
              UnlinkLocked(series_[id]);
              pending_deletes_.push_back(id);
            }
          }
          // The deletion's own chunk deletes may not have reached the disk.
          return db_ ? db_->DeleteSeriesChunks(pending_deletes_) : Status::Ok();
        }
        if (rec[0] != kSamplesRecord || body.size() % 20 != 0) {
          return Status::Corruption("unknown or malformed record type " +
                                    std::to_string(static_cast<int>(rec[0])));
        }
        for (size_t off = 0; off < body.size(); off += 20) {
          uint32_t id;
          int64_t t;
          uint64_t bits;
          std::memcpy(&id, body.data() + off, 4);
          std::memcpy(&t, body.data() + off + 4, 8);
          std::memcpy(&bits, body.data() + off + 12, 8);
          MemSeries* s = nullptr;
          {
            std::shared_lock<std::shared_mutex> lock(mu_);
            if (id < series_.size()) s = series_[id];
          }
          if (s == nullptr) {
            if (deleted.count(id)) continue;
            return Status::Corruption("sample of unknown series " + std::to_string(id));
          }
          if (app->AppendRef(reinterpret_cast<SeriesRef>(s), t, std::bit_cast<double>(bits)) ==
              AppendError::kNone)
            ++replayed;
        }
        return app->Commit();
      },
      &torn_);
  TOCSIN_RETURN_IF_ERROR(st.WithContext("replaying the write-ahead log"));
  replayed_ = replayed;
  MarkAllInDb();
  // Samples the checkpoint already held came again and were refused: not the writers' doing.
  for (auto& r : rejected_) r.store(0);
  return Wal::Open(options_.wal_dir, options_.wal, &wal_);
}

Head::~Head() = default;

std::unique_ptr<Appender> Head::NewAppender() { return std::make_unique<HeadAppender>(this); }

void Head::IndexLocked(MemSeries* s) {
  by_labels_.emplace(s->labels.bytes(), s->id);
  // Ids grow, so appending keeps every postings list sorted; series loaded out of order go
  // to their place.
  s->labels.ForEach([&](std::string_view n, std::string_view v) {
    auto& list = postings_[std::string(n)][std::string(v)];
    if (list.empty() || list.back() < s->id) {
      list.push_back(s->id);
    } else {
      list.insert(std::lower_bound(list.begin(), list.end(), s->id), s->id);
    }
  });
}

void Head::UnlinkLocked(MemSeries* s) {
  by_labels_.erase(s->labels.bytes());
  s->labels.ForEach([&](std::string_view n, std::string_view v) {
    auto name_it = postings_.find(std::string(n));
    if (name_it == postings_.end()) return;
    auto value_it = name_it->second.find(std::string(v));
    if (value_it == name_it->second.end()) return;
    auto& list = value_it->second;
    auto pos = std::lower_bound(list.begin(), list.end(), s->id);
    if (pos != list.end() && *pos == s->id) list.erase(pos);
    if (list.empty()) name_it->second.erase(value_it);
    if (name_it->second.empty()) postings_.erase(name_it);
  });
  series_[s->id] = nullptr;
  s->deleted.store(true);
  std::lock_guard<std::mutex> slock(s->mu);
  std::string().swap(s->open);
  s->appender = XorAppender();
  s->closed.clear();
}

Head::MemSeries* Head::GetOrCreate(const labels::Labels& l) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = by_labels_.find(l.bytes());
    if (it != by_labels_.end()) return series_[it->second];
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto found = by_labels_.find(l.bytes());
  if (found != by_labels_.end()) return series_[found->second];
  auto id = static_cast<uint32_t>(series_.size());
  owned_.push_back(std::make_unique<MemSeries>(l, id));
  series_.push_back(owned_.back().get());
  IndexLocked(series_.back());
  return series_.back();
}

Status Head::CreateWithId(const labels::Labels& l, uint32_t id, MemSeries** out) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (id < series_.size() && series_[id] != nullptr) {
    if (series_[id]->labels != l)
      return Status::Corruption("series " + std::to_string(id) + " has two label sets");
    *out = series_[id];
    return Status::Ok();
  }
  if (by_labels_.count(l.bytes()))
    return Status::Corruption("label set of series " + std::to_string(id) + " has two ids");
  if (id >= series_.size()) series_.resize(size_t{id} + 1, nullptr);
  owned_.push_back(std::make_unique<MemSeries>(l, id));
  series_[id] = owned_.back().get();
  IndexLocked(series_[id]);
  *out = series_[id];
  return Status::Ok();
}

void Head::CloseChunk(MemSeries* s) {
  thread_local std::vector<TimestampMs> ts;
  thread_local std::vector<double> vs;
  ts.clear();
  vs.clear();
  XorIterator it;
  it.Reset(s->open);
  while (it.Next()) {
    ts.push_back(it.t());
    vs.push_back(it.v());
  }
  auto bytes = std::make_shared<std::string>();
  EncodeBest(ts, vs, bytes.get());
  chunks_closed_.fetch_add(1, std::memory_order_relaxed);
  closed_bytes_.fetch_add(bytes->size(), std::memory_order_relaxed);
  closed_samples_.fetch_add(ts.size(), std::memory_order_relaxed);
  // Written under the series' lock, so a checkpoint sees the samples either in the open chunk
  // or in the database, never in neither.
  bool stored = db_ && db_->PutChunk(s->id, ts.front(), ts.back(), *bytes).ok();
  if (stored) s->in_db = true;
  if (db_ && !stored) chunk_write_failures_.fetch_add(1, std::memory_order_relaxed);
  if (!stored) s->closed.push_back({ts.front(), ts.back(), std::move(bytes)});
  s->open.clear();
  s->appender = XorAppender();
}

Status Head::Checkpoint() {
  if (!db_ || !wal_) return Status::Ok();
  std::lock_guard<std::mutex> cp(checkpoint_mu_);
  auto start = std::chrono::steady_clock::now();
  uint32_t wal_start;
  {
    // Every commit logged before the cut is applied: the snapshot below holds it.
    std::lock_guard<std::mutex> commit_lock(commit_mu_);
    TOCSIN_RETURN_IF_ERROR(wal_->Cut(&wal_start));
  }
  std::vector<MemSeries*> all;
  uint32_t next_id;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    all.reserve(by_labels_.size());
    for (MemSeries* s : series_)
      if (s != nullptr) all.push_back(s);
    next_id = static_cast<uint32_t>(series_.size());
  }
  ChunkDb::Batch batch;
  std::vector<MemSeries*> newly;
  std::string state;
  for (MemSeries* s : all) {
    {
      std::lock_guard<std::mutex> slock(s->mu);
      state.assign(1, kHeadStateVersion);
      state.push_back(s->has_samples ? 1 : 0);
      Put(&state, &s->last_t, 8);
      Put(&state, &s->last_v, 8);
      state.append(s->open);
    }
    if (!s->persisted.load()) {
      batch.PutSeries(s->id, s->labels.bytes());
      newly.push_back(s);
    }
    batch.PutHead(s->id, state);
    if (batch.count() >= 50000) {
      TOCSIN_RETURN_IF_ERROR(db_->Write(&batch).WithContext("checkpoint"));
      batch.Clear();
    }
  }
  for (uint32_t id : pending_deletes_) batch.DeleteSeries(id);
  std::string meta;
  PutBe32(&meta, next_id);
  batch.PutMeta(kMetaNextId, meta);
  TOCSIN_RETURN_IF_ERROR(db_->Write(&batch).WithContext("checkpoint"));
  TOCSIN_RETURN_IF_ERROR(db_->Flush().WithContext("checkpoint"));
  // Only now may replay start at the cut.
  batch.Clear();
  meta.clear();
  PutBe32(&meta, wal_start);
  batch.PutMeta(kMetaWalStart, meta);
  TOCSIN_RETURN_IF_ERROR(db_->Write(&batch).WithContext("checkpoint"));
  TOCSIN_RETURN_IF_ERROR(db_->Flush().WithContext("checkpoint"));
  for (MemSeries* s : newly) s->persisted.store(true);
  pending_deletes_.clear();
  uint32_t keep_from = wal_floor_ ? std::min(wal_start, wal_floor_()) : wal_start;
  TOCSIN_RETURN_IF_ERROR(wal_->DeleteSegmentsBefore(keep_from).WithContext("checkpoint"));
  checkpoints_.fetch_add(1);
  last_checkpoint_seconds_.store(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return Status::Ok();
}

Status Head::ApplyRetention(const RetentionPolicy& policy) {
  if (!db_) return Status::Ok();
  std::lock_guard<std::mutex> cp(checkpoint_mu_);
  std::vector<int64_t> blocks;
  TOCSIN_RETURN_IF_ERROR(db_->Blocks(&blocks));
  if (policy.keep_after != INT64_MIN) {
    TimestampMs first_kept = BlockOf(policy.keep_after) * kBlockMs;
    if (first_kept > min_valid_time_.load()) min_valid_time_.store(first_kept);
  }
  if (blocks.empty()) return Status::Ok();
  int64_t drop_before = blocks.front();
  if (policy.keep_after != INT64_MIN) drop_before = BlockOf(policy.keep_after);
  if (policy.max_bytes > 0) {
    uint64_t total = db_->SizeBytes() + (wal_ ? wal_->size_bytes() : 0);
    // Oldest first, never the newest day (ingestion writes there).
    for (size_t i = 0; i + 1 < blocks.size() && total > policy.max_bytes; ++i) {
      if (blocks[i] < drop_before) continue;
      uint64_t b = db_->BlockBytes(blocks[i]);
      total -= std::min(total, b);
      drop_before = blocks[i] + 1;
    }
  }
  // From now on samples of dropped (or expired) days are refused rather than stored again.
  TimestampMs first_kept = drop_before * kBlockMs;
  if (first_kept > min_valid_time_.load()) min_valid_time_.store(first_kept);
  uint64_t dropped = 0;
  for (int64_t b : blocks) dropped += b < drop_before ? 1 : 0;
  if (dropped == 0) return Status::Ok();
  TOCSIN_RETURN_IF_ERROR(db_->DropBlocksBefore(drop_before).WithContext("retention"));
  blocks_dropped_.fetch_add(dropped);
  return Status::Ok();
}

Status Head::DeleteSeries(std::span<const labels::Matcher> matchers, uint64_t* deleted) {
  std::lock_guard<std::mutex> cp(checkpoint_mu_);
  std::vector<uint32_t> ids;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    ids = Select(matchers);
    for (uint32_t id : ids) UnlinkLocked(series_[id]);
  }
  *deleted = ids.size();
  if (ids.empty()) return Status::Ok();
  deletion_generation_.fetch_add(1);
  series_deleted_.fetch_add(ids.size());
  if (wal_) {
    std::string rec(1, kDeleteRecord);
    for (uint32_t id : ids) Put(&rec, &id, 4);
    std::lock_guard<std::mutex> commit_lock(commit_mu_);
    TOCSIN_RETURN_IF_ERROR(wal_->Append(rec).WithContext("write-ahead log"));
  }
  if (db_) {
    // The index keys go at the next checkpoint: until then a replay meets samples of these
    // series before their delete record and needs to know them.
    pending_deletes_.insert(pending_deletes_.end(), ids.begin(), ids.end());
    TOCSIN_RETURN_IF_ERROR(db_->DeleteSeriesChunks(ids));
  }
  return Status::Ok();
}

Status Head::Snapshot(const std::string& dir) {
  if (!db_) return Status::Unavailable("snapshots need the on-disk store");
  TOCSIN_RETURN_IF_ERROR(Checkpoint());
  return db_->Checkpoint(dir);
}

bool Head::LabelsOf(uint32_t id, labels::Labels* out) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (id >= series_.size() || series_[id] == nullptr) return false;
  *out = series_[id]->labels;
  return true;
}

HeadStats Head::Stats() const {
  HeadStats st;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    st.series = by_labels_.size();
  }
  st.samples_appended = appended_.load();
  for (int i = 0; i < 5; ++i) st.rejected[i] = rejected_[i].load();
  st.chunks_closed = chunks_closed_.load();
  st.closed_chunk_bytes = closed_bytes_.load();
  st.closed_chunk_samples = closed_samples_.load();
  st.chunk_write_failures = chunk_write_failures_.load();
  st.wal_bytes = wal_ ? wal_->size_bytes() : 0;
  st.wal_fsyncs = wal_ ? wal_->fsyncs() : 0;
  st.wal_fsync_seconds = wal_ ? wal_->fsync_seconds() : 0;
  st.db_bytes = db_ ? db_->SizeBytes() : 0;
  st.checkpoints = checkpoints_.load();
  st.last_checkpoint_seconds = last_checkpoint_seconds_.load();
  st.retention_blocks_dropped = blocks_dropped_.load();
  st.series_deleted = series_deleted_.load();
  return st;
}

namespace {

void TopInto(std::vector<std::pair<std::string, uint64_t>>* v, size_t limit) {
  auto by_count = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (v->size() > limit) {
    std::partial_sort(v->begin(), v->begin() + static_cast<ptrdiff_t>(limit), v->end(), by_count);
    v->resize(limit);
  } else {
    std::sort(v->begin(), v->end(), by_count);
  }
}

}  // namespace

CardinalityStats Head::Cardinality(size_t limit) const {
  CardinalityStats c;
  std::shared_lock<std::shared_mutex> lock(mu_);
  c.series = by_labels_.size();
  for (const auto& [name, values] : postings_) {
    uint64_t bytes = 0;
    for (const auto& [value, list] : values) {
      ++c.label_pairs;
      bytes += value.size() * list.size();
      if (name == labels::kMetricName) c.series_by_metric.emplace_back(value, list.size());
      c.series_by_pair.emplace_back(name + "=" + value, list.size());
    }
    c.values_by_label.emplace_back(name, values.size());
    c.bytes_by_label.emplace_back(name, bytes);
  }
  bool any = false;
  for (MemSeries* s : series_) {
    if (s == nullptr) continue;
    std::lock_guard<std::mutex> slock(s->mu);
    if (s->appender.num_samples() == 0) continue;
    c.min_time = any ? std::min(c.min_time, s->open_mint) : s->open_mint;
    c.max_time = any ? std::max(c.max_time, s->last_t) : s->last_t;
    any = true;
  }
  lock.unlock();
  TopInto(&c.series_by_metric, limit);
  TopInto(&c.values_by_label, limit);
  TopInto(&c.bytes_by_label, limit);
  TopInto(&c.series_by_pair, limit);
  return c;
}

namespace {

std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<uint32_t> Without(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// The series of every value of one label name for which pred(value) holds, sorted: gathered
// and sorted once (a series has one value per name, so the lists never overlap).
template <typename Pred>
std::vector<uint32_t> SeriesWhere(const std::map<std::string, std::vector<uint32_t>>& values,
                                  Pred pred) {
  std::vector<uint32_t> out;
  for (const auto& [value, list] : values)
    if (pred(value)) out.insert(out.end(), list.begin(), list.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<uint32_t> Head::Select(std::span<const labels::Matcher> matchers) const {
  // As Prometheus's PostingsForMatchers: intersect the series of matchers that need the label,
  // then remove series whose value a label-may-be-absent matcher rejects.
  std::vector<uint32_t> result;
  bool started = false;
  for (const labels::Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    std::vector<uint32_t> ids;
    auto name_it = postings_.find(m.name());
    if (name_it != postings_.end()) {
      if (m.type() == labels::Matcher::Type::kEqual) {
        auto v = name_it->second.find(m.value());
        if (v != name_it->second.end()) ids = v->second;
      } else {
        ids = SeriesWhere(name_it->second, [&](const std::string& v) { return m.Matches(v); });
      }
    }
    result = started ? Intersect(result, ids) : std::move(ids);
    started = true;
    if (result.empty()) return result;
  }
  if (!started) {
    result.reserve(by_labels_.size());
    for (uint32_t i = 0; i < series_.size(); ++i)
      if (series_[i] != nullptr) result.push_back(i);
  }
  for (const labels::Matcher& m : matchers) {
    if (!m.MatchesEmpty()) continue;
    auto name_it = postings_.find(m.name());
    if (name_it == postings_.end()) continue;
    result = Without(
        result, SeriesWhere(name_it->second, [&](const std::string& v) { return !m.Matches(v); }));
  }
  return result;
}

namespace {

// Iterates a snapshot of chunks, yielding samples within [mint, maxt].
class ChunksIterator final : public SeriesIterator {
 public:
  ChunksIterator(std::vector<std::shared_ptr<const std::string>> chunks, TimestampMs mint,
                 TimestampMs maxt)
      : chunks_(std::move(chunks)), mint_(mint), maxt_(maxt) {}

  bool Next() override {
    for (;;) {
      if (!started_) {
        if (next_chunk_ >= chunks_.size()) return false;
        it_.Reset(*chunks_[next_chunk_++]);
        started_ = true;
      }
      while (it_.Next()) {
        // Chunks come in order of their first sample; one may repeat samples of another (a
        // chunk read from both the head and the database while it was being closed, or
        // rebuilt by a replay): each timestamp is yielded once.
        if (it_.t() < mint_ || (emitted_ && it_.t() <= last_t_)) continue;
        if (it_.t() > maxt_) {
          next_chunk_ = chunks_.size();
          started_ = false;
          return false;
        }
        emitted_ = true;
        last_t_ = it_.t();
        return true;
      }
      if (!it_.status().ok()) {
        status_ = it_.status();
        return false;
      }
      started_ = false;
    }
  }
  bool Seek(TimestampMs t) override {
    if (started_ && it_.t() >= t && it_.t() >= mint_) return true;
    while (Next()) {
      if (it_.t() >= t) return true;
    }
    return false;
  }
  TimestampMs t() const override { return it_.t(); }
  double v() const override { return it_.v(); }
  Status status() const override { return status_; }
  size_t NextBatch(TimestampMs* t, double* v, size_t max) override {
    size_t n = 0;
    while (n < max && ChunksIterator::Next()) {  // (final: no virtual call per sample)
      t[n] = it_.t();
      v[n] = it_.v();
      ++n;
    }
    return n;
  }

 private:
  std::vector<std::shared_ptr<const std::string>> chunks_;
  TimestampMs mint_, maxt_;
  size_t next_chunk_ = 0;
  bool started_ = false;
  bool emitted_ = false;
  TimestampMs last_t_ = 0;
  ChunkIterator it_;
  Status status_;
};

class OneSampleIterator : public SeriesIterator {
 public:
  OneSampleIterator(TimestampMs t, double v) : t_(t), v_(v) {}
  bool Next() override { return !done_ && (done_ = true); }
  bool Seek(TimestampMs t) override {
    done_ = true;
    return t_ >= t;
  }
  TimestampMs t() const override { return t_; }
  double v() const override { return v_; }
  Status status() const override { return Status::Ok(); }

 private:
  TimestampMs t_;
  double v_;
  bool done_ = false;
};

class VectorSeriesSet : public SeriesSet {
 public:
  struct Entry {
    labels::Labels labels;
    uint32_t id = 0;
    std::vector<std::shared_ptr<const std::string>> chunks;
    bool read_db = false;  // the database may hold chunks of it in range
    bool latest = false;   // only its newest sample, below (no chunks)
    TimestampMs latest_t = 0;
    double latest_v = 0;
  };
  VectorSeriesSet(std::vector<Entry> entries, TimestampMs mint, TimestampMs maxt)
      : entries_(std::move(entries)), mint_(mint), maxt_(maxt) {}
  bool Next() override { return ++pos_ < static_cast<ptrdiff_t>(entries_.size()); }
  const labels::Labels& labels() const override {
    return entries_[static_cast<size_t>(pos_)].labels;
  }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    const Entry& e = entries_[static_cast<size_t>(pos_)];
    if (e.latest) return std::make_unique<OneSampleIterator>(e.latest_t, e.latest_v);
    return std::make_unique<ChunksIterator>(e.chunks, mint_, maxt_);
  }
  Status status() const override { return Status::Ok(); }

 private:
  std::vector<Entry> entries_;
  TimestampMs mint_, maxt_;
  ptrdiff_t pos_ = -1;
};

}  // namespace

class HeadQuerier : public Querier {
 public:
  explicit HeadQuerier(const Head* head) : head_(head) {}

  Status Select(TimestampMs mint, TimestampMs maxt, std::span<const labels::Matcher> matchers,
                std::unique_ptr<SeriesSet>* out) override {
    return DoSelect(mint, maxt, matchers, false, out);
  }
  Status SelectLatest(TimestampMs mint, TimestampMs maxt, std::span<const labels::Matcher> matchers,
                      std::unique_ptr<SeriesSet>* out) override {
    return DoSelect(mint, maxt, matchers, true, out);
  }

  Status DoSelect(TimestampMs mint, TimestampMs maxt, std::span<const labels::Matcher> matchers,
                  bool latest, std::unique_ptr<SeriesSet>* out) {
    std::vector<VectorSeriesSet::Entry> entries;
    std::shared_lock<std::shared_mutex> lock(head_->mu_);
    for (uint32_t id : head_->Select(matchers)) {
      Head::MemSeries* s = head_->series_[id];
      VectorSeriesSet::Entry e;
      e.id = id;
      {
        std::lock_guard<std::mutex> slock(s->mu);
        if (latest && s->has_samples && s->last_t <= maxt &&
            s->last_t >= head_->min_valid_time_.load(std::memory_order_relaxed)) {
          // The newest sample is the one wanted (and not in a day retention dropped): no chunk
          // to copy or decode.
          if (s->last_t < mint) continue;
          e.latest = true;
          e.latest_t = s->last_t;
          e.latest_v = std::bit_cast<double>(s->last_v);
          e.labels = s->labels;
          entries.push_back(std::move(e));
          continue;
        }
        for (const auto& c : s->closed) {
          if (c.maxt >= mint && c.mint <= maxt) e.chunks.push_back(c.bytes);
        }
        if (s->appender.num_samples() > 0 && s->open_mint <= maxt && s->last_t >= mint) {
          e.chunks.push_back(std::make_shared<const std::string>(s->open));  // a snapshot
        }
        // The database holds only chunks older than the open one: none can be in range when
        // the series never stored one, or when the open chunk starts at or before mint.
        e.read_db = head_->db_ && s->in_db && s->has_samples && s->last_t >= mint &&
                    !(s->appender.num_samples() > 0 && s->open_mint <= mint);
        if (e.chunks.empty() && !e.read_db) continue;
      }
      e.labels = s->labels;
      entries.push_back(std::move(e));
    }
    lock.unlock();
    if (head_->db_) {
      // After the in-memory snapshot: a chunk closed meanwhile is read twice (deduplicated by
      // the iterator), never missed.
      if (!reader_) reader_ = head_->db_->NewReader();
      std::vector<StoredChunk> stored;
      for (auto& e : entries) {
        if (!e.read_db || e.latest) continue;
        TOCSIN_RETURN_IF_ERROR(reader_->Read(e.id, mint, maxt, &stored));
        if (stored.empty()) continue;
        std::vector<std::shared_ptr<const std::string>> chunks;
        chunks.reserve(stored.size() + e.chunks.size());
        for (auto& c : stored)
          chunks.push_back(std::make_shared<const std::string>(std::move(c.bytes)));
        for (auto& c : e.chunks) chunks.push_back(std::move(c));
        e.chunks.swap(chunks);
      }
      std::erase_if(entries, [](const auto& e) { return e.chunks.empty() && !e.latest; });
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
    *out = std::make_unique<VectorSeriesSet>(std::move(entries), mint, maxt);
    return Status::Ok();
  }

  Status LabelNames(std::span<const labels::Matcher> matchers,
                    std::vector<std::string>* out) override {
    out->clear();
    std::shared_lock<std::shared_mutex> lock(head_->mu_);
    if (matchers.empty()) {
      for (const auto& [name, values] : head_->postings_) out->push_back(name);
      return Status::Ok();
    }
    std::map<std::string, bool> names;
    for (uint32_t id : head_->Select(matchers)) {
      head_->series_[id]->labels.ForEach(
          [&](std::string_view n, std::string_view) { names[std::string(n)] = true; });
    }
    for (auto& [n, _] : names) out->push_back(n);
    return Status::Ok();
  }

  Status LabelValues(const std::string& name, std::span<const labels::Matcher> matchers,
                     std::vector<std::string>* out) override {
    out->clear();
    std::shared_lock<std::shared_mutex> lock(head_->mu_);
    auto it = head_->postings_.find(name);
    if (it == head_->postings_.end()) return Status::Ok();
    if (matchers.empty()) {
      for (const auto& [value, _] : it->second) out->push_back(value);
      return Status::Ok();
    }
    std::vector<uint32_t> ids = head_->Select(matchers);
    for (const auto& [value, list] : it->second) {
      if (!Intersect(ids, list).empty()) out->push_back(value);
    }
    return Status::Ok();
  }

 private:
  const Head* head_;
  std::unique_ptr<ChunkDb::Reader> reader_;
};

std::unique_ptr<Querier> Head::NewQuerier() { return std::make_unique<HeadQuerier>(this); }

}  // namespace tocsin::tsdb
