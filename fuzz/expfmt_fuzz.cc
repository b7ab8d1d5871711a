// Parses arbitrary exposition text; whatever parses must survive a write/parse round trip
// with the same names, label values and values.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/expfmt/parser.h"
#include "common/expfmt/writer.h"

using namespace tocsin::expfmt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Parser p(in);
  Parser::Entry e;
  std::string out;
  Writer w(&out);
  struct S {
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value;
  };
  std::vector<S> samples;
  while (p.Next(&e)) {
    if (e != Parser::Entry::kSample) continue;
    S s{std::string(p.metric_name()), {}, p.value()};
    std::vector<Label> labels;
    for (size_t i = 0; i < p.label_count(); ++i)
      s.labels.emplace_back(p.label_name(i), p.label_value(i));
    for (auto& [k, v] : s.labels) labels.push_back({k, v});
    w.Sample(s.name, labels, s.value);
    samples.push_back(std::move(s));
  }
  Parser back(out);
  size_t i = 0;
  while (back.Next(&e)) {
    if (i >= samples.size()) std::abort();
    const S& s = samples[i++];
    if (back.metric_name() != s.name || back.label_count() != s.labels.size()) std::abort();
    for (size_t k = 0; k < s.labels.size(); ++k) {
      if (back.label_value(k) != s.labels[k].second) std::abort();
    }
    if (!(back.value() == s.value || (std::isnan(back.value()) && std::isnan(s.value))))
      std::abort();
  }
  if (!back.status().ok() || i != samples.size()) std::abort();
  return 0;
}
