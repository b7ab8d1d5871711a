#include <gtest/gtest.h>

#include <cmath>

#include "tests/exporter/collectors/fixture_util.h"

namespace tocsin::exporter::testing {
namespace {

const std::string kDocker =
    std::string(12, 'a') + "0123456789abcdef0123456789abcdef0123456789abcdef0123";
const std::string kCri(64, 'c');

std::string ScrapeContainers(const std::string& tree) {
  ExporterOptions o = FixtureOptions();
  o.collectors.cgroupfs = std::string(TOCSIN_FIXTURES) + "/cgroup/" + tree;
  Exporter e(o);
  http::Request req;
  req.query.emplace_back("collect[]", "container");
  http::Response r = e.HandleMetrics(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("node_scrape_collector_success{collector=\"container\"} 1"),
            std::string::npos);
  return r.body;
}

std::string Id(const std::string& path, const std::string& name) {
  return "{id=\"" + path + "\",image=\"\",name=\"" + name + "\"";
}

TEST(ContainerV2, DockerServiceAndKubernetes) {
  std::string m = ScrapeContainers("v2");
  std::string docker = Id("/system.slice/docker-" + kDocker + ".scope", kDocker.substr(0, 12));
  // Working set = memory.current - inactive_file = 300e6 - 100e6.
  EXPECT_EQ(ValueOf(m, "container_memory_working_set_bytes" + docker + "}"), 200e6);
  EXPECT_EQ(ValueOf(m, "container_memory_usage_bytes" + docker + "}"), 300e6);
  EXPECT_EQ(ValueOf(m, "container_memory_rss" + docker + "}"), 150e6);
  EXPECT_EQ(ValueOf(m, "container_spec_memory_limit_bytes" + docker + "}"), 1073741824);
  EXPECT_EQ(ValueOf(m, "container_spec_cpu_quota" + docker + "}"), 50000);
  EXPECT_EQ(ValueOf(m, "container_spec_cpu_period" + docker + "}"), 100000);
  EXPECT_EQ(ValueOf(m, "container_spec_cpu_shares" + docker + "}"), 2 + (99.0 * 262142) / 9999);
  EXPECT_EQ(ValueOf(m, "container_cpu_usage_seconds_total" + docker + ",cpu=\"total\"}"), 4);
  EXPECT_EQ(ValueOf(m, "container_cpu_cfs_throttled_periods_total" + docker + "}"), 7);
  EXPECT_DOUBLE_EQ(ValueOf(m, "container_cpu_cfs_throttled_seconds_total" + docker + "}"), 0.35);
  EXPECT_EQ(ValueOf(m, "container_oom_events_total" + docker + "}"), 1);
  EXPECT_EQ(ValueOf(m, "container_memory_swap" + docker + "}"), 4096);
  EXPECT_EQ(ValueOf(m, "container_processes" + docker + "}"), 1);
  EXPECT_EQ(ValueOf(m, "container_fs_reads_bytes_total" + docker + ",device=\"/dev/sda\"}"),
            1048576);
  EXPECT_DOUBLE_EQ(ValueOf(m, "container_pressure_memory_waiting_seconds_total" + docker + "}"),
                   2.5);
  EXPECT_EQ(ValueOf(m, "container_last_seen" + docker + "}"), 1700000000.5);
  // A systemd service is named after its unit; an unlimited memory.max is reported as 0.
  std::string svc = Id("/system.slice/nginx.service", "nginx.service");
  EXPECT_EQ(ValueOf(m, "container_memory_working_set_bytes" + svc + "}"), 70e6);
  EXPECT_EQ(ValueOf(m, "container_spec_memory_limit_bytes" + svc + "}"), 536870912);
  EXPECT_EQ(ValueOf(m, "container_processes" + svc + "}"), 2);
  EXPECT_EQ(ValueOf(m, "container_spec_memory_limit_bytes" + Id("/system.slice", "") + "}"), 0);
  // No quota: no quota series and no CFS period counters.
  EXPECT_TRUE(std::isnan(ValueOf(m, "container_spec_cpu_quota" + svc + "}")));
  EXPECT_TRUE(std::isnan(ValueOf(m, "container_cpu_cfs_periods_total" + svc + "}")));
  // Kubernetes and Podman containers appear, named by short id without a runtime socket.
  EXPECT_NE(
      m.find("cri-containerd-" + kCri + ".scope\",image=\"\",name=\"" + kCri.substr(0, 12) + "\""),
      std::string::npos);
  EXPECT_NE(m.find("libpod-" + std::string(64, 'd') + ".scope\""), std::string::npos);
  // The root cgroup is the whole machine.
  EXPECT_EQ(ValueOf(m, "container_cpu_usage_seconds_total" + Id("/", "") + ",cpu=\"total\"}"),
            5000);
  EXPECT_GT(ValueOf(m, "container_memory_working_set_bytes" + Id("/", "") + "}"), 0);
}

TEST(ContainerV1, CgroupfsDriverDocker) {
  std::string m = ScrapeContainers("v1");
  std::string docker = Id("/docker/" + kDocker, kDocker.substr(0, 12));
  EXPECT_EQ(ValueOf(m, "container_memory_working_set_bytes" + docker + "}"), 250e6);
  EXPECT_EQ(ValueOf(m, "container_memory_cache" + docker + "}"), 100e6);
  EXPECT_EQ(ValueOf(m, "container_memory_failcnt" + docker + "}"), 2);
  EXPECT_EQ(ValueOf(m, "container_oom_events_total" + docker + "}"), 5);
  EXPECT_EQ(ValueOf(m, "container_spec_memory_limit_bytes" + docker + "}"), 536870912);
  EXPECT_EQ(ValueOf(m, "container_spec_cpu_quota" + docker + "}"), 150000);
  EXPECT_EQ(ValueOf(m, "container_spec_cpu_shares" + docker + "}"), 1024);
  EXPECT_EQ(ValueOf(m, "container_cpu_usage_seconds_total" + docker + ",cpu=\"total\"}"), 3);
  EXPECT_DOUBLE_EQ(ValueOf(m, "container_cpu_user_seconds_total" + docker + "}"), 2.25);
  EXPECT_EQ(ValueOf(m, "container_cpu_cfs_throttled_seconds_total" + docker + "}"), 2);
  EXPECT_EQ(ValueOf(m, "container_fs_writes_bytes_total" + docker + ",device=\"/dev/sda\"}"), 8192);
  EXPECT_EQ(ValueOf(m, "container_memory_swap" + docker + "}"), 8192);
  // v1's "unlimited" (page-rounded LONG_MAX) is 0, as for v2's "max".
  EXPECT_EQ(ValueOf(m, "container_spec_memory_limit_bytes" +
                           Id("/system.slice/ssh.service", "ssh.service") + "}"),
            0);
  EXPECT_EQ(m.find("container_pressure_"), std::string::npos);  // pure v1 has no PSI
}

TEST(ContainerHybrid, PressureFromUnifiedHierarchy) {
  std::string m = ScrapeContainers("hybrid");
  std::string ssh = Id("/system.slice/ssh.service", "ssh.service");
  EXPECT_EQ(ValueOf(m, "container_pressure_cpu_waiting_seconds_total" + ssh + "}"), 1);
  EXPECT_EQ(ValueOf(m, "container_memory_working_set_bytes" + ssh + "}"), 7e6);
}

}  // namespace
}  // namespace tocsin::exporter::testing

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace tocsin::exporter::testing {
namespace {

// A stand-in for the Docker Engine: answers every request on a unix socket with a fixed
// /containers/json body, as dockerd does over /var/run/docker.sock.
class FakeDockerSocket {
 public:
  explicit FakeDockerSocket(std::string body) : path_(::testing::TempDir() + "/docker-test.sock") {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    thread_ = std::thread([this, body = std::move(body)] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[4096];
        std::string req;
        while (req.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::read(c, buf, sizeof buf);
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
        if (req.find("GET /containers/json") == 0) requests_++;
        std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        EXPECT_GT(::write(c, resp.data(), resp.size()), 0);
        ::close(c);
      }
    });
  }
  ~FakeDockerSocket() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  int requests() const { return requests_.load(); }

 private:
  std::string path_;
  int fd_;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

TEST(ContainerDocker, NamesImagesAndLabelsFromTheEngine) {
  FakeDockerSocket docker(R"([{"Id":")" + kDocker + R"(","Names":["/web"],"Image":"nginx:1.25",
      "Labels":{"com.docker.compose.service":"web","secret.token":"x"}}])");
  ExporterOptions o = FixtureOptions();
  o.collectors.docker_socket = docker.path();
  o.collectors.container_label_allow = "^com\\.docker\\.compose\\..*";
  Exporter e(o);
  http::Request req;
  req.query.emplace_back("collect[]", "container");
  std::string m = e.HandleMetrics(req).body;
  std::string want =
      "container_memory_working_set_bytes{container_label_com_docker_compose_service=\"web\",id=\"/"
      "system.slice/docker-" +
      kDocker + ".scope\",image=\"nginx:1.25\",name=\"web\"} 2e+08";
  EXPECT_NE(m.find(want), std::string::npos) << m.substr(0, 2000);
  EXPECT_EQ(m.find("secret_token"), std::string::npos);  // not in --collector.container.label-allow
  // Later scrapes are served from the cache, even for the containerd and Podman containers the
  // engine does not know: no new API call within the cache's lifetime.
  int before = docker.requests();
  EXPECT_GE(before, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  e.HandleMetrics(req);
  e.HandleMetrics(req);
  EXPECT_EQ(docker.requests(), before);
}

}  // namespace
}  // namespace tocsin::exporter::testing
