#include "alertd/unittest/unittest.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "alertd/eval/manager.h"
#include "alertd/eval/remote_writer.h"
#include "alertd/rules/rules.h"
#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/status.h"
#include "common/base/strings.h"
#include "tsdb/promql/engine.h"
#include "tsdb/promql/parser.h"
#include "tsdb/promql/series_notation.h"
#include "tsdb/storage/head.h"

namespace tocsin::alertd {
namespace {

using StrMap = std::map<std::string, std::string>;

struct InputSeries {
  std::string series, values;
};

struct ExpectedAlert {
  StrMap labels, annotations;
};

struct AlertCase {
  int64_t eval_ms = 0;
  std::string alertname;
  std::vector<ExpectedAlert> exp;
};

struct ExpectedSample {
  std::string labels;
  double value = 0;
};

struct ExprCase {
  std::string expr;
  int64_t eval_ms = 0;
  std::vector<ExpectedSample> exp;
};

struct TestGroup {
  int64_t interval_ms = 0;  // 0: the evaluation interval
  std::vector<InputSeries> input;
  std::vector<AlertCase> alerts;
  std::vector<ExprCase> exprs;
  StrMap external_labels;
  std::string external_url, name;
};

struct TestFile {
  std::vector<std::string> rule_files;
  int64_t eval_interval_ms = 60000;
  std::vector<std::string> group_order;
  std::vector<TestGroup> tests;
};

// ---- Reading the YAML (strict: an unknown key is an error, as promtool's UnmarshalStrict) ----

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Status Err(const YAML::Node& n, const std::string& what) const {
    return Status::InvalidArgument(file_ + ":" + std::to_string(n.Mark().line + 1) + ":" +
                                   std::to_string(n.Mark().column + 1) + ": " + what);
  }
  Status Keys(const YAML::Node& n, const char* what, std::initializer_list<const char*> known) {
    if (!n.IsMap()) return Err(n, std::string(what) + " must be a mapping");
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      if (std::none_of(known.begin(), known.end(), [&](const char* c) { return k == c; }))
        return Err(kv.first, "unknown field \"" + k + "\" in " + what);
    }
    return Status::Ok();
  }
  Status Str(const YAML::Node& n, std::string* out) const {
    if (!n.IsScalar()) return Err(n, "expected a string");
    *out = n.as<std::string>();
    return Status::Ok();
  }
  Status Duration(const YAML::Node& n, int64_t* ms) const {
    std::string s;
    TOCSIN_RETURN_IF_ERROR(Str(n, &s));
    std::chrono::milliseconds d;
    if (!ParseDuration(s, &d)) return Err(n, "not a valid duration string: \"" + s + "\"");
    *ms = d.count();
    return Status::Ok();
  }
  Status Map(const YAML::Node& n, StrMap* out) const {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsMap()) return Err(n, "expected a mapping of names to strings");
    for (const auto& kv : n) {
      std::string v;
      TOCSIN_RETURN_IF_ERROR(Str(kv.second, &v));
      (*out)[kv.first.as<std::string>()] = v;
    }
    return Status::Ok();
  }
  template <typename F>
  Status List(const YAML::Node& n, F&& each) const {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsSequence()) return Err(n, "expected a list");
    for (const auto& item : n) TOCSIN_RETURN_IF_ERROR(each(item));
    return Status::Ok();
  }

  Status Group(const YAML::Node& n, TestGroup* g) {
    TOCSIN_RETURN_IF_ERROR(Keys(n, "a test group",
                                {"interval", "input_series", "alert_rule_test", "promql_expr_test",
                                 "external_labels", "external_url", "name"}));
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (k == "interval") {
        TOCSIN_RETURN_IF_ERROR(Duration(v, &g->interval_ms));
      } else if (k == "name") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &g->name));
      } else if (k == "external_url") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &g->external_url));
      } else if (k == "external_labels") {
        TOCSIN_RETURN_IF_ERROR(Map(v, &g->external_labels));
      } else if (k == "input_series") {
        TOCSIN_RETURN_IF_ERROR(List(v, [&](const YAML::Node& s) {
          TOCSIN_RETURN_IF_ERROR(Keys(s, "an input series", {"series", "values"}));
          InputSeries in;
          if (s["series"]) TOCSIN_RETURN_IF_ERROR(Str(s["series"], &in.series));
          if (s["values"]) TOCSIN_RETURN_IF_ERROR(Str(s["values"], &in.values));
          labels::Labels ls;
          Status st = promql::ParseSeriesLabels(in.series, &ls);
          if (!st.ok()) return Err(s, "series \"" + in.series + "\": " + std::string(st.message()));
          std::vector<std::optional<double>> vs;
          st = promql::ExpandSeriesValues(in.values, &vs);
          if (!st.ok()) return Err(s, std::string(st.message()));
          g->input.push_back(std::move(in));
          return Status::Ok();
        }));
      } else if (k == "alert_rule_test") {
        TOCSIN_RETURN_IF_ERROR(List(v, [&](const YAML::Node& a) {
          TOCSIN_RETURN_IF_ERROR(
              Keys(a, "an alert_rule_test item", {"eval_time", "alertname", "exp_alerts"}));
          AlertCase c;
          if (a["eval_time"]) TOCSIN_RETURN_IF_ERROR(Duration(a["eval_time"], &c.eval_ms));
          if (a["alertname"]) TOCSIN_RETURN_IF_ERROR(Str(a["alertname"], &c.alertname));
          if (a["exp_alerts"])
            TOCSIN_RETURN_IF_ERROR(List(a["exp_alerts"], [&](const YAML::Node& e) {
              TOCSIN_RETURN_IF_ERROR(
                  Keys(e, "an exp_alerts item", {"exp_labels", "exp_annotations"}));
              ExpectedAlert x;
              if (e["exp_labels"]) TOCSIN_RETURN_IF_ERROR(Map(e["exp_labels"], &x.labels));
              if (e["exp_annotations"])
                TOCSIN_RETURN_IF_ERROR(Map(e["exp_annotations"], &x.annotations));
              c.exp.push_back(std::move(x));
              return Status::Ok();
            }));
          g->alerts.push_back(std::move(c));
          return Status::Ok();
        }));
      } else if (k == "promql_expr_test") {
        TOCSIN_RETURN_IF_ERROR(List(v, [&](const YAML::Node& p) {
          TOCSIN_RETURN_IF_ERROR(
              Keys(p, "a promql_expr_test item", {"expr", "eval_time", "exp_samples"}));
          ExprCase c;
          if (p["expr"]) TOCSIN_RETURN_IF_ERROR(Str(p["expr"], &c.expr));
          if (p["eval_time"]) TOCSIN_RETURN_IF_ERROR(Duration(p["eval_time"], &c.eval_ms));
          if (p["exp_samples"])
            TOCSIN_RETURN_IF_ERROR(List(p["exp_samples"], [&](const YAML::Node& e) {
              TOCSIN_RETURN_IF_ERROR(Keys(e, "an exp_samples item", {"labels", "value"}));
              ExpectedSample x;
              if (e["labels"]) TOCSIN_RETURN_IF_ERROR(Str(e["labels"], &x.labels));
              if (e["value"]) {
                std::string s;
                TOCSIN_RETURN_IF_ERROR(Str(e["value"], &s));
                if (!ParseDouble(s, &x.value)) return Err(e["value"], "not a number: " + s);
              }
              c.exp.push_back(std::move(x));
              return Status::Ok();
            }));
          g->exprs.push_back(std::move(c));
          return Status::Ok();
        }));
      }
    }
    return Status::Ok();
  }

  Status File(const std::string& text, TestFile* f) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(file_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (root.IsNull()) return Status::Ok();
    try {
      TOCSIN_RETURN_IF_ERROR(
          Keys(root, "the test file",
               {"rule_files", "evaluation_interval", "group_eval_order", "tests"}));
      if (root["rule_files"])
        TOCSIN_RETURN_IF_ERROR(List(root["rule_files"], [&](const YAML::Node& n) {
          std::string s;
          TOCSIN_RETURN_IF_ERROR(Str(n, &s));
          f->rule_files.push_back(s);
          return Status::Ok();
        }));
      if (root["evaluation_interval"])
        TOCSIN_RETURN_IF_ERROR(Duration(root["evaluation_interval"], &f->eval_interval_ms));
      if (f->eval_interval_ms <= 0) f->eval_interval_ms = 60000;
      if (root["group_eval_order"])
        TOCSIN_RETURN_IF_ERROR(List(root["group_eval_order"], [&](const YAML::Node& n) {
          std::string s;
          TOCSIN_RETURN_IF_ERROR(Str(n, &s));
          if (std::find(f->group_order.begin(), f->group_order.end(), s) != f->group_order.end())
            return Status::InvalidArgument("group name repeated in evaluation order: " + s);
          f->group_order.push_back(s);
          return Status::Ok();
        }));
      if (root["tests"])
        TOCSIN_RETURN_IF_ERROR(List(root["tests"], [&](const YAML::Node& n) {
          TestGroup g;
          TOCSIN_RETURN_IF_ERROR(Group(n, &g));
          f->tests.push_back(std::move(g));
          return Status::Ok();
        }));
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(file_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return Status::Ok();
  }

 private:
  std::string file_;
};

// ---- Printing as promtool prints ----

std::string LabelsString(const StrMap& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) {
    if (out.size() > 1) out += ", ";
    out += k + "=" + GoQuote(v);
  }
  return out + "}";
}

