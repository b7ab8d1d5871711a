#include "tsdb/api/metadata_handlers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "tsdb/api/api_util.h"
#include "tsdb/promql/engine.h"
#include "tsdb/promql/parser.h"
#include "tsdb/promql/selector.h"

namespace tocsin::tsdb::api {

namespace {

// The Prometheus release whose API this one answers like; Grafana turns features on by it.
constexpr const char* kPrometheusVersion = "2.42.0";

// Parses every match[]; *error gets the message for a 400 when one is malformed.
bool ParseMatchers(const http::Request& req, std::vector<std::vector<labels::Matcher>>* sets,
                   std::string* error) {
  for (std::string_view m : req.Params("match[]")) {
    std::vector<labels::Matcher> ms;
    Status st = promql::ParseSeriesSelector(m, &ms);
    if (!st.ok()) {
      *error = std::string(st.message());
      return false;
    }
    sets->push_back(std::move(ms));
  }
  return true;
}

bool IsGetOrPost(const http::Request& req) { return req.method == "GET" || req.method == "POST"; }

http::Response MethodNotAllowed() {
  return ApiError(405, kBadData, "method not allowed: use GET or POST");
}

void AppendStringArray(std::string* out, const std::vector<std::string>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, v[i]);
  }
  out->push_back(']');
}

// The shared part of /series and /export: GET or POST, one or more match[], start and end.
// Returns the error response when the request is not acceptable.
std::optional<http::Response> SelectionRequest(const http::Request& req,
                                               std::vector<std::vector<labels::Matcher>>* sets,
                                               TimestampMs* start, TimestampMs* end) {
  if (!IsGetOrPost(req)) return MethodNotAllowed();
  if (!req.FormValid()) return BadData("malformed form body: invalid percent escape");
  std::string error;
  if (!ParseMatchers(req, sets, &error)) return BadData(error);
  if (sets->empty()) return BadData("no match[] parameter provided");
  if (!ParseRange(req, start, end, &error)) return BadData(error);
  return std::nullopt;
}

}  // namespace

http::Response MetadataHandlers::Series(const http::Request& req) {
  std::vector<std::vector<labels::Matcher>> sets;
  TimestampMs start, end;
  if (std::optional<http::Response> bad = SelectionRequest(req, &sets, &start, &end)) return *bad;
  auto q = head_->NewQuerier();
  std::vector<labels::Labels> found;
  for (const auto& ms : sets) {
    std::unique_ptr<SeriesSet> set;
    Status st = q->Select(start, end, ms, &set);
    if (!st.ok()) return ApiError(422, kExecution, st.message());
    while (set->Next()) found.push_back(set->labels());
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::string data = "[";
  for (size_t i = 0; i < found.size(); ++i) {
    if (i) data += ',';
    AppendJsonLabels(&data, found[i]);
  }
  data += ']';
  return ApiSuccess(data);
}

namespace {

// Label names or values over the union of the match[] selectors (all series without one).
using StringsFn =
    std::function<Status(Querier*, std::span<const labels::Matcher>, std::vector<std::string>*)>;
http::Response StringsOverMatchers(Head* head, const http::Request& req, const StringsFn& fn) {
  if (!req.FormValid()) return BadData("malformed form body: invalid percent escape");
  std::vector<std::vector<labels::Matcher>> sets;
  std::string error;
  if (!ParseMatchers(req, &sets, &error)) return BadData(error);
  TimestampMs start, end;
  if (!ParseRange(req, &start, &end, &error)) return BadData(error);
  auto q = head->NewQuerier();
  std::set<std::string> all;
  std::vector<std::string> part;
  if (sets.empty()) sets.emplace_back();
  for (const auto& ms : sets) {
    Status st = fn(q.get(), ms, &part);
    if (!st.ok()) return ApiError(422, kExecution, st.message());
    all.insert(part.begin(), part.end());
  }
  std::string data;
  AppendStringArray(&data, std::vector<std::string>(all.begin(), all.end()));
  return ApiSuccess(data);
}

}  // namespace

http::Response MetadataHandlers::Labels(const http::Request& req) {
  if (!IsGetOrPost(req)) return MethodNotAllowed();
  return StringsOverMatchers(head_, req,
                             [](Querier* q, auto ms, auto* out) { return q->LabelNames(ms, out); });
}

http::Response MetadataHandlers::LabelValues(const http::Request& req) {
  if (req.method != "GET") return ApiError(405, kBadData, "method not allowed: use GET");
  constexpr std::string_view kPrefix = "/api/v1/label/", kSuffix = "/values";
  std::string_view path = req.path;
  if (!StartsWith(path, kPrefix) || !EndsWith(path, kSuffix) ||
      path.size() <= kPrefix.size() + kSuffix.size())
    return ApiError(404, kNotFound, "unknown path; use /api/v1/label/<name>/values");
  std::string name(path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()));
  if (!expfmt::IsValidLabelName(name)) return BadData("invalid label name: \"" + name + "\"");
  return StringsOverMatchers(head_, req, [&name](Querier* q, auto ms, auto* out) {
    return q->LabelValues(name, ms, out);
  });
}

