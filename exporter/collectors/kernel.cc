// Collectors over single /proc files: meminfo, loadavg, vmstat, pressure, filefd, entropy, arp,
// softnet, conntrack, udp_queues.
#include <cmath>

#include "common/base/strings.h"
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

std::unique_ptr<RE2> CompilePattern(const std::string& pattern) {
  if (pattern.empty()) return nullptr;
  auto re = std::make_unique<RE2>(pattern, RE2::Quiet);
  return re->ok() ? std::move(re) : nullptr;
}

namespace {

class MeminfoCollector : public Collector {
 public:
  explicit MeminfoCollector(const Paths& p) : path_(p.Proc("meminfo")) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &fields_, procfs::ParseMeminfo));
    for (const auto& f : fields_) {
      name_ = "node_memory_";
      // "Active(anon)" -> "Active_anon"
      for (char c : f.name) {
        if (c == '(')
          name_.push_back('_');
        else if (c != ')')
          name_.push_back(c);
      }
      if (f.bytes) name_ += "_bytes";
      if (!expfmt::IsValidMetricName(name_)) continue;
      AssignConcat(&help_, {"Memory information field ", std::string_view(name_).substr(12), "."});
      w->Single(name_, help_, MetricType::kGauge, f.value);
    }
    return Status::Ok();
  }

 private:
  std::string path_, buf_, name_, help_;
  std::vector<procfs::MeminfoField> fields_;
};

class LoadavgCollector : public Collector {
 public:
  explicit LoadavgCollector(const Paths& p) : path_(p.Proc("loadavg")) {}
  Status Collect(expfmt::Writer* w) override {
    std::array<double, 3> l;
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &l, procfs::ParseLoadavg));
    w->Single("node_load1", "1m load average.", MetricType::kGauge, l[0]);
    w->Single("node_load15", "15m load average.", MetricType::kGauge, l[2]);
    w->Single("node_load5", "5m load average.", MetricType::kGauge, l[1]);
    return Status::Ok();
  }

 private:
  std::string path_, buf_;
};

class VmstatCollector : public Collector {
 public:
  VmstatCollector(const Paths& p, const std::string& fields)
      : path_(p.Proc("vmstat")), fields_(fields) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &values_, procfs::ParseVmstat));
    for (size_t i = 0; i < values_.size(); ++i) {
      const auto& v = values_[i];
      if (!fields_.Selected(i, v.name)) continue;
      AssignConcat(&name_, {"node_vmstat_", v.name});
      AssignConcat(&help_, {"/proc/vmstat information field ", v.name, "."});
      w->Single(name_, help_, MetricType::kUntyped, v.value);
    }
    return Status::Ok();
  }

 private:
  std::string path_, buf_, name_, help_;
  FieldFilter fields_;
  std::vector<procfs::VmstatValue> values_;
};

class PressureCollector : public Collector {
 public:
  explicit PressureCollector(const Paths& p) : dir_(p.Proc("pressure")) {}
  Status Collect(expfmt::Writer* w) override {
    procfs::Pressure cpu, io, mem;
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(dir_ + "/cpu", &buf_, &cpu, procfs::ParsePressure));
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(dir_ + "/io", &buf_, &io, procfs::ParsePressure));
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(dir_ + "/memory", &buf_, &mem, procfs::ParsePressure));
    w->Single("node_pressure_cpu_waiting_seconds_total",
              "Total time in seconds that processes have waited for CPU time.",
              MetricType::kCounter, cpu.some_total_us / 1e6);
    w->Single("node_pressure_io_stalled_seconds_total",
              "Total time in seconds no process could make progress due to IO congestion.",
              MetricType::kCounter, io.full_total_us / 1e6);
    w->Single("node_pressure_io_waiting_seconds_total",
              "Total time in seconds that processes have waited due to IO congestion.",
              MetricType::kCounter, io.some_total_us / 1e6);
    w->Single("node_pressure_memory_stalled_seconds_total",
              "Total time in seconds no process could make progress due to memory congestion.",
              MetricType::kCounter, mem.full_total_us / 1e6);
    w->Single("node_pressure_memory_waiting_seconds_total",
              "Total time in seconds that processes have waited for memory.", MetricType::kCounter,
              mem.some_total_us / 1e6);
    return Status::Ok();
  }

 private:
  std::string dir_, buf_;
};

