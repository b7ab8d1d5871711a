#include "exporter/registry.h"

#include <algorithm>
#include <atomic>
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

struct Registry::ScrapeState {
  std::vector<Entry*> selected;
  std::vector<std::string> outputs;  // one per selected collector
  struct Result {
    double seconds = 0;
    bool ok = false;
  };
  std::vector<Result> results;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex mu;
  std::condition_variable cv;
};

Registry::Registry(int parallelism) {
  for (int i = 1; i < parallelism; ++i) {
    helpers_.emplace_back([this] {
      for (;;) {
        std::shared_ptr<ScrapeState> s;
        {
          std::unique_lock<std::mutex> lock(queue_mu_);
          queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
          if (queue_.empty()) return;
          s = std::move(queue_.front());
          queue_.pop_front();
        }
        Drain(s);
      }
    });
  }
}

Registry::~Registry() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (auto& t : helpers_) t.join();
}

void Registry::Drain(const std::shared_ptr<ScrapeState>& s) {
  // A helper that starts after the scrape finished finds nothing left to claim.
  for (size_t i; (i = s->next.fetch_add(1)) < s->selected.size();) {
    RunOne(*s, i);
    if (s->done.fetch_add(1) + 1 == s->selected.size()) {
      std::lock_guard<std::mutex> lock(s->mu);
      s->cv.notify_all();
    }
  }
}

void Registry::RunOne(ScrapeState& s, size_t i) {
  Entry* e = s.selected[i];
  std::string& out = s.outputs[i];
  std::lock_guard<std::mutex> lock(e->mu);
  out.clear();
  expfmt::Writer w(&out);
  auto start = std::chrono::steady_clock::now();
  Status st = e->collector->Collect(&w);
  s.results[i].seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.results[i].ok = st.ok();
  if (!st.ok()) {
    out.clear();  // nothing half-written
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
}

Status Registry::Scrape(const std::vector<std::string>& only, std::string* out) {
  for (const std::string& n : only) {
    if (!Has(n)) return Status::InvalidArgument("unknown or disabled collector: " + n);
  }
  auto s = std::make_shared<ScrapeState>();
  for (const auto& e : entries_) {
    if (only.empty() || std::find(only.begin(), only.end(), e->name) != only.end())
      s->selected.push_back(e.get());
  }
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      s->outputs = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  s->outputs.resize(s->selected.size());
  s->results.resize(s->selected.size());
  if (!helpers_.empty() && s->selected.size() > 1) {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      for (size_t i = 0; i < helpers_.size(); ++i) queue_.push_back(s);
    }
    queue_cv_.notify_all();
  }
  Drain(s);
  {
    std::unique_lock<std::mutex> lock(s->mu);
    s->cv.wait(lock, [&] { return s->done.load() == s->selected.size(); });
  }
  expfmt::Writer w(out);
  for (const std::string& part : s->outputs) out->append(part);
  w.Family("node_scrape_collector_duration_seconds",
           "node_exporter: Duration of a collector scrape.", MetricType::kGauge);
  for (size_t i = 0; i < s->selected.size(); ++i)
    w.Sample("node_scrape_collector_duration_seconds", {{"collector", s->selected[i]->name}},
             s->results[i].seconds);
  w.Family("node_scrape_collector_success", "node_exporter: Whether a collector succeeded.",
           MetricType::kGauge);
  for (size_t i = 0; i < s->selected.size(); ++i)
    w.Sample("node_scrape_collector_success", {{"collector", s->selected[i]->name}},
             s->results[i].ok ? 1 : 0);
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    pool_.push_back(std::move(s->outputs));
  }
  return Status::Ok();
}

}  // namespace tocsin::exporter
