#include "exporter/procfs/procfs.h"

#include "common/base/strings.h"
#include "exporter/procfs/lines.h"

namespace tocsin::procfs {

namespace {

bool ParseHex(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t r = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    r = r * 16 + static_cast<uint64_t>(d);
  }
  *v = r;
  return true;
}

}  // namespace

Status ParseStat(std::string_view text, Stat* out) {
  *out = Stat();
  bool saw_cpu = false;
  Status st =
      ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
        if (f.empty()) return Status::Ok();
        std::string_view key = f[0];
        if (StartsWith(key, "cpu")) {
          saw_cpu = true;
          if (key == "cpu") return Status::Ok();
          if (f.size() < 5) return LineError(n, "too few fields in cpu line", line);
          CpuTimes c;
          c.cpu = std::string(key.substr(3));
          uint64_t dummy;
          if (!ParseUint64(c.cpu, &dummy)) return LineError(n, "bad cpu number", line);
          double* dst[] = {&c.user, &c.nice,    &c.system, &c.idle,  &c.iowait,
                           &c.irq,  &c.softirq, &c.steal,  &c.guest, &c.guest_nice};
          for (size_t i = 1; i < f.size() && i <= 10; ++i) {
            uint64_t ticks;
            if (!ParseUint64(f[i], &ticks)) return LineError(n, "bad cpu time", line);
            *dst[i - 1] = static_cast<double>(ticks) / kUserHz;
          }
          out->cpus.push_back(std::move(c));
          return Status::Ok();
        }
        if (f.size() < 2) return Status::Ok();
        uint64_t* dst = nullptr;
        if (key == "intr")
          dst = &out->intr_total;
        else if (key == "ctxt")
          dst = &out->context_switches;
        else if (key == "btime")
          dst = &out->boot_time;
        else if (key == "processes")
          dst = &out->processes;
        else if (key == "procs_running")
          dst = &out->procs_running;
        else if (key == "procs_blocked")
          dst = &out->procs_blocked;
        if (dst != nullptr && !ParseUint64(f[1], dst)) return LineError(n, "bad value", line);
        return Status::Ok();
      });
  if (!st.ok()) return st;
  if (!saw_cpu) return Status::InvalidArgument("no cpu lines");
  return Status::Ok();
}

Status ParseMeminfo(std::string_view text, std::vector<MeminfoField>* out) {
  out->clear();
  Status st =
      ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
        if (f.empty()) return Status::Ok();
        if (f.size() < 2 || f.size() > 3 || f[0].back() != ':')
          return LineError(n, "malformed line", line);
        MeminfoField m;
        m.name = f[0].substr(0, f[0].size() - 1);
        uint64_t v;
        if (!ParseUint64(f[1], &v)) return LineError(n, "bad value", line);
        m.bytes = f.size() == 3;
        if (m.bytes && f[2] != "kB") return LineError(n, "unknown unit", line);
        m.value = static_cast<double>(v) * (m.bytes ? 1024.0 : 1.0);
        out->push_back(std::move(m));
        return Status::Ok();
      });
  if (st.ok() && out->empty()) return Status::InvalidArgument("no fields");
  return st;
}

Status ParseLoadavg(std::string_view text, std::array<double, 3>* out) {
  std::vector<std::string_view> f;
  SplitFields(text, &f);
  if (f.size() < 3)
    return Status::InvalidArgument("expected at least 3 fields, got " + std::to_string(f.size()));
  for (int i = 0; i < 3; ++i) {
    if (!ParseDouble(f[static_cast<size_t>(i)], &(*out)[static_cast<size_t>(i)])) {
      return Status::InvalidArgument("bad load average \"" +
                                     std::string(f[static_cast<size_t>(i)]) + "\"");
    }
  }
  return Status::Ok();
}

