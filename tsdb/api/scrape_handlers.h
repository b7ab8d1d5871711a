#pragma once
// /api/v1/targets (Prometheus's shape: activeTargets and droppedTargets, ?state=) and
// /api/v1/status/config (the loaded configuration, secrets redacted), plus the scrape
// manager's own metrics.
// Thread-safety: thread-safe.

#include <functional>
#include <string>

#include "common/http/message.h"
#include "tsdb/scrape/manager.h"

namespace tocsin::tsdb::api {

class ScrapeHandlers {
 public:
  // config_yaml returns the current configuration, redacted.
  ScrapeHandlers(scrape::Manager* manager, std::function<std::string()> config_yaml)
      : manager_(manager), config_yaml_(std::move(config_yaml)) {}

  http::Response Targets(const http::Request& req);
  http::Response Config(const http::Request& req);
  // /api/v1/metadata?metric=&limit=: HELP and TYPE of the families the targets expose.
  http::Response Metadata(const http::Request& req);
  // Appends the scrape metrics in the text format.
  void WriteMetrics(std::string* out) const;

 private:
  scrape::Manager* manager_;
  std::function<std::string()> config_yaml_;
};

}  // namespace tocsin::tsdb::api
