// container collector: cAdvisor's container_* families for every cgroup (v2, v1 and hybrid).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "common/base/strings.h"
#include "exporter/cgroup/cgroup.h"
#include "exporter/cgroup/docker.h"
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

namespace {

using cgroup::Identity;
using Opt = std::optional<double>;
using KeyedMap = cgroup::KeyedValues;  // views into buf_: use before the next Read()

// Upper bounds that keep a pathological host (or fixture) from making a scrape unbounded.
constexpr size_t kMaxCgroups = 10000;
constexpr int kMaxDepth = 16;

struct Pressure {
  Opt some_us, full_us;
};

struct Container {
  std::string path;
  Identity ident;
  std::string name, image;
  std::vector<std::pair<std::string, std::string>> docker_labels;
  std::string pod, namespace_, container;
  Opt cpu_usage, cpu_user, cpu_system, periods, throttled_periods, throttled_seconds;
  Opt mem_usage, working_set, rss, cache, swap, failcnt, oom_events, mem_limit;
  Opt cpu_quota, cpu_period, cpu_shares;
  std::vector<cgroup::DeviceIo> io;
  Pressure cpu_pressure, mem_pressure, io_pressure;
  Opt processes;
  uint64_t first_pid = 0;
  double start_time = 0;
  std::vector<procfs::NetDevStat> net;
};

Opt Get(const KeyedMap& m, std::string_view k, double scale = 1) {
  std::optional<uint64_t> v = cgroup::Lookup(m, k);
  if (!v) return std::nullopt;
  return static_cast<double>(*v) * scale;
}

class ContainerCollector : public Collector {
 public:
  explicit ContainerCollector(const CollectorOptions& o)
      : paths_(o.paths),
        root_(o.cgroupfs.empty() ? o.paths.Sys("fs/cgroup") : o.cgroupfs),
        docker_(o.docker_socket),
        label_allow_(CompilePattern(o.container_label_allow)),
        now_(o.now_func) {}

  Status Collect(expfmt::Writer* w) override {
    containers_.clear();
    v2_ = PathExists(root_ + "/cgroup.controllers");
    if (v2_) {
      Walk(root_, "/", 0, [&](const std::string& rel) { ReadV2(rel); });
    } else {
      V1Roots roots = FindV1Roots();
      std::string walk_root = !roots.memory.empty() ? roots.memory : roots.cpuacct;
      if (walk_root.empty()) walk_root = roots.cpu;
      if (walk_root.empty()) return Status::NotFound("no cgroup v1 or v2 hierarchy under " + root_);
      Walk(walk_root, "/", 0, [&](const std::string& rel) { ReadV1(roots, rel); });
    }
    host_netns_ = ReadLink(paths_.Proc("1/ns/net"));
    for (Container& c : containers_) Enrich(&c);
    Write(w);
    return Status::Ok();
  }

 private:
  void Walk(const std::string& base, const std::string& rel, int depth,
            const std::function<void(const std::string&)>& visit) {
    if (containers_.size() >= kMaxCgroups) return;
    visit(rel);
    if (depth >= kMaxDepth) return;
    std::vector<std::string> names;
    if (!ListSubdirs(base + (rel == "/" ? "" : rel), &names).ok()) return;
    for (const std::string& n : names)
      Walk(base, (rel == "/" ? "" : rel) + "/" + n, depth + 1, visit);
  }

  bool Read(const std::string& path) { return ReadFile(path, &buf_, 1 << 20).ok(); }
  bool ReadKeyed(const std::string& path, KeyedMap* m) {
    return Read(path) && cgroup::ParseFlatKeyed(buf_, m).ok();
  }
  Opt ReadNum(const std::string& path, double scale = 1) {
    uint64_t v;
    if (!Read(path) || !cgroup::ParseLimit(buf_, &v).ok()) return std::nullopt;
    return static_cast<double>(v) * scale;
  }
  static Opt Limit(Opt v) {
    // "max" and v1's page-rounded LONG_MAX both mean unlimited, exported as 0.
    if (v && *v >= 9.0e18) return 0.0;
    return v;
  }
  void ReadPressure(const std::string& path, Pressure* p) {
    procfs::Pressure ps;
    if (!Read(path) || !procfs::ParsePressure(buf_, &ps).ok()) return;
    p->some_us = ps.some_total_us;
    if (ps.has_full) p->full_us = ps.full_total_us;
  }
  void ReadProcs(const std::string& dir, Container* c) {
    uint64_t count, first;
    if (Read(dir + "/cgroup.procs") && cgroup::CountPids(buf_, &count, &first).ok()) {
      c->processes = static_cast<double>(count);
      c->first_pid = first;
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) c->start_time = static_cast<double>(st.st_ctim.tv_sec);
  }

