#include "common/http/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <mutex>

#include "common/base/strings.h"

namespace tocsin::http {

Status GzipCompress(std::string_view in, std::string* out, int level) {
  // libdeflate compresses a whole buffer about three times faster than zlib at the same level
  // (a 65 kB scrape: ~0.15 ms instead of ~0.47 ms). One compressor (a few hundred kB of tables)
  // is shared under a mutex rather than kept per worker thread: compressing is short, and the
  // exporter's resident set is one of its goals.
  static std::mutex mu;
  static libdeflate_compressor* compressor = nullptr;
  static int compressor_level = -1;
  std::lock_guard<std::mutex> lock(mu);
  if (compressor == nullptr || compressor_level != level) {
    if (compressor) libdeflate_free_compressor(compressor);
    compressor = libdeflate_alloc_compressor(level);
    compressor_level = level;
    if (compressor == nullptr) return Status::Internal("libdeflate_alloc_compressor failed");
  }
  out->resize(libdeflate_gzip_compress_bound(compressor, in.size()));
  size_t n = libdeflate_gzip_compress(compressor, in.data(), in.size(), out->data(), out->size());
  if (n == 0) return Status::Internal("gzip compression failed");
  out->resize(n);
  return Status::Ok();
}

Status GzipDecompress(std::string_view in, std::string* out, size_t max_bytes) {
  out->clear();
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status::InvalidArgument("gzip: corrupt stream");
    }
    out->append(buf, sizeof buf - zs.avail_out);
    if (out->size() > max_bytes) {
      inflateEnd(&zs);
      return Status::ResourceExhausted("gzip: decoded body larger than " +
                                       std::to_string(max_bytes) + " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Status::InvalidArgument("gzip: truncated stream");
    }
  }
  inflateEnd(&zs);
  return Status::Ok();
}

bool AcceptsGzip(std::string_view v) {
  for (std::string_view part : Split(v, ',')) {
    part = TrimSpace(part);
    std::string_view coding = TrimSpace(part.substr(0, part.find(';')));
    if (coding != "gzip" && coding != "*") continue;
    size_t q = part.find("q=");
    if (q != std::string_view::npos) {
      double qv = 1;
      if (ParseDouble(TrimSpace(part.substr(q + 2)), &qv) && qv == 0) continue;
    }
    return true;
  }
  return false;
}

}  // namespace tocsin::http
