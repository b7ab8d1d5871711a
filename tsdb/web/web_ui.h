#pragma once
// tocsin-tsdb's own page: static files (tsdb/web/static, built into the binary by
// cmake/embed_files.cmake) served at /, /graph, /targets, /alerts and /tsdb-status (one page,
// the tab chosen by the path) and /static/*. The page talks to the same HTTP API as Grafana.
// Thread-safety: the handlers are stateless.

#include "common/http/message.h"

namespace tocsin::tsdb::web {

void RegisterWebUi(http::Router* router);

}  // namespace tocsin::tsdb::web
