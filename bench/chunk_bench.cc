// Chunk encoding on the shared dataset (../shared/datasets, node_exporter-shaped): bytes per
// sample of XOR chunks alone (no index, no storage engine), and encode/decode speed.
//   python3 ../shared/datasets/gen_dataset.py --format prom --start 1763748000 -o /tmp/ds.prom
//   build/bench/chunk_bench /tmp/ds.prom [samples_per_chunk=480]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/file.h"
#include "common/expfmt/parser.h"
#include "tsdb/chunk/chunk.h"

namespace {

using tocsin::tsdb::TimestampMs;

struct Series {
  std::vector<TimestampMs> t;
  std::vector<double> v;
};

std::vector<Series> Load(const char* path) {
  std::string text;
  tocsin::Status st = tocsin::ReadFile(path, &text, size_t{4} << 30);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    std::exit(1);
  }
  std::unordered_map<std::string, size_t> index;
  std::vector<Series> series;
  tocsin::expfmt::Parser p(text);
  tocsin::expfmt::Parser::Entry e;
  std::string key;
  while (p.Next(&e)) {
    if (e != tocsin::expfmt::Parser::Entry::kSample || !p.timestamp_ms()) continue;
    key.assign(p.series_text());  // the dataset writes each series' labels the same way
    auto [it, inserted] = index.try_emplace(key, series.size());
    if (inserted) series.emplace_back();
    series[it->second].t.push_back(*p.timestamp_ms());
    series[it->second].v.push_back(p.value());
  }
  if (!p.status().ok()) {
    std::fprintf(stderr, "%s: %s\n", path, p.status().ToString().c_str());
    std::exit(1);
  }
  return series;
}

std::vector<Series>* g_series;
int g_per_chunk = 480;

void BM_XorEncode(benchmark::State& state) {
  std::string chunk;
  tocsin::tsdb::XorAppender a;
  size_t samples = 0, bytes = 0;
  for (auto _ : state) {
    samples = bytes = 0;
    for (const Series& s : *g_series) {
      for (size_t i = 0; i < s.t.size(); i += static_cast<size_t>(g_per_chunk)) {
        a.Reset(&chunk);
        for (size_t j = i; j < s.t.size() && j < i + static_cast<size_t>(g_per_chunk); ++j)
          a.Append(s.t[j], s.v[j]);
        samples += static_cast<size_t>(a.num_samples());
        bytes += chunk.size();
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
  state.counters["bytes/sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
  state.counters["samples"] = static_cast<double>(samples);
}

// Closed chunks: the smaller of decimal and XOR per chunk.
void BM_EncodeBest(benchmark::State& state) {
  std::string chunk;
  size_t samples = 0, bytes = 0, decimal = 0, chunks = 0;
  for (auto _ : state) {
    samples = bytes = decimal = chunks = 0;
    for (const Series& s : *g_series) {
      for (size_t i = 0; i < s.t.size(); i += static_cast<size_t>(g_per_chunk)) {
        size_t n = std::min(static_cast<size_t>(g_per_chunk), s.t.size() - i);
        tocsin::tsdb::EncodeBest(std::span(s.t).subspan(i, n), std::span(s.v).subspan(i, n),
                                 &chunk);
        samples += n;
        bytes += chunk.size();
        decimal += chunk[0] == static_cast<char>(tocsin::tsdb::Encoding::kDecimal);
        ++chunks;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
  if (const char* dump = std::getenv("TOCSIN_DUMP_CHUNKS")) {
    // One pass more, writing every chunk: for sizing a block compressor (zstd) on top.
    if (FILE* f = std::fopen(dump, "wb")) {
      for (const Series& s : *g_series) {
        for (size_t i = 0; i < s.t.size(); i += static_cast<size_t>(g_per_chunk)) {
          size_t n = std::min(static_cast<size_t>(g_per_chunk), s.t.size() - i);
          tocsin::tsdb::EncodeBest(std::span(s.t).subspan(i, n), std::span(s.v).subspan(i, n),
                                   &chunk);
          std::fwrite(chunk.data(), 1, chunk.size(), f);
        }
      }
      std::fclose(f);
    }
  }
  state.counters["bytes/sample"] = static_cast<double>(bytes) / static_cast<double>(samples);
  state.counters["decimal_share"] = static_cast<double>(decimal) / static_cast<double>(chunks);
}

// Reads every sample of every chunk with Iterator, once per benchmark iteration.
template <typename Iterator>
void DecodeAll(benchmark::State& state, const std::vector<std::string>& chunks, size_t samples) {
  Iterator it;
  for (auto _ : state) {
    double sum = 0;
    for (const std::string& c : chunks) {
      it.Reset(c);
      while (it.Next()) sum += it.v();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * samples));
}

void BM_XorDecode(benchmark::State& state) {
  std::vector<std::string> chunks;
  tocsin::tsdb::XorAppender a;
  size_t samples = 0;
  for (const Series& s : *g_series) {
    for (size_t i = 0; i < s.t.size(); i += static_cast<size_t>(g_per_chunk)) {
      chunks.emplace_back();
      a.Reset(&chunks.back());
      for (size_t j = i; j < s.t.size() && j < i + static_cast<size_t>(g_per_chunk); ++j)
        a.Append(s.t[j], s.v[j]);
      samples += static_cast<size_t>(a.num_samples());
    }
  }
  DecodeAll<tocsin::tsdb::XorIterator>(state, chunks, samples);
}

// Decoding what is stored: the chunks EncodeBest picks (decimal for most), read back through
// ChunkIterator as queries do.
void BM_DecodeBest(benchmark::State& state) {
  std::vector<std::string> chunks;
  size_t samples = 0;
  for (const Series& s : *g_series) {
    for (size_t i = 0; i < s.t.size(); i += static_cast<size_t>(g_per_chunk)) {
      size_t n = std::min(static_cast<size_t>(g_per_chunk), s.t.size() - i);
      chunks.emplace_back();
      tocsin::tsdb::EncodeBest(std::span(s.t).subspan(i, n), std::span(s.v).subspan(i, n),
                               &chunks.back());
      samples += n;
    }
  }
  DecodeAll<tocsin::tsdb::ChunkIterator>(state, chunks, samples);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: chunk_bench DATASET.prom [samples_per_chunk]\n");
    return 2;
  }
  if (argc > 2) g_per_chunk = std::atoi(argv[2]);
  std::vector<Series> series = Load(argv[1]);
  g_series = &series;
  std::fprintf(stderr, "loaded %zu series from %s; %d samples per chunk\n", series.size(), argv[1],
               g_per_chunk);
  benchmark::RegisterBenchmark("BM_XorEncode", BM_XorEncode)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_EncodeBest", BM_EncodeBest)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_XorDecode", BM_XorDecode)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_DecodeBest", BM_DecodeBest)->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
