#pragma once
// Pure parsers of /proc files: text in, structs out. Each returns InvalidArgument naming the file
// and the line that did not parse; none reads the filesystem (readers live in the collectors,
// which take their root from --path.procfs). Thread-safety: all functions are pure.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin::procfs {

// USER_HZ: the unit of /proc/stat CPU times on every Linux architecture Prometheus supports.
inline constexpr double kUserHz = 100.0;

// ---- /proc/stat ----
struct CpuTimes {   // seconds
  std::string cpu;  // "0", "1", ...
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0,
         guest = 0, guest_nice = 0;
};
struct Stat {
  std::vector<CpuTimes> cpus;  // per-CPU lines only (the aggregate "cpu" line is skipped)
  uint64_t intr_total = 0;
  uint64_t context_switches = 0;
  uint64_t boot_time = 0;
  uint64_t processes = 0;
  uint64_t procs_running = 0;
  uint64_t procs_blocked = 0;
};
Status ParseStat(std::string_view text, Stat* out);

// Parsers below that return names return views into the text they were given: the caller keeps
// the text alive while it uses the result (a collector's reused read buffer).

// ---- /proc/meminfo: (field name, value in bytes when the line has "kB", else a count) ----
struct MeminfoField {
  std::string_view name;
  double value;
  bool bytes;
};
Status ParseMeminfo(std::string_view text, std::vector<MeminfoField>* out);

// ---- /proc/loadavg ----
Status ParseLoadavg(std::string_view text, std::array<double, 3>* out);

// ---- /proc/diskstats ----
struct DiskStat {
  uint32_t major = 0, minor = 0;
  std::string device;
  // Raw counters in kernel units (sectors, milliseconds); fields beyond the kernel's count are 0.
  std::array<uint64_t, 17> v{};
  int field_count = 0;  // 11, 15 or 17 counters
};
Status ParseDiskstats(std::string_view text, std::vector<DiskStat>* out);

// ---- /proc/net/dev ----
struct NetDevStat {
  std::string device;
  // receive: bytes packets errs drop fifo frame compressed multicast;
  // transmit: bytes packets errs drop fifo colls carrier compressed
  std::array<uint64_t, 16> v{};
};
Status ParseNetDev(std::string_view text, std::vector<NetDevStat>* out);

// ---- /proc/net/{snmp,netstat} (header/value line pairs) and /proc/net/snmp6 (name value) ----
struct NetStatValue {
  std::string_view protocol;  // "Tcp", "TcpExt", "Ip6", ...
  std::string_view name;      // "InSegs"
  std::string_view value;     // kept as text: some are negative or exceed 2^53
};
Status ParseNetstatPairs(std::string_view text, std::vector<NetStatValue>* out);
Status ParseSnmp6(std::string_view text, std::vector<NetStatValue>* out);

// ---- /proc/net/sockstat and sockstat6: "TCP: inuse 5 orphan 0 ..." ----
struct SockstatValue {
  std::string_view protocol;
  std::string_view name;
  double value;
};
Status ParseSockstat(std::string_view text, std::vector<SockstatValue>* out);

// ---- /proc/vmstat ----
struct VmstatValue {
  std::string_view name;
  double value;
};
Status ParseVmstat(std::string_view text, std::vector<VmstatValue>* out);

// ---- /proc/pressure/{cpu,memory,io} ----
struct Pressure {
  bool has_some = false, has_full = false;
  double some_total_us = 0, full_total_us = 0;
};
Status ParsePressure(std::string_view text, Pressure* out);

// ---- /proc/sys/fs/file-nr ----
Status ParseFileNr(std::string_view text, uint64_t* allocated, uint64_t* maximum);

// ---- /proc/net/arp: entries per device ----
Status ParseArp(std::string_view text, std::vector<std::pair<std::string, uint64_t>>* out);

// ---- /proc/net/softnet_stat ----
struct SoftnetStat {
  uint32_t cpu = 0;
  uint64_t processed = 0, dropped = 0, time_squeezed = 0;
};
Status ParseSoftnet(std::string_view text, std::vector<SoftnetStat>* out);

// ---- /proc/net/stat/nf_conntrack: per-CPU hex table, summed ----
struct ConntrackStat {
  uint64_t found = 0, invalid = 0, ignore = 0, insert = 0, insert_failed = 0, drop = 0,
           early_drop = 0, search_restart = 0;
};
Status ParseConntrackStat(std::string_view text, ConntrackStat* out);

// ---- /proc/net/udp, udp6: summed tx_queue and rx_queue ----
Status ParseUdpQueues(std::string_view text, uint64_t* tx, uint64_t* rx);

// ---- /proc/<pid>/mountinfo ----
struct Mount {
  std::string device;
  std::string mount_point;
  std::string fs_type;
  std::string options;  // per-mount and super-block options, comma-joined
};
Status ParseMountinfo(std::string_view text, std::vector<Mount>* out);

// ---- /proc/<pid>/stat, limits ----
struct ProcStat {
  double utime_seconds = 0, stime_seconds = 0;
  uint64_t starttime_ticks = 0;
  uint64_t vsize_bytes = 0;
  uint64_t rss_pages = 0;
};
Status ParseProcStat(std::string_view text, ProcStat* out);
// Soft limits "Max open files" and "Max address space"; -1 means unlimited.
Status ParseProcLimits(std::string_view text, double* max_fds, double* max_address_space);

// ---- /etc/os-release: KEY=value with shell quoting ----
Status ParseOsRelease(std::string_view text, std::vector<std::pair<std::string, std::string>>* out);

}  // namespace tocsin::procfs
