// Google Benchmark suites for the exporter's hot paths: each parser over its fixture file, the
// float formatter, and a full collect+serialize over the fixture tree and the live machine.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <new>

#include "common/base/file.h"
#include "common/expfmt/writer.h"
#include "exporter/exporter.h"
#include "exporter/procfs/procfs.h"

// Counting allocator: allocations per iteration are reported as a counter.
static std::atomic<uint64_t> g_allocs{0};
void* operator new(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace tocsin {
namespace {

std::string Fixture(const char* rel) {
  std::string s;
  if (!ReadFile(std::string(TOCSIN_FIXTURES) + "/proc/" + rel, &s).ok()) std::abort();
  return s;
}

template <typename T, typename F>
void ParserBench(benchmark::State& state, const char* rel, F parse) {
  std::string text = Fixture(rel);
  T out;
  uint64_t start = g_allocs.load();
  for (auto _ : state) {
    Status st = parse(text, &out);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(g_allocs.load() - start) /
                                                   static_cast<double>(state.iterations()));
}

void BM_ParseStat(benchmark::State& s) { ParserBench<procfs::Stat>(s, "stat", procfs::ParseStat); }
void BM_ParseMeminfo(benchmark::State& s) {
  ParserBench<std::vector<procfs::MeminfoField>>(s, "meminfo", procfs::ParseMeminfo);
}
void BM_ParseDiskstats(benchmark::State& s) {
  ParserBench<std::vector<procfs::DiskStat>>(s, "diskstats", procfs::ParseDiskstats);
}
void BM_ParseNetDev(benchmark::State& s) {
  ParserBench<std::vector<procfs::NetDevStat>>(s, "net/dev", procfs::ParseNetDev);
}
void BM_ParseVmstat(benchmark::State& s) {
  ParserBench<std::vector<procfs::VmstatValue>>(s, "vmstat", procfs::ParseVmstat);
}
void BM_ParseNetstat(benchmark::State& s) {
  ParserBench<std::vector<procfs::NetStatValue>>(
      s, "net/netstat", [](std::string_view t, std::vector<procfs::NetStatValue>* o) {
        o->clear();
        return procfs::ParseNetstatPairs(t, o);
      });
}
void BM_ParseMountinfo(benchmark::State& s) {
  ParserBench<std::vector<procfs::Mount>>(s, "1/mountinfo", procfs::ParseMountinfo);
}
BENCHMARK(BM_ParseStat);
BENCHMARK(BM_ParseMeminfo);
BENCHMARK(BM_ParseDiskstats);
BENCHMARK(BM_ParseNetDev);
BENCHMARK(BM_ParseVmstat);
BENCHMARK(BM_ParseNetstat);
BENCHMARK(BM_ParseMountinfo);

void BM_AppendDouble(benchmark::State& state) {
  std::string out;
  double v = 1.23456789e10;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < 1000; ++i) expfmt::AppendDouble(&out, v + i * 0.37);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_AppendDouble);

void ScrapeBench(benchmark::State& state, exporter::ExporterOptions o) {
  exporter::Exporter e(o);
  http::Request req;
  size_t bytes = 0;
  uint64_t start = g_allocs.load();
  for (auto _ : state) {
    http::Response r = e.HandleMetrics(req);
    bytes = r.body.size();
    benchmark::DoNotOptimize(r.body.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(g_allocs.load() - start) /
                                                   static_cast<double>(state.iterations()));
}

void BM_FullScrapeFixture(benchmark::State& state) {
  exporter::ExporterOptions o;
  o.collectors.paths.procfs = std::string(TOCSIN_FIXTURES) + "/proc";
  o.collectors.paths.sysfs = std::string(TOCSIN_FIXTURES) + "/sys";
  o.collectors.paths.rootfs = std::string(TOCSIN_FIXTURES) + "/rootfs";
  o.collectors.cgroupfs = std::string(TOCSIN_FIXTURES) + "/cgroup/v2";
  o.collectors.statfs = [](const std::string&, exporter::FsStats* s) {
    s->size_bytes = 1;
    return Status::Ok();
  };
  ScrapeBench(state, o);
}
BENCHMARK(BM_FullScrapeFixture)->Unit(benchmark::kMicrosecond);

void BM_FullScrapeLive(benchmark::State& state) { ScrapeBench(state, exporter::ExporterOptions()); }
BENCHMARK(BM_FullScrapeLive)->Unit(benchmark::kMicrosecond);

// One benchmark per collector on this machine: BM_Collector/<name>.
void RegisterCollectorBenchmarks() {
  for (const auto& def : exporter::AllCollectors()) {
    std::string name = def.name;
    benchmark::RegisterBenchmark(("BM_Collector/" + name).c_str(), [name](benchmark::State& state) {
      exporter::ExporterOptions o;
      o.disable_defaults = true;
      o.enabled[name] = true;
      exporter::Exporter e(o);
      http::Request req;
      req.query.emplace_back("collect[]", name);
      uint64_t start = g_allocs.load();
      for (auto _ : state) {
        http::Response r = e.HandleMetrics(req);
        benchmark::DoNotOptimize(r.body.data());
      }
      state.counters["allocs/op"] = benchmark::Counter(
          static_cast<double>(g_allocs.load() - start) / static_cast<double>(state.iterations()));
    })->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace tocsin

int main(int argc, char** argv) {
  tocsin::RegisterCollectorBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