Status ParseDiskstats(std::string_view text, std::vector<DiskStat>* out) {
  out->clear();
  return ForEachLine(text, [&](int n, std::string_view line,
                               const std::vector<std::string_view>& f) {
    if (f.empty()) return Status::Ok();
    if (f.size() != 14 && f.size() != 18 && f.size() != 20) {
      return LineError(n, "expected 14, 18 or 20 fields, got " + std::to_string(f.size()), line);
    }
    DiskStat d;
    uint64_t major, minor;
    if (!ParseUint64(f[0], &major) || !ParseUint64(f[1], &minor) || major > UINT32_MAX ||
        minor > UINT32_MAX) {
      return LineError(n, "bad device number", line);
    }
    d.major = static_cast<uint32_t>(major);
    d.minor = static_cast<uint32_t>(minor);
    d.device = std::string(f[2]);
    d.field_count = static_cast<int>(f.size()) - 3;
    for (size_t i = 3; i < f.size(); ++i) {
      if (!ParseUint64(f[i], &d.v[i - 3])) return LineError(n, "bad counter", line);
    }
    out->push_back(std::move(d));
    return Status::Ok();
  });
}

Status ParseNetDev(std::string_view text, std::vector<NetDevStat>* out) {
  out->clear();
  return ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>&) {
    if (n <= 2) return Status::Ok();  // two header lines
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (TrimSpace(line).empty()) return Status::Ok();
      return LineError(n, "missing ':' after device name", line);
    }
    NetDevStat d;
    d.device = std::string(TrimSpace(line.substr(0, colon)));
    std::vector<std::string_view> f;
    SplitFields(line.substr(colon + 1), &f);
    if (f.size() != 16)
      return LineError(n, "expected 16 counters, got " + std::to_string(f.size()), line);
    for (size_t i = 0; i < 16; ++i) {
      if (!ParseUint64(f[i], &d.v[i])) return LineError(n, "bad counter", line);
    }
    out->push_back(std::move(d));
    return Status::Ok();
  });
}

Status ParseNetstatPairs(std::string_view text, std::vector<NetStatValue>* out) {
  std::vector<std::string_view> header;
  int header_line = 0;
  std::string_view header_text;
  Status st =
      ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
        if (f.empty()) return Status::Ok();
        if (header.empty()) {
          header = f;
          header_line = n;
          header_text = line;
          return Status::Ok();
        }
        if (f[0] != header[0])
          return LineError(n, "value line does not match header " + std::string(header[0]), line);
        if (f.size() != header.size()) {
          return LineError(n,
                           "value count " + std::to_string(f.size() - 1) +
                               " differs from header count " + std::to_string(header.size() - 1),
                           line);
        }
        std::string_view proto = header[0];
        if (proto.empty() || proto.back() != ':')
          return LineError(header_line, "protocol name lacks ':'", header_text);
        proto.remove_suffix(1);
        for (size_t i = 1; i < f.size(); ++i) {
          int64_t iv;
          double dv;
          if (!ParseInt64(f[i], &iv) && !ParseDouble(f[i], &dv))
            return LineError(n, "bad value", line);
          out->push_back({proto, header[i], f[i]});
        }
        header.clear();
        return Status::Ok();
      });
  if (st.ok() && !header.empty())
    return LineError(header_line, "header without value line", header_text);
  return st;
}

Status ParseSnmp6(std::string_view text, std::vector<NetStatValue>* out) {
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       if (f.size() != 2) return LineError(n, "expected name and value", line);
                       // Names look like "Ip6InOctets", "Icmp6InMsgs", "Udp6InErrors",
                       // "UdpLite6InErrors".
                       size_t six = f[0].find('6');
                       if (six == std::string_view::npos)
                         return LineError(n, "name without protocol", line);
                       int64_t iv;
                       if (!ParseInt64(f[1], &iv)) return LineError(n, "bad value", line);
                       out->push_back({f[0].substr(0, six + 1), f[0].substr(six + 1), f[1]});
                       return Status::Ok();
                     });
}

Status ParseSockstat(std::string_view text, std::vector<SockstatValue>* out) {
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       if (f[0].back() != ':' || f.size() % 2 != 1)
                         return LineError(n, "malformed line", line);
                       std::string_view proto = f[0].substr(0, f[0].size() - 1);
                       for (size_t i = 1; i + 1 < f.size(); i += 2) {
                         double v;
                         if (!ParseDouble(f[i + 1], &v)) return LineError(n, "bad value", line);
                         out->push_back({proto, f[i], v});
                       }
                       return Status::Ok();
                     });
}

Status ParseVmstat(std::string_view text, std::vector<VmstatValue>* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       if (f.size() != 2) return LineError(n, "expected name and value", line);
                       double v;
                       if (!ParseDouble(f[1], &v)) return LineError(n, "bad value", line);
                       out->push_back({f[0], v});
                       return Status::Ok();
                     });
}

