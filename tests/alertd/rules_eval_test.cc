#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "alertd/eval/manager.h"
#include "alertd/eval/remote_writer.h"

#include <cmath>
#include "alertd/notify/alertmanager.h"
#include "alertd/rules/rules.h"

namespace tocsin::alertd {
namespace {

TEST(Rules, LoadsPrometheusRuleFiles) {
  std::vector<Group> groups;
  Status st = ParseRules(R"(
groups:
  - name: g
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} down"}
)",
                         "r.yml", &groups);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].interval, std::chrono::seconds(30));
  ASSERT_EQ(groups[0].rules.size(), 2u);
  EXPECT_FALSE(groups[0].rules[0].is_alert());
  EXPECT_EQ(groups[0].rules[1].for_, std::chrono::minutes(5));
  EXPECT_EQ(groups[0].rules[1].keep_firing_for, std::chrono::minutes(1));
}

TEST(Rules, ErrorsNameFileLineAndProblem) {
  struct Case {
    std::string yaml, want;
  } cases[] = {
      {"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x)\n",
       "r.yml:4:9: could not parse expression: 1:6: parse error: expected type range vector"},
      {"groups:\n  - name: g\n    rules:\n      - expr: up\n",
       "one of 'record' or 'alert' must be set"},
      {"groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n        expr: up\n",
       "only one of 'record' and 'alert' must be set"},
      {"groups:\n  - name: g\n    rules:\n      - record: 'bad name'\n        expr: up\n",
       "invalid recording rule name"},
      {"groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 5m\n",
       "invalid field 'for' in recording rule"},
      {"groups:\n  - name: g\n  - name: g\n", "groupname: \"g\" is repeated in the same file"},
      {"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations: "
       "{s: '{{ nope }}'}\n",
       "function \"nope\" not defined"},
      {"groups:\n  - name: g\n    rulez: []\n", "r.yml:3:5: field rulez not found"},
      {"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n",
       "not a valid duration string"},
  };
  for (const auto& c : cases) {
    std::vector<Group> groups;
    Status st = ParseRules(c.yaml, "r.yml", &groups);
    ASSERT_FALSE(st.ok()) << c.yaml;
    EXPECT_NE(st.message().find(c.want), std::string_view::npos) << st.message();
  }
}

// A datasource whose answer the test sets.
class FakeDatasource : public Datasource {
 public:
  Status Query(const std::string& q, int64_t, std::vector<QuerySample>* out) override {
    if (fail) return Status::Unavailable("connection refused");
    for (const auto& [prefix, answer] : by_prefix) {
      if (q.rfind(prefix, 0) == 0) {
        *out = answer;
        return Status::Ok();
      }
    }
    *out = q.find("ALERTS") != std::string::npos ? std::vector<QuerySample>() : samples;
    return Status::Ok();
  }
  std::vector<QuerySample> samples;
  std::vector<std::pair<std::string, std::vector<QuerySample>>> by_prefix;
  bool fail = false;
};

struct Sent {
  std::string state;
  int64_t t;
};

class EvalTest : public ::testing::Test {
 protected:
  void Load(const std::string& yaml) {
    std::vector<Group> groups;
    ASSERT_TRUE(ParseRules(yaml, "r.yml", &groups).ok());
    m_.SetGroups(std::move(groups));
  }
  void Eval(int64_t t) {
    now_ = t;
    m_.EvaluateAll(t);
  }
  std::string State() {
    for (const auto& g : m_.Groups())
      for (const auto& r : g.rules)
        for (const auto& a : r.alerts) return std::string(AlertStateName(a.state));
    return "none";
  }
  FakeDatasource ds_;
  std::vector<Sent> sent_;
  int64_t now_ = 0;
  Manager m_{&ds_, {}, [this](const Rule&, const Alert& a) {
               sent_.push_back({std::string(AlertStateName(a.state)), now_});
             }};
};

TEST_F(EvalTest, ForAndKeepFiringForAsPrometheus) {
  Load(R"yaml(
groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        keep_firing_for: 3m
        annotations: {summary: "{{ $labels.instance }} is down ({{ $value }})"}
)yaml");
  QuerySample down{{{"__name__", "up"}, {"instance", "a"}, {"job", "x"}}, 0};
  Eval(0);
  EXPECT_EQ(State(), "none");
  ds_.samples = {down};
  Eval(60000);
  EXPECT_EQ(State(), "pending");
  Eval(120000);
  EXPECT_EQ(State(), "pending");  // for: 2m not yet elapsed (active since 60s)
  Eval(180000);
  EXPECT_EQ(State(), "firing");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].state, "firing");
  auto alerts = m_.Groups()[0].rules[0].alerts;
  EXPECT_EQ(alerts[0].labels.at("alertname"), "Down");
  EXPECT_EQ(alerts[0].labels.count("__name__"), 0u);
  EXPECT_EQ(alerts[0].annotations.at("summary"), "a is down (0)");
  // The datasource fails: nothing resolves, the rule shows the error.
  ds_.fail = true;
  Eval(240000);
  EXPECT_EQ(State(), "firing");
  EXPECT_EQ(m_.Groups()[0].rules[0].health, "err");
  EXPECT_NE(m_.Groups()[0].rules[0].last_error.find("connection refused"), std::string::npos);
  EXPECT_EQ(m_.Stats().failures, 1u);
  // Recovered and the condition gone: keep_firing_for holds it for 3m from the first evaluation
  // without the condition (300s).
  ds_.fail = false;
  ds_.samples.clear();
  Eval(300000);
  EXPECT_EQ(State(), "firing");
  Eval(420000);
  EXPECT_EQ(State(), "firing");
  Eval(480000);
  EXPECT_EQ(State(), "none");
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].state, "inactive");  // the resolution
  // A pending alert that clears never notifies.
  ds_.samples = {down};
  Eval(500000);
  ds_.samples.clear();
  Eval(560000);
  EXPECT_EQ(sent_.size(), 2u);
}

