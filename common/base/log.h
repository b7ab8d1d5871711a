#pragma once
// Structured logging in the logfmt shape Prometheus's components print:
//   ts=2026-11-22T00:00:00.000Z level=info msg="Listening" address=:9100
// Thread-safety: every function may be called from any thread; lines never interleave.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tocsin::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Field = std::pair<std::string_view, std::string>;

// Lines below the level are dropped. Default: kInfo.
void SetLevel(Level level);
// Parses "debug", "info", "warn", "error".
bool ParseLevel(std::string_view s, Level* level);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void Debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kDebug, msg, f);
}
inline void Info(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg, std::initializer_list<Field> f = {}) {
  Write(Level::kError, msg, f);
}

}  // namespace tocsin::log
