// The notification pipeline: alertd.yml loading (and its errors), routing with `continue`,
// grouping and its timers, flapping folded into the next update, repeat_interval,
// send_resolved, silences, inhibition, the Slack payload layouts, and the notification log
// across a restart (no second page).
#include "alertd/notify/dispatcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tocsin::alertd {
namespace {

constexpr const char* kConfig = R"yaml(
global:
  slack_api_url: http://127.0.0.1:1/services/T/B/secret
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
    - match_re: {service: "db|cache"}
      receiver: dba
      group_by: [alertname, instance]
inhibit_rules:
  - source_matchers: [alertname="HostDown"]
    target_matchers: [severity="warning"]
    equal: [instance]
receivers:
  - name: ops
    slack_configs:
      - channel: '#ops'
  - name: pager
    slack_configs:
      - channel: '#pager'
        send_resolved: false
        layout: blocks
  - name: dba
    slack_configs:
      - channel: '#dba'
        title: '{{ .Status | toUpper }} {{ len .Alerts.Firing }} {{ .CommonLabels.alertname }}'
        text: '{{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
)yaml";

// Delivery is captured through the log receiver's file.
class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tocsin-dispatch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(ParseNotifyConfig(kConfig, "alertd.yml", &config_).ok());
    Start();
  }
  void TearDown() override {
    dispatcher_.reset();
    notifier_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start() {
    dispatcher_.reset();
    notifier_.reset();
    NotifierOptions no;
    no.log_file = (dir_ / "sent.log").string();
    no.max_attempts = 1;
    no.timeout = std::chrono::milliseconds(200);
    notifier_ = std::make_unique<Notifier>(no);
    DispatcherOptions o;
    o.state_dir = dir_.string();
    o.now = [this] { return now_; };
    o.start_thread = false;
    dispatcher_ = std::make_unique<Dispatcher>(config_, notifier_.get(), o);
  }
  Alert Firing(std::map<std::string, std::string> labels) {
    Alert a;
    a.labels = std::move(labels);
    a.state = AlertState::kFiring;
    a.active_at = a.fired_at = now_;
    a.valid_until = now_ + 4 * 60000;
    return a;
  }
  Alert Resolved(Alert a) {
    a.state = AlertState::kInactive;
    a.resolved_at = now_;
    return a;
  }
  void Send(const Alert& a) {
    Rule r;
    r.alert = a.labels.at("alertname");
    r.expr = "up == 0";
    dispatcher_->Add(r, {a});
  }
  // Advances the clock to t seconds and flushes; returns the log lines delivered since last.
  std::vector<std::string> At(int64_t seconds) {
    now_ = seconds * 1000;
    dispatcher_->Flush();
    // The notifier delivers on its thread: wait for the queue to drain.
    for (int i = 0; i < 200; ++i) {
      auto s = notifier_->Stats();
      if (s.sent + s.failed == enqueued_expected()) break;
      ::usleep(5000);
    }
    ::usleep(20000);
    std::ifstream f(dir_ / "sent.log");
    std::vector<std::string> all, fresh;
    for (std::string l; std::getline(f, l);) all.push_back(l);
    for (size_t i = seen_; i < all.size(); ++i) fresh.push_back(all[i]);
    seen_ = all.size();
    return fresh;
  }
  uint64_t enqueued_expected() { return dispatcher_->Stats().notifications; }

  std::filesystem::path dir_;
  NotifyConfig config_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<Dispatcher> dispatcher_;
  int64_t now_ = 1000000;
  size_t seen_ = 0;
};

bool Has(const std::vector<std::string>& lines, const std::string& what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

TEST_F(DispatcherTest, GroupsWaitsAndFoldsFlapping) {
  now_ = 0;
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "a"}}));
  now_ = 10000;
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "b"}}));
  EXPECT_TRUE(At(29).empty());  // group_wait 30 s from the first alert
  auto sent = At(30);
  ASSERT_EQ(sent.size(), 1u);  // one message for the group of two
  EXPECT_TRUE(Has(sent, "receiver=ops status=firing firing=2"));
  EXPECT_TRUE(Has(sent, "group=\"alertname=HighCpu\""));
  // b resolves and fires again within the group interval: folded, nothing new to say. (Firing
  // alerts are refreshed every minute, as the rule manager re-sends them.)
  now_ = 60000;
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "a"}}));
  Send(Resolved(Firing({{"alertname", "HighCpu"}, {"instance", "b"}})));
  now_ = 120000;
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "a"}}));
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "b"}}));
  now_ = 240000;
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "a"}}));
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "b"}}));
  EXPECT_TRUE(At(330).empty());  // the next flush (30 s + 5 m): same firing set
  // a resolves: the next flush says so.
  now_ = 400000;
  Send(Resolved(Firing({{"alertname", "HighCpu"}, {"instance", "a"}})));
  Send(Firing({{"alertname", "HighCpu"}, {"instance", "b"}}));
  sent = At(630);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(Has(sent, "status=firing firing=1 resolved=1"));
}

