#include "common/http/gzip.h"

#include <zlib.h>

#include "common/base/strings.h"

namespace tocsin::http {

Status GzipCompress(std::string_view in, std::string* out, int level) {
  z_stream zs{};
  // 15 window bits + 16 selects the gzip wrapper.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("deflateInit2 failed");
  }
  out->resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&zs, Z_FINISH);
  out->resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::Internal("deflate did not finish");
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
