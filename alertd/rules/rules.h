#pragma once
// Prometheus rule files: groups of alerting and recording rules, loaded unchanged, with the
// checks `promtool check rules` makes (a group name unique per file, exactly one of alert or
// record, a valid PromQL expression, valid metric and label names, `for` and annotations only
// on alerts, templates that parse). Errors name the file, line and what is wrong.
// Thread-safety: values; loaded rules are immutable.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "alertd/template/template.h"
#include "common/base/status.h"
#include "tsdb/promql/ast.h"

namespace tocsin::alertd {

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct Rule {
  std::string alert;   // an alerting rule's name, or
  std::string record;  // a recording rule's metric name
  std::string expr;
  std::shared_ptr<const promql::Node> parsed;
  std::chrono::milliseconds for_{0};
  std::chrono::milliseconds keep_firing_for{0};
  Pairs labels, annotations;
  // Parsed templates of labels and annotations, in the same order.
  std::vector<std::shared_ptr<const Template>> label_templates, annotation_templates;
  std::string file;
  int line = 0;
  bool is_alert() const { return !alert.empty(); }
  const std::string& name() const { return is_alert() ? alert : record; }
};

struct Group {
  std::string name;
  std::string file;
  std::chrono::milliseconds interval{0};  // 0: the global evaluation interval
  int limit = 0;                          // 0: no limit on alerts/series a rule may produce
  std::vector<Rule> rules;
};

// Parses one file's text. source names it in errors.
Status ParseRules(const std::string& text, const std::string& source, std::vector<Group>* out);
// Loads every file matching the patterns (globs), in order.
Status LoadRuleFiles(const std::vector<std::string>& patterns, std::vector<Group>* out);

}  // namespace tocsin::alertd
