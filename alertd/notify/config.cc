#include "alertd/notify/config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/strings.h"

namespace tocsin::alertd {
namespace {

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  Status Err(const YAML::Node& n, const std::string& what) const {
    return Status::InvalidArgument(source_ + ":" + std::to_string(n.Mark().line + 1) + ":" +
                                   std::to_string(n.Mark().column + 1) + ": " + what);
  }
  // Every key of n must be known; the ones another integration of Alertmanager uses get a
  // clearer word than "unknown".
  Status Keys(const YAML::Node& n, const std::string& what,
              std::initializer_list<const char*> known) const {
    if (!n.IsMap()) return Err(n, what + " must be a mapping");
    static const std::set<std::string> unsupported = {
        "email_configs",     "pagerduty_configs", "webhook_configs",     "opsgenie_configs",
        "victorops_configs", "pushover_configs",  "wechat_configs",      "sns_configs",
        "telegram_configs",  "discord_configs",   "webex_configs",       "msteams_configs",
        "templates",         "time_intervals",    "mute_time_intervals", "active_time_intervals",
        "http_config"};
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      if (std::any_of(known.begin(), known.end(), [&](const char* c) { return k == c; })) continue;
      if (unsupported.count(k))
        return Err(kv.first, "\"" + k + "\" is not supported by tocsin-alertd (in " + what + ")");
      return Err(kv.first, "unknown key \"" + k + "\" in " + what);
    }
    return Status::Ok();
  }
  Status Str(const YAML::Node& n, std::string* out) const {
    if (!n.IsScalar()) return Err(n, "expected a string");
    *out = n.as<std::string>();
    return Status::Ok();
  }
  Status Bool(const YAML::Node& n, bool* out) const {
    std::string s;
    TOCSIN_RETURN_IF_ERROR(Str(n, &s));
    if (s != "true" && s != "false") return Err(n, "expected true or false, got \"" + s + "\"");
    *out = s == "true";
    return Status::Ok();
  }
  Status Duration(const YAML::Node& n, std::chrono::milliseconds* out) const {
    std::string s;
    TOCSIN_RETURN_IF_ERROR(Str(n, &s));
    if (!ParseDuration(s, out)) return Err(n, "not a valid duration: \"" + s + "\"");
    return Status::Ok();
  }
  Status StrList(const YAML::Node& n, std::vector<std::string>* out) const {
    if (!n.IsSequence()) return Err(n, "expected a list");
    for (const auto& item : n) {
      std::string s;
      TOCSIN_RETURN_IF_ERROR(Str(item, &s));
      out->push_back(s);
    }
    return Status::Ok();
  }
  Status Matchers(const YAML::Node& n, std::vector<labels::Matcher>* out) const {
    std::vector<std::string> list;
    TOCSIN_RETURN_IF_ERROR(StrList(n, &list));
    size_t i = 0;
    for (const auto& item : n) {
      labels::Matcher m;
      Status st = ParseMatcher(list[i++], &m);
      if (!st.ok()) return Err(item, std::string(st.message()));
      out->push_back(std::move(m));
    }
    return Status::Ok();
  }
  // match / match_re: name -> value maps.
  Status MatchMap(const YAML::Node& n, bool regex, std::vector<labels::Matcher>* out) const {
    if (!n.IsMap()) return Err(n, "expected a mapping of label names to values");
    for (const auto& kv : n) {
      std::string v;
      TOCSIN_RETURN_IF_ERROR(Str(kv.second, &v));
      labels::Matcher m;
      Status st = labels::Matcher::Make(
          regex ? labels::Matcher::Type::kRegexp : labels::Matcher::Type::kEqual,
          kv.first.as<std::string>(), v, &m);
      if (!st.ok()) return Err(kv.second, std::string(st.message()));
      out->push_back(std::move(m));
    }
    return Status::Ok();
  }
  Status Tmpl(const YAML::Node& n, const std::string& what, std::shared_ptr<const Template>* out) {
    std::string s;
    TOCSIN_RETURN_IF_ERROR(Str(n, &s));
    // Alertmanager configs often spell the defaults out: {{ template "slack.default.title" . }}.
    std::string compact;
    for (char ch : s)
      if (!std::isspace(static_cast<unsigned char>(ch))) compact += ch;
    if (StartsWith(compact, "{{template\"slack.default.") && EndsWith(compact, "\".}}")) {
      out->reset();
      return Status::Ok();
    }
    Status st = Template::Parse(what, s, out);
    if (!st.ok()) return Err(n, std::string(st.message()));
    return Status::Ok();
  }