http::Response MetadataHandlers::Export(const http::Request& req) {
  std::vector<std::vector<labels::Matcher>> sets;
  TimestampMs start, end;
  if (std::optional<http::Response> bad = SelectionRequest(req, &sets, &start, &end)) return *bad;
  auto q = head_->NewQuerier();
  std::map<labels::Labels, std::unique_ptr<SeriesIterator>> found;
  std::vector<std::unique_ptr<SeriesSet>> sets_alive;
  for (const auto& ms : sets) {
    std::unique_ptr<SeriesSet> set;
    Status st = q->Select(start, end, ms, &set);
    if (!st.ok()) return ApiError(422, kExecution, st.message());
    while (set->Next()) {
      if (!found.count(set->labels())) found.emplace(set->labels(), set->Iterator());
    }
    sets_alive.push_back(std::move(set));  // iterators are valid while their set lives
  }
  http::Response r;
  r.content_type = "application/stream+json";
  std::string values, timestamps;
  for (auto& [l, it] : found) {
    values.clear();
    timestamps.clear();
    while (it->Next()) {
      if (!timestamps.empty()) {
        values += ',';
        timestamps += ',';
      }
      double v = it->v();
      if (std::isfinite(v)) {
        expfmt::AppendDouble(&values, v);
      } else {
        values += '"';
        expfmt::AppendDouble(&values, v);  // NaN, +Inf, -Inf (staleness markers are NaN)
        values += '"';
      }
      timestamps += std::to_string(it->t());
    }
    if (!it->status().ok()) return ApiError(422, kExecution, it->status().message());
    r.body += "{\"metric\":";
    AppendJsonLabels(&r.body, l);
    r.body += ",\"values\":[" + values + "],\"timestamps\":[" + timestamps + "]}\n";
  }
  return r;
}

http::Response MetadataHandlers::Federate(const http::Request& req) {
  if (!IsGetOrPost(req)) return MethodNotAllowed();
  std::vector<std::vector<labels::Matcher>> sets;
  std::string error;
  if (!ParseMatchers(req, &sets, &error)) return http::Response::Text(400, error + "\n");
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto q = head_->NewQuerier();
  struct Latest {
    int64_t t;
    double v;
  };
  std::map<labels::Labels, Latest> found;
  for (const auto& ms : sets) {
    std::unique_ptr<SeriesSet> set;
    Status st = q->Select(now - options_.lookback_delta_ms, now, ms, &set);
    if (!st.ok()) return http::Response::Text(500, std::string(st.message()) + "\n");
    while (set->Next()) {
      auto it = set->Iterator();
      bool any = false;
      Latest last{0, 0};
      while (it->Next()) {
        any = true;
        last = {it->t(), it->v()};
      }
      if (any && !promql::IsStaleNaN(last.v)) found.emplace(set->labels(), last);
    }
  }
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  expfmt::Writer w(&r.body);
  std::string family;
  std::vector<expfmt::Label> ls;
  for (const auto& [l, s] : found) {
    std::string_view name = l.Get(labels::kMetricName);
    if (name != family) {
      family = std::string(name);
      r.body += "# TYPE " + family + " untyped\n";
    }
    ls.clear();
    l.ForEach([&](std::string_view n, std::string_view v) {
      if (n != labels::kMetricName) ls.push_back({n, v});
    });
    w.Sample(name, ls, s.v);
    r.body.pop_back();  // the newline: the timestamp follows
    r.body += " " + std::to_string(s.t) + "\n";
  }
  return r;
}

