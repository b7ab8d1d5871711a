#pragma once
// Prometheus relabelling: relabel_configs (targets), metric_relabel_configs (scraped series)
// and write_relabel_configs (remote write), with every action of Prometheus 2.42: replace,
// keep, drop, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase, keepequal,
// dropequal. Regexps are RE2, fully anchored; replacements expand $1, ${1}, $name, ${name}
// and $$ as Go's Regexp.Expand does.
// Thread-safety: a RelabelConfig is immutable once made; Relabel is a pure function.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace re2 {
class RE2;
}

namespace tocsin::tsdb::scrape {

// A label set being edited: (name, value) pairs, no particular order, no duplicate names.
using LabelPairs = std::vector<std::pair<std::string, std::string>>;

struct RelabelConfig {
  enum class Action {
    kReplace,
    kKeep,
    kDrop,
    kHashMod,
    kLabelMap,
    kLabelDrop,
    kLabelKeep,
    kLowercase,
    kUppercase,
    kKeepEqual,
    kDropEqual
  };
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string target_label;
  std::string regex = "(.*)";
  uint64_t modulus = 0;
  std::string replacement = "$1";
  Action action = Action::kReplace;

  // Compiles the regex and checks the fields the action needs, as Prometheus does at load.
  Status Validate();
  std::shared_ptr<const re2::RE2> compiled;  // set by Validate()
};

// Parses an action name ("replace", "hashmod", ...; case-insensitive as Prometheus).
bool ParseRelabelAction(std::string_view name, RelabelConfig::Action* out);

// Applies the configs in order. Returns false when a keep/drop action dropped the set.
// REQUIRES: every config validated.
bool Relabel(const std::vector<RelabelConfig>& configs, LabelPairs* labels);

// Value of name in labels, or "".
std::string_view GetLabel(const LabelPairs& labels, std::string_view name);
void SetLabel(LabelPairs* labels, std::string_view name, std::string_view value);
void DeleteLabel(LabelPairs* labels, std::string_view name);

}  // namespace tocsin::tsdb::scrape
