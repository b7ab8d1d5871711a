#pragma once
// Helpers shared by the collector files. Not part of the exporter's public surface.

#include <memory>
#include <string>

#include <re2/re2.h>

#include "common/base/file.h"
#include "exporter/collectors/collectors.h"
#include "exporter/procfs/procfs.h"

namespace tocsin::exporter {

// Reads path into *buf and parses it; errors name the file.
template <typename T>
Status ReadAndParse(const std::string& path, std::string* buf, T* out,
                    Status (*parse)(std::string_view, T*)) {
  TOCSIN_RETURN_IF_ERROR(ReadFile(path, buf));
  Status st = parse(*buf, out);
  if (!st.ok()) return st.WithContext(path);
  return Status::Ok();
}

// Compiles a user-given pattern; an empty pattern yields nullptr (matches nothing).
std::unique_ptr<RE2> CompilePattern(const std::string& pattern);
inline bool Matches(const RE2* re, std::string_view s) {
  return re != nullptr && RE2::PartialMatch(s, *re);
}

// A field-name filter (--collector.netstat.fields, --collector.vmstat.fields). The kernel prints
// the same names in the same order at every scrape, so the answer for the name seen at each
// position is remembered: one comparison per field once warm, no regex and no lookup.
// Thread-safety: not thread-safe; owned by one collector.
class FieldFilter {
 public:
  explicit FieldFilter(const std::string& pattern) : re_(CompilePattern(pattern)) {}
  bool Selected(size_t position, std::string_view name) {
    if (position >= seen_.size()) seen_.resize(position + 1);
    auto& [seen_name, selected] = seen_[position];
    if (seen_name != name) {
      seen_name.assign(name);
      selected = Matches(re_.get(), name);
    }
    return selected;
  }

 private:
  std::unique_ptr<RE2> re_;
  std::vector<std::pair<std::string, bool>> seen_;
};

std::unique_ptr<Collector> NewCpuCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewStatCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewMeminfoCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewLoadavgCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewVmstatCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewPressureCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewFilefdCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewEntropyCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewArpCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewSoftnetCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewConntrackCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewUdpQueuesCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewSockstatCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewNetstatCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewNetdevCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewNetclassCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewDiskstatsCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewFilesystemCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewUnameCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewOsCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewSelinuxCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewTimeCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewTimexCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewTextfileCollector(const CollectorOptions& o);
std::unique_ptr<Collector> NewContainerCollector(const CollectorOptions& o);

}  // namespace tocsin::exporter
