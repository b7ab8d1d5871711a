#include "common/expfmt/parser.h"

#include <cmath>

#include "common/base/strings.h"

namespace tocsin::expfmt {

bool Parser::Fail(std::string_view what) {
  status_ = Status::InvalidArgument("line " + std::to_string(line_no_) + ": " + std::string(what));
  rest_ = {};
  return false;
}

bool Parser::Next(Entry* entry) {
  std::string_view line;
  while (NextLine(&rest_, &line)) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view t = TrimSpace(line);
    if (t.empty()) continue;
    if (t.front() == '#') {
      if (!status_.ok()) return false;
      if (ParseComment(t, entry)) return true;
      if (!status_.ok()) return false;
      continue;
    }
    if (!ParseSample(t)) return false;
    *entry = Entry::kSample;
    return true;
  }
  if (openmetrics_ && !eof_ && status_.ok()) {
    ++line_no_;
    Fail("OpenMetrics input does not end with \"# EOF\"");
  }
  return false;
}

bool Parser::ParseComment(std::string_view line, Entry* entry) {
  std::string_view s = line.substr(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  if (openmetrics_ && s == "EOF") {
    eof_ = true;
    if (!TrimSpace(rest_).empty()) {
      ++line_no_;
      return Fail("content after \"# EOF\"");
    }
    rest_ = {};
    return false;
  }
  bool is_help = StartsWith(s, "HELP ") || StartsWith(s, "HELP\t");
  bool is_type = StartsWith(s, "TYPE ") || StartsWith(s, "TYPE\t");
  if (!is_help && !is_type) return false;  // plain comment
  s.remove_prefix(5);
  s = TrimSpace(s);
  size_t sp = s.find_first_of(" \t");
  family_ = s.substr(0, sp);
  std::string_view rest =
      sp == std::string_view::npos ? std::string_view() : TrimSpace(s.substr(sp));
  if (!IsValidMetricName(family_)) {
    return Fail("invalid metric name \"" + std::string(family_) + "\" in " +
                (is_help ? "HELP" : "TYPE") + " line");
  }
  if (is_help) {
    help_.clear();
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == '\\' && i + 1 < rest.size()) {
        char n = rest[++i];
        if (n == 'n')
          help_.push_back('\n');
        else if (n == '\\')
          help_.push_back('\\');
        else {
          help_.push_back('\\');
          help_.push_back(n);
        }
      } else {
        help_.push_back(rest[i]);
      }
    }
    *entry = Entry::kHelp;
    return true;
  }
  if (rest == "counter")
    type_ = MetricType::kCounter;
  else if (rest == "gauge")
    type_ = MetricType::kGauge;
  else if (rest == "untyped")
    type_ = MetricType::kUntyped;
  else if (rest == "summary")
    type_ = MetricType::kSummary;
  else if (rest == "histogram")
    type_ = MetricType::kHistogram;
  else if (openmetrics_ && (rest == "unknown" || rest == "info" || rest == "stateset"))
    type_ = MetricType::kUntyped;
  else if (openmetrics_ && rest == "gaugehistogram")
    type_ = MetricType::kGauge;
  else
    return Fail("unknown metric type \"" + std::string(rest) + "\"");
  *entry = Entry::kType;
  return true;
}

bool Parser::ParseSample(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
  metric_ = line.substr(0, i);
  if (!IsValidMetricName(metric_)) {
    return Fail("invalid metric name \"" + std::string(metric_) + "\"");
  }
  nlabels_ = 0;
  if (i < line.size() && line[i] == '{') {
    ++i;
    for (;;) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) return Fail("unterminated label set");
      if (line[i] == '}') {
        ++i;
        break;
      }
      size_t ns = i;
      while (i < line.size() && line[i] != '=' && line[i] != ' ' && line[i] != '\t' &&
             line[i] != '}' && line[i] != ',')
        ++i;
      std::string_view name = line.substr(ns, i - ns);
      if (!IsValidLabelName(name)) {
        return Fail("invalid label name \"" + std::string(name) + "\"");
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size() || line[i] != '=') {
        return Fail("expected '=' after label name \"" + std::string(name) + "\"");
      }
      ++i;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size() || line[i] != '"') {
        return Fail("expected '\"' to start the value of label \"" + std::string(name) + "\"");
      }
      ++i;
      if (nlabels_ == labels_.size()) labels_.emplace_back();
      auto& [lname, lvalue] = labels_[nlabels_];
      lname.assign(name);
      lvalue.clear();
      bool closed = false;
      while (i < line.size()) {
        // Copy the run up to the next quote or backslash in one go.
        size_t stop = line.find_first_of("\"\\", i);
        if (stop == std::string_view::npos) stop = line.size();
        lvalue.append(line.data() + i, stop - i);
        i = stop;
        if (i >= line.size()) break;
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) break;
          char n = line[i++];
          if (n == 'n')
            lvalue.push_back('\n');
          else if (n == '\\')
            lvalue.push_back('\\');
          else if (n == '"')
            lvalue.push_back('"');
          else
            return Fail("invalid escape \\" + std::string(1, n) + " in label value");
        } else {
          lvalue.push_back(c);
        }
      }
      if (!closed) return Fail("unterminated value of label \"" + std::string(name) + "\"");
      for (size_t k = 0; k < nlabels_; ++k) {
        if (labels_[k].first == lname) return Fail("duplicate label name \"" + lname + "\"");
      }
      ++nlabels_;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return Fail("expected ',' or '}' after label value");
    }
  }
  series_text_ = line.substr(0, i);
  std::string_view rest = TrimSpace(line.substr(i));
  if (i < line.size() && line[i] != ' ' && line[i] != '\t') {
    return Fail("expected a space before the value");
  }
  size_t sp = rest.find_first_of(" \t");
  std::string_view val = rest.substr(0, sp);
  if (val.empty()) return Fail("missing value for \"" + std::string(metric_) + "\"");
  if (!ParseDouble(val, &value_)) return Fail("invalid value \"" + std::string(val) + "\"");
  timestamp_.reset();
  if (sp != std::string_view::npos) {
    std::string_view ts = TrimSpace(rest.substr(sp));
    if (openmetrics_) {
      // An exemplar (" # {...} value [ts]") may follow; Prometheus 2.42 stores none by default.
      size_t hash = ts.find('#');
      if (hash != std::string_view::npos) ts = TrimSpace(ts.substr(0, hash));
      if (ts.empty()) return true;
      double secs;
      if (!ParseDouble(ts, &secs) || !(secs > -9.2e15 && secs < 9.2e15))
        return Fail("invalid timestamp \"" + std::string(ts) + "\"");
      timestamp_ = static_cast<int64_t>(std::llround(secs * 1000));
      return true;
    }
    int64_t t;
    if (!ParseInt64(ts, &t)) return Fail("invalid timestamp \"" + std::string(ts) + "\"");
    timestamp_ = t;
  }
  return true;
}

}  // namespace tocsin::expfmt
