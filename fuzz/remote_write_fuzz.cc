// Arbitrary bytes as a remote-write body: first as snappy + protobuf, then as bare protobuf.
// Errors are fine; crashes, leaks and undefined behaviour are not. Decoded requests are
// ingested into a head to exercise label validation and appends too.
#include <cstdint>
#include <string_view>

#include "tsdb/remote/ingest.h"
#include "tsdb/storage/head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  tocsin::tsdb::remote::WriteRequest req;
  req.Decode(in, 1 << 20).IgnoreError();
  if (req.DecodeProto(in).ok()) {
    tocsin::tsdb::Head head;
    auto app = head.NewAppender();
    tocsin::tsdb::remote::IngestResult r;
    tocsin::tsdb::remote::Ingest(req, app.get(), &r).IgnoreError();
  }
  return 0;
}
