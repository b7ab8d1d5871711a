#include "tsdb/api/ingest_handlers.h"

#include <chrono>
#include <unordered_map>

#include "common/expfmt/parser.h"
#include "common/expfmt/writer.h"
#include "common/http/gzip.h"
#include "tsdb/remote/ingest.h"

namespace tocsin::tsdb::api {

namespace {

http::Response Error(int code, std::string msg) {
  if (msg.empty() || msg.back() != '\n') msg += '\n';
  return http::Response::Text(code, std::move(msg));
}

int CodeFor(const Status& st) { return st.code() == Status::Code::kResourceExhausted ? 413 : 400; }

}  // namespace

http::Response IngestHandlers::Write(const http::Request& req) {
  if (req.method != "POST") return Error(405, "remote write needs POST");
  write_requests_.fetch_add(1, std::memory_order_relaxed);
  thread_local remote::WriteRequest wr;  // reused: a steady stream of requests allocates little
  Status st = wr.Decode(req.body, options_.max_decoded_bytes);
  if (!st.ok()) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    return Error(CodeFor(st), std::string(st.message()));
  }
  auto app = head_->NewAppender();
  remote::IngestResult r;
  st = remote::Ingest(wr, app.get(), &r);
  if (!st.ok()) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    return Error(500, "storage: " + std::string(st.message()));
  }
  if (r.total_rejected() > 0) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    return Error(400, std::to_string(r.total_rejected()) + " of " +
                          std::to_string(wr.num_samples()) +
                          " samples rejected; first: " + r.first_error);
  }
  http::Response ok = http::Response::Text(204, "");
  ok.headers.emplace_back("X-Prometheus-Remote-Write-Samples-Written", std::to_string(r.appended));
  return ok;
}

http::Response IngestHandlers::Import(const http::Request& req) {
  if (req.method != "POST") return Error(405, "import needs POST");
  import_requests_.fetch_add(1, std::memory_order_relaxed);
  std::string_view body = req.body;
  std::string inflated;
  if (req.Header("content-encoding") == "gzip") {
    Status st = http::GzipDecompress(req.body, &inflated, options_.max_decoded_bytes);
    if (!st.ok()) {
      import_failures_.fetch_add(1, std::memory_order_relaxed);
      return Error(CodeFor(st), std::string(st.message()));
    }
    body = inflated;
  }
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto app = head_->NewAppender();
  expfmt::Parser p(body);
  expfmt::Parser::Entry e;
  std::vector<labels::Labels::View> pairs;
  labels::Labels series;
  // An import repeats each series once per timestamp: resolve its text to a series once.
  std::unordered_map<std::string_view, SeriesRef> refs;
  size_t appended = 0, rejected = 0;
  std::string first_rejection;
  while (p.Next(&e)) {
    if (e != expfmt::Parser::Entry::kSample) continue;
    TimestampMs t = p.timestamp_ms().value_or(now_ms);
    AppendError ae;
    if (auto it = refs.find(p.series_text()); it != refs.end()) {
      ae = app->AppendRef(it->second, t, p.value());
    } else {
      pairs.clear();
      pairs.emplace_back(labels::kMetricName, p.metric_name());
      for (size_t i = 0; i < p.label_count(); ++i)
        pairs.emplace_back(p.label_name(i), p.label_value(i));
      Status st = labels::Labels::FromViews(pairs, &series);
      if (!st.ok()) {
        app->Rollback();
        import_failures_.fetch_add(1, std::memory_order_relaxed);
        return Error(400, "line " + std::to_string(p.line()) + ": " + std::string(st.message()));
      }
      SeriesRef ref = 0;
      ae = app->Append(series, t, p.value(), &ref);
      if (ref != 0) refs.emplace(p.series_text(), ref);
    }
    if (ae == AppendError::kNone) {
      ++appended;
    } else if (++rejected == 1) {
      first_rejection =
          "line " + std::to_string(p.line()) + ": " + std::string(AppendErrorName(ae)) + " sample";
    }
  }
  if (!p.status().ok()) {
    app->Rollback();
    import_failures_.fetch_add(1, std::memory_order_relaxed);
    return Error(400, std::string(p.status().message()));
  }
  Status st = app->Commit();
  if (!st.ok()) return Error(500, "storage: " + std::string(st.message()));
  if (rejected > 0) {
    import_failures_.fetch_add(1, std::memory_order_relaxed);
    return Error(400, std::to_string(rejected) + " samples rejected (" + std::to_string(appended) +
                          " stored); first: " + first_rejection);
  }
  return http::Response::Text(204, "");
}

