#include "alertd/notify/dispatcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <random>

#include "alertd/notify/alertmanager.h"
#include "common/base/file.h"
#include "common/base/log.h"
#include "common/base/strings.h"

namespace tocsin::alertd {
namespace {

using StrMap = std::map<std::string, std::string>;

// 64-bit FNV-1a of the label pairs, in hex: stable across restarts, JSON-safe.
std::string Fingerprint(const StrMap& l) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](std::string_view s, unsigned char end) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ end) * 1099511628211ull;
  };
  for (const auto& [k, v] : l) {
    mix(k, 0xff);
    mix(v, 0xfe);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Slack's limits: header blocks 150 characters, section texts 3,000, 50 blocks, attachment
// text about 8,000 (the classic layout cuts quietly): what is cut is marked.
std::string Cut(std::string s, size_t max) {
  if (s.size() <= max) return s;
  s.resize(max - 3);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  return s + "…";
}

bool MatchAll(const std::vector<labels::Matcher>& ms, const StrMap& l) {
  for (const auto& m : ms) {
    auto it = l.find(m.name());
    if (!m.Matches(it == l.end() ? std::string_view() : std::string_view(it->second))) return false;
  }
  return true;
}

std::string DefaultTitle(const NotificationData& n) {
  size_t firing = 0;
  for (const auto& a : n.alerts) firing += a.status == "firing";
  std::string t = n.status == "firing" ? "[FIRING:" + std::to_string(firing) + "]" : "[RESOLVED]";
  for (const auto& [k, v] : n.group_labels) t += " " + v;
  return t;
}

std::string AlertText(const NotificationAlert& a) {
  auto ann = [&](const char* k) {
    auto it = a.annotations.find(k);
    return it == a.annotations.end() ? std::string() : it->second;
  };
  std::string t = a.status == "resolved" ? "*Resolved:* " : "";
  t += ann("summary").empty() ? "*" + a.labels.at("alertname") + "*" : "*" + ann("summary") + "*";
  if (!ann("description").empty()) t += "\n" + ann("description");
  t += "\n*Labels:*";
  for (const auto& [k, v] : a.labels) t += " " + k + "=" + v;
  if (!ann("runbook_url").empty()) t += "\n*Runbook:* " + ann("runbook_url");
  return t;
}

std::string Render(const std::shared_ptr<const Template>& t, const NotificationData& n,
                   const std::string& fallback) {
  if (!t) return fallback;
  TemplateData d;
  d.notification = &n;
  std::string out;
  Status st = t->Execute(d, &out);
  if (!st.ok()) {
    log::Warn("Notification template failed; using the default", {{"err", st.ToString()}});
    return fallback;
  }
  return out;
}

// The group of an alert on a route: the route's path and the alert's group_by labels.
std::string GroupKey(const Route& route, const std::string& path, const StrMap& labels,
                     StrMap* group_labels) {
  for (const auto& [k, v] : labels)
    if (route.group_by_all ||
        std::find(route.group_by.begin(), route.group_by.end(), k) != route.group_by.end())
      (*group_labels)[k] = v;
  return path + "|" + Fingerprint(*group_labels);
}

bool WriteAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            ::fdatasync(fd) == 0;
  ::close(fd);
  return ok && ::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

std::string Dispatcher::SlackPayload(const SlackConfig& c, const NotificationData& n) {
  std::string title = Render(c.title, n, DefaultTitle(n));
  std::string color =
      Render(c.color, n, n.status == "firing" ? std::string("danger") : std::string("good"));
  nlohmann::json msg;
  if (c.blocks) {
    nlohmann::json blocks = nlohmann::json::array();
    blocks.push_back(
        {{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", Cut(title, 150)}}}});
    if (c.text) {
      blocks.push_back(
          {{"type", "section"},
           {"text", {{"type", "mrkdwn"}, {"text", Cut(Render(c.text, n, ""), 3000)}}}});
    } else {
      size_t shown = 0;
      for (const auto& a : n.alerts) {
        if (shown == 47) break;
        blocks.push_back({{"type", "section"},
                          {"text", {{"type", "mrkdwn"}, {"text", Cut(AlertText(a), 3000)}}}});
        ++shown;
      }
      if (shown < n.alerts.size())
        blocks.push_back(
            {{"type", "context"},
             {"elements",
              {{{"type", "mrkdwn"},
                {"text", "… and " + std::to_string(n.alerts.size() - shown) + " more"}}}}});
    }
    if (!n.external_url.empty())
      blocks.push_back(
          {{"type", "context"},
           {"elements",
            {{{"type", "mrkdwn"}, {"text", "<" + n.external_url + "|tocsin-alertd>"}}}}});
    msg["blocks"] = blocks;
    msg["text"] = Cut(title, 3000);  // the notification's fallback text
  } else {
    std::string text;
    if (c.text) {
      text = Render(c.text, n, "");
    } else {
      for (const auto& a : n.alerts) text += (text.empty() ? "" : "\n\n") + AlertText(a);
    }
    nlohmann::json att;
    att["color"] = color;
    att["title"] = Cut(title, 1024);
    att["text"] = Cut(text, 8000);
    att["fallback"] = Cut(title, 1024);
    att["mrkdwn_in"] = {"text"};
    msg["attachments"] = nlohmann::json::array({att});
  }
  if (!c.channel.empty()) msg["channel"] = c.channel;
  msg["username"] = c.username.empty() ? "tocsin-alertd" : c.username;
  if (!c.icon_emoji.empty()) msg["icon_emoji"] = c.icon_emoji;
  return msg.dump();
}

Dispatcher::Dispatcher(NotifyConfig config, Notifier* notifier, DispatcherOptions options,
                       Status* status)
    : config_(std::move(config)), notifier_(notifier), options_(std::move(options)) {
  Status st = LoadState();
  if (!st.ok()) log::Error("Notification state unreadable", {{"err", st.ToString()}});
  if (status) *status = st;
  SetConfig(config_);
  if (options_.start_thread) thread_ = std::thread([this] { Run(); });
}

Dispatcher::~Dispatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (log_dirty_ && !options_.state_dir.empty()) WriteLog(LogJson());  // the last second
}

int64_t Dispatcher::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Dispatcher::SetConfig(NotifyConfig config) {
  std::map<std::string, std::string> urls;
  std::vector<std::string> names;
  for (const Receiver& r : config.receivers) {
    names.push_back(r.name);
    for (size_t i = 0; i < r.slack.size(); ++i)
      urls[r.name + "/" + std::to_string(i)] = r.slack[i].api_url;
  }
  notifier_->SetSlackUrls(std::move(urls), names);
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
  // Groups point into the old route tree: re-route their alerts into the new one.
  std::map<std::string, Group> old;
  old.swap(groups_);
  int64_t now = Now();
  for (const auto& [key, g] : old)
    for (const auto& [fp, a] : g.alerts) Place(fp, a, now, &g);
  urgent_ = true;  // the flush thread looks at the groups' timers again
  cv_.notify_all();
}

void Dispatcher::Match(const alertd::Route& r, const std::string& path, const StrMap& labels,
                       std::vector<std::pair<const alertd::Route*, std::string>>* out) const {
  for (size_t i = 0; i < r.routes.size(); ++i) {
    const alertd::Route& c = r.routes[i];
    if (!MatchAll(c.matchers, labels)) continue;
    size_t before = out->size();
    Match(c, path + "/" + std::to_string(i), labels, out);
    if (out->size() == before) out->emplace_back(&c, path + "/" + std::to_string(i));
    if (!c.continue_matching) return;
  }
  if (path == "0" && out->empty()) out->emplace_back(&r, path);
}

bool Dispatcher::Place(const std::string& fp, const StoredAlert& s, int64_t now,
                       const Group* from) {
  bool created = false;
  std::vector<std::pair<const alertd::Route*, std::string>> routes;
  Match(config_.route, "0", s.labels, &routes);
  for (const auto& [route, path] : routes) {
    StrMap gl;
    std::string key = GroupKey(*route, path, s.labels, &gl);
    auto [it, fresh] = groups_.try_emplace(key);
    Group& g = it->second;
    if (fresh) {
      // A resolution for a group that no longer exists: nothing to say. (A reload rebuilds
      // every group, so there it stays, to be told.)
      if (s.resolved && from == nullptr) {
        groups_.erase(it);
        continue;
      }
      g.key = key;
      g.labels = gl;
      g.next_flush = from && from->key == key ? from->next_flush : now + route->group_wait.count();
      created = true;
    }
    g.route = route;
    auto [ait, added] = g.alerts.try_emplace(fp, s);
    if (added || ait->second.resolved != s.resolved) g.changed = true;
    if (!added) ait->second = s;
    g.earliest_end = fresh ? s.ends_at : std::min(g.earliest_end, s.ends_at);
  }
  return created;
}

void Dispatcher::Add(const Rule& rule, const std::vector<Alert>& alerts) {
  std::string generator_url = GeneratorUrl(options_.external_url, rule.expr);
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  bool created = false;
  for (const Alert& a : alerts) {
    StoredAlert s;
    s.labels = a.labels;
    s.annotations = a.annotations;
    s.starts_at = a.fired_at ? a.fired_at : a.active_at;
    s.resolved = a.state == AlertState::kInactive;
    s.ends_at = s.resolved ? a.resolved_at : a.valid_until;
    s.generator_url = generator_url;
    created |= Place(Fingerprint(s.labels), s, now, nullptr);
  }
  // Only a new group can be due before the flush thread's next wake-up (it wakes at the
  // earliest group timer): waking it for every refresh of thousands of alerts made it scan
  // every group thousands of times per evaluation round.
  if (created) {
    urgent_ = true;
    cv_.notify_all();
  }
}

bool Dispatcher::Silenced(const StrMap& labels, int64_t now) const {
  for (const auto& [id, s] : silences_) {
    if (s.State(now) != "active") continue;
    bool all = true;
    for (const SilenceMatcher& m : s.matchers) {
      labels::Matcher lm;
      auto type =
          m.is_regex
              ? (m.is_equal ? labels::Matcher::Type::kRegexp : labels::Matcher::Type::kNotRegexp)
              : (m.is_equal ? labels::Matcher::Type::kEqual : labels::Matcher::Type::kNotEqual);
      if (!labels::Matcher::Make(type, m.name, m.value, &lm).ok()) {
        all = false;
        break;
      }
      auto it = labels.find(m.name);
      if (!lm.Matches(it == labels.end() ? std::string_view() : std::string_view(it->second))) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool Dispatcher::Inhibited(const std::string& fp, const StrMap& labels, int64_t now) const {
  for (const InhibitRule& r : config_.inhibit_rules) {
    if (!MatchAll(r.target, labels)) continue;
    for (const auto& [key, g] : groups_) {
      for (const auto& [sfp, s] : g.alerts) {
        if (sfp == fp || s.resolved || s.ends_at <= now || !MatchAll(r.source, s.labels)) continue;
        bool equal = true;
        for (const std::string& l : r.equal) {
          auto a = labels.find(l), b = s.labels.find(l);
          std::string av = a == labels.end() ? "" : a->second;
          std::string bv = b == s.labels.end() ? "" : b->second;
          if (av != bv) equal = false;
        }
        if (equal) return true;
      }
    }
  }
  return false;
}

void Dispatcher::FlushGroup(Group& g, int64_t now) {
  const alertd::Route& route = *g.route;
  g.next_flush = now + route.group_interval.count();
  // Nothing arrived, changed or ended, and no silence or inhibition can have changed what is
  // shown: only a repeat could be due. (Thousands of groups flush every interval: this keeps
  // each such flush to a few comparisons.)
  if (!g.changed && now < g.earliest_end && silences_.empty() && config_.inhibit_rules.empty()) {
    auto it = log_.find(g.key);
    if (it != log_.end() &&
        (it->second.firing.empty() || now - it->second.sent_at < route.repeat_interval.count()))
      return;
  }
  g.changed = false;
  g.earliest_end = std::numeric_limits<int64_t>::max();
  for (const auto& [fp, a] : g.alerts) g.earliest_end = std::min(g.earliest_end, a.ends_at);
  std::set<std::string> firing, resolved;
  NotificationData n;
  n.receiver = route.receiver;
  n.external_url = options_.external_url;
  n.group_labels = g.labels;
  for (auto& [fp, a] : g.alerts) {
    bool is_resolved = a.resolved || a.ends_at <= now;
    if (!is_resolved) {
      if (Silenced(a.labels, now)) {
        ++silenced_;
        continue;
      }
      if (Inhibited(fp, a.labels, now)) {
        ++inhibited_;
        continue;
      }
    }
    (is_resolved ? resolved : firing).insert(fp);
  }
  LogEntry& entry = log_[g.key];
  bool notify = false;
  // New firing alerts, alerts notified as firing that resolved, or time to repeat.
  for (const auto& fp : firing)
    if (!entry.firing.count(fp)) notify = true;
  std::set<std::string> newly_resolved;
  for (const auto& fp : resolved)
    if (entry.firing.count(fp)) newly_resolved.insert(fp);
  if (!newly_resolved.empty()) notify = true;
  if (!firing.empty() && now - entry.sent_at >= route.repeat_interval.count()) notify = true;
  // Alerts no longer firing but never notified as firing (silenced, or resolved before the
  // first flush) are dropped without a word.
  if (notify) {
    for (const auto& fp : firing) {
      const StoredAlert& a = g.alerts.at(fp);
      n.alerts.push_back({"firing", a.labels, a.annotations, FormatRfc3339Millis(a.starts_at),
                          FormatRfc3339Millis(a.ends_at), a.generator_url, ""});
    }
    for (const auto& fp : newly_resolved) {
      const StoredAlert& a = g.alerts.at(fp);
      n.alerts.push_back({"resolved", a.labels, a.annotations, FormatRfc3339Millis(a.starts_at),
                          FormatRfc3339Millis(a.ends_at), a.generator_url, ""});
    }
    n.status = firing.empty() ? "resolved" : "firing";
    // Common labels and annotations: the pairs every alert shares.
    for (size_t i = 0; i < n.alerts.size(); ++i) {
      if (i == 0) {
        n.common_labels = n.alerts[0].labels;
        n.common_annotations = n.alerts[0].annotations;
        continue;
      }
      std::erase_if(n.common_labels, [&](const auto& kv) {
        auto it = n.alerts[i].labels.find(kv.first);
        return it == n.alerts[i].labels.end() || it->second != kv.second;
      });
      std::erase_if(n.common_annotations, [&](const auto& kv) {
        auto it = n.alerts[i].annotations.find(kv.first);
        return it == n.alerts[i].annotations.end() || it->second != kv.second;
      });
    }
    std::string names;
    for (const auto& a : n.alerts) {
      auto it = a.labels.find("alertname");
      std::string name = it == a.labels.end() ? "" : it->second;
      if (names.find(name) == std::string::npos) names += (names.empty() ? "" : ",") + name;
    }
    std::string group;
    for (const auto& [k, v] : g.labels) group += (group.empty() ? "" : ",") + k + "=" + v;
    std::string log_line = "status=" + n.status + " firing=" + std::to_string(firing.size()) +
                           " resolved=" + std::to_string(newly_resolved.size()) + " alertnames=\"" +
                           names + "\" group=\"" + group + "\"";
    const Receiver* r = config_.FindReceiver(route.receiver);
    bool sent_slack = false;
    if (r != nullptr) {
      for (size_t i = 0; i < r->slack.size(); ++i) {
        if (firing.empty() && !r->slack[i].send_resolved) continue;
        outbox_.push_back({r->name, static_cast<int>(i), SlackPayload(r->slack[i], n),
                           sent_slack ? "" : log_line});
        sent_slack = true;
      }
    }
    if (!sent_slack) outbox_.push_back({route.receiver, -1, "", log_line});
    ++notifications_;
    entry.firing = firing;
    entry.resolved = newly_resolved;
    entry.sent_at = now;
  }
  // Resolved alerts have been told (or had nothing to tell): they leave the group.
  for (const auto& fp : resolved) g.alerts.erase(fp);
  if (notify) log_dirty_ = true;
}

void Dispatcher::Flush() {
  // Groups are flushed under mu_; the messages they produced are enqueued (one fdatasync) and
  // the notification log written (once) after it is released, so that evaluation, which adds
  // alerts under mu_, never waits for the disk — with thousands of groups too.
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  std::vector<Message> outbox;
  std::string log_json;
  {
    std::lock_guard<std::mutex> lock(mu_);
    FlushLocked();
    outbox.swap(outbox_);
    // The log is rewritten whole: at most once a second (a crash in between may repeat the
    // notifications of that second, once — Alertmanager keeps its log every 15 minutes).
    int64_t now = Now();
    if (log_dirty_ && (now - log_written_at_ >= 1000 || now < log_written_at_)) {
      log_json = LogJson();
      log_dirty_ = false;
      log_written_at_ = now;
    }
  }
  notifier_->EnqueueAll(std::move(outbox));
  if (!log_json.empty()) WriteLog(log_json);
}

void Dispatcher::FlushLocked() {
  int64_t now = Now();
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    if (g.next_flush <= now) FlushGroup(g, now);
    if (g.alerts.empty()) {
      // Nothing left: the group and what it last notified go (a new group starts afresh).
      if (log_.erase(g.key)) log_dirty_ = true;
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
  // Expired silences are dropped after the retention.
  bool changed = false;
  for (auto it = silences_.begin(); it != silences_.end();) {
    if (it->second.ends_at + options_.silence_retention.count() < now) {
      it = silences_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) SaveSilences();
}

void Dispatcher::Run() {
  // Passes over the groups at their earliest timer, at most one per 50 ms (timers of thousands
  // of groups fall everywhere in an interval), or at once when a new group appears.
  constexpr int64_t kMinPause = 50;
  std::unique_lock<std::mutex> lock(mu_);
  int64_t last = 0;
  while (!stop_) {
    int64_t now = Now();
    int64_t next = now + 1000;
    for (const auto& [k, g] : groups_) next = std::min(next, g.next_flush);
    next = std::max(next, last + kMinPause);
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, next - now)),
                 [&] { return stop_ || urgent_; });
    if (stop_) break;
    urgent_ = false;
    lock.unlock();
    Flush();
    last = Now();
    lock.lock();
  }
}

Status Dispatcher::PutSilence(Silence s, std::string* id) {
  if (s.matchers.empty()) return Status::InvalidArgument("a silence needs at least one matcher");
  for (const SilenceMatcher& m : s.matchers) {
    if (m.name.empty()) return Status::InvalidArgument("a silence matcher needs a label name");
    labels::Matcher lm;
    auto type = m.is_regex ? labels::Matcher::Type::kRegexp : labels::Matcher::Type::kEqual;
    Status st = labels::Matcher::Make(type, m.name, m.value, &lm);
    if (!st.ok())
      return Status::InvalidArgument("silence matcher " + m.name + ": " +
                                     std::string(st.message()));
  }
  if (s.ends_at <= s.starts_at) return Status::InvalidArgument("endsAt must be after startsAt");
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = Now();
  if (s.ends_at <= now) return Status::InvalidArgument("endsAt is in the past");
  if (!s.id.empty()) {
    if (!silences_.count(s.id)) return Status::NotFound("silence " + s.id + " not found");
  } else {
    std::mt19937_64 rng(static_cast<uint64_t>(now) ^ (next_silence_ << 32));
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%012llx",
                  static_cast<unsigned long long>(rng() & 0xffffffff),
                  static_cast<unsigned long long>(rng() & 0xffff),
                  static_cast<unsigned long long>(next_silence_++ & 0xffff),
                  static_cast<unsigned long long>(rng() & 0xffffffffffff));
    s.id = buf;
  }
  s.updated_at = now;
  *id = s.id;
  silences_[s.id] = std::move(s);
  SaveSilences();
  urgent_ = true;  // the flush thread looks at the groups' timers again
  cv_.notify_all();
  return Status::Ok();
}

Status Dispatcher::ExpireSilence(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = silences_.find(id);
  if (it == silences_.end()) return Status::NotFound("silence " + id + " not found");
  int64_t now = Now();
  if (it->second.State(now) == "expired")
    return Status::InvalidArgument("silence " + id + " already expired");
  it->second.ends_at = now;
  it->second.updated_at = now;
  SaveSilences();
  return Status::Ok();
}

std::vector<Silence> Dispatcher::Silences() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Silence> out;
  for (const auto& [id, s] : silences_) out.push_back(s);
  return out;
}

DispatcherStats Dispatcher::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  DispatcherStats s;
  s.notifications = notifications_;
  s.silenced = silenced_;
  s.inhibited = inhibited_;
  s.groups = groups_.size();
  for (const auto& [k, g] : groups_) s.alerts += g.alerts.size();
  return s;
}

std::string Dispatcher::LogJson() const {
  if (options_.state_dir.empty()) return "";
  // Written directly (thousands of groups: no DOM of them); strings escaped by nlohmann.
  auto quoted = [](std::string* out, const std::string& s) {
    if (!s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos) {
      *out += '"';
      *out += s;  // a fingerprint
      *out += '"';
    } else {
      *out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  };
  auto list = [&](std::string* out, const std::set<std::string>& fps) {
    *out += '[';
    bool first = true;
    for (const std::string& fp : fps) {
      if (!first) *out += ',';
      first = false;
      quoted(out, fp);
    }
    *out += ']';
  };
  std::string out = "{";
  for (const auto& [key, e] : log_) {
    if (out.size() > 1) out += ',';
    quoted(&out, key);
    out += ":{\"firing\":";
    list(&out, e.firing);
    out += ",\"resolved\":";
    list(&out, e.resolved);
    out += ",\"sent_at\":" + std::to_string(e.sent_at) + "}";
  }
  out += '}';
  return out;
}

void Dispatcher::WriteLog(const std::string& json) const {
  if (!WriteAtomically(JoinPath(options_.state_dir, "nflog.json"), json))
    log::Error("Cannot write the notification log", {{"dir", options_.state_dir}});
}

void Dispatcher::SaveSilences() const {
  if (options_.state_dir.empty()) return;
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [id, s] : silences_) {
    nlohmann::json js;
    js["id"] = s.id;
    js["startsAt"] = s.starts_at;
    js["endsAt"] = s.ends_at;
    js["updatedAt"] = s.updated_at;
    js["createdBy"] = s.created_by;
    js["comment"] = s.comment;
    js["matchers"] = nlohmann::json::array();
    for (const auto& m : s.matchers)
      js["matchers"].push_back(
          {{"name", m.name}, {"value", m.value}, {"isRegex", m.is_regex}, {"isEqual", m.is_equal}});
    j.push_back(js);
  }
  if (!WriteAtomically(JoinPath(options_.state_dir, "silences.json"), j.dump()))
    log::Error("Cannot write the silences", {{"dir", options_.state_dir}});
}

Status Dispatcher::LoadState() {
  if (options_.state_dir.empty()) return Status::Ok();
  std::string text;
  std::string nflog = JoinPath(options_.state_dir, "nflog.json");
  if (PathExists(nflog)) {
    TOCSIN_RETURN_IF_ERROR(ReadFile(nflog, &text, 64 << 20));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return Status::Corruption(nflog + ": not a JSON object");
    for (const auto& [key, je] : j.items()) {
      LogEntry e;
      e.firing = je.value("firing", std::set<std::string>());
      e.resolved = je.value("resolved", std::set<std::string>());
      e.sent_at = je.value("sent_at", int64_t{0});
      log_[key] = std::move(e);
    }
  }
  std::string sil = JoinPath(options_.state_dir, "silences.json");
  if (PathExists(sil)) {
    TOCSIN_RETURN_IF_ERROR(ReadFile(sil, &text, 64 << 20));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array()) return Status::Corruption(sil + ": not a JSON array");
    for (const auto& js : j) {
      Silence s;
      s.id = js.value("id", "");
      s.starts_at = js.value("startsAt", int64_t{0});
      s.ends_at = js.value("endsAt", int64_t{0});
      s.updated_at = js.value("updatedAt", int64_t{0});
      s.created_by = js.value("createdBy", "");
      s.comment = js.value("comment", "");
      for (const auto& m : js.value("matchers", nlohmann::json::array()))
        s.matchers.push_back({m.value("name", ""), m.value("value", ""), m.value("isRegex", false),
                              m.value("isEqual", true)});
      if (!s.id.empty()) silences_[s.id] = std::move(s);
    }
  }
  return Status::Ok();
}

}  // namespace tocsin::alertd
