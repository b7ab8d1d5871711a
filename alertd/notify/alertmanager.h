#pragma once
// Sends alerts to Alertmanager (`POST <url>/api/v2/alerts`, its JSON shape: labels,
// annotations, startsAt, endsAt, generatorURL), as Prometheus does, so that tocsin-alertd can
// take over rule evaluation in front of an existing Alertmanager. Firing alerts are re-sent
// every resend delay by the Manager (an AlertSinkFn) with endsAt in the future; resolved ones
// carry endsAt = resolution time. Batches of up to 64 alerts leave on a worker thread; a queue
// over 10,000 alerts drops the oldest (counted), as Prometheus's notifier does. Failed sends
// are counted and logged without the URL (it may carry credentials); the next resend repairs
// them.
// Thread-safety: thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alertd/eval/manager.h"

namespace tocsin::alertd {

// The link back to the rule's expression, as Prometheus builds it: <external>/graph?g0.expr=...
std::string GeneratorUrl(const std::string& external_url, const std::string& expr);

struct AlertmanagerOptions {
  std::vector<std::string> urls;                       // base URLs, e.g. http://127.0.0.1:9093
  std::string external_url;                            // for generatorURL
  std::map<std::string, std::string> external_labels;  // added where the alert lacks them
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  size_t queue_capacity = 10000;
};

struct AlertmanagerStats {
  uint64_t sent = 0, errors = 0, dropped = 0;
};

class AlertmanagerSender {
 public:
  explicit AlertmanagerSender(AlertmanagerOptions options);
  ~AlertmanagerSender();  // sends what is queued, then stops

  // An AlertSinkFn.
  void Send(const Rule& rule, const std::vector<Alert>& alerts);
  AlertmanagerStats Stats() const;

  // One alert in Alertmanager's API v2 shape (exposed for tests).
  static std::string AlertJson(const AlertmanagerOptions& o, const Rule& rule, const Alert& a);

 private:
  void Run();

  AlertmanagerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // alerts as JSON objects
  bool stop_ = false;
  AlertmanagerStats stats_;
  std::thread thread_;
};

}  // namespace tocsin::alertd
