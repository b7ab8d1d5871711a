#include "tsdb/scrape/relabel.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "common/base/md5.h"
#include "common/expfmt/writer.h"
#include "common/labels/regex_expand.h"

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

void Expand(const re2::RE2& re, std::string_view tmpl, const std::vector<re2::StringPiece>& groups,
            std::string* out) {
  labels::ExpandTemplate(re, tmpl, groups, out);
}

bool Match(const re2::RE2& re, std::string_view value, std::vector<re2::StringPiece>* groups) {
  return labels::FullMatch(re, value, groups);
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
