// Collectors of system identity and clocks: uname, os, selinux, time, timex.
#include <chrono>
#include <cmath>
#include <ctime>

#include "common/base/strings.h"
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

namespace {

class UnameCollector : public Collector {
 public:
  explicit UnameCollector(std::function<int(struct utsname*)> fn) : fn_(std::move(fn)) {}
  Status Collect(expfmt::Writer* w) override {
    struct utsname u;
    if (fn_(&u) != 0) return Status::FromErrno("uname", errno);
    w->Family("node_uname_info", "Labeled system information as provided by the uname system call.",
              MetricType::kGauge);
    w->Sample("node_uname_info",
              {{"domainname", u.domainname},
               {"machine", u.machine},
               {"nodename", u.nodename},
               {"release", u.release},
               {"sysname", u.sysname},
               {"version", u.version}},
              1);
    return Status::Ok();
  }

 private:
  std::function<int(struct utsname*)> fn_;
};

class OsCollector : public Collector {
 public:
  explicit OsCollector(const Paths& p)
      : etc_(p.Root("etc/os-release")), usr_(p.Root("usr/lib/os-release")) {}
  Status Collect(expfmt::Writer* w) override {
    Status st = ReadFile(etc_, &buf_);
    if (!st.ok()) st = ReadFile(usr_, &buf_);
    TOCSIN_RETURN_IF_ERROR(st);
    std::vector<std::pair<std::string, std::string>> kv;
    TOCSIN_RETURN_IF_ERROR(procfs::ParseOsRelease(buf_, &kv).WithContext("os-release"));
    auto get = [&](std::string_view k) -> std::string_view {
      for (const auto& [key, v] : kv) {
        if (key == k) return v;
      }
      return {};
    };
    w->Family("node_os_info",
              "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
              "image_version, name, pretty_name, variant, variant_id, version, version_codename, "
              "version_id.",
              MetricType::kGauge);
    w->Sample("node_os_info",
              {{"build_id", get("BUILD_ID")},
               {"id", get("ID")},
               {"id_like", get("ID_LIKE")},
               {"image_id", get("IMAGE_ID")},
               {"image_version", get("IMAGE_VERSION")},
               {"name", get("NAME")},
               {"pretty_name", get("PRETTY_NAME")},
               {"variant", get("VARIANT")},
               {"variant_id", get("VARIANT_ID")},
               {"version", get("VERSION")},
               {"version_codename", get("VERSION_CODENAME")},
               {"version_id", get("VERSION_ID")}},
              1);
    // node_exporter reports VERSION_ID as a number: "22.04" -> 22.04, "12" -> 12.
    double version = 0;
    std::string_view vid = get("VERSION_ID");
    std::string_view numeric = vid.substr(0, vid.find_first_not_of("0123456789."));
    if (numeric.find('.') != numeric.rfind('.'))
      numeric = numeric.substr(0, numeric.find('.', numeric.find('.') + 1));
    if (ParseDouble(numeric, &version)) {
      w->Family("node_os_version", "Metric containing the major.minor part of the OS version.",
                MetricType::kGauge);
      w->Sample("node_os_version",
                {{"id", get("ID")}, {"id_like", get("ID_LIKE")}, {"name", get("NAME")}}, version);
    }
    return Status::Ok();
  }

 private:
  std::string etc_, usr_, buf_;
};

class SelinuxCollector : public Collector {
 public:
  SelinuxCollector(const Paths& p)
      : enforce_(p.Sys("fs/selinux/enforce")), config_(p.Root("etc/selinux/config")) {}
  Status Collect(expfmt::Writer* w) override {
    int64_t current;
    if (!ReadInt64File(enforce_, &current).ok()) {
      w->Single("node_selinux_enabled", "SELinux is enabled, 1 is true, 0 is false",
                MetricType::kGauge, 0);
      return Status::Ok();
    }
    std::string cfg;
    double config_mode = -1;
    if (ReadFile(config_, &cfg).ok()) {
      std::string_view rest = cfg, line;
      while (NextLine(&rest, &line)) {
        line = TrimSpace(line);
        if (!StartsWith(line, "SELINUX=")) continue;
        std::string_view m = line.substr(8);
        config_mode = m == "enforcing" ? 1 : m == "permissive" ? 0 : -1;
      }
    }
    w->Single("node_selinux_config_mode", "Configured SELinux enforcement mode", MetricType::kGauge,
              config_mode);
    w->Single("node_selinux_current_mode", "Current SELinux enforcement mode", MetricType::kGauge,
              static_cast<double>(current));
    w->Single("node_selinux_enabled", "SELinux is enabled, 1 is true, 0 is false",
              MetricType::kGauge, 1);
    return Status::Ok();
  }