  Status RouteNode(const YAML::Node& n, const Route* parent, Route* r) {
    TOCSIN_RETURN_IF_ERROR(
        Keys(n, "a route",
             {"receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "matchers",
              "match", "match_re", "continue", "routes"}));
    if (parent) {
      // Children inherit everything but matchers, continue and routes.
      r->receiver = parent->receiver;
      r->group_by = parent->group_by;
      r->group_by_all = parent->group_by_all;
      r->group_wait = parent->group_wait;
      r->group_interval = parent->group_interval;
      r->repeat_interval = parent->repeat_interval;
    }
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (k == "receiver") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &r->receiver));
        receiver_refs_.emplace_back(r->receiver, v);
      } else if (k == "group_by") {
        r->group_by.clear();
        TOCSIN_RETURN_IF_ERROR(StrList(v, &r->group_by));
        r->group_by_all = r->group_by.size() == 1 && r->group_by[0] == "...";
        if (r->group_by_all) r->group_by.clear();
        for (const auto& l : r->group_by)
          if (l == "...") return Err(v, "'...' must be the only entry of group_by");
      } else if (k == "group_wait") {
        TOCSIN_RETURN_IF_ERROR(Duration(v, &r->group_wait));
      } else if (k == "group_interval") {
        TOCSIN_RETURN_IF_ERROR(Duration(v, &r->group_interval));
        if (r->group_interval.count() <= 0) return Err(v, "group_interval must be positive");
      } else if (k == "repeat_interval") {
        TOCSIN_RETURN_IF_ERROR(Duration(v, &r->repeat_interval));
        if (r->repeat_interval.count() <= 0) return Err(v, "repeat_interval must be positive");
      } else if (k == "matchers") {
        TOCSIN_RETURN_IF_ERROR(Matchers(v, &r->matchers));
      } else if (k == "match" || k == "match_re") {
        TOCSIN_RETURN_IF_ERROR(MatchMap(v, k == "match_re", &r->matchers));
      } else if (k == "continue") {
        TOCSIN_RETURN_IF_ERROR(Bool(v, &r->continue_matching));
      }
    }
    if (n["routes"]) {
      if (!n["routes"].IsSequence()) return Err(n["routes"], "routes must be a list");
      for (const auto& child : n["routes"]) {
        Route c;
        TOCSIN_RETURN_IF_ERROR(RouteNode(child, r, &c));
        r->routes.push_back(std::move(c));
      }
    }
    return Status::Ok();
  }

  Status SlackNode(const YAML::Node& n, const std::string& receiver, SlackConfig* c) {
    TOCSIN_RETURN_IF_ERROR(Keys(n, "slack_configs",
                                {"api_url", "api_url_file", "channel", "username", "icon_emoji",
                                 "title", "text", "color", "send_resolved", "layout"}));
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      std::string what = "receiver " + receiver + " slack_configs " + k;
      if (k == "api_url") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &c->api_url));
      } else if (k == "api_url_file") {
        std::string path;
        TOCSIN_RETURN_IF_ERROR(Str(v, &path));
        Status st = ReadTrimmedFile(path, &c->api_url);
        if (!st.ok()) return Err(v, "cannot read api_url_file: " + std::string(st.message()));
      } else if (k == "channel") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &c->channel));
      } else if (k == "username") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &c->username));
      } else if (k == "icon_emoji") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &c->icon_emoji));
      } else if (k == "title") {
        TOCSIN_RETURN_IF_ERROR(Tmpl(v, what, &c->title));
      } else if (k == "text") {
        TOCSIN_RETURN_IF_ERROR(Tmpl(v, what, &c->text));
      } else if (k == "color") {
        TOCSIN_RETURN_IF_ERROR(Tmpl(v, what, &c->color));
      } else if (k == "send_resolved") {
        TOCSIN_RETURN_IF_ERROR(Bool(v, &c->send_resolved));
      } else if (k == "layout") {
        std::string s;
        TOCSIN_RETURN_IF_ERROR(Str(v, &s));
        if (s != "blocks" && s != "attachments")
          return Err(v, "layout must be blocks or attachments, got \"" + s + "\"");
        c->blocks = s == "blocks";
      }
    }
    if (c->api_url.empty()) c->api_url = global_slack_url_;
    if (c->api_url.empty())
      return Err(n, "receiver " + receiver +
                        ": no api_url, api_url_file or global slack_api_url for Slack");
    return Status::Ok();
  }

  Status File(const std::string& text, NotifyConfig* out) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(source_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    try {
      TOCSIN_RETURN_IF_ERROR(
          Keys(root, "the configuration", {"global", "route", "inhibit_rules", "receivers"}));
      if (const YAML::Node g = root["global"]) {
        TOCSIN_RETURN_IF_ERROR(
            Keys(g, "global", {"slack_api_url", "slack_api_url_file", "resolve_timeout"}));
        if (g["slack_api_url"]) TOCSIN_RETURN_IF_ERROR(Str(g["slack_api_url"], &global_slack_url_));
        if (g["slack_api_url_file"]) {
          std::string path;
          TOCSIN_RETURN_IF_ERROR(Str(g["slack_api_url_file"], &path));
          Status st = ReadTrimmedFile(path, &global_slack_url_);
          if (!st.ok())
            return Err(g["slack_api_url_file"],
                       "cannot read slack_api_url_file: " + std::string(st.message()));
        }
      }
      if (!root["route"]) return Err(root, "no route: the configuration needs a top-level route");
      TOCSIN_RETURN_IF_ERROR(RouteNode(root["route"], nullptr, &out->route));
      if (out->route.receiver.empty())
        return Err(root["route"], "the top-level route needs a receiver");
      if (!out->route.matchers.empty())
        return Err(root["route"], "the top-level route must not have matchers");
      std::set<std::string> names;
      if (const YAML::Node rs = root["receivers"]) {
        if (!rs.IsSequence()) return Err(rs, "receivers must be a list");
        for (const auto& rn : rs) {
          TOCSIN_RETURN_IF_ERROR(Keys(rn, "a receiver", {"name", "slack_configs"}));
          Receiver r;
          if (!rn["name"]) return Err(rn, "a receiver needs a name");
          TOCSIN_RETURN_IF_ERROR(Str(rn["name"], &r.name));
          if (!names.insert(r.name).second)
            return Err(rn["name"], "receiver \"" + r.name + "\" defined twice");
          if (const YAML::Node sc = rn["slack_configs"]) {
            if (!sc.IsSequence()) return Err(sc, "slack_configs must be a list");
            for (const auto& c : sc) {
              SlackConfig cfg;
              TOCSIN_RETURN_IF_ERROR(SlackNode(c, r.name, &cfg));
              r.slack.push_back(std::move(cfg));
            }
          }
          out->receivers.push_back(std::move(r));
        }
      }
      for (const auto& [name, node] : receiver_refs_)
        if (!names.count(name))
          return Err(node, "undefined receiver \"" + name + "\" used in route");
      if (const YAML::Node ir = root["inhibit_rules"]) {
        if (!ir.IsSequence()) return Err(ir, "inhibit_rules must be a list");
        for (const auto& rn : ir) {
          TOCSIN_RETURN_IF_ERROR(
              Keys(rn, "an inhibit rule",
                   {"source_matchers", "target_matchers", "source_match", "source_match_re",
                    "target_match", "target_match_re", "equal"}));
          InhibitRule r;
          for (const auto& kv : rn) {
            std::string k = kv.first.as<std::string>();
            if (k == "source_matchers") TOCSIN_RETURN_IF_ERROR(Matchers(kv.second, &r.source));
            if (k == "target_matchers") TOCSIN_RETURN_IF_ERROR(Matchers(kv.second, &r.target));
            if (k == "source_match" || k == "source_match_re")
              TOCSIN_RETURN_IF_ERROR(MatchMap(kv.second, k == "source_match_re", &r.source));
            if (k == "target_match" || k == "target_match_re")
              TOCSIN_RETURN_IF_ERROR(MatchMap(kv.second, k == "target_match_re", &r.target));
            if (k == "equal") TOCSIN_RETURN_IF_ERROR(StrList(kv.second, &r.equal));
          }
          out->inhibit_rules.push_back(std::move(r));
        }
      }
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(source_ + ":" + std::to_string(e.mark.line + 1) + ": " +
                                     e.msg);
    }
    return Status::Ok();
  }

 private:
  std::string source_;
  std::string global_slack_url_;
  std::vector<std::pair<std::string, YAML::Node>> receiver_refs_;
};

}  // namespace

