#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/http/client.h"
#include "common/http/gzip.h"
#include "common/http/server.h"

namespace tocsin::http {
namespace {

ServerOptions Loopback() {
  ServerOptions o;
  o.listen_address = "127.0.0.1:0";
  return o;
}

ClientResponse Get(int port, const std::string& path, HeaderList headers = {},
                   std::string method = "GET", std::string body = "") {
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + path;
  req.headers = std::move(headers);
  req.method = std::move(method);
  req.body = std::move(body);
  req.timeout = std::chrono::milliseconds(5000);
  ClientResponse resp;
  Status st = Fetch(req, &resp);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return resp;
}

int RawConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

TEST(Server, RoutesQueryAndForm) {
  Server s(Loopback());
  s.router().Handle("/echo", [](const Request& r) {
    std::string out = r.method + " " + r.path;
    for (auto v : r.Params("x")) out += " x=" + std::string(v);
    return Response::Text(200, out);
  });
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(Get(s.port(), "/echo?x=1&x=a%20b").body, "GET /echo x=1 x=a b");
  EXPECT_EQ(Get(s.port(), "/echo", {{"Content-Type", "application/x-www-form-urlencoded"}}, "POST",
                "x=q%2Bz")
                .body,
            "POST /echo x=q+z");
  ClientResponse nf = Get(s.port(), "/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(Get(s.port(), "/echo?x=%zz").status, 400);
}

TEST(Server, GzipWhenAccepted) {
  Server s(Loopback());
  std::string big(10000, 'a');
  s.router().Handle("/big", [&](const Request&) { return Response::Text(200, big); });
  ASSERT_TRUE(s.Start().ok());
  ClientResponse plain = Get(s.port(), "/big");
  EXPECT_EQ(plain.body, big);
  ClientResponse z = Get(s.port(), "/big", {{"Accept-Encoding", "gzip"}});
  bool gz = false;
  for (auto& [k, v] : z.headers) gz |= (k == "content-encoding" && v == "gzip");
  ASSERT_TRUE(gz);
  EXPECT_LT(z.body.size(), 200u);
  std::string back;
  ASSERT_TRUE(GzipDecompress(z.body, &back).ok());
  EXPECT_EQ(back, big);
}

TEST(Server, OversizedBodyIs413AndServerKeepsServing) {
  ServerOptions o = Loopback();
  o.max_body_bytes = 1000;
  Server s(o);
  s.router().Handle(
      "/p", [](const Request& r) { return Response::Text(200, std::to_string(r.body.size())); });
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(Get(s.port(), "/p", {}, "POST", std::string(5000, 'x')).status, 413);
  EXPECT_EQ(Get(s.port(), "/p", {}, "POST", std::string(999, 'x')).body, "999");
}

TEST(Server, OverMaxRequestsGets503) {
  ServerOptions o = Loopback();
  o.max_concurrent_requests = 1;
  o.worker_threads = 2;
  Server s(o);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, entered = false;
  s.router().Handle("/slow", [&](const Request&) {
    std::unique_lock<std::mutex> l(mu);
    entered = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
    return Response::Text(200, "done");
  });
  ASSERT_TRUE(s.Start().ok());
  auto first = std::async(std::launch::async, [&] { return Get(s.port(), "/slow"); });
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(5), [&] { return entered; }));
  }
  EXPECT_EQ(Get(s.port(), "/slow").status, 503);
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(first.get().body, "done");
  EXPECT_EQ(Get(s.port(), "/slow").status, 200);  // the slot is free again
}

TEST(Server, StalledClientsDoNotBlockOthers) {
  ServerOptions o = Loopback();
  o.read_timeout = std::chrono::milliseconds(300);
  o.write_timeout = std::chrono::milliseconds(300);
  Server s(o);
  std::string huge(8 << 20, 'z');
  s.router().Handle("/huge", [&](const Request&) {
    Response r = Response::Text(200, huge);
    r.compressible = false;
    return r;
  });
  s.router().Handle("/ok", [](const Request&) { return Response::Text(200, "ok"); });
  ASSERT_TRUE(s.Start().ok());
  // A client that sends half a request and a client that never reads its response.
  int half = RawConnect(s.port());
  ASSERT_GT(::write(half, "GET /ok HTTP/1.1\r\nHost: x\r\n", 27), 0);
  int stalled = RawConnect(s.port());
  int small = 4096;
  setsockopt(stalled, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const char req[] = "GET /huge HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_GT(::write(stalled, req, sizeof req - 1), 0);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get(s.port(), "/ok").body, "ok");
  // After the timeouts the server has dropped both: reading the half-request socket sees EOF.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  char buf[64];
  EXPECT_EQ(::read(half, buf, sizeof buf), 0);
  ::close(half);
  ::close(stalled);
  EXPECT_EQ(Get(s.port(), "/ok").body, "ok");
}

TEST(Server, MalformedRequestIs400) {
  Server s(Loopback());
  ASSERT_TRUE(s.Start().ok());
  int fd = RawConnect(s.port());
  const char bad[] = "GARBAGE\x01\x02 / HTTP/9\r\n\r\n";
  ASSERT_GT(::write(fd, bad, sizeof bad - 1), 0);
  char buf[256] = {0};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf).find(" 400 "), std::string::npos) << buf;
  ::close(fd);
}

TEST(Server, BindErrorNamesAddress) {
  Server a(Loopback());
  ASSERT_TRUE(a.Start().ok());
  ServerOptions o;
  o.listen_address = "127.0.0.1:" + std::to_string(a.port());
  Server b(o);
  Status st = b.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(o.listen_address), std::string_view::npos);
}

}  // namespace
}  // namespace tocsin::http