// Go's time.Duration String (e.g. 5m0s, 1h0m0s, 0s) for rule evaluation errors.
std::string GoDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  int64_t h = ms / 3600000, m = ms / 60000 % 60;
  double s = static_cast<double>(ms % 60000) / 1000;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return out + buf + "s";
}

// strconv.FormatFloat(v, 'E', -1, 64): the shortest digits that read back the same.
std::string GoFloatE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  for (int p = 0; p < 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*E", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string Indent(const std::string& text, const std::string& indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

struct LabelsAndAnnotations {
  StrMap labels, annotations;
  bool operator<(const LabelsAndAnnotations& o) const {
    return labels != o.labels ? labels < o.labels : annotations < o.annotations;
  }
  bool operator==(const LabelsAndAnnotations& o) const {
    return labels == o.labels && annotations == o.annotations;
  }
};

std::string AlertsString(const std::vector<LabelsAndAnnotations>& v) {
  if (v.empty()) return "[]";
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    s += (i ? ",\n" : "\n") + std::to_string(i) + ":" +
         Indent("\nLabels:" + LabelsString(v[i].labels) +
                    "\nAnnotations:" + LabelsString(v[i].annotations),
                "  ");
  }
  return s + "\n]";
}

struct Sample {
  labels::Labels labels;
  double value;
};

