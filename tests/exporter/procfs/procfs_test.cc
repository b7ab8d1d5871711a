#include "exporter/procfs/procfs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "common/base/file.h"

namespace tocsin::procfs {
namespace {

TEST(ParseStat, CpuTicksBecomeSeconds) {
  Stat s;
  ASSERT_TRUE(
      ParseStat("cpu  10 0 0 0 0 0 0 0 0 0\ncpu0 150 2 30 4000 5 6 7 8 9 10\nintr 12345 1 2\n"
                "ctxt 999\nbtime 1700000000\nprocesses 42\nprocs_running 3\nprocs_blocked 1\n",
                &s)
          .ok());
  ASSERT_EQ(s.cpus.size(), 1u);
  EXPECT_EQ(s.cpus[0].cpu, "0");
  EXPECT_DOUBLE_EQ(s.cpus[0].user, 1.5);
  EXPECT_DOUBLE_EQ(s.cpus[0].idle, 40);
  EXPECT_DOUBLE_EQ(s.cpus[0].guest_nice, 0.1);
  EXPECT_EQ(s.intr_total, 12345u);
  EXPECT_EQ(s.boot_time, 1700000000u);
  EXPECT_EQ(s.procs_blocked, 1u);
}

TEST(ParseMeminfo, KilobytesAndCounts) {
  std::vector<MeminfoField> f;
  ASSERT_TRUE(
      ParseMeminfo("MemTotal:       16000 kB\nHugePages_Total:       0\nActive(anon):  4 kB\n", &f)
          .ok());
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].value, 16000.0 * 1024);
  EXPECT_FALSE(f[1].bytes);
  EXPECT_EQ(f[2].name, "Active(anon)");
}

TEST(ParseDiskstats, KernelVariants) {
  std::vector<DiskStat> d;
  ASSERT_TRUE(
      ParseDiskstats(
          " 8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n 8 1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
          &d)
          .ok());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].field_count, 11);
  EXPECT_EQ(d[1].field_count, 17);
  EXPECT_EQ(d[1].v[16], 17u);
}

TEST(ParseNetstatPairs, HeaderValuePairs) {
  std::vector<NetStatValue> v;
  ASSERT_TRUE(ParseNetstatPairs("Tcp: RtoAlgorithm MaxConn InSegs\nTcp: 1 -1 1534\n", &v).ok());
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2].protocol, "Tcp");
  EXPECT_EQ(v[2].name, "InSegs");
  EXPECT_EQ(v[1].value, "-1");
}

TEST(ParseMountinfo, OctalEscapesAndOptionalFields) {
  std::vector<Mount> m;
  ASSERT_TRUE(
      ParseMountinfo(
          "28 22 0:25 / /mnt/my\\040data rw,relatime shared:7 master:1 - xfs /dev/sdb1 ro\n", &m)
          .ok());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mount_point, "/mnt/my data");
  EXPECT_EQ(m[0].fs_type, "xfs");
  EXPECT_EQ(m[0].options, "rw,relatime,ro");
}

TEST(ParseSoftnet, HexAndCpuIndex) {
  std::vector<SoftnetStat> s;
  ASSERT_TRUE(ParseSoftnet("0000000a 00000001 00000002 0 0 0 0 0 0 0 0 0 00000003\n", &s).ok());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].processed, 10u);
  EXPECT_EQ(s[0].cpu, 3u);
}

TEST(ParseProcStat, CommandWithParensAndSpaces) {
  ProcStat p;
  std::string line =
      "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 12345 104857600 "
      "2560 ";
  line += "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ASSERT_TRUE(ParseProcStat(line, &p).ok());
  EXPECT_DOUBLE_EQ(p.utime_seconds, 2.5);
  EXPECT_DOUBLE_EQ(p.stime_seconds, 0.5);
  EXPECT_EQ(p.starttime_ticks, 12345u);
  EXPECT_EQ(p.vsize_bytes, 104857600u);
  EXPECT_EQ(p.rss_pages, 2560u);
}

TEST(ParseOsRelease, Quoting) {
  std::vector<std::pair<std::string, std::string>> kv;
  ASSERT_TRUE(
      ParseOsRelease("# c\nNAME=\"Debian GNU/Linux\"\nVERSION_ID='12'\nID=debian\n", &kv).ok());
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0].second, "Debian GNU/Linux");
  EXPECT_EQ(kv[1].second, "12");
}