http::Response MetadataHandlers::QueryExemplars(const http::Request& req) {
  if (!IsGetOrPost(req)) return MethodNotAllowed();
  return ApiSuccess("[]");
}

http::Response MetadataHandlers::FormatQuery(const http::Request& req) {
  if (!IsGetOrPost(req)) return MethodNotAllowed();
  if (!req.FormValid()) return BadData("malformed form body: invalid percent escape");
  promql::NodePtr expr;
  Status st = promql::ParseExpr(req.Param("query"), &expr);
  if (!st.ok()) return BadData("invalid parameter \"query\": " + std::string(st.message()));
  std::string data;
  AppendJsonString(&data, expr->String());
  return ApiSuccess(data);
}

http::Response MetadataHandlers::StatusTsdb(const http::Request& req) {
  if (req.method != "GET") return ApiError(405, kBadData, "method not allowed: use GET");
  size_t limit = 10;
  if (std::string_view l = req.Param("limit"); !l.empty()) {
    uint64_t v;
    if (!ParseUint64(l, &v) || v == 0 || v > 10000)
      return BadData("limit must be a positive number up to 10000");
    limit = v;
  }
  CardinalityStats c = head_->Cardinality(limit);
  HeadStats h = head_->Stats();
  std::string data = "{\"headStats\":{\"numSeries\":" + std::to_string(c.series) +
                     ",\"numLabelPairs\":" + std::to_string(c.label_pairs) +
                     ",\"chunkCount\":" + std::to_string(h.chunks_closed + c.series) +
                     ",\"minTime\":" + std::to_string(c.min_time) +
                     ",\"maxTime\":" + std::to_string(c.max_time) + "}";
  auto list = [&](const char* key, const std::vector<std::pair<std::string, uint64_t>>& v) {
    data += ",\"";
    data += key;
    data += "\":[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) data += ',';
      data += "{\"name\":";
      AppendJsonString(&data, v[i].first);
      data += ",\"value\":" + std::to_string(v[i].second) + "}";
    }
    data += ']';
  };
  list("seriesCountByMetricName", c.series_by_metric);
  list("labelValueCountByLabelName", c.values_by_label);
  list("memoryInBytesByLabelName", c.bytes_by_label);
  list("seriesCountByLabelValuePair", c.series_by_pair);
  data += '}';
  return ApiSuccess(data);
}

http::Response MetadataHandlers::BuildInfo(const http::Request&) {
  std::string data = "{\"version\":\"";
  data += kPrometheusVersion;
  data += "\",\"revision\":\"tocsin-" + options_.version +
          "\",\"branch\":\"tocsin\",\"buildUser\":\"tocsin\",\"buildDate\":\"\","
          "\"goVersion\":\"none (C++20)\",\"tocsinVersion\":\"" +
          options_.version + "\"}";
  return ApiSuccess(data);
}

http::Response MetadataHandlers::Flags(const http::Request&) {
  std::string data = "{";
  for (size_t i = 0; i < options_.flags.size(); ++i) {
    if (i) data += ',';
    AppendJsonString(&data, options_.flags[i].first);
    data += ':';
    AppendJsonString(&data, options_.flags[i].second);
  }
  data += '}';
  return ApiSuccess(data);
}

