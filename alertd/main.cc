// tocsin-alertd: evaluates Prometheus rule files against any Prometheus-compatible query API and
// notifies Slack (or a log receiver). `tocsin-alertd check rules FILE...` validates rule files
// like `promtool check rules`; `tocsin-alertd test rules FILE...` runs rule unit tests like
// `promtool test rules`.
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <string>

#include "alertd/eval/manager.h"
#include "alertd/eval/remote_writer.h"
#include "alertd/notify/alertmanager.h"
#include "alertd/notify/config.h"
#include "alertd/notify/dispatcher.h"
#include "alertd/notify/notifier.h"
#include "alertd/rules/rules.h"
#include "alertd/unittest/unittest.h"
#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/log.h"
#include "common/base/signals.h"
#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "common/http/server.h"

using namespace tocsin;

namespace {

constexpr const char* kVersion = "0.1.0";

nlohmann::json AlertJson(const alertd::Alert& a) {
  nlohmann::json j;
  j["labels"] = a.labels;
  j["annotations"] = a.annotations;
  j["state"] = std::string(alertd::AlertStateName(a.state));
  j["activeAt"] = FormatRfc3339Millis(a.active_at);
  char v[64];
  std::snprintf(v, sizeof v, "%e", a.value);
  j["value"] = v;
  return j;
}

http::Response Json(const nlohmann::json& data) {
  nlohmann::json body;
  body["status"] = "success";
  body["data"] = data;
  return http::Response::Json(200, body.dump());
}

int CheckRules(const std::vector<std::string>& files) {
  int bad = 0;
  for (const std::string& f : files) {
    std::vector<alertd::Group> groups;
    std::printf("Checking %s\n", f.c_str());
    Status st = alertd::LoadRuleFiles({f}, &groups);
    if (!st.ok()) {
      std::printf("  FAILED:\n%s\n\n", std::string(st.message()).c_str());
      ++bad;
      continue;
    }
    size_t rules = 0;
    for (const auto& g : groups) rules += g.rules.size();
    std::printf("  SUCCESS: %zu rules found\n\n", rules);
  }
  return bad ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "check" && std::string(argv[2]) == "rules") {
    return CheckRules(std::vector<std::string>(argv + 3, argv + argc));
  }
  if (argc >= 3 && std::string(argv[1]) == "test" && std::string(argv[2]) == "rules") {
    return alertd::RunRuleTests(std::vector<std::string>(argv + 3, argv + argc), stdout, stderr);
  }
  SignalWaiter signals;
  http::ServerOptions web;
  web.listen_address = ":8880";
  std::vector<std::string> rule_files;
  std::string datasource = "http://127.0.0.1:9090";
  std::chrono::milliseconds interval = std::chrono::minutes(1);
  std::chrono::milliseconds query_timeout = std::chrono::seconds(30);
  std::string slack_url_file, slack_channel, notify_log_file, log_level = "info", external_url;
  std::string remote_write_url;
  std::vector<std::string> alertmanager_urls;
  std::string storage_path = "data/alertd";
  std::string config_file;
  std::chrono::milliseconds notify_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds resend_delay = std::chrono::minutes(1);
  FlagSet flags(
      "tocsin-alertd",
      "Evaluates Prometheus alerting rules against a Prometheus-compatible query API and\n"
      "notifies Slack. Subcommands: check rules FILE... (validates rule files, as promtool\n"
      "check rules); test rules FILE... (runs rule unit tests, as promtool test rules).");
  flags.StringList("rules.file", &rule_files,
                   "Rule files (globs allowed); repeatable. Default: rules/*.rules.yml.");
  flags.String("datasource.url", &datasource,
               "Prometheus-compatible query API to evaluate rules against.");
  flags.String("web.listen-address", &web.listen_address, "Address for the API and /metrics.");
  flags.Duration("evaluation-interval", &interval,
                 "Evaluation interval of groups without their own.");
  flags.Duration("query.timeout", &query_timeout, "Timeout of each rule's query.");
  flags.String("slack.api-url-file", &slack_url_file,
               "File holding the Slack incoming-webhook URL (secret). Else $SLACK_WEBHOOK_URL; "
               "without either, notifications go to the log.");
  flags.String("slack.channel", &slack_channel, "Slack channel override (e.g. #alerts).");
  flags.String("config.file", &config_file,
               "Notification routing in Alertmanager's shape (route, receivers with "
               "slack_configs, inhibit_rules). Empty: every alert to Slack (when a webhook is "
               "set) and the log, one message per alert.");
  flags.Duration("notify.timeout", &notify_timeout,
                 "Timeout of one delivery attempt to Slack (then retried with backoff).");
  flags.String("storage.path", &storage_path,
               "Directory for alertd's state: the notification log, so that a restart delivers "
               "pending notifications once. Empty: kept in memory only.");
  flags.String("notify.log-file", &notify_log_file,
               "File the log receiver appends notifications to.");
  flags.String(
      "remote-write.url", &remote_write_url,
      "Prometheus remote-write URL for recording-rule results, ALERTS and ALERTS_FOR_STATE "
      "(e.g. http://127.0.0.1:9090/api/v1/write). Empty: not written.");
  flags.StringList("alertmanager.url", &alertmanager_urls,
                   "Alertmanager to send alerts to (POST <url>/api/v2/alerts), besides Slack or "
                   "the log; repeatable.");
  flags.Duration("rules.alert.resend-delay", &resend_delay,
                 "How often firing alerts are re-sent to Alertmanager.");
  flags.String("web.external-url", &external_url,
               "URL of this service, for templates ($externalURL).");
  flags.String("log.level", &log_level, "debug, info, warn or error.");
  if (int rc = flags.ParseCommandLine(argc, argv, kVersion); rc >= 0) return rc;
  log::Level level;
  if (!log::ParseLevel(log_level, &level)) {
    std::fprintf(stderr, "tocsin-alertd: invalid --log.level\n");
    return 2;
  }
  log::SetLevel(level);
  if (rule_files.empty()) rule_files.push_back("rules/*.rules.yml");

