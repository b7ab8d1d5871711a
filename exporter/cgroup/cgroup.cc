#include "exporter/cgroup/cgroup.h"

#include <limits>

#include "common/base/strings.h"
#include "exporter/procfs/lines.h"

namespace tocsin::cgroup {

using procfs::ForEachLine;
using procfs::LineError;

namespace {

bool ParseMajorMinor(std::string_view s, uint32_t* major, uint32_t* minor) {
  size_t colon = s.find(':');
  uint64_t a, b;
  if (colon == std::string_view::npos || !ParseUint64(s.substr(0, colon), &a) ||
      !ParseUint64(s.substr(colon + 1), &b) || a > UINT32_MAX || b > UINT32_MAX)
    return false;
  *major = static_cast<uint32_t>(a);
  *minor = static_cast<uint32_t>(b);
  return true;
}

DeviceIo* FindDevice(std::vector<DeviceIo>* v, uint32_t major, uint32_t minor) {
  for (auto& d : *v) {
    if (d.major == major && d.minor == minor) return &d;
  }
  v->push_back({major, minor, 0, 0});
  return &v->back();
}

bool IsHexId(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

std::optional<uint64_t> Lookup(const KeyedValues& values, std::string_view key) {
  for (const auto& [k, v] : values) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Status ParseFlatKeyed(std::string_view text, KeyedValues* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       if (f.size() != 2) return LineError(n, "expected key and value", line);
                       uint64_t v;
                       int64_t iv;
                       if (!ParseUint64(f[1], &v)) {
                         // Negative counters (seen in memory.stat on some kernels) clamp to 0.
                         if (!ParseInt64(f[1], &iv)) return LineError(n, "bad value", line);
                         v = 0;
                       }
                       out->emplace_back(f[0], v);
                       return Status::Ok();
                     });
}

Status ParseIoStat(std::string_view text, std::vector<DeviceIo>* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       uint32_t major, minor;
                       if (!ParseMajorMinor(f[0], &major, &minor))
                         return LineError(n, "bad device number", line);
                       DeviceIo* d = FindDevice(out, major, minor);
                       for (size_t i = 1; i < f.size(); ++i) {
                         size_t eq = f[i].find('=');
                         if (eq == std::string_view::npos)
                           return LineError(n, "expected key=value", line);
                         uint64_t v;
                         if (!ParseUint64(f[i].substr(eq + 1), &v))
                           return LineError(n, "bad value", line);
                         std::string_view k = f[i].substr(0, eq);
                         if (k == "rbytes")
                           d->read_bytes += v;
                         else if (k == "wbytes")
                           d->write_bytes += v;
                       }
                       return Status::Ok();
                     });
}

Status ParseBlkioServiceBytes(std::string_view text, std::vector<DeviceIo>* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty() || f[0] == "Total") return Status::Ok();
                       if (f.size() != 3)
                         return LineError(n, "expected device, operation and value", line);
                       uint32_t major, minor;
                       uint64_t v;
                       if (!ParseMajorMinor(f[0], &major, &minor))
                         return LineError(n, "bad device number", line);
                       if (!ParseUint64(f[2], &v)) return LineError(n, "bad value", line);
                       DeviceIo* d = FindDevice(out, major, minor);
                       if (f[1] == "Read")
                         d->read_bytes += v;
                       else if (f[1] == "Write")
                         d->write_bytes += v;
                       return Status::Ok();
                     });
}

Status ParseCpuMax(std::string_view text, int64_t* quota_us, uint64_t* period_us) {
  std::vector<std::string_view> f;
  SplitFields(text, &f);
  if (f.size() != 2)
    return Status::InvalidArgument("cpu.max: expected \"quota period\", got \"" +
                                   std::string(TrimSpace(text)) + "\"");
  if (f[0] == "max") {
    *quota_us = -1;
  } else if (!ParseInt64(f[0], quota_us)) {
    return Status::InvalidArgument("cpu.max: bad quota \"" + std::string(f[0]) + "\"");
  }
  if (!ParseUint64(f[1], period_us))
    return Status::InvalidArgument("cpu.max: bad period \"" + std::string(f[1]) + "\"");
  return Status::Ok();
}

