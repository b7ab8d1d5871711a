// Feeds arbitrary bytes to every /proc and cgroup parser; the first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/cgroup/cgroup.h"
#include "exporter/cgroup/docker.h"
#include "exporter/procfs/netlink.h"
#include "exporter/procfs/procfs.h"

using namespace tocsin;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  uint64_t a, b;
  double d1, d2;
  switch (data[0] % 23) {
    case 0: {
      procfs::Stat s;
      procfs::ParseStat(in, &s).IgnoreError();
      break;
    }
    case 1: {
      std::vector<procfs::MeminfoField> v;
      procfs::ParseMeminfo(in, &v).IgnoreError();
      break;
    }
    case 2: {
      std::array<double, 3> l;
      procfs::ParseLoadavg(in, &l).IgnoreError();
      break;
    }
    case 3: {
      std::vector<procfs::DiskStat> v;
      procfs::ParseDiskstats(in, &v).IgnoreError();
      break;
    }
    case 4: {
      std::vector<procfs::NetDevStat> v;
      procfs::ParseNetDev(in, &v).IgnoreError();
      break;
    }
    case 5: {
      std::vector<procfs::NetStatValue> v;
      procfs::ParseNetstatPairs(in, &v).IgnoreError();
      break;
    }
    case 6: {
      std::vector<procfs::NetStatValue> v;
      procfs::ParseSnmp6(in, &v).IgnoreError();
      break;
    }
    case 7: {
      std::vector<procfs::SockstatValue> v;
      procfs::ParseSockstat(in, &v).IgnoreError();
      break;
    }
    case 8: {
      std::vector<procfs::VmstatValue> v;
      procfs::ParseVmstat(in, &v).IgnoreError();
      break;
    }
    case 9: {
      procfs::Pressure p;
      procfs::ParsePressure(in, &p).IgnoreError();
      break;
    }
    case 10:
      procfs::ParseFileNr(in, &a, &b).IgnoreError();
      break;
    case 11: {
      std::vector<std::pair<std::string, uint64_t>> v;
      procfs::ParseArp(in, &v).IgnoreError();
      break;
    }
    case 12: {
      std::vector<procfs::SoftnetStat> v;
      procfs::ParseSoftnet(in, &v).IgnoreError();
      break;
    }
    case 13: {
      procfs::ConntrackStat c;
      procfs::ParseConntrackStat(in, &c).IgnoreError();
      break;
    }
    case 14:
      procfs::ParseUdpQueues(in, &a, &b).IgnoreError();
      break;
    case 15: {
      std::vector<procfs::Mount> v;
      procfs::ParseMountinfo(in, &v).IgnoreError();
      break;
    }
    case 16: {
      procfs::ProcStat p;
      procfs::ParseProcStat(in, &p).IgnoreError();
      break;
    }
    case 17:
      procfs::ParseProcLimits(in, &d1, &d2).IgnoreError();
      break;
    case 18: {
      std::vector<std::pair<std::string, std::string>> v;
      procfs::ParseOsRelease(in, &v).IgnoreError();
      break;
    }
    case 19: {
      cgroup::KeyedValues m;
      cgroup::ParseFlatKeyed(in, &m).IgnoreError();
      break;
    }
    case 20: {
      std::vector<cgroup::DeviceIo> v;
      cgroup::ParseIoStat(in, &v).IgnoreError();
      cgroup::ParseBlkioServiceBytes(in, &v).IgnoreError();
      int64_t q;
      cgroup::ParseCpuMax(in, &q, &a).IgnoreError();
      cgroup::ParseLimit(in, &a).IgnoreError();
      cgroup::CountPids(in, &a, &b).IgnoreError();
      break;
    }
    case 22: {
      std::vector<procfs::LinkInfo> links;
      bool done;
      procfs::ParseLinkDump(in, &links, &done).IgnoreError();
      break;
    }
    case 21: {
      std::map<std::string, cgroup::DockerContainer> m;
      cgroup::ParseDockerContainers(in, &m).IgnoreError();
      cgroup::Classify(in);
      break;
    }
  }
  return 0;
}