std::string SamplesString(const std::vector<Sample>& v) {
  if (v.empty()) return "nil";
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ", ";
    StrMap m;
    x.labels.ForEach(
        [&](std::string_view k, std::string_view val) { m[std::string(k)] = std::string(val); });
    s += LabelsString(m) + " " + GoFloatE(x.value);
  }
  return s;
}

// ---- Evaluation over an in-memory store ----

class EngineDatasource : public Datasource {
 public:
  EngineDatasource(tsdb::Storage* storage, promql::EngineOptions o)
      : storage_(storage), engine_(o) {}

  Status Query(const std::string& expr, int64_t t_ms, std::vector<QuerySample>* out) override {
    std::vector<Sample> samples;
    TOCSIN_RETURN_IF_ERROR(Eval(expr, t_ms, &samples));
    out->clear();
    for (auto& s : samples) {
      QuerySample q;
      s.labels.ForEach([&](std::string_view k, std::string_view v) {
        q.labels[std::string(k)] = std::string(v);
      });
      q.value = s.value;
      out->push_back(std::move(q));
    }
    return Status::Ok();
  }

  Status Eval(const std::string& expr, int64_t t_ms, std::vector<Sample>* out) {
    promql::NodePtr node;
    TOCSIN_RETURN_IF_ERROR(promql::ParseExpr(expr, &node));
    promql::QueryResult r;
    TOCSIN_RETURN_IF_ERROR(engine_.Instant(storage_, *node, t_ms, &r));
    out->clear();
    if (r.type == promql::ValueType::kScalar) {
      out->push_back({labels::Labels(), r.scalar.empty() ? 0 : r.scalar.back().v});
    } else if (r.type == promql::ValueType::kVector) {
      for (auto& s : r.series) out->push_back({std::move(s.labels), s.points.back().v});
    } else {
      return Status::InvalidArgument("rule result is not a vector or scalar");
    }
    return Status::Ok();
  }

 private:
  tsdb::Storage* storage_;
  promql::Engine engine_;
};

