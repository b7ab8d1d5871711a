#pragma once
// Probes in blackbox_exporter's shape: GET /probe?target=URL&module=NAME answers with
// probe_success, probe_duration_seconds, probe_http_* and probe_ssl_earliest_cert_expiry, for
// services that offer a /health endpoint but no /metrics.
// Thread-safety: Prober is immutable after construction; Probe() may run concurrently.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/http/message.h"

namespace tocsin::exporter {

struct ProbeModule {
  enum class Kind { kHttp, kTcp };
  Kind kind = Kind::kHttp;
  std::chrono::milliseconds timeout{5000};
  // HTTP
  std::string method = "GET";
  std::vector<int> valid_status_codes;  // empty: any 2xx
  http::HeaderList headers;
  std::vector<std::string> fail_if_body_matches_regexp;
  std::vector<std::string> fail_if_body_not_matches_regexp;
  bool no_follow_redirects = false;
  bool insecure_skip_verify = false;
};

// Modules available without a config file: http_2xx and tcp_connect.
std::map<std::string, ProbeModule> DefaultProbeModules();
// Parses a blackbox_exporter-style YAML file ("modules:" map). Unknown keys and bad values are
// errors naming the file, line and key. The defaults are kept unless the file overrides them.
Status LoadProbeModules(const std::string& path, std::map<std::string, ProbeModule>* modules);
Status ParseProbeModules(const std::string& yaml, const std::string& source,
                         std::map<std::string, ProbeModule>* modules);

class Prober {
 public:
  explicit Prober(std::map<std::string, ProbeModule> modules) : modules_(std::move(modules)) {}
  // The /probe handler: 400 for a missing target or unknown module, else 200 with the metrics.
  http::Response Handle(const http::Request& req) const;

 private:
  std::map<std::string, ProbeModule> modules_;
};

}  // namespace tocsin::exporter
