// tocsin-tsdb: a compact time-series store speaking Prometheus's protocols.
// This version keeps data in memory only (the RocksDB store and its write-ahead log are the
// next step of issue 3); it accepts remote write and text import and serves its own metrics.
#include <csignal>
#include <cstdio>
#include <string>

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
  bool remote_write_receiver = true;
  int64_t max_request_bytes = 64 << 20;
  int64_t samples_per_chunk = 240;
  std::string log_level = "info";

  FlagSet flags("tocsin-tsdb",
                "A compact time-series store: Prometheus remote write and text import in.\n"
                "This version keeps data in memory only; persistence is being built.");
  flags.String("web.listen-address", &web.listen_address,
               "Address to listen on for the API and remote write.");
  flags.String("storage.tsdb.path", &storage_path,
               "Base path for metrics storage (not used yet: memory only).");
  flags.Bool("web.enable-remote-write-receiver", &remote_write_receiver,
             "Accept remote write on /api/v1/write.");
  flags.Int("web.max-request-bytes", &max_request_bytes,
            "Largest request body, compressed and decoded.");
  flags.Int("storage.tsdb.samples-per-chunk", &samples_per_chunk,
            "Samples per chunk before it is closed and re-encoded.");
  flags.String("log.level", &log_level,
               "Only log messages with the given severity or above: debug, info, warn, error.");
  if (int rc = flags.ParseCommandLine(argc, argv, kVersion); rc >= 0) return rc;
  Status st;
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
  log::Warn("Storage is in memory only in this version: data is lost when the process stops");
  tsdb::Head head(tsdb::HeadOptions{.samples_per_chunk = static_cast<int>(samples_per_chunk)});
  tsdb::api::IngestHandlers ingest(&head,
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
  server.router().Handle(
      "/-/healthy", [](const http::Request&) { return http::Response::Text(200, "Healthy.\n"); });
  server.router().Handle(
      "/-/ready", [](const http::Request&) { return http::Response::Text(200, "Ready.\n"); });
  st = server.Start();
  if (!st.ok()) {
    log::Error("Failed to start the web server", {{"err", st.ToString()}});
    return 1;
  }
  log::Info("Listening on",
            {{"address", web.listen_address}, {"port", std::to_string(server.port())}});
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
