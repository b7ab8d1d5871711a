#pragma once
// Pieces every Prometheus-API handler shares: the JSON envelope ({"status":"success","data":..}
// and the error shape {"status":"error","errorType":..,"error":..}), JSON string escaping, and
// the API's time and duration parameters.
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/http/message.h"
#include "common/labels/labels.h"
#include "tsdb/chunk/chunk.h"

namespace tocsin::tsdb::api {

// errorType values and the HTTP codes Prometheus pairs them with.
inline constexpr std::string_view kBadData = "bad_data";         // 400
inline constexpr std::string_view kExecution = "execution";      // 422
inline constexpr std::string_view kUnavailable = "unavailable";  // 503
inline constexpr std::string_view kInternal = "internal";        // 500
inline constexpr std::string_view kTimeout = "timeout";          // 503
inline constexpr std::string_view kCanceled = "canceled";        // 503
inline constexpr std::string_view kNotFound = "not_found";       // 404

http::Response ApiError(int code, std::string_view type, std::string_view message);
inline http::Response BadData(std::string_view message) { return ApiError(400, kBadData, message); }
// data_json is already JSON; warnings are plain strings.
http::Response ApiSuccess(std::string_view data_json,
                          const std::vector<std::string>& warnings = {});
// The same for a body that already starts with kSuccessPrefix and holds the data (large
// results are written there directly, without a copy).
inline constexpr std::string_view kSuccessPrefix = "{\"status\":\"success\",\"data\":";
http::Response ApiSuccessBody(std::string body, const std::vector<std::string>& warnings);

// Appends s as a JSON string (quoted, escaped; invalid UTF-8 bytes become U+FFFD).
void AppendJsonString(std::string* out, std::string_view s);
// Appends {"name":"value",...}.
void AppendJsonLabels(std::string* out, const labels::Labels& l);

// Unix seconds with an optional fraction ("1700000000.123") or RFC 3339 ("2026-11-22T02:43:24Z",
// with fraction and offset), as Prometheus's API takes them; also the API's min/max sentinels.
bool ParseApiTime(std::string_view s, TimestampMs* out);
// A duration ("5m", "1h30m") or a number of seconds ("300", "0.5"), in milliseconds.
bool ParseApiDuration(std::string_view s, int64_t* ms);

// Reads the optional start and end parameters (defaults: all of time). Returns an error
// response's message in *error when one is malformed.
bool ParseRange(const http::Request& req, TimestampMs* start, TimestampMs* end, std::string* error);

}  // namespace tocsin::tsdb::api
