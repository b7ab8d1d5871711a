#include "tsdb/api/api_util.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/base/flags.h"
#include "common/base/strings.h"

namespace tocsin::tsdb::api {

http::Response ApiError(int code, std::string_view type, std::string_view message) {
  std::string body = "{\"status\":\"error\",\"errorType\":";
  AppendJsonString(&body, type);
  body += ",\"error\":";
  AppendJsonString(&body, message);
  body += "}";
  return http::Response::Json(code, std::move(body));
}

http::Response ApiSuccess(std::string_view data_json, const std::vector<std::string>& warnings) {
  std::string body;
  body.reserve(data_json.size() + 64);
  body = kSuccessPrefix;
  body.append(data_json);
  return ApiSuccessBody(std::move(body), warnings);
}

http::Response ApiSuccessBody(std::string body, const std::vector<std::string>& warnings) {
  if (!warnings.empty()) {
    body += ",\"warnings\":[";
    for (size_t i = 0; i < warnings.size(); ++i) {
      if (i) body += ',';
      AppendJsonString(&body, warnings[i]);
    }
    body += ']';
  }
  body += '}';
  return http::Response::Json(200, std::move(body));
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
      out->push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        default:  // control characters and <, >, & (escaped as Go's encoder does)
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
      }
      ++i;
      continue;
    }
    // Validate one UTF-8 sequence; copy it or write U+FFFD.
    int n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = n > 0 && i + static_cast<size_t>(n) <= s.size();
    for (int k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xC0) == 0x80;
    if (ok) {
      out->append(s.substr(i, static_cast<size_t>(n)));
      i += static_cast<size_t>(n);
    } else {
      *out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out->push_back('"');
}

void AppendJsonLabels(std::string* out, const labels::Labels& l) {
  out->push_back('{');
  bool first = true;
  l.ForEach([&](std::string_view n, std::string_view v) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, n);
    out->push_back(':');
    AppendJsonString(out, v);
  });
  out->push_back('}');
}

namespace {

// Prometheus's API sentinels for "all of time" (what Grafana and promtool send as min/max).
constexpr TimestampMs kMinTime = -9223309901257974LL;  // math.MinInt64/2 + 1e6, in ms
constexpr TimestampMs kMaxTime = 9223309901257974LL;

}  // namespace

bool ParseApiTime(std::string_view s, TimestampMs* out) {
  double d;
  if (ParseDouble(s, &d)) {
    if (!std::isfinite(d) || d > 9.2e15 || d < -9.2e15) return false;
    double whole = std::trunc(d);
    double frac = std::round((d - whole) * 1000);
    *out = static_cast<TimestampMs>(whole) * 1000 + static_cast<TimestampMs>(frac);
    return true;
  }
  if (s == "-292273086-05-16T16:47:06Z" || s == "-292273086-05-16T16:47:06.854775807Z") {
    *out = kMinTime;
    return true;
  }
  if (s == "292277025-08-18T07:12:54.999999999Z") {
    *out = kMaxTime;
    return true;
  }
  return ParseRfc3339(s, out);
}

bool ParseApiDuration(std::string_view s, int64_t* ms) {
  double d;
  if (ParseDouble(s, &d)) {
    if (!std::isfinite(d) || d * 1000 > 9.2e18 || d * 1000 < -9.2e18) return false;
    *ms = static_cast<int64_t>(std::llround(d * 1000));
    return true;
  }
  std::chrono::milliseconds m;
  if (!ParseDuration(s, &m)) return false;
  *ms = m.count();
  return true;
}

bool ParseRange(const http::Request& req, TimestampMs* start, TimestampMs* end,
                std::string* error) {
  *start = kMinTime;
  *end = kMaxTime;
  if (std::string_view v = req.Param("start"); !v.empty() && !ParseApiTime(v, start)) {
    *error =
        "invalid parameter \"start\": cannot parse \"" + std::string(v) + "\" to a valid timestamp";
    return false;
  }
  if (std::string_view v = req.Param("end"); !v.empty() && !ParseApiTime(v, end)) {
    *error =
        "invalid parameter \"end\": cannot parse \"" + std::string(v) + "\" to a valid timestamp";
    return false;
  }
  if (*end < *start) {
    *error = "invalid parameter \"end\": end timestamp must not be before start time";
    return false;
  }
  return true;
}

}  // namespace tocsin::tsdb::api
