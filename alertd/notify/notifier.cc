#include "alertd/notify/notifier.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <random>

#include "common/base/log.h"
#include "common/http/client.h"

namespace tocsin::alertd {

namespace {

// Slack's limits: a message text of 40,000 characters, attachment titles of 1,024 (the classic
// layout truncates quietly: mark what was cut).
std::string Cut(std::string s, size_t max) {
  if (s.size() <= max) return s;
  s.resize(max - 3);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  return s + "…";
}

}  // namespace

Notifier::Notifier(NotifierOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Notifier::Notify(const Rule& rule, const Alert& alert) {
  if (alert.state == AlertState::kInactive && !options_.send_resolved) return;
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back({rule.alert, alert});
  cv_.notify_all();
}

NotifierStats Notifier::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {sent_, failed_, retries_};
}

std::string Notifier::SlackPayload(const NotifierOptions& o, const std::string& alertname,
                                   const Alert& a) {
  bool firing = a.state == AlertState::kFiring;
  nlohmann::json att;
  att["color"] = firing ? "danger" : "good";
  att["title"] = Cut(std::string("[") + (firing ? "FIRING" : "RESOLVED") + "] " + alertname, 1024);
  std::string text;
  auto annotation = [&](const char* k) {
    auto it = a.annotations.find(k);
    return it == a.annotations.end() ? std::string() : it->second;
  };
  if (!annotation("summary").empty()) text += "*Summary:* " + annotation("summary") + "\n";
  if (!annotation("description").empty())
    text += "*Description:* " + annotation("description") + "\n";
  text += "*Labels:*";
  for (const auto& [k, v] : a.labels) text += " " + k + "=" + v;
  if (!annotation("runbook_url").empty()) text += "\n*Runbook:* " + annotation("runbook_url");
  att["text"] = Cut(text, 8000);
  att["fallback"] = Cut(att["title"].get<std::string>(), 1024);
  nlohmann::json msg;
  msg["attachments"] = nlohmann::json::array({att});
  if (!o.channel.empty()) msg["channel"] = o.channel;
  if (!o.username.empty()) msg["username"] = o.username;
  if (!o.icon_emoji.empty()) msg["icon_emoji"] = o.icon_emoji;
  return msg.dump();
}

bool Notifier::Deliver(const Item& item) {
  const Alert& a = item.alert;
  if (options_.slack_url.empty()) {
    std::string labels;
    for (const auto& [k, v] : a.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    auto it = a.annotations.find("summary");
    std::string state = a.state == AlertState::kFiring ? "firing" : "resolved";
    log::Info("Alert notification", {{"receiver", "log"},
                                     {"alertname", item.alertname},
                                     {"state", state},
                                     {"labels", labels},
                                     {"summary", it == a.annotations.end() ? "" : it->second}});
    if (!options_.log_file.empty()) {
      if (FILE* f = std::fopen(options_.log_file.c_str(), "a")) {
        std::fprintf(f, "alertname=%s state=%s labels=\"%s\"\n", item.alertname.c_str(),
                     state.c_str(), labels.c_str());
        std::fclose(f);
      }
    }
    return true;
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.slack_url;
  req.timeout = options_.timeout;
  req.headers = {{"Content-Type", "application/json"}, {"User-Agent", "tocsin-alertd"}};
  req.body = SlackPayload(options_, item.alertname, a);
  auto backoff = options_.min_backoff;
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    http::ClientResponse resp;
    Status st = http::Fetch(req, &resp);
    if (st.ok() && resp.status / 100 == 2) return true;
    // Errors name the receiver, never its URL (a secret).
    std::string why = st.ok() ? "HTTP " + std::to_string(resp.status) : "transport error";
    bool retry = !st.ok() || resp.status / 100 == 5 || resp.status == 429;
    if (!retry || attempt >= options_.max_attempts) {
      log::Error("Slack notification failed", {{"receiver", "slack"},
                                               {"alertname", item.alertname},
                                               {"attempts", std::to_string(attempt)},
                                               {"err", why}});
      return false;
    }
    auto wait = backoff;
    for (const auto& [k, v] : resp.headers) {
      if (k == "retry-after") {
        long secs = std::strtol(v.c_str(), nullptr, 10);
        if (secs > 0) wait = std::chrono::seconds(secs);
      }
    }
    wait += std::chrono::milliseconds(rng() % (wait.count() / 4 + 1));  // jitter
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++retries_;
    }
    log::Warn("Slack notification failed; retrying",
              {{"receiver", "slack"}, {"err", why}, {"retry_in_ms", std::to_string(wait.count())}});
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, wait, [&] { return stop_; })) return false;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void Notifier::Run() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    bool ok = Deliver(item);
    std::lock_guard<std::mutex> lock(mu_);
    (ok ? sent_ : failed_)++;
  }
}

}  // namespace tocsin::alertd
