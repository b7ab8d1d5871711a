#pragma once
// The collector seam of tocsin-exporter: each collector reads its files (under the roots given by
// --path.procfs/--path.sysfs/--path.rootfs) and appends whole metric families to a Writer.
// Thread-safety: the Registry calls Collect() of one collector from one scrape at a time.

#include <memory>
#include <string>
#include <string_view>

#include "common/base/file.h"
#include "common/base/status.h"
#include "common/expfmt/writer.h"

namespace tocsin::exporter {

struct Paths {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
  std::string udev_data = "/run/udev/data";

  std::string Proc(std::string_view rel) const { return JoinPath(procfs, rel); }
  std::string Sys(std::string_view rel) const { return JoinPath(sysfs, rel); }
  std::string Root(std::string_view rel) const { return JoinPath(rootfs, rel); }
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Appends this collector's families to *w. On a non-OK status the registry discards whatever
  // this call appended and reports node_scrape_collector_success 0. A NotFound status means the
  // source does not exist on this machine (logged at debug level only).
  virtual Status Collect(expfmt::Writer* w) = 0;
};

using expfmt::MetricType;

}  // namespace tocsin::exporter
