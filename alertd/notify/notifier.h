#pragma once
// Delivery of notifications built by the Dispatcher: every message is written to the log
// receiver (one logfmt line on stdout, and in --notify.log-file), and posted to its Slack
// webhook when it has one. Deliveries run on a worker thread in order; 5xx, 429 (honouring
// Retry-After) and timeouts are retried with exponential backoff and jitter, other 4xx are
// not. Webhook URLs are secrets: a message names its receiver and Slack config by name and
// index, the URL is looked up at delivery and never appears in a log line, an error or a metric.
// With a state file, every queued message is written (and fdatasynced) to a notification log
// before Enqueue returns, and marked done once delivered (or given up): a restart delivers what
// was pending, in order, and nothing that was already delivered.
// Thread-safety: thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/status.h"

namespace tocsin::alertd {

struct NotifierOptions {
  std::string log_file;  // the log receiver's file (besides stdout); empty: none
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds min_backoff{std::chrono::milliseconds(500)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(60)};
  int max_attempts = 10;
  std::string state_file;  // the notification log; empty: queued messages live in memory only
};

struct NotifierStats {
  uint64_t sent = 0, failed = 0, retries = 0;
  uint64_t recovered = 0;  // pending messages read back from the log at start
  // By receiver name and integration ("slack" or "log"): delivered, failed.
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> by_receiver;
};

struct Message {
  std::string receiver;   // the receiver's name
  int slack_config = -1;  // index into its slack_configs; -1: the log receiver only
  std::string payload;    // Slack's JSON body
  std::string log_line;   // logfmt fields for the log receiver
};

class Notifier {
 public:
  // Reads back pending messages from options.state_file (when set) and starts delivering. A
  // log that cannot be read or written is reported in *status.
  explicit Notifier(NotifierOptions options, Status* status = nullptr);
  ~Notifier();  // delivers what is queued, then stops

  // Webhook URLs by "receiver/index" (secrets); replaced on reload. Every receiver named
  // (and each with a URL as "slack") gets its counters at 0 from now on.
  void SetSlackUrls(std::map<std::string, std::string> urls,
                    const std::vector<std::string>& receivers = {});
  void Enqueue(Message m);
  // The same for several messages at once, with one write and one fdatasync for them all.
  void EnqueueAll(std::vector<Message> messages);
  NotifierStats Stats() const;

 private:
  struct Item {
    uint64_t id = 0;
    Message m;
  };
  enum class Outcome { kDelivered, kGaveUp, kInterrupted };
  void Run();
  Outcome Deliver(const Item& item);
  Status OpenLog();
  void AppendLog(const std::string& line);  // REQUIRES: mu_ held

  NotifierOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::map<std::string, std::string> urls_;
  bool stop_ = false;
  uint64_t sent_ = 0, failed_ = 0, retries_ = 0, recovered_ = 0;
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> by_receiver_;
  uint64_t next_id_ = 1;
  int log_fd_ = -1;
  std::thread thread_;
};

}  // namespace tocsin::alertd
