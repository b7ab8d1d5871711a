#include "tsdb/remote/sender.h"

#include <snappy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/base/file.h"
#include "common/base/log.h"
#include "common/base/md5.h"
#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "common/http/client.h"
#include "tsdb/remote/write_request.h"
#include "tsdb/storage/wal.h"

namespace tocsin::tsdb::remote {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string HexPrefix(std::string_view s) {
  auto d = Md5(s);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out.push_back(kHex[d[static_cast<size_t>(i)] >> 4]);
    out.push_back(kHex[d[static_cast<size_t>(i)] & 15]);
  }
  return out;
}

std::string RedactedUrl(const std::string& url) {
  scrape::Config c;
  c.remote_write.push_back({});
  c.remote_write.back().url = url;
  // Config::Redacted hides user:password@; take the url line back out.
  std::string yaml = c.Redacted();
  size_t at = yaml.find("url: ");
  if (at == std::string::npos) return url;
  size_t end = yaml.find('\n', at);
  return yaml.substr(at + 5, end - at - 5);
}

}  // namespace

struct Sender::Impl {
  Impl(Sender* s, Head* h, scrape::RemoteWriteConfig c, scrape::LabelPairs ext, std::string dir,
       std::string ua)
      : owner(s),
        head(h),
        cfg(std::move(c)),
        external(std::move(ext)),
        state_dir(std::move(dir)),
        user_agent(std::move(ua)) {}

  Sender* owner;
  Head* head;
  scrape::RemoteWriteConfig cfg;
  scrape::LabelPairs external;
  std::string state_dir, user_agent, position_file;

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;

  std::atomic<uint64_t> sent{0}, dropped{0}, retries{0}, requests{0}, bytes{0}, pending{0},
      send_us{0}, skipped{0};
  std::atomic<int64_t> highest{0};

  struct SeriesEntry {
    labels::Labels labels;  // after relabelling and external labels
    bool dropped = false;
  };
  std::unordered_map<uint32_t, SeriesEntry> series;
  uint64_t deletion_generation = 0;

