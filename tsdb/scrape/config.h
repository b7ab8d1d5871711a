#pragma once
// prometheus.yml as tocsin-tsdb reads it: global, scrape_configs and remote_write, with
// Prometheus's defaults and checks. A key Tocsin does not support is an error naming the file,
// line and key; rule_files and alerting are accepted and left to tocsin-alertd (a warning).
// Relative paths (files of file_sd_configs, password and credentials files, TLS files) are
// resolved against the config file's directory, as Prometheus does. Secrets read from files
// are kept in the config and never printed: Redacted() is what the API shows.
// Thread-safety: values.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "tsdb/scrape/relabel.h"

namespace tocsin::tsdb::scrape {

using Duration = std::chrono::milliseconds;

struct TlsConfig {
  std::string ca_file, cert_file, key_file, server_name;
  bool insecure_skip_verify = false;
};

struct HttpClientConfig {
  std::string basic_auth_user;
  std::string basic_auth_password;  // secret
  std::string authorization_type = "Bearer";
  std::string authorization_credentials;  // secret
  TlsConfig tls;
  bool follow_redirects = true;
};

struct StaticConfig {
  std::vector<std::string> targets;
  LabelPairs labels;
};

struct FileSdConfig {
  std::vector<std::string> files;  // absolute paths; may end in a glob (*.yml, *.json)
  Duration refresh_interval = std::chrono::minutes(5);
};

struct ScrapeConfig {
  std::string job_name;
  Duration scrape_interval{0}, scrape_timeout{0};  // filled from global when unset
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::vector<std::pair<std::string, std::string>> params;  // repeated names allowed
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<StaticConfig> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  HttpClientConfig http;
  uint64_t sample_limit = 0, label_limit = 0, label_name_length_limit = 0,
           label_value_length_limit = 0, body_size_limit = 0, target_limit = 0;
};

struct QueueConfig {
  int capacity = 2500;
  int max_shards = 200;
  int min_shards = 1;
  int max_samples_per_send = 500;
  Duration batch_send_deadline = std::chrono::seconds(5);
  Duration min_backoff = std::chrono::milliseconds(30);
  Duration max_backoff = std::chrono::seconds(5);
  bool retry_on_http_429 = false;
};

struct RemoteWriteConfig {
  std::string url;  // may carry credentials: shown redacted
  std::string name;
  Duration remote_timeout = std::chrono::seconds(30);
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<RelabelConfig> write_relabel_configs;
  HttpClientConfig http;
  QueueConfig queue;
};

struct GlobalConfig {
  Duration scrape_interval = std::chrono::minutes(1);
  Duration scrape_timeout = std::chrono::seconds(10);
  Duration evaluation_interval = std::chrono::minutes(1);
  LabelPairs external_labels;
};

struct Config {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
  std::vector<RemoteWriteConfig> remote_write;
  std::vector<std::string> warnings;  // e.g. sections left to tocsin-alertd

  // The configuration as YAML with every secret replaced by <secret>.
  std::string Redacted() const;
};

// Parses YAML text; source names it in errors, base_dir resolves relative paths.
Status ParseConfig(const std::string& text, const std::string& source, const std::string& base_dir,
                   Config* out);
Status LoadConfigFile(const std::string& path, Config* out);

}  // namespace tocsin::tsdb::scrape
