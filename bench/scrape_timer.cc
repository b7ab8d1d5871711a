// Scrapes a URL N times in-process (no curl process per request, so the exporter's own latency
// is what is measured) and prints: "median_ms p99_ms bytes". With RAW_FILE, every latency (ms)
// is also appended there, one per line. Usage:
//   scrape_timer URL N [gzip|plain] [RAW_FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/http/client.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: scrape_timer URL N [gzip|plain] [RAW_FILE]\n");
    return 2;
  }
  tocsin::http::ClientRequest req;
  req.url = argv[1];
  int n = std::atoi(argv[2]);
  if (argc > 3 && std::string(argv[3]) == "gzip")
    req.headers.emplace_back("Accept-Encoding", "gzip");
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    tocsin::http::ClientResponse resp;
    auto start = std::chrono::steady_clock::now();
    tocsin::Status st = tocsin::http::Fetch(req, &resp);
    auto end = std::chrono::steady_clock::now();
    if (!st.ok() || resp.status != 200) {
      std::fprintf(stderr, "scrape %d failed: %s (HTTP %d)\n", i, st.ToString().c_str(),
                   resp.status);
      return 1;
    }
    bytes = resp.body.size();
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  if (argc > 4) {
    if (FILE* f = std::fopen(argv[4], "a")) {
      for (double v : ms) std::fprintf(f, "%.4f\n", v);
      std::fclose(f);
    }
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * (ms.size() - 1) + 0.5))];
  };
  std::printf("%.3f %.3f %zu\n", at(0.5), at(0.99), bytes);
  return 0;
}