http::Response IngestHandlers::Metrics(const http::Request&) {
  HeadStats s = head_->Stats();
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  expfmt::Writer w(&r.body);
  using MT = expfmt::MetricType;
  w.Single("tocsin_tsdb_head_series", "Series in the head.", MT::kGauge,
           static_cast<double>(s.series));
  w.Single("tocsin_tsdb_head_samples_appended_total", "Samples appended to the head.", MT::kCounter,
           static_cast<double>(s.samples_appended));
  w.Family("tocsin_tsdb_samples_rejected_total", "Samples not appended, by reason.", MT::kCounter);
  for (int i = 1; i < 5; ++i) {
    std::string_view reason = AppendErrorName(static_cast<AppendError>(i));
    w.Sample("tocsin_tsdb_samples_rejected_total", {{"reason", reason}},
             static_cast<double>(s.rejected[i]));
  }
  w.Single("tocsin_tsdb_head_chunks_closed_total", "Chunks closed (re-encoded) in the head.",
           MT::kCounter, static_cast<double>(s.chunks_closed));
  w.Single("tocsin_tsdb_closed_chunk_bytes", "Bytes of closed chunks.", MT::kGauge,
           static_cast<double>(s.closed_chunk_bytes));
  w.Single("tocsin_tsdb_closed_chunk_samples", "Samples in closed chunks.", MT::kGauge,
           static_cast<double>(s.closed_chunk_samples));
  w.Single("tocsin_tsdb_chunk_write_failures_total",
           "Closed chunks the database refused (kept in memory instead).", MT::kCounter,
           static_cast<double>(s.chunk_write_failures));
  w.Single("tocsin_tsdb_wal_bytes", "Bytes of write-ahead log segments on disk.", MT::kGauge,
           static_cast<double>(s.wal_bytes));
  w.Single("tocsin_tsdb_wal_fsyncs_total", "fsync calls on the write-ahead log.", MT::kCounter,
           static_cast<double>(s.wal_fsyncs));
  w.Single("tocsin_tsdb_wal_fsync_seconds_total", "Seconds spent in write-ahead log fsyncs.",
           MT::kCounter, s.wal_fsync_seconds);
  w.Single("tocsin_tsdb_storage_bytes", "Bytes of the chunk database (table files and memtables).",
           MT::kGauge, static_cast<double>(s.db_bytes));
  w.Single("tocsin_tsdb_checkpoints_total",
           "Checkpoints written (head persisted, write-ahead log truncated).", MT::kCounter,
           static_cast<double>(s.checkpoints));
  w.Single("tocsin_tsdb_last_checkpoint_duration_seconds", "Duration of the last checkpoint.",
           MT::kGauge, s.last_checkpoint_seconds);
  w.Single("tocsin_tsdb_retention_days_dropped_total", "Days of chunks removed by retention.",
           MT::kCounter, static_cast<double>(s.retention_blocks_dropped));
  w.Single("tocsin_tsdb_series_deleted_total", "Series removed through the admin API.",
           MT::kCounter, static_cast<double>(s.series_deleted));
  w.Family("tocsin_tsdb_ingest_requests_total", "Write and import requests, by path and result.",
           MT::kCounter);
  w.Sample("tocsin_tsdb_ingest_requests_total", {{"path", "/api/v1/write"}, {"result", "ok"}},
           static_cast<double>(write_requests_.load() - write_failures_.load()));
  w.Sample("tocsin_tsdb_ingest_requests_total", {{"path", "/api/v1/write"}, {"result", "error"}},
           static_cast<double>(write_failures_.load()));
  w.Sample("tocsin_tsdb_ingest_requests_total",
           {{"path", "/api/v1/import/prometheus"}, {"result", "ok"}},
           static_cast<double>(import_requests_.load() - import_failures_.load()));
  w.Sample("tocsin_tsdb_ingest_requests_total",
           {{"path", "/api/v1/import/prometheus"}, {"result", "error"}},
           static_cast<double>(import_failures_.load()));
  return r;
}

}  // namespace tocsin::tsdb::api
