// process_* metrics of the exporter itself, from <procfs>/self.
#include <unistd.h>

#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

namespace {

class ProcessCollector : public Collector {
 public:
  explicit ProcessCollector(const Paths& p)
      : stat_(p.Proc("self/stat")),
        limits_(p.Proc("self/limits")),
        fd_(p.Proc("self/fd")),
        pstat_(p.Proc("stat")) {}

  Status Collect(expfmt::Writer* w) override {
    procfs::ProcStat ps;
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(stat_, &buf_, &ps, procfs::ParseProcStat));
    if (boot_time_ == 0) {
      procfs::Stat st;
      TOCSIN_RETURN_IF_ERROR(ReadAndParse(pstat_, &buf_, &st, procfs::ParseStat));
      boot_time_ = static_cast<double>(st.boot_time);
    }
    double max_fds = -1, max_as = -1;
    TOCSIN_RETURN_IF_ERROR(ReadFile(limits_, &buf_));
    TOCSIN_RETURN_IF_ERROR(procfs::ParseProcLimits(buf_, &max_fds, &max_as).WithContext(limits_));
    TOCSIN_RETURN_IF_ERROR(ListDir(fd_, &fds_));
    static const double kPage = static_cast<double>(::sysconf(_SC_PAGESIZE));
    w->Single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              MetricType::kCounter, ps.utime_seconds + ps.stime_seconds);
    w->Single("process_max_fds", "Maximum number of open file descriptors.", MetricType::kGauge,
              max_fds);
    w->Single("process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
              static_cast<double>(fds_.size()));
    w->Single("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::kGauge,
              static_cast<double>(ps.rss_pages) * kPage);
    w->Single("process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.", MetricType::kGauge,
              boot_time_ + static_cast<double>(ps.starttime_ticks) / procfs::kUserHz);
    w->Single("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::kGauge,
              static_cast<double>(ps.vsize_bytes));
    w->Single("process_virtual_memory_max_bytes",
              "Maximum amount of virtual memory available in bytes.", MetricType::kGauge, max_as);
    return Status::Ok();
  }

 private:
  std::string stat_, limits_, fd_, pstat_, buf_;
  std::vector<std::string> fds_;
  double boot_time_ = 0;
};

}  // namespace

std::unique_ptr<Collector> NewProcessCollector(const Paths& paths) {
  return std::make_unique<ProcessCollector>(paths);
}

const std::vector<CollectorDef>& AllCollectors() {
  static const std::vector<CollectorDef> kAll = {
      {"arp", true, "ARP statistics from /proc/net/arp", NewArpCollector},
      {"conntrack", true, "conntrack statistics (node_nf_conntrack_*)", NewConntrackCollector},
      {"cpu", true, "CPU time per mode from /proc/stat", NewCpuCollector},
      {"diskstats", true, "disk I/O statistics from /proc/diskstats", NewDiskstatsCollector},
      {"entropy", true, "available entropy", NewEntropyCollector},
      {"filefd", true, "file descriptor statistics from /proc/sys/fs/file-nr", NewFilefdCollector},
      {"filesystem", true, "filesystem size and inodes of mounted filesystems",
       NewFilesystemCollector},
      {"loadavg", true, "load average", NewLoadavgCollector},
      {"meminfo", true, "memory statistics from /proc/meminfo", NewMeminfoCollector},
      {"netclass", true, "network interface properties from /sys/class/net", NewNetclassCollector},
      {"netdev", true, "network interface statistics from /proc/net/dev", NewNetdevCollector},
      {"netstat", true, "network statistics from /proc/net/{netstat,snmp,snmp6}",
       NewNetstatCollector},
      {"os", true, "OS release information from /etc/os-release", NewOsCollector},
      {"pressure", true, "pressure stall information from /proc/pressure", NewPressureCollector},
      {"selinux", true, "SELinux status", NewSelinuxCollector},
      {"sockstat", true, "socket statistics from /proc/net/sockstat", NewSockstatCollector},
      {"softnet", true, "softnet statistics from /proc/net/softnet_stat", NewSoftnetCollector},
      {"stat", true, "kernel statistics from /proc/stat", NewStatCollector},
      {"textfile", true, "metrics from *.prom files in --collector.textfile.directory",
       NewTextfileCollector},
      {"time", true, "the current system time and clocksources", NewTimeCollector},
      {"timex", true, "selected adjtimex(2) system call stats", NewTimexCollector},
      {"udp_queues", true, "UDP queue lengths from /proc/net/udp{,6}", NewUdpQueuesCollector},
      {"uname", true, "system information from uname(2)", NewUnameCollector},
      {"vmstat", true, "virtual memory statistics from /proc/vmstat", NewVmstatCollector},
      {"container", true, "cAdvisor-compatible container metrics from cgroups v1/v2",
       NewContainerCollector},
  };
  return kAll;
}

}  // namespace tocsin::exporter