// Every parser rejects truncated, empty-where-required and garbage input with an error naming the
// line, and never crashes.
TEST(Parsers, BadInputIsAnErrorNamingTheLine) {
  struct Case {
    const char* what;
    std::function<Status(std::string_view)> parse;
    const char* input;
    const char* want;
  };
  Stat st;
  std::vector<MeminfoField> mi;
  std::array<double, 3> la;
  std::vector<DiskStat> ds;
  std::vector<NetDevStat> nd;
  std::vector<NetStatValue> ns;
  std::vector<SockstatValue> ss;
  std::vector<VmstatValue> vm;
  Pressure pr;
  std::vector<std::pair<std::string, uint64_t>> arp;
  std::vector<SoftnetStat> sn;
  ConntrackStat ct;
  std::vector<Mount> mo;
  ProcStat ps;
  uint64_t a, b;
  const Case cases[] = {
      {"stat", [&](auto t) { return ParseStat(t, &st); }, "cpu0 12 x 3 4\n",
       "line 1: bad cpu time"},
      {"stat empty", [&](auto t) { return ParseStat(t, &st); }, "", "no cpu lines"},
      {"meminfo", [&](auto t) { return ParseMeminfo(t, &mi); }, "MemTotal: 1 kB\nMemFree 12\n",
       "line 2"},
      {"meminfo empty", [&](auto t) { return ParseMeminfo(t, &mi); }, "", "no fields"},
      {"loadavg", [&](auto t) { return ParseLoadavg(t, &la); }, "0.5 0.",
       "expected at least 3 fields"},
      {"loadavg garbage", [&](auto t) { return ParseLoadavg(t, &la); }, "a b c",
       "bad load average"},
      {"diskstats", [&](auto t) { return ParseDiskstats(t, &ds); }, " 8 0 sda 1 2 3\n",
       "line 1: expected 14, 18 or 20"},
      {"netdev", [&](auto t) { return ParseNetDev(t, &nd); }, "h1\nh2\n eth0: 1 2 3\n",
       "line 3: expected 16 counters"},
      {"netstat", [&](auto t) { return ParseNetstatPairs(t, &ns); }, "Tcp: A B\nTcp: 1\n",
       "line 2: value count"},
      {"netstat truncated", [&](auto t) { return ParseNetstatPairs(t, &ns); }, "Tcp: A B\n",
       "header without value line"},
      {"snmp6", [&](auto t) { return ParseSnmp6(t, &ns); }, "Ip6InOctets\n", "line 1"},
      {"sockstat", [&](auto t) { return ParseSockstat(t, &ss); }, "TCP: inuse\n",
       "line 1: malformed"},
      {"vmstat", [&](auto t) { return ParseVmstat(t, &vm); }, "pgfault 1\npgmajfault x\n",
       "line 2: bad value"},
      {"pressure", [&](auto t) { return ParsePressure(t, &pr); }, "sometimes total=1\n", "line 1"},
      {"pressure empty", [&](auto t) { return ParsePressure(t, &pr); }, "", "no \"some\" line"},
      {"file-nr", [&](auto t) { return ParseFileNr(t, &a, &b); }, "1 2", "expected 3 fields"},
      {"arp", [&](auto t) { return ParseArp(t, &arp); }, "header\n10.0.0.1 0x1\n", "line 2"},
      {"softnet", [&](auto t) { return ParseSoftnet(t, &sn); }, "zz 1 2\n", "line 1: bad hex"},
      {"conntrack", [&](auto t) { return ParseConntrackStat(t, &ct); }, "entries found\n1\n",
       "line 2"},
      {"udp", [&](auto t) { return ParseUdpQueues(t, &a, &b); },
       "h\n 0: 0100007F:0035 00000000:0000 07 zz\n", "line 2"},
      {"mountinfo", [&](auto t) { return ParseMountinfo(t, &mo); }, "1 2 3:4 / /x rw\n",
       "line 1: malformed"},
      {"proc stat", [&](auto t) { return ParseProcStat(t, &ps); }, "1 (x) S 1 2",
       "expected at least 24 fields"},
  };
  for (const Case& c : cases) {
    Status s = c.parse(c.input);
    EXPECT_FALSE(s.ok()) << c.what;
    EXPECT_NE(s.message().find(c.want), std::string_view::npos) << c.what << ": " << s.ToString();
  }
}

TEST(ReadFile, OversizedFileIsRefused) {
  std::string path = ::testing::TempDir() + "/big";
  {
    std::ofstream f(path);
    f << std::string(4096, 'x');
  }
  std::string out;
  Status st = ReadFile(path, &out, 1024);
  EXPECT_EQ(st.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(st.message().find(path), std::string_view::npos);
  EXPECT_EQ(ReadFile("/nonexistent/file", &out).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace tocsin::procfs