Status ParseFileNrPair(std::string_view text, std::pair<uint64_t, uint64_t>* out) {
  return procfs::ParseFileNr(text, &out->first, &out->second);
}

class FilefdCollector : public Collector {
 public:
  explicit FilefdCollector(const Paths& p) : path_(p.Proc("sys/fs/file-nr")) {}
  Status Collect(expfmt::Writer* w) override {
    std::pair<uint64_t, uint64_t> v;
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &v, ParseFileNrPair));
    w->Single("node_filefd_allocated", "File descriptor statistics: allocated.", MetricType::kGauge,
              static_cast<double>(v.first));
    w->Single("node_filefd_maximum", "File descriptor statistics: maximum.", MetricType::kGauge,
              static_cast<double>(v.second));
    return Status::Ok();
  }

 private:
  std::string path_, buf_;
};

Status ReadNumber(const std::string& path, double* v) {
  uint64_t u;
  TOCSIN_RETURN_IF_ERROR(ReadUint64File(path, &u));
  *v = static_cast<double>(u);
  return Status::Ok();
}

class EntropyCollector : public Collector {
 public:
  explicit EntropyCollector(const Paths& p) : dir_(p.Proc("sys/kernel/random")) {}
  Status Collect(expfmt::Writer* w) override {
    double avail, pool;
    TOCSIN_RETURN_IF_ERROR(ReadNumber(dir_ + "/entropy_avail", &avail));
    TOCSIN_RETURN_IF_ERROR(ReadNumber(dir_ + "/poolsize", &pool));
    w->Single("node_entropy_available_bits", "Bits of available entropy.", MetricType::kGauge,
              avail);
    w->Single("node_entropy_pool_size_bits", "Bits of entropy pool.", MetricType::kGauge, pool);
    return Status::Ok();
  }

 private:
  std::string dir_;
};

class ArpCollector : public Collector {
 public:
  explicit ArpCollector(const Paths& p) : path_(p.Proc("net/arp")) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &entries_, procfs::ParseArp));
    w->Family("node_arp_entries", "ARP entries by device", MetricType::kGauge);
    for (const auto& [dev, n] : entries_)
      w->Sample("node_arp_entries", {{"device", dev}}, static_cast<double>(n));
    return Status::Ok();
  }

 private:
  std::string path_, buf_;
  std::vector<std::pair<std::string, uint64_t>> entries_;
};

class SoftnetCollector : public Collector {
 public:
  explicit SoftnetCollector(const Paths& p) : path_(p.Proc("net/softnet_stat")) {}
  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &stats_, procfs::ParseSoftnet));
    struct F {
      const char* name;
      const char* help;
      uint64_t procfs::SoftnetStat::*field;
    };
    static constexpr F kFamilies[] = {
        {"node_softnet_dropped_total", "Number of dropped packets", &procfs::SoftnetStat::dropped},
        {"node_softnet_processed_total", "Number of processed packets",
         &procfs::SoftnetStat::processed},
        {"node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota",
         &procfs::SoftnetStat::time_squeezed}};
    char cpu[16];
    for (const F& f : kFamilies) {
      w->Family(f.name, f.help, MetricType::kCounter);
      for (const auto& s : stats_) {
        std::snprintf(cpu, sizeof cpu, "%u", s.cpu);
        w->Sample(f.name, {{"cpu", cpu}}, static_cast<double>(s.*f.field));
      }
    }
    return Status::Ok();
  }

 private:
  std::string path_, buf_;
  std::vector<procfs::SoftnetStat> stats_;
};

