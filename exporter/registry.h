#pragma once
// The set of enabled collectors and one scrape over them.
// A scrape runs its collectors on up to `parallelism` threads (the caller's and helpers), as
// node_exporter runs them concurrently: on two cores a scrape answers in about half the time
// for the same CPU. Thread-safety: Scrape() may be called concurrently; each collector runs
// under its own mutex so concurrent scrapes never share a collector's reused buffers.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/collector.h"

namespace tocsin::exporter {

class Registry {
 public:
  explicit Registry(int parallelism = 1);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // REQUIRES: names are unique; called before the first Scrape().
  void Add(std::string name, std::unique_ptr<Collector> collector);
  bool Has(std::string_view name) const;

  // Appends the families of the collectors named in `only` (all when empty) to *out, then
  // node_scrape_collector_duration_seconds and node_scrape_collector_success. Returns
  // InvalidArgument naming an unknown or disabled collector in `only` (nothing is written then).
  Status Scrape(const std::vector<std::string>& only, std::string* out);

 private:
  struct ScrapeState;
  void Drain(const std::shared_ptr<ScrapeState>& s);
  void RunOne(ScrapeState& s, size_t i);

  struct Entry {
    std::string name;
    std::unique_ptr<Collector> collector;
    std::mutex mu;
    std::string last_error;  // GUARDED_BY(mu): a failure is logged when its message changes
  };
  std::vector<std::unique_ptr<Entry>> entries_;

  // Helper threads take scrapes from the queue and run collectors of them.
  std::vector<std::thread> helpers_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<ScrapeState>> queue_;  // GUARDED_BY(queue_mu_)
  bool stopping_ = false;                           // GUARDED_BY(queue_mu_)
  // Per-collector output buffers, reused across scrapes.
  std::mutex pool_mu_;
  std::vector<std::vector<std::string>> pool_;  // GUARDED_BY(pool_mu_)
};

}  // namespace tocsin::exporter
