// For integration.tsdb_crash: remote-writes batches of samples one request at a time, as a
// Prometheus remote-write queue does, and appends the number of every batch the server
// acknowledged (2xx) to a file, until a request fails (the server was killed) or MAX batches.
//   rw_crash_writer URL ACKED_FILE [SERIES=100] [MAX=5000]
// Batch b holds one sample per series: crash_rw{series="s"} = b at 1700000000000 + b*1000 ms.
#include <snappy.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "tsdb/remote/write_request.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rw_crash_writer URL ACKED_FILE [SERIES] [MAX]\n");
    return 2;
  }
  const std::string url = argv[1];
  const int series = argc > 3 ? std::atoi(argv[3]) : 100;
  const int max = argc > 4 ? std::atoi(argv[4]) : 5000;
  std::FILE* acked = std::fopen(argv[2], "a");
  if (acked == nullptr) {
    std::perror(argv[2]);
    return 1;
  }
  std::vector<std::string> names;
  for (int s = 0; s < series; ++s) names.push_back(std::to_string(s));
  tocsin::http::ClientRequest req;
  req.method = "POST";
  req.url = url;
  req.timeout = std::chrono::seconds(10);
  req.headers = {{"Content-Encoding", "snappy"},
                 {"Content-Type", "application/x-protobuf"},
                 {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  tocsin::http::ClientResponse resp;
  std::string proto;
  for (int b = 0; b < max; ++b) {
    proto.clear();
    const int64_t t = 1700000000000 + int64_t{b} * 1000;
    for (int s = 0; s < series; ++s) {
      tocsin::tsdb::remote::EncodeTimeSeries(
          {{"__name__", "crash_rw"}, {"series", names[static_cast<size_t>(s)]}},
          {{static_cast<double>(b), t}}, &proto);
    }
    req.body.clear();
    snappy::Compress(proto.data(), proto.size(), &req.body);
    tocsin::Status st = tocsin::http::Fetch(req, &resp);
    if (!st.ok() || resp.status / 100 != 2) break;
    std::fprintf(acked, "%d\n", b);
    std::fflush(acked);
  }
  std::fclose(acked);
  return 0;
}