  bool Sleep(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, d, [&] { return stop; });
  }

  void LoadPosition(uint32_t* segment, uint64_t* offset) {
    std::string text;
    std::vector<uint32_t> segs;
    (void)Wal::ListSegments(head->wal_dir(), &segs);
    if (ReadFile(position_file, &text, 4096).ok()) {
      unsigned seg = 0;
      unsigned long long off = 0;
      if (std::sscanf(text.c_str(), "%u %llu", &seg, &off) == 2) {
        if (!segs.empty() && seg < segs.front()) {
          log::Warn("Remote write resumes after a gap: its WAL segments were removed",
                    {{"remote", owner->display_name()}, {"from_segment", std::to_string(seg)}});
          *segment = segs.front();
          *offset = 0;
          return;
        }
        *segment = seg;
        *offset = off;
        return;
      }
    }
    // First start: from now on (the newest segment, which this process opened).
    *segment = segs.empty() ? 1 : segs.back();
    *offset = 0;
  }

  uint32_t saved_segment = 0;
  uint64_t saved_offset = 0;

  void SavePosition(uint32_t segment, uint64_t offset) {
    saved_segment = segment;
    saved_offset = offset;
    std::string tmp = position_file + ".tmp";
    std::string text = std::to_string(segment) + " " + std::to_string(offset) + "\n";
    if (WriteFileAtomic(tmp, position_file, text)) owner->floor_.store(segment);
  }

  static bool WriteFileAtomic(const std::string& tmp, const std::string& path,
                              const std::string& text) {
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return false;
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = std::fflush(f) == 0 && ok;
    ::fsync(::fileno(f));
    ok = std::fclose(f) == 0 && ok;
    return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
  }

  const SeriesEntry* Lookup(uint32_t id) {
    auto it = series.find(id);
    if (it != series.end()) return &it->second;
    labels::Labels l;
    if (!head->LabelsOf(id, &l)) return nullptr;  // deleted since
    SeriesEntry e;
    scrape::LabelPairs lb;
    l.ForEach([&](std::string_view n, std::string_view v) { lb.emplace_back(n, v); });
    for (const auto& [n, v] : external)
      if (scrape::GetLabel(lb, n).empty()) lb.emplace_back(n, v);
    if (!cfg.write_relabel_configs.empty() && !scrape::Relabel(cfg.write_relabel_configs, &lb)) {
      e.dropped = true;
    } else {
      std::erase_if(lb, [](const auto& p) { return p.second.empty(); });
      e.dropped = !labels::Labels::FromPairs(std::move(lb), &e.labels).ok();
    }
    return &series.emplace(id, std::move(e)).first->second;
  }

  struct Pending {
    uint32_t id;
    int64_t t;
    double v;
  };

  // Sends one request; retries recoverable failures until delivered, refused or stopped.
  // Returns false only when stopped before delivery.
  bool Send(const std::vector<Pending>& batch, size_t begin, size_t end) {
    std::map<uint32_t, std::vector<Sample>> by_series;
    for (size_t i = begin; i < end; ++i) by_series[batch[i].id].push_back({batch[i].v, batch[i].t});
    std::string proto;
    std::vector<Label> ls;
    int64_t max_t = 0;
    size_t count = 0;
    for (auto& [id, samples] : by_series) {
      const SeriesEntry* e = Lookup(id);
      if (e == nullptr || e->dropped) {
        dropped.fetch_add(samples.size(), std::memory_order_relaxed);
        continue;
      }
      ls.clear();
      e->labels.ForEach([&](std::string_view n, std::string_view v) { ls.push_back({n, v}); });
      EncodeTimeSeries(ls, samples, &proto);
      for (const auto& s : samples) max_t = std::max(max_t, s.timestamp_ms);
      count += samples.size();
    }
    if (count == 0) return true;
    std::string body;
    snappy::Compress(proto.data(), proto.size(), &body);
    http::ClientRequest req;
    req.method = "POST";
    req.url = cfg.url;
    req.timeout = cfg.remote_timeout;
    req.body = std::move(body);
    req.headers = {{"Content-Encoding", "snappy"},
                   {"Content-Type", "application/x-protobuf"},
                   {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                   {"User-Agent", user_agent}};
    for (const auto& h : cfg.headers) req.headers.push_back(h);
    if (!cfg.http.authorization_credentials.empty())
      req.headers.emplace_back(
          "Authorization", cfg.http.authorization_type + " " + cfg.http.authorization_credentials);
    req.basic_auth_user = cfg.http.basic_auth_user;
    req.basic_auth_password = cfg.http.basic_auth_password;
    req.ca_file = cfg.http.tls.ca_file;
    req.cert_file = cfg.http.tls.cert_file;
    req.key_file = cfg.http.tls.key_file;
    req.insecure_skip_verify = cfg.http.tls.insecure_skip_verify;
    req.max_response_bytes = 1 << 20;
    auto backoff = cfg.queue.min_backoff;
    for (;;) {
      auto start = SteadyClock::now();
      http::ClientResponse resp;
      Status st = http::Fetch(req, &resp);
      send_us.fetch_add(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  SteadyClock::now() - start)
                                                  .count()),
                        std::memory_order_relaxed);
      requests.fetch_add(1, std::memory_order_relaxed);
      bool recoverable;
      std::string why;
      if (st.ok() && resp.status / 100 == 2) {
        sent.fetch_add(count, std::memory_order_relaxed);
        bytes.fetch_add(req.body.size(), std::memory_order_relaxed);
        int64_t prev = highest.load();
        while (max_t > prev && !highest.compare_exchange_weak(prev, max_t)) {
        }
        return true;
      }
      if (!st.ok()) {
        recoverable = true;
        why = std::string(st.message());
      } else {
        recoverable = resp.status / 100 == 5 || (resp.status == 429 && cfg.queue.retry_on_http_429);
        why = "HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 256);
      }
      if (!recoverable) {
        dropped.fetch_add(count, std::memory_order_relaxed);
        log::Error(
            "Remote write refused a batch; its samples are dropped",
            {{"remote", owner->display_name()}, {"samples", std::to_string(count)}, {"err", why}});
        return true;
      }
      retries.fetch_add(1, std::memory_order_relaxed);
      log::Debug("Remote write failed; retrying",
                 {{"remote", owner->display_name()}, {"err", why}});
      if (!Sleep(backoff)) return false;
      backoff = std::min(backoff * 2, cfg.queue.max_backoff);
    }
  }

  void Run() {
    uint32_t segment;
    uint64_t offset;
    LoadPosition(&segment, &offset);
    owner->floor_.store(segment);
    WalReader reader(head->wal_dir(), segment, offset);
    std::vector<Pending> batch;
    SteadyClock::time_point first_pending;
    std::string record;
    uint64_t skipped_local = 0;
    const size_t max = static_cast<size_t>(cfg.queue.max_samples_per_send);
    auto flush = [&]() -> bool {
      for (size_t i = 0; i < batch.size(); i += max) {
        if (!Send(batch, i, std::min(batch.size(), i + max))) return false;
      }
      batch.clear();
      pending.store(0);
      SavePosition(reader.segment(), reader.offset());
      return true;
    };
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop) return;
      }
      uint64_t gen = head->deletion_generation();
      if (gen != deletion_generation) {
        series.clear();
        deletion_generation = gen;
      }
      bool got = reader.Next(&record, &skipped_local);
      skipped.store(skipped_local);
      if (got) {
        if (!record.empty() && record[0] == static_cast<char>(WalRecord::kSamples) &&
            (record.size() - 1) % 20 == 0) {
          if (batch.empty()) first_pending = SteadyClock::now();
          for (size_t off = 1; off < record.size(); off += 20) {
            Pending p;
            uint64_t bits;
            std::memcpy(&p.id, record.data() + off, 4);
            std::memcpy(&p.t, record.data() + off + 4, 8);
            std::memcpy(&bits, record.data() + off + 12, 8);
            std::memcpy(&p.v, &bits, 8);
            batch.push_back(p);
          }
          pending.store(batch.size());
        }
        if (batch.size() >= max && !flush()) return;
        continue;
      }
      // Caught up with the log.
      if (!batch.empty() && SteadyClock::now() - first_pending >= cfg.queue.batch_send_deadline) {
        if (!flush()) return;
        continue;
      }
      if (batch.empty() && (reader.segment() != saved_segment || reader.offset() != saved_offset)) {
        SavePosition(reader.segment(), reader.offset());  // lets old segments go
      }
      if (!Sleep(std::chrono::milliseconds(50))) return;
    }
  }
};

