#pragma once
// Pull parser for the Prometheus text exposition format 0.0.4, and OpenMetrics 1.0 text (as
// Prometheus ingests it: "# EOF" required, timestamps in seconds, exemplars and UNIT skipped).
//
//   Parser p(body);
//   Parser::Entry e;
//   while (p.Next(&e)) { if (e == Parser::Entry::kSample) use(p.metric_name(), p.labels(), ...); }
//   if (!p.status().ok()) ...   // names the line and what was wrong
//
// Views returned by accessors stay valid until the next call to Next(). Label values are
// unescaped into buffers the parser reuses, so a steady-state parse allocates nothing.
// Thread-safety: a Parser is used by one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/expfmt/writer.h"

namespace tocsin::expfmt {

class Parser {
 public:
  enum class Entry { kHelp, kType, kSample };

  enum class Format { kText, kOpenMetrics };

  // REQUIRES: input outlives the parser.
  explicit Parser(std::string_view input, Format format = Format::kText)
      : rest_(input), openmetrics_(format == Format::kOpenMetrics) {}

  // Advances to the next entry; plain comments and blank lines are skipped. Returns false at the
  // end of input or on the first error (then status() says which line and why).
  bool Next(Entry* entry);
  const Status& status() const { return status_; }
  // 1-based number of the line last returned.
  int line() const { return line_no_; }

  // kHelp / kType
  std::string_view family_name() const { return family_; }
  std::string_view help() const { return help_; }
  MetricType type() const { return type_; }

  // kSample
  std::string_view metric_name() const { return metric_; }
  // The sample's name and label set as written ("name{a=\"b\"}"): a key for caches of work
  // derived from the series (principle 10), valid until the next Next().
  std::string_view series_text() const { return series_text_; }
  size_t label_count() const { return nlabels_; }
  std::string_view label_name(size_t i) const { return labels_[i].first; }
  std::string_view label_value(size_t i) const { return labels_[i].second; }
  double value() const { return value_; }
  std::optional<int64_t> timestamp_ms() const { return timestamp_; }

 private:
  bool Fail(std::string_view what);
  bool ParseComment(std::string_view line, Entry* entry);
  bool ParseSample(std::string_view line);

  std::string_view rest_;
  bool openmetrics_ = false;
  bool eof_ = false;  // OpenMetrics: "# EOF" seen
  int line_no_ = 0;
  Status status_;
  std::string_view family_;
  std::string help_;
  MetricType type_ = MetricType::kUntyped;
  std::string_view metric_;
  std::string_view series_text_;
  std::vector<std::pair<std::string, std::string>> labels_;
  size_t nlabels_ = 0;
  double value_ = 0;
  std::optional<int64_t> timestamp_;
};

}  // namespace tocsin::expfmt
