#include "alertd/template/template.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "common/labels/regex_expand.h"

namespace tocsin::alertd {

// --- humanize --------------------------------------------------------------------------------

namespace {
std::string G4(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.4g", v);
  std::string s = b;
  if (s == "nan" || s == "-nan") return "NaN";
  if (s == "inf") return "+Inf";
  if (s == "-inf") return "-Inf";
  return s;
}
}  // namespace

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return G4(v);
  if (std::fabs(v) >= 1) {
    const char* prefix = "";
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return G4(v) + prefix;
  }
  const char* prefix = "";
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return G4(v) + prefix;
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return G4(v);
  const char* prefix = "";
  for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return G4(v) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return G4(v);
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    auto d = static_cast<int64_t>(v);
    int64_t s = d % 60, m = (d / 60) % 60, h = (d / 3600) % 24, days = d / 86400;
    char b[128];
    if (days != 0) {
      std::snprintf(b, sizeof b, "%s%lldd %lldh %lldm %llds", sign.c_str(),
                    static_cast<long long>(days), static_cast<long long>(h),
                    static_cast<long long>(m), static_cast<long long>(s));
    } else if (h != 0) {
      std::snprintf(b, sizeof b, "%s%lldh %lldm %llds", sign.c_str(), static_cast<long long>(h),
                    static_cast<long long>(m), static_cast<long long>(s));
    } else if (m != 0) {
      std::snprintf(b, sizeof b, "%s%lldm %llds", sign.c_str(), static_cast<long long>(m),
                    static_cast<long long>(s));
    } else {
      return sign + G4(v) + "s";
    }
    return b;
  }
  const char* prefix = "";
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1 || v == 0) break;
    prefix = p;
    v *= 1000;
  }
  return G4(v) + prefix + "s";
}

std::string HumanizePercentage(double v) { return G4(v * 100) + "%"; }

// --- values ----------------------------------------------------------------------------------

namespace {

struct Value {
  enum Kind {
    kNil,
    kString,
    kNumber,
    kBool,
    kMap,
    kSamples,
    kSample,
    kList,
    kNotification,
    kAlert
  };
  Kind kind = kNil;
  std::string s;
  double n = 0;
  bool b = false;
  std::map<std::string, std::string> m;
  std::vector<QuerySample> samples;
  QuerySample sample;
  std::vector<Value> list;
  const NotificationData* notification = nullptr;  // kNotification
  const NotificationAlert* alert = nullptr;        // kAlert

  static Value Str(std::string x) {
    Value v;
    v.kind = kString;
    v.s = std::move(x);
    return v;
  }
  static Value Num(double x) {
    Value v;
    v.kind = kNumber;
    v.n = x;
    return v;
  }
  static Value Bool(bool x) {
    Value v;
    v.kind = kBool;
    v.b = x;
    return v;
  }
  static Value Map(std::map<std::string, std::string> x) {
    Value v;
    v.kind = kMap;
    v.m = std::move(x);
    return v;
  }
  bool Truth() const {
    switch (kind) {
      case kNil:
        return false;
      case kString:
        return !s.empty();
      case kNumber:
        return n != 0;
      case kBool:
        return b;
      case kMap:
        return !m.empty();
      case kSamples:
        return !samples.empty();
      case kSample:
        return true;
      case kList:
        return !list.empty();
      case kNotification:
      case kAlert:
        return true;
    }
    return false;
  }
  std::string Print() const {
    switch (kind) {
      case kNil:
        return "<no value>";
      case kString:
        return s;
      case kNumber: {
        std::string out;
        expfmt::AppendDouble(&out, n);
        if (out == "+Inf") return "+Inf";
        return out;
      }
      case kBool:
        return b ? "true" : "false";
      case kMap: {
        std::string out = "map[";
        bool first = true;
        for (const auto& [k, v] : m) {
          if (!first) out += " ";
          first = false;
          out += k + ":" + v;
        }
        return out + "]";
      }
      case kSamples:
        return "[" + std::to_string(samples.size()) + " samples]";
      case kSample: {
        Value l = Map(sample.labels);
        return "{" + l.Print() + " " + Num(sample.value).Print() + "}";
      }
      case kList: {
        std::string out = "[";
        for (size_t i = 0; i < list.size(); ++i) out += (i ? " " : "") + list[i].Print();
        return out + "]";
      }
      case kNotification:
        return "{notification " + notification->status + "}";
      case kAlert:
        return "{alert " + alert->status + " " + Map(alert->labels).Print() + "}";
    }
    return "";
  }
};

// --- syntax ----------------------------------------------------------------------------------

struct Arg;
struct Command {
  std::vector<Arg> args;  // args[0] may be a function name
};
struct Pipeline {
  std::vector<std::string> decl;  // $x := / $i, $e := (range)
  std::vector<Command> cmds;
};
struct Arg {
  enum Kind { kFunc, kField, kVar, kString, kNumber, kBool, kNil, kPipe, kDot };
  Kind kind = kNil;
  std::string name;               // function, variable ($x), or field root
  std::vector<std::string> path;  // .A.B or $x.A.B
  std::string s;
  double n = 0;
  bool b = false;
  std::shared_ptr<Pipeline> pipe;
};

const std::vector<std::string_view>& KnownFunctions() {
  static const std::vector<std::string_view> f = {"humanize",
                                                  "humanize1024",
                                                  "humanizePercentage",
                                                  "humanizeDuration",
                                                  "humanizeTimestamp",
                                                  "printf",
                                                  "print",
                                                  "toUpper",
                                                  "toLower",
                                                  "title",
                                                  "reReplaceAll",
                                                  "match",
                                                  "query",
                                                  "first",
                                                  "value",
                                                  "label",
                                                  "strvalue",
                                                  "sortByLabel",
                                                  "stripPort",
                                                  "args",
                                                  "safeHtml",
                                                  "eq",
                                                  "ne",
                                                  "lt",
                                                  "le",
                                                  "gt",
                                                  "ge",
                                                  "and",
                                                  "or",
                                                  "not",
                                                  "len",
                                                  "index",
                                                  "urlquery",
                                                  "pathPrefix",
                                                  "externalURL",
                                                  "toTime",
                                                  "parseDuration",
                                                  "stripDomain",
                                                  "join"};
  return f;
}

}  // namespace

