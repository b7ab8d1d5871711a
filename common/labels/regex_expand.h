#pragma once
// Go's Regexp.Expand for RE2 matches: $1, ${1}, $name, ${name} and $$ in a template, as
// Prometheus's relabelling and label_replace() use it. Include only from .cc files (RE2).
// Thread-safety: pure functions.

#include <re2/re2.h>

#include <string>
#include <string_view>
#include <vector>

namespace tocsin::labels {

// Full-match of value against re (an anchored pattern); groups receives the submatches.
bool FullMatch(const re2::RE2& re, std::string_view value, std::vector<re2::StringPiece>* groups);
// Appends the expansion of tmpl for the groups of a match of re to *out (cleared first); an
// unknown group expands to "".
void ExpandTemplate(const re2::RE2& re, std::string_view tmpl,
                    const std::vector<re2::StringPiece>& groups, std::string* out);

}  // namespace tocsin::labels
