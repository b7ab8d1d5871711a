#include "alertd/eval/manager.h"

#include "alertd/eval/remote_writer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <thread>

#include "common/base/log.h"
#include "common/http/client.h"

namespace tocsin::alertd {

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "";
}

namespace {

class HttpDatasource : public Datasource {
 public:
  HttpDatasource(std::string url, std::chrono::milliseconds timeout)
      : url_(std::move(url)), timeout_(timeout) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }

  Status Query(const std::string& expr, int64_t t_ms, std::vector<QuerySample>* out) override {
    out->clear();
    http::ClientRequest req;
    req.method = "POST";
    req.url = url_ + "/api/v1/query";
    req.timeout = timeout_;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"User-Agent", "tocsin-alertd"}};
    char t[64];
    std::snprintf(t, sizeof t, "%.3f", static_cast<double>(t_ms) / 1000);
    req.body = "query=" + http::PercentEncode(expr) + "&time=" + t;
    http::ClientResponse resp;
    TOCSIN_RETURN_IF_ERROR(http::Fetch(req, &resp).WithContext("query " + req.url));
    nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
    if (j.is_discarded()) {
      return Status::Unavailable("datasource answered HTTP " + std::to_string(resp.status) +
                                 " with a body that is not JSON");
    }
    if (j.value("status", "") != "success") {
      return Status::Unavailable(
          "datasource: " + j.value("errorType", std::string("error")) + ": " +
          j.value("error", std::string("HTTP ") + std::to_string(resp.status)));
    }
    const auto& data = j["data"];
    std::string type = data.value("resultType", "");
    auto number = [](const nlohmann::json& v) -> double {
      std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      if (s == "NaN") return std::nan("");
      if (s == "+Inf" || s == "Inf") return INFINITY;
      if (s == "-Inf") return -INFINITY;
      return std::strtod(s.c_str(), nullptr);
    };
    if (type == "scalar") {
      out->push_back({{}, number(data["result"][1])});
      return Status::Ok();
    }
    if (type != "vector")
      return Status::InvalidArgument("rule expression gave a " + type + ", not a vector");
    for (const auto& r : data["result"]) {
      QuerySample s;
      for (auto it = r["metric"].begin(); it != r["metric"].end(); ++it)
        s.labels[it.key()] = it.value().get<std::string>();
      s.value = number(r["value"][1]);
      out->push_back(std::move(s));
    }
    return Status::Ok();
  }

 private:
  std::string url_;
  std::chrono::milliseconds timeout_;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Fingerprint(const std::map<std::string, std::string>& l) {
  std::string f;
  for (const auto& [k, v] : l) {
    f += k;
    f.push_back('\xff');
    f += v;
    f.push_back('\xfe');
  }
  return f;
}

}  // namespace

std::unique_ptr<Datasource> NewHttpDatasource(std::string base_url,
                                              std::chrono::milliseconds timeout) {
  return std::make_unique<HttpDatasource>(std::move(base_url), timeout);
}

struct Manager::Impl {
  Datasource* ds;
  ManagerOptions o;
  NotifyFn notify;
  WriteFn write;
  AlertSinkFn sink;
  std::vector<OutputSeries> out;      // this group's results to write back
  int64_t group_interval_ms = 60000;  // of the group being evaluated

  struct RuleState {
    Rule rule;
    std::map<std::string, Alert> alerts;  // by fingerprint of labels
    // State from before a restart (ALERTS_FOR_STATE and ALERTS), read at the first evaluation:
    // fingerprint -> (active since, was firing).
    bool restore_tried = false;
    std::map<std::string, std::pair<int64_t, bool>> restored;
    std::string health = "unknown", last_error;
    int64_t last_eval = 0;
    double seconds = 0;
    // Fingerprints (and labels) of the series written at the previous evaluation: those missing
    // from the next one get a staleness marker, as Prometheus writes for rule results.
    std::map<std::string, std::map<std::string, std::string>> written;
  };
  struct GroupState {
    Group group;  // rules moved into states
    std::vector<RuleState> rules;
    int64_t next = 0, last_eval = 0;
    double seconds = 0;
  };

  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<GroupState> groups;  // GUARDED_BY(mu)
  bool stop = false;
  std::thread thread;
  std::atomic<uint64_t> evaluations{0}, failures{0}, notifications{0}, eval_us{0};

  std::chrono::milliseconds Interval(const GroupState& g) const {
    return g.group.interval.count() > 0 ? g.group.interval : o.default_interval;
  }

