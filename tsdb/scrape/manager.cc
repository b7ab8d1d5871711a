#include "tsdb/scrape/manager.h"

#include <glob.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/md5.h"
#include "common/base/strings.h"
#include "common/expfmt/parser.h"
#include "common/http/client.h"
#include "common/http/gzip.h"

namespace tocsin::tsdb::scrape {

namespace {

using Clock = std::chrono::system_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

// Prometheus's staleness marker: a NaN with this exact bit pattern.
const double kStaleNaN = std::bit_cast<double>(uint64_t{0x7ff0000000000002});

constexpr const char* kAccept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

struct Group {
  std::vector<std::string> targets;
  LabelPairs labels;
  std::string source;  // file path for file_sd, "" for static
};

// One target group file of file_sd_configs: YAML or JSON, a list of {targets, labels}.
Status ReadSdFile(const std::string& path, std::vector<Group>* out) {
  std::string text;
  TOCSIN_RETURN_IF_ERROR(ReadFile(path, &text, 64 << 20));
  out->clear();
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return Status::Ok();
    if (!root.IsSequence())
      return Status::InvalidArgument(path + ": expected a list of target groups");
    for (const auto& g : root) {
      Group group;
      group.source = path;
      for (const auto& kv : g) {
        std::string k = kv.first.as<std::string>();
        if (k == "targets") {
          for (const auto& t : kv.second) group.targets.push_back(t.as<std::string>());
        } else if (k == "labels") {
          for (const auto& l : kv.second)
            SetLabel(&group.labels, l.first.as<std::string>(), l.second.as<std::string>());
        } else {
          return Status::InvalidArgument(path + ":" + std::to_string(kv.first.Mark().line + 1) +
                                         ": unknown key \"" + k + "\" in a target group");
        }
      }
      out->push_back(std::move(group));
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// One target's scrape loop.

struct Loop {
  std::string pool, key, url;
  LabelPairs discovered;
  LabelPairs target;  // the target's labels (no "__" names), to merge into samples
  labels::Labels target_labels;
  std::shared_ptr<const ScrapeConfig> cfg;
  bool limit_exceeded = false;  // target_limit of the pool

  // Scheduling, under Impl::mu_.
  int64_t next_ms = 0;
  bool running = false;
  bool stopped = false;

  // Scrape state: only the worker running the loop touches it.
  struct Entry {
    SeriesRef ref = 0;
    bool dropped = false;  // by metric relabelling
    bool tracked = true;   // no explicit timestamp: takes part in staleness
    uint64_t pending = 0;  // the scrape iteration that returned it (committed or not)
    uint64_t seen = 0;     // the last successful scrape iteration that returned it
  };
  std::unordered_map<std::string, Entry> cache;
  uint64_t iteration = 0;
  uint64_t last_ok = 0;  // the last successful iteration, 0 when its series are all stale
  uint64_t deletion_generation = 0;
  SeriesRef report_refs[5] = {};
  bool reported = false;  // report series exist (for stale markers at the end)
  std::string body, inflated;

  mutable std::mutex status_mu;
  TargetStatus status;  // GUARDED_BY(status_mu)
};

struct Pool {
  std::shared_ptr<const ScrapeConfig> cfg;
  std::string fingerprint;
  std::map<std::string, std::vector<Group>> file_groups;  // last good content by path
  std::map<std::string, int64_t> file_mtimes;             // ns
  std::chrono::steady_clock::time_point last_full_read;
  std::vector<DroppedTarget> dropped;
};

struct Manager::Impl {
  Impl(Head* h, ManagerOptions o) : head(h), options(std::move(o)) {}

  Head* head;
  ManagerOptions options;

  mutable std::mutex mu;
  std::condition_variable cv;       // scheduler wake-ups
  std::condition_variable work_cv;  // workers
  bool shutting_down = false;
  std::map<std::string, std::shared_ptr<Loop>> loops;  // by key
  std::map<std::string, Pool> pools;                   // by job name
  std::deque<std::shared_ptr<Loop>> queue;
  std::vector<std::thread> threads;

  std::atomic<uint64_t> scrapes{0}, failures{0}, missed{0}, sd_errors{0};

  // Family metadata from # TYPE / # HELP lines, shared by all targets (bounded).
  mutable std::mutex meta_mu;
  std::map<std::string, MetricMetadata> metadata;  // GUARDED_BY(meta_mu)
  static constexpr size_t kMaxMetadata = 100000;

  void NoteMetadata(const expfmt::Parser& p, expfmt::Parser::Entry e) {
    // In expfmt::MetricType order; "untyped" is reported as "unknown", as Prometheus does.
    static constexpr std::string_view kTypes[] = {"counter", "gauge", "unknown", "summary",
                                                  "histogram"};
    std::string_view family = p.family_name();
    std::lock_guard<std::mutex> lock(meta_mu);
    auto it = metadata.find(std::string(family));
    if (it == metadata.end()) {
      if (metadata.size() >= kMaxMetadata) return;
      it = metadata.emplace(std::string(family), MetricMetadata{"unknown", ""}).first;
    }
    if (e == expfmt::Parser::Entry::kHelp) {
      if (it->second.help != p.help()) it->second.help = p.help();
    } else {
      size_t t = static_cast<size_t>(p.type());
      it->second.type = t < std::size(kTypes) ? std::string(kTypes[t]) : "unknown";
    }
  }
  std::atomic<uint64_t> duration_us{0};

  void Start() {
    threads.emplace_back([this] { Schedule(); });
    threads.emplace_back([this] { Discover(); });
    for (int i = 0; i < std::max(1, options.workers); ++i) threads.emplace_back([this] { Work(); });
  }

  void Shutdown() {
    std::vector<std::shared_ptr<Loop>> all;
    {
      std::lock_guard<std::mutex> lock(mu);
      shutting_down = true;
      for (auto& [k, l] : loops) all.push_back(l);
      loops.clear();
      queue.clear();
    }
    cv.notify_all();
    work_cv.notify_all();
    for (auto& t : threads) t.join();
    threads.clear();
    for (auto& l : all) MarkAllStale(l.get(), NowMs());
  }

  // --- scheduling ---------------------------------------------------------------------------

  void Schedule() {
    std::unique_lock<std::mutex> lock(mu);
    while (!shutting_down) {
      int64_t now = NowMs();
      int64_t wake = now + 1000;
      for (auto& [key, l] : loops) {
        int64_t interval = l->cfg->scrape_interval.count();
        if (l->next_ms <= now) {
          if (l->running) {
            missed.fetch_add(1, std::memory_order_relaxed);  // still busy with the last one
          } else {
            l->running = true;
            queue.push_back(l);
            work_cv.notify_one();
          }
          l->next_ms += interval;
          if (l->next_ms <= now) {  // fell behind by whole intervals: skip them, keep the phase
            int64_t behind = (now - l->next_ms) / interval + 1;
            missed.fetch_add(static_cast<uint64_t>(behind), std::memory_order_relaxed);
            l->next_ms += behind * interval;
          }
        }
        wake = std::min(wake, l->next_ms);
      }
      cv.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, wake - NowMs())));
    }
  }

