// `tocsin-alertd test rules`: a passing file reports SUCCESS and exits 0; wrong expectations,
// rule evaluation errors and malformed files report what failed, where, and exit 1.
#include "alertd/unittest/unittest.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace tocsin::alertd {
namespace {

class RuleTests : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tocsin-ruletests-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    Write("rules.yml", R"yaml(
groups:
  - name: rec
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
  - name: alerts
    rules:
      - alert: JobDown
        expr: job:up:sum == 0
        for: 2m
        labels: {severity: page}
        annotations:
          summary: "{{ $labels.job }} down ({{ $value }}) on {{ $externalLabels.site }}"
)yaml");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  // Runs one file; returns the exit code, and stdout+stderr in *report.
  int Run(const std::string& name, std::string* report) {
    std::FILE* out = std::tmpfile();
    int rc = RunRuleTests({(dir_ / name).string()}, out, out);
    std::rewind(out);
    char buf[4096];
    report->clear();
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, out)) > 0;) report->append(buf, n);
    std::fclose(out);
    return rc;
  }
  std::filesystem::path dir_;
};

constexpr const char* kTests = R"yaml(
rule_files: [rules.yml]
evaluation_interval: 1m
group_eval_order: [rec, alerts]
tests:
  - interval: 1m
    external_labels: {site: lab}
    input_series:
      - series: 'up{job="api", instance="a"}'
        values: '1 1 0 0 0 0 0 1'
      - series: 'up{job="api", instance="b"}'
        values: '1 1 0x5 stale'
    alert_rule_test:
      - eval_time: 3m
        alertname: JobDown
      - eval_time: 4m
        alertname: JobDown
        exp_alerts:
          - exp_labels: {job: api, severity: page}
            exp_annotations: {summary: "api down (0) on lab"}
      - eval_time: 7m
        alertname: JobDown
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 2m
        exp_samples:
          - labels: 'job:up:sum{job="api"}'
            value: 0
      - expr: count(ALERTS{alertstate="firing"})
        eval_time: 5m
        exp_samples:
          - value: 1
)yaml";

TEST_F(RuleTests, PassingFileReportsSuccess) {
  Write("ok.test.yml", kTests);
  std::string report;
  EXPECT_EQ(Run("ok.test.yml", &report), 0) << report;
  EXPECT_NE(report.find("Unit Testing:  "), std::string::npos);
  EXPECT_NE(report.find("  SUCCESS"), std::string::npos) << report;
}

TEST_F(RuleTests, WrongExpectationsAreReportedAsPromtoolDoes) {
  std::string bad = kTests;
  bad.replace(bad.find("api down (0)"), 12, "api down (1)");
  bad.replace(bad.find("value: 0\n"), 8, "value: 2");
  Write("bad.test.yml", bad);
  std::string report;
  EXPECT_EQ(Run("bad.test.yml", &report), 1);
  EXPECT_NE(report.find("  FAILED:"), std::string::npos) << report;
  EXPECT_NE(report.find("    alertname: JobDown, time: 4m, \n        exp:[\n            0:\n"
                        "              Labels:{alertname=\"JobDown\", job=\"api\", "
                        "severity=\"page\"}\n              Annotations:{summary=\"api down (1) on "
                        "lab\"}"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("Annotations:{summary=\"api down (0) on lab\"}"), std::string::npos);
  EXPECT_NE(report.find("    expr: \"job:up:sum\", time: 2m,\n        exp: "
                        "{__name__=\"job:up:sum\", job=\"api\"} 2E+00\n        got: "
                        "{__name__=\"job:up:sum\", job=\"api\"} 0E+00"),
            std::string::npos)
      << report;
}

TEST_F(RuleTests, EvaluationErrorsAndBadFilesNameTheProblem) {
  Write("err.yml", R"yaml(
groups:
  - name: g
    rules:
      - record: both
        expr: up{job="a"} + on() up
)yaml");
  Write("err.test.yml", R"yaml(
rule_files: [err.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '1 1'
      - series: 'up{job="b"}'
        values: '1 1'
      - series: 'up{job="c"}'
        values: '1 1'
    promql_expr_test:
      - expr: both
        eval_time: 1m
)yaml");
  std::string report;
  EXPECT_EQ(Run("err.test.yml", &report), 1);
  EXPECT_NE(report.find("    rule: both, time: 0s, err: "), std::string::npos) << report;
  EXPECT_NE(report.find("many"), std::string::npos) << report;

  Write("typo.test.yml",
        "rule_files: [rules.yml]\ntests:\n  - interval: 1m\n    input_serie: []\n");
  EXPECT_EQ(Run("typo.test.yml", &report), 1);
  EXPECT_NE(report.find("typo.test.yml:4:5: unknown field \"input_serie\" in a test group"),
            std::string::npos)
      << report;

  Write("values.test.yml",
        "tests:\n  - input_series:\n      - series: 'up'\n        values: '1 2 three'\n");
  EXPECT_EQ(Run("values.test.yml", &report), 1);
  EXPECT_NE(report.find("values.test.yml:3:9: invalid value \"three\""), std::string::npos)
      << report;

  Write("noname.test.yml", "tests:\n  - alert_rule_test:\n      - eval_time: 1m\n");
  EXPECT_EQ(Run("noname.test.yml", &report), 1);
  EXPECT_NE(report.find("misses required attribute alertname at eval_time 1m"), std::string::npos)
      << report;
}

}  // namespace
}  // namespace tocsin::alertd
