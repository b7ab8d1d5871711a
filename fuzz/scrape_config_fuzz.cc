// Parses arbitrary YAML as prometheus.yml, and relabels a fixed label set with whatever
// relabel configs it yields: errors are fine, crashes, hangs and leaks are not.
#include <string>

#include "tsdb/scrape/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tocsin::tsdb::scrape;
  Config c;
  if (!ParseConfig(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yml",
                   "/nonexistent", &c)
           .ok())
    return 0;
  (void)c.Redacted();
  for (const auto& sc : c.scrape_configs) {
    LabelPairs l = {{"__address__", "host:9100"}, {"job", sc.job_name}, {"__name__", "up"}};
    Relabel(sc.relabel_configs, &l);
    Relabel(sc.metric_relabel_configs, &l);
  }
  return 0;
}
