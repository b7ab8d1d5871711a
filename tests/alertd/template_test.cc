#include "alertd/template/template.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tocsin::alertd {
namespace {

std::string Render(const std::string& text, const TemplateData& d) {
  std::shared_ptr<const Template> t;
  Status st = Template::Parse("t", text, &t);
  EXPECT_TRUE(st.ok()) << text << ": " << st.ToString();
  if (!st.ok()) return "";
  std::string out;
  st = t->Execute(d, &out);
  EXPECT_TRUE(st.ok()) << text << ": " << st.ToString();
  return out;
}

TemplateData Data() {
  TemplateData d;
  d.labels = {{"instance", "web-1:9100"}, {"job", "node"}, {"mountpoint", "/var"}};
  d.external_labels = {{"cluster", "eu-1"}};
  d.value = 93.456;
  d.query = [](const std::string& q, std::vector<QuerySample>* out) -> Status {
    if (q == "up == 0") {
      out->push_back({{{"instance", "a:1"}, {"job", "x"}}, 0});
      out->push_back({{{"instance", "b:2"}, {"job", "x"}}, 0});
    } else if (q == "scalar_one") {
      out->push_back({{}, 1.5});
    }
    return Status::Ok();
  };
  return d;
}

TEST(Template, WhatPrometheusRulesWrite) {
  TemplateData d = Data();
  struct Case {
    std::string in, want;
  } cases[] = {
      {"CPU on {{ $labels.instance }} is {{ $value }}%", "CPU on web-1:9100 is 93.456%"},
      {"{{ .Labels.job }}/{{ .Value }}", "node/93.456"},
      {"{{ $value | humanize }}", "93.46"},
      {"{{ printf \"%.1f\" $value }}%", "93.5%"},
      {"{{ humanize 1234567 }} {{ humanize 0.00012 }} {{ humanize 0 }}", "1.235M 120u 0"},
      {"{{ humanize1024 1073741824 }}", "1Gi"},
      {"{{ humanizeDuration 3725 }} {{ humanizeDuration 0.25 }} {{ humanizeDuration 90061 }}",
       "1h 2m 5s 250ms 1d 1h 1m 1s"},
      {"{{ humanizePercentage 0.1234 }}", "12.34%"},
      {"{{ humanizeTimestamp 1700000000 }}", "2023-11-14 22:13:20 +0000 UTC"},
      {"{{ $labels.instance | reReplaceAll \":.*\" \"\" | toUpper }}", "WEB-1"},
      {"{{ reReplaceAll \"(\\\\w+)-(\\\\d)\" \"$2-$1\" $labels.instance }}", "1-web:9100"},
      {"{{ title \"disk almost full\" }} {{ toLower \"ABC\" }}", "Disk Almost Full abc"},
      {"{{ if gt $value 90.0 }}critical{{ else if gt $value 80.0 }}warning{{ else }}ok{{ end }}",
       "critical"},
      {"{{ if lt $value 50.0 }}low{{ else }}high{{ end }}", "high"},
      {"{{ range query \"up == 0\" }}{{ .Labels.instance }} {{ end }}", "a:1 b:2 "},
      {"{{ range $i, $s := query \"up == 0\" }}{{ $i }}={{ $s.Labels.instance }};{{ end }}",
       "0=a:1;1=b:2;"},
      {"{{ with query \"scalar_one\" }}{{ . | first | value }}{{ end }}", "1.5"},
      {"{{ with query \"nothing\" }}yes{{ else }}none{{ end }}", "none"},
      {"{{ query \"up == 0\" | first | label \"instance\" }}", "a:1"},
      {"{{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}", "eu-1 eu-1"},
      {"{{ $labels.missing }}|", "|"},
      {"  {{- \"x\" -}}  \n", "x"},
      {"{{ $x := \"v\" }}{{ $x }}{{/* comment */}}", "v"},
      {"{{ if and (eq $labels.job \"node\") (ne $labels.instance \"\") }}both{{ end }}", "both"},
      {"{{ stripPort $labels.instance }}", "web-1"},
      {"{{ len $labels }}", "3"},
      {"{{ if match \"^web\" $labels.instance }}web{{ end }}", "web"},
  };
  for (const auto& c : cases) EXPECT_EQ(Render(c.in, d), c.want) << c.in;
}

TEST(Template, ErrorsAtParseTimeAndRunTime) {
  std::shared_ptr<const Template> t;
  Status st = Template::Parse("alert X annotation summary", "{{ humanise $value }}", &t);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("function \"humanise\" not defined"), std::string_view::npos)
      << st.message();
  EXPECT_NE(st.message().find("alert X annotation summary"), std::string_view::npos);
  EXPECT_FALSE(Template::Parse("t", "{{ if $value }}x", &t).ok());  // missing end
  EXPECT_FALSE(Template::Parse("t", "{{ $value ", &t).ok());        // unclosed action
  EXPECT_FALSE(Template::Parse("t", "{{ define \"x\" }}{{ end }}", &t).ok());
  ASSERT_TRUE(Template::Parse("t", "{{ query \"nothing\" | first }}", &t).ok());
  std::string out;
  st = t->Execute(Data(), &out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("first() called on vector with no elements"), std::string_view::npos);
}

TEST(Template, HumanizeEdgeCases) {
  EXPECT_EQ(Humanize(NAN), "NaN");
  EXPECT_EQ(Humanize(-1500), "-1.5k");
  EXPECT_EQ(Humanize1024(512), "512");
  EXPECT_EQ(HumanizeDuration(-65), "-1m 5s");
  EXPECT_EQ(HumanizeDuration(0), "0s");
}

}  // namespace
}  // namespace tocsin::alertd