TEST_F(DispatcherTest, RoutesWithContinueAndRepeats) {
  now_ = 0;
  Send(Firing(
      {{"alertname", "HostDown"}, {"instance", "db1"}, {"severity", "page"}, {"service", "db"}}));
  auto sent = At(30);
  // severity=page goes to pager and, with continue, on to dba (grouped by alertname, instance).
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(Has(sent, "receiver=pager"));
  EXPECT_TRUE(Has(sent, "receiver=dba"));
  EXPECT_FALSE(Has(sent, "receiver=ops"));
  // Still firing (refreshed): nothing until repeat_interval (4 h) has passed.
  for (int64_t t = 330; t < 4 * 3600; t += 300) {
    now_ = t * 1000;
    Send(Firing(
        {{"alertname", "HostDown"}, {"instance", "db1"}, {"severity", "page"}, {"service", "db"}}));
    ASSERT_TRUE(At(t).empty()) << t;
  }
  now_ = (4 * 3600 + 30) * 1000;
  Send(Firing(
      {{"alertname", "HostDown"}, {"instance", "db1"}, {"severity", "page"}, {"service", "db"}}));
  EXPECT_EQ(At(4 * 3600 + 30).size(), 2u);
  // Resolved: pager has send_resolved: false, dba says it.
  now_ = (4 * 3600 + 60) * 1000;
  Send(Resolved(Firing(
      {{"alertname", "HostDown"}, {"instance", "db1"}, {"severity", "page"}, {"service", "db"}})));
  sent = At(4 * 3600 + 330);
  ASSERT_EQ(sent.size(), 2u);  // dba's Slack message and pager's log-only line
  EXPECT_TRUE(Has(sent, "receiver=dba status=resolved"));
}

TEST_F(DispatcherTest, SilencesAndInhibition) {
  now_ = 0;
  std::string id;
  Silence s;
  s.matchers = {{"instance", "web[0-9]", true, true}};
  s.starts_at = 0;
  s.ends_at = 3600 * 1000;
  ASSERT_TRUE(dispatcher_->PutSilence(s, &id).ok());
  Send(Firing({{"alertname", "DiskFull"}, {"instance", "web1"}}));
  Send(Firing({{"alertname", "DiskFull"}, {"instance", "app1"}}));
  auto sent = At(30);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(Has(sent, "firing=1"));  // web1 silenced
  // HostDown on app1 inhibits its warning alerts.
  Send(Firing({{"alertname", "HostDown"}, {"instance", "app1"}}));
  Send(Firing({{"alertname", "SwapFull"}, {"instance", "app1"}, {"severity", "warning"}}));
  Send(Firing({{"alertname", "SwapFull"}, {"instance", "app2"}, {"severity", "warning"}}));
  sent = At(60);
  EXPECT_TRUE(Has(sent, "alertnames=\"HostDown\""));
  EXPECT_TRUE(Has(sent, "alertnames=\"SwapFull\" group=\"alertname=SwapFull\""));
  EXPECT_TRUE(Has(sent, "status=firing firing=1 resolved=0 alertnames=\"SwapFull\""));
  EXPECT_GE(dispatcher_->Stats().inhibited, 1u);
  // The silence is expired; it is persisted and listed as expired after a restart.
  ASSERT_TRUE(dispatcher_->ExpireSilence(id).ok());
  EXPECT_FALSE(dispatcher_->ExpireSilence(id).ok());
  EXPECT_EQ(dispatcher_->ExpireSilence("nope").code(), Status::Code::kNotFound);
  Silence bad;
  bad.starts_at = 0;
  bad.ends_at = 1;
  EXPECT_FALSE(dispatcher_->PutSilence(bad, &id).ok());  // no matchers
  Start();
  ASSERT_EQ(dispatcher_->Silences().size(), 1u);
  EXPECT_EQ(dispatcher_->Silences()[0].State(now_), "expired");
}

