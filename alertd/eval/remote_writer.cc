#include "alertd/eval/remote_writer.h"

#include <snappy.h>

#include <thread>

#include "common/http/client.h"
#include "tsdb/remote/write_request.h"

namespace tocsin::alertd {

Status RemoteWriter::Write(const std::vector<OutputSeries>& series) {
  if (series.empty()) return Status::Ok();
  std::string proto;
  std::vector<tsdb::remote::Label> ls;
  for (const OutputSeries& s : series) {
    ls.clear();
    for (const auto& [n, v] : s.labels) ls.push_back({n, v});  // std::map: sorted by name
    tsdb::remote::EncodeTimeSeries(ls, {{s.v, s.t}}, &proto);
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = url_;
  req.timeout = timeout_;
  req.headers = {{"Content-Encoding", "snappy"},
                 {"Content-Type", "application/x-protobuf"},
                 {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                 {"User-Agent", "tocsin-alertd"}};
  snappy::Compress(proto.data(), proto.size(), &req.body);
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    http::ClientResponse resp;
    last = http::Fetch(req, &resp);
    if (last.ok() && resp.status / 100 == 2) {
      written_.fetch_add(series.size());
      return Status::Ok();
    }
    if (last.ok()) {
      last = Status::Unavailable("remote write answered HTTP " + std::to_string(resp.status) +
                                 ": " + resp.body.substr(0, 200));
      if (resp.status / 100 == 4 && resp.status != 429) break;  // not worth retrying
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
  }
  failures_.fetch_add(1);
  return last;
}

}  // namespace tocsin::alertd