std::string Sender::Fingerprint(const scrape::RemoteWriteConfig& config,
                                const scrape::LabelPairs& external_labels) {
  scrape::Config one;
  one.remote_write.push_back(config);
  // Secrets are part of the identity but never shown.
  std::string fp = one.Redacted() + config.http.basic_auth_password + "\n" +
                   config.http.authorization_credentials + "\n" + config.url;
  for (const auto& [n, v] : config.headers) fp += n + "=" + v + "\n";
  for (const auto& [n, v] : external_labels) fp += n + "=" + v + "\n";
  return fp;
}

Sender::Sender(Head* head, scrape::RemoteWriteConfig config, scrape::LabelPairs external_labels,
               std::string state_dir, std::string user_agent) {
  display_name_ = config.name.empty() ? RedactedUrl(config.url) : config.name;
  fingerprint_ = Fingerprint(config, external_labels);
  impl_ = std::make_unique<Impl>(this, head, std::move(config), std::move(external_labels),
                                 std::move(state_dir), std::move(user_agent));
  ::mkdir(impl_->state_dir.c_str(), 0755);
  impl_->position_file = JoinPath(
      impl_->state_dir, "queue-" + HexPrefix(impl_->cfg.url + "\n" + impl_->cfg.name) + ".pos");
  // The floor is known before the thread starts, so no checkpoint can remove what it needs.
  uint32_t segment;
  uint64_t offset;
  impl_->LoadPosition(&segment, &offset);
  floor_.store(segment);
  impl_->thread = std::thread([this] { impl_->Run(); });
}

