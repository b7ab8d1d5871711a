// Decodes arbitrary bytes as a chunk of any encoding (errors are fine, crashes are not), and
// re-encodes whatever decoded as XOR and with EncodeBest: both must give the samples back.
#include <bit>
#include <cstdlib>
#include <vector>

#include "tsdb/chunk/chunk.h"

using namespace tocsin::tsdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ChunkIterator it;  // any encoding
  it.Reset(std::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<std::pair<TimestampMs, uint64_t>> samples;
  while (it.Next()) samples.emplace_back(it.t(), std::bit_cast<uint64_t>(it.v()));
  // Only strictly increasing timestamps are valid appender input.
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].first <= samples[i - 1].first) return 0;
  }
  std::string chunk;
  XorAppender a;
  a.Reset(&chunk);
  for (auto& [t, v] : samples) a.Append(t, std::bit_cast<double>(v));
  XorIterator back;
  back.Reset(chunk);
  for (auto& [t, v] : samples) {
    if (!back.Next() || back.t() != t || std::bit_cast<uint64_t>(back.v()) != v) std::abort();
  }
  if (back.Next() || !back.status().ok()) std::abort();
  std::vector<TimestampMs> ts;
  std::vector<double> vs;
  for (auto& [t, v] : samples) {
    ts.push_back(t);
    vs.push_back(std::bit_cast<double>(v));
  }
  EncodeBest(ts, vs, &chunk);
  ChunkIterator best;
  best.Reset(chunk);
  for (auto& [t, v] : samples) {
    if (!best.Next() || best.t() != t || std::bit_cast<uint64_t>(best.v()) != v) std::abort();
  }
  if (best.Next() || !best.status().ok()) std::abort();
  return 0;
}
