#pragma once
// Factories of every collector, and the table main() builds the registry from.
// Thread-safety: factories are called once at start-up; see Collector for Collect().

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/timex.h>
#include <sys/utsname.h>

#include "exporter/collector.h"

namespace tocsin::exporter {

// Result of statfs() on one mount point.
struct FsStats {
  double size_bytes = 0, free_bytes = 0, avail_bytes = 0, files = 0, files_free = 0;
};
// statfs() seam: tests inject a function that fails or never returns.
using StatFsFunc = std::function<Status(const std::string& path, FsStats* out)>;
Status RealStatFs(const std::string& path, FsStats* out);

struct CollectorOptions {
  Paths paths;
  // Regexes (RE2, fully anchored as node_exporter's).
  std::string filesystem_mount_points_exclude =
      "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
  std::string filesystem_fs_types_exclude =
      "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
      "iso9660|"
      "mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|"
      "tracefs)$";
  std::chrono::milliseconds filesystem_mount_timeout{5000};
  StatFsFunc statfs = RealStatFs;
  std::string diskstats_device_exclude = "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";
  std::string netdev_device_exclude;
  // netclass: take the attributes rtnetlink carries from one RTM_GETLINK dump (only when
  // paths.sysfs is the live "/sys"); false reads every attribute from sysfs.
  bool netclass_netlink = true;
  std::string netstat_fields =
      "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
      "TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|"
      "OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|"
      "RcvbufErrors|SndbufErrors))$";
  std::string vmstat_fields = "^(oom_kill|pgpg|pswp|pg.*fault).*";
  std::string textfile_directory;
  // Syscall seams for uname and adjtimex (fixture tests pin their values).
  std::function<int(struct utsname*)> uname_func = ::uname;
  std::function<int(struct timex*)> adjtimex_func = ::adjtimex;
  std::function<double()> now_func;  // unix seconds; empty = the real clock
  // Container collector.
  std::string docker_socket = "/var/run/docker.sock";
  std::string container_label_allow =
      ".*";              // regex over Docker label names kept as container_label_*
  std::string cgroupfs;  // empty = <sysfs>/fs/cgroup
};

struct CollectorDef {
  const char* name;
  bool default_enabled;
  const char* help;
  std::function<std::unique_ptr<Collector>(const CollectorOptions&)> make;
};

// Every collector, in the order its families are written.
const std::vector<CollectorDef>& AllCollectors();

// The process's own metrics (process_*), always on and not a named collector.
std::unique_ptr<Collector> NewProcessCollector(const Paths& paths);

}  // namespace tocsin::exporter