Sender::~Sender() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

SenderStats Sender::Stats() const {
  SenderStats s;
  s.samples_sent = impl_->sent.load();
  s.samples_dropped = impl_->dropped.load();
  s.retries = impl_->retries.load();
  s.requests = impl_->requests.load();
  s.bytes_sent = impl_->bytes.load();
  s.highest_sent_ms = impl_->highest.load();
  s.pending_samples = impl_->pending.load();
  s.send_seconds = static_cast<double>(impl_->send_us.load()) / 1e6;
  s.wal_records_skipped = impl_->skipped.load();
  return s;
}

SenderSet::SenderSet(Head* head, std::string state_dir, std::string user_agent)
    : head_(head), state_dir_(std::move(state_dir)), user_agent_(std::move(user_agent)) {
  head_->SetWalFloor([this] {
    std::lock_guard<std::mutex> lock(mu_);
    uint32_t floor = UINT32_MAX;
    for (const auto& s : senders_) floor = std::min(floor, s->floor());
    return floor;
  });
}

SenderSet::~SenderSet() {
  head_->SetWalFloor(nullptr);
  std::lock_guard<std::mutex> lock(mu_);
  senders_.clear();
}

void SenderSet::ApplyConfig(const scrape::Config& config) {
  std::vector<std::unique_ptr<Sender>> next;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& rw : config.remote_write) {
    // A running sender with the same configuration keeps going.
    std::string fp = Sender::Fingerprint(rw, config.global.external_labels);
    bool kept = false;
    for (auto& old : senders_) {
      if (old && old->fingerprint() == fp) {
        next.push_back(std::move(old));
        kept = true;
        break;
      }
    }
    if (!kept) {
      next.push_back(std::make_unique<Sender>(head_, rw, config.global.external_labels, state_dir_,
                                              user_agent_));
    }
  }
  senders_.swap(next);  // senders no longer configured stop as `next` goes
}

std::vector<std::pair<std::string, SenderStats>> SenderSet::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, SenderStats>> out;
  for (const auto& s : senders_) out.emplace_back(s->display_name(), s->Stats());
  return out;
}

void SenderSet::WriteMetrics(std::string* out) const {
  auto all = Stats();
  if (all.empty()) return;
  expfmt::Writer w(out);
  using MT = expfmt::MetricType;
  auto family = [&](const char* name, const char* help, MT type, auto value) {
    w.Family(name, help, type);
    for (const auto& [remote, s] : all)
      w.Sample(name, {{"remote", remote}}, static_cast<double>(value(s)));
  };
  family("tocsin_tsdb_remote_samples_sent_total", "Samples delivered to the remote endpoint.",
         MT::kCounter, [](const SenderStats& s) { return s.samples_sent; });
  family("tocsin_tsdb_remote_samples_dropped_total",
         "Samples not delivered: refused by the receiver or relabelled away.", MT::kCounter,
         [](const SenderStats& s) { return s.samples_dropped; });
  family("tocsin_tsdb_remote_retries_total", "Requests retried after a recoverable failure.",
         MT::kCounter, [](const SenderStats& s) { return s.retries; });
  family("tocsin_tsdb_remote_sent_bytes_total", "Compressed bytes delivered.", MT::kCounter,
         [](const SenderStats& s) { return s.bytes_sent; });
  family("tocsin_tsdb_remote_highest_sent_timestamp_seconds", "Newest sample timestamp delivered.",
         MT::kGauge,
         [](const SenderStats& s) { return static_cast<double>(s.highest_sent_ms) / 1000; });
  family("tocsin_tsdb_remote_pending_samples", "Samples read from the WAL, not yet delivered.",
         MT::kGauge, [](const SenderStats& s) { return s.pending_samples; });
  family("tocsin_tsdb_remote_send_seconds_total", "Seconds spent in remote-write requests.",
         MT::kCounter, [](const SenderStats& s) { return s.send_seconds; });
}

}  // namespace tocsin::tsdb::remote
