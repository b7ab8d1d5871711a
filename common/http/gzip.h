#pragma once
// gzip compression for HTTP responses (zlib). Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace tocsin::http {

// Replaces *out with the gzip encoding of in.
Status GzipCompress(std::string_view in, std::string* out, int level = 1);
// Replaces *out with the decoded gzip stream in; fails beyond max_bytes of output.
Status GzipDecompress(std::string_view in, std::string* out, size_t max_bytes = 256 << 20);
// True when an Accept-Encoding header value allows gzip.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace tocsin::http
