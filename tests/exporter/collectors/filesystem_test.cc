#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "tests/exporter/collectors/fixture_util.h"

namespace tocsin::exporter::testing {
namespace {

// A statfs() that never returns for /mnt/nfs (a dead NFS server) until the test releases it.
struct HangingNfs {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  std::atomic<int> calls{0};
};

TEST(Filesystem, HungMountDoesNotHangTheScrape) {
  auto hang = std::make_shared<HangingNfs>();
  ExporterOptions o = FixtureOptions();
  o.collectors.filesystem_mount_timeout = std::chrono::milliseconds(200);
  o.collectors.statfs = [hang](const std::string& path, FsStats* out) -> Status {
    if (path.find("/mnt/nfs") != std::string::npos) {
      hang->calls++;
      std::unique_lock<std::mutex> l(hang->mu);
      hang->cv.wait(l, [&] { return hang->released; });
    }
    out->size_bytes = 1e9;
    return Status::Ok();
  };
  o.disable_defaults = true;
  o.enabled["filesystem"] = true;
  o.enabled["loadavg"] = true;
  Exporter e(o);
  http::Request req;
  auto scrape = [&] {
    auto start = std::chrono::steady_clock::now();
    std::string body = e.HandleMetrics(req).body;
    return std::make_pair(body, std::chrono::steady_clock::now() - start);
  };
  const std::string nfs = "{device=\"server:/export\",fstype=\"nfs4\",mountpoint=\"/mnt/nfs\"}";
  auto [first, t1] = scrape();
  EXPECT_LT(t1, std::chrono::seconds(2));
  EXPECT_EQ(ValueOf(first, "node_filesystem_device_error" + nfs), 1);
  EXPECT_EQ(
      ValueOf(first,
              "node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}"),
      1e9);
  EXPECT_EQ(ValueOf(first, "node_scrape_collector_success{collector=\"filesystem\"}"), 1);
  EXPECT_GT(ValueOf(first, "node_load1"), -1);
  // The stuck mount is skipped without waiting again while its call is outstanding.
  auto [second, t2] = scrape();
  EXPECT_LT(t2, std::chrono::milliseconds(150));
  EXPECT_EQ(ValueOf(second, "node_filesystem_device_error" + nfs), 1);
  EXPECT_EQ(hang->calls.load(), 1);
  // Once the server answers, the mount is stat-ed again.
  {
    std::lock_guard<std::mutex> l(hang->mu);
    hang->released = true;
  }
  hang->cv.notify_all();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto [third, t3] = scrape();
  EXPECT_EQ(ValueOf(third, "node_filesystem_device_error" + nfs), 0);
  EXPECT_EQ(ValueOf(third, "node_filesystem_size_bytes" + nfs), 1e9);
}

}  // namespace
}  // namespace tocsin::exporter::testing
