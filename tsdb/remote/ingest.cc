#include "tsdb/remote/ingest.h"

namespace tocsin::tsdb::remote {

size_t IngestResult::total_rejected() const {
  size_t n = histograms_refused;
  for (size_t r : rejected) n += r;
  return n;
}

Status Ingest(const WriteRequest& req, Appender* app, IngestResult* result) {
  *result = IngestResult();
  std::vector<labels::Labels::View> pairs;
  labels::Labels series;
  for (size_t i = 0; i < req.num_series(); ++i) {
    const TimeSeries& ts = req.series()[i];
    pairs.clear();
    for (const Label& l : ts.labels) pairs.emplace_back(l.name, l.value);
    Status st = labels::Labels::FromViews(pairs, &series);
    if (st.ok() && !series.Has(labels::kMetricName))
      st = Status::InvalidArgument("series without __name__");
    if (!st.ok()) {
      result->rejected[static_cast<int>(AppendError::kInvalidLabels)] += ts.samples.size();
      if (result->first_error.empty())
        result->first_error = "series " + std::to_string(i) + ": " + std::string(st.message());
      continue;
    }
    if (ts.histograms > 0) {
      result->histograms_refused += ts.histograms;
      if (result->first_error.empty()) {
        result->first_error = series.ToString() + ": native histograms are not supported yet";
      }
    }
    for (const Sample& s : ts.samples) {
      AppendError e = app->Append(series, s.timestamp_ms, s.value);
      if (e == AppendError::kNone) {
        ++result->appended;
        continue;
      }
      ++result->rejected[static_cast<int>(e)];
      if (result->first_error.empty()) {
        result->first_error = std::string(AppendErrorName(e)) + " sample for series " +
                              series.ToString() + " at timestamp " + std::to_string(s.timestamp_ms);
      }
    }
  }
  return app->Commit();
}

}  // namespace tocsin::tsdb::remote
