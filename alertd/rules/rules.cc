#include "alertd/rules/rules.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/expfmt/writer.h"
#include "tsdb/promql/parser.h"

namespace tocsin::alertd {

namespace {

std::string Where(const std::string& source, const YAML::Node& n) {
  return source + ":" + std::to_string(n.Mark().line + 1) + ":" +
         std::to_string(n.Mark().column + 1) + ": ";
}

Status Err(const std::string& source, const YAML::Node& n, const std::string& what) {
  return Status::InvalidArgument(Where(source, n) + what);
}

Status Str(const std::string& source, const YAML::Node& n, std::string* out) {
  if (!n.IsScalar()) return Err(source, n, "expected a string");
  *out = n.as<std::string>();
  return Status::Ok();
}

Status Map(const std::string& source, const YAML::Node& n, const std::string& what, Pairs* out) {
  if (n.IsNull()) return Status::Ok();
  if (!n.IsMap()) return Err(source, n, what + " must be a map");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    std::string v;
    TOCSIN_RETURN_IF_ERROR(Str(source, kv.second, &v));
    out->emplace_back(k, v);
  }
  return Status::Ok();
}

Status ParseRule(const std::string& source, const YAML::Node& n, Rule* r) {
  if (!n.IsMap()) return Err(source, n, "a rule must be a map");
  r->file = source;
  r->line = n.Mark().line + 1;
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (k == "alert") {
      TOCSIN_RETURN_IF_ERROR(Str(source, v, &r->alert));
    } else if (k == "record") {
      TOCSIN_RETURN_IF_ERROR(Str(source, v, &r->record));
    } else if (k == "expr") {
      TOCSIN_RETURN_IF_ERROR(Str(source, v, &r->expr));
    } else if (k == "for" || k == "keep_firing_for") {
      std::string s;
      TOCSIN_RETURN_IF_ERROR(Str(source, v, &s));
      if (!ParseDuration(s, k == "for" ? &r->for_ : &r->keep_firing_for))
        return Err(source, v, "not a valid duration string: \"" + s + "\"");
    } else if (k == "labels") {
      TOCSIN_RETURN_IF_ERROR(Map(source, v, "labels", &r->labels));
    } else if (k == "annotations") {
      TOCSIN_RETURN_IF_ERROR(Map(source, v, "annotations", &r->annotations));
    } else {
      return Err(source, kv.first, "field " + k + " not found in type rulefmt.RuleNode");
    }
  }
  if (r->alert.empty() == r->record.empty())
    return Err(source, n,
               r->alert.empty() ? "one of 'record' or 'alert' must be set"
                                : "only one of 'record' and 'alert' must be set");
  if (r->expr.empty()) return Err(source, n, "field 'expr' must be set in rule");
  promql::NodePtr parsed;
  Status st = promql::ParseExpr(r->expr, &parsed);
  if (!st.ok()) return Err(source, n, "could not parse expression: " + std::string(st.message()));
  r->parsed = std::move(parsed);
  if (!r->record.empty()) {
    if (!expfmt::IsValidMetricName(r->record))
      return Err(source, n, "invalid recording rule name: " + r->record);
    if (!r->annotations.empty())
      return Err(source, n, "invalid field 'annotations' in recording rule");
    if (r->for_.count() != 0) return Err(source, n, "invalid field 'for' in recording rule");
    if (r->keep_firing_for.count() != 0)
      return Err(source, n, "invalid field 'keep_firing_for' in recording rule");
  }
  for (const auto& [name, value] : r->labels) {
    if (!expfmt::IsValidLabelName(name)) return Err(source, n, "invalid label name: " + name);
    std::shared_ptr<const Template> t;
    st = Template::Parse(r->name() + " label " + name, value, &t);
    if (!st.ok()) return Err(source, n, std::string(st.message()));
    r->label_templates.push_back(std::move(t));
  }
  for (const auto& [name, value] : r->annotations) {
    if (!expfmt::IsValidLabelName(name)) return Err(source, n, "invalid annotation name: " + name);
    std::shared_ptr<const Template> t;
    st = Template::Parse(r->name() + " annotation " + name, value, &t);
    if (!st.ok()) return Err(source, n, std::string(st.message()));
    r->annotation_templates.push_back(std::move(t));
  }
  return Status::Ok();
}

}  // namespace

Status ParseRules(const std::string& text, const std::string& source, std::vector<Group>* out) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();
  try {
    if (!root.IsMap()) return Status::InvalidArgument(source + ": expected a map with \"groups\"");
    std::set<std::string> names;
    for (const auto& top : root) {
      std::string k = top.first.as<std::string>();
      if (k != "groups")
        return Err(source, top.first, "field " + k + " not found in type rulefmt.RuleGroups");
      if (top.second.IsNull()) continue;
      if (!top.second.IsSequence()) return Err(source, top.second, "groups must be a list");
      for (const auto& g : top.second) {
        Group group;
        group.file = source;
        if (!g.IsMap()) return Err(source, g, "a group must be a map");
        for (const auto& kv : g) {
          std::string gk = kv.first.as<std::string>();
          if (gk == "name") {
            TOCSIN_RETURN_IF_ERROR(Str(source, kv.second, &group.name));
          } else if (gk == "interval") {
            std::string s;
            TOCSIN_RETURN_IF_ERROR(Str(source, kv.second, &s));
            if (!ParseDuration(s, &group.interval))
              return Err(source, kv.second, "not a valid duration string: \"" + s + "\"");
          } else if (gk == "limit") {
            group.limit = kv.second.as<int>();
          } else if (gk == "rules") {
            if (kv.second.IsNull()) continue;
            if (!kv.second.IsSequence()) return Err(source, kv.second, "rules must be a list");
            for (const auto& r : kv.second) {
              Rule rule;
              TOCSIN_RETURN_IF_ERROR(ParseRule(source, r, &rule));
              group.rules.push_back(std::move(rule));
            }
          } else {
            return Err(source, kv.first, "field " + gk + " not found in type rulefmt.RuleGroup");
          }
        }
        if (group.name.empty()) return Err(source, g, "group name should not be empty");
        if (!names.insert(group.name).second)
          return Err(source, g, "groupname: \"" + group.name + "\" is repeated in the same file");
        out->push_back(std::move(group));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return Status::Ok();
}

Status LoadRuleFiles(const std::vector<std::string>& patterns, std::vector<Group>* out) {
  for (const std::string& pattern : patterns) {
    glob_t gl{};
    int rc = ::glob(pattern.c_str(), 0, nullptr, &gl);
    std::vector<std::string> files;
    if (rc == 0) {
      for (size_t i = 0; i < gl.gl_pathc; ++i) files.emplace_back(gl.gl_pathv[i]);
    }
    ::globfree(&gl);
    if (files.empty() && pattern.find_first_of("*?[") == std::string::npos)
      files.push_back(pattern);
    for (const std::string& f : files) {
      std::string text;
      TOCSIN_RETURN_IF_ERROR(ReadFile(f, &text, 64 << 20).WithContext("reading " + f));
      TOCSIN_RETURN_IF_ERROR(ParseRules(text, f, out));
    }
  }
  return Status::Ok();
}

}  // namespace tocsin::alertd
