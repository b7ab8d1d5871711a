#include "tsdb/api/scrape_handlers.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "tsdb/api/api_util.h"

namespace tocsin::tsdb::api {

namespace {

std::string Rfc3339(int64_t ms) {
  if (ms == 0) return "0001-01-01T00:00:00Z";  // Go's zero time, as Prometheus prints it
  return FormatRfc3339Millis(ms);
}

void AppendPairs(std::string* out, scrape::LabelPairs pairs) {
  std::sort(pairs.begin(), pairs.end());
  out->push_back('{');
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(out, pairs[i].first);
    out->push_back(':');
    AppendJsonString(out, pairs[i].second);
  }
  out->push_back('}');
}

std::string Seconds(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace

http::Response ScrapeHandlers::Targets(const http::Request& req) {
  std::string_view state = req.Param("state");
  if (state.empty()) state = "any";
  if (state != "any" && state != "active" && state != "dropped")
    return BadData("state must be any, active or dropped");
  std::string data = "{\"activeTargets\":[";
  if (state != "dropped") {
    auto targets = manager_->ActiveTargets();
    std::sort(targets.begin(), targets.end(), [](const auto& a, const auto& b) {
      return std::tie(a.scrape_pool, a.scrape_url) < std::tie(b.scrape_pool, b.scrape_url);
    });
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto& t = targets[i];
      if (i) data += ',';
      data += "{\"discoveredLabels\":";
      AppendPairs(&data, t.discovered);
      data += ",\"labels\":";
      AppendJsonLabels(&data, t.labels);
      data += ",\"scrapePool\":";
      AppendJsonString(&data, t.scrape_pool);
      data += ",\"scrapeUrl\":";
      AppendJsonString(&data, t.scrape_url);
      data += ",\"globalUrl\":";
      AppendJsonString(&data, t.scrape_url);
      data += ",\"lastError\":";
      AppendJsonString(&data, t.last_error);
      data += ",\"lastScrape\":\"" + Rfc3339(t.last_scrape_ms) + "\"";
      char dur[32];
      std::snprintf(dur, sizeof dur, "%.9g", t.last_duration_seconds);
      data += ",\"lastScrapeDuration\":";
      data += dur;
      data += ",\"health\":\"" + t.health + "\"";
      data += ",\"scrapeInterval\":\"" + Seconds(t.interval) + "\"";
      data += ",\"scrapeTimeout\":\"" + Seconds(t.timeout) + "\"}";
    }
  }
  data += "],\"droppedTargets\":[";
  if (state != "active") {
    auto dropped = manager_->DroppedTargets();
    for (size_t i = 0; i < dropped.size(); ++i) {
      if (i) data += ',';
      data += "{\"discoveredLabels\":";
      AppendPairs(&data, dropped[i].discovered);
      data += '}';
    }
  }
  data += "]}";
  return ApiSuccess(data);
}

http::Response ScrapeHandlers::Config(const http::Request&) {
  std::string data = "{\"yaml\":";
  AppendJsonString(&data, config_yaml_());
  data += '}';
  return ApiSuccess(data);
}

http::Response ScrapeHandlers::Metadata(const http::Request& req) {
  size_t limit = 0;
  if (std::string_view l = req.Param("limit"); !l.empty()) {
    int64_t v;
    if (!ParseInt64(l, &v)) return BadData("invalid parameter \"limit\": " + std::string(l));
    if (v >= 0) limit = static_cast<size_t>(v);
    if (v == 0) return ApiSuccess("{}");
  }
  auto md = manager_->Metadata(std::string(req.Param("metric")), limit);
  std::string data = "{";
  bool first = true;
  for (const auto& [name, m] : md) {
    if (!first) data += ',';
    first = false;
    AppendJsonString(&data, name);
    data += ":[{\"type\":";
    AppendJsonString(&data, m.type);
    data += ",\"help\":";
    AppendJsonString(&data, m.help);
    data += ",\"unit\":\"\"}]";
  }
  data += '}';
  return ApiSuccess(data);
}

void ScrapeHandlers::WriteMetrics(std::string* out) const {
  scrape::ScrapeStats s = manager_->Stats();
  expfmt::Writer w(out);
  using MT = expfmt::MetricType;
  w.Family("tocsin_tsdb_scrapes_total", "Scrapes by result.", MT::kCounter);
  w.Sample("tocsin_tsdb_scrapes_total", {{"result", "ok"}},
           static_cast<double>(s.scrapes - s.failures));
  w.Sample("tocsin_tsdb_scrapes_total", {{"result", "error"}}, static_cast<double>(s.failures));
  w.Single("tocsin_tsdb_scrape_duration_seconds_total", "Seconds spent scraping (all targets).",
           MT::kCounter, s.duration_seconds);
  w.Single("tocsin_tsdb_scrape_missed_intervals_total",
           "Scrape intervals skipped because the previous scrape of the target was still running "
           "or the workers were behind.",
           MT::kCounter, static_cast<double>(s.missed_intervals));
  w.Single("tocsin_tsdb_sd_file_errors_total", "file_sd files that could not be read or parsed.",
           MT::kCounter, static_cast<double>(s.sd_errors));
  w.Family("tocsin_tsdb_scrape_targets", "Active targets by health.", MT::kGauge);
  w.Sample("tocsin_tsdb_scrape_targets", {{"health", "up"}}, static_cast<double>(s.targets_up));
  w.Sample("tocsin_tsdb_scrape_targets", {{"health", "down"}}, static_cast<double>(s.targets_down));
  w.Sample("tocsin_tsdb_scrape_targets", {{"health", "unknown"}},
           static_cast<double>(s.targets_unknown));
}

}  // namespace tocsin::tsdb::api
