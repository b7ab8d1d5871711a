// tocsin-tsdb: a compact time-series store speaking Prometheus's protocols.
// Remote write and text import go into the head (write-ahead log first); closed chunks, the
// series index and periodic checkpoints go to RocksDB under <path>/db; retention drops whole
// days. The metadata and admin API serve from the head. Scraping and PromQL come next.
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/signals.h"
#include "common/expfmt/writer.h"
#include "common/http/client.h"
#include "common/http/server.h"
#include "tsdb/api/api_util.h"
#include "tsdb/api/ingest_handlers.h"
#include "tsdb/api/metadata_handlers.h"
#include "tsdb/api/query_handlers.h"
#include "tsdb/api/scrape_handlers.h"
#include "tsdb/remote/sender.h"
#include "tsdb/scrape/config.h"
#include "tsdb/scrape/manager.h"
#include "tsdb/storage/head.h"
#include "tsdb/web/web_ui.h"

using namespace tocsin;

namespace {
constexpr const char* kVersion = "0.1.0";
}

int main(int argc, char** argv) {
  // Each query runs on a thread of its own; glibc would give each thread a malloc arena that
  // keeps what a large query freed. Two arenas: the memory goes back to the pool for the next.
  mallopt(M_ARENA_MAX, 2);
  SignalWaiter signals;
  http::ServerOptions web;
  web.listen_address = ":9090";
  std::string storage_path = "data/";
  bool wal_fsync = false;
  bool remote_write_receiver = true;
  int64_t max_request_bytes = 64 << 20;
  int64_t samples_per_chunk = 240;
  std::string log_level = "info";
  std::string alertd_url;
  std::chrono::milliseconds retention_time = std::chrono::hours(24 * 15);
  std::string retention_size = "0";
  std::chrono::milliseconds checkpoint_interval = std::chrono::minutes(10);
  std::string checkpoint_wal_size = "256MB";
  bool admin_api = false;
  std::string config_file;
  std::chrono::milliseconds lookback = std::chrono::minutes(5);
  std::chrono::milliseconds query_timeout = std::chrono::minutes(2);
  int64_t max_samples = 50'000'000;
  int64_t max_concurrency = 20;
  int64_t scrape_workers = 8;

  FlagSet flags(
      "tocsin-tsdb",
      "A compact time-series store: Prometheus remote write and text import in, the Prometheus\n"
      "metadata API out. Samples go to a write-ahead log, then to compressed chunks in RocksDB.");
  flags.String("web.listen-address", &web.listen_address,
               "Address to listen on for the API and remote write.");
  flags.String("storage.tsdb.path", &storage_path,
               "Base path for metrics storage: <path>/wal (write-ahead log), <path>/db (RocksDB), "
               "<path>/snapshots.");
  flags.Duration("storage.tsdb.retention.time", &retention_time,
                 "How long to retain samples (whole days are dropped once entirely older). 0: "
                 "forever.");
  flags.String("storage.tsdb.retention.size", &retention_size,
               "Most bytes of storage to keep (WAL and database; units B KB MB GB TB PB EB). The "
               "oldest days go first; 0 disables.");
  flags.Duration("storage.tsdb.checkpoint-interval", &checkpoint_interval,
                 "How often the head is persisted and the write-ahead log truncated (shorter: "
                 "faster restarts, more writes).");
  flags.String("storage.tsdb.checkpoint-wal-size", &checkpoint_wal_size,
               "Also checkpoint once the write-ahead log holds this many bytes.");
  flags.String("config.file", &config_file,
               "Prometheus configuration file (global, scrape_configs, remote_write). Empty: no "
               "scraping. Reloaded on SIGHUP and POST /-/reload.");
  flags.Int("scrape.workers", &scrape_workers,
            "Scrapes that may run at once (a slow target holds one).");
  flags.Duration("query.lookback-delta", &lookback,
                 "How far back an instant selector looks for the newest sample.");
  flags.Duration("query.timeout", &query_timeout, "Maximum time a query may take.");
  flags.Int("query.max-samples", &max_samples,
            "Most samples a single query may load or produce at once.");
  flags.Int("query.max-concurrency", &max_concurrency,
            "Queries evaluated at once; more wait their turn.");
  flags.Bool("web.enable-admin-api", &admin_api,
             "Enable the admin endpoints: snapshot, delete_series, clean_tombstones.");
  flags.Bool("storage.tsdb.wal-fsync-every-commit", &wal_fsync,
             "fsync the write-ahead log before acknowledging each write: survives power loss. "
             "Without it a crash of "
             "the process loses nothing acknowledged; a power cut may lose the last seconds.");
  flags.Bool("web.enable-remote-write-receiver", &remote_write_receiver,
             "Accept remote write on /api/v1/write.");
  flags.Int("web.max-request-bytes", &max_request_bytes,
            "Largest request body, compressed and decoded.");
  flags.Int("storage.tsdb.samples-per-chunk", &samples_per_chunk,
            "Samples per chunk before it is closed and re-encoded.");
  flags.String("log.level", &log_level,
               "Only log messages with the given severity or above: debug, info, warn, error.");
  flags.String("alertd.url", &alertd_url,
               "tocsin-alertd to ask for /api/v1/rules and /api/v1/alerts (the page's Alerts tab, "
               "Grafana's alert state), e.g. http://127.0.0.1:8880. Empty: none.");
  if (int rc = flags.ParseCommandLine(argc, argv, kVersion); rc >= 0) return rc;
  log::Level level;
  uint64_t retention_bytes = 0, checkpoint_wal_bytes = 0;
  if (!ParseByteSize(retention_size, &retention_bytes) ||
      !ParseByteSize(checkpoint_wal_size, &checkpoint_wal_bytes)) {
    std::fprintf(stderr,
                 "tocsin-tsdb: invalid --storage.tsdb.retention.size or "
                 "--storage.tsdb.checkpoint-wal-size (e.g. 512MB, 10GB)\n");
    return 2;
  }
  if (checkpoint_interval.count() <= 0) checkpoint_interval = std::chrono::minutes(10);
  if (!log::ParseLevel(log_level, &level) || samples_per_chunk < 2 ||
      samples_per_chunk > tsdb::kMaxChunkSamples || max_request_bytes <= 0) {
    std::fprintf(stderr,
                 "tocsin-tsdb: invalid --log.level, --storage.tsdb.samples-per-chunk or "
                 "--web.max-request-bytes\n");
    return 2;
  }
  log::SetLevel(level);

  log::Info("Starting tocsin-tsdb", {{"version", kVersion}});
  if (::mkdir(storage_path.c_str(), 0755) != 0 && errno != EEXIST) {
    log::Error("Cannot create the storage directory",
               {{"path", storage_path}, {"err", std::strerror(errno)}});
    return 1;
  }
  tsdb::HeadOptions head_options;
  head_options.samples_per_chunk = static_cast<int>(samples_per_chunk);
  head_options.wal_dir = JoinPath(storage_path, "wal");
  head_options.wal.fsync_every_commit = wal_fsync;
  head_options.db_dir = JoinPath(storage_path, "db");
  auto replay_start = std::chrono::steady_clock::now();
  std::unique_ptr<tsdb::Head> head;
  Status st = tsdb::Head::Open(head_options, &head);
  if (!st.ok()) {
    log::Error("Cannot open the head", {{"err", st.ToString()}});
    return 1;
  }
  double replay_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - replay_start).count();
  log::Info("Storage opened",
            {{"path", storage_path},
             {"samples", std::to_string(head->replayed_samples())},
             {"series", std::to_string(head->Stats().series)},
             {"torn_record_dropped", head->replay_dropped_torn_record() ? "true" : "false"},
             {"seconds", std::to_string(replay_s)}});
  tsdb::api::IngestHandlers ingest(head.get(),
                                   {.max_decoded_bytes = static_cast<size_t>(max_request_bytes)});

  tsdb::api::MetadataOptions meta_options;
  meta_options.admin_enabled = admin_api;
  meta_options.snapshot_dir = JoinPath(storage_path, "snapshots");
  meta_options.version = kVersion;
  meta_options.lookback_delta_ms = lookback.count();
  meta_options.flags = {
      {"web.listen-address", web.listen_address},
      {"storage.tsdb.path", storage_path},
      {"storage.tsdb.retention.time", FormatDuration(retention_time)},
      {"storage.tsdb.retention.size", retention_size},
      {"storage.tsdb.wal-fsync-every-commit", wal_fsync ? "true" : "false"},
      {"storage.tsdb.samples-per-chunk", std::to_string(samples_per_chunk)},
      {"web.enable-admin-api", admin_api ? "true" : "false"},
      {"web.enable-remote-write-receiver", remote_write_receiver ? "true" : "false"},
      {"query.lookback-delta", FormatDuration(lookback)},
      {"query.timeout", FormatDuration(query_timeout)},
      {"query.max-samples", std::to_string(max_samples)},
      {"query.max-concurrency", std::to_string(max_concurrency)},
  };
  tsdb::api::MetadataHandlers metadata(head.get(), meta_options);
  tsdb::api::QueryOptions query_options;
  query_options.engine.lookback_delta_ms = lookback.count();
  query_options.engine.timeout = query_timeout;
  query_options.engine.max_samples = static_cast<size_t>(std::max<int64_t>(1, max_samples));
  query_options.max_concurrency = static_cast<int>(std::max<int64_t>(1, max_concurrency));
  tsdb::api::QueryHandlers query_api(head.get(), query_options);

  // Scraping: the configuration is loaded now, and again on SIGHUP or POST /-/reload; a bad
  // file at a reload keeps the running configuration.
  std::mutex config_mu;
  tsdb::scrape::Config config;
  tsdb::scrape::Manager scraper(head.get(),
                                {.workers = static_cast<int>(std::max<int64_t>(1, scrape_workers)),
                                 .user_agent = std::string("tocsin-tsdb/") + kVersion});
  tsdb::remote::SenderSet senders(head.get(), JoinPath(storage_path, "remote"),
                                  std::string("tocsin-tsdb/") + kVersion);
  auto load_config = [&]() -> Status {
    tsdb::scrape::Config next;
    if (!config_file.empty())
      TOCSIN_RETURN_IF_ERROR(tsdb::scrape::LoadConfigFile(config_file, &next));
    for (const std::string& w : next.warnings) log::Warn(w);
    TOCSIN_RETURN_IF_ERROR(scraper.ApplyConfig(next));
    senders.ApplyConfig(next);
    size_t targets = 0;
    for (const auto& sc : next.scrape_configs)
      for (const auto& st : sc.static_configs) targets += st.targets.size();
    std::lock_guard<std::mutex> lock(config_mu);
    config = std::move(next);
    log::Info("Configuration loaded",
              {{"file", config_file.empty() ? "(none)" : config_file},
               {"scrape_pools", std::to_string(config.scrape_configs.size())},
               {"remote_write", std::to_string(config.remote_write.size())},
               {"static_targets", std::to_string(targets)}});
    return Status::Ok();
  };
  if (Status cst = load_config(); !cst.ok()) {
    log::Error("Cannot load the configuration", {{"err", cst.ToString()}});
    return 1;
  }
  tsdb::api::ScrapeHandlers scrape_api(&scraper, [&] {
    std::lock_guard<std::mutex> lock(config_mu);
    return config.Redacted();
  });

  // Maintenance: checkpoints (by time or WAL size) and retention, beside ingestion.
  std::mutex maint_mu;
  std::condition_variable maint_cv;
  bool maint_stop = false;
  std::thread maintenance([&] {
    using Clock = std::chrono::steady_clock;
    auto last_checkpoint = Clock::now(), last_retention = Clock::time_point();
    std::unique_lock<std::mutex> lock(maint_mu);
    while (!maint_cv.wait_for(lock, std::chrono::seconds(5), [&] { return maint_stop; })) {
      lock.unlock();
      if (Clock::now() - last_checkpoint >= checkpoint_interval ||
          head->Stats().wal_bytes >= checkpoint_wal_bytes) {
        last_checkpoint = Clock::now();
        Status cst = head->Checkpoint();
        if (!cst.ok()) {
          log::Error("Checkpoint failed", {{"err", cst.ToString()}});
        } else {
          log::Debug("Checkpoint written",
                     {{"seconds", std::to_string(head->Stats().last_checkpoint_seconds)}});
        }
      }
      if (Clock::now() - last_retention >= std::chrono::minutes(1)) {
        last_retention = Clock::now();
        tsdb::RetentionPolicy policy;
        if (retention_time.count() > 0) {
          policy.keep_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() -
                              retention_time.count();
        }
        policy.max_bytes = retention_bytes;
        uint64_t before = head->Stats().retention_blocks_dropped;
        Status rst = head->ApplyRetention(policy);
        if (!rst.ok()) {
          log::Error("Retention failed", {{"err", rst.ToString()}});
        } else if (uint64_t after = head->Stats().retention_blocks_dropped; after > before) {
          log::Info("Retention dropped old days", {{"days", std::to_string(after - before)}});
        }
      }
      lock.lock();
    }
  });

  auto stop_maintenance = [&] {
    {
      std::lock_guard<std::mutex> lock(maint_mu);
      maint_stop = true;
    }
    maint_cv.notify_all();
    maintenance.join();
  };

  web.max_body_bytes = static_cast<size_t>(max_request_bytes);
  // A thread for each query that may run at once (as Prometheus gives each its goroutine), so a
  // light query shares the CPU with slow ones instead of queueing behind them, plus two for
  // pages and metadata; ingestion, /metrics and health have a thread of their own, so that
  // queries never hold up a writer.
  web.worker_threads = static_cast<int>(std::min<int64_t>(max_concurrency, 64)) + 2;
  web.priority_threads = 1;
  http::Server server(web);
  if (remote_write_receiver) {
    server.router().Handle(
        "/api/v1/write", [&](const http::Request& r) { return ingest.Write(r); },
        http::Router::Lane::kPriority);
  }
  server.router().Handle(
      "/api/v1/import/prometheus", [&](const http::Request& r) { return ingest.Import(r); },
      http::Router::Lane::kPriority);
  server.router().Handle(
      "/metrics",
      [&](const http::Request& r) {
        http::Response resp = ingest.Metrics(r);
        scrape_api.WriteMetrics(&resp.body);
        senders.WriteMetrics(&resp.body);
        expfmt::Writer w(&resp.body);
        w.Single("tocsin_tsdb_queries_total", "PromQL queries evaluated.",
                 expfmt::MetricType::kCounter, static_cast<double>(query_api.queries()));
        w.Single("tocsin_tsdb_query_failures_total", "PromQL queries that failed.",
                 expfmt::MetricType::kCounter, static_cast<double>(query_api.failures()));
        w.Single("tocsin_tsdb_query_seconds_total", "Seconds spent evaluating PromQL queries.",
                 expfmt::MetricType::kCounter, query_api.seconds());
        return resp;
      },
      http::Router::Lane::kPriority);
  server.router().Handle("/api/v1/query",
                         [&](const http::Request& r) { return query_api.Query(r); });
  server.router().Handle("/api/v1/query_range",
                         [&](const http::Request& r) { return query_api.QueryRange(r); });
  server.router().Handle("/api/v1/targets",
                         [&](const http::Request& r) { return scrape_api.Targets(r); });
  server.router().Handle("/api/v1/metadata",
                         [&](const http::Request& r) { return scrape_api.Metadata(r); });
  auto started = std::chrono::system_clock::now();
  server.router().Handle("/api/v1/status/runtimeinfo", [&](const http::Request&) {
    std::time_t t = std::chrono::system_clock::to_time_t(started);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char cwd[4096] = "";
    if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = 0;
    std::string data = std::string("{\"startTime\":\"") + when + "\",\"CWD\":";
    tsdb::api::AppendJsonString(&data, cwd);
    data += ",\"reloadConfigSuccess\":true,\"lastConfigTime\":\"" + std::string(when) +
            "\",\"corruptionCount\":0,\"goroutineCount\":0,\"GOMAXPROCS\":" +
            std::to_string(std::thread::hardware_concurrency()) +
            ",\"GOMEMLIMIT\":0,\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":\"" +
            FormatDuration(retention_time) + "\"}";
    return tsdb::api::ApiSuccess(data);
  });
  server.router().Handle("/api/v1/status/config",
                         [&](const http::Request& r) { return scrape_api.Config(r); });
  server.router().Handle("/-/reload", [&](const http::Request& r) {
    if (r.method != "POST" && r.method != "PUT")
      return http::Response::Text(405, "Only POST or PUT requests allowed\n");
    Status rst = load_config();
    if (!rst.ok()) {
      log::Error("Reload failed; the running configuration stays", {{"err", rst.ToString()}});
      return http::Response::Text(500, "failed to reload config: " + rst.ToString() + "\n");
    }
    return http::Response::Text(200, "");
  });
  metadata.Register(&server.router());
  // Rules and alerts live in tocsin-alertd: answered from there when it is configured, else
  // empty, as a Prometheus without rules answers.
  for (const char* path : {"/api/v1/rules", "/api/v1/alerts"}) {
    std::string p = path;
    server.router().Handle(p, [&, p](const http::Request&) {
      if (alertd_url.empty())
        return tsdb::api::ApiSuccess(p == "/api/v1/rules" ? R"({"groups":[]})"
                                                          : R"({"alerts":[]})");
      http::ClientRequest req;
      req.url = alertd_url + p;
      req.timeout = std::chrono::seconds(10);
      http::ClientResponse resp;
      Status fst = http::Fetch(req, &resp);
      if (!fst.ok() || resp.status != 200)
        return tsdb::api::ApiError(
            503, "unavailable",
            "tocsin-alertd at --alertd.url did not answer: " +
                (fst.ok() ? "HTTP " + std::to_string(resp.status) : fst.ToString()));
      http::Response r = http::Response::Json(200, std::move(resp.body));
      return r;
    });
  }
  tsdb::web::RegisterWebUi(&server.router());
  server.router().HandleHealth();
  st = server.Start();
  if (!st.ok()) {
    log::Error("Failed to start the web server", {{"err", st.ToString()}});
    stop_maintenance();
    return 1;
  }
  for (;;) {
    int sig = signals.Wait();
    if (sig == SIGHUP) {
      Status rst = load_config();
      if (!rst.ok())
        log::Error("Reload failed; the running configuration stays", {{"err", rst.ToString()}});
      continue;
    }
    log::Info("Shutting down", {{"signal", std::to_string(sig)}});
    break;
  }
  server.Stop();
  stop_maintenance();
  // Scrape loops stop first: their series get staleness markers before the last checkpoint.
  if (Status sst = scraper.ApplyConfig({}); !sst.ok())
    log::Error("Stopping scrapes", {{"err", sst.ToString()}});
  // A last checkpoint makes the next start fast (nothing to replay).
  st = head->Checkpoint();
  if (!st.ok()) log::Error("Final checkpoint failed", {{"err", st.ToString()}});
  log::Info("Stopped");
  return 0;
}
