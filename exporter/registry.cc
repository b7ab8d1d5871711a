#include "exporter/registry.h"

#include <algorithm>
#include <chrono>

#include "common/base/log.h"

namespace tocsin::exporter {

void Registry::Add(std::string name, std::unique_ptr<Collector> collector) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->collector = std::move(collector);
  entries_.push_back(std::move(e));
}

bool Registry::Has(std::string_view name) const {
  for (const auto& e : entries_) {
    if (e->name == name) return true;
  }
  return false;
}

Status Registry::Scrape(const std::vector<std::string>& only, std::string* out) {
  for (const std::string& n : only) {
    if (!Has(n)) return Status::InvalidArgument("unknown or disabled collector: " + n);
  }
  struct Result {
    const std::string* name;
    double seconds;
    bool ok;
  };
  std::vector<Result> results;
  results.reserve(entries_.size());
  expfmt::Writer w(out);
  for (const auto& e : entries_) {
    if (!only.empty() && std::find(only.begin(), only.end(), e->name) == only.end()) continue;
    std::lock_guard<std::mutex> lock(e->mu);
    size_t mark = out->size();
    auto start = std::chrono::steady_clock::now();
    Status st = e->collector->Collect(&w);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) {
      out->resize(mark);
      std::string msg = st.ToString();
      if (msg != e->last_error) {
        if (st.code() == Status::Code::kNotFound) {
          log::Debug("collector returned no data", {{"collector", e->name}, {"err", msg}});
        } else {
          log::Error("collector failed", {{"collector", e->name}, {"err", msg}});
        }
        e->last_error = msg;
      }
    } else if (!e->last_error.empty()) {
      log::Info("collector recovered", {{"collector", e->name}});
      e->last_error.clear();
    }
    results.push_back({&e->name, secs, st.ok()});
  }
  w.Family("node_scrape_collector_duration_seconds",
           "node_exporter: Duration of a collector scrape.", MetricType::kGauge);
  for (const Result& r : results)
    w.Sample("node_scrape_collector_duration_seconds", {{"collector", *r.name}}, r.seconds);
  w.Family("node_scrape_collector_success", "node_exporter: Whether a collector succeeded.",
           MetricType::kGauge);
  for (const Result& r : results)
    w.Sample("node_scrape_collector_success", {{"collector", *r.name}}, r.ok ? 1 : 0);
  return Status::Ok();
}

}  // namespace tocsin::exporter