  // Reads what the previous run of alertd wrote back: when each alert became active and
  // whether it was firing, so a restart neither resets a `for` clock nor pages again.
  void Restore(RuleState& rs, int64_t t) {
    rs.restore_tried = true;
    if (!o.restore || !rs.rule.is_alert()) return;
    std::string sel = "{alertname=\"" + rs.rule.alert + "\"}";
    std::vector<QuerySample> state, alerts;
    std::string lookback =
        std::to_string(std::max<int64_t>(o.restore_window.count() / 1000, 1)) + "s";
    if (!ds->Query("last_over_time(ALERTS_FOR_STATE" + sel + "[" + lookback + "])", t, &state).ok())
      return;
    if (!ds->Query("last_over_time(ALERTS" + sel.substr(0, sel.size() - 1) +
                       ",alertstate=\"firing\"}[" + lookback + "])",
                   t, &alerts)
             .ok())
      return;
    std::map<std::string, bool> firing;
    for (auto& s : alerts) {
      s.labels.erase("__name__");
      s.labels.erase("alertstate");
      if (s.value == 1) firing[Fingerprint(s.labels)] = true;
    }
    for (auto& s : state) {
      s.labels.erase("__name__");
      std::string fp = Fingerprint(s.labels);
      rs.restored[fp] = {static_cast<int64_t>(s.value * 1000), firing.count(fp) > 0};
    }
    if (!rs.restored.empty())
      log::Info("Restored alert state",
                {{"rule", rs.rule.alert}, {"alerts", std::to_string(rs.restored.size())}});
  }

  // Queues a rule's results for writing back, with a staleness marker for every series the
  // rule wrote at its previous evaluation and not at this one (an alert that resolved or moved
  // from pending to firing, a recorded series that vanished).
  void Emit(RuleState& rs, int64_t t, std::vector<OutputSeries> results) {
    if (!write) return;
    static const double kStale = std::bit_cast<double>(uint64_t{0x7ff0000000000002});
    std::map<std::string, std::map<std::string, std::string>> now;
    for (OutputSeries& o : results) {
      now.emplace(Fingerprint(o.labels), o.labels);
      out.push_back(std::move(o));
    }
    for (const auto& [fp, ls] : rs.written) {
      if (now.count(fp)) continue;
      OutputSeries stale;
      stale.labels = ls;
      stale.t = t;
      stale.v = kStale;
      out.push_back(std::move(stale));
    }
    rs.written = std::move(now);
  }

  // Hands the rule's due alerts to the sink: firing ones every resend delay (valid for four
  // times the larger of it and the group interval), resolved ones when they resolve and then
  // every resend delay while retained. Also after a failed evaluation: the alerts keep their
  // state, so receivers must not let them expire.
  void SendDue(RuleState& rs, int64_t t) {
    if (!sink || !rs.rule.is_alert()) return;
    const Rule& r = rs.rule;
    std::vector<Alert> due;
    int64_t resend = o.resend_delay.count();
    for (auto& [fp, a] : rs.alerts) {
      if (a.state == AlertState::kPending) continue;
      bool needs = (a.state == AlertState::kInactive && a.resolved_at > a.last_sent_at) ||
                   a.last_sent_at == 0 || a.last_sent_at + resend <= t;
      if (!needs) continue;
      a.last_sent_at = t;
      a.valid_until = a.state == AlertState::kFiring ? t + 4 * std::max(resend, group_interval_ms)
                                                     : a.resolved_at;
      due.push_back(a);
    }
    if (!due.empty()) sink(r, due);
  }