// A restart (the Manager re-sends restored firing alerts) does not page again; the
// notification log remembers what each group said.
TEST_F(DispatcherTest, RestartDoesNotRepage) {
  now_ = 0;
  Send(Firing({{"alertname", "HostDown"}, {"instance", "x"}}));
  ASSERT_EQ(At(30).size(), 1u);
  Start();  // a new process over the same state directory
  now_ = 100000;
  Send(Firing({{"alertname", "HostDown"}, {"instance", "x"}}));
  EXPECT_TRUE(At(130).empty());
  now_ = 200000;
  Send(Resolved(Firing({{"alertname", "HostDown"}, {"instance", "x"}})));
  auto sent = At(430);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(Has(sent, "status=resolved"));
}

// A thousand groups flushing at once (a rule set with many firing alerts): each is notified
// once, the notification log written after the flush holds them all, and a restart pages none
// of them again.
TEST_F(DispatcherTest, ThousandGroupsFlushTogether) {
  now_ = 0;
  for (int i = 0; i < 1000; ++i)
    Send(Firing({{"alertname", "Rule" + std::to_string(i)}, {"instance", "x"}}));
  EXPECT_EQ(dispatcher_->Stats().groups, 1000u);
  auto sent = At(30);
  EXPECT_EQ(sent.size(), 1000u);
  EXPECT_TRUE(Has(sent, "alertnames=\"Rule999\""));
  std::ifstream f(dir_ / "nflog.json");
  nlohmann::json log = nlohmann::json::parse(f);
  EXPECT_EQ(log.size(), 1000u);
  Start();
  now_ = 100000;
  for (int i = 0; i < 1000; ++i)
    Send(Firing({{"alertname", "Rule" + std::to_string(i)}, {"instance", "x"}}));
  EXPECT_TRUE(At(130).empty());
}

TEST(NotifyConfig, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string yaml, want;
  } cases[] = {
      {"route: {receiver: a}\nreceivers: [{name: a, email_configs: []}]\n",
       "alertd.yml:2:23: \"email_configs\" is not supported by tocsin-alertd"},
      {"route: {receiver: b}\nreceivers: [{name: a}]\n", "undefined receiver \"b\""},
      {"route: {receiver: a, group_wait: soon}\nreceivers: [{name: a}]\n",
       "alertd.yml:1:34: not a valid duration: \"soon\""},
      {"route:\n  receiver: a\n  routes:\n    - matchers: ['sev=~\"(\"']\nreceivers: [{name: a}]\n",
       "alertd.yml:4:18: invalid regular expression"},
      {"route: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs: [{channel: x}]\n",
       "no api_url, api_url_file or global slack_api_url"},
      {"route: {receiver: a}\nreceivers: [{name: a, slack_configs: [{api_url: 'http://h/s3cr3t', "
       "title: '{{ nosuchfunc }}'}]}]\n",
       "function \"nosuchfunc\" not defined"},
  };
  for (const auto& c : cases) {
    NotifyConfig cfg;
    Status st = ParseNotifyConfig(c.yaml, "alertd.yml", &cfg);
    ASSERT_FALSE(st.ok()) << c.yaml;
    EXPECT_NE(st.message().find(c.want), std::string_view::npos) << st.message();
    EXPECT_EQ(st.message().find("s3cr3t"), std::string_view::npos);  // never the webhook URL
  }
  // Alertmanager's spelled-out defaults load as the defaults.
  NotifyConfig am;
  ASSERT_TRUE(ParseNotifyConfig(
                  "route: {receiver: a}\nreceivers: [{name: a, slack_configs: "
                  "[{api_url: 'http://h/x', title: '{{ template \"slack.default.title\" . }}', "
                  "text: '{{ template \"slack.default.text\" . }}'}]}]\n",
                  "alertmanager.yml", &am)
                  .ok());
  EXPECT_EQ(am.receivers[0].slack[0].title, nullptr);
  labels::Matcher m;
  ASSERT_TRUE(ParseMatcher("team != \"ops\"", &m).ok());
  EXPECT_EQ(m.type(), labels::Matcher::Type::kNotEqual);
  EXPECT_EQ(m.value(), "ops");
  ASSERT_TRUE(ParseMatcher("instance=~db.*", &m).ok());
  EXPECT_TRUE(m.Matches("db1"));
  EXPECT_FALSE(ParseMatcher("=x", &m).ok());
}