Status ParseLimit(std::string_view text, uint64_t* v) {
  std::string_view t = TrimSpace(text);
  if (t == "max") {
    *v = std::numeric_limits<uint64_t>::max();
    return Status::Ok();
  }
  int64_t iv;
  if (ParseUint64(t, v)) return Status::Ok();
  if (ParseInt64(t, &iv)) {  // v1 cfs_quota_us "-1"
    *v = std::numeric_limits<uint64_t>::max();
    return Status::Ok();
  }
  return Status::InvalidArgument("expected a number or \"max\", got \"" +
                                 std::string(t.substr(0, 64)) + "\"");
}

Status CountPids(std::string_view text, uint64_t* count, uint64_t* first_pid) {
  *count = 0;
  *first_pid = 0;
  std::string_view line;
  int n = 0;
  while (NextLine(&text, &line)) {
    ++n;
    line = TrimSpace(line);
    if (line.empty()) continue;
    uint64_t pid;
    if (!ParseUint64(line, &pid)) return LineError(n, "bad pid", line);
    if (*count == 0) *first_pid = pid;
    ++*count;
  }
  return Status::Ok();
}

Identity Classify(std::string_view path) {
  Identity id;
  if (path == "/" || path.empty()) {
    id.kind = Identity::Kind::kRoot;
    return id;
  }
  std::string_view last = path.substr(path.rfind('/') + 1);
  std::string_view parent = path.substr(0, path.rfind('/'));
  std::string_view parent_last = parent.substr(parent.rfind('/') + 1);
  auto strip = [](std::string_view s, std::string_view prefix,
                  std::string_view suffix) -> std::string_view {
    if (StartsWith(s, prefix) && EndsWith(s, suffix) && s.size() > prefix.size() + suffix.size())
      return s.substr(prefix.size(), s.size() - prefix.size() - suffix.size());
    return {};
  };
  bool in_kube = path.find("kubepods") != std::string_view::npos;
  // Pod uid: "pod<uid>" (cgroupfs) or "kubepods-burstable-pod<uid with _>.slice" (systemd).
  auto pod_uid_of = [](std::string_view p) -> std::string {
    size_t pos = p.rfind("pod");
    while (pos != std::string_view::npos) {
      std::string_view rest = p.substr(pos + 3);
      size_t end = rest.find_first_of("/.");
      std::string uid(rest.substr(0, end));
      if (uid.size() >= 32) {
        for (char& c : uid) {
          if (c == '_') c = '-';
        }
        return uid;
      }
      if (pos == 0) break;
      pos = p.rfind("pod", pos - 1);
    }
    return "";
  };
  std::string_view hex;
  if (!(hex = strip(last, "docker-", ".scope")).empty() && IsHexId(hex)) {
    id.kind = in_kube ? Identity::Kind::kCri : Identity::Kind::kDocker;
  } else if (!(hex = strip(last, "libpod-", ".scope")).empty() && IsHexId(hex)) {
    id.kind = Identity::Kind::kPodman;
  } else if ((!(hex = strip(last, "cri-containerd-", ".scope")).empty() ||
              !(hex = strip(last, "crio-", ".scope")).empty()) &&
             IsHexId(hex)) {
    id.kind = Identity::Kind::kCri;
  } else if (IsHexId(last) && (parent_last == "docker" || in_kube)) {
    hex = last;
    id.kind = in_kube ? Identity::Kind::kCri : Identity::Kind::kDocker;
  } else if (in_kube && !pod_uid_of(last).empty()) {
    id.kind = Identity::Kind::kKubePod;
    id.pod_uid = pod_uid_of(last);
    return id;
  } else if (EndsWith(last, ".service")) {
    id.kind = Identity::Kind::kSystemdService;
    id.name = std::string(last);
    return id;
  } else {
    return id;
  }
  id.id = std::string(hex);
  id.name = id.id.substr(0, 12);
  if (in_kube) id.pod_uid = pod_uid_of(parent);
  return id;
}

}  // namespace tocsin::cgroup
