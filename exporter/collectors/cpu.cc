// cpu and stat collectors: /proc/stat.
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

namespace {

class CpuCollector : public Collector {
 public:
  explicit CpuCollector(const Paths& p) : path_(p.Proc("stat")) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &stat_, procfs::ParseStat));
    w->Family("node_cpu_guest_seconds_total",
              "Seconds the CPUs spent in guests (VMs) for each mode.", MetricType::kCounter);
    for (const auto& c : stat_.cpus) {
      w->Sample("node_cpu_guest_seconds_total", {{"cpu", c.cpu}, {"mode", "nice"}}, c.guest_nice);
      w->Sample("node_cpu_guest_seconds_total", {{"cpu", c.cpu}, {"mode", "user"}}, c.guest);
    }
    w->Family("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
              MetricType::kCounter);
    for (const auto& c : stat_.cpus) {
      const std::pair<const char*, double> modes[] = {
          {"idle", c.idle},       {"iowait", c.iowait}, {"irq", c.irq},       {"nice", c.nice},
          {"softirq", c.softirq}, {"steal", c.steal},   {"system", c.system}, {"user", c.user}};
      for (const auto& [mode, v] : modes) {
        w->Sample("node_cpu_seconds_total", {{"cpu", c.cpu}, {"mode", mode}}, v);
      }
    }
    return Status::Ok();
  }

 private:
  std::string path_;
  std::string buf_;
  procfs::Stat stat_;
};

class StatCollector : public Collector {
 public:
  explicit StatCollector(const Paths& p) : path_(p.Proc("stat")) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &stat_, procfs::ParseStat));
    w->Single("node_boot_time_seconds", "Node boot time, in unixtime.", MetricType::kGauge,
              static_cast<double>(stat_.boot_time));
    w->Single("node_context_switches_total", "Total number of context switches.",
              MetricType::kCounter, static_cast<double>(stat_.context_switches));
    w->Single("node_forks_total", "Total number of forks.", MetricType::kCounter,
              static_cast<double>(stat_.processes));
    w->Single("node_intr_total", "Total number of interrupts serviced.", MetricType::kCounter,
              static_cast<double>(stat_.intr_total));
    w->Single("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.",
              MetricType::kGauge, static_cast<double>(stat_.procs_blocked));
    w->Single("node_procs_running", "Number of processes in runnable state.", MetricType::kGauge,
              static_cast<double>(stat_.procs_running));
    return Status::Ok();
  }

 private:
  std::string path_;
  std::string buf_;
  procfs::Stat stat_;
};

}  // namespace

std::unique_ptr<Collector> NewCpuCollector(const CollectorOptions& o) {
  return std::make_unique<CpuCollector>(o.paths);
}
std::unique_ptr<Collector> NewStatCollector(const CollectorOptions& o) {
  return std::make_unique<StatCollector>(o.paths);
}

}  // namespace tocsin::exporter
