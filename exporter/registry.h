#pragma once
// The set of enabled collectors and one scrape over them.
// Thread-safety: Scrape() may be called concurrently; each collector runs under its own mutex so
// concurrent scrapes never share a collector's reused buffers.

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "exporter/collector.h"

namespace tocsin::exporter {

class Registry {
 public:
  // REQUIRES: names are unique; called before the first Scrape().
  void Add(std::string name, std::unique_ptr<Collector> collector);
  bool Has(std::string_view name) const;

  // Appends the families of the collectors named in `only` (all when empty) to *out, then
  // node_scrape_collector_duration_seconds and node_scrape_collector_success. Returns
  // InvalidArgument naming an unknown or disabled collector in `only` (nothing is written then).
  Status Scrape(const std::vector<std::string>& only, std::string* out);

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<Collector> collector;
    std::mutex mu;
    std::string last_error;  // GUARDED_BY(mu): a failure is logged when its message changes
  };
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace tocsin::exporter
