#include "alertd/notify/notifier.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>

#include "common/base/file.h"
#include "common/base/log.h"
#include "common/base/strings.h"
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

namespace {

nlohmann::json ItemJson(const std::string& alertname, const Alert& a) {
  nlohmann::json j;
  j["alertname"] = alertname;
  j["labels"] = a.labels;
  j["annotations"] = a.annotations;
  j["state"] = std::string(AlertStateName(a.state));
  j["value"] = a.value;
  j["active_at"] = a.active_at;
  j["fired_at"] = a.fired_at;
  j["resolved_at"] = a.resolved_at;
  return j;
}

bool ItemFromJson(const nlohmann::json& j, std::string* alertname, Alert* a) {
  if (!j.is_object() || !j.contains("alertname") || !j.contains("labels")) return false;
  *alertname = j.at("alertname").get<std::string>();
  a->labels = j.at("labels").get<std::map<std::string, std::string>>();
  a->annotations = j.value("annotations", std::map<std::string, std::string>());
  a->state = j.value("state", "") == "firing" ? AlertState::kFiring : AlertState::kInactive;
  a->value = j.value("value", 0.0);
  a->active_at = j.value("active_at", int64_t{0});
  a->fired_at = j.value("fired_at", int64_t{0});
  a->resolved_at = j.value("resolved_at", int64_t{0});
  return true;
}

}  // namespace

// The log: one line per event, "Q <id> <json>" when queued, "D <id>" when done. At start the
// pending entries are read back and the file is rewritten with only them.
Status Notifier::OpenLog() {
  const std::string& path = options_.state_file;
  std::string text;
  if (PathExists(path)) TOCSIN_RETURN_IF_ERROR(ReadFile(path, &text, 256 << 20));
  std::map<uint64_t, std::string> pending;  // id -> json, in id order
  std::istringstream in(text);
  size_t lineno = 0, bad = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    uint64_t id = 0;
    size_t sp = line.find(' ', 2);
    if (line.size() < 3 || line[1] != ' ' ||
        !ParseUint64(
            std::string_view(line).substr(2, sp == std::string::npos ? std::string::npos : sp - 2),
            &id)) {
      ++bad;  // a line torn by a crash: the entry never counted as queued
      continue;
    }
    if (line[0] == 'Q' && sp != std::string::npos) pending[id] = line.substr(sp + 1);
    if (line[0] == 'D') pending.erase(id);
    next_id_ = std::max(next_id_, id + 1);
  }
  std::string rewritten;
  for (const auto& [id, json] : pending) {
    Item item;
    item.id = id;
    nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
    if (!ItemFromJson(j, &item.alertname, &item.alert)) {
      ++bad;
      continue;
    }
    rewritten += "Q " + std::to_string(id) + " " + json + "\n";
    queue_.push_back(std::move(item));
  }
  if (bad > 0)
    log::Warn("Notification log: skipped unreadable lines",
              {{"file", path}, {"lines", std::to_string(bad)}});
  recovered_ = queue_.size();
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("open " + tmp + ": " + std::strerror(errno));
  bool ok =
      ::write(fd, rewritten.data(), rewritten.size()) == static_cast<ssize_t>(rewritten.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::IoError("write " + path + ": " + std::strerror(errno));
  log_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (log_fd_ < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  if (recovered_ > 0)
    log::Info("Notifications pending from before the restart",
              {{"file", path}, {"notifications", std::to_string(recovered_)}});
  return Status::Ok();
}

void Notifier::AppendLog(const std::string& line) {
  if (log_fd_ < 0) return;
  if (::write(log_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fdatasync(log_fd_) != 0) {
    log::Error("Notification log write failed; continuing without it",
               {{"file", options_.state_file}, {"err", std::strerror(errno)}});
    ::close(log_fd_);
    log_fd_ = -1;
  }
}

Notifier::Notifier(NotifierOptions options, Status* status) : options_(std::move(options)) {
  Status st;
  if (!options_.state_file.empty()) st = OpenLog();
  if (!st.ok()) log::Error("Notification log unusable", {{"err", st.ToString()}});
  if (status) *status = st;
  thread_ = std::thread([this] { Run(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (log_fd_ >= 0) ::close(log_fd_);
}

void Notifier::Notify(const Rule& rule, const Alert& alert) {
  if (alert.state == AlertState::kInactive && !options_.send_resolved) return;
  std::lock_guard<std::mutex> lock(mu_);
  Item item{next_id_++, rule.alert, alert};
  AppendLog("Q " + std::to_string(item.id) + " " + ItemJson(item.alertname, alert).dump() + "\n");
  queue_.push_back(std::move(item));
  cv_.notify_all();
}

NotifierStats Notifier::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {sent_, failed_, retries_, recovered_};
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
    // Given up after the last attempt counts as done too: a restart does not retry forever.
    // Stopped in the middle of retries: left pending for the next start.
    if (ok || !stop_) AppendLog("D " + std::to_string(item.id) + "\n");
    (ok ? sent_ : failed_)++;
  }
}

}  // namespace tocsin::alertd