  std::string slack_url;
  if (!slack_url_file.empty()) {
    Status st = ReadTrimmedFile(slack_url_file, &slack_url);
    if (!st.ok()) {
      log::Error("Cannot read the Slack URL file",
                 {{"file", slack_url_file}, {"err", st.ToString()}});
      return 1;
    }
  } else if (const char* env = std::getenv("SLACK_WEBHOOK_URL")) {
    slack_url = env;
  }
  // Where notifications go: the file's routing tree, or one default receiver.
  auto load_notify_config = [&](alertd::NotifyConfig* c) -> Status {
    if (config_file.empty()) {
      *c = alertd::DefaultNotifyConfig(slack_url, slack_channel);
      return Status::Ok();
    }
    return alertd::LoadNotifyConfig(config_file, c);
  };
  alertd::NotifyConfig notify_config;
  if (Status st = load_notify_config(&notify_config); !st.ok()) {
    log::Error("Cannot load the configuration", {{"err", st.ToString()}});
    return 1;
  }
  alertd::NotifierOptions no;
  no.log_file = notify_log_file;
  no.timeout = notify_timeout;
  if (!storage_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(storage_path, ec);
    if (ec) {
      log::Error("Cannot create the storage directory",
                 {{"path", storage_path}, {"err", ec.message()}});
      return 1;
    }
    no.state_file = JoinPath(storage_path, "notifications.log");
  }
  size_t slack_configs = 0;
  for (const auto& r : notify_config.receivers) slack_configs += r.slack.size();
  log::Info("Starting tocsin-alertd", {{"version", kVersion},
                                       {"datasource", datasource},
                                       {"config", config_file.empty() ? "(default)" : config_file},
                                       {"receivers", slack_configs ? "slack and log" : "log"}});
  Status notifier_status;
  alertd::Notifier notifier(no, &notifier_status);
  if (!notifier_status.ok()) return 1;
  alertd::DispatcherOptions dopt;
  dopt.state_dir = storage_path;
  dopt.external_url = external_url;
  Status dispatcher_status;
  alertd::Dispatcher dispatcher(notify_config, &notifier, dopt, &dispatcher_status);
  if (!dispatcher_status.ok()) return 1;
  auto ds = alertd::NewHttpDatasource(datasource, query_timeout);
  alertd::ManagerOptions mo;
  mo.default_interval = interval;
  mo.external_url = external_url;
  std::unique_ptr<alertd::RemoteWriter> writer;
  alertd::WriteFn write;
  if (!remote_write_url.empty()) {
    writer = std::make_unique<alertd::RemoteWriter>(remote_write_url, query_timeout);
    write = [&](const std::vector<alertd::OutputSeries>& series) {
      Status st = writer->Write(series);
      if (!st.ok()) log::Warn("Writing rule results failed", {{"err", st.ToString()}});
    };
  }
  mo.resend_delay = resend_delay;
  alertd::Manager manager(
      ds.get(), mo, [](const alertd::Rule&, const alertd::Alert&) {}, write);
  std::unique_ptr<alertd::AlertmanagerSender> am;
  if (!alertmanager_urls.empty()) {
    alertd::AlertmanagerOptions ao;
    ao.urls = alertmanager_urls;
    ao.external_url = external_url;
    ao.external_labels = mo.external_labels;
    ao.timeout = query_timeout;
    am = std::make_unique<alertd::AlertmanagerSender>(ao);
  }
  manager.SetAlertSink([&](const alertd::Rule& r, const std::vector<alertd::Alert>& alerts) {
    dispatcher.Add(r, alerts);
    if (am) am->Send(r, alerts);
  });