// The datasource is down for five minutes (20 rounds at 15 s): the firing alert neither
// resolves nor notifies, every failure is counted, and evaluation resumes by itself.
TEST_F(EvalTest, FiveMinuteDatasourceOutageResolvesNothing) {
  Load("groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n");
  ds_.samples = {{{{"__name__", "up"}, {"instance", "a"}}, 0}};
  Eval(0);
  ASSERT_EQ(State(), "firing");
  ASSERT_EQ(sent_.size(), 1u);
  ds_.fail = true;
  for (int64_t t = 15000; t <= 300000; t += 15000) {
    Eval(t);
    ASSERT_EQ(State(), "firing") << "at " << t / 1000 << " s";
  }
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(m_.Stats().failures, 20u);
  ds_.fail = false;
  Eval(315000);
  EXPECT_EQ(State(), "firing");
  EXPECT_EQ(m_.Groups()[0].rules[0].health, "ok");
  EXPECT_EQ(sent_.size(), 1u);
}

// Rule results written back: recording series, ALERTS (pending, firing, then a staleness
// marker) and ALERTS_FOR_STATE with the time the alert became active.
TEST(EvalWrite, RecordingRulesAlertsAndForState) {
  FakeDatasource ds;
  std::vector<OutputSeries> written;
  Manager m(
      &ds, {}, [](const Rule&, const Alert&) {},
      [&](const std::vector<OutputSeries>& s) {
        written.insert(written.end(), s.begin(), s.end());
      });
  std::vector<Group> groups;
  ASSERT_TRUE(ParseRules(R"yaml(
groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: infra}
      - alert: Down
        expr: up == 0
        for: 1m
)yaml",
                         "r.yml", &groups)
                  .ok());
  m.SetGroups(std::move(groups));
  ds.samples = {{{{"job", "x"}}, 0}};
  m.EvaluateAll(60000);
  auto find = [&](const std::string& name, const std::string& state) -> const OutputSeries* {
    for (auto it = written.rbegin(); it != written.rend(); ++it) {
      if (it->labels.at("__name__") != name) continue;
      if (!state.empty() &&
          (!it->labels.count("alertstate") || it->labels.at("alertstate") != state))
        continue;
      return &*it;
    }
    return nullptr;
  };
  const OutputSeries* rec = find("job:up:sum", "");
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->labels.at("team"), "infra");
  EXPECT_EQ(rec->labels.at("job"), "x");
  EXPECT_EQ(rec->t, 60000);
  ASSERT_NE(find("ALERTS", "pending"), nullptr);
  EXPECT_EQ(find("ALERTS", "pending")->labels.at("alertname"), "Down");
  m.EvaluateAll(120000);
  ASSERT_NE(find("ALERTS", "firing"), nullptr);
  EXPECT_EQ(find("ALERTS", "firing")->v, 1);
  // The pending series ends with a staleness marker once the alert fires.
  ASSERT_NE(find("ALERTS", "pending"), nullptr);
  EXPECT_EQ(find("ALERTS", "pending")->t, 120000);
  EXPECT_TRUE(std::isnan(find("ALERTS", "pending")->v));
  const OutputSeries* fs = find("ALERTS_FOR_STATE", "");
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(fs->v, 60);  // active since 60 s
  ds.samples.clear();
  m.EvaluateAll(180000);
  const OutputSeries* end = find("ALERTS", "firing");
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->t, 180000);
  EXPECT_TRUE(std::isnan(end->v));  // the staleness marker
  // So does a recorded series the rule no longer returns.
  EXPECT_EQ(find("job:up:sum", "")->t, 180000);
  EXPECT_TRUE(std::isnan(find("job:up:sum", "")->v));
  // A reload that removes the recording rule ends its series too; the kept rule's series stay.
  ds.samples = {{{{"job", "x"}}, 0}};
  m.EvaluateAll(240000);
  ASSERT_FALSE(std::isnan(find("job:up:sum", "")->v));
  written.clear();
  std::vector<Group> fewer;
  ASSERT_TRUE(ParseRules("groups:\n  - name: g\n    rules:\n      - alert: Down\n"
                         "        expr: up == 0\n        for: 1m\n",
                         "r.yml", &fewer)
                  .ok());
  m.SetGroups(std::move(fewer));
  ASSERT_NE(find("job:up:sum", ""), nullptr);
  EXPECT_TRUE(std::isnan(find("job:up:sum", "")->v));
  EXPECT_EQ(find("ALERTS", ""), nullptr);  // Down was kept: its series go on
}

