#pragma once
// Rule evaluation: each group runs at its interval against a Prometheus-compatible query API;
// alerting rules move their alerts inactive -> pending -> firing -> resolved with `for` and
// `keep_firing_for` as Prometheus defines them; labels and annotations are expanded from their
// templates at every evaluation. When the datasource fails, alerts keep their state (no false
// resolve) and the failure is counted and shown on the rule. Transitions to firing and to
// resolved are handed to the notifier.
// Thread-safety: thread-safe; one thread evaluates, the API reads snapshots.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alertd/rules/rules.h"
#include "common/base/status.h"

namespace tocsin::alertd {

// Where queries go: tocsin-tsdb, Prometheus, VictoriaMetrics, Thanos...
class Datasource {
 public:
  virtual ~Datasource() = default;
  // Instant query at t (Unix ms). Vector results only; a scalar comes back as one sample.
  virtual Status Query(const std::string& expr, int64_t t_ms, std::vector<QuerySample>* out) = 0;
};

// Over HTTP: POST <url>/api/v1/query.
std::unique_ptr<Datasource> NewHttpDatasource(std::string base_url,
                                              std::chrono::milliseconds timeout);

enum class AlertState { kInactive, kPending, kFiring };
std::string_view AlertStateName(AlertState s);

struct Alert {
  std::map<std::string, std::string> labels, annotations;
  AlertState state = AlertState::kInactive;
  double value = 0;
  int64_t active_at = 0, fired_at = 0, resolved_at = 0, last_seen = 0;  // Unix ms
  int64_t keep_firing_since = 0;  // first evaluation without the condition (keep_firing_for)
  // For senders to Alertmanager: when it was last handed to the AlertSink, and until when a
  // firing alert counts as firing without a refresh (Alertmanager's endsAt).
  int64_t last_sent_at = 0, valid_until = 0;
};

struct RuleStatus {
  const Rule* rule = nullptr;
  std::string health = "unknown";  // ok, err, unknown
  std::string last_error;
  int64_t last_evaluation = 0;
  double evaluation_seconds = 0;
  std::vector<Alert> alerts;  // active (pending or firing)
};

struct GroupStatus {
  std::string name, file;
  std::chrono::milliseconds interval{0};
  int64_t last_evaluation = 0;
  double evaluation_seconds = 0;
  std::vector<RuleStatus> rules;
};

struct ManagerStats {
  uint64_t evaluations = 0, failures = 0, notifications_queued = 0;
  double evaluation_seconds = 0;
};

struct ManagerOptions {
  std::chrono::milliseconds default_interval{std::chrono::minutes(1)};
  std::map<std::string, std::string> external_labels;
  std::string external_url;
  // Resolved alerts are kept (and re-notified) this long.
  std::chrono::milliseconds resolved_retention{std::chrono::minutes(15)};
  // At the first evaluation of each alerting rule, read ALERTS_FOR_STATE and ALERTS (written by
  // the previous run) from the datasource, looking this far back.
  bool restore = true;
  std::chrono::milliseconds restore_window{std::chrono::hours(1)};
  // Hand each rule's results to the WriteFn before the next rule runs (rule unit tests, where the
  // store is local, so later rules of a group see earlier results as in Prometheus). Otherwise a
  // group's results go in one write after the group.
  bool write_after_each_rule = false;
  // Firing and resolved alerts are handed to the AlertSink again at this period (as Prometheus's
  // --rules.alert.resend-delay), so that Alertmanager keeps them active.
  std::chrono::milliseconds resend_delay{std::chrono::minutes(1)};
};

// Called for every alert that starts firing or resolves (state kInactive with resolved_at set).
using NotifyFn = std::function<void(const Rule& rule, const Alert& alert)>;

// After each evaluation of an alerting rule: its firing alerts and those resolved within the
// retention that are due to be (re)sent (Prometheus's rules for sending to Alertmanager).
using AlertSinkFn = std::function<void(const Rule& rule, const std::vector<Alert>& alerts)>;

// Rule results to write back (recording rules' series, ALERTS, ALERTS_FOR_STATE), after each
// group's evaluation; unset: nothing is written.
struct OutputSeries;
using WriteFn = std::function<void(const std::vector<OutputSeries>& series)>;

class Manager {
 public:
  Manager(Datasource* datasource, ManagerOptions options, NotifyFn notify, WriteFn write = nullptr);
  ~Manager();

  // Replaces the rule groups; alerts of rules that keep their name and expression keep their
  // state.
  void SetGroups(std::vector<Group> groups);
  // Sets where alerts go besides the NotifyFn (a sender to Alertmanager). Before Start().
  void SetAlertSink(AlertSinkFn sink);
  // Starts the evaluation thread (each group at its interval).
  void Start();
  void Stop();
  // Evaluates every group once at t (tests, and the first round).
  void EvaluateAll(int64_t t_ms);

  std::vector<GroupStatus> Groups() const;
  ManagerStats Stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tocsin::alertd
