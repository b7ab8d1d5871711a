#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/base/file.h"
#include "common/expfmt/parser.h"
#include "tests/exporter/collectors/fixture_util.h"

namespace tocsin::exporter::testing {

double ValueOf(const std::string& text, std::string_view prefix) {
  std::string_view rest = text, line;
  while (NextLine(&rest, &line)) {
    if (StartsWith(line, prefix) && line.size() > prefix.size() &&
        (line[prefix.size()] == ' ' || prefix.back() == '}')) {
      double v;
      if (ParseDouble(line.substr(line.rfind(' ') + 1), &v)) return v;
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

namespace {

std::string Scrape(Exporter& e, std::vector<std::string> collect = {}) {
  http::Request req;
  for (auto& c : collect) req.query.emplace_back("collect[]", c);
  http::Response r = e.HandleMetrics(req);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.body;
}

// Every family is announced once, before its samples, and every line parses.
void ExpectWellFormed(const std::string& text) {
  expfmt::Parser p(text);
  expfmt::Parser::Entry e;
  std::set<std::string> typed;
  while (p.Next(&e)) {
    if (e == expfmt::Parser::Entry::kType) {
      EXPECT_TRUE(typed.insert(std::string(p.family_name())).second)
          << "second TYPE for " << p.family_name();
    }
  }
  EXPECT_TRUE(p.status().ok()) << p.status().ToString();
}

TEST(Collectors, GoldenOutputOnFixtureTree) {
  Exporter e(FixtureOptions());
  std::string got = StableLines(Scrape(e));
  // Process metrics describe the test binary itself; the golden covers the collectors.
  std::string collectors_only;
  std::string_view rest = got, line;
  bool skip = false;
  while (NextLine(&rest, &line)) {
    if (StartsWith(line, "# HELP "))
      skip = StartsWith(line, "# HELP process_") || StartsWith(line, "# HELP promhttp_");
    if (!skip) collectors_only.append(line).push_back('\n');
  }
  std::string golden_path = std::string(TOCSIN_FIXTURES) + "/../golden/exporter.txt";
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream(golden_path) << collectors_only;
  }
  std::string want;
  ASSERT_TRUE(ReadFile(golden_path, &want).ok())
      << "run with UPDATE_GOLDEN=1 to create " << golden_path;
  // Report the first differing line rather than two 100 kB strings.
  std::string_view a = collectors_only, b = want, la, lb;
  for (int line = 1;; ++line) {
    bool ha = NextLine(&a, &la), hb = NextLine(&b, &lb);
    if (!ha && !hb) break;
    ASSERT_TRUE(ha && hb && la == lb)
        << golden_path << ":" << line << ": want \"" << lb << "\", got \"" << la << "\"";
  }
  ExpectWellFormed(got);
}

TEST(Collectors, ValuesUsersRelyOn) {
  Exporter e(FixtureOptions());
  std::string m = Scrape(e);
  // Hand-checked against the fixture files.
  EXPECT_NE(m.find("node_uname_info{domainname=\"(none)\",machine=\"x86_64\",nodename=\"fixture-"
                   "host\",release=\"6.1.0-test\""),
            std::string::npos);
  EXPECT_DOUBLE_EQ(ValueOf(m, "node_timex_offset_seconds"), 0.0015);
  EXPECT_DOUBLE_EQ(ValueOf(m, "node_timex_frequency_adjustment_ratio"), 1.00001);
  EXPECT_EQ(ValueOf(m, "node_time_seconds"), 1700000000.5);
  EXPECT_EQ(ValueOf(m, "node_arp_entries{device=\"eth0\"}"), 2);
  EXPECT_EQ(ValueOf(m, "node_arp_entries{device=\"wlan0\"}"), 1);
  // Filesystems: defaults exclude /proc, /sys, cgroup2, tmpfs is kept, overlay under docker is not.
  EXPECT_EQ(
      ValueOf(m,
              "node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}"),
      100e9);
  EXPECT_EQ(
      ValueOf(
          m, "node_filesystem_readonly{device=\"/dev/sda1\",fstype=\"ext4\",mountpoint=\"/boot\"}"),
      1);
  EXPECT_EQ(ValueOf(m,
                    "node_filesystem_device_error{device=\"server:/"
                    "export\",fstype=\"nfs4\",mountpoint=\"/mnt/nfs\"}"),
            1);
  EXPECT_TRUE(std::isnan(ValueOf(m, "node_filesystem_size_bytes{device=\"server:/export\"")));
  EXPECT_EQ(m.find("mountpoint=\"/proc\""), std::string::npos);
  EXPECT_EQ(m.find("/var/lib/docker/overlay2"), std::string::npos);
  EXPECT_NE(m.find("mountpoint=\"/mnt/my data\""), std::string::npos);
  // Disk info from udev; partitions and loop devices excluded by default.
  EXPECT_EQ(m.find("node_disk_reads_completed_total{device=\"loop0\"}"), std::string::npos);
  EXPECT_NE(m.find("node_disk_info{device=\"vda\",major=\"254\",minor=\"0\",model=\"QEMU_"
                   "HARDDISK\",path=\"pci-0000:00:05.0\""),
            std::string::npos);
  // Textfile: the good file is merged, the broken one flags the error.
  EXPECT_EQ(ValueOf(m, "backup_last_success_seconds{job=\"db\"}"), 1.7e9);
  EXPECT_EQ(ValueOf(m, "job_duration_seconds_count"), 4);
  EXPECT_EQ(ValueOf(m, "node_textfile_scrape_error"), 1);
  // Every collector succeeded on the fixture tree.
  for (const auto& name : e.enabled()) {
    EXPECT_EQ(ValueOf(m, "node_scrape_collector_success{collector=\"" + name + "\"}"), 1) << name;
  }
  EXPECT_GT(ValueOf(m, "process_resident_memory_bytes"), 0);
}

TEST(Collectors, CollectParamFiltersAndRejectsUnknown) {
  Exporter e(FixtureOptions());
  std::string m = Scrape(e, {"loadavg"});
  EXPECT_NE(m.find("node_load1 "), std::string::npos);
  EXPECT_EQ(m.find("node_cpu_seconds_total"), std::string::npos);
  EXPECT_NE(m.find("node_scrape_collector_success{collector=\"loadavg\"} 1"), std::string::npos);
  EXPECT_EQ(m.find("collector=\"cpu\""), std::string::npos);
  http::Request req;
  req.query.emplace_back("collect[]", "nosuch");
  http::Response r = e.HandleMetrics(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("nosuch"), std::string::npos);
}

TEST(Collectors, DisableDefaultsAndEnableOne) {
  ExporterOptions o = FixtureOptions();
  o.disable_defaults = true;
  o.enabled["meminfo"] = true;
  Exporter e(o);
  ASSERT_EQ(e.enabled(), std::vector<std::string>{"meminfo"});
  std::string m = Scrape(e);
  EXPECT_GT(ValueOf(m, "node_memory_MemTotal_bytes"), 0);
  EXPECT_EQ(m.find("node_load1"), std::string::npos);
}

// Broken files make only their own collector fail (success 0); the rest still serve, and the
// output stays valid exposition text.
TEST(Collectors, BadInputFailsOnlyTheAffectedCollector) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "badproc";
  fs::remove_all(dir);
  fs::copy(std::string(TOCSIN_FIXTURES) + "/proc", dir, fs::copy_options::recursive);
  std::ofstream(dir / "meminfo") << "MemTotal: lots kB\n";       // garbage
  std::ofstream(dir / "diskstats") << "   8       0 sda 1 2 3";  // truncated
  std::ofstream(dir / "loadavg") << "";                          // empty
  std::ofstream(dir / "vmstat") << std::string(17 << 20, '9');   // oversized
  fs::remove(dir / "net/dev");                                   // missing
  Exporter e(FixtureOptions(dir.string()));
  std::string m = Scrape(e);
  for (const char* bad : {"meminfo", "diskstats", "loadavg", "vmstat", "netdev"}) {
    EXPECT_EQ(ValueOf(m, std::string("node_scrape_collector_success{collector=\"") + bad + "\"}"),
              0)
        << bad;
  }
  for (const char* good : {"cpu", "stat", "filesystem", "netstat", "container"}) {
    EXPECT_EQ(ValueOf(m, std::string("node_scrape_collector_success{collector=\"") + good + "\"}"),
              1)
        << good;
  }
  EXPECT_EQ(m.find("node_memory_"), std::string::npos);  // nothing half-written
  EXPECT_GT(ValueOf(m, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}"), 0);
  ExpectWellFormed(m);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tocsin::exporter::testing

namespace tocsin::exporter::testing {
namespace {

// On the live machine, the netlink path of netclass prints exactly what reading every attribute
// from /sys prints.
TEST(Netclass, NetlinkMatchesSysfsOnThisMachine) {
  auto run = [](bool netlink) {
    ExporterOptions o;
    o.disable_defaults = true;
    o.enabled["netclass"] = true;
    o.collectors.netclass_netlink = netlink;
    Exporter e(o);
    http::Request req;
    req.query.emplace_back("collect[]", "netclass");
    return StableLines(e.HandleMetrics(req).body);
  };
  std::string sysfs = run(false), netlink = run(true);
  ASSERT_NE(sysfs.find("node_network_mtu_bytes{device=\"lo\"}"), std::string::npos);
  EXPECT_EQ(netlink, sysfs);
}

}  // namespace
}  // namespace tocsin::exporter::testing