  std::mutex reload_mu;
  auto load = [&]() -> Status {
    std::lock_guard<std::mutex> lock(reload_mu);
    std::vector<alertd::Group> groups;
    TOCSIN_RETURN_IF_ERROR(alertd::LoadRuleFiles(rule_files, &groups));
    alertd::NotifyConfig c;
    TOCSIN_RETURN_IF_ERROR(load_notify_config(&c));
    dispatcher.SetConfig(std::move(c));
    size_t rules = 0;
    for (const auto& g : groups) rules += g.rules.size();
    manager.SetGroups(std::move(groups));
    log::Info("Rules loaded", {{"rules", std::to_string(rules)}});
    return Status::Ok();
  };
  if (Status st = load(); !st.ok()) {
    log::Error("Cannot load rules", {{"err", st.ToString()}});
    return 1;
  }
  manager.Start();

  http::Server server(web);
  server.router().HandleHealth();
  server.router().Handle("/api/v1/rules", [&](const http::Request&) {
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : manager.Groups()) {
      nlohmann::json jg;
      jg["name"] = g.name;
      jg["file"] = g.file;
      jg["interval"] = static_cast<double>(g.interval.count()) / 1000;
      jg["lastEvaluation"] = FormatRfc3339Millis(g.last_evaluation);
      jg["evaluationTime"] = g.evaluation_seconds;
      jg["rules"] = nlohmann::json::array();
      for (const auto& rs : g.rules) {
        nlohmann::json jr;
        const alertd::Rule& r = *rs.rule;
        jr["name"] = r.name();
        jr["query"] = r.expr;
        jr["health"] = rs.health;
        jr["lastError"] = rs.last_error;
        jr["lastEvaluation"] = FormatRfc3339Millis(rs.last_evaluation);
        jr["evaluationTime"] = rs.evaluation_seconds;
        std::map<std::string, std::string> labels(r.labels.begin(), r.labels.end());
        jr["labels"] = labels;
        if (r.is_alert()) {
          jr["type"] = "alerting";
          jr["duration"] = static_cast<double>(r.for_.count()) / 1000;
          jr["annotations"] =
              std::map<std::string, std::string>(r.annotations.begin(), r.annotations.end());
          bool firing = false, pending = false;
          nlohmann::json alerts = nlohmann::json::array();
          for (const auto& a : rs.alerts) {
            firing = firing || a.state == alertd::AlertState::kFiring;
            pending = pending || a.state == alertd::AlertState::kPending;
            alerts.push_back(AlertJson(a));
          }
          jr["state"] = firing ? "firing" : pending ? "pending" : "inactive";
          jr["alerts"] = alerts;
        } else {
          jr["type"] = "recording";
        }
        jg["rules"].push_back(jr);
      }
      groups.push_back(jg);
    }
    return Json({{"groups", groups}});
  });
  server.router().Handle("/api/v1/alerts", [&](const http::Request&) {
    nlohmann::json alerts = nlohmann::json::array();
    for (const auto& g : manager.Groups())
      for (const auto& rs : g.rules)
        for (const auto& a : rs.alerts) alerts.push_back(AlertJson(a));
    return Json({{"alerts", alerts}});
  });
  server.router().Handle("/metrics", [&](const http::Request&) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    expfmt::Writer w(&r.body);
    auto s = manager.Stats();
    auto n = notifier.Stats();
    using MT = expfmt::MetricType;
    w.Single("tocsin_alertd_rule_evaluations_total", "Rule evaluations.", MT::kCounter,
             static_cast<double>(s.evaluations));
    w.Single("tocsin_alertd_rule_evaluation_failures_total",
             "Rule evaluations that failed (datasource errors).", MT::kCounter,
             static_cast<double>(s.failures));
    w.Single("tocsin_alertd_rule_evaluation_seconds_total", "Seconds spent evaluating rules.",
             MT::kCounter, s.evaluation_seconds);
    w.Family("tocsin_alertd_notifications_total", "Notifications by receiver and result.",
             MT::kCounter);
    for (const auto& [key, c] : n.by_receiver) {
      w.Sample("tocsin_alertd_notifications_total",
               {{"receiver", key.first}, {"integration", key.second}, {"result", "sent"}},
               static_cast<double>(c.first));
      w.Sample("tocsin_alertd_notifications_total",
               {{"receiver", key.first}, {"integration", key.second}, {"result", "failed"}},
               static_cast<double>(c.second));
    }
    w.Single("tocsin_alertd_remote_write_samples_total",
             "Rule results written back by remote write.", MT::kCounter,
             writer ? static_cast<double>(writer->samples_written()) : 0.0);
    w.Single("tocsin_alertd_remote_write_failures_total", "Remote-write requests that failed.",
             MT::kCounter, writer ? static_cast<double>(writer->failures()) : 0.0);
    w.Single("tocsin_alertd_notification_retries_total", "Notification attempts retried.",
             MT::kCounter, static_cast<double>(n.retries));
    auto ds_stats = dispatcher.Stats();
    w.Single("tocsin_alertd_alert_groups", "Notification groups holding alerts.", MT::kGauge,
             static_cast<double>(ds_stats.groups));
    w.Single("tocsin_alertd_alerts_silenced_total",
             "Alerts left out of a notification because a silence matched.", MT::kCounter,
             static_cast<double>(ds_stats.silenced));
    w.Single("tocsin_alertd_alerts_inhibited_total",
             "Alerts left out of a notification because an inhibit rule matched.", MT::kCounter,
             static_cast<double>(ds_stats.inhibited));
    w.Single("tocsin_alertd_notifications_recovered",
             "Pending notifications read back from the notification log at start.", MT::kGauge,
             static_cast<double>(n.recovered));
    alertd::AlertmanagerStats as = am ? am->Stats() : alertd::AlertmanagerStats{};
    w.Single("tocsin_alertd_alertmanager_alerts_sent_total", "Alerts sent to Alertmanager.",
             MT::kCounter, static_cast<double>(as.sent));
    w.Single("tocsin_alertd_alertmanager_errors_total", "Requests to Alertmanager that failed.",
             MT::kCounter, static_cast<double>(as.errors));
    w.Single("tocsin_alertd_alertmanager_alerts_dropped_total",
             "Alerts dropped because the queue to Alertmanager was full.", MT::kCounter,
             static_cast<double>(as.dropped));
    return r;
  });
  // Silences, in Alertmanager's API v2 shapes.
  auto silence_json = [&](const alertd::Silence& si) {
    nlohmann::json j;
    j["id"] = si.id;
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    j["status"] = {{"state", si.State(now)}};
    j["updatedAt"] = FormatRfc3339Millis(si.updated_at);
    j["startsAt"] = FormatRfc3339Millis(si.starts_at);
    j["endsAt"] = FormatRfc3339Millis(si.ends_at);
    j["createdBy"] = si.created_by;
    j["comment"] = si.comment;
    j["matchers"] = nlohmann::json::array();
    for (const auto& m : si.matchers)
      j["matchers"].push_back(
          {{"name", m.name}, {"value", m.value}, {"isRegex", m.is_regex}, {"isEqual", m.is_equal}});
    return j;
  };
  auto bad = [](int code, const std::string& what) {
    return http::Response::Json(code, nlohmann::json(what).dump());
  };
  server.router().Handle("/api/v2/silences", [&](const http::Request& r) {
    if (r.method == "GET") {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& si : dispatcher.Silences()) list.push_back(silence_json(si));
      return http::Response::Json(200, list.dump());
    }
    if (r.method != "POST") return bad(405, "method not allowed");
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) return bad(400, "body is not a JSON object");
    alertd::Silence si;
    si.id = j.value("id", "");
    si.created_by = j.value("createdBy", "");
    si.comment = j.value("comment", "");
    int64_t starts = 0, ends = 0;
    if (!j.contains("startsAt") || !ParseRfc3339(j.value("startsAt", ""), &starts))
      return bad(400, "startsAt missing or not an RFC 3339 time");
    if (!j.contains("endsAt") || !ParseRfc3339(j.value("endsAt", ""), &ends))
      return bad(400, "endsAt missing or not an RFC 3339 time");
    si.starts_at = starts;
    si.ends_at = ends;
    if (!j.contains("matchers") || !j["matchers"].is_array())
      return bad(400, "matchers missing or not a list");
    for (const auto& m : j["matchers"]) {
      if (!m.is_object() || !m.contains("name") || !m.contains("value"))
        return bad(400, "a matcher needs name and value");
      si.matchers.push_back({m.value("name", ""), m.value("value", ""), m.value("isRegex", false),
                             m.value("isEqual", true)});
    }
    std::string id;
    Status st = dispatcher.PutSilence(std::move(si), &id);
    if (!st.ok())
      return bad(st.code() == Status::Code::kNotFound ? 404 : 400, std::string(st.message()));
    return http::Response::Json(200, nlohmann::json({{"silenceID", id}}).dump());
  });
  server.router().HandlePrefix("/api/v2/silence/", [&](const http::Request& r) {
    std::string id = r.path.substr(std::string("/api/v2/silence/").size());
    if (r.method == "DELETE") {
      Status st = dispatcher.ExpireSilence(id);
      if (!st.ok())
        return bad(st.code() == Status::Code::kNotFound ? 404 : 400, std::string(st.message()));
      return http::Response::Json(200, "{}");
    }
    for (const auto& si : dispatcher.Silences())
      if (si.id == id) return http::Response::Json(200, silence_json(si).dump());
    return bad(404, "silence " + id + " not found");
  });
  server.router().Handle("/-/reload", [&](const http::Request& r) {
    if (r.method != "POST" && r.method != "PUT")
      return http::Response::Text(405, "Only POST or PUT requests allowed\n");
    Status st = load();
    if (!st.ok()) return http::Response::Text(500, "failed to reload: " + st.ToString() + "\n");
    return http::Response::Text(200, "");
  });
  if (Status st = server.Start(); !st.ok()) {
    log::Error("Failed to start the web server", {{"err", st.ToString()}});
    return 1;
  }
  for (;;) {
    int sig = signals.Wait();
    if (sig == SIGHUP) {
      if (Status st = load(); !st.ok())
        log::Error("Reload failed; the running rules stay", {{"err", st.ToString()}});
      continue;
    }
    log::Info("Shutting down", {{"signal", std::to_string(sig)}});
    break;
  }
  server.Stop();
  manager.Stop();
  return 0;
}
