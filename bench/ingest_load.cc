// Posts the shared dataset to a store as Prometheus would (remote write: batches of samples,
// snappy + protobuf, series sharded over connections) or as a bulk import (text with ms
// timestamps), from several connections, and prints "samples elapsed_s samples_per_s".
//   ingest_load URL DATASET.prom remote_write|import [BATCH=2000] [CONNECTIONS=2]
// DATASET may also be "synthetic:N": N node_exporter-shaped series (6 labels) with 2 samples
// each, for memory-per-series measurements.
// Request bodies are built before the clock starts.
#include <snappy.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/base/file.h"
#include "common/expfmt/parser.h"
#include "common/expfmt/writer.h"
#include "common/http/client.h"
#include "tsdb/remote/write_request.h"

namespace {

struct Point {
  size_t series;
  double v;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: ingest_load URL DATASET.prom remote_write|import [BATCH] [CONNECTIONS]\n");
    return 2;
  }
  std::string url = argv[1], mode = argv[3];
  size_t batch = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 2000;
  int conns = argc > 5 ? std::atoi(argv[5]) : 2;
  std::string text;
  std::string_view dataset = argv[2];
  if (dataset.starts_with("synthetic:")) {
    size_t n = std::strtoul(argv[2] + 10, nullptr, 10);
    static const char* kModes[] = {"user", "system",  "idle",  "iowait",
                                   "irq",  "softirq", "steal", "nice"};
    for (int t = 0; t < 2; ++t) {
      for (size_t i = 0; i < n; ++i) {
        text += "node_cpu_seconds_total{cpu=\"" + std::to_string(i % 64) + "\",mode=\"" +
                kModes[i % 8] + "\",instance=\"host-" + std::to_string(i / 512) +
                ":9100\",job=\"node\",datacenter=\"dc" + std::to_string(i % 3) + "\",rack=\"r" +
                std::to_string((i / 64) % 50) + "\"} " + std::to_string(i + t) + " " +
                std::to_string(1700000000000 + t * 15000) + "\n";
      }
    }
  } else if (!tocsin::ReadFile(argv[2], &text, size_t{4} << 30).ok()) {
    std::fprintf(stderr, "cannot read %s\n", argv[2]);
    return 1;
  }
  // series key -> id and labels; time -> points
  std::unordered_map<std::string, size_t> ids;
  std::vector<std::vector<std::pair<std::string, std::string>>> series_labels;
  std::map<int64_t, std::vector<Point>> by_time;
  tocsin::expfmt::Parser p(text);
  tocsin::expfmt::Parser::Entry e;
  std::string key;
  size_t total = 0;
  while (p.Next(&e)) {
    if (e != tocsin::expfmt::Parser::Entry::kSample || !p.timestamp_ms()) continue;
    key.assign(p.series_text());  // the dataset writes each series' labels the same way
    auto [it, inserted] = ids.try_emplace(key, series_labels.size());
    if (inserted) {
      std::vector<std::pair<std::string, std::string>> l = {
          {"__name__", std::string(p.metric_name())}};
      for (size_t i = 0; i < p.label_count(); ++i)
        l.emplace_back(p.label_name(i), p.label_value(i));
      std::sort(l.begin(), l.end());
      series_labels.push_back(std::move(l));
    }
    by_time[*p.timestamp_ms()].push_back({it->second, p.value()});
    ++total;
  }
  // Build request bodies per connection: series are sharded over connections (as Prometheus
  // shards remote write by series), and each shard's requests go out in time order, so every
  // series arrives in order.
  std::vector<std::vector<std::string>> shards(static_cast<size_t>(conns));
  size_t requests = 0;
  std::vector<tocsin::tsdb::remote::Label> labels;
  for (int c = 0; c < conns; ++c) {
    std::string body, proto;
    size_t in_body = 0;
    auto flush = [&] {
      if (in_body == 0) return;
      if (mode == "remote_write") {
        body.clear();
        snappy::Compress(proto.data(), proto.size(), &body);
        proto.clear();
      }
      shards[static_cast<size_t>(c)].push_back(std::move(body));
      body.clear();
      ++requests;
      in_body = 0;
    };
    for (const auto& [t, points] : by_time) {
      for (const Point& pt : points) {
        if (pt.series % static_cast<size_t>(conns) != static_cast<size_t>(c)) continue;
        const auto& l = series_labels[pt.series];
        if (mode == "remote_write") {
          labels.clear();
          for (const auto& [n, v] : l) labels.push_back({n, v});
          tocsin::tsdb::remote::EncodeTimeSeries(labels, {{pt.v, t}}, &proto);
        } else {
          std::string_view name;
          std::vector<tocsin::expfmt::Label> el;
          for (const auto& [n, v] : l) {
            if (n == "__name__")
              name = v;
            else
              el.push_back({n, v});
          }
          tocsin::expfmt::AppendSeriesPrefix(&body, name, el);
          tocsin::expfmt::AppendDouble(&body, pt.v);
          body += ' ';
          body += std::to_string(t);
          body += '\n';
        }
        if (++in_body == batch) flush();
      }
    }
    flush();
  }
  std::fprintf(stderr,
               "%zu samples of %zu series in %zu requests (%s, batch %zu, %d connections)\n", total,
               series_labels.size(), requests, mode.c_str(), batch, conns);
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      const std::vector<std::string>& bodies = shards[static_cast<size_t>(c)];
      tocsin::http::ClientRequest req;
      req.method = "POST";
      req.url = url;
      req.timeout = std::chrono::seconds(60);
      if (mode == "remote_write") {
        req.headers = {{"Content-Encoding", "snappy"},
                       {"Content-Type", "application/x-protobuf"},
                       {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
      }
      tocsin::http::ClientResponse resp;
      for (size_t i = 0; i < bodies.size(); ++i) {
        req.body = bodies[i];
        tocsin::Status st = tocsin::http::Fetch(req, &resp);
        if (!st.ok() || resp.status / 100 != 2) {
          if (failures.fetch_add(1) < 3) {
            std::fprintf(stderr, "request %zu: %s HTTP %d %s\n", i, st.ToString().c_str(),
                         resp.status, resp.body.substr(0, 200).c_str());
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu %.3f %.0f\n", total, secs, static_cast<double>(total) / secs);
  return failures.load() == 0 ? 0 : 1;
}
