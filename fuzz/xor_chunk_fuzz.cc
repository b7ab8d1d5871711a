// Decodes arbitrary bytes as an XOR chunk (errors are fine, crashes are not), and re-encodes
// whatever decoded: the round trip must give the same samples back.
#include <bit>
#include <cstdlib>
#include <vector>

#include "tsdb/chunk/chunk.h"

using namespace tocsin::tsdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  XorIterator it;
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
  return 0;
}