  void EvalRule(RuleState& rs, int64_t t) {
    auto began = std::chrono::steady_clock::now();
    if (!rs.restore_tried) Restore(rs, t);
    const Rule& r = rs.rule;
    std::vector<QuerySample> samples;
    Status st = ds->Query(r.expr, t, &samples);
    rs.last_eval = t;
    evaluations.fetch_add(1);
    if (!st.ok()) {
      // Keep every alert as it is: a datasource outage must not resolve anything.
      failures.fetch_add(1);
      if (rs.health != "err")
        log::Warn("Rule evaluation failed", {{"rule", r.name()}, {"err", st.ToString()}});
      rs.health = "err";
      rs.last_error = std::string(st.message());
      SendDue(rs, t);
      return;
    }
    rs.health = "ok";
    rs.last_error.clear();
    if (!r.is_alert()) {
      std::vector<OutputSeries> results;
      for (const QuerySample& s : samples) {
        OutputSeries o;
        o.labels = s.labels;
        o.labels["__name__"] = r.record;
        for (const auto& [k, v] : r.labels) o.labels[k] = v;
        o.t = t;
        o.v = s.value;
        results.push_back(std::move(o));
      }
      Emit(rs, t, std::move(results));
      return;
    }
    std::map<std::string, bool> seen;
    for (const QuerySample& s : samples) {
      Alert a;
      a.labels = s.labels;
      a.labels.erase("__name__");
      a.value = s.value;
      TemplateData d;
      d.labels = a.labels;
      d.value = s.value;
      d.external_labels = o.external_labels;
      d.external_url = o.external_url;
      d.query = [this, t](const std::string& q, std::vector<QuerySample>* out) {
        return ds->Query(q, t, out);
      };
      for (size_t i = 0; i < r.labels.size(); ++i) {
        std::string v;
        Status ts = r.label_templates[i]->Execute(d, &v);
        if (!ts.ok()) v = "<error expanding template: " + std::string(ts.message()) + ">";
        a.labels[r.labels[i].first] = v;
      }
      a.labels["alertname"] = r.alert;
      for (size_t i = 0; i < r.annotations.size(); ++i) {
        std::string v;
        Status ts = r.annotation_templates[i]->Execute(d, &v);
        if (!ts.ok()) v = "<error expanding template: " + std::string(ts.message()) + ">";
        a.annotations[r.annotations[i].first] = v;
      }
      std::string fp = Fingerprint(a.labels);
      seen[fp] = true;
      auto it = rs.alerts.find(fp);
      if (it == rs.alerts.end() || it->second.state == AlertState::kInactive) {
        a.state = AlertState::kPending;
        a.active_at = t;
        if (auto old = rs.restored.find(fp); old != rs.restored.end()) {
          a.active_at = std::min(old->second.first, t);
          // Already firing (and notified) before the restart: firing again, without a page.
          if (old->second.second) {
            a.state = AlertState::kFiring;
            a.fired_at = t;
          }
          rs.restored.erase(old);
        }
        it = rs.alerts.insert_or_assign(fp, a).first;
      } else {
        it->second.value = a.value;
        it->second.annotations = a.annotations;
      }
      Alert& cur = it->second;
      cur.last_seen = t;
      cur.keep_firing_since = 0;
      if (cur.state == AlertState::kPending && t - cur.active_at >= r.for_.count()) {
        cur.state = AlertState::kFiring;
        cur.fired_at = t;
        notifications.fetch_add(1);
        notify(r, cur);
      }
    }
    rs.restored.clear();  // only the first evaluation after a restart uses it
    for (auto it = rs.alerts.begin(); it != rs.alerts.end();) {
      Alert& a = it->second;
      if (seen.count(it->first)) {
        ++it;
        continue;
      }
      if (a.state == AlertState::kPending) {
        it = rs.alerts.erase(it);
        continue;
      }
      if (a.state == AlertState::kFiring) {
        // keep_firing_for counts from the first evaluation without the condition, as in
        // Prometheus.
        if (r.keep_firing_for.count() > 0) {
          if (a.keep_firing_since == 0) a.keep_firing_since = t;
          if (t - a.keep_firing_since < r.keep_firing_for.count()) {
            ++it;
            continue;
          }
        }
        a.state = AlertState::kInactive;
        a.resolved_at = t;
        notifications.fetch_add(1);
        notify(r, a);
      }
      if (a.state == AlertState::kInactive && t - a.resolved_at > o.resolved_retention.count()) {
        it = rs.alerts.erase(it);
        continue;
      }
      ++it;
    }
    SendDue(rs, t);
    // ALERTS and ALERTS_FOR_STATE as Prometheus writes them, for pending and firing alerts.
    std::vector<OutputSeries> results;
    for (const auto& [fp, a] : rs.alerts) {
      if (a.state == AlertState::kInactive) continue;
      OutputSeries alerts;
      alerts.labels = a.labels;
      alerts.labels["__name__"] = "ALERTS";
      alerts.labels["alertstate"] = a.state == AlertState::kFiring ? "firing" : "pending";
      alerts.t = t;
      alerts.v = 1;
      results.push_back(alerts);
      OutputSeries state;
      state.labels = a.labels;
      state.labels["__name__"] = "ALERTS_FOR_STATE";
      state.t = t;
      state.v = static_cast<double>(a.active_at) / 1000;
      results.push_back(std::move(state));
    }
    Emit(rs, t, std::move(results));
    rs.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    eval_us.fetch_add(static_cast<uint64_t>(rs.seconds * 1e6));
  }

