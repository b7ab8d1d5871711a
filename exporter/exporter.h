#pragma once
// tocsin-exporter's request handling, independent of sockets: main() wires it to the server,
// tests call it directly. Thread-safety: HandleMetrics() may be called concurrently.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "exporter/collectors/collectors.h"
#include "exporter/registry.h"

namespace tocsin::exporter {

inline constexpr const char* kVersion = "0.1.0";

struct ExporterOptions {
  CollectorOptions collectors;
  // Collector name -> enabled. Collectors missing here take their default.
  std::map<std::string, bool> enabled;
  bool disable_defaults = false;
  // Threads that run collectors during one scrape (the scraping thread is one of them).
  int parallelism = 2;
};

class Exporter {
 public:
  explicit Exporter(const ExporterOptions& options);

  // GET <telemetry path>[?collect[]=NAME...]: the exposition text, 400 for an unknown collector.
  http::Response HandleMetrics(const http::Request& req);
  // Names of the enabled collectors, in scrape order.
  const std::vector<std::string>& enabled() const { return enabled_; }

 private:
  Registry registry_;
  std::unique_ptr<Collector> process_;  // always the real /proc/self, as client_golang
  std::mutex process_mu_;
  std::vector<std::string> enabled_;
  std::atomic<uint64_t> requests_200_{0}, requests_400_{0}, requests_500_{0};
  std::atomic<int> in_flight_{0};
};

}  // namespace tocsin::exporter
