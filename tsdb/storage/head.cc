#include "tsdb/storage/head.h"

#include <algorithm>
#include <bit>
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
  std::atomic<bool> logged{false};  // its labels are in the WAL
  std::mutex mu;
  struct Closed {
    TimestampMs mint, maxt;
    std::shared_ptr<const std::string> bytes;
  };
  std::vector<Closed> closed;  // GUARDED_BY(mu), in time order
  std::string open;            // GUARDED_BY(mu): the open XOR chunk
  XorAppender appender;        // GUARDED_BY(mu), writes into `open`
  TimestampMs open_mint = 0;   // GUARDED_BY(mu)
  bool has_samples = false;    // GUARDED_BY(mu)
  TimestampMs last_t = 0;      // GUARDED_BY(mu)
  uint64_t last_v = 0;         // GUARDED_BY(mu): bits of the newest value
};

namespace {

// WAL record types (FROZEN values).
constexpr char kSeriesRecord = 1;   // [u32 series id][labels bytes]
constexpr char kSamplesRecord = 2;  // repeated [u32 series id][i64 t][f64 v bits]

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

Status Head::Open(HeadOptions options, std::unique_ptr<Head>* out) {
  auto head = std::make_unique<Head>(options);
  if (!options.wal_dir.empty()) {
    // Replay through an ordinary appender (no WAL attached yet): the same checks accept the
    // same samples they accepted the first time.
    std::unordered_map<uint32_t, SeriesRef> refs;  // WAL series id -> series
    auto app = head->NewAppender();
    uint64_t replayed = 0;
    Status st = Wal::Replay(
        options.wal_dir,
        [&](std::string_view rec) -> Status {
          if (rec.empty()) return Status::Corruption("empty WAL record");
          std::string_view body = rec.substr(1);
          if (rec[0] == kSeriesRecord) {
            if (body.size() < 4) return Status::Corruption("short series record");
            uint32_t id;
            std::memcpy(&id, body.data(), 4);
            labels::Labels l;
            TOCSIN_RETURN_IF_ERROR(labels::Labels::FromBytes(body.substr(4), &l));
            MemSeries* s = head->GetOrCreate(l);
            s->logged.store(true);
            refs[id] = reinterpret_cast<SeriesRef>(s);
            return Status::Ok();
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
            auto it = refs.find(id);
            if (it == refs.end())
              return Status::Corruption("sample of unknown series " + std::to_string(id));
            if (app->AppendRef(it->second, t, std::bit_cast<double>(bits)) == AppendError::kNone)
              ++replayed;
          }
          return app->Commit();
        },
        &head->torn_);
    TOCSIN_RETURN_IF_ERROR(st.WithContext("replaying the write-ahead log"));
    head->replayed_ = replayed;
    TOCSIN_RETURN_IF_ERROR(Wal::Open(options.wal_dir, options.wal, &head->wal_));
  }
  *out = std::move(head);
  return Status::Ok();
}
Head::~Head() = default;

std::unique_ptr<Appender> Head::NewAppender() { return std::make_unique<HeadAppender>(this); }

Head::MemSeries* Head::GetOrCreate(const labels::Labels& l) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = by_labels_.find(l.bytes());
    if (it != by_labels_.end()) return series_[it->second].get();
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto found = by_labels_.find(l.bytes());
  if (found != by_labels_.end()) return series_[found->second].get();
  auto id = static_cast<uint32_t>(series_.size());
  series_.push_back(std::make_unique<MemSeries>(l, id));
  by_labels_.emplace(series_.back()->labels.bytes(), id);
  // Ids grow, so appending keeps every postings list sorted.
  l.ForEach([&](std::string_view n, std::string_view v) {
    postings_[std::string(n)][std::string(v)].push_back(id);
  });
  return series_.back().get();
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
  s->closed.push_back({ts.front(), ts.back(), std::move(bytes)});
  s->open.clear();
  s->appender = XorAppender();
}

HeadStats Head::Stats() const {
  HeadStats st;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    st.series = series_.size();
  }
  st.samples_appended = appended_.load();
  for (int i = 0; i < 5; ++i) st.rejected[i] = rejected_[i].load();
  st.chunks_closed = chunks_closed_.load();
  st.closed_chunk_bytes = closed_bytes_.load();
  st.closed_chunk_samples = closed_samples_.load();
  return st;
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

void MergeInto(std::vector<uint32_t>* acc, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  std::set_union(acc->begin(), acc->end(), b.begin(), b.end(), std::back_inserter(out));
  acc->swap(out);
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
        for (const auto& [value, list] : name_it->second) {
          if (m.Matches(value)) MergeInto(&ids, list);
        }
      }
    }
    result = started ? Intersect(result, ids) : std::move(ids);
    started = true;
    if (result.empty()) return result;
  }
  if (!started) {
    result.resize(series_.size());
    for (uint32_t i = 0; i < result.size(); ++i) result[i] = i;
  }
  for (const labels::Matcher& m : matchers) {
    if (!m.MatchesEmpty()) continue;
    auto name_it = postings_.find(m.name());
    if (name_it == postings_.end()) continue;
    std::vector<uint32_t> rejected;
    for (const auto& [value, list] : name_it->second) {
      if (!m.Matches(value)) MergeInto(&rejected, list);
    }
    result = Without(result, rejected);
  }
  return result;
}

namespace {

// Iterates a snapshot of chunks, yielding samples within [mint, maxt].
class ChunksIterator : public SeriesIterator {
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
        if (it_.t() < mint_) continue;
        if (it_.t() > maxt_) {
          next_chunk_ = chunks_.size();
          started_ = false;
          return false;
        }
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

 private:
  std::vector<std::shared_ptr<const std::string>> chunks_;
  TimestampMs mint_, maxt_;
  size_t next_chunk_ = 0;
  bool started_ = false;
  ChunkIterator it_;
  Status status_;
};

class VectorSeriesSet : public SeriesSet {
 public:
  struct Entry {
    labels::Labels labels;
    std::vector<std::shared_ptr<const std::string>> chunks;
  };
  VectorSeriesSet(std::vector<Entry> entries, TimestampMs mint, TimestampMs maxt)
      : entries_(std::move(entries)), mint_(mint), maxt_(maxt) {}
  bool Next() override { return ++pos_ < static_cast<ptrdiff_t>(entries_.size()); }
  const labels::Labels& labels() const override {
    return entries_[static_cast<size_t>(pos_)].labels;
  }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    return std::make_unique<ChunksIterator>(entries_[static_cast<size_t>(pos_)].chunks, mint_,
                                            maxt_);
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
    std::vector<VectorSeriesSet::Entry> entries;
    std::shared_lock<std::shared_mutex> lock(head_->mu_);
    for (uint32_t id : head_->Select(matchers)) {
      Head::MemSeries* s = head_->series_[id].get();
      VectorSeriesSet::Entry e;
      {
        std::lock_guard<std::mutex> slock(s->mu);
        for (const auto& c : s->closed) {
          if (c.maxt >= mint && c.mint <= maxt) e.chunks.push_back(c.bytes);
        }
        if (s->appender.num_samples() > 0 && s->open_mint <= maxt && s->last_t >= mint) {
          e.chunks.push_back(std::make_shared<const std::string>(s->open));  // a snapshot
        }
      }
      if (e.chunks.empty()) continue;
      e.labels = s->labels;
      entries.push_back(std::move(e));
    }
    lock.unlock();
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
};

std::unique_ptr<Querier> Head::NewQuerier() { return std::make_unique<HeadQuerier>(this); }

}  // namespace tocsin::tsdb
