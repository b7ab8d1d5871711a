#pragma once
// The Prometheus HTTP API's metadata and admin endpoints over the head:
//   /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values  (match[], start, end)
//   /api/v1/export (raw samples, JSON lines)
//   /api/v1/status/tsdb (cardinality), /api/v1/status/buildinfo, /api/v1/status/flags
//   /api/v1/admin/tsdb/snapshot, /delete_series, /clean_tombstones  (--web.enable-admin-api)
// GET and form-encoded POST alike; errors in Prometheus's JSON shape.
// Thread-safety: thread-safe.

#include <string>
#include <utility>
#include <vector>

#include "common/http/message.h"
#include "tsdb/storage/head.h"

namespace tocsin::tsdb::api {

struct MetadataOptions {
  bool admin_enabled = false;
  std::string snapshot_dir;  // snapshots go to <snapshot_dir>/<name>
  std::string version;       // tocsin's own
  // Flags as /api/v1/status/flags shows them.
  std::vector<std::pair<std::string, std::string>> flags;
  int64_t lookback_delta_ms = 5 * 60 * 1000;  // for /federate
};

class MetadataHandlers {
 public:
  MetadataHandlers(Head* head, MetadataOptions options)
      : head_(head), options_(std::move(options)) {}

  http::Response Series(const http::Request& req);
  http::Response Labels(const http::Request& req);
  // Path /api/v1/label/<name>/values.
  http::Response LabelValues(const http::Request& req);
  // GET/POST /api/v1/export: raw samples of the series matching match[] within start/end, one
  // JSON object per line ({"metric":{..},"values":[..],"timestamps":[..]}), the format
  // VictoriaMetrics exports and imports (/api/v1/import). For backups, migration and tests.
  http::Response Export(const http::Request& req);
  http::Response StatusTsdb(const http::Request& req);
  // /federate?match[]=...: the newest sample (within the lookback delta) of every matching
  // series, in the text format with timestamps, for a Prometheus that scrapes this one.
  http::Response Federate(const http::Request& req);
  // /api/v1/query_exemplars: no exemplars are stored; an empty list.
  http::Response QueryExemplars(const http::Request& req);
  // /api/v1/format_query?query=...: the query in PromQL's canonical form, or its parse error.
  http::Response FormatQuery(const http::Request& req);
  http::Response BuildInfo(const http::Request& req);
  http::Response Flags(const http::Request& req);
  http::Response Snapshot(const http::Request& req);
  http::Response DeleteSeries(const http::Request& req);
  http::Response CleanTombstones(const http::Request& req);

  // Registers every endpoint above on the router.
  void Register(http::Router* router);

 private:
  Head* head_;
  MetadataOptions options_;
};

}  // namespace tocsin::tsdb::api