class ConntrackCollector : public Collector {
 public:
  explicit ConntrackCollector(const Paths& p)
      : dir_(p.Proc("sys/net/netfilter")), stat_path_(p.Proc("net/stat/nf_conntrack")) {}
  Status Collect(expfmt::Writer* w) override {
    double count, max;
    TOCSIN_RETURN_IF_ERROR(ReadNumber(dir_ + "/nf_conntrack_count", &count));
    TOCSIN_RETURN_IF_ERROR(ReadNumber(dir_ + "/nf_conntrack_max", &max));
    w->Single("node_nf_conntrack_entries",
              "Number of currently allocated flow entries for connection tracking.",
              MetricType::kGauge, count);
    w->Single("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.",
              MetricType::kGauge, max);
    procfs::ConntrackStat s;
    if (ReadAndParse(stat_path_, &buf_, &s, procfs::ParseConntrackStat).ok()) {
      const std::pair<const char*, uint64_t> stats[] = {
          {"drop", s.drop},       {"early_drop", s.early_drop},
          {"found", s.found},     {"ignore", s.ignore},
          {"insert", s.insert},   {"insert_failed", s.insert_failed},
          {"invalid", s.invalid}, {"search_restart", s.search_restart}};
      for (const auto& [n, v] : stats) {
        AssignConcat(&name_, {"node_nf_conntrack_stat_", n});
        AssignConcat(&help_, {"Number of conntrack ", n, " events, summed over CPUs."});
        w->Single(name_, help_, MetricType::kGauge, static_cast<double>(v));
      }
    }
    return Status::Ok();
  }

 private:
  std::string dir_, stat_path_, buf_, name_, help_;
};

Status ParseUdpPair(std::string_view text, std::pair<uint64_t, uint64_t>* out) {
  return procfs::ParseUdpQueues(text, &out->first, &out->second);
}

class UdpQueuesCollector : public Collector {
 public:
  explicit UdpQueuesCollector(const Paths& p) : v4_(p.Proc("net/udp")), v6_(p.Proc("net/udp6")) {}
  Status Collect(expfmt::Writer* w) override {
    std::pair<uint64_t, uint64_t> q4, q6;
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(v4_, &buf_, &q4, ParseUdpPair));
    bool has6 = ReadAndParse(v6_, &buf_, &q6, ParseUdpPair).ok();
    w->Family("node_udp_queues",
              "Number of allocated memory in the kernel for UDP datagrams in bytes.",
              MetricType::kGauge);
    w->Sample("node_udp_queues", {{"ip", "v4"}, {"queue", "rx"}}, static_cast<double>(q4.second));
    w->Sample("node_udp_queues", {{"ip", "v4"}, {"queue", "tx"}}, static_cast<double>(q4.first));
    if (has6) {
      w->Sample("node_udp_queues", {{"ip", "v6"}, {"queue", "rx"}}, static_cast<double>(q6.second));
      w->Sample("node_udp_queues", {{"ip", "v6"}, {"queue", "tx"}}, static_cast<double>(q6.first));
    }
    return Status::Ok();
  }

 private:
  std::string v4_, v6_, buf_;
};

}  // namespace

std::unique_ptr<Collector> NewMeminfoCollector(const CollectorOptions& o) {
  return std::make_unique<MeminfoCollector>(o.paths);
}
std::unique_ptr<Collector> NewLoadavgCollector(const CollectorOptions& o) {
  return std::make_unique<LoadavgCollector>(o.paths);
}
std::unique_ptr<Collector> NewVmstatCollector(const CollectorOptions& o) {
  return std::make_unique<VmstatCollector>(o.paths, o.vmstat_fields);
}
std::unique_ptr<Collector> NewPressureCollector(const CollectorOptions& o) {
  return std::make_unique<PressureCollector>(o.paths);
}
std::unique_ptr<Collector> NewFilefdCollector(const CollectorOptions& o) {
  return std::make_unique<FilefdCollector>(o.paths);
}
std::unique_ptr<Collector> NewEntropyCollector(const CollectorOptions& o) {
  return std::make_unique<EntropyCollector>(o.paths);
}
std::unique_ptr<Collector> NewArpCollector(const CollectorOptions& o) {
  return std::make_unique<ArpCollector>(o.paths);
}
std::unique_ptr<Collector> NewSoftnetCollector(const CollectorOptions& o) {
  return std::make_unique<SoftnetCollector>(o.paths);
}
std::unique_ptr<Collector> NewConntrackCollector(const CollectorOptions& o) {
  return std::make_unique<ConntrackCollector>(o.paths);
}
std::unique_ptr<Collector> NewUdpQueuesCollector(const CollectorOptions& o) {
  return std::make_unique<UdpQueuesCollector>(o.paths);
}

}  // namespace tocsin::exporter
