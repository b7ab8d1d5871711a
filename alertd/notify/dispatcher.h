#pragma once
// The notification pipeline inside alertd, after Alertmanager's: alerts from the rule Manager
// (an AlertSinkFn: firing ones refreshed every resend delay, resolved ones with their end) are
// routed through the route tree (first match, or every match with `continue`), grouped by the
// route's `group_by` labels, and each group is flushed `group_wait` after it appears and then
// every `group_interval`. A flush notifies when the group has firing alerts not notified before,
// when alerts notified as firing have resolved (`send_resolved`), or when `repeat_interval` has
// passed — so an alert that fires and resolves again within a group interval is folded into the
// next update instead of a new message pair. Silenced alerts (active silences whose matchers all
// match) and inhibited ones (an inhibit rule's firing source with the same `equal` labels) are
// left out. What each group last notified (the notification log) and the silences are persisted
// under the state directory, so a restart neither repeats nor loses a notification.
// Thread-safety: thread-safe; one thread of its own runs the group timers.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "alertd/eval/manager.h"
#include "alertd/notify/config.h"
#include "alertd/notify/notifier.h"

namespace tocsin::alertd {

struct SilenceMatcher {
  std::string name, value;
  bool is_regex = false, is_equal = true;
};

struct Silence {
  std::string id;
  std::vector<SilenceMatcher> matchers;
  int64_t starts_at = 0, ends_at = 0, updated_at = 0;  // Unix ms
  std::string created_by, comment;
  std::string State(int64_t now) const {
    return now < starts_at ? "pending" : now < ends_at ? "active" : "expired";
  }
};

struct DispatcherOptions {
  std::string state_dir;  // nflog.json and silences.json; empty: in memory only
  std::string external_url;
  std::function<int64_t()> now;  // Unix ms; unset: the system clock
  bool start_thread = true;      // false: the caller runs Flush() (tests)
  // Expired silences are kept this long (listed as expired), then dropped.
  std::chrono::milliseconds silence_retention{std::chrono::hours(120)};
};

struct DispatcherStats {
  uint64_t notifications = 0, silenced = 0, inhibited = 0;
  size_t groups = 0, alerts = 0;
};

class Dispatcher {
 public:
  // Reads the persisted notification log and silences; errors go to *status.
  Dispatcher(NotifyConfig config, Notifier* notifier, DispatcherOptions options,
             Status* status = nullptr);
  ~Dispatcher();

  // An AlertSinkFn.
  void Add(const Rule& rule, const std::vector<Alert>& alerts);
  // Replaces the configuration (reload); groups of routes that remain keep their state.
  void SetConfig(NotifyConfig config);
  // Flushes every group whose time has come (the thread calls it; tests call it directly).
  void Flush();

  // Silences (Alertmanager's API v2 semantics). A silence with the id of an existing one
  // replaces it. Errors: InvalidArgument naming what is wrong.
  Status PutSilence(Silence s, std::string* id);
  Status ExpireSilence(const std::string& id);
  std::vector<Silence> Silences() const;

  DispatcherStats Stats() const;

  // The Slack message for a notification (exposed for tests): attachment or Block Kit layout,
  // templates applied, Slack's field limits respected (cut and marked with "…").
  static std::string SlackPayload(const SlackConfig& c, const NotificationData& n);

 private:
  struct StoredAlert {
    std::map<std::string, std::string> labels, annotations;
    int64_t starts_at = 0, ends_at = 0;  // ends_at: resolution, or validity of a firing alert
    bool resolved = false;
    std::string generator_url;
  };
  struct Group {
    std::string key;
    const Route* route = nullptr;
    std::map<std::string, std::string> labels;
    std::map<std::string, StoredAlert> alerts;  // by fingerprint
    int64_t next_flush = 0;
    // Whether an alert arrived or changed between firing and resolved since the last flush,
    // and the earliest end of its alerts then (an alert that is not refreshed resolves at its
    // end): until either, a flush has nothing new to say unless a repeat is due.
    bool changed = true;
    int64_t earliest_end = 0;
  };
  struct LogEntry {
    std::set<std::string> firing, resolved;
    int64_t sent_at = 0;
  };

  int64_t Now() const;
  void Run();
  void Match(const alertd::Route& r, const std::string& path,
             const std::map<std::string, std::string>& labels,
             std::vector<std::pair<const alertd::Route*, std::string>>* out) const;
  bool Silenced(const std::map<std::string, std::string>& labels, int64_t now) const;
  bool Inhibited(const std::string& fp, const std::map<std::string, std::string>& labels,
                 int64_t now) const;
  // Puts an alert into the group of every route it matches, creating groups (flushed
  // group_wait from now, or on the timer of `from`, the group it sat in before a reload, when
  // the key is the same). REQUIRES: mu_ held.
  // Returns whether a group was created (the flush thread must then look at its timer).
  bool Place(const std::string& fp, const StoredAlert& s, int64_t now, const Group* from);
  void FlushLocked();  // REQUIRES: mu_ held
  void FlushGroup(Group& g, int64_t now);
  // The notification log as JSON (REQUIRES: mu_ held), and its writing (without mu_).
  std::string LogJson() const;
  void WriteLog(const std::string& json) const;
  void SaveSilences() const;
  Status LoadState();

  NotifyConfig config_;
  Notifier* notifier_;
  DispatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Group> groups_;
  std::map<std::string, LogEntry> log_;
  std::map<std::string, Silence> silences_;
  uint64_t notifications_ = 0, silenced_ = 0, inhibited_ = 0, next_silence_ = 1;
  bool stop_ = false;
  bool urgent_ = false;  // a new group: flush now, not after the pause between passes
  // What FlushGroup produced for the current Flush: messages to enqueue and whether the
  // notification log changed. Both are handed over once per Flush, outside mu_.
  std::vector<Message> outbox_;
  bool log_dirty_ = false;
  int64_t log_written_at_ = 0;
  std::mutex flush_mu_;  // one Flush at a time, so log writes land in order
  std::thread thread_;
};

}  // namespace tocsin::alertd