const Receiver* NotifyConfig::FindReceiver(const std::string& name) const {
  for (const Receiver& r : receivers)
    if (r.name == name) return &r;
  return nullptr;
}

Status ParseMatcher(std::string_view text, labels::Matcher* out) {
  std::string_view t = TrimSpace(text);
  size_t i = 0;
  while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_')) ++i;
  std::string name(t.substr(0, i));
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return Status::InvalidArgument("bad matcher \"" + std::string(text) +
                                   "\": expected a label name first");
  std::string_view rest = TrimSpace(t.substr(i));
  labels::Matcher::Type type;
  size_t op = 2;
  if (StartsWith(rest, "=~")) {
    type = labels::Matcher::Type::kRegexp;
  } else if (StartsWith(rest, "!~")) {
    type = labels::Matcher::Type::kNotRegexp;
  } else if (StartsWith(rest, "!=")) {
    type = labels::Matcher::Type::kNotEqual;
  } else if (StartsWith(rest, "=")) {
    type = labels::Matcher::Type::kEqual;
    op = 1;
  } else {
    return Status::InvalidArgument("bad matcher \"" + std::string(text) +
                                   "\": expected =, !=, =~ or !~ after the name");
  }
  std::string_view v = TrimSpace(rest.substr(op));
  std::string value;
  if (!v.empty() && v.front() == '"') {
    if (v.size() < 2 || v.back() != '"')
      return Status::InvalidArgument("bad matcher \"" + std::string(text) +
                                     "\": unterminated quoted value");
    for (size_t k = 1; k + 1 < v.size(); ++k) {
      if (v[k] == '\\' && k + 2 < v.size()) {
        char c = v[++k];
        value += c == 'n' ? '\n' : c;
      } else {
        value += v[k];
      }
    }
  } else {
    value = std::string(v);
  }
  return labels::Matcher::Make(type, name, value, out);
}

Status ParseNotifyConfig(const std::string& text, const std::string& source, NotifyConfig* out) {
  *out = NotifyConfig();
  return Loader(source).File(text, out);
}

Status LoadNotifyConfig(const std::string& path, NotifyConfig* out) {
  std::string text;
  TOCSIN_RETURN_IF_ERROR(ReadFile(path, &text, 4 << 20));
  return ParseNotifyConfig(text, path, out);
}

NotifyConfig DefaultNotifyConfig(const std::string& slack_url, const std::string& channel) {
  NotifyConfig c;
  c.route.receiver = "default";
  c.route.group_by_all = true;
  c.route.group_wait = std::chrono::milliseconds(0);
  c.route.group_interval = std::chrono::seconds(1);
  Receiver r;
  r.name = "default";
  if (!slack_url.empty()) {
    SlackConfig s;
    s.api_url = slack_url;
    s.channel = channel;
    r.slack.push_back(std::move(s));
  }
  c.receivers.push_back(std::move(r));
  return c;
}

}  // namespace tocsin::alertd