 private:
  std::string enforce_, config_;
};

class TimeCollector : public Collector {
 public:
  TimeCollector(const Paths& p, std::function<double()> now)
      : dir_(p.Sys("devices/system/clocksource")), now_(std::move(now)) {}
  Status Collect(expfmt::Writer* w) override {
    double now =
        now_ ? now_()
             : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                   .count();
    w->Single("node_time_seconds", "System time in seconds since epoch (1970).", MetricType::kGauge,
              now);
    std::time_t t = static_cast<std::time_t>(now);
    std::tm tm;
    localtime_r(&t, &tm);
    w->Family("node_time_zone_offset_seconds", "System time zone offset in seconds.",
              MetricType::kGauge);
    w->Sample("node_time_zone_offset_seconds", {{"time_zone", tm.tm_zone ? tm.tm_zone : "UTC"}},
              static_cast<double>(tm.tm_gmtoff));
    std::vector<std::string> sources;
    if (!ListDir(dir_, &sources).ok()) return Status::Ok();
    std::vector<std::pair<std::string, std::string>> available, current;  // (device, name)
    for (const std::string& s : sources) {
      if (!StartsWith(s, "clocksource")) continue;
      std::string dev = s.substr(11), v;
      if (ReadTrimmedFile(dir_ + "/" + s + "/available_clocksource", &v).ok()) {
        std::vector<std::string_view> names;
        SplitFields(v, &names);
        for (auto n : names) available.emplace_back(dev, std::string(n));
      }
      if (ReadTrimmedFile(dir_ + "/" + s + "/current_clocksource", &v).ok())
        current.emplace_back(dev, v);
    }
    if (!available.empty()) {
      w->Family("node_time_clocksource_available_info",
                "Available clocksources read from '/sys/devices/system/clocksource'.",
                MetricType::kGauge);
      for (const auto& [d, n] : available)
        w->Sample("node_time_clocksource_available_info", {{"clocksource", n}, {"device", d}}, 1);
    }
    if (!current.empty()) {
      w->Family("node_time_clocksource_current_info",
                "Current clocksource read from '/sys/devices/system/clocksource'.",
                MetricType::kGauge);
      for (const auto& [d, n] : current)
        w->Sample("node_time_clocksource_current_info", {{"clocksource", n}, {"device", d}}, 1);
    }
    return Status::Ok();
  }

 private:
  std::string dir_;
  std::function<double()> now_;
};

class TimexCollector : public Collector {
 public:
  explicit TimexCollector(std::function<int(struct timex*)> fn) : fn_(std::move(fn)) {}
  Status Collect(expfmt::Writer* w) override {
    struct timex tx = {};
    int state = fn_(&tx);
    if (state < 0) return Status::FromErrno("adjtimex", errno);
    // Offsets are in nanoseconds with STA_NANO, else microseconds.
    double div = (tx.status & STA_NANO) ? 1e9 : 1e6;
    constexpr double kPpm16 = 65536.0 * 1e6;  // frequencies are ppm with a 16-bit fraction
    auto g = [&](const char* name, const char* help, double v) {
      w->Single(name, help, MetricType::kGauge, v);
    };
    auto c = [&](const char* name, const char* help, double v) {
      w->Single(name, help, MetricType::kCounter, v);
    };
    g("node_timex_estimated_error_seconds", "Estimated error in seconds.",
      static_cast<double>(tx.esterror) / 1e6);
    g("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.",
      1 + static_cast<double>(tx.freq) / kPpm16);
    g("node_timex_loop_time_constant", "Phase-locked loop time constant.",
      static_cast<double>(tx.constant));
    g("node_timex_maxerror_seconds", "Maximum error in seconds.",
      static_cast<double>(tx.maxerror) / 1e6);
    g("node_timex_offset_seconds", "Time offset in between local system and reference clock.",
      static_cast<double>(tx.offset) / div);
    c("node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.",
      static_cast<double>(tx.calcnt));
    c("node_timex_pps_error_total", "Pulse per second count of calibration errors.",
      static_cast<double>(tx.errcnt));
    g("node_timex_pps_frequency_hertz", "Pulse per second frequency.",
      static_cast<double>(tx.ppsfreq) / kPpm16);
    g("node_timex_pps_jitter_seconds", "Pulse per second jitter.",
      static_cast<double>(tx.jitter) / div);
    c("node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.",
      static_cast<double>(tx.jitcnt));
    g("node_timex_pps_shift_seconds", "Pulse per second interval duration.",
      static_cast<double>(tx.shift));
    c("node_timex_pps_stability_exceeded_total",
      "Pulse per second count of stability limit exceeded events.", static_cast<double>(tx.stbcnt));
    g("node_timex_pps_stability_hertz",
      "Pulse per second stability, average of recent frequency changes.",
      static_cast<double>(tx.stabil) / kPpm16);
    g("node_timex_status", "Value of the status array bits.", static_cast<double>(tx.status));
    g("node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
      state == TIME_ERROR ? 0 : 1);
    g("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.",
      static_cast<double>(tx.tai));
    g("node_timex_tick_seconds", "Seconds between clock ticks.",
      static_cast<double>(tx.tick) / 1e6);
    return Status::Ok();
  }

 private:
  std::function<int(struct timex*)> fn_;
};

}  // namespace

std::unique_ptr<Collector> NewUnameCollector(const CollectorOptions& o) {
  return std::make_unique<UnameCollector>(o.uname_func);
}
std::unique_ptr<Collector> NewOsCollector(const CollectorOptions& o) {
  return std::make_unique<OsCollector>(o.paths);
}
std::unique_ptr<Collector> NewSelinuxCollector(const CollectorOptions& o) {
  return std::make_unique<SelinuxCollector>(o.paths);
}
std::unique_ptr<Collector> NewTimeCollector(const CollectorOptions& o) {
  return std::make_unique<TimeCollector>(o.paths, o.now_func);
}
std::unique_ptr<Collector> NewTimexCollector(const CollectorOptions& o) {
  return std::make_unique<TimexCollector>(o.adjtimex_func);
}

}  // namespace tocsin::exporter