http::Response MetadataHandlers::Snapshot(const http::Request& req) {
  if (!options_.admin_enabled) return ApiError(503, kUnavailable, "admin APIs disabled");
  if (req.method != "POST" && req.method != "PUT")
    return ApiError(405, kBadData, "method not allowed: use POST or PUT");
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char name[64];
  std::snprintf(
      name, sizeof name, "%04d%02d%02dT%02d%02d%02dZ-%016llx", tm.tm_year + 1900, tm.tm_mon + 1,
      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
      static_cast<unsigned long long>(std::random_device{}()) << 32 | std::random_device{}());
  ::mkdir(options_.snapshot_dir.c_str(), 0755);
  Status st = head_->Snapshot(options_.snapshot_dir + "/" + name);
  if (!st.ok()) return ApiError(500, kInternal, "create snapshot: " + std::string(st.message()));
  std::string data = "{\"name\":";
  AppendJsonString(&data, name);
  data += '}';
  return ApiSuccess(data);
}

http::Response MetadataHandlers::DeleteSeries(const http::Request& req) {
  if (!options_.admin_enabled) return ApiError(503, kUnavailable, "admin APIs disabled");
  if (req.method != "POST" && req.method != "PUT")
    return ApiError(405, kBadData, "method not allowed: use POST or PUT");
  std::vector<std::vector<labels::Matcher>> sets;
  std::string error;
  if (!ParseMatchers(req, &sets, &error)) return BadData(error);
  if (sets.empty()) return BadData("no match[] parameter provided");
  if (req.HasParam("start") || req.HasParam("end")) {
    TimestampMs start, end;
    if (!ParseRange(req, &start, &end, &error)) return BadData(error);
    if (start > INT64_MIN / 2 || end < INT64_MAX / 2)
      return BadData(
          "deleting part of a series' time range is not supported: omit start and end to "
          "delete whole series (retention removes old data)");
  }
  for (const auto& ms : sets) {
    uint64_t n = 0;
    Status st = head_->DeleteSeries(ms, &n);
    if (!st.ok()) return ApiError(500, kInternal, "delete series: " + std::string(st.message()));
  }
  return http::Response::Text(204, "");
}

http::Response MetadataHandlers::CleanTombstones(const http::Request& req) {
  if (!options_.admin_enabled) return ApiError(503, kUnavailable, "admin APIs disabled");
  if (req.method != "POST" && req.method != "PUT")
    return ApiError(405, kBadData, "method not allowed: use POST or PUT");
  // Deletions take effect at once (no tombstones to clean).
  return http::Response::Text(204, "");
}

void MetadataHandlers::Register(http::Router* router) {
  router->Handle("/api/v1/series", [this](const http::Request& r) { return Series(r); });
  router->Handle("/api/v1/labels", [this](const http::Request& r) { return Labels(r); });
  router->HandlePrefix("/api/v1/label/", [this](const http::Request& r) { return LabelValues(r); });
  router->Handle("/api/v1/export", [this](const http::Request& r) { return Export(r); });
  router->Handle("/federate", [this](const http::Request& r) { return Federate(r); });
  router->Handle("/api/v1/query_exemplars",
                 [this](const http::Request& r) { return QueryExemplars(r); });
  router->Handle("/api/v1/format_query", [this](const http::Request& r) { return FormatQuery(r); });
  router->Handle("/api/v1/status/tsdb", [this](const http::Request& r) { return StatusTsdb(r); });
  router->Handle("/api/v1/status/buildinfo",
                 [this](const http::Request& r) { return BuildInfo(r); });
  router->Handle("/api/v1/status/flags", [this](const http::Request& r) { return Flags(r); });
  router->Handle("/api/v1/admin/tsdb/snapshot",
                 [this](const http::Request& r) { return Snapshot(r); });
  router->Handle("/api/v1/admin/tsdb/delete_series",
                 [this](const http::Request& r) { return DeleteSeries(r); });
  router->Handle("/api/v1/admin/tsdb/clean_tombstones",
                 [this](const http::Request& r) { return CleanTombstones(r); });
}

}  // namespace tocsin::tsdb::api
