#pragma once
// Writer of the Prometheus text exposition format 0.0.4.
//
// Appends into a caller-owned buffer so a scrape reuses one string. Floats are printed as
// Prometheus's Go client prints them (strconv 'g', shortest round-trip digits; NaN, +Inf, -Inf),
// so a value read back parses to the same double.
// Thread-safety: a Writer is used by one thread at a time.

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace tocsin::expfmt {

enum class MetricType { kCounter, kGauge, kUntyped, kSummary, kHistogram };

std::string_view TypeName(MetricType t);

struct Label {
  std::string_view name;
  std::string_view value;
};

// Appends v in Go's strconv.FormatFloat(v, 'g', -1, 64) spelling, with Prometheus's "+Inf".
void AppendDouble(std::string* dst, double v);
// Appends v escaped for a label value: backslash, double quote and newline.
void AppendEscapedLabelValue(std::string* dst, std::string_view v);
// Appends v escaped for a HELP line: backslash and newline.
void AppendEscapedHelp(std::string* dst, std::string_view v);
// True when s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool IsValidMetricName(std::string_view s);
// True when s is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*).
bool IsValidLabelName(std::string_view s);
// Replaces every character not valid in a metric or label name with '_' (as node_exporter's
// SanitizeMetricName), and prefixes '_' when the first is a digit.
std::string SanitizeName(std::string_view s);

class Writer {
 public:
  // REQUIRES: dst outlives the writer.
  explicit Writer(std::string* dst) : dst_(dst) {}

  // Writes "# HELP" and "# TYPE" lines. Every sample of a family must follow its Family() call
  // before the next family starts.
  void Family(std::string_view name, std::string_view help, MetricType type);
  void Sample(std::string_view name, std::span<const Label> labels, double value);
  void Sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    Sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  // Appends a pre-rendered "name{labels} " prefix followed by the value.
  void SampleWithPrefix(std::string_view prefix, double value);

  // A family holding one unlabeled sample.
  void Single(std::string_view name, std::string_view help, MetricType type, double value) {
    Family(name, help, type);
    Sample(name, {}, value);
  }

  std::string* buffer() { return dst_; }

 private:
  std::string* dst_;
};

// Appends name{l1="v1",...} with a trailing space (the prefix SampleWithPrefix takes).
void AppendSeriesPrefix(std::string* dst, std::string_view name, std::span<const Label> labels);

}  // namespace tocsin::expfmt