Status ParsePressure(std::string_view text, Pressure* out) {
  *out = Pressure();
  Status st =
      ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
        if (f.empty()) return Status::Ok();
        bool some = f[0] == "some";
        if (!some && f[0] != "full") return LineError(n, "expected \"some\" or \"full\"", line);
        for (size_t i = 1; i < f.size(); ++i) {
          if (!StartsWith(f[i], "total=")) continue;
          uint64_t v;
          if (!ParseUint64(f[i].substr(6), &v)) return LineError(n, "bad total", line);
          (some ? out->some_total_us : out->full_total_us) = static_cast<double>(v);
          (some ? out->has_some : out->has_full) = true;
          return Status::Ok();
        }
        return LineError(n, "no total=", line);
      });
  if (st.ok() && !out->has_some) return Status::InvalidArgument("no \"some\" line");
  return st;
}

Status ParseFileNr(std::string_view text, uint64_t* allocated, uint64_t* maximum) {
  std::vector<std::string_view> f;
  SplitFields(text, &f);
  if (f.size() != 3)
    return Status::InvalidArgument("expected 3 fields, got " + std::to_string(f.size()));
  if (!ParseUint64(f[0], allocated) || !ParseUint64(f[2], maximum)) {
    return Status::InvalidArgument("bad number in \"" + std::string(TrimSpace(text)) + "\"");
  }
  return Status::Ok();
}

Status ParseArp(std::string_view text, std::vector<std::pair<std::string, uint64_t>>* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (n == 1 || f.empty()) return Status::Ok();  // header
                       if (f.size() != 6) return LineError(n, "expected 6 fields", line);
                       std::string dev(f[5]);
                       for (auto& [d, c] : *out) {
                         if (d == dev) {
                           ++c;
                           return Status::Ok();
                         }
                       }
                       out->emplace_back(std::move(dev), 1);
                       return Status::Ok();
                     });
}

Status ParseSoftnet(std::string_view text, std::vector<SoftnetStat>* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       if (f.size() < 3) return LineError(n, "too few fields", line);
                       SoftnetStat s;
                       s.cpu = static_cast<uint32_t>(out->size());
                       if (!ParseHex(f[0], &s.processed) || !ParseHex(f[1], &s.dropped) ||
                           !ParseHex(f[2], &s.time_squeezed)) {
                         return LineError(n, "bad hex counter", line);
                       }
                       // Since Linux 5.10 the 13th column is the CPU index (CPUs may be offline).
                       uint64_t cpu;
                       if (f.size() >= 13 && ParseHex(f[12], &cpu))
                         s.cpu = static_cast<uint32_t>(cpu);
                       out->push_back(s);
                       return Status::Ok();
                     });
}

Status ParseConntrackStat(std::string_view text, ConntrackStat* out) {
  *out = ConntrackStat();
  std::vector<std::string_view> header;
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       if (header.empty()) {
                         header = f;
                         return Status::Ok();
                       }
                       if (f.size() != header.size())
                         return LineError(n, "field count differs from header", line);
                       for (size_t i = 0; i < f.size(); ++i) {
                         uint64_t v;
                         if (!ParseHex(f[i], &v)) return LineError(n, "bad hex counter", line);
                         std::string_view h = header[i];
                         if (h == "found")
                           out->found += v;
                         else if (h == "invalid")
                           out->invalid += v;
                         else if (h == "ignore")
                           out->ignore += v;
                         else if (h == "insert")
                           out->insert += v;
                         else if (h == "insert_failed")
                           out->insert_failed += v;
                         else if (h == "drop")
                           out->drop += v;
                         else if (h == "early_drop")
                           out->early_drop += v;
                         else if (h == "search_restart")
                           out->search_restart += v;
                       }
                       return Status::Ok();
                     });
}

Status ParseUdpQueues(std::string_view text, uint64_t* tx, uint64_t* rx) {
  *tx = *rx = 0;
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (n == 1 || f.empty()) return Status::Ok();
                       if (f.size() < 5) return LineError(n, "too few fields", line);
                       std::string_view q = f[4];  // tx_queue:rx_queue in hex
                       size_t colon = q.find(':');
                       uint64_t t, r;
                       if (colon == std::string_view::npos || !ParseHex(q.substr(0, colon), &t) ||
                           !ParseHex(q.substr(colon + 1), &r)) {
                         return LineError(n, "bad queue field", line);
                       }
                       *tx += t;
                       *rx += r;
                       return Status::Ok();
                     });
}