  void ReadV2(const std::string& rel) {
    Container c;
    c.path = rel;
    std::string dir = root_ + (rel == "/" ? "" : rel);
    KeyedMap m;
    if (ReadKeyed(dir + "/cpu.stat", &m)) {
      c.cpu_usage = Get(m, "usage_usec", 1e-6);
      c.cpu_user = Get(m, "user_usec", 1e-6);
      c.cpu_system = Get(m, "system_usec", 1e-6);
      c.periods = Get(m, "nr_periods");
      c.throttled_periods = Get(m, "nr_throttled");
      c.throttled_seconds = Get(m, "throttled_usec", 1e-6);
    }
    c.mem_usage = ReadNum(dir + "/memory.current");
    if (ReadKeyed(dir + "/memory.stat", &m)) {
      c.rss = Get(m, "anon");
      c.cache = Get(m, "file");
      Opt inactive = Get(m, "inactive_file");
      if (c.mem_usage && inactive)
        c.working_set = *c.mem_usage > *inactive ? *c.mem_usage - *inactive : 0;
    }
    if (rel == "/" && !c.mem_usage) RootMemoryFromMeminfo(&c);
    c.swap = ReadNum(dir + "/memory.swap.current");
    if (ReadKeyed(dir + "/memory.events", &m)) {
      c.failcnt = Get(m, "max");
      c.oom_events = Get(m, "oom_kill");
    }
    if (rel != "/") c.mem_limit = Limit(ReadNum(dir + "/memory.max"));
    int64_t quota;
    uint64_t period;
    if (Read(dir + "/cpu.max") && cgroup::ParseCpuMax(buf_, &quota, &period).ok()) {
      if (quota > 0) c.cpu_quota = static_cast<double>(quota);
      c.cpu_period = static_cast<double>(period);
    }
    if (Opt weight = ReadNum(dir + "/cpu.weight")) {
      // cgroup v2 weight [1, 10000] back to v1 shares [2, 262144], as cAdvisor and runc convert.
      c.cpu_shares = 2 + ((*weight - 1) * 262142) / 9999;
    }
    if (Read(dir + "/io.stat")) cgroup::ParseIoStat(buf_, &c.io).IgnoreError();
    ReadPressure(dir + "/cpu.pressure", &c.cpu_pressure);
    ReadPressure(dir + "/memory.pressure", &c.mem_pressure);
    ReadPressure(dir + "/io.pressure", &c.io_pressure);
    ReadProcs(dir, &c);
    containers_.push_back(std::move(c));
  }

