#include "alertd/notify/alertmanager.h"

#include <nlohmann/json.hpp>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/http/client.h"
#include "common/http/message.h"

namespace tocsin::alertd {

std::string GeneratorUrl(const std::string& external_url, const std::string& expr) {
  std::string base = external_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/graph?g0.expr=" + http::PercentEncode(expr) + "&g0.tab=1";
}

AlertmanagerSender::AlertmanagerSender(AlertmanagerOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

AlertmanagerSender::~AlertmanagerSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::string AlertmanagerSender::AlertJson(const AlertmanagerOptions& o, const Rule& rule,
                                          const Alert& a) {
  nlohmann::json j;
  std::map<std::string, std::string> labels = a.labels;
  for (const auto& [k, v] : o.external_labels) labels.emplace(k, v);
  j["labels"] = labels;
  j["annotations"] = a.annotations;
  j["startsAt"] = FormatRfc3339Millis(a.fired_at ? a.fired_at : a.active_at);
  j["endsAt"] =
      FormatRfc3339Millis(a.state == AlertState::kInactive ? a.resolved_at : a.valid_until);
  j["generatorURL"] = GeneratorUrl(o.external_url, rule.expr);
  return j.dump();
}

void AlertmanagerSender::Send(const Rule& rule, const std::vector<Alert>& alerts) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Alert& a : alerts) {
    if (queue_.size() >= options_.queue_capacity) {
      queue_.pop_front();
      ++stats_.dropped;
    }
    queue_.push_back(AlertJson(options_, rule, a));
  }
  cv_.notify_all();
}

AlertmanagerStats AlertmanagerSender::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void AlertmanagerSender::Run() {
  constexpr size_t kBatch = 64;
  for (;;) {
    std::vector<std::string> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty() && batch.size() < kBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::string body = "[";
    for (size_t i = 0; i < batch.size(); ++i) body += (i ? "," : "") + batch[i];
    body += "]";
    for (size_t u = 0; u < options_.urls.size(); ++u) {
      std::string url = options_.urls[u];
      while (!url.empty() && url.back() == '/') url.pop_back();
      http::ClientRequest req;
      req.method = "POST";
      req.url = url + "/api/v2/alerts";
      req.timeout = options_.timeout;
      req.headers = {{"Content-Type", "application/json"}, {"User-Agent", "tocsin-alertd"}};
      req.body = body;
      http::ClientResponse resp;
      Status st = http::Fetch(req, &resp);
      bool ok = st.ok() && resp.status / 100 == 2;
      {
        std::lock_guard<std::mutex> lock(mu_);
        (ok ? stats_.sent : stats_.errors) += ok ? batch.size() : 1;
      }
      if (!ok) {
        // The URL may carry credentials: name the Alertmanager by its position only.
        log::Warn("Sending alerts to Alertmanager failed",
                  {{"alertmanager", std::to_string(u)},
                   {"alerts", std::to_string(batch.size())},
                   {"err", st.ok() ? "HTTP " + std::to_string(resp.status) + ": " +
                                         resp.body.substr(0, 200)
                                   : st.ToString()}});
      }
    }
  }
}

}  // namespace tocsin::alertd