struct Template::Node {
  enum Kind { kText, kAction, kIf, kRange, kWith };
  Kind kind = kText;
  std::string text;
  Pipeline pipe;
  std::vector<std::unique_ptr<Node>> body, otherwise;
  size_t pos = 0;
};

Template::~Template() = default;

namespace {

class Parser {
 public:
  Parser(const std::string& name, const std::string& text) : name_(name), in_(text) {}

  Status Parse(std::vector<std::unique_ptr<Template::Node>>* out) {
    std::string end;
    TOCSIN_RETURN_IF_ERROR(List(out, &end));
    if (!end.empty()) return Err(pos_, "unexpected {{" + end + "}}");
    return Status::Ok();
  }

 private:
  Status Err(size_t at, const std::string& what) const {
    size_t line =
        1 + static_cast<size_t>(std::count(
                in_.begin(), in_.begin() + static_cast<ptrdiff_t>(std::min(at, in_.size())), '\n'));
    return Status::InvalidArgument("template: " + name_ + ":" + std::to_string(line) + ": " + what);
  }

  // Parses nodes until {{end}}, {{else...}} or the end of input; *stop gets the keyword that
  // stopped it ("end", "else", "else if ..."), empty at the end of input.
  Status List(std::vector<std::unique_ptr<Template::Node>>* out, std::string* stop) {
    stop->clear();
    while (pos_ < in_.size()) {
      size_t open = in_.find("{{", pos_);
      std::string text =
          in_.substr(pos_, open == std::string::npos ? std::string::npos : open - pos_);
      if (open == std::string::npos) {
        pos_ = in_.size();
        AddText(out, text);
        break;
      }
      bool trim_left = open + 2 < in_.size() && in_[open + 2] == '-' && open + 3 < in_.size() &&
                       std::isspace(static_cast<unsigned char>(in_[open + 3]));
      if (trim_left) {
        while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
          text.pop_back();
      }
      AddText(out, text);
      size_t body_start = open + (trim_left ? 3 : 2);
      size_t close = in_.find("}}", body_start);
      if (close == std::string::npos) return Err(open, "unclosed action");
      bool trim_right = close > body_start && in_[close - 1] == '-' && close - 1 > body_start &&
                        std::isspace(static_cast<unsigned char>(in_[close - 2]));
      std::string action = in_.substr(body_start, (trim_right ? close - 1 : close) - body_start);
      pos_ = close + 2;
      if (trim_right) {
        while (pos_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[pos_]))) ++pos_;
      }
      std::string_view a = TrimSpace(action);
      if (StartsWith(a, "/*")) continue;  // a comment
      if (a == "end" || a == "else" || StartsWith(a, "else ")) {
        *stop = std::string(a);
        return Status::Ok();
      }
      auto node = std::make_unique<Template::Node>();
      node->pos = open;
      std::string_view rest = a;
      if (Word(&rest, "if") || Word(&rest, "range") || Word(&rest, "with")) {
        node->kind = StartsWith(a, "if")      ? Template::Node::kIf
                     : StartsWith(a, "range") ? Template::Node::kRange
                                              : Template::Node::kWith;
        TOCSIN_RETURN_IF_ERROR(ParsePipeline(rest, open, &node->pipe));
        TOCSIN_RETURN_IF_ERROR(Branches(node.get(), open));
      } else if (Word(&rest, "define") || Word(&rest, "template") || Word(&rest, "block")) {
        return Err(open, "{{" + std::string(a.substr(0, a.find(' '))) +
                             "}} is not supported in rule templates");
      } else {
        node->kind = Template::Node::kAction;
        TOCSIN_RETURN_IF_ERROR(ParsePipeline(a, open, &node->pipe));
      }
      out->push_back(std::move(node));
    }
    return Status::Ok();
  }

  // The bodies of if/range/with up to {{end}}, with {{else}} and {{else if ...}}.
  Status Branches(Template::Node* node, size_t open) {
    std::string stop;
    TOCSIN_RETURN_IF_ERROR(List(&node->body, &stop));
    if (stop.empty()) return Err(open, "unexpected EOF: missing {{end}}");
    if (stop == "end") return Status::Ok();
    if (stop == "else") {
      TOCSIN_RETURN_IF_ERROR(List(&node->otherwise, &stop));
      if (stop != "end") return Err(open, "expected {{end}} after {{else}}");
      return Status::Ok();
    }
    // else if ... : a nested if in the else branch, sharing this {{end}}.
    std::string_view rest = TrimSpace(std::string_view(stop).substr(4));
    if (!Word(&rest, "if")) return Err(open, "unexpected {{" + stop + "}}");
    auto nested = std::make_unique<Template::Node>();
    nested->kind = Template::Node::kIf;
    nested->pos = open;
    TOCSIN_RETURN_IF_ERROR(ParsePipeline(rest, open, &nested->pipe));
    TOCSIN_RETURN_IF_ERROR(Branches(nested.get(), open));
    node->otherwise.push_back(std::move(nested));
    return Status::Ok();
  }

  static bool Word(std::string_view* s, std::string_view w) {
    if (!StartsWith(*s, w)) return false;
    if (s->size() > w.size() && !std::isspace(static_cast<unsigned char>((*s)[w.size()])))
      return false;
    *s = TrimSpace(s->substr(w.size()));
    return true;
  }

  // --- pipelines ---

  Status ParsePipeline(std::string_view text, size_t at, Pipeline* out) {
    // Declarations: "$x :=" or "$i, $e :=".
    size_t decl = text.find(":=");
    if (decl != std::string_view::npos && !text.empty() && text[0] == '$') {
      std::string_view vars = text.substr(0, decl);
      bool quoted = vars.find('"') != std::string_view::npos;
      if (!quoted) {
        for (auto part : SplitComma(vars)) out->decl.emplace_back(TrimSpace(part));
        text = TrimSpace(text.substr(decl + 2));
      }
    }
    size_t i = 0;
    return Pipe(text, &i, at, out, false);
  }

  static std::vector<std::string_view> SplitComma(std::string_view s) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ',') {
        out.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
    return out;
  }

  Status Pipe(std::string_view t, size_t* i, size_t at, Pipeline* out, bool in_paren) {
    Command cmd;
    for (;;) {
      while (*i < t.size() && std::isspace(static_cast<unsigned char>(t[*i]))) ++*i;
      if (*i >= t.size() || (in_paren && t[*i] == ')')) break;
      char c = t[*i];
      if (c == '|') {
        if (cmd.args.empty()) return Err(at, "missing command before |");
        out->cmds.push_back(std::move(cmd));
        cmd = Command();
        ++*i;
        continue;
      }
      Arg a;
      if (c == '(') {
        ++*i;
        a.kind = Arg::kPipe;
        a.pipe = std::make_shared<Pipeline>();
        TOCSIN_RETURN_IF_ERROR(Pipe(t, i, at, a.pipe.get(), true));
        if (*i >= t.size() || t[*i] != ')') return Err(at, "unclosed left paren");
        ++*i;
      } else if (c == '"' || c == '`') {
        size_t j = *i + 1;
        std::string s;
        for (; j < t.size() && t[j] != c; ++j) {
          if (c == '"' && t[j] == '\\' && j + 1 < t.size()) {
            char e = t[++j];
            s.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
          } else {
            s.push_back(t[j]);
          }
        }
        if (j >= t.size()) return Err(at, "unterminated quoted string");
        a.kind = Arg::kString;
        a.s = s;
        *i = j + 1;
      } else {
        size_t j = *i;
        while (j < t.size() && !std::isspace(static_cast<unsigned char>(t[j])) && t[j] != '|' &&
               t[j] != ')' && t[j] != '(')
          ++j;
        std::string word(t.substr(*i, j - *i));
        *i = j;
        TOCSIN_RETURN_IF_ERROR(Word(word, at, &a));
      }
      cmd.args.push_back(std::move(a));
    }
    if (cmd.args.empty())
      return Err(at, out->cmds.empty() ? "missing value for command" : "missing command after |");
    out->cmds.push_back(std::move(cmd));
    return Status::Ok();
  }

  Status Word(const std::string& w, size_t at, Arg* a) {
    auto split_path = [](std::string_view s) {
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t k = 0; k <= s.size(); ++k) {
        if (k == s.size() || s[k] == '.') {
          if (k > start) parts.emplace_back(s.substr(start, k - start));
          start = k + 1;
        }
      }
      return parts;
    };
    if (w == ".") {
      a->kind = Arg::kDot;
      return Status::Ok();
    }
    if (w[0] == '.') {
      a->kind = Arg::kField;
      a->path = split_path(w);
      return Status::Ok();
    }
    if (w[0] == '$') {
      a->kind = Arg::kVar;
      size_t dot = w.find('.');
      a->name = w.substr(0, dot);
      if (dot != std::string::npos) a->path = split_path(std::string_view(w).substr(dot + 1));
      return Status::Ok();
    }
    if (w == "true" || w == "false") {
      a->kind = Arg::kBool;
      a->b = w == "true";
      return Status::Ok();
    }
    if (w == "nil") {
      a->kind = Arg::kNil;
      return Status::Ok();
    }
    double n;
    if (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '-' || w[0] == '+') {
      if (!ParseDouble(w, &n)) return Err(at, "bad number syntax: \"" + w + "\"");
      a->kind = Arg::kNumber;
      a->n = n;
      return Status::Ok();
    }
    const auto& known = KnownFunctions();
    if (std::find(known.begin(), known.end(), w) == known.end())
      return Err(at, "function \"" + w + "\" not defined");
    a->kind = Arg::kFunc;
    a->name = w;
    return Status::Ok();
  }

  void AddText(std::vector<std::unique_ptr<Template::Node>>* out, const std::string& text) {
    if (text.empty()) return;
    auto n = std::make_unique<Template::Node>();
    n->kind = Template::Node::kText;
    n->text = text;
    out->push_back(std::move(n));
  }

  std::string name_;
  std::string in_;
  size_t pos_ = 0;
};