// Samples up to `till` only: promtool loads input series lazily, up to each evaluation round,
// so a promql_expr_test between two rounds sees no sample after the last round.
Status LoadSeries(const TestGroup& tg, int64_t interval_ms, int64_t till, tsdb::Head* head) {
  auto app = head->NewAppender();
  for (const InputSeries& in : tg.input) {
    labels::Labels ls;
    TOCSIN_RETURN_IF_ERROR(promql::ParseSeriesLabels(in.series, &ls));
    std::vector<std::optional<double>> vs;
    TOCSIN_RETURN_IF_ERROR(promql::ExpandSeriesValues(in.values, &vs));
    for (size_t k = 0; k < vs.size(); ++k) {
      int64_t t = static_cast<int64_t>(k) * interval_ms;
      if (vs[k] && t <= till) app->Append(ls, t, *vs[k]);
    }
  }
  return app->Commit();
}

std::vector<std::string> RunGroup(const TestFile& f, const TestGroup& tg,
                                  const std::vector<Group>& groups) {
  std::vector<std::string> errs;
  for (const AlertCase& a : tg.alerts)
    if (a.alertname.empty())
      return {"an item under alert_rule_test misses required attribute alertname at eval_time " +
              FormatDuration(std::chrono::milliseconds(a.eval_ms)) +
              (tg.name.empty() ? "" : " (in TestGroup " + tg.name + ")")};

  int64_t maxt = 0;
  for (const auto& a : tg.alerts) maxt = std::max(maxt, a.eval_ms);
  for (const auto& e : tg.exprs) maxt = std::max(maxt, e.eval_ms);
  const int64_t step = f.eval_interval_ms;
  tsdb::Head head;
  Status st = LoadSeries(tg, tg.interval_ms > 0 ? tg.interval_ms : step, maxt - maxt % step, &head);
  if (!st.ok()) return {std::string(st.message())};
  promql::EngineOptions eo;
  eo.default_subquery_step_ms = f.eval_interval_ms;
  EngineDatasource ds(&head, eo);

  ManagerOptions mo;
  mo.external_labels = tg.external_labels;
  mo.external_url = tg.external_url;
  mo.restore = false;
  mo.write_after_each_rule = true;  // later rules of a group see earlier results, as Prometheus
  Manager manager(
      &ds, mo, [](const Rule&, const Alert&) {},
      [&head](const std::vector<OutputSeries>& series) {
        auto app = head.NewAppender();
        for (const OutputSeries& o : series) {
          labels::Labels ls;
          if (labels::Labels::FromPairs({o.labels.begin(), o.labels.end()}, &ls).ok())
            app->Append(ls, o.t, o.v);
        }
        (void)app->Commit();
      });
  // group_eval_order first, in its order; the other groups after them, as loaded.
  std::vector<Group> ordered = groups;
  auto rank = [&](const Group& g) {
    auto it = std::find(f.group_order.begin(), f.group_order.end(), g.name);
    return it == f.group_order.end() ? f.group_order.size() : size_t(it - f.group_order.begin());
  };
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const Group& a, const Group& b) { return rank(a) < rank(b); });
  manager.SetGroups(std::move(ordered));

  std::vector<const AlertCase*> pending;
  for (const auto& a : tg.alerts) pending.push_back(&a);
  std::stable_sort(pending.begin(), pending.end(),
                   [](const AlertCase* a, const AlertCase* b) { return a->eval_ms < b->eval_ms; });
  size_t next = 0;
  for (int64_t ts = 0; ts <= maxt; ts += step) {
    manager.EvaluateAll(ts);
    std::vector<GroupStatus> status = manager.Groups();
    bool failed = false;
    for (const auto& g : status)
      for (const auto& r : g.rules)
        if (r.health == "err" && r.last_evaluation == ts) {
          errs.push_back("    rule: " + r.rule->name() + ", time: " + GoDuration(ts) +
                         ", err: " + r.last_error);
          failed = true;
        }
    if (failed) return errs;
    // Alert cases whose eval_time falls in [ts, ts + interval) are checked against this round.
    for (; next < pending.size() && pending[next]->eval_ms >= ts &&
           pending[next]->eval_ms < ts + step;
         ++next) {
      const AlertCase& c = *pending[next];
      std::vector<LabelsAndAnnotations> got, exp;
      for (const auto& g : status)
        for (const auto& r : g.rules) {
          if (!r.rule->is_alert() || r.rule->alert != c.alertname) continue;
          for (const Alert& a : r.alerts)
            if (a.state == AlertState::kFiring) got.push_back({a.labels, a.annotations});
        }
      for (const ExpectedAlert& e : c.exp) {
        LabelsAndAnnotations x{e.labels, e.annotations};
        x.labels["alertname"] = c.alertname;
        exp.push_back(std::move(x));
      }
      std::sort(got.begin(), got.end());
      std::sort(exp.begin(), exp.end());
      if (got != exp) {
        std::string indent(12, ' ');
        errs.push_back((tg.name.empty() ? "" : "    name: " + tg.name + ",\n") +
                       "    alertname: " + c.alertname +
                       ", time: " + FormatDuration(std::chrono::milliseconds(c.eval_ms)) +
                       ", \n        exp:" + Indent(AlertsString(exp), indent) +
                       ", \n        got:" + Indent(AlertsString(got), indent));
      }
    }
  }

  for (const ExprCase& c : tg.exprs) {
    std::string when = FormatDuration(std::chrono::milliseconds(c.eval_ms));
    std::vector<Sample> got, exp;
    st = ds.Eval(c.expr, c.eval_ms, &got);
    if (!st.ok()) {
      errs.push_back("    expr: " + GoQuote(c.expr) + ", time: " + when +
                     ", err: " + std::string(st.message()));
      continue;
    }
    bool bad = false;
    for (const ExpectedSample& e : c.exp) {
      labels::Labels ls;
      // No labels at all: a sample without labels (a scalar or an aggregation of everything).
      st = TrimSpace(e.labels).empty() ? Status::Ok() : promql::ParseSeriesLabels(e.labels, &ls);
      if (!st.ok()) {
        errs.push_back("    expr: " + GoQuote(c.expr) + ", time: " + when + ", err: labels " +
                       GoQuote(e.labels) + ": " + std::string(st.message()));
        bad = true;
        break;
      }
      exp.push_back({std::move(ls), e.value});
    }
    if (bad) continue;
    auto by_labels = [](const Sample& a, const Sample& b) { return a.labels < b.labels; };
    std::sort(got.begin(), got.end(), by_labels);
    std::sort(exp.begin(), exp.end(), by_labels);
    bool same = got.size() == exp.size();
    for (size_t i = 0; same && i < got.size(); ++i)
      same = got[i].labels == exp[i].labels && got[i].value == exp[i].value;
    if (!same)
      errs.push_back("    expr: " + GoQuote(c.expr) + ", time: " + when + ",\n        exp: " +
                     SamplesString(exp) + "\n        got: " + SamplesString(got));
  }
  return errs;
}

