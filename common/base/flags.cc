#include "common/base/flags.h"

#include <algorithm>
#include <cstdio>

#include "common/base/strings.h"

namespace tocsin {

bool ParseDuration(std::string_view s, std::chrono::milliseconds* out) {
  if (s.empty()) return false;
  if (s == "0") {
    *out = std::chrono::milliseconds(0);
    return true;
  }
  struct Unit {
    std::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                    {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},
                                    {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},
                                    {"s", 1000},
                                    {"ms", 1}};
  int64_t total = 0;
  int last_unit = -1;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
    uint64_t n;
    if (!ParseUint64(s.substr(start, i - start), &n)) return false;
    size_t ustart = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9')) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    int idx = -1;
    for (int k = 0; k < static_cast<int>(std::size(kUnits)); ++k) {
      if (kUnits[k].name == unit) idx = k;
    }
    if (idx < 0 || idx <= last_unit) return false;
    last_unit = idx;
    if (n > static_cast<uint64_t>(INT64_MAX / kUnits[idx].ms)) return false;
    total += static_cast<int64_t>(n) * kUnits[idx].ms;
  }
  *out = std::chrono::milliseconds(total);
  return true;
}

bool ParseByteSize(std::string_view s, uint64_t* out) {
  if (s == "0") {
    *out = 0;
    return true;
  }
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  uint64_t n;
  if (i == 0 || !ParseUint64(s.substr(0, i), &n)) return false;
  static constexpr std::string_view kUnits[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  std::string_view unit = s.substr(i);
  for (int k = 0; k < static_cast<int>(std::size(kUnits)); ++k) {
    if (unit != kUnits[k]) continue;
    uint64_t mul = uint64_t{1} << (10 * k);
    if (n > UINT64_MAX / mul) return false;
    *out = n * mul;
    return true;
  }
  return false;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  struct Unit {
    const char* name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {
      {"d", 24LL * 3600 * 1000}, {"h", 3600LL * 1000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.name;
      ms %= u.ms;
    }
  }
  return out;
}

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagSet::Add(Flag f) { flags_.push_back(std::move(f)); }

FlagSet::Flag* FlagSet::Find(std::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void FlagSet::String(std::string name, std::string* value, std::string help) {
  Add({std::move(name), std::move(help), "\"" + *value + "\"", false, false,
       [value](std::string_view v) {
         *value = std::string(v);
         return true;
       }});
}

void FlagSet::Bool(std::string name, bool* value, std::string help) {
  Add({std::move(name), std::move(help), *value ? "true" : "false", true, false,
       [value](std::string_view v) {
         if (v == "true" || v == "1")
           *value = true;
         else if (v == "false" || v == "0")
           *value = false;
         else
           return false;
         return true;
       }});
}

void FlagSet::Int(std::string name, int64_t* value, std::string help) {
  Add({std::move(name), std::move(help), std::to_string(*value), false, false,
       [value](std::string_view v) { return ParseInt64(v, value); }});
}

void FlagSet::Double(std::string name, double* value, std::string help) {
  Add({std::move(name), std::move(help), std::to_string(*value), false, false,
       [value](std::string_view v) { return ParseDouble(v, value); }});
}

void FlagSet::Duration(std::string name, std::chrono::milliseconds* value, std::string help) {
  Add({std::move(name), std::move(help), FormatDuration(*value), false, false,
       [value](std::string_view v) { return ParseDuration(v, value); }});
}

void FlagSet::StringList(std::string name, std::vector<std::string>* values, std::string help) {
  Add({std::move(name), std::move(help), "", false, false, [values](std::string_view v) {
         values->emplace_back(v);
         return true;
       }});
}

Status FlagSet::Parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) args_.emplace_back(argv[i]);
      break;
    }
    if (!StartsWith(arg, "--")) {
      if (!allow_positional_) {
        return Status::InvalidArgument("unexpected argument \"" + std::string(arg) + "\"");
      }
      args_.emplace_back(arg);
      continue;
    }
    arg.remove_prefix(2);
    if (arg == "help" || arg == "help-long") {
      help_ = true;
      continue;
    }
    if (arg == "version") {
      version_ = true;
      continue;
    }
    std::string_view name = arg;
    std::string_view value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    Flag* f = Find(name);
    bool negated = false;
    if (f == nullptr && StartsWith(name, "no-")) {
      f = Find(name.substr(3));
      negated = f != nullptr && f->is_bool;
      if (!negated) f = nullptr;
    }
    if (f == nullptr) {
      return Status::InvalidArgument("unknown flag --" + std::string(name) + " (see --help)");
    }
    if (f->is_bool && !has_value) {
      value = negated ? "false" : "true";
    } else if (negated) {
      return Status::InvalidArgument("flag --" + std::string(name) + " takes no value");
    } else if (!has_value) {
      if (i + 1 >= argc) {
        return Status::InvalidArgument("flag --" + std::string(name) + " needs a value");
      }
      value = argv[++i];
    }
    if (!f->apply(value)) {
      return Status::InvalidArgument("invalid value \"" + std::string(value) + "\" for flag --" +
                                     std::string(name));
    }
    f->set = true;
  }
  return Status::Ok();
}

int FlagSet::ParseCommandLine(int argc, const char* const* argv, std::string_view version) {
  Status st = Parse(argc, argv);
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), std::string(st.message()).c_str());
    return 2;
  }
  if (help_) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (version_) {
    std::printf("%s, version %.*s\n", program_.c_str(), static_cast<int>(version.size()),
                version.data());
    return 0;
  }
  return -1;
}

bool FlagSet::WasSet(std::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.set;
  }
  return false;
}

std::string FlagSet::Usage() const {
  std::string out = "usage: " + program_ + " [<flags>]\n\n" + summary_ + "\n\nFlags:\n";
  out += "  --help                     Show this help and exit.\n";
  out += "  --version                  Show the version and exit.\n";
  for (const Flag& f : flags_) {
    std::string left = "  --";
    if (f.is_bool) left += "[no-]";
    left += f.name;
    if (!f.is_bool) left += "=VALUE";
    out += left;
    out += left.size() < 29 ? std::string(29 - left.size(), ' ') : "\n" + std::string(29, ' ');
    out += f.help;
    if (!f.default_text.empty() && f.default_text != "\"\"")
      out += " (default: " + f.default_text + ")";
    out += '\n';
  }
  return out;
}

}  // namespace tocsin
