// Parses arbitrary YAML as a probe modules file: errors are fine, crashes and leaks are not.
#include <string>

#include "exporter/probe/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, tocsin::exporter::ProbeModule> m;
  tocsin::exporter::ParseProbeModules(std::string(reinterpret_cast<const char*>(data), size),
                                      "fuzz.yml", &m)
      .IgnoreError();
  return 0;
}