  void EvalGroup(GroupState& g, int64_t t) {
    auto began = std::chrono::steady_clock::now();
    group_interval_ms = Interval(g).count();
    out.clear();
    for (auto& rs : g.rules) {
      EvalRule(rs, t);
      if (o.write_after_each_rule && write && !out.empty()) {
        write(out);
        out.clear();
      }
    }
    if (write && !out.empty()) write(out);
    g.last_eval = t;
    g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      int64_t now = NowMs();
      int64_t wake = now + 1000;
      for (auto& g : groups) {
        int64_t interval = Interval(g).count();
        if (g.next == 0) g.next = now - now % interval + interval;  // aligned to the interval
        if (g.next <= now) {
          EvalGroup(g, now);
          g.next += interval;
          if (g.next <= now) g.next = now - now % interval + interval;
        }
        wake = std::min(wake, g.next);
      }
      cv.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, wake - NowMs())),
                  [&] { return stop; });
    }
  }
};

Manager::Manager(Datasource* datasource, ManagerOptions options, NotifyFn notify, WriteFn write)
    : impl_(std::make_unique<Impl>()) {
  impl_->ds = datasource;
  impl_->o = std::move(options);
  impl_->notify = std::move(notify);
  impl_->write = std::move(write);
}

Manager::~Manager() { Stop(); }

void Manager::SetGroups(std::vector<Group> groups) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<Impl::GroupState> next;
  for (Group& g : groups) {
    Impl::GroupState gs;
    for (Rule& r : g.rules) {
      Impl::RuleState rs;
      rs.rule = std::move(r);
      // Keep the state of the same rule (group, name and expression) across reloads.
      for (auto& old : impl_->groups) {
        if (old.group.name != g.name || old.group.file != g.file) continue;
        for (auto& orule : old.rules) {
          if (orule.rule.name() == rs.rule.name() && orule.rule.expr == rs.rule.expr) {
            rs.alerts = std::move(orule.alerts);
            rs.health = orule.health;
            rs.written = std::move(orule.written);
            orule.written.clear();
          }
        }
      }
      gs.rules.push_back(std::move(rs));
    }
    g.rules.clear();
    gs.group = std::move(g);
    next.push_back(std::move(gs));
  }
  // Rules that are gone end their series (recorded results, ALERTS) with staleness markers, as
  // Prometheus does when a reload removes a rule.
  if (impl_->write) {
    static const double kStale = std::bit_cast<double>(uint64_t{0x7ff0000000000002});
    std::vector<OutputSeries> stale;
    int64_t now = NowMs();
    for (const auto& old : impl_->groups)
      for (const auto& orule : old.rules)
        for (const auto& [fp, ls] : orule.written) stale.push_back({ls, now, kStale});
    if (!stale.empty()) impl_->write(stale);
  }
  impl_->groups = std::move(next);
  impl_->cv.notify_all();
}

void Manager::SetAlertSink(AlertSinkFn sink) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->sink = std::move(sink);
}

void Manager::Start() {
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void Manager::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Manager::EvaluateAll(int64_t t_ms) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& g : impl_->groups) impl_->EvalGroup(g, t_ms);
}

std::vector<GroupStatus> Manager::Groups() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<GroupStatus> out;
  for (const auto& g : impl_->groups) {
    GroupStatus gs;
    gs.name = g.group.name;
    gs.file = g.group.file;
    gs.interval = impl_->Interval(g);
    gs.last_evaluation = g.last_eval;
    gs.evaluation_seconds = g.seconds;
    for (const auto& rs : g.rules) {
      RuleStatus r;
      r.rule = &rs.rule;
      r.health = rs.health;
      r.last_error = rs.last_error;
      r.last_evaluation = rs.last_eval;
      r.evaluation_seconds = rs.seconds;
      for (const auto& [fp, a] : rs.alerts)
        if (a.state != AlertState::kInactive) r.alerts.push_back(a);
      gs.rules.push_back(std::move(r));
    }
    out.push_back(std::move(gs));
  }
  return out;
}

ManagerStats Manager::Stats() const {
  ManagerStats s;
  s.evaluations = impl_->evaluations.load();
  s.failures = impl_->failures.load();
  s.notifications_queued = impl_->notifications.load();
  s.evaluation_seconds = static_cast<double>(impl_->eval_us.load()) / 1e6;
  return s;
}

}  // namespace tocsin::alertd
