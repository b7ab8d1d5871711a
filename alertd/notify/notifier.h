#pragma once
// Notifications: a Slack incoming webhook (classic attachment layout: colour by state, title
// "[FIRING] AlertName", the summary and description annotations, the labels), or, without a
// webhook URL, a log receiver (one logfmt line per notification on stdout and in a file).
// Deliveries run on a worker thread in order; 5xx, 429 (honouring Retry-After) and timeouts
// are retried with exponential backoff and jitter, other 4xx are not. The webhook URL is a
// secret: it never appears in a log line, an error or a metric.
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
};

struct NotifierStats {
  uint64_t sent = 0, failed = 0, retries = 0;
};

class Notifier {
 public:
  explicit Notifier(NotifierOptions options);
  ~Notifier();  // delivers what is queued, then stops
  void Notify(const Rule& rule, const Alert& alert);
  NotifierStats Stats() const;
  const char* receiver() const { return options_.slack_url.empty() ? "log" : "slack"; }

  // The Slack payload for an alert (exposed for tests).
  static std::string SlackPayload(const NotifierOptions& o, const std::string& alertname,
                                  const Alert& alert);

 private:
  struct Item {
    std::string alertname;
    Alert alert;
  };
  void Run();
  bool Deliver(const Item& item);

  NotifierOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stop_ = false;
  uint64_t sent_ = 0, failed_ = 0, retries_ = 0;
  std::thread thread_;
};

}  // namespace tocsin::alertd
