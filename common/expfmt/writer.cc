#include "common/expfmt/writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace tocsin::expfmt {

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kUntyped:
      return "untyped";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendDouble(std::string* dst, double v) {
  if (std::isnan(v)) {
    dst->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    dst->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  if (v == 0) {
    dst->append(std::signbit(v) ? "-0" : "0");
    return;
  }
  char sci[64];
  auto res = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view s(sci, static_cast<size_t>(res.ptr - sci));
  // s looks like "-1.2345e+08" or "5e-07". Split into sign, digits and exponent.
  bool neg = false;
  if (s.front() == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  size_t epos = s.find('e');
  std::string_view mant = s.substr(0, epos);
  int exp = 0;
  std::from_chars(s.data() + epos + 1 + (s[epos + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
  char digits[32];
  size_t nd = 0;
  for (char c : mant) {
    if (c != '.') digits[nd++] = c;
  }
  if (neg) dst->push_back('-');
  // Go's strconv 'g' with shortest precision switches to %e when exp < -4 || exp >= 6
  // (strconv/ftoa.go: "if shortest { eprec = 6 }"); the exponent has at least two digits.
  if (exp < -4 || exp >= 6) {
    dst->push_back(digits[0]);
    if (nd > 1) {
      dst->push_back('.');
      dst->append(digits + 1, nd - 1);
    }
    dst->push_back('e');
    int e = exp;
    if (e < 0) {
      dst->push_back('-');
      e = -e;
    } else {
      dst->push_back('+');
    }
    if (e < 10) dst->push_back('0');
    char eb[8];
    auto er = std::to_chars(eb, eb + sizeof eb, e);
    dst->append(eb, static_cast<size_t>(er.ptr - eb));
    return;
  }
  // Fixed notation: exp in [-4, 5].
  if (exp < 0) {
    dst->append("0.");
    dst->append(static_cast<size_t>(-exp - 1), '0');
    dst->append(digits, nd);
    return;
  }
  size_t int_digits = static_cast<size_t>(exp) + 1;
  if (nd <= int_digits) {
    dst->append(digits, nd);
    dst->append(int_digits - nd, '0');
  } else {
    dst->append(digits, int_digits);
    dst->push_back('.');
    dst->append(digits + int_digits, nd - int_digits);
  }
}

namespace {
// Label values escape backslash, double quote and newline; HELP text only backslash and newline.
void AppendEscaped(std::string* dst, std::string_view v, bool quote) {
  // Most values need no escaping: copy runs between special characters in bulk.
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c != '\\' && c != '\n' && !(quote && c == '"')) continue;
    dst->append(v.data() + start, i - start);
    dst->append(c == '\\' ? "\\\\" : c == '\n' ? "\\n" : "\\\"");
    start = i + 1;
  }
  dst->append(v.data() + start, v.size() - start);
}
}  // namespace

void AppendEscapedLabelValue(std::string* dst, std::string_view v) { AppendEscaped(dst, v, true); }

void AppendEscapedHelp(std::string* dst, std::string_view v) { AppendEscaped(dst, v, false); }

namespace {
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool IsValidMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!(IsAlpha(c) || c == ':' || (i > 0 && IsDigit(c)))) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!(IsAlpha(c) || (i > 0 && IsDigit(c)))) return false;
  }
  return true;
}

std::string SanitizeName(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 1);
  if (!s.empty() && IsDigit(s.front())) out.push_back('_');
  for (char c : s) out.push_back(IsAlpha(c) || IsDigit(c) ? c : '_');
  return out;
}

void Writer::Family(std::string_view name, std::string_view help, MetricType type) {
  dst_->append("# HELP ");
  dst_->append(name);
  dst_->push_back(' ');
  AppendEscapedHelp(dst_, help);
  dst_->append("\n# TYPE ");
  dst_->append(name);
  dst_->push_back(' ');
  dst_->append(TypeName(type));
  dst_->push_back('\n');
}

void AppendSeriesPrefix(std::string* dst, std::string_view name, std::span<const Label> labels) {
  dst->append(name);
  if (!labels.empty()) {
    dst->push_back('{');
    bool first = true;
    for (const Label& l : labels) {
      if (!first) dst->push_back(',');
      first = false;
      dst->append(l.name);
      dst->append("=\"");
      AppendEscapedLabelValue(dst, l.value);
      dst->push_back('"');
    }
    dst->push_back('}');
  }
  dst->push_back(' ');
}

void Writer::Sample(std::string_view name, std::span<const Label> labels, double value) {
  AppendSeriesPrefix(dst_, name, labels);
  AppendDouble(dst_, value);
  dst_->push_back('\n');
}

void Writer::SampleWithPrefix(std::string_view prefix, double value) {
  dst_->append(prefix);
  AppendDouble(dst_, value);
  dst_->push_back('\n');
}

}  // namespace tocsin::expfmt