  // The v1 controllers' mount directories, found once per scrape; "" when not mounted.
  struct V1Roots {
    std::string cpuacct, cpu, memory, blkio;
  };
  V1Roots FindV1Roots() {
    auto first = [&](std::initializer_list<const char*> names) -> std::string {
      for (const char* n : names) {
        if (IsDirectory(root_ + "/" + n)) return root_ + "/" + n;
      }
      return "";
    };
    return {first({"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}),
            first({"cpu", "cpu,cpuacct", "cpuacct,cpu"}), first({"memory"}), first({"blkio"})};
  }
  static std::string Under(const std::string& root, const std::string& rel) {
    return root.empty() ? root : root + (rel == "/" ? "" : rel);
  }

  // A controller directory missing for this cgroup simply makes its reads fail.
  void ReadV1(const V1Roots& roots, const std::string& rel) {
    Container c;
    c.path = rel;
    std::string cpuacct = Under(roots.cpuacct, rel);
    std::string cpu = Under(roots.cpu, rel);
    std::string mem = Under(roots.memory, rel);
    std::string blkio = Under(roots.blkio, rel);
    KeyedMap m;
    if (!cpuacct.empty()) {
      c.cpu_usage = ReadNum(cpuacct + "/cpuacct.usage", 1e-9);
      if (ReadKeyed(cpuacct + "/cpuacct.stat", &m)) {
        c.cpu_user = Get(m, "user", 1 / procfs::kUserHz);
        c.cpu_system = Get(m, "system", 1 / procfs::kUserHz);
      }
    }
    if (!cpu.empty()) {
      if (ReadKeyed(cpu + "/cpu.stat", &m)) {
        c.periods = Get(m, "nr_periods");
        c.throttled_periods = Get(m, "nr_throttled");
        c.throttled_seconds = Get(m, "throttled_time", 1e-9);
      }
      int64_t quota;
      if (Read(cpu + "/cpu.cfs_quota_us") && ParseInt64(TrimSpace(buf_), &quota) && quota > 0) {
        c.cpu_quota = static_cast<double>(quota);
      }
      c.cpu_period = ReadNum(cpu + "/cpu.cfs_period_us");
      c.cpu_shares = ReadNum(cpu + "/cpu.shares");
    }
    if (!mem.empty()) {
      c.mem_usage = ReadNum(mem + "/memory.usage_in_bytes");
      if (ReadKeyed(mem + "/memory.stat", &m)) {
        c.rss = Get(m, "total_rss");
        c.cache = Get(m, "total_cache");
        c.swap = Get(m, "total_swap");
        Opt inactive = Get(m, "total_inactive_file");
        if (c.mem_usage && inactive)
          c.working_set = *c.mem_usage > *inactive ? *c.mem_usage - *inactive : 0;
      }
      c.failcnt = ReadNum(mem + "/memory.failcnt");
      if (ReadKeyed(mem + "/memory.oom_control", &m)) c.oom_events = Get(m, "oom_kill");
      if (rel != "/") c.mem_limit = Limit(ReadNum(mem + "/memory.limit_in_bytes"));
    }
    if (!blkio.empty() && Read(blkio + "/blkio.throttle.io_service_bytes_recursive")) {
      cgroup::ParseBlkioServiceBytes(buf_, &c.io).IgnoreError();
    }
    // Hybrid hosts mount a v2 hierarchy at unified/ that carries pressure files.
    std::string unified = root_ + "/unified" + (rel == "/" ? "" : rel);
    ReadPressure(unified + "/cpu.pressure", &c.cpu_pressure);
    ReadPressure(unified + "/memory.pressure", &c.mem_pressure);
    ReadPressure(unified + "/io.pressure", &c.io_pressure);
    std::string procs_dir = !mem.empty() ? mem : !cpu.empty() ? cpu : cpuacct;
    if (!procs_dir.empty()) ReadProcs(procs_dir, &c);
    containers_.push_back(std::move(c));
  }

  void RootMemoryFromMeminfo(Container* c) {
    std::vector<procfs::MeminfoField> f;
    if (!Read(paths_.Proc("meminfo")) || !procfs::ParseMeminfo(buf_, &f).ok()) return;
    double total = 0, free = 0, inactive = 0;
    for (const auto& x : f) {
      if (x.name == "MemTotal")
        total = x.value;
      else if (x.name == "MemFree")
        free = x.value;
      else if (x.name == "Inactive(file)")
        inactive = x.value;
    }
    c->mem_usage = total - free;
    c->working_set = std::max(0.0, total - free - inactive);
  }

  static std::string ReadLink(const std::string& path) {
    char buf[256];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  void Enrich(Container* c) {
    c->ident = cgroup::Classify(c->path);
    c->name = c->ident.name;
    if (c->ident.kind == Identity::Kind::kDocker || c->ident.kind == Identity::Kind::kPodman ||
        c->ident.kind == Identity::Kind::kCri) {
      if (const cgroup::DockerContainer* d = docker_.Lookup(c->ident.id)) {
        c->name = d->name;
        c->image = d->image;
        for (const auto& [k, v] : d->labels) {
          if (k == "io.kubernetes.pod.name")
            c->pod = v;
          else if (k == "io.kubernetes.pod.namespace")
            c->namespace_ = v;
          else if (k == "io.kubernetes.container.name")
            c->container = v;
          if (Matches(label_allow_.get(), k))
            c->docker_labels.emplace_back("container_label_" + expfmt::SanitizeName(k), v);
        }
      }
    }
    // Network: the root cgroup sees the host's interfaces; a container its own namespace's.
    std::string dev_path;
    if (c->path == "/") {
      dev_path = paths_.Proc("net/dev");
    } else if (c->first_pid != 0) {
      std::string pid = std::to_string(c->first_pid);
      std::string ns = ReadLink(paths_.Proc(pid + "/ns/net"));
      if (!ns.empty() && ns != host_netns_) dev_path = paths_.Proc(pid + "/net/dev");
    }
    if (!dev_path.empty() && Read(dev_path) && procfs::ParseNetDev(buf_, &c->net).ok()) {
      std::erase_if(c->net, [](const procfs::NetDevStat& d) { return d.device == "lo"; });
    }
  }

  void Labels(const Container& c, std::vector<expfmt::Label>* l) {
    l->clear();
    for (const auto& [k, v] : c.docker_labels) l->push_back({k, v});
    if (!c.container.empty()) l->push_back({"container", c.container});
    l->push_back({"id", c.path});
    l->push_back({"image", c.image});
    l->push_back({"name", c.name});
    if (!c.namespace_.empty()) l->push_back({"namespace", c.namespace_});
    if (!c.pod.empty()) l->push_back({"pod", c.pod});
  }

  void Write(expfmt::Writer* w) {
    double now =
        now_ ? now_()
             : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                   .count();
    std::vector<expfmt::Label> labels;
    auto family = [&](const char* name, const char* help, MetricType type,
                      const std::function<Opt(const Container&)>& get,
                      const char* extra_name = nullptr, const char* extra_value = nullptr) {
      bool any = false;
      for (const Container& c : containers_) {
        Opt v = get(c);
        if (!v) continue;
        if (!any) w->Family(name, help, type);
        any = true;
        Labels(c, &labels);
        if (extra_name) labels.push_back({extra_name, extra_value});
        w->Sample(name, labels, *v);
      }
    };
    using MT = MetricType;
    family("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.",
           MT::kCounter, [](const Container& c) { return c.cpu_quota ? c.periods : std::nullopt; });
    family("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.",
           MT::kCounter,
           [](const Container& c) { return c.cpu_quota ? c.throttled_periods : std::nullopt; });
    family("container_cpu_cfs_throttled_seconds_total",
           "Total time duration the container has been throttled.", MT::kCounter,
           [](const Container& c) { return c.cpu_quota ? c.throttled_seconds : std::nullopt; });
    family("container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.",
           MT::kCounter, [](const Container& c) { return c.cpu_system; });
    family(
        "container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.",
        MT::kCounter, [](const Container& c) { return c.cpu_usage; }, "cpu", "total");
    family("container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.",
           MT::kCounter, [](const Container& c) { return c.cpu_user; });
    // Per-device filesystem I/O.
    for (int write = 0; write < 2; ++write) {
      const char* name =
          write ? "container_fs_writes_bytes_total" : "container_fs_reads_bytes_total";
      bool any = false;
      for (const Container& c : containers_) {
        for (const auto& d : c.io) {
          if (!any)
            w->Family(
                name,
                write ? "Cumulative count of bytes written" : "Cumulative count of bytes read",
                MT::kCounter);
          any = true;
          Labels(c, &labels);
          std::string dev = DeviceName(d.major, d.minor);
          labels.push_back({"device", dev});
          w->Sample(name, labels, static_cast<double>(write ? d.write_bytes : d.read_bytes));
        }
      }
    }
    family("container_last_seen", "Last time a container was seen by the exporter", MT::kGauge,
           [now](const Container&) { return Opt(now); });
    family("container_memory_cache", "Number of bytes of page cache memory.", MT::kGauge,
           [](const Container& c) { return c.cache; });
    family("container_memory_failcnt", "Number of memory usage hits limits", MT::kGauge,
           [](const Container& c) { return c.failcnt; });
    family("container_memory_rss", "Size of RSS in bytes.", MT::kGauge,
           [](const Container& c) { return c.rss; });
    family("container_memory_swap", "Container swap usage in bytes.", MT::kGauge,
           [](const Container& c) { return c.swap; });
    family("container_memory_usage_bytes",
           "Current memory usage in bytes, including all memory regardless of when it was accessed",
           MT::kGauge, [](const Container& c) { return c.mem_usage; });
    family("container_memory_working_set_bytes", "Current working set in bytes.", MT::kGauge,
           [](const Container& c) { return c.working_set; });
    static constexpr const char* kNet[8][2] = {
        {"container_network_receive_bytes_total", "Cumulative count of bytes received"},
        {"container_network_receive_errors_total",
         "Cumulative count of errors encountered while receiving"},
        {"container_network_receive_packets_dropped_total",
         "Cumulative count of packets dropped while receiving"},
        {"container_network_receive_packets_total", "Cumulative count of packets received"},
        {"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted"},
        {"container_network_transmit_errors_total",
         "Cumulative count of errors encountered while transmitting"},
        {"container_network_transmit_packets_dropped_total",
         "Cumulative count of packets dropped while transmitting"},
        {"container_network_transmit_packets_total", "Cumulative count of packets transmitted"}};
    static constexpr int kNetField[8] = {0, 2, 3, 1, 8, 10, 11, 9};
    for (int k = 0; k < 8; ++k) {
      bool any = false;
      for (const Container& c : containers_) {
        for (const auto& d : c.net) {
          if (!any) w->Family(kNet[k][0], kNet[k][1], MT::kCounter);
          any = true;
          Labels(c, &labels);
          labels.push_back({"interface", d.device});
          w->Sample(kNet[k][0], labels,
                    static_cast<double>(d.v[static_cast<size_t>(kNetField[k])]));
        }
      }
    }
    family("container_oom_events_total", "Count of out of memory events observed for the container",
           MT::kCounter, [](const Container& c) { return c.oom_events; });
    family(
        "container_pressure_cpu_stalled_seconds_total",
        "Total time duration no tasks in the container could make progress due to CPU congestion.",
        MT::kCounter, [](const Container& c) { return Us(c.cpu_pressure.full_us); });
    family("container_pressure_cpu_waiting_seconds_total",
           "Total time duration tasks in the container have waited due to CPU congestion.",
           MT::kCounter, [](const Container& c) { return Us(c.cpu_pressure.some_us); });
    family(
        "container_pressure_io_stalled_seconds_total",
        "Total time duration no tasks in the container could make progress due to IO congestion.",
        MT::kCounter, [](const Container& c) { return Us(c.io_pressure.full_us); });
    family("container_pressure_io_waiting_seconds_total",
           "Total time duration tasks in the container have waited due to IO congestion.",
           MT::kCounter, [](const Container& c) { return Us(c.io_pressure.some_us); });
    family("container_pressure_memory_stalled_seconds_total",
           "Total time duration no tasks in the container could make progress due to memory "
           "congestion.",
           MT::kCounter, [](const Container& c) { return Us(c.mem_pressure.full_us); });
    family("container_pressure_memory_waiting_seconds_total",
           "Total time duration tasks in the container have waited due to memory congestion.",
           MT::kCounter, [](const Container& c) { return Us(c.mem_pressure.some_us); });
    family("container_processes", "Number of processes running inside the container.", MT::kGauge,
           [](const Container& c) { return c.processes; });
    family("container_spec_cpu_period", "CPU period of the container.", MT::kGauge,
           [](const Container& c) { return c.cpu_period; });
    family("container_spec_cpu_quota", "CPU quota of the container.", MT::kGauge,
           [](const Container& c) { return c.cpu_quota; });
    family("container_spec_cpu_shares", "CPU share of the container.", MT::kGauge,
           [](const Container& c) { return c.cpu_shares; });
    family("container_spec_memory_limit_bytes",
           "Memory limit for the container (0 when unlimited).", MT::kGauge,
           [](const Container& c) { return c.mem_limit; });
    family("container_start_time_seconds",
           "Start time of the container since unix epoch in seconds.", MT::kGauge,
           [](const Container& c) { return c.start_time > 0 ? Opt(c.start_time) : std::nullopt; });
  }

  static Opt Us(Opt us) { return us ? Opt(*us / 1e6) : std::nullopt; }

  std::string DeviceName(uint32_t major, uint32_t minor) {
    std::string key = std::to_string(major) + ":" + std::to_string(minor);
    auto it = device_names_.find(key);
    if (it != device_names_.end()) return it->second;
    std::string name = key;
    if (Read(paths_.Sys("dev/block/" + key + "/uevent"))) {
      std::string_view rest = buf_, line;
      while (NextLine(&rest, &line)) {
        if (StartsWith(line, "DEVNAME=")) name = "/dev/" + std::string(line.substr(8));
      }
    }
    device_names_[key] = name;
    return name;
  }

  Paths paths_;
  std::string root_;
  cgroup::DockerClient docker_;
  std::unique_ptr<RE2> label_allow_;
  std::function<double()> now_;
  bool v2_ = false;
  std::string host_netns_;
  std::string buf_;
  std::vector<Container> containers_;
  std::map<std::string, std::string> device_names_;
};

}  // namespace

std::unique_ptr<Collector> NewContainerCollector(const CollectorOptions& o) {
  return std::make_unique<ContainerCollector>(o);
}

}  // namespace tocsin::exporter
