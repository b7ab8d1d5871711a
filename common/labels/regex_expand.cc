#include "common/labels/regex_expand.h"

#include <algorithm>
#include <cctype>

namespace tocsin::labels {

namespace {
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
}  // namespace

// Go's Regexp.Expand: $n, ${n}, $name, ${name}, $$; an unknown group expands to "".
void ExpandTemplate(const re2::RE2& re, std::string_view tmpl,
                    const std::vector<re2::StringPiece>& groups, std::string* out) {
  out->clear();
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out->push_back(c);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out->push_back('$');
      ++i;
      continue;
    }
    std::string_view name;
    size_t end;
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out->push_back(c);  // malformed: kept as written, as Go does
        continue;
      }
      name = tmpl.substr(i + 2, close - i - 2);
      end = close;
      bool valid = !name.empty() && std::all_of(name.begin(), name.end(), IsNameChar);
      if (!valid) {
        out->push_back(c);
        continue;
      }
    } else {
      size_t j = i + 1;
      while (j < tmpl.size() && IsNameChar(tmpl[j])) ++j;
      if (j == i + 1) {
        out->push_back(c);
        continue;
      }
      name = tmpl.substr(i + 1, j - i - 1);
      end = j - 1;
    }
    i = end;
    int index = -1;
    if (std::all_of(name.begin(), name.end(),
                    [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      if (name.size() < 9) index = std::stoi(std::string(name));
    } else {
      auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() &&
        groups[static_cast<size_t>(index)].data())
      out->append(groups[static_cast<size_t>(index)].data(),
                  groups[static_cast<size_t>(index)].size());
  }
}

bool FullMatch(const re2::RE2& re, std::string_view value, std::vector<re2::StringPiece>* groups) {
  groups->assign(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1, re2::StringPiece());
  return re.Match(re2::StringPiece(value.data(), value.size()), 0, value.size(),
                  re2::RE2::ANCHOR_BOTH, groups->data(), static_cast<int>(groups->size()));
}

}  // namespace tocsin::labels