std::vector<std::string> RunFile(const std::string& path, std::FILE* err) {
  std::string text;
  Status st = ReadFile(path, &text);
  if (!st.ok()) return {std::string(st.message())};
  TestFile f;
  st = Reader(path).File(text, &f);
  if (!st.ok()) return {std::string(st.message())};
  // Rule files are relative to the test file; globs allowed.
  std::vector<std::string> files;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  for (std::string rf : f.rule_files) {
    if (!rf.empty() && rf[0] != '/' && !dir.empty()) rf = (dir / rf).string();
    glob_t g{};
    size_t found = 0;
    if (::glob(rf.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) files.push_back(g.gl_pathv[i]);
      found = g.gl_pathc;
    }
    globfree(&g);
    if (found == 0) std::fprintf(err, "  WARNING: no file match pattern %s\n", rf.c_str());
  }
  std::vector<Group> groups;
  if (!files.empty()) {
    st = LoadRuleFiles(files, &groups);
    if (!st.ok()) return {std::string(st.message())};
  }
  std::vector<std::string> errs;
  for (const TestGroup& tg : f.tests) {
    std::vector<std::string> e = RunGroup(f, tg, groups);
    errs.insert(errs.end(), e.begin(), e.end());
  }
  return errs;
}

}  // namespace

int RunRuleTests(const std::vector<std::string>& files, std::FILE* out, std::FILE* err) {
  bool failed = false;
  for (const std::string& path : files) {
    std::fprintf(out, "Unit Testing:  %s\n", path.c_str());
    std::fflush(out);
    std::vector<std::string> errs = RunFile(path, err);
    if (errs.empty()) {
      std::fprintf(out, "  SUCCESS\n");
    } else {
      std::fprintf(err, "  FAILED:\n");
      for (const std::string& e : errs) std::fprintf(err, "%s\n\n", e.c_str());
      failed = true;
    }
    std::fprintf(out, "\n");
    std::fflush(out);
    std::fflush(err);
  }
  return failed ? 1 : 0;
}

}  // namespace tocsin::alertd