// --- execution -------------------------------------------------------------------------------

class Exec {
 public:
  Value RootValue() const { return Root(); }
  Exec(const std::string& name, const TemplateData& d) : name_(name), d_(d) {
    vars_.emplace_back("$", Root());
    vars_.emplace_back("$labels", Value::Map(d.labels));
    vars_.emplace_back("$externalLabels", Value::Map(d.external_labels));
    vars_.emplace_back("$externalURL", Value::Str(d.external_url));
    vars_.emplace_back("$value", Value::Num(d.value));
  }

  Status Run(const std::vector<std::unique_ptr<Template::Node>>& nodes, const Value& dot,
             std::string* out) {
    for (const auto& n : nodes) {
      switch (n->kind) {
        case Template::Node::kText:
          *out += n->text;
          break;
        case Template::Node::kAction: {
          Value v;
          TOCSIN_RETURN_IF_ERROR(EvalPipe(n->pipe, dot, &v));
          if (n->pipe.decl.empty()) *out += v.Print();
          break;
        }
        case Template::Node::kIf:
        case Template::Node::kWith: {
          size_t mark = vars_.size();
          Value v;
          TOCSIN_RETURN_IF_ERROR(EvalPipe(n->pipe, dot, &v));
          bool with = n->kind == Template::Node::kWith;
          if (v.Truth()) {
            TOCSIN_RETURN_IF_ERROR(Run(n->body, with ? v : dot, out));
          } else {
            TOCSIN_RETURN_IF_ERROR(Run(n->otherwise, dot, out));
          }
          vars_.resize(mark);
          break;
        }
        case Template::Node::kRange: {
          size_t mark = vars_.size();
          Pipeline p = n->pipe;
          std::vector<std::string> decl = p.decl;
          p.decl.clear();
          Value v;
          TOCSIN_RETURN_IF_ERROR(EvalPipe(p, dot, &v));
          std::vector<std::pair<Value, Value>> items;  // key, element
          if (v.kind == Value::kSamples) {
            for (size_t i = 0; i < v.samples.size(); ++i) {
              Value e;
              e.kind = Value::kSample;
              e.sample = v.samples[i];
              items.emplace_back(Value::Num(static_cast<double>(i)), e);
            }
          } else if (v.kind == Value::kMap) {
            for (const auto& [k, s] : v.m) items.emplace_back(Value::Str(k), Value::Str(s));
          } else if (v.kind == Value::kList) {
            for (size_t i = 0; i < v.list.size(); ++i)
              items.emplace_back(Value::Num(static_cast<double>(i)), v.list[i]);
          } else if (v.kind != Value::kNil) {
            return Err("range can't iterate over " + v.Print());
          }
          if (items.empty()) {
            TOCSIN_RETURN_IF_ERROR(Run(n->otherwise, dot, out));
          }
          for (auto& [k, e] : items) {
            if (decl.size() == 1) vars_.emplace_back(decl[0], e);
            if (decl.size() == 2) {
              vars_.emplace_back(decl[0], k);
              vars_.emplace_back(decl[1], e);
            }
            TOCSIN_RETURN_IF_ERROR(Run(n->body, e, out));
            vars_.resize(mark);
          }
          break;
        }
      }
    }
    return Status::Ok();
  }

