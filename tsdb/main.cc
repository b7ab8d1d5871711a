// tocsin-tsdb: a compact time-series store speaking Prometheus's protocols.
// This version accepts remote write and text import into the in-memory head, logs every
// commit to a write-ahead log that is replayed at start, and serves its own metrics. Chunk
// persistence to RocksDB, scraping and the query API are the next steps (issues 3 and 4).
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/signals.h"
#include "common/http/server.h"
#include "tsdb/api/ingest_handlers.h"
#include "tsdb/storage/head.h"

using namespace tocsin;

namespace {
constexpr const char* kVersion = "0.1.0";
}

int main(int argc, char** argv) {
  SignalWaiter signals;
  http::ServerOptions web;
  web.listen_address = ":9090";
  std::string storage_path = "data/";
  bool wal_fsync = false;
  bool remote_write_receiver = true;
  int64_t max_request_bytes = 64 << 20;
  int64_t samples_per_chunk = 240;
  std::string log_level = "info";

  FlagSet flags(
      "tocsin-tsdb",
      "A compact time-series store: Prometheus remote write and text import in.\n"
      "Samples go to a write-ahead log, replayed at start; RocksDB chunk storage is being built.");
  flags.String("web.listen-address", &web.listen_address,
               "Address to listen on for the API and remote write.");
  flags.String("storage.tsdb.path", &storage_path,
               "Base path for metrics storage (the write-ahead log is <path>/wal).");
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
  if (int rc = flags.ParseCommandLine(argc, argv, kVersion); rc >= 0) return rc;
  log::Level level;
  if (!log::ParseLevel(log_level, &level) || samples_per_chunk < 2 ||
      samples_per_chunk > tsdb::kMaxChunkSamples || max_request_bytes <= 0) {
    std::fprintf(stderr,
                 "tocsin-tsdb: invalid --log.level, --storage.tsdb.samples-per-chunk or "
                 "--web.max-request-bytes\n");
    return 2;
  }
  log::SetLevel(level);

  log::Info("Starting tocsin-tsdb", {{"version", kVersion}});
  log::Warn(
      "This version keeps samples in memory and in its write-ahead log only: memory grows with the "
      "data "
      "until chunks are persisted to RocksDB (being built)");
  if (::mkdir(storage_path.c_str(), 0755) != 0 && errno != EEXIST) {
    log::Error("Cannot create the storage directory",
               {{"path", storage_path}, {"err", std::strerror(errno)}});
    return 1;
  }
  tsdb::HeadOptions head_options;
  head_options.samples_per_chunk = static_cast<int>(samples_per_chunk);
  head_options.wal_dir = JoinPath(storage_path, "wal");
  head_options.wal.fsync_every_commit = wal_fsync;
  auto replay_start = std::chrono::steady_clock::now();
  std::unique_ptr<tsdb::Head> head;
  Status st = tsdb::Head::Open(head_options, &head);
  if (!st.ok()) {
    log::Error("Cannot open the head", {{"err", st.ToString()}});
    return 1;
  }
  double replay_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - replay_start).count();
  log::Info("Write-ahead log replayed",
            {{"dir", head_options.wal_dir},
             {"samples", std::to_string(head->replayed_samples())},
             {"series", std::to_string(head->Stats().series)},
             {"torn_record_dropped", head->replay_dropped_torn_record() ? "true" : "false"},
             {"seconds", std::to_string(replay_s)}});
  tsdb::api::IngestHandlers ingest(head.get(),
                                   {.max_decoded_bytes = static_cast<size_t>(max_request_bytes)});

  web.max_body_bytes = static_cast<size_t>(max_request_bytes);
  web.worker_threads = 2;
  http::Server server(web);
  if (remote_write_receiver) {
    server.router().Handle("/api/v1/write",
                           [&](const http::Request& r) { return ingest.Write(r); });
  }
  server.router().Handle("/api/v1/import/prometheus",
                         [&](const http::Request& r) { return ingest.Import(r); });
  server.router().Handle("/metrics", [&](const http::Request& r) { return ingest.Metrics(r); });
  server.router().HandleHealth();
  st = server.Start();
  if (!st.ok()) {
    log::Error("Failed to start the web server", {{"err", st.ToString()}});
    return 1;
  }
  for (;;) {
    int sig = signals.Wait();
    if (sig == SIGHUP) {
      log::Info("SIGHUP: nothing to reload in this version");
      continue;
    }
    log::Info("Shutting down", {{"signal", std::to_string(sig)}});
    break;
  }
  server.Stop();
  return 0;
}
