#pragma once
// Line-by-line helpers shared by the /proc and cgroup parsers (internal to exporter/).
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/base/strings.h"

namespace tocsin::procfs {

// InvalidArgument "line N: what: "<first 120 bytes of the line>"".
inline Status LineError(int line_no, std::string_view what, std::string_view line) {
  return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + std::string(what) +
                                 ": \"" + std::string(line.substr(0, 120)) + "\"");
}

// Calls f(line_number, line, fields) for every line, the fields split on whitespace into a
// reused vector; stops at the first non-OK status and returns it.
template <typename F>
Status ForEachLine(std::string_view text, F&& f) {
  std::vector<std::string_view> fields;
  std::string_view line;
  int n = 0;
  while (NextLine(&text, &line)) {
    ++n;
    fields.clear();
    SplitFields(line, &fields);
    Status st = f(n, line, fields);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace tocsin::procfs
