#include "exporter/probe/probe.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "tests/exporter/collectors/fixture_util.h"

namespace tocsin::exporter {
namespace {

using testing::ValueOf;

http::Response Probe(const Prober& p, const std::string& target, const std::string& module = "",
                     const std::string& scrape_timeout = "") {
  http::Request req;
  req.query.emplace_back("target", target);
  if (!module.empty()) req.query.emplace_back("module", module);
  if (!scrape_timeout.empty())
    req.headers.emplace_back("x-prometheus-scrape-timeout-seconds", scrape_timeout);
  return p.Handle(req);
}

TEST(Probe, HealthEndpointUpThenDown) {
  auto server =
      std::make_unique<http::Server>(http::ServerOptions{.listen_address = "127.0.0.1:0"});
  server->router().Handle("/health", [](const http::Request&) {
    return http::Response::Json(200, R"({"status":"ok"})");
  });
  ASSERT_TRUE(server->Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(server->port()) + "/health";
  Prober p(DefaultProbeModules());
  http::Response r = Probe(p, url);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(ValueOf(r.body, "probe_success"), 1);
  EXPECT_EQ(ValueOf(r.body, "probe_http_status_code"), 200);
  EXPECT_EQ(ValueOf(r.body, "probe_http_content_length"), 15);
  EXPECT_GE(ValueOf(r.body, "probe_http_duration_seconds{phase=\"connect\"}"), 0);
  int port = server->port();
  server->Stop();
  server.reset();
  auto start = std::chrono::steady_clock::now();
  r = Probe(p, "http://127.0.0.1:" + std::to_string(port) + "/health");
  EXPECT_EQ(ValueOf(r.body, "probe_success"), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Probe, StatusCodesAndBodyRegex) {
  http::Server server(http::ServerOptions{.listen_address = "127.0.0.1:0"});
  server.router().Handle("/down", [](const http::Request&) {
    return http::Response::Json(503, R"({"status":"degraded"})");
  });
  ASSERT_TRUE(server.Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/down";
  auto modules = DefaultProbeModules();
  ASSERT_TRUE(
      ParseProbeModules(
          "modules:\n  accept_503:\n    prober: http\n    http:\n      valid_status_codes: [503]\n"
          "  healthy_body:\n    prober: http\n    http:\n      valid_status_codes: [503]\n"
          "      fail_if_body_not_matches_regexp: ['\"status\":\"ok\"']\n",
          "modules.yml", &modules)
          .ok());
  Prober p(modules);
  EXPECT_EQ(ValueOf(Probe(p, url).body, "probe_success"), 0);
  EXPECT_EQ(ValueOf(Probe(p, url).body, "probe_http_status_code"), 503);
  EXPECT_EQ(ValueOf(Probe(p, url, "accept_503").body, "probe_success"), 1);
  http::Response r = Probe(p, url, "healthy_body");
  EXPECT_EQ(ValueOf(r.body, "probe_success"), 0);
  EXPECT_EQ(ValueOf(r.body, "probe_failed_due_to_regex"), 1);
  EXPECT_EQ(Probe(p, url, "nosuch").status, 400);
  EXPECT_EQ(p.Handle(http::Request{}).status, 400);
}

TEST(Probe, PortThatNeverAnswersIsCutAtTheTimeout) {
  // A listening socket nobody accepts from: the TCP handshake completes, no HTTP reply comes.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::string target = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  Prober p(DefaultProbeModules());
  auto start = std::chrono::steady_clock::now();
  http::Response r =
      Probe(p, "http://" + target + "/health", "", "1.5");  // Prometheus' 1.5s timeout
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ValueOf(r.body, "probe_success"), 0);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  // The TCP module only needs the connection.
  EXPECT_EQ(ValueOf(Probe(p, target, "tcp_connect").body, "probe_success"), 1);
  ::close(fd);
  EXPECT_EQ(ValueOf(Probe(p, target, "tcp_connect").body, "probe_success"), 0);
}

TEST(ProbeModules, ErrorsNameFileLineAndKey) {
  std::map<std::string, ProbeModule> m;
  Status st =
      ParseProbeModules("modules:\n  x:\n    prober: http\n    htp: {}\n", "blackbox.yml", &m);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("blackbox.yml:4"), std::string_view::npos) << st.ToString();
  EXPECT_NE(st.message().find("htp"), std::string_view::npos);
  st = ParseProbeModules("modules:\n  x:\n    prober: icmp\n", "b.yml", &m);
  EXPECT_NE(st.message().find("unsupported prober"), std::string_view::npos);
  st = ParseProbeModules("modules: [\n", "b.yml", &m);
  EXPECT_FALSE(st.ok());
}

}  // namespace
}  // namespace tocsin::exporter
