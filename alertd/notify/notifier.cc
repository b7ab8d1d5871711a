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

nlohmann::json ItemJson(const Message& m) {
  nlohmann::json j;
  j["receiver"] = m.receiver;
  j["slack_config"] = m.slack_config;
  j["payload"] = m.payload;
  j["log"] = m.log_line;
  return j;
}

bool ItemFromJson(const nlohmann::json& j, Message* m) {
  if (!j.is_object() || !j.contains("receiver")) return false;
  m->receiver = j.value("receiver", "");
  m->slack_config = j.value("slack_config", -1);
  m->payload = j.value("payload", "");
  m->log_line = j.value("log", "");
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
    if (!ItemFromJson(j, &item.m)) {
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

void Notifier::SetSlackUrls(std::map<std::string, std::string> urls,
                            const std::vector<std::string>& receivers) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& r : receivers) by_receiver_.try_emplace({r, "log"});
  for (const auto& [key, url] : urls)
    by_receiver_.try_emplace({key.substr(0, key.rfind('/')), "slack"});
  urls_ = std::move(urls);
}

void Notifier::Enqueue(Message m) {
  std::vector<Message> one;
  one.push_back(std::move(m));
  EnqueueAll(std::move(one));
}

void Notifier::EnqueueAll(std::vector<Message> messages) {
  if (messages.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::string lines;
  for (Message& m : messages) {
    Item item{next_id_++, std::move(m)};
    lines += "Q " + std::to_string(item.id) + " " + ItemJson(item.m).dump() + "\n";
    queue_.push_back(std::move(item));
  }
  AppendLog(lines);
  cv_.notify_all();
}

NotifierStats Notifier::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {sent_, failed_, retries_, recovered_, by_receiver_};
}

Notifier::Outcome Notifier::Deliver(const Item& item) {
  const Message& m = item.m;
  // One log line per notification (a receiver's further Slack configs carry none).
  if (!m.log_line.empty())
    log::Info("Alert notification", {{"receiver", m.receiver}, {"notification", m.log_line}});
  if (!m.log_line.empty() && !options_.log_file.empty()) {
    if (FILE* f = std::fopen(options_.log_file.c_str(), "a")) {
      std::fprintf(f, "receiver=%s %s\n", m.receiver.c_str(), m.log_line.c_str());
      std::fclose(f);
    }
  }
  if (m.slack_config < 0) return Outcome::kDelivered;
  std::string url;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = urls_.find(m.receiver + "/" + std::to_string(m.slack_config));
    if (it != urls_.end()) url = it->second;
  }
  if (url.empty()) {
    log::Error("Slack notification dropped: its receiver is no longer configured",
               {{"receiver", m.receiver}, {"slack_config", std::to_string(m.slack_config)}});
    return Outcome::kGaveUp;
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = url;
  req.timeout = options_.timeout;
  req.headers = {{"Content-Type", "application/json"}, {"User-Agent", "tocsin-alertd"}};
  req.body = m.payload;
  auto backoff = options_.min_backoff;
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    http::ClientResponse resp;
    Status st = http::Fetch(req, &resp);
    if (st.ok() && resp.status / 100 == 2) return Outcome::kDelivered;
    // Errors name the receiver, never its URL (a secret).
    std::string why = st.ok() ? "HTTP " + std::to_string(resp.status) : "transport error";
    bool retry = !st.ok() || resp.status / 100 == 5 || resp.status == 429;
    if (!retry || attempt >= options_.max_attempts) {
      log::Error("Slack notification failed",
                 {{"receiver", m.receiver}, {"attempts", std::to_string(attempt)}, {"err", why}});
      return Outcome::kGaveUp;
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
    log::Warn(
        "Slack notification failed; retrying",
        {{"receiver", m.receiver}, {"err", why}, {"retry_in_ms", std::to_string(wait.count())}});
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, wait, [&] { return stop_; })) return Outcome::kInterrupted;
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
    Outcome outcome = Deliver(item);
    bool ok = outcome == Outcome::kDelivered;
    std::lock_guard<std::mutex> lock(mu_);
    // Given up after the last attempt counts as done too: a restart does not retry forever.
    // Stopped in the middle of retries: left pending for the next start.
    if (outcome != Outcome::kInterrupted) AppendLog("D " + std::to_string(item.id) + "\n");
    (ok ? sent_ : failed_)++;
    auto& c = by_receiver_[{item.m.receiver, item.m.slack_config < 0 ? "log" : "slack"}];
    (ok ? c.first : c.second)++;
  }
}

}  // namespace tocsin::alertd
