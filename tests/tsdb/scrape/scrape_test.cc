// Relabelling, the configuration loader and the scrape manager against in-process targets.
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/base/md5.h"
#include "common/http/server.h"
#include "tsdb/scrape/config.h"
#include "tsdb/scrape/manager.h"
#include "tsdb/scrape/relabel.h"

namespace tocsin::tsdb::scrape {
namespace {

namespace fs = std::filesystem;

std::string Hex(const std::array<uint8_t, 16>& d) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

TEST(Md5, KnownDigests) {
  EXPECT_EQ(Hex(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(Md5("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Hex(Md5("The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6");
  // Lengths around the padding boundary (55, 56, 64 bytes).
  EXPECT_EQ(Hex(Md5(std::string(55, 'x'))), "04364420e25c512fd958a70738aa8f72");
  EXPECT_EQ(Hex(Md5(std::string(56, 'x'))), "668a72d5ba17f08e62dabcafad6db14b");
  EXPECT_EQ(Hex(Md5(std::string(64, 'a'))), "014842d480b571495a4a0363793f7367");
}

RelabelConfig R(RelabelConfig::Action action, std::vector<std::string> source, std::string target,
                std::string regex = "(.*)", std::string replacement = "$1", uint64_t modulus = 0) {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(source);
  c.target_label = std::move(target);
  c.regex = std::move(regex);
  c.replacement = std::move(replacement);
  c.modulus = modulus;
  EXPECT_TRUE(c.Validate().ok());
  return c;
}

std::string Str(LabelPairs l) {
  std::sort(l.begin(), l.end());
  std::string s;
  for (auto& [n, v] : l) s += n + "=" + v + ";";
  return s;
}

TEST(Relabel, EveryAction) {
  using A = RelabelConfig::Action;
  LabelPairs base = {{"__address__", "host-1:9100"}, {"job", "node"}, {"__meta_zone", "eu-1"}};
  struct Case {
    std::vector<RelabelConfig> configs;
    bool kept;
    std::string want;
  } cases[] = {
      {{R(A::kReplace, {"__address__"}, "host", "(.*):(\\d+)", "${1}-$2")},
       true,
       "__address__=host-1:9100;__meta_zone=eu-1;host=host-1-9100;job=node;"},
      // No match: no change. Empty result: the label goes.
      {{R(A::kReplace, {"job"}, "job", "nomatch", "x")}, true, Str(base)},
      {{R(A::kReplace, {"missing"}, "job", "(.*)", "$1")},
       true,
       "__address__=host-1:9100;__meta_zone=eu-1;"},
      // Named groups and $$.
      {{R(A::kReplace, {"__meta_zone"}, "region", "(?P<r>[a-z]+)-\\d", "$$${r}")},
       true,
       "__address__=host-1:9100;__meta_zone=eu-1;job=node;region=$eu;"},
      // Target expanded from the match.
      {{R(A::kReplace, {"job"}, "${1}_x", "(.*)", "v")},
       true,
       "__address__=host-1:9100;__meta_zone=eu-1;job=node;node_x=v;"},
      {{R(A::kKeep, {"job"}, "", "node|api")}, true, Str(base)},
      {{R(A::kKeep, {"job"}, "", "nod")}, false, ""},  // fully anchored
      {{R(A::kDrop, {"job", "__meta_zone"}, "", "node;eu-.*")}, false, ""},
      {{R(A::kLowercase, {"job"}, "up_job")}, true, Str(base) + "up_job=node;"},
      {{R(A::kUppercase, {"job"}, "job")},
       true,
       "__address__=host-1:9100;__meta_zone=eu-1;job=NODE;"},
      {{R(A::kLabelMap, {}, "", "__meta_(.+)", "$1")}, true, Str(base) + "zone=eu-1;"},
      {{R(A::kLabelDrop, {}, "", "__meta_.*", "$1")}, true, "__address__=host-1:9100;job=node;"},
      {{R(A::kLabelKeep, {}, "", "job", "$1")}, true, "job=node;"},
      {{R(A::kKeepEqual, {"job"}, "job")}, true, Str(base)},
      {{R(A::kDropEqual, {"job"}, "job")}, false, ""},
      {{R(A::kKeepEqual, {"__meta_zone"}, "job")}, false, ""},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    LabelPairs l = base;
    bool kept = Relabel(cases[i].configs, &l);
    EXPECT_EQ(kept, cases[i].kept) << i;
    if (kept) {
      EXPECT_EQ(Str(l), cases[i].want) << i;
    }
  }
}

// hashmod as Prometheus computes it: the last 8 bytes of MD5, big-endian, modulo. The expected
// values come from Python's hashlib.
TEST(Relabel, HashModShardsAsPrometheus) {
  using A = RelabelConfig::Action;
  struct Case {
    std::string value;
    uint64_t modulus, want;
  } cases[] = {{"a", 7, 2}, {"127.0.0.1:9100", 3, 1}, {"", 10, 8}};
  for (const auto& c : cases) {
    LabelPairs l = {{"__address__", c.value}};
    ASSERT_TRUE(
        Relabel({R(A::kHashMod, {"__address__"}, "__tmp_hash", "(.*)", "$1", c.modulus)}, &l));
    EXPECT_EQ(GetLabel(l, "__tmp_hash"), std::to_string(c.want)) << c.value;
  }
  LabelPairs l = {{"a", "node"}, {"b", "x"}};
  ASSERT_TRUE(Relabel({R(A::kHashMod, {"a", "b"}, "shard", "(.*)", "$1", 1000)}, &l));
  EXPECT_EQ(GetLabel(l, "shard"), "362");  // md5("node;x")
}

TEST(Relabel, InvalidConfigsAreRefusedAtLoad) {
  using A = RelabelConfig::Action;
  RelabelConfig c;
  c.regex = "(";
  EXPECT_FALSE(c.Validate().ok());
  c = RelabelConfig();
  c.action = A::kHashMod;
  c.target_label = "x";
  EXPECT_NE(c.Validate().message().find("modulus"), std::string_view::npos);
  c = RelabelConfig();
  c.action = A::kReplace;
  EXPECT_NE(c.Validate().message().find("target_label"), std::string_view::npos);
  c = RelabelConfig();
  c.action = A::kLabelDrop;
  c.source_labels = {"x"};
  EXPECT_FALSE(c.Validate().ok());
}

TEST(Config, LoadsPrometheusYamlWithDefaults) {
  std::string dir = ::testing::TempDir() + "/cfg";
  fs::create_directories(dir);
  std::ofstream(dir + "/pw") << "s3cret\n";
  std::string yaml = R"(
global:
  scrape_interval: 15s
  external_labels: {cluster: eu}
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [a:9100, b:9100]
        labels: {env: prod}
  - job_name: api
    scrape_interval: 5s
    metrics_path: /m
    scheme: https
    params: {module: [http_2xx]}
    honor_labels: true
    basic_auth: {username: u, password_file: pw}
    tls_config: {insecure_skip_verify: true}
    file_sd_configs:
      - files: [sd/*.json]
    relabel_configs:
      - source_labels: [__address__]
        modulus: 4
        target_label: __tmp_hash
        action: hashmod
      - source_labels: [__tmp_hash]
        regex: '1'
        action: keep
    metric_relabel_configs:
      - regex: 'go_.*'
        source_labels: [__name__]
        action: drop
    sample_limit: 1000
remote_write:
  - url: https://user:pass@vm.example:8428/api/v1/write
    queue_config: {max_samples_per_send: 2000}
rule_files: [rules/*.yml]
)";
  Config c;
  Status st = ParseConfig(yaml, "prometheus.yml", dir, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(c.scrape_configs.size(), 2u);
  EXPECT_EQ(c.scrape_configs[0].scrape_interval, std::chrono::seconds(15));
  EXPECT_EQ(c.scrape_configs[0].scrape_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.scrape_configs[1].scrape_timeout, std::chrono::seconds(5));  // capped
  EXPECT_EQ(c.scrape_configs[1].http.basic_auth_password, "s3cret");
  EXPECT_EQ(c.scrape_configs[1].file_sd_configs[0].files[0], dir + "/sd/*.json");
  EXPECT_EQ(c.scrape_configs[1].relabel_configs.size(), 2u);
  EXPECT_EQ(c.remote_write[0].queue.max_samples_per_send, 2000);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("rule_files"), std::string::npos);
  // Secrets never leave: the redacted form has neither password.
  std::string shown = c.Redacted();
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("pass@"), std::string::npos) << shown;
  EXPECT_NE(shown.find("<secret>"), std::string::npos);
  EXPECT_NE(shown.find("job_name: api"), std::string::npos);
}

TEST(Config, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string yaml, want;
  } cases[] = {
      {"scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n",
       "p.yml:3:5: unsupported key \"scrape_intervall\" in scrape_configs"},
      {"global:\n  scrape_interval: 5 minutes\n", "p.yml:2:20: not a valid duration string"},
      {"scrape_configs:\n  - job_name: a\n  - job_name: a\n",
       "multiple scrape configs with job name \"a\""},
      {"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
       "scrape timeout greater than scrape interval"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        "
       "target_label: x\n",
       "p.yml:4:9: relabel configuration for hashmod requires non-zero modulus"},
      {"remote_read:\n  - url: http://x\n", "p.yml:1:1: unsupported key \"remote_read\""},
      {"scrape_configs: [\n", "p.yml:"},
      {"scrape_configs:\n  - job_name: a\n    basic_auth: {password_file: /nonexistent/pw}\n",
       "cannot read secret file"},
  };
  for (const auto& c : cases) {
    Config cfg;
    Status st = ParseConfig(c.yaml, "p.yml", "/tmp", &cfg);
    ASSERT_FALSE(st.ok()) << c.yaml;
    EXPECT_NE(st.message().find(c.want), std::string_view::npos) << st.message();
  }
}

// --- the manager against in-process targets ---------------------------------------------------

class FakeTarget {
 public:
  FakeTarget() {
    http::ServerOptions o;
    o.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<http::Server>(o);
    server_->router().Handle("/metrics", [this](const http::Request&) {
      std::lock_guard<std::mutex> lock(mu_);
      ++hits_;
      if (status_ != 200) return http::Response::Text(status_, "boom\n");
      return http::Response::Text(200, body_);
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~FakeTarget() { server_->Stop(); }
  void Set(std::string body, int status = 200) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(body);
    status_ = status;
  }
  int hits() {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

 private:
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::string body_;
  int status_ = 200;
  int hits_ = 0;
};

struct Point {
  int64_t t;
  double v;
};

std::map<std::string, std::vector<Point>> Query(Head& head, const std::string& name_re) {
  labels::Matcher m;
  EXPECT_TRUE(labels::Matcher::Make(labels::Matcher::Type::kRegexp, "__name__", name_re, &m).ok());
  std::vector<labels::Matcher> ms = {m};
  std::unique_ptr<SeriesSet> set;
  EXPECT_TRUE(head.NewQuerier()->Select(INT64_MIN, INT64_MAX, ms, &set).ok());
  std::map<std::string, std::vector<Point>> out;
  while (set->Next()) {
    auto it = set->Iterator();
    while (it->Next()) out[set->labels().ToString()].push_back({it->t(), it->v()});
  }
  return out;
}

bool IsStale(double v) { return std::bit_cast<uint64_t>(v) == 0x7ff0000000000002ull; }

Config OneJob(const std::string& address, const std::string& extra = "") {
  Config c;
  std::string yaml =
      "scrape_configs:\n  - job_name: t\n    scrape_interval: 100ms\n"
      "    static_configs:\n      - targets: ['" +
      address + "']\n        labels: {env: test}\n" + extra;
  Status st = ParseConfig(yaml, "test.yml", "/tmp", &c);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return c;
}

template <typename F>
bool WaitFor(F f, int ms = 5000) {
  for (int i = 0; i < ms / 20; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

TEST(ScrapeManager, ScrapesMergesTargetLabelsAndReports) {
  FakeTarget target;
  target.Set("# TYPE a counter\na_total{job=\"inner\"} 1\nb 2 1000\n");
  Head head;
  Manager m(&head, {});
  ASSERT_TRUE(m.ApplyConfig(OneJob(target.address())).ok());
  ASSERT_TRUE(WaitFor([&] { return target.hits() >= 2; }));
  auto a = Query(head, "a_total");
  ASSERT_EQ(a.size(), 1u);
  // honor_labels false: the scraped job moves to exported_job.
  EXPECT_EQ(a.begin()->first, "a_total{env=\"test\", exported_job=\"inner\", instance=\"" +
                                  target.address() + "\", job=\"t\"}");
  // honor_timestamps: the sample's own timestamp is kept (and repeated ones are ignored).
  auto b = Query(head, "b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.begin()->second.size(), 1u);
  EXPECT_EQ(b.begin()->second[0].t, 1000);
  auto up = Query(head, "up");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up.begin()->second.back().v, 1);
  auto scraped = Query(head, "scrape_samples_scraped");
  EXPECT_EQ(scraped.begin()->second.back().v, 2);
  auto added = Query(head, "scrape_series_added");
  EXPECT_EQ(added.begin()->second.front().v, 2);  // both new in the first scrape
  auto targets = m.ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].health, "up");
  EXPECT_EQ(targets[0].scrape_url, "http://" + target.address() + "/metrics");
}

TEST(ScrapeManager, StalenessForVanishedSeriesFailedScrapesAndRemovedTargets) {
  FakeTarget target;
  target.Set("x 1\ny 1\n");
  Head head;
  Manager m(&head, {});
  ASSERT_TRUE(m.ApplyConfig(OneJob(target.address())).ok());
  ASSERT_TRUE(WaitFor([&] { return !Query(head, "y").empty(); }));
  target.Set("x 2\n");  // y vanishes
  ASSERT_TRUE(WaitFor([&] {
    auto y = Query(head, "y");
    return !y.empty() && IsStale(y.begin()->second.back().v);
  }));
  target.Set("", 500);  // the scrape fails: x goes stale, up is 0
  ASSERT_TRUE(WaitFor([&] {
    auto x = Query(head, "x");
    return !x.empty() && IsStale(x.begin()->second.back().v);
  }));
  ASSERT_TRUE(WaitFor([&] { return Query(head, "up").begin()->second.back().v == 0; }));
  auto t = m.ActiveTargets();
  EXPECT_EQ(t[0].health, "down");
  EXPECT_NE(t[0].last_error.find("500"), std::string::npos) << t[0].last_error;
  target.Set("x 3\n");
  ASSERT_TRUE(WaitFor([&] { return Query(head, "x").begin()->second.back().v == 3; }));
  // Removing the target marks everything it produced stale, report series included.
  ASSERT_TRUE(m.ApplyConfig(Config()).ok());
  EXPECT_TRUE(IsStale(Query(head, "x").begin()->second.back().v));
  EXPECT_TRUE(IsStale(Query(head, "up").begin()->second.back().v));
  EXPECT_TRUE(m.ActiveTargets().empty());
}

TEST(ScrapeManager, LimitsRelabellingAndBadBodiesFailTheScrapeOnly) {
  FakeTarget target;
  target.Set("go_x 1\nkeep_me 1\nother 1\n");
  Head head;
  Manager m(&head, {});
  ASSERT_TRUE(m.ApplyConfig(OneJob(target.address(),
                                   "    sample_limit: 2\n"
                                   "    metric_relabel_configs:\n"
                                   "      - source_labels: [__name__]\n"
                                   "        regex: 'go_.*'\n"
                                   "        action: drop\n"))
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return !Query(head, "keep_me").empty(); }));
  EXPECT_TRUE(Query(head, "go_x").empty());
  EXPECT_EQ(Query(head, "scrape_samples_post_metric_relabeling").begin()->second.back().v, 2);
  // Over the sample limit: nothing of the scrape is stored, up is 0, the reason is shown.
  target.Set("keep_me 5\na 1\nb 1\n");
  ASSERT_TRUE(WaitFor([&] { return m.ActiveTargets()[0].health == "down"; }));
  EXPECT_NE(m.ActiveTargets()[0].last_error.find("sample limit exceeded"), std::string::npos);
  auto keep_me = Query(head, "keep_me");
  for (const auto& p : keep_me.begin()->second) EXPECT_NE(p.v, 5);
  // A malformed body names the line.
  target.Set("keep_me 1\nbad{ 1\n");
  ASSERT_TRUE(
      WaitFor([&] { return m.ActiveTargets()[0].last_error.find("line 2") != std::string::npos; }));
}

TEST(ScrapeManager, FileSdReloadsOnChangeAndAReloadKeepsUnchangedLoops) {
  FakeTarget a, b;
  a.Set("from_a 1\n");
  b.Set("from_b 1\n");
  std::string dir = ::testing::TempDir() + "/filesd";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/t.json") << "[{\"targets\": [\"" + a.address() +
                                        "\"], \"labels\": {\"team\": \"x\"}}]";
  Config c;
  std::string yaml =
      "scrape_configs:\n  - job_name: sd\n    scrape_interval: 100ms\n"
      "    file_sd_configs:\n      - files: ['" +
      dir + "/*.json']\n";
  ASSERT_TRUE(ParseConfig(yaml, "t.yml", dir, &c).ok());
  Head head;
  Manager m(&head, {});
  ASSERT_TRUE(m.ApplyConfig(c).ok());
  ASSERT_TRUE(WaitFor([&] { return !Query(head, "from_a").empty(); }));
  EXPECT_NE(Query(head, "from_a").begin()->first.find("team=\"x\""), std::string::npos);
  auto targets = m.ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(GetLabel(targets[0].discovered, "__meta_filepath"), dir + "/t.json");
  // Applying the same configuration again keeps the loop (its last scrape time stays set).
  ASSERT_TRUE(m.ApplyConfig(c).ok());
  EXPECT_NE(m.ActiveTargets()[0].last_scrape_ms, 0);
  // The file changes: b replaces a within the re-read interval (about a second).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::ofstream(dir + "/t.json") << "[{\"targets\": [\"" + b.address() + "\"]}]";
  ASSERT_TRUE(WaitFor([&] { return !Query(head, "from_b").empty(); }));
  ASSERT_TRUE(WaitFor([&] {
    auto x = Query(head, "from_a");
    return IsStale(x.begin()->second.back().v);
  }));
  // A broken file keeps the last good targets.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::ofstream(dir + "/t.json") << "[{\"targets\": [";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(m.ActiveTargets().size(), 1u);
  EXPECT_EQ(m.ActiveTargets()[0].scrape_url, "http://" + b.address() + "/metrics");
  EXPECT_GE(m.Stats().sd_errors, 1u);
}

TEST(ScrapeManager, OpenMetricsAndGzipBodies) {
  http::ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  http::Server server(o);
  std::atomic<bool> eof{true};
  server.router().Handle("/metrics", [&](const http::Request&) {
    // Large enough to be sent gzipped (the scraper asks for gzip).
    std::string body =
        "# TYPE c counter\n# UNIT c seconds\nc_total 3 1700000000.5 # {trace=\"x\"} 1\n";
    for (int i = 0; i < 100; ++i)
      body += "g{i=\"" + std::to_string(i) + "\"} " + std::to_string(i) + "\n";
    if (eof) body += "# EOF\n";
    http::Response r = http::Response::Text(200, body);
    r.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    return r;
  });
  ASSERT_TRUE(server.Start().ok());
  Head head;
  Manager m(&head, {});
  ASSERT_TRUE(m.ApplyConfig(OneJob("127.0.0.1:" + std::to_string(server.port()))).ok());
  ASSERT_TRUE(WaitFor([&] { return Query(head, "g").size() == 100; }));
  auto c = Query(head, "c_total");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.begin()->second[0].t, 1700000000500);  // seconds with a fraction
  EXPECT_EQ(c.begin()->second[0].v, 3);              // the exemplar is not the value
  // OpenMetrics without "# EOF" is a failed scrape, as in Prometheus.
  eof = false;
  ASSERT_TRUE(WaitFor([&] { return m.ActiveTargets()[0].health == "down"; }));
  EXPECT_NE(m.ActiveTargets()[0].last_error.find("# EOF"), std::string::npos);
  server.Stop();
}

}  // namespace
}  // namespace tocsin::tsdb::scrape
