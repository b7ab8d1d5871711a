// diskstats collector: /proc/diskstats, with node_disk_info enriched from udev's database.
#include "common/base/strings.h"
#include "exporter/collectors/collectors_internal.h"

namespace tocsin::exporter {

namespace {

constexpr double kSectorBytes = 512;  // the kernel counts 512-byte sectors whatever the device
constexpr double kMs = 0.001;

class DiskstatsCollector : public Collector {
 public:
  DiskstatsCollector(const Paths& p, const std::string& exclude)
      : path_(p.Proc("diskstats")), udev_(p.udev_data), exclude_(CompilePattern(exclude)) {}

  Status Collect(expfmt::Writer* w) override {
    TOCSIN_RETURN_IF_ERROR(ReadAndParse(path_, &buf_, &disks_, procfs::ParseDiskstats));
    std::erase_if(disks_,
                  [&](const procfs::DiskStat& d) { return Matches(exclude_.get(), d.device); });
    struct F {
      const char* name;
      const char* help;
      int field;
      double scale;
      bool counter;
      int min_fields;
    };
    static constexpr F kFamilies[] = {
        {"node_disk_discard_time_seconds_total", "Total seconds spent by all discards.", 14, kMs,
         true, 15},
        {"node_disk_discarded_sectors_total", "Total number of sectors discarded successfully.", 13,
         1, true, 15},
        {"node_disk_discards_completed_total", "Total number of discards completed successfully.",
         11, 1, true, 15},
        {"node_disk_discards_merged_total", "Total number of discards merged.", 12, 1, true, 15},
        {"node_disk_flush_requests_time_seconds_total",
         "Total seconds spent by all flush requests.", 16, kMs, true, 17},
        {"node_disk_flush_requests_total", "Total number of flush requests completed successfully.",
         15, 1, true, 17},
        {nullptr, nullptr, 0, 0, false, 0},  // node_disk_info goes here
        {"node_disk_io_now", "Number of I/Os currently in progress.", 8, 1, false, 11},
        {"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", 9, kMs, true, 11},
        {"node_disk_io_time_weighted_seconds_total", "Weighted number of seconds spent doing I/Os.",
         10, kMs, true, 11},
        {"node_disk_read_bytes_total", "Total number of bytes read successfully.", 2, kSectorBytes,
         true, 11},
        {"node_disk_read_time_seconds_total", "Total seconds spent by all reads.", 3, kMs, true,
         11},
        {"node_disk_reads_completed_total", "Total number of reads completed successfully.", 0, 1,
         true, 11},
        {"node_disk_reads_merged_total", "Total number of reads merged.", 1, 1, true, 11},
        {"node_disk_write_time_seconds_total", "Total seconds spent by all writes.", 7, kMs, true,
         11},
        {"node_disk_writes_completed_total", "Total number of writes completed successfully.", 4, 1,
         true, 11},
        {"node_disk_writes_merged_total", "Total number of writes merged.", 5, 1, true, 11},
        {"node_disk_written_bytes_total", "Total number of bytes written successfully.", 6,
         kSectorBytes, true, 11},
    };
    for (const F& f : kFamilies) {
      if (f.name == nullptr) {
        WriteInfo(w);
        continue;
      }
      bool any = false;
      for (const auto& d : disks_) {
        if (d.field_count < f.min_fields) continue;
        if (!any) {
          w->Family(f.name, f.help, f.counter ? MetricType::kCounter : MetricType::kGauge);
          any = true;
        }
        w->Sample(f.name, {{"device", d.device}},
                  static_cast<double>(d.v[static_cast<size_t>(f.field)]) * f.scale);
      }
    }
    return Status::Ok();
  }

 private:
  void WriteInfo(expfmt::Writer* w) {
    w->Family("node_disk_info", "Info of /sys/block/<block_device>.", MetricType::kGauge);
    std::string udev;
    for (const auto& d : disks_) {
      std::string major = std::to_string(d.major), minor = std::to_string(d.minor);
      std::string path, wwn, model, serial, revision;
      // udev's database: lines "E:KEY=value" in b<major>:<minor>. Missing is normal (containers).
      if (ReadFile(udev_ + "/b" + major + ":" + minor, &udev, 1 << 20).ok()) {
        std::string_view rest = udev, line;
        while (NextLine(&rest, &line)) {
          if (!StartsWith(line, "E:")) continue;
          line.remove_prefix(2);
          size_t eq = line.find('=');
          if (eq == std::string_view::npos) continue;
          std::string_view k = line.substr(0, eq), v = line.substr(eq + 1);
          if (k == "ID_PATH")
            path = v;
          else if (k == "ID_WWN")
            wwn = v;
          else if (k == "ID_MODEL")
            model = v;
          else if (k == "ID_SERIAL_SHORT")
            serial = v;
          else if (k == "ID_REVISION")
            revision = v;
        }
      }
      w->Sample("node_disk_info",
                {{"device", d.device},
                 {"major", major},
                 {"minor", minor},
                 {"model", model},
                 {"path", path},
                 {"revision", revision},
                 {"serial", serial},
                 {"wwn", wwn}},
                1);
    }
  }

  std::string path_, udev_, buf_;
  std::unique_ptr<RE2> exclude_;
  std::vector<procfs::DiskStat> disks_;
};

}  // namespace

std::unique_ptr<Collector> NewDiskstatsCollector(const CollectorOptions& o) {
  return std::make_unique<DiskstatsCollector>(o.paths, o.diskstats_device_exclude);
}

}  // namespace tocsin::exporter
