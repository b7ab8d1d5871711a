#pragma once
// alertd.yml: where notifications go, in the shape of Alertmanager's configuration so that an
// existing alertmanager.yml loads where its features are supported — `global.slack_api_url(_file)`,
// a `route` tree (`receiver`, `group_by` incl. '...', `group_wait`, `group_interval`,
// `repeat_interval`, `matchers` / `match` / `match_re`, `continue`, `routes`), `inhibit_rules`
// (`source_matchers`/`target_matchers`/`equal`, and the older `source_match(_re)`/
// `target_match(_re)`), and `receivers` with `slack_configs` (`api_url`, `api_url_file`,
// `channel`, `username`, `icon_emoji`, `title`, `text`, `color`, `send_resolved`, and this
// project's `layout: blocks` for Slack's Block Kit). Any other integration or key is an error
// naming the file, line and key. Webhook URLs are secrets: they are never part of an error.
// Thread-safety: values; immutable after loading.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alertd/template/template.h"
#include "common/base/status.h"
#include "common/labels/labels.h"

namespace tocsin::alertd {

struct SlackConfig {
  std::string api_url;  // secret
  std::string channel, username, icon_emoji;
  // Go templates over the notification (.Status, .Alerts, .GroupLabels, .CommonLabels,
  // .CommonAnnotations, .Receiver, .ExternalURL); null: the defaults.
  std::shared_ptr<const Template> title, text, color;
  bool send_resolved = true;
  bool blocks = false;  // Block Kit layout instead of the classic attachment
};

struct Receiver {
  std::string name;
  std::vector<SlackConfig> slack;  // none: notifications go to the log only
};

struct Route {
  std::string receiver;
  std::vector<std::string> group_by;
  bool group_by_all = false;  // group_by: ['...']
  std::chrono::milliseconds group_wait{std::chrono::seconds(30)};
  std::chrono::milliseconds group_interval{std::chrono::minutes(5)};
  std::chrono::milliseconds repeat_interval{std::chrono::hours(4)};
  std::vector<labels::Matcher> matchers;
  bool continue_matching = false;
  std::vector<Route> routes;
};

struct InhibitRule {
  std::vector<labels::Matcher> source, target;
  std::vector<std::string> equal;
};

struct NotifyConfig {
  Route route;
  std::vector<InhibitRule> inhibit_rules;
  std::vector<Receiver> receivers;
  const Receiver* FindReceiver(const std::string& name) const;
};

// Loads an alertd.yml (or alertmanager.yml).
Status LoadNotifyConfig(const std::string& path, NotifyConfig* out);
Status ParseNotifyConfig(const std::string& text, const std::string& source, NotifyConfig* out);

// Without a file: one receiver, "default" (Slack when slack_url is set, else the log), every
// alert its own group, sent at once (group_wait 0), re-sent every repeat interval of 4 h.
NotifyConfig DefaultNotifyConfig(const std::string& slack_url, const std::string& channel);

// Alertmanager's matcher syntax: name="value", name=~"re", name!=value, name!~"re" (value quoted
// or bare).
Status ParseMatcher(std::string_view text, labels::Matcher* out);

}  // namespace tocsin::alertd
