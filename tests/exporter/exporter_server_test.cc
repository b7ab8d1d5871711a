// The exporter behind the real HTTP server: many concurrent scrapes and a client that stops
// reading mid-response leave it serving everyone else; above --web.max-requests scrapes get 503.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "common/http/client.h"
#include "common/http/server.h"
#include "tests/exporter/collectors/fixture_util.h"

namespace tocsin::exporter::testing {
namespace {

TEST(ExporterServer, ConcurrentScrapesAndAStalledReader) {
  Exporter e(FixtureOptions());
  http::ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.max_concurrent_requests = 0;
  o.write_timeout = std::chrono::milliseconds(500);
  http::Server s(o);
  s.router().Handle("/metrics", [&](const http::Request& r) { return e.HandleMetrics(r); });
  ASSERT_TRUE(s.Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(s.port()) + "/metrics";

  // A client that asks for metrics many times over a tiny receive window and never reads.
  int stalled = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 2048;
  setsockopt(stalled, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(s.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(stalled, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string pipelined;
  for (int i = 0; i < 20; ++i) pipelined += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_GT(::write(stalled, pipelined.data(), pipelined.size()), 0);

  constexpr int kThreads = 16, kScrapes = 10;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kScrapes; ++i) {
        http::ClientRequest req;
        req.url = url;
        req.headers.emplace_back("Accept-Encoding", i % 2 ? "gzip" : "identity");
        req.timeout = std::chrono::seconds(10);
        http::ClientResponse resp;
        bool good =
            http::Fetch(req, &resp).ok() && resp.status == 200 &&
            (i % 2 || resp.body.find("node_scrape_collector_success{collector=\"cpu\"} 1") !=
                          std::string::npos);
        (good ? ok : bad)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kScrapes);
  EXPECT_EQ(bad.load(), 0);
  ::close(stalled);
}

TEST(ExporterServer, MaxRequestsAnswers503NotACrash) {
  ExporterOptions opts = FixtureOptions();
  // A filesystem whose statfs takes a while keeps scrapes in flight.
  opts.collectors.statfs = [](const std::string&, FsStats* out) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    out->size_bytes = 1;
    return Status::Ok();
  };
  Exporter e(opts);
  http::ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  o.max_concurrent_requests = 2;
  o.worker_threads = 4;
  http::Server s(o);
  s.router().Handle("/metrics", [&](const http::Request& r) { return e.HandleMetrics(r); });
  ASSERT_TRUE(s.Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(s.port()) + "/metrics";
  std::atomic<int> ok{0}, busy{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      http::ClientRequest req;
      req.url = url;
      http::ClientResponse resp;
      if (!http::Fetch(req, &resp).ok())
        other++;
      else if (resp.status == 200)
        ok++;
      else if (resp.status == 503)
        busy++;
      else
        other++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(ok.load(), 2);
  EXPECT_GE(busy.load(), 1);
  EXPECT_EQ(other.load(), 0);
  http::ClientRequest req;
  req.url = url;
  http::ClientResponse resp;
  ASSERT_TRUE(http::Fetch(req, &resp).ok());
  EXPECT_EQ(resp.status, 200);  // still serving
}

}  // namespace
}  // namespace tocsin::exporter::testing