namespace {
// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string UnescapeOctal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
}  // namespace

Status ParseMountinfo(std::string_view text, std::vector<Mount>* out) {
  out->clear();
  return ForEachLine(text,
                     [&](int n, std::string_view line, const std::vector<std::string_view>& f) {
                       if (f.empty()) return Status::Ok();
                       // id parent major:minor root mountpoint options [optional...] - fstype
                       // source superoptions
                       size_t sep = 0;
                       for (size_t i = 6; i < f.size(); ++i) {
                         if (f[i] == "-") {
                           sep = i;
                           break;
                         }
                       }
                       if (f.size() < 10 || sep == 0 || sep + 3 > f.size())
                         return LineError(n, "malformed mount line", line);
                       Mount m;
                       m.mount_point = UnescapeOctal(f[4]);
                       m.options = std::string(f[5]);
                       m.fs_type = std::string(f[sep + 1]);
                       m.device = UnescapeOctal(f[sep + 2]);
                       if (sep + 3 < f.size()) {
                         m.options += ',';
                         m.options += f[sep + 3];
                       }
                       out->push_back(std::move(m));
                       return Status::Ok();
                     });
}

Status ParseProcStat(std::string_view text, ProcStat* out) {
  // The command name is in parentheses and may contain spaces and ')'; fields follow the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos)
    return Status::InvalidArgument("no ')' after the command name");
  std::vector<std::string_view> f;
  SplitFields(text.substr(close + 1), &f);
  // f[0] is field 3 (state); utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
  if (f.size() < 22)
    return Status::InvalidArgument("expected at least 24 fields, got " +
                                   std::to_string(f.size() + 2));
  uint64_t utime, stime;
  if (!ParseUint64(f[11], &utime) || !ParseUint64(f[12], &stime) ||
      !ParseUint64(f[19], &out->starttime_ticks) || !ParseUint64(f[20], &out->vsize_bytes) ||
      !ParseUint64(f[21], &out->rss_pages)) {
    return Status::InvalidArgument("bad number in stat fields");
  }
  out->utime_seconds = static_cast<double>(utime) / kUserHz;
  out->stime_seconds = static_cast<double>(stime) / kUserHz;
  return Status::Ok();
}

Status ParseProcLimits(std::string_view text, double* max_fds, double* max_address_space) {
  bool fds = false;
  Status st =
      ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>&) {
        auto soft = [&](std::string_view prefix, double* dst) -> Status {
          std::vector<std::string_view> f;
          SplitFields(line.substr(prefix.size()), &f);
          if (f.empty()) return LineError(n, "no soft limit", line);
          if (f[0] == "unlimited") {
            *dst = -1;
          } else if (!ParseDouble(f[0], dst)) {
            return LineError(n, "bad soft limit", line);
          }
          return Status::Ok();
        };
        if (StartsWith(line, "Max open files")) {
          fds = true;
          return soft("Max open files", max_fds);
        }
        if (StartsWith(line, "Max address space"))
          return soft("Max address space", max_address_space);
        return Status::Ok();
      });
  if (st.ok() && !fds) return Status::InvalidArgument("no \"Max open files\" line");
  return st;
}

Status ParseOsRelease(std::string_view text,
                      std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  return ForEachLine(text, [&](int n, std::string_view line, const std::vector<std::string_view>&) {
    std::string_view t = TrimSpace(line);
    if (t.empty() || t.front() == '#') return Status::Ok();
    size_t eq = t.find('=');
    if (eq == std::string_view::npos || eq == 0) return LineError(n, "expected KEY=value", line);
    std::string_view v = t.substr(eq + 1);
    std::string value;
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
      char q = v.front();
      if (v.size() < 2 || v.back() != q) return LineError(n, "unterminated quote", line);
      v = v.substr(1, v.size() - 2);
      for (size_t i = 0; i < v.size(); ++i) {
        if (q == '"' && v[i] == '\\' && i + 1 < v.size()) ++i;
        value.push_back(v[i]);
      }
    } else {
      value = std::string(v);
    }
    out->emplace_back(std::string(t.substr(0, eq)), std::move(value));
    return Status::Ok();
  });
}

}  // namespace tocsin::procfs
