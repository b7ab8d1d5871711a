#pragma once
// Notifications: a Slack incoming webhook (classic attachment layout: colour by state, title
// "[FIRING] AlertName", the summary and description annotations, the labels), or, without a
// webhook URL, a log receiver (one logfmt line per notification on stdout and in a file).
// Deliveries run on a worker thread in order; 5xx, 429 (honouring Retry-After) and timeouts
// are retried with exponential backoff and jitter, other 4xx are not. The webhook URL is a
// secret: it never appears in a log line, an error or a metric.
// With a state file, every queued notification is written (and fsynced) to a notification log
// before Notify returns, and marked done once delivered (or given up): a restart delivers what
// was pending, in order, and nothing that was already delivered.
// Thread-safety: thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "alertd/eval/manager.h"

namespace tocsin::alertd {

struct NotifierOptions {
  std::string slack_url;  // empty: the log receiver
  std::string channel, username = "tocsin-alertd", icon_emoji;
  std::string log_file;  // the log receiver's file (besides stdout); empty: none
  bool send_resolved = true;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds min_backoff{std::chrono::milliseconds(500)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(60)};
  int max_attempts = 10;
  std::string state_file;  // the notification log; empty: queued notifications live in memory only
};

struct NotifierStats {
  uint64_t sent = 0, failed = 0, retries = 0;
  uint64_t recovered = 0;  // pending notifications read back from the log at start
};

class Notifier {
 public:
  // Reads back pending notifications from options.state_file (when set) and starts delivering.
  // A log that cannot be read or written is reported in *status (and the notifier runs without
  // persistence).
  explicit Notifier(NotifierOptions options, Status* status = nullptr);
  ~Notifier();  // delivers what is queued, then stops
  void Notify(const Rule& rule, const Alert& alert);
  NotifierStats Stats() const;
  const char* receiver() const { return options_.slack_url.empty() ? "log" : "slack"; }

  // The Slack payload for an alert (exposed for tests).
  static std::string SlackPayload(const NotifierOptions& o, const std::string& alertname,
                                  const Alert& alert);

 private:
  struct Item {
    uint64_t id = 0;
    std::string alertname;
    Alert alert;
  };
  void Run();
  bool Deliver(const Item& item);
  Status OpenLog();
  void AppendLog(const std::string& line);  // REQUIRES: mu_ held

  NotifierOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stop_ = false;
  uint64_t sent_ = 0, failed_ = 0, retries_ = 0, recovered_ = 0;
  uint64_t next_id_ = 1;
  int log_fd_ = -1;
  std::thread thread_;
};

}  // namespace tocsin::alertd