  void Work() {
    for (;;) {
      std::shared_ptr<Loop> l;
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [&] { return shutting_down || !queue.empty(); });
        if (shutting_down) return;
        l = std::move(queue.front());
        queue.pop_front();
      }
      ScrapeOnce(l.get());
      bool stop_now;
      {
        std::lock_guard<std::mutex> lock(mu);
        l->running = false;
        stop_now = l->stopped;
      }
      if (stop_now) MarkAllStale(l.get(), NowMs());
    }
  }

  // --- one scrape -----------------------------------------------------------------------------

  Status Fetch(Loop* l, bool* openmetrics) {
    const ScrapeConfig& c = *l->cfg;
    http::ClientRequest req;
    req.url = l->url;
    req.timeout = c.scrape_timeout;
    req.headers = {{"Accept", kAccept},
                   {"Accept-Encoding", "gzip"},
                   {"User-Agent", options.user_agent},
                   {"X-Prometheus-Scrape-Timeout-Seconds",
                    std::to_string(static_cast<double>(c.scrape_timeout.count()) / 1000)}};
    if (!c.http.authorization_credentials.empty())
      req.headers.emplace_back("Authorization",
                               c.http.authorization_type + " " + c.http.authorization_credentials);
    req.basic_auth_user = c.http.basic_auth_user;
    req.basic_auth_password = c.http.basic_auth_password;
    req.ca_file = c.http.tls.ca_file;
    req.cert_file = c.http.tls.cert_file;
    req.key_file = c.http.tls.key_file;
    req.insecure_skip_verify = c.http.tls.insecure_skip_verify;
    req.follow_redirects = c.http.follow_redirects;
    size_t limit = c.body_size_limit ? c.body_size_limit : size_t{256} << 20;
    req.max_response_bytes = limit;
    http::ClientResponse resp;
    Status st = http::Fetch(req, &resp);
    if (!st.ok()) return st;
    if (resp.status != 200) {
      return Status::Unavailable("server returned HTTP status " + std::to_string(resp.status));
    }
    l->body = std::move(resp.body);
    std::string_view encoding, type;
    for (const auto& [n, v] : resp.headers) {
      if (n == "content-encoding") encoding = v;
      if (n == "content-type") type = v;
    }
    if (encoding == "gzip") {
      TOCSIN_RETURN_IF_ERROR(http::GzipDecompress(l->body, &l->inflated, limit)
                                 .WithContext("body size limit or gzip"));
      l->body.swap(l->inflated);
    }
    *openmetrics = StartsWith(type, "application/openmetrics-text");
    return Status::Ok();
  }

  // Labels of a scraped series: its own merged with the target's, then metric relabelling.
  // Returns false when relabelling dropped it; *error is set when the series is invalid.
  bool SeriesLabels(const Loop& l, const expfmt::Parser& p, labels::Labels* out,
                    std::string* error) {
    const ScrapeConfig& c = *l.cfg;
    LabelPairs lb;
    lb.reserve(p.label_count() + l.target.size() + 1);
    lb.emplace_back("__name__", std::string(p.metric_name()));
    for (size_t i = 0; i < p.label_count(); ++i)
      lb.emplace_back(std::string(p.label_name(i)), std::string(p.label_value(i)));
    for (const auto& [name, value] : l.target) {
      std::string_view existing = GetLabel(lb, name);
      if (c.honor_labels) {
        if (existing.empty()) SetLabel(&lb, name, value);
        continue;
      }
      if (!existing.empty()) {
        // The scraped value moves to exported_<name> (and further prefixes when taken).
        std::string moved = "exported_" + name;
        while (!GetLabel(lb, moved).empty()) moved = "exported_" + moved;
        std::string keep(existing);
        SetLabel(&lb, moved, keep);
      }
      SetLabel(&lb, name, value);
    }
    if (!c.metric_relabel_configs.empty() && !Relabel(c.metric_relabel_configs, &lb)) return false;
    std::erase_if(lb, [](const auto& kv) { return kv.second.empty(); });
    if (c.label_limit && lb.size() > c.label_limit) {
      *error = "label_limit exceeded (metric: " + std::string(p.metric_name()) +
               ", number of labels: " + std::to_string(lb.size()) +
               ", limit: " + std::to_string(c.label_limit) + ")";
      return false;
    }
    for (const auto& [n, v] : lb) {
      if (c.label_name_length_limit && n.size() > c.label_name_length_limit) {
        *error = "label_name_length_limit exceeded (metric: " + std::string(p.metric_name()) +
                 ", label name: " + n + ")";
        return false;
      }
      if (c.label_value_length_limit && v.size() > c.label_value_length_limit) {
        *error = "label_value_length_limit exceeded (metric: " + std::string(p.metric_name()) +
                 ", label: " + n + ")";
        return false;
      }
    }
    Status st = labels::Labels::FromPairs(std::move(lb), out);
    if (!st.ok()) {
      *error = std::string(st.message());
      return false;
    }
    if (!out->Has(labels::kMetricName)) {
      *error = "metric relabelling removed __name__";
      return false;
    }
    return true;
  }

  // Parses the body and queues its samples; the caller commits or rolls back.
  Status AppendBody(Loop* l, bool openmetrics, int64_t ts, Appender* app, uint64_t* scraped,
                    uint64_t* post_relabel, uint64_t* added) {
    const ScrapeConfig& c = *l->cfg;
    expfmt::Parser p(l->body, openmetrics ? expfmt::Parser::Format::kOpenMetrics
                                          : expfmt::Parser::Format::kText);
    expfmt::Parser::Entry e;
    std::string error;
    uint64_t rejected = 0;
    std::string first_rejection;
    while (p.Next(&e)) {
      if (e != expfmt::Parser::Entry::kSample) {
        NoteMetadata(p, e);
        continue;
      }
      ++*scraped;
      std::string_view key = p.series_text();
      auto it = l->cache.find(std::string(key));
      bool is_new = it == l->cache.end();
      labels::Labels series;
      if (is_new) {
        Loop::Entry fresh;
        if (!SeriesLabels(*l, p, &series, &error)) {
          if (!error.empty()) return Status::InvalidArgument(error);
          fresh.dropped = true;
        }
        it = l->cache.emplace(std::string(key), fresh).first;
      }
      Loop::Entry& entry = it->second;
      entry.pending = l->iteration;
      if (entry.dropped) continue;
      ++*post_relabel;
      if (c.sample_limit && *post_relabel > c.sample_limit) {
        return Status::ResourceExhausted("sample limit exceeded (limit " +
                                         std::to_string(c.sample_limit) + ")");
      }
      int64_t t = ts;
      entry.tracked = true;
      if (p.timestamp_ms() && c.honor_timestamps) {
        t = *p.timestamp_ms();
        entry.tracked = false;
      }
      AppendError ae;
      if (is_new) {
        ae = app->Append(series, t, p.value(), &entry.ref);
        ++*added;
      } else if (entry.ref != 0) {
        ae = app->AppendRef(entry.ref, t, p.value());
      } else {
        continue;  // the store refused its labels when it was new
      }
      if (ae != AppendError::kNone && rejected++ == 0)
        first_rejection = std::string(AppendErrorName(ae)) + " sample for " + std::string(key);
    }
    if (!p.status().ok()) return p.status();
    if (rejected > 0) {
      log::Debug(
          "Samples rejected in a scrape",
          {{"target", l->url}, {"count", std::to_string(rejected)}, {"first", first_rejection}});
    }
    return Status::Ok();
  }

  void Report(Loop* l, int64_t ts, bool up, double seconds, uint64_t scraped, uint64_t post_relabel,
              uint64_t added) {
    static const char* kNames[5] = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                    "scrape_samples_post_metric_relabeling", "scrape_series_added"};
    double values[5] = {up ? 1.0 : 0.0, seconds, static_cast<double>(scraped),
                        static_cast<double>(post_relabel), static_cast<double>(added)};
    auto app = head->NewAppender();
    for (int i = 0; i < 5; ++i) {
      if (l->report_refs[i] == 0) {
        LabelPairs lb = l->target;
        SetLabel(&lb, "__name__", kNames[i]);
        labels::Labels series;
        if (!labels::Labels::FromPairs(std::move(lb), &series).ok()) continue;
        app->Append(series, ts, values[i], &l->report_refs[i]);
        continue;
      }
      app->AppendRef(l->report_refs[i], ts, values[i]);
    }
    Status st = app->Commit();
    if (!st.ok()) log::Error("Cannot store scrape report series", {{"err", st.ToString()}});
    l->reported = true;
  }

  // Ends a scrape's bookkeeping: series it returned (when ok) stay; series of the last
  // successful scrape that it did not return get a staleness marker (all of them when it
  // failed) and leave the cache.
  void MarkVanished(Loop* l, int64_t ts, Appender* app, bool ok) {
    for (auto it = l->cache.begin(); it != l->cache.end();) {
      Loop::Entry& e = it->second;
      if (ok && e.pending == l->iteration) {
        e.seen = l->iteration;
        ++it;
        continue;
      }
      if (l->last_ok != 0 && e.seen == l->last_ok && !e.dropped && e.tracked && e.ref != 0)
        app->AppendRef(e.ref, ts, kStaleNaN);
      it = l->cache.erase(it);
    }
    l->last_ok = ok ? l->iteration : 0;
  }

  void MarkAllStale(Loop* l, int64_t ts) {
    auto app = head->NewAppender();
    ++l->iteration;
    MarkVanished(l, ts, app.get(), /*ok=*/false);
    if (l->reported) {
      for (SeriesRef r : l->report_refs)
        if (r != 0) app->AppendRef(r, ts, kStaleNaN);
    }
    (void)app->Commit();
  }

  void ScrapeOnce(Loop* l) {
    // An admin deletion may have removed series this cache refers to.
    uint64_t gen = head->deletion_generation();
    if (gen != l->deletion_generation) {
      l->cache.clear();
      std::fill(std::begin(l->report_refs), std::end(l->report_refs), 0);
      l->deletion_generation = gen;
    }
    int64_t ts = NowMs();
    auto start = std::chrono::steady_clock::now();
    ++l->iteration;
    bool openmetrics = false;
    Status st = l->limit_exceeded
                    ? Status::ResourceExhausted("target_limit exceeded for this scrape pool")
                    : Fetch(l, &openmetrics);
    uint64_t scraped = 0, post_relabel = 0, added = 0;
    auto app = head->NewAppender();
    if (st.ok()) st = AppendBody(l, openmetrics, ts, app.get(), &scraped, &post_relabel, &added);
    if (!st.ok()) {
      app->Rollback();  // nothing of a failed scrape is kept
      added = 0;
    }
    MarkVanished(l, ts, app.get(), st.ok());
    Status cst = app->Commit();
    if (st.ok() && !cst.ok()) st = cst;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Report(l, ts, st.ok(), seconds, scraped, post_relabel, added);
    scrapes.fetch_add(1, std::memory_order_relaxed);
    duration_us.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
    if (!st.ok()) failures.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(l->status_mu);
    bool was_up = l->status.health == "up";
    l->status.health = st.ok() ? "up" : "down";
    l->status.last_error = st.ok() ? "" : std::string(st.message());
    l->status.last_scrape_ms = ts;
    l->status.last_duration_seconds = seconds;
    l->status.last_samples = post_relabel;
    if (!st.ok() && was_up) {
      log::Warn("Scrape failed",
                {{"scrape_pool", l->pool}, {"target", l->url}, {"err", l->status.last_error}});
    }
  }

  // --- targets --------------------------------------------------------------------------------

  // Applies relabel_configs to one discovered target; false when dropped.
  static bool MakeTarget(const ScrapeConfig& c, const Group& g, const std::string& address,
                         LabelPairs* discovered, Loop* out) {
    LabelPairs lb = g.labels;
    SetLabel(&lb, "__address__", address);
    if (!g.source.empty()) SetLabel(&lb, "__meta_filepath", g.source);
    SetLabel(&lb, "job", c.job_name);
    SetLabel(&lb, "__scheme__", c.scheme);
    SetLabel(&lb, "__metrics_path__", c.metrics_path);
    SetLabel(&lb, "__scrape_interval__", FormatDuration(c.scrape_interval));
    SetLabel(&lb, "__scrape_timeout__", FormatDuration(c.scrape_timeout));
    for (const auto& [n, v] : c.params) {
      if (GetLabel(lb, "__param_" + n).empty()) SetLabel(&lb, "__param_" + n, v);
    }
    *discovered = lb;
    if (!Relabel(c.relabel_configs, &lb)) return false;
    std::string addr(GetLabel(lb, "__address__"));
    if (addr.empty()) return false;
    if (GetLabel(lb, "instance").empty()) SetLabel(&lb, "instance", addr);
    std::string url = std::string(GetLabel(lb, "__scheme__")) + "://" + addr +
                      std::string(GetLabel(lb, "__metrics_path__"));
    // Parameters: every configured value, with __param_ labels overriding the first one.
    std::string query;
    std::vector<std::string> names;
    for (const auto& [n, v] : c.params)
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    for (const auto& [n, v] : lb)
      if (StartsWith(n, "__param_") &&
          std::find(names.begin(), names.end(), n.substr(8)) == names.end())
        names.push_back(n.substr(8));
    for (const std::string& n : names) {
      bool first = true;
      std::string_view override_value = GetLabel(lb, "__param_" + n);
      for (const auto& [pn, pv] : c.params) {
        if (pn != n) continue;
        query += (query.empty() ? "" : "&") + http::PercentEncode(n) + "=" +
                 http::PercentEncode(first && !override_value.empty() ? override_value : pv);
        first = false;
      }
      if (first && !override_value.empty())
        query += (query.empty() ? "" : "&") + http::PercentEncode(n) + "=" +
                 http::PercentEncode(override_value);
    }
    if (!query.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + query;
    out->url = url;
    out->target.clear();
    for (const auto& [n, v] : lb)
      if (!StartsWith(n, "__") && !v.empty()) out->target.emplace_back(n, v);
    if (!labels::Labels::FromPairs(out->target, &out->target_labels).ok()) return false;
    out->key = c.job_name + "\n" + url + "\n" + out->target_labels.bytes();
    return true;
  }

  // Reconciles the loops of one pool with its groups. REQUIRES: mu held.
  void SyncPool(const std::string& job, Pool* pool) {
    const ScrapeConfig& c = *pool->cfg;
    std::vector<Group> groups;
    for (const auto& s : c.static_configs) groups.push_back({s.targets, s.labels, ""});
    for (const auto& [path, gs] : pool->file_groups)
      groups.insert(groups.end(), gs.begin(), gs.end());
    std::map<std::string, std::shared_ptr<Loop>> want;
    pool->dropped.clear();
    for (const Group& g : groups) {
      for (const std::string& addr : g.targets) {
        auto l = std::make_shared<Loop>();
        LabelPairs discovered;
        if (!MakeTarget(c, g, addr, &discovered, l.get())) {
          pool->dropped.push_back({std::move(discovered), job});
          continue;
        }
        l->discovered = std::move(discovered);
        want.emplace(l->key, std::move(l));
      }
    }
    bool over_limit = c.target_limit && want.size() > c.target_limit;
    // Stop loops of this pool that are no longer wanted.
    for (auto it = loops.begin(); it != loops.end();) {
      if (it->second->pool == job && !want.count(it->first)) {
        StopLocked(it->second);
        it = loops.erase(it);
      } else {
        ++it;
      }
    }
    int64_t now = NowMs();
    for (auto& [key, l] : want) {
      if (loops.count(key)) {
        loops[key]->limit_exceeded = over_limit;
        continue;
      }
      l->pool = job;
      l->cfg = pool->cfg;
      l->limit_exceeded = over_limit;
      int64_t interval = c.scrape_interval.count();
      // Spread targets over the interval, the same offset for a target at every start.
      auto h = Md5(key);
      uint64_t x = 0;
      for (int i = 0; i < 8; ++i) x = (x << 8) | h[static_cast<size_t>(i)];
      int64_t offset = static_cast<int64_t>(x % static_cast<uint64_t>(interval));
      int64_t base = now - now % interval + offset;
      l->next_ms = base < now ? base + interval : base;
      l->status.discovered = l->discovered;
      l->status.labels = l->target_labels;
      l->status.scrape_pool = job;
      l->status.scrape_url = l->url;
      l->status.interval = c.scrape_interval;
      l->status.timeout = c.scrape_timeout;
      loops.emplace(key, l);
    }
    cv.notify_all();
  }

  // REQUIRES: mu held. The loop's series go stale now, or after its running scrape.
  void StopLocked(const std::shared_ptr<Loop>& l) {
    l->stopped = true;
    if (!l->running) {
      // No worker holds it: mark here (appending does not need mu, but this keeps it simple).
      MarkAllStale(l.get(), NowMs());
    }
    std::erase(queue, l);
  }

  // --- file service discovery -----------------------------------------------------------------

  // Re-reads the pool's files whose modification time changed (all of them every
  // refresh_interval). Returns true when any content changed. REQUIRES: mu held.
  bool RefreshFiles(const std::string& job, Pool* pool, bool force) {
    bool changed = false;
    std::map<std::string, bool> present;
    for (const auto& f : pool->cfg->file_sd_configs) {
      for (const std::string& pattern : f.files) {
        glob_t gl{};
        if (::glob(pattern.c_str(), 0, nullptr, &gl) == 0) {
          for (size_t i = 0; i < gl.gl_pathc; ++i) present[gl.gl_pathv[i]] = true;
        }
        ::globfree(&gl);
      }
    }
    for (auto it = pool->file_groups.begin(); it != pool->file_groups.end();) {
      if (!present.count(it->first)) {
        it = pool->file_groups.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    for (const auto& [path, _] : present) {
      struct stat sb;
      if (::stat(path.c_str(), &sb) != 0) continue;
      int64_t mtime = static_cast<int64_t>(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec;
      auto known = pool->file_mtimes.find(path);
      if (!force && known != pool->file_mtimes.end() && known->second == mtime) continue;
      pool->file_mtimes[path] = mtime;
      std::vector<Group> groups;
      Status st = ReadSdFile(path, &groups);
      if (!st.ok()) {
        sd_errors.fetch_add(1, std::memory_order_relaxed);
        log::Error("Cannot read a file_sd file; keeping its last good targets",
                   {{"scrape_pool", job}, {"err", st.ToString()}});
        continue;
      }
      pool->file_groups[path] = std::move(groups);
      changed = true;
    }
    return changed;
  }

  void Discover() {
    std::unique_lock<std::mutex> lock(mu);
    while (!shutting_down) {
      cv.wait_for(lock, std::chrono::seconds(1));
      if (shutting_down) return;
      auto now = std::chrono::steady_clock::now();
      for (auto& [job, pool] : pools) {
        if (pool.cfg->file_sd_configs.empty()) continue;
        auto refresh = pool.cfg->file_sd_configs.front().refresh_interval;
        bool force = now - pool.last_full_read >= refresh;
        if (force) pool.last_full_read = now;
        if (RefreshFiles(job, &pool, force)) SyncPool(job, &pool);
      }
    }
  }

  static std::string Fingerprint(const ScrapeConfig& sc) {
    Config one;
    one.scrape_configs.push_back(sc);
    // Secrets are part of the identity (a new password restarts the pool) but never shown.
    return one.Redacted() + "\n" + sc.http.basic_auth_password + "\n" +
           sc.http.authorization_credentials;
  }

  Status Apply(const Config& config) {
    std::lock_guard<std::mutex> lock(mu);
    std::map<std::string, bool> keep;
    for (const ScrapeConfig& sc : config.scrape_configs) {
      keep[sc.job_name] = true;
      std::string fp = Fingerprint(sc);
      auto it = pools.find(sc.job_name);
      if (it != pools.end() && it->second.fingerprint == fp) continue;  // unchanged: keep loops
      if (it != pools.end()) {
        // Changed: its loops restart with the new configuration.
        for (auto l = loops.begin(); l != loops.end();) {
          if (l->second->pool == sc.job_name) {
            StopLocked(l->second);
            l = loops.erase(l);
          } else {
            ++l;
          }
        }
      }
      Pool& pool = pools[sc.job_name];
      pool = Pool();
      pool.cfg = std::make_shared<const ScrapeConfig>(sc);
      pool.fingerprint = fp;
      pool.last_full_read = std::chrono::steady_clock::now();
      RefreshFiles(sc.job_name, &pool, true);
      SyncPool(sc.job_name, &pool);
    }
    for (auto it = pools.begin(); it != pools.end();) {
      if (keep.count(it->first)) {
        ++it;
        continue;
      }
      for (auto l = loops.begin(); l != loops.end();) {
        if (l->second->pool == it->first) {
          StopLocked(l->second);
          l = loops.erase(l);
        } else {
          ++l;
        }
      }
      it = pools.erase(it);
    }
    return Status::Ok();
  }
};

Manager::Manager(Head* head, ManagerOptions options)
    : impl_(std::make_unique<Impl>(head, std::move(options))) {
  impl_->Start();
}

Manager::~Manager() { impl_->Shutdown(); }

Status Manager::ApplyConfig(const Config& config) { return impl_->Apply(config); }

std::vector<TargetStatus> Manager::ActiveTargets() const {
  std::vector<std::shared_ptr<Loop>> all;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [k, l] : impl_->loops) all.push_back(l);
  }
  std::vector<TargetStatus> out;
  out.reserve(all.size());
  for (auto& l : all) {
    std::lock_guard<std::mutex> lock(l->status_mu);
    out.push_back(l->status);
  }
  return out;
}

std::vector<DroppedTarget> Manager::DroppedTargets() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<DroppedTarget> out;
  for (auto& [job, pool] : impl_->pools)
    out.insert(out.end(), pool.dropped.begin(), pool.dropped.end());
  return out;
}

