#pragma once
// Scraping as Prometheus does it: targets from static_configs and file_sd_configs, relabelled
// into scrape URLs and target labels; each target scraped at its interval (spread over the
// interval by a hash of the target), its samples merged with the target labels (honor_labels),
// metric-relabelled and appended to the head in one commit, beside the synthetic series up,
// scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling and
// scrape_series_added; staleness markers for series that vanish, for every series of a failed
// scrape and of a target that goes away.
//
// A scheduler thread hands due scrapes to a pool of workers (a slow target holds one worker,
// never the schedule). ApplyConfig() keeps the loops (caches, staleness state) of targets whose
// job configuration did not change, so a reload loses nothing.
// Thread-safety: thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/labels/labels.h"
#include "tsdb/scrape/config.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb::scrape {

struct TargetStatus {
  LabelPairs discovered;  // before relabelling
  labels::Labels labels;  // the target's labels
  std::string scrape_pool;
  std::string scrape_url;
  std::string health = "unknown";  // up, down, unknown
  std::string last_error;
  int64_t last_scrape_ms = 0;  // Unix ms of the last scrape's start, 0 before the first
  double last_duration_seconds = 0;
  uint64_t last_samples = 0;
  Duration interval{0}, timeout{0};
};

struct DroppedTarget {
  LabelPairs discovered;
  std::string scrape_pool;
};

// What targets say about a metric family (# TYPE, # HELP), for /api/v1/metadata.
struct MetricMetadata {
  std::string type;  // counter, gauge, histogram, summary, unknown
  std::string help;
};

struct ScrapeStats {
  uint64_t scrapes = 0, failures = 0, missed_intervals = 0;
  double duration_seconds = 0;  // summed
  uint64_t targets_up = 0, targets_down = 0, targets_unknown = 0;
  uint64_t sd_errors = 0;
};

struct ManagerOptions {
  int workers = 8;
  std::string user_agent = "tocsin-tsdb";
};

class Manager {
 public:
  Manager(Head* head, ManagerOptions options);
  ~Manager();  // stops every loop (stale markers written)

  // Starts, keeps or stops scrape loops to match the configuration. File SD files that cannot
  // be read or parsed are logged and counted; their last good targets stay.
  Status ApplyConfig(const Config& config);

  std::vector<TargetStatus> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  ScrapeStats Stats() const;
  // Metadata of every family scraped (the latest HELP and TYPE seen per family name), at most
  // limit families (0: all); only families named metric when it is not empty.
  std::map<std::string, MetricMetadata> Metadata(const std::string& metric, size_t limit) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tocsin::tsdb::scrape
