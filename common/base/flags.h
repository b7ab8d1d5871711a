#pragma once
// Command-line flags spelled as Prometheus's kingpin spells them: --name=value, --name value,
// --bool-flag, --no-bool-flag, --help, --version. Values are written straight into the caller's
// Options fields, whose initial value is the default shown by --help.
// Thread-safety: a FlagSet is used from one thread during start-up.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace tocsin {

// Parses Prometheus durations: "1h30m", "15s", "250ms", "2d", "1w", "1y". Rejects "" and units
// out of order.
bool ParseDuration(std::string_view s, std::chrono::milliseconds* out);
std::string FormatDuration(std::chrono::milliseconds d);
// Parses Prometheus byte sizes: "512MB", "10GB", "1TB", "0" (units B KB MB GB TB PB EB, powers
// of 1024 as Prometheus's units.Base2Bytes).
bool ParseByteSize(std::string_view s, uint64_t* out);

class FlagSet {
 public:
  FlagSet(std::string program, std::string summary);

  void String(std::string name, std::string* value, std::string help);
  void Bool(std::string name, bool* value, std::string help);
  void Int(std::string name, int64_t* value, std::string help);
  void Double(std::string name, double* value, std::string help);
  void Duration(std::string name, std::chrono::milliseconds* value, std::string help);
  // A flag that may be given several times; each value is appended.
  void StringList(std::string name, std::vector<std::string>* values, std::string help);

  // Parses argv[1..]. An unknown flag, a missing or malformed value, or a positional argument
  // where none is expected is an InvalidArgument naming the flag.
  Status Parse(int argc, const char* const* argv);
  // Positional arguments (after the flags), for sub-commands.
  const std::vector<std::string>& args() const { return args_; }
  void AllowPositional() { allow_positional_ = true; }

  // What a main() does with argv: parses; on an error prints it (prefixed by the program name)
  // and returns 2; for --help or --version prints them and returns 0; otherwise returns -1 and
  // the program goes on.
  int ParseCommandLine(int argc, const char* const* argv, std::string_view version);

  bool help_requested() const { return help_; }
  bool version_requested() const { return version_; }
  // True when the flag was given on the command line.
  bool WasSet(std::string_view name) const;
  // The --help text: summary, then every flag with its default.
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    bool set = false;
    std::function<bool(std::string_view)> apply;
  };
  Flag* Find(std::string_view name);
  void Add(Flag f);

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::vector<std::string> args_;
  bool allow_positional_ = false;
  bool help_ = false;
  bool version_ = false;
};

}  // namespace tocsin