std::map<std::string, MetricMetadata> Manager::Metadata(const std::string& metric,
                                                        size_t limit) const {
  std::lock_guard<std::mutex> lock(impl_->meta_mu);
  if (!metric.empty()) {
    auto it = impl_->metadata.find(metric);
    if (it == impl_->metadata.end()) return {};
    return {{it->first, it->second}};
  }
  if (limit == 0 || limit >= impl_->metadata.size()) return impl_->metadata;
  std::map<std::string, MetricMetadata> out;
  for (const auto& [k, v] : impl_->metadata) {
    if (out.size() >= limit) break;
    out.emplace(k, v);
  }
  return out;
}

ScrapeStats Manager::Stats() const {
  ScrapeStats s;
  s.scrapes = impl_->scrapes.load();
  s.failures = impl_->failures.load();
  s.missed_intervals = impl_->missed.load();
  s.duration_seconds = static_cast<double>(impl_->duration_us.load()) / 1e6;
  s.sd_errors = impl_->sd_errors.load();
  for (const auto& t : ActiveTargets()) {
    if (t.health == "up") {
      ++s.targets_up;
    } else if (t.health == "down") {
      ++s.targets_down;
    } else {
      ++s.targets_unknown;
    }
  }
  return s;
}

}  // namespace tocsin::tsdb::scrape
