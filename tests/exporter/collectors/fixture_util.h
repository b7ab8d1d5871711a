#pragma once
// Shared set-up for collector tests: an Exporter over the fixture trees with the clock, uname and
// adjtimex pinned, so the output is the same on every machine.

#include <cstring>
#include <string>

#include "common/base/strings.h"
#include "exporter/exporter.h"

namespace tocsin::exporter::testing {

inline ExporterOptions FixtureOptions(const std::string& proc = std::string(TOCSIN_FIXTURES) +
                                                                "/proc") {
  ExporterOptions o;
  CollectorOptions& c = o.collectors;
  c.paths.procfs = proc;
  c.paths.sysfs = std::string(TOCSIN_FIXTURES) + "/sys";
  c.paths.rootfs = std::string(TOCSIN_FIXTURES) + "/rootfs";
  c.paths.udev_data = std::string(TOCSIN_FIXTURES) + "/udev";
  c.cgroupfs = std::string(TOCSIN_FIXTURES) + "/cgroup/v2";
  c.textfile_directory = std::string(TOCSIN_FIXTURES) + "/textfile";
  c.docker_socket = "/nonexistent/docker.sock";
  c.now_func = [] { return 1700000000.5; };
  c.uname_func = [](struct utsname* u) {
    std::memset(u, 0, sizeof *u);
    std::strcpy(u->sysname, "Linux");
    std::strcpy(u->nodename, "fixture-host");
    std::strcpy(u->release, "6.1.0-test");
    std::strcpy(u->version, "#1 SMP");
    std::strcpy(u->machine, "x86_64");
    std::strcpy(u->domainname, "(none)");
    return 0;
  };
  c.adjtimex_func = [](struct timex* t) {
    std::memset(t, 0, sizeof *t);
    t->offset = 1500;      // microseconds (no STA_NANO)
    t->freq = 65536 * 10;  // +10 ppm
    t->maxerror = 16000;
    t->esterror = 500;
    t->status = 0x0001;  // STA_PLL, offsets in microseconds
    t->constant = 7;
    t->tick = 10000;
    return TIME_OK;
  };
  c.statfs = [](const std::string& path, FsStats* out) -> Status {
    if (path.find("nfs") != std::string::npos)
      return Status::IoError("statfs " + path + ": Stale file handle");
    out->size_bytes = 100e9;
    out->free_bytes = 40e9;
    out->avail_bytes = 35e9;
    out->files = 6.5e6;
    out->files_free = 6e6;
    return Status::Ok();
  };
  return o;
}

// Lines that differ between runs by nature (durations, file times) are dropped.
inline std::string StableLines(const std::string& text) {
  std::string out;
  std::string_view rest = text, line;
  while (NextLine(&rest, &line)) {
    if (StartsWith(line, "node_scrape_collector_duration_seconds{") ||
        StartsWith(line, "node_textfile_mtime_seconds{") ||
        StartsWith(line, "container_start_time_seconds{"))
      continue;
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

// The value of the first sample whose "name{labels}" text starts with prefix, or NaN.
double ValueOf(const std::string& text, std::string_view prefix);

}  // namespace tocsin::exporter::testing
