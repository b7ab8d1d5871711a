#pragma once
// Go text/template as Prometheus offers it in alerting-rule labels and annotations:
//   {{ $labels.instance }} {{ .Labels.job }} {{ $value | humanize }} {{ $externalLabels.x }}
//   {{ if gt $value 80.0 }}...{{ else if ... }}...{{ else }}...{{ end }}
//   {{ range $i, $s := query "up == 0" }}{{ $s.Labels.instance }}{{ end }}
//   {{ printf "%.2f" $value }} {{ "x" | toUpper }} {{ with ... }}{{ end }}
// with "{{-"/"-}}" trimming, variables ($x := ...), pipelines, parenthesised arguments and the
// functions of Prometheus's template package: humanize, humanize1024, humanizePercentage,
// humanizeDuration, humanizeTimestamp, printf, toUpper, toLower, title, reReplaceAll, match,
// query, first, value, label, strvalue, sortByLabel, stripPort, args, safeHtml, plus Go's
// builtins (eq ne lt le gt ge and or not len index). An unknown function or a syntax error is
// an error at parse time, naming the position; errors while executing name the action.
// Thread-safety: a parsed Template is immutable and may be executed from several threads.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tocsin::alertd {

// One sample of a `query` result, as templates see it (.Labels, .Value).
struct QuerySample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

// What notification templates (Slack title, text, color) see, as in Alertmanager: .Status,
// .Receiver, .ExternalURL, .GroupLabels, .CommonLabels, .CommonAnnotations, and .Alerts (also
// .Alerts.Firing and .Alerts.Resolved), each with .Status, .Labels, .Annotations, .StartsAt,
// .EndsAt, .GeneratorURL, .Fingerprint. Maps also offer .Names and .Values (sorted by name).
struct NotificationAlert {
  std::string status;  // firing or resolved
  std::map<std::string, std::string> labels, annotations;
  std::string starts_at, ends_at, generator_url, fingerprint;
};
struct NotificationData {
  std::string status, receiver, external_url;
  std::map<std::string, std::string> group_labels, common_labels, common_annotations;
  std::vector<NotificationAlert> alerts;
};

struct TemplateData {
  std::map<std::string, std::string> labels;           // $labels, .Labels
  std::map<std::string, std::string> external_labels;  // $externalLabels, .ExternalLabels
  std::string external_url;                            // $externalURL, .ExternalURL
  double value = 0;                                    // $value, .Value
  // Runs the `query` function (instant query at the evaluation time); unset: an error.
  std::function<Status(const std::string& query, std::vector<QuerySample>* out)> query;
  // Set for notification templates: "." is the notification instead of the alert.
  const NotificationData* notification = nullptr;
};

class Template {
 public:
  // Parses text; name (e.g. "alert HighCPU annotation summary") prefixes errors.
  static Status Parse(const std::string& name, const std::string& text,
                      std::shared_ptr<const Template>* out);
  Status Execute(const TemplateData& data, std::string* out) const;

  struct Node;  // the parsed tree (opaque)
  ~Template();

 private:
  Template() = default;
  std::string name_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// Prometheus's humanize functions, also used by notifications.
std::string Humanize(double v);
std::string Humanize1024(double v);
std::string HumanizeDuration(double seconds);
std::string HumanizePercentage(double v);

}  // namespace tocsin::alertd
