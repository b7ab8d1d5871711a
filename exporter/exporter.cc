#include "exporter/exporter.h"

#include "common/expfmt/writer.h"

namespace tocsin::exporter {

Exporter::Exporter(const ExporterOptions& options)
    : registry_(options.parallelism), process_(NewProcessCollector(Paths())) {
  for (const CollectorDef& def : AllCollectors()) {
    bool on = options.disable_defaults ? false : def.default_enabled;
    if (auto it = options.enabled.find(def.name); it != options.enabled.end()) on = it->second;
    if (!on) continue;
    registry_.Add(def.name, def.make(options.collectors));
    enabled_.push_back(def.name);
  }
}

http::Response Exporter::HandleMetrics(const http::Request& req) {
  in_flight_.fetch_add(1);
  std::vector<std::string> only;
  for (std::string_view c : req.Params("collect[]")) only.emplace_back(c);
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body.reserve(256 << 10);
  Status st = registry_.Scrape(only, &r.body);
  if (!st.ok()) {
    in_flight_.fetch_sub(1);
    requests_400_.fetch_add(1);
    return http::Response::Text(
        400, "Couldn't create filtered metrics handler: " + std::string(st.message()) + "\n");
  }
  if (only.empty()) {
    expfmt::Writer w(&r.body);
    {
      std::lock_guard<std::mutex> lock(process_mu_);
      size_t mark = r.body.size();
      if (!process_->Collect(&w).ok()) r.body.resize(mark);
    }
    w.Family("node_exporter_build_info",
             "A metric with a constant '1' value labeled by version, revision, branch, goversion "
             "from which "
             "node_exporter was built, and the goos and goarch for the build.",
             expfmt::MetricType::kGauge);
    w.Sample("node_exporter_build_info",
             {{"branch", ""},
              {"goarch", "amd64"},
              {"goos", "linux"},
              {"goversion", "tocsin-exporter (C++)"},
              {"revision", ""},
              {"version", kVersion}},
             1);
    w.Family("promhttp_metric_handler_requests_in_flight",
             "Current number of scrapes being served.", expfmt::MetricType::kGauge);
    w.Sample("promhttp_metric_handler_requests_in_flight", {}, in_flight_.load());
    w.Family("promhttp_metric_handler_requests_total",
             "Total number of scrapes by HTTP status code.", expfmt::MetricType::kCounter);
    w.Sample("promhttp_metric_handler_requests_total", {{"code", "200"}},
             static_cast<double>(requests_200_.load()));
    w.Sample("promhttp_metric_handler_requests_total", {{"code", "400"}},
             static_cast<double>(requests_400_.load()));
    w.Sample("promhttp_metric_handler_requests_total", {{"code", "500"}},
             static_cast<double>(requests_500_.load()));
  }
  requests_200_.fetch_add(1);
  in_flight_.fetch_sub(1);
  return r;
}

}  // namespace tocsin::exporter