 private:
  // "." at the top.
  Value Root() const {
    if (d_.notification != nullptr) {
      Value n;
      n.kind = Value::kNotification;
      n.notification = d_.notification;
      return n;
    }
    // "." at the top: a map-like root with Labels, Value, ExternalLabels, ExternalURL.
    Value v;
    v.kind = Value::kSample;
    v.sample.labels = d_.labels;
    v.sample.value = d_.value;
    return v;
  }

  Status Err(const std::string& what) const {
    return Status::InvalidArgument("template: " + name_ + ": " + what);
  }

  Status Field(const Value& base, const std::vector<std::string>& path, Value* out) {
    Value cur = base;
    for (size_t i = 0; i < path.size(); ++i) {
      const std::string& f = path[i];
      if (cur.kind == Value::kMap && (f == "Names" || f == "Values")) {
        Value l;
        l.kind = Value::kList;
        for (const auto& [k, v] : cur.m) l.list.push_back(Value::Str(f == "Names" ? k : v));
        cur = std::move(l);
      } else if (cur.kind == Value::kMap) {
        auto it = cur.m.find(f);
        cur = Value::Str(it == cur.m.end() ? "" : it->second);  // missingkey=zero
      } else if (cur.kind == Value::kNotification) {
        const NotificationData& n = *cur.notification;
        if (f == "Status") {
          cur = Value::Str(n.status);
        } else if (f == "Receiver") {
          cur = Value::Str(n.receiver);
        } else if (f == "ExternalURL") {
          cur = Value::Str(n.external_url);
        } else if (f == "GroupLabels") {
          cur = Value::Map(n.group_labels);
        } else if (f == "CommonLabels") {
          cur = Value::Map(n.common_labels);
        } else if (f == "CommonAnnotations") {
          cur = Value::Map(n.common_annotations);
        } else if (f == "Alerts") {
          Value l;
          l.kind = Value::kList;
          for (const NotificationAlert& a : n.alerts) {
            Value e;
            e.kind = Value::kAlert;
            e.alert = &a;
            l.list.push_back(std::move(e));
          }
          cur = std::move(l);
        } else {
          return Err("can't evaluate field " + f + " of the notification");
        }
      } else if (cur.kind == Value::kList && (f == "Firing" || f == "Resolved")) {
        Value l;
        l.kind = Value::kList;
        for (const Value& e : cur.list)
          if (e.kind == Value::kAlert && e.alert->status == (f == "Firing" ? "firing" : "resolved"))
            l.list.push_back(e);
        cur = std::move(l);
      } else if (cur.kind == Value::kAlert) {
        const NotificationAlert& a = *cur.alert;
        if (f == "Status") {
          cur = Value::Str(a.status);
        } else if (f == "Labels") {
          cur = Value::Map(a.labels);
        } else if (f == "Annotations") {
          cur = Value::Map(a.annotations);
        } else if (f == "StartsAt") {
          cur = Value::Str(a.starts_at);
        } else if (f == "EndsAt") {
          cur = Value::Str(a.ends_at);
        } else if (f == "GeneratorURL") {
          cur = Value::Str(a.generator_url);
        } else if (f == "Fingerprint") {
          cur = Value::Str(a.fingerprint);
        } else {
          return Err("can't evaluate field " + f + " of an alert");
        }
      } else if (cur.kind == Value::kSample) {
        if (f == "Labels") {
          cur = Value::Map(cur.sample.labels);
        } else if (f == "Value") {
          cur = Value::Num(cur.sample.value);
        } else if (f == "ExternalLabels") {
          cur = Value::Map(d_.external_labels);
        } else if (f == "ExternalURL") {
          cur = Value::Str(d_.external_url);
        } else {
          return Err("can't evaluate field " + f);
        }
      } else {
        return Err("can't evaluate field " + f + " in " + cur.Print());
      }
    }
    *out = std::move(cur);
    return Status::Ok();
  }

