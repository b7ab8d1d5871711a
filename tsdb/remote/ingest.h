#pragma once
// Remote-write requests into a storage Appender. Thread-safety: pure function over its args.

#include <string>

#include "tsdb/remote/write_request.h"
#include "tsdb/storage/interface.h"

namespace tocsin::tsdb::remote {

struct IngestResult {
  size_t appended = 0;
  size_t rejected[5] = {};  // by AppendError
  size_t histograms_refused = 0;
  // The first problem, naming the series (for the 400 answer); empty when none.
  std::string first_error;
  size_t total_rejected() const;
};

// Appends every sample of req (series with invalid labels are refused whole) and commits.
// Samples that are fine stay appended even when others are rejected; a commit error is returned.
Status Ingest(const WriteRequest& req, Appender* app, IngestResult* result);

}  // namespace tocsin::tsdb::remote
