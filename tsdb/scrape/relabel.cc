#include "tsdb/scrape/relabel.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "common/base/md5.h"
#include "common/expfmt/writer.h"

namespace tocsin::tsdb::scrape {

namespace {

using Action = RelabelConfig::Action;

struct ActionName {
  std::string_view name;
  Action action;
};
constexpr ActionName kActions[] = {
    {"replace", Action::kReplace},     {"keep", Action::kKeep},
    {"drop", Action::kDrop},           {"hashmod", Action::kHashMod},
    {"labelmap", Action::kLabelMap},   {"labeldrop", Action::kLabelDrop},
    {"labelkeep", Action::kLabelKeep}, {"lowercase", Action::kLowercase},
    {"uppercase", Action::kUppercase}, {"keepequal", Action::kKeepEqual},
    {"dropequal", Action::kDropEqual},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Go's Regexp.Expand: $n, ${n}, $name, ${name}, $$; an unknown group expands to "".
void Expand(const re2::RE2& re, std::string_view tmpl, const std::vector<re2::StringPiece>& groups,
            std::string* out) {
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

// Full-match with submatches; false when the value does not match.
bool Match(const re2::RE2& re, std::string_view value, std::vector<re2::StringPiece>* groups) {
  groups->assign(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1, re2::StringPiece());
  return re.Match(re2::StringPiece(value.data(), value.size()), 0, value.size(),
                  re2::RE2::ANCHOR_BOTH, groups->data(), static_cast<int>(groups->size()));
}

}  // namespace

bool ParseRelabelAction(std::string_view name, Action* out) {
  std::string lower = Lower(name);
  for (const auto& a : kActions) {
    if (a.name == lower) {
      *out = a.action;
      return true;
    }
  }
  return false;
}

Status RelabelConfig::Validate() {
  auto re = std::make_shared<re2::RE2>("^(?:" + regex + ")$", re2::RE2::Quiet);
  if (!re->ok()) return Status::InvalidArgument("invalid regex \"" + regex + "\": " + re->error());
  compiled = std::move(re);
  bool needs_target = action == Action::kReplace || action == Action::kHashMod ||
                      action == Action::kLowercase || action == Action::kUppercase ||
                      action == Action::kKeepEqual || action == Action::kDropEqual;
  if (needs_target && target_label.empty())
    return Status::InvalidArgument(
        "relabel configuration for this action requires 'target_label' value");
  if (action == Action::kReplace && target_label.find('$') == std::string::npos &&
      !expfmt::IsValidLabelName(target_label))
    return Status::InvalidArgument("\"" + target_label +
                                   "\" is invalid 'target_label' for replace action");
  if ((action == Action::kLowercase || action == Action::kUppercase || action == Action::kHashMod ||
       action == Action::kKeepEqual || action == Action::kDropEqual) &&
      !expfmt::IsValidLabelName(target_label))
    return Status::InvalidArgument("\"" + target_label + "\" is invalid 'target_label'");
  if (action == Action::kHashMod && modulus == 0)
    return Status::InvalidArgument("relabel configuration for hashmod requires non-zero modulus");
  if ((action == Action::kLabelDrop || action == Action::kLabelKeep) &&
      (!source_labels.empty() || !target_label.empty() || separator != ";" || replacement != "$1"))
    return Status::InvalidArgument(
        "labeldrop and labelkeep actions only take 'regex' (source_labels, target_label, "
        "separator, modulus and replacement must be unset)");
  if (action == Action::kLabelMap && !expfmt::IsValidLabelName(replacement) &&
      replacement.find('$') == std::string::npos)
    return Status::InvalidArgument("\"" + replacement +
                                   "\" is invalid 'replacement' for labelmap action");
  return Status::Ok();
}

std::string_view GetLabel(const LabelPairs& labels, std::string_view name) {
  for (const auto& [n, v] : labels)
    if (n == name) return v;
  return {};
}

void SetLabel(LabelPairs* labels, std::string_view name, std::string_view value) {
  for (auto& [n, v] : *labels) {
    if (n == name) {
      v.assign(value);
      return;
    }
  }
  labels->emplace_back(std::string(name), std::string(value));
}

void DeleteLabel(LabelPairs* labels, std::string_view name) {
  std::erase_if(*labels, [&](const auto& p) { return p.first == name; });
}

bool Relabel(const std::vector<RelabelConfig>& configs, LabelPairs* labels) {
  std::vector<re2::StringPiece> groups;
  std::string value, target, result;
  for (const RelabelConfig& c : configs) {
    const re2::RE2& re = *c.compiled;
    value.clear();
    for (size_t i = 0; i < c.source_labels.size(); ++i) {
      if (i) value += c.separator;
      value += GetLabel(*labels, c.source_labels[i]);
    }
    switch (c.action) {
      case Action::kDrop:
        if (Match(re, value, &groups)) return false;
        break;
      case Action::kKeep:
        if (!Match(re, value, &groups)) return false;
        break;
      case Action::kDropEqual:
        if (value == GetLabel(*labels, c.target_label)) return false;
        break;
      case Action::kKeepEqual:
        if (value != GetLabel(*labels, c.target_label)) return false;
        break;
      case Action::kReplace: {
        if (!Match(re, value, &groups)) break;
        // As Prometheus: an invalid expanded target or an empty result deletes the label the
        // config names.
        Expand(re, c.target_label, groups, &target);
        if (!expfmt::IsValidLabelName(target)) {
          DeleteLabel(labels, c.target_label);
          break;
        }
        Expand(re, c.replacement, groups, &result);
        if (result.empty()) {
          DeleteLabel(labels, c.target_label);
        } else {
          SetLabel(labels, target, result);
        }
        break;
      }
      case Action::kLowercase:
      case Action::kUppercase: {
        std::string v = value;
        for (char& ch : v) {
          auto u = static_cast<unsigned char>(ch);
          ch =
              static_cast<char>(c.action == Action::kLowercase ? std::tolower(u) : std::toupper(u));
        }
        SetLabel(labels, c.target_label, v);
        break;
      }
      case Action::kHashMod: {
        auto sum = Md5(value);
        uint64_t x = 0;
        for (int i = 8; i < 16; ++i) x = (x << 8) | sum[static_cast<size_t>(i)];
        SetLabel(labels, c.target_label, std::to_string(x % c.modulus));
        break;
      }
      case Action::kLabelMap: {
        LabelPairs add;
        for (const auto& [n, v] : *labels) {
          if (!Match(re, n, &groups)) continue;
          Expand(re, c.replacement, groups, &result);
          add.emplace_back(result, v);
        }
        for (auto& [n, v] : add) SetLabel(labels, n, v);
        break;
      }
      case Action::kLabelDrop:
        std::erase_if(*labels, [&](const auto& p) { return Match(re, p.first, &groups); });
        break;
      case Action::kLabelKeep:
        std::erase_if(*labels, [&](const auto& p) { return !Match(re, p.first, &groups); });
        break;
    }
  }
  return true;
}

}  // namespace tocsin::tsdb::scrape