TEST(SlackPayload, LayoutsTemplatesAndLimits) {
  NotificationData n;
  n.status = "firing";
  n.receiver = "ops";
  n.group_labels = {{"alertname", "DiskFull"}};
  n.common_labels = {{"alertname", "DiskFull"}};
  for (int i = 0; i < 60; ++i)
    n.alerts.push_back({"firing",
                        {{"alertname", "DiskFull"}, {"instance", "h" + std::to_string(i)}},
                        {{"summary", "disk full"}, {"description", std::string(4000, 'x')}},
                        "",
                        "",
                        "",
                        ""});
  SlackConfig c;
  c.channel = "#ops";
  auto att = nlohmann::json::parse(Dispatcher::SlackPayload(c, n));
  EXPECT_EQ(att["channel"].get<std::string>(), "#ops");
  EXPECT_EQ(att["attachments"][0]["title"].get<std::string>(), "[FIRING:60] DiskFull");
  EXPECT_EQ(att["attachments"][0]["color"].get<std::string>(), "danger");
  std::string text = att["attachments"][0]["text"];
  EXPECT_LE(text.size(), 8000u);
  EXPECT_EQ(text.substr(text.size() - 3), "…");  // cut and marked
  c.blocks = true;
  auto blocks = nlohmann::json::parse(Dispatcher::SlackPayload(c, n));
  ASSERT_TRUE(blocks["blocks"].is_array());
  EXPECT_LE(blocks["blocks"].size(), 50u);  // Slack's limit
  EXPECT_EQ(blocks["blocks"][0]["type"].get<std::string>(), "header");
  for (const auto& b : blocks["blocks"]) {
    if (b["type"] == "section") {
      EXPECT_LE(b["text"]["text"].get<std::string>().size(), 3000u);
    }
  }
  EXPECT_NE(blocks.dump().find("and 13 more"), std::string::npos);
  std::shared_ptr<const Template> t;
  ASSERT_TRUE(Template::Parse("title",
                              "{{ .Status | toUpper }}: {{ len .Alerts.Firing }} × "
                              "{{ .GroupLabels.Values | join \",\" }}",
                              &t)
                  .ok());
  c.blocks = false;
  c.title = t;
  auto templ = nlohmann::json::parse(Dispatcher::SlackPayload(c, n));
  EXPECT_EQ(templ["attachments"][0]["title"].get<std::string>(), "FIRING: 60 × DiskFull");
}

}  // namespace
}  // namespace tocsin::alertd

namespace tocsin::alertd {
namespace {

// The example shipped in config/ loads (its webhook file is read: point it at a temporary one).
TEST(NotifyConfig, ShippedExampleLoads) {
  std::string text;
  std::ifstream f(std::string(TOCSIN_SOURCE_DIR) + "/config/alertd.example.yml");
  std::stringstream ss;
  ss << f.rdbuf();
  text = ss.str();
  ASSERT_FALSE(text.empty());
  auto url = std::filesystem::temp_directory_path() / ("tocsin-url-" + std::to_string(::getpid()));
  std::ofstream(url) << "http://127.0.0.1:1/services/x\n";
  size_t at = text.find("/etc/tocsin/slack-webhook-url");
  text.replace(at, std::string("/etc/tocsin/slack-webhook-url").size(), url.string());
  NotifyConfig c;
  Status st = ParseNotifyConfig(text, "alertd.example.yml", &c);
  std::filesystem::remove(url);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.receivers.size(), 3u);
  EXPECT_EQ(c.route.routes.size(), 2u);
  EXPECT_TRUE(c.route.routes[0].continue_matching);
  EXPECT_EQ(c.inhibit_rules.size(), 1u);
  EXPECT_EQ(c.receivers[1].slack[0].api_url, "http://127.0.0.1:1/services/x");
}

}  // namespace
}  // namespace tocsin::alertd
