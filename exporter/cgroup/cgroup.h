#pragma once
// Pure parsers of cgroup v1 and v2 files, and the mapping from a cgroup path to the container or
// service it holds. Thread-safety: all functions are pure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin::cgroup {

// "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat). Values are integers;
// keys are views into text, in file order.
using KeyedValues = std::vector<std::pair<std::string_view, uint64_t>>;
Status ParseFlatKeyed(std::string_view text, KeyedValues* out);
// The value of key, or nullopt.
std::optional<uint64_t> Lookup(const KeyedValues& values, std::string_view key);

// One device's I/O bytes.
struct DeviceIo {
  uint32_t major = 0, minor = 0;
  uint64_t read_bytes = 0, write_bytes = 0;
};
// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 ...".
Status ParseIoStat(std::string_view text, std::vector<DeviceIo>* out);
// v1 blkio.throttle.io_service_bytes(_recursive): "8:0 Read 123" lines and a "Total" line.
Status ParseBlkioServiceBytes(std::string_view text, std::vector<DeviceIo>* out);

// v2 cpu.max: "max 100000" or "50000 100000". quota_us < 0 means no quota.
Status ParseCpuMax(std::string_view text, int64_t* quota_us, uint64_t* period_us);
// A single number, or "max" (returned as UINT64_MAX).
Status ParseLimit(std::string_view text, uint64_t* v);
// Counts non-empty lines (cgroup.procs); returns the first pid in *first_pid (0 when none).
Status CountPids(std::string_view text, uint64_t* count, uint64_t* first_pid);

// What a cgroup path holds, as cAdvisor names it.
struct Identity {
  enum class Kind { kRoot, kDocker, kPodman, kCri, kKubePod, kSystemdService, kOther };
  Kind kind = Kind::kOther;
  std::string id;       // container id (64 hex) for containers; empty otherwise
  std::string name;     // the container or unit name shown in the `name` label
  std::string pod_uid;  // for Kubernetes cgroups
};
Identity Classify(std::string_view cgroup_path);

}  // namespace tocsin::cgroup