// After a restart, alerts come back from ALERTS_FOR_STATE/ALERTS: one that was firing is firing
// again without a new page; one that was pending keeps its `for` clock.
TEST(EvalRestore, NoRepageAndForClockKept) {
  FakeDatasource ds;
  std::vector<std::string> pages;
  Manager m(&ds, {},
            [&](const Rule&, const Alert& a) { pages.push_back(a.labels.at("instance")); });
  std::vector<Group> groups;
  ASSERT_TRUE(
      ParseRules("groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n"
                 "        for: 10m\n",
                 "r.yml", &groups)
          .ok());
  m.SetGroups(std::move(groups));
  std::map<std::string, std::string> was_firing = {{"alertname", "Down"}, {"instance", "a"}};
  std::map<std::string, std::string> was_pending = {{"alertname", "Down"}, {"instance", "b"}};
  ds.by_prefix = {
      {"last_over_time(ALERTS_FOR_STATE", {{was_firing, 1000.0}, {was_pending, 1300.0}}},
      {"last_over_time(ALERTS{", {{was_firing, 1.0}}}};
  ds.samples = {{{{"instance", "a"}}, 0}, {{{"instance", "b"}}, 0}};
  m.EvaluateAll(1500 * 1000);  // 500 s after a, 200 s after b became active
  std::map<std::string, std::string> states;
  auto groups_now = m.Groups();  // the loop must not walk a member of a temporary
  for (const auto& a : groups_now[0].rules[0].alerts)
    states[a.labels.at("instance")] = std::string(AlertStateName(a.state));
  EXPECT_EQ(states["a"], "firing");
  EXPECT_EQ(states["b"], "pending");
  EXPECT_TRUE(pages.empty());  // a was paged before the restart
  m.EvaluateAll(1900 * 1000);  // b: 600 s since 1300 s
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0], "b");
}

}  // namespace
}  // namespace tocsin::alertd

namespace tocsin::alertd {
namespace {

// What goes to Alertmanager: firing alerts at once and then every resend delay, valid for four
// times the larger of the resend delay and the group interval; a resolved alert at once with
// endsAt = its resolution; pending alerts never.
TEST(AlertSink, ResendScheduleAsPrometheus) {
  FakeDatasource ds;
  ManagerOptions o;
  o.resend_delay = std::chrono::minutes(1);
  Manager m(&ds, o, [](const Rule&, const Alert&) {});
  std::vector<std::pair<int64_t, Alert>> got;
  int64_t now = 0;
  m.SetAlertSink([&](const Rule&, const std::vector<Alert>& alerts) {
    for (const Alert& a : alerts) got.push_back({now, a});
  });
  std::vector<Group> groups;
  ASSERT_TRUE(ParseRules("groups:\n  - name: g\n    interval: 30s\n    rules:\n"
                         "      - alert: Down\n        expr: up == 0\n        for: 30s\n",
                         "r.yml", &groups)
                  .ok());
  m.SetGroups(std::move(groups));
  ds.samples = {{{{"job", "x"}}, 0}};
  auto eval = [&](int64_t t) {
    now = t;
    m.EvaluateAll(t);
  };
  eval(0);  // pending
  EXPECT_TRUE(got.empty());
  eval(30000);  // firing: sent
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.state, AlertState::kFiring);
  EXPECT_EQ(got[0].second.valid_until, 30000 + 4 * 60000);
  eval(60000);  // within the resend delay: not again
  EXPECT_EQ(got.size(), 1u);
  eval(90000);  // a minute after the last send
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].first, 90000);
  ds.samples.clear();
  eval(120000);  // resolved: sent at once
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].second.state, AlertState::kInactive);
  EXPECT_EQ(got[2].second.resolved_at, 120000);

  Rule rule;
  rule.alert = "Down";
  rule.expr = "up == 0";
  AlertmanagerOptions ao;
  ao.external_url = "http://alertd:8880/";
  ao.external_labels = {{"site", "lab"}, {"job", "ignored"}};
  auto j = nlohmann::json::parse(AlertmanagerSender::AlertJson(ao, rule, got[2].second));
  EXPECT_EQ(j["labels"]["site"], "lab");
  EXPECT_EQ(j["labels"]["job"], "x");  // the alert's own label wins
  EXPECT_EQ(j["labels"]["alertname"], "Down");
  EXPECT_EQ(j["startsAt"], "1970-01-01T00:00:30.000Z");
  EXPECT_EQ(j["endsAt"], "1970-01-01T00:02:00.000Z");
  EXPECT_EQ(j["generatorURL"], "http://alertd:8880/graph?g0.expr=up%20%3D%3D%200&g0.tab=1");
}

}  // namespace
}  // namespace tocsin::alertd