  Status EvalArg(const Arg& a, const Value& dot, const Value* piped, Value* out) {
    switch (a.kind) {
      case Arg::kString:
        *out = Value::Str(a.s);
        return Status::Ok();
      case Arg::kNumber:
        *out = Value::Num(a.n);
        return Status::Ok();
      case Arg::kBool:
        *out = Value::Bool(a.b);
        return Status::Ok();
      case Arg::kNil:
        *out = Value();
        return Status::Ok();
      case Arg::kDot:
        *out = dot;
        return Status::Ok();
      case Arg::kField:
        return Field(dot, a.path, out);
      case Arg::kVar: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == a.name) return Field(it->second, a.path, out);
        }
        return Err("undefined variable: " + a.name);
      }
      case Arg::kPipe:
        return EvalPipe(*a.pipe, dot, out);
      case Arg::kFunc: {
        Command c;
        c.args.push_back(a);
        return Call(c, dot, piped, out);
      }
    }
    return Status::Ok();
  }

  Status EvalPipe(const Pipeline& p, const Value& dot, Value* out) {
    Value v;
    bool have = false;
    for (const Command& c : p.cmds) {
      Value r;
      if (c.args[0].kind == Arg::kFunc) {
        TOCSIN_RETURN_IF_ERROR(Call(c, dot, have ? &v : nullptr, &r));
      } else {
        if (c.args.size() > 1) return Err("can't give argument to non-function " + c.args[0].name);
        if (have) return Err("can't pipe into a value");
        TOCSIN_RETURN_IF_ERROR(EvalArg(c.args[0], dot, nullptr, &r));
      }
      v = std::move(r);
      have = true;
    }
    if (!p.decl.empty()) vars_.emplace_back(p.decl.back(), v);
    *out = std::move(v);
    return Status::Ok();
  }

  static bool ToNumber(const Value& v, double* n) {
    if (v.kind == Value::kNumber) {
      *n = v.n;
      return true;
    }
    if (v.kind == Value::kString) return ParseDouble(v.s, n);
    return false;
  }

  static int Compare(const Value& a, const Value& b, bool* ok) {
    *ok = true;
    if (a.kind == Value::kString && b.kind == Value::kString)
      return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    double x, y;
    if ((a.kind == Value::kNumber || b.kind == Value::kNumber) && ToNumber(a, &x) &&
        ToNumber(b, &y))
      return x < y ? -1 : x > y ? 1 : 0;
    if (a.kind == Value::kBool && b.kind == Value::kBool) return a.b == b.b ? 0 : (a.b ? 1 : -1);
    *ok = false;
    return 0;
  }

  Status Printf(const std::vector<Value>& args, Value* out) {
    if (args.empty() || args[0].kind != Value::kString) return Err("printf needs a format string");
    const std::string& f = args[0].s;
    std::string r;
    size_t next = 1;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != '%') {
        r.push_back(f[i]);
        continue;
      }
      size_t j = i + 1;
      while (j < f.size() && std::strchr("+-# 0123456789.", f[j])) ++j;
      if (j >= f.size()) break;
      char verb = f[j];
      std::string spec = f.substr(i, j - i);
      i = j;
      if (verb == '%') {
        r.push_back('%');
        continue;
      }
      if (next >= args.size()) {
        r += "%!" + std::string(1, verb) + "(MISSING)";
        continue;
      }
      const Value& a = args[next++];
      char buf[512];
      double n;
      switch (verb) {
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
          if (!ToNumber(a, &n)) {
            r += "%!" + std::string(1, verb) + "(" + a.Print() + ")";
            break;
          }
          std::snprintf(buf, sizeof buf, (spec + verb).c_str(), n);
          r += buf;
          break;
        case 'd':
          if (!ToNumber(a, &n)) {
            r += "%!d(" + a.Print() + ")";
            break;
          }
          std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), static_cast<long long>(n));
          r += buf;
          break;
        case 'q':
          r += "\"" + a.Print() + "\"";
          break;
        default: {  // s, v and anything else: the printed form
          std::string s = a.Print();
          std::snprintf(buf, sizeof buf, (spec + "s").c_str(), s.c_str());
          r += buf;
        }
      }
    }
    *out = Value::Str(r);
    return Status::Ok();
  }

  Status Call(const Command& c, const Value& dot, const Value* piped, Value* out) {
    const std::string& f = c.args[0].name;
    std::vector<Value> a;
    for (size_t i = 1; i < c.args.size(); ++i) {
      Value v;
      TOCSIN_RETURN_IF_ERROR(EvalArg(c.args[i], dot, nullptr, &v));
      a.push_back(std::move(v));
    }
    if (piped) a.push_back(*piped);  // a piped value is the last argument
    auto need = [&](size_t n) -> Status {
      if (a.size() != n)
        return Err("wrong number of args for " + f + ": want " + std::to_string(n) + " got " +
                   std::to_string(a.size()));
      return Status::Ok();
    };
    auto number = [&](size_t i, double* n) -> Status {
      if (!ToNumber(a[i], n)) return Err(f + ": not a number: " + a[i].Print());
      return Status::Ok();
    };
    double n;
    if (f == "humanize" || f == "humanize1024" || f == "humanizePercentage" ||
        f == "humanizeDuration" || f == "humanizeTimestamp") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      TOCSIN_RETURN_IF_ERROR(number(0, &n));
      if (f == "humanize") *out = Value::Str(Humanize(n));
      if (f == "humanize1024") *out = Value::Str(Humanize1024(n));
      if (f == "humanizePercentage") *out = Value::Str(HumanizePercentage(n));
      if (f == "humanizeDuration") *out = Value::Str(HumanizeDuration(n));
      if (f == "humanizeTimestamp") {
        if (std::isnan(n) || std::isinf(n)) {
          *out = Value::Str(G4(n));
        } else {
          std::time_t secs = static_cast<std::time_t>(std::floor(n));
          std::tm tm{};
          gmtime_r(&secs, &tm);
          char b[64];
          std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
          std::string s = b;
          double frac = n - std::floor(n);
          if (frac > 0) {
            char fb[32];
            std::snprintf(fb, sizeof fb, "%.9f", frac);
            std::string fs = fb + 1;  // ".xxxxxxxxx"
            while (!fs.empty() && fs.back() == '0') fs.pop_back();
            s += fs;
          }
          *out = Value::Str(s + " +0000 UTC");
        }
      }
      return Status::Ok();
    }
    if (f == "printf") return Printf(a, out);
    if (f == "print") {
      std::string s;
      for (const auto& v : a) s += v.Print();
      *out = Value::Str(s);
      return Status::Ok();
    }
    if (f == "toUpper" || f == "toLower" || f == "title" || f == "safeHtml" || f == "stripPort" ||
        f == "stripDomain" || f == "urlquery") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      std::string s = a[0].Print();
      if (f == "toUpper")
        for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (f == "toLower")
        for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (f == "title") {
        bool start = true;
        for (char& ch : s) {
          if (start && std::isalpha(static_cast<unsigned char>(ch)))
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          start = !std::isalnum(static_cast<unsigned char>(ch)) && ch != '\'';
        }
      }
      if (f == "stripPort") {
        if (!s.empty() && s[0] == '[') {
          size_t close = s.find(']');
          if (close != std::string::npos) s = s.substr(1, close - 1);
        } else if (std::count(s.begin(), s.end(), ':') == 1) {
          s = s.substr(0, s.find(':'));
        }
      }
      if (f == "stripDomain") {
        size_t colon = s.rfind(':');
        std::string port = colon == std::string::npos ? "" : s.substr(colon);
        std::string host = colon == std::string::npos ? s : s.substr(0, colon);
        size_t dot = host.find('.');
        if (dot != std::string::npos && !std::isdigit(static_cast<unsigned char>(host[0])))
          host = host.substr(0, dot);
        s = host + port;
      }
      *out = Value::Str(s);
      return Status::Ok();
    }
    if (f == "reReplaceAll" || f == "match") {
      TOCSIN_RETURN_IF_ERROR(need(f == "match" ? 2 : 3));
      re2::RE2 re(a[0].Print(), re2::RE2::Quiet);
      if (!re.ok()) return Err(f + ": invalid regexp " + a[0].Print());
      if (f == "match") {
        *out = Value::Bool(re2::RE2::PartialMatch(a[1].Print(), re));
        return Status::Ok();
      }
      std::string text = a[2].Print(), repl = a[1].Print(), r;
      std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
      size_t pos = 0;
      while (pos <= text.size() && re.Match(text, pos, text.size(), re2::RE2::UNANCHORED,
                                            groups.data(), static_cast<int>(groups.size()))) {
        size_t start = static_cast<size_t>(groups[0].data() - text.data());
        size_t len = groups[0].size();
        r.append(text, pos, start - pos);
        std::string expanded;
        labels::ExpandTemplate(re, repl, groups, &expanded);
        r += expanded;
        pos = start + len;
        if (len == 0) {
          if (pos < text.size()) r.push_back(text[pos]);
          ++pos;
        }
      }
      if (pos < text.size()) r.append(text, pos, std::string::npos);
      *out = Value::Str(r);
      return Status::Ok();
    }
    if (f == "query") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      if (!d_.query) return Err("query: no datasource to query");
      Value v;
      v.kind = Value::kSamples;
      TOCSIN_RETURN_IF_ERROR(
          d_.query(a[0].Print(), &v.samples).WithContext("template: " + name_ + ": query"));
      *out = std::move(v);
      return Status::Ok();
    }
    if (f == "first") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      if (a[0].kind != Value::kSamples || a[0].samples.empty())
        return Err("first() called on vector with no elements");
      Value v;
      v.kind = Value::kSample;
      v.sample = a[0].samples[0];
      *out = std::move(v);
      return Status::Ok();
    }
    if (f == "value" || f == "strvalue") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      if (a[0].kind != Value::kSample) return Err(f + ": not a sample");
      *out = f == "value" ? Value::Num(a[0].sample.value)
                          : Value::Str(a[0].sample.labels["__value__"]);
      return Status::Ok();
    }
    if (f == "label") {
      TOCSIN_RETURN_IF_ERROR(need(2));
      if (a[1].kind != Value::kSample) return Err("label: not a sample");
      auto it = a[1].sample.labels.find(a[0].Print());
      *out = Value::Str(it == a[1].sample.labels.end() ? "" : it->second);
      return Status::Ok();
    }
    if (f == "sortByLabel") {
      TOCSIN_RETURN_IF_ERROR(need(2));
      if (a[1].kind != Value::kSamples) return Err("sortByLabel: not a query result");
      Value v = a[1];
      std::string l = a[0].Print();
      std::stable_sort(v.samples.begin(), v.samples.end(),
                       [&](const QuerySample& x, const QuerySample& y) {
                         return x.labels.at(l) < y.labels.at(l);
                       });
      *out = std::move(v);
      return Status::Ok();
    }
    if (f == "args") {
      Value v = Value::Map({});
      for (size_t i = 0; i < a.size(); ++i) v.m["arg" + std::to_string(i)] = a[i].Print();
      *out = std::move(v);
      return Status::Ok();
    }
    if (f == "join") {  // join SEP LIST (Alertmanager's): {{ .GroupLabels.Values | join " " }}
      TOCSIN_RETURN_IF_ERROR(need(2));
      if (a[1].kind != Value::kList) return Err("join of a non-list");
      std::string out_s;
      for (size_t i = 0; i < a[1].list.size(); ++i)
        out_s += (i ? a[0].Print() : "") + a[1].list[i].Print();
      *out = Value::Str(out_s);
      return Status::Ok();
    }
    if (f == "len") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      size_t len = a[0].kind == Value::kString    ? a[0].s.size()
                   : a[0].kind == Value::kMap     ? a[0].m.size()
                   : a[0].kind == Value::kSamples ? a[0].samples.size()
                                                  : a[0].list.size();
      *out = Value::Num(static_cast<double>(len));
      return Status::Ok();
    }
    if (f == "index") {
      TOCSIN_RETURN_IF_ERROR(need(2));
      if (a[0].kind != Value::kMap) return Err("index of a non-map");
      auto it = a[0].m.find(a[1].Print());
      *out = Value::Str(it == a[0].m.end() ? "" : it->second);
      return Status::Ok();
    }
    if (f == "not") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      *out = Value::Bool(!a[0].Truth());
      return Status::Ok();
    }
    if (f == "and" || f == "or") {
      if (a.empty()) return Err(f + ": needs arguments");
      for (const auto& v : a) {
        if ((f == "and") != v.Truth()) {
          *out = v;
          return Status::Ok();
        }
      }
      *out = a.back();
      return Status::Ok();
    }
    if (f == "eq" || f == "ne" || f == "lt" || f == "le" || f == "gt" || f == "ge") {
      if (a.size() < 2) return Err(f + ": missing argument for comparison");
      bool ok;
      if (f == "eq") {
        for (size_t i = 1; i < a.size(); ++i) {
          if (Compare(a[0], a[i], &ok) == 0 && ok) {
            *out = Value::Bool(true);
            return Status::Ok();
          }
        }
        *out = Value::Bool(false);
        return Status::Ok();
      }
      TOCSIN_RETURN_IF_ERROR(need(2));
      int cmp = Compare(a[0], a[1], &ok);
      if (!ok)
        return Err("incompatible types for comparison: " + a[0].Print() + " and " + a[1].Print());
      bool r = f == "ne"   ? cmp != 0
               : f == "lt" ? cmp < 0
               : f == "le" ? cmp <= 0
               : f == "gt" ? cmp > 0
                           : cmp >= 0;
      *out = Value::Bool(r);
      return Status::Ok();
    }
    if (f == "externalURL" || f == "pathPrefix") {
      *out = Value::Str(d_.external_url);
      return Status::Ok();
    }
    if (f == "toTime" || f == "parseDuration") {
      TOCSIN_RETURN_IF_ERROR(need(1));
      *out = a[0];
      return Status::Ok();
    }
    return Err("function \"" + f + "\" not implemented");
  }

  std::string name_;
  const TemplateData& d_;
  std::vector<std::pair<std::string, Value>> vars_;
};

}  // namespace

Status Template::Parse(const std::string& name, const std::string& text,
                       std::shared_ptr<const Template>* out) {
  std::shared_ptr<Template> t(new Template());
  t->name_ = name;
  TOCSIN_RETURN_IF_ERROR(Parser(name, text).Parse(&t->nodes_));
  *out = std::move(t);
  return Status::Ok();
}

Status Template::Execute(const TemplateData& data, std::string* out) const {
  out->clear();
  Exec e(name_, data);
  return e.Run(nodes_, e.RootValue(), out);
}

}  // namespace tocsin::alertd
