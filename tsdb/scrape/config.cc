#include "tsdb/scrape/config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/strings.h"
#include "common/expfmt/writer.h"

namespace tocsin::tsdb::scrape {

namespace {

// Signals "not a key of this section" from a key handler.
struct Unknown {};

class ConfigParser {
 public:
  ConfigParser(std::string source, std::string base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  Status Parse(const std::string& text, Config* out) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(source_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    if (root.IsNull()) return Status::Ok();  // an empty file: defaults
    try {
      TOCSIN_RETURN_IF_ERROR(
          Map(root, "the configuration", [&](const std::string& k, const YAML::Node& v) -> Status {
            if (k == "global") return Global(v, &out->global);
            if (k == "scrape_configs") {
              return Seq(v, k, [&](const YAML::Node& item) {
                out->scrape_configs.emplace_back();
                return Scrape(item, out->global, &out->scrape_configs.back());
              });
            }
            if (k == "remote_write") {
              return Seq(v, k, [&](const YAML::Node& item) {
                out->remote_write.emplace_back();
                return RemoteWrite(item, &out->remote_write.back());
              });
            }
            if (k == "rule_files" || k == "alerting") {
              out->warnings.push_back(Where(v) + "\"" + k +
                                      "\" is ignored: tocsin-alertd evaluates rules and notifies");
              return Status::Ok();
            }
            throw Unknown{};
          }));
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(source_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    std::set<std::string> jobs;
    for (const auto& sc : out->scrape_configs) {
      if (!jobs.insert(sc.job_name).second)
        return Status::InvalidArgument(
            source_ + ": found multiple scrape configs with job name \"" + sc.job_name + "\"");
    }
    return Status::Ok();
  }

 private:
  std::string Where(const YAML::Node& n) const {
    return source_ + ":" + std::to_string(n.Mark().line + 1) + ":" +
           std::to_string(n.Mark().column + 1) + ": ";
  }
  Status Err(const YAML::Node& n, const std::string& msg) const {
    return Status::InvalidArgument(Where(n) + msg);
  }

  // Calls fn(key, value) for each key; a key fn does not know (throws Unknown) is an error.
  template <typename F>
  Status Map(const YAML::Node& n, const std::string& what, F fn) {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsMap()) return Err(n, what + " must be a map");
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>();
      try {
        TOCSIN_RETURN_IF_ERROR(fn(key, kv.second));
      } catch (const Unknown&) {
        return Err(kv.first, "unsupported key \"" + key + "\" in " + what);
      }
    }
    return Status::Ok();
  }
  template <typename F>
  Status Seq(const YAML::Node& n, const std::string& what, F fn) {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsSequence()) return Err(n, what + " must be a list");
    for (const auto& item : n) TOCSIN_RETURN_IF_ERROR(fn(item));
    return Status::Ok();
  }
  Status Str(const YAML::Node& n, std::string* out) {
    if (!n.IsScalar()) return Err(n, "expected a string");
    *out = n.as<std::string>();
    return Status::Ok();
  }
  Status Dur(const YAML::Node& n, Duration* out) {
    if (!n.IsScalar() || !ParseDuration(n.as<std::string>(), out))
      return Err(
          n, "not a valid duration string: \"" + (n.IsScalar() ? n.as<std::string>() : "") + "\"");
    return Status::Ok();
  }
  Status Bool(const YAML::Node& n, bool* out) {
    std::string s = n.IsScalar() ? n.as<std::string>() : "";
    if (s == "true") {
      *out = true;
    } else if (s == "false") {
      *out = false;
    } else {
      return Err(n, "expected true or false, got \"" + s + "\"");
    }
    return Status::Ok();
  }
  Status Uint(const YAML::Node& n, uint64_t* out) {
    if (!n.IsScalar() || !ParseUint64(n.as<std::string>(), out))
      return Err(n, "expected a non-negative integer");
    return Status::Ok();
  }
  Status Int(const YAML::Node& n, int* out) {
    uint64_t v;
    TOCSIN_RETURN_IF_ERROR(Uint(n, &v));
    if (v > 1u << 30) return Err(n, "value too large");
    *out = static_cast<int>(v);
    return Status::Ok();
  }
  Status StrList(const YAML::Node& n, std::vector<std::string>* out) {
    return Seq(n, "the list", [&](const YAML::Node& item) {
      std::string s;
      TOCSIN_RETURN_IF_ERROR(Str(item, &s));
      out->push_back(std::move(s));
      return Status::Ok();
    });
  }
  Status LabelMap(const YAML::Node& n, LabelPairs* out) {
    if (n.IsNull()) return Status::Ok();
    if (!n.IsMap()) return Err(n, "labels must be a map");
    for (const auto& kv : n) {
      std::string name = kv.first.as<std::string>();
      if (!expfmt::IsValidLabelName(name))
        return Err(kv.first, "\"" + name + "\" is not a valid label name");
      std::string value;
      TOCSIN_RETURN_IF_ERROR(Str(kv.second, &value));
      SetLabel(out, name, value);
    }
    return Status::Ok();
  }
  std::string Path(const std::string& p) const {
    if (p.empty() || p[0] == '/' || base_dir_.empty()) return p;
    return JoinPath(base_dir_, p);
  }
  Status Secret(const YAML::Node& n, std::string* out) {
    std::string path;
    TOCSIN_RETURN_IF_ERROR(Str(n, &path));
    Status st = ReadFile(Path(path), out, 1 << 20);
    if (!st.ok()) return Err(n, "cannot read secret file: " + std::string(st.message()));
    while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
    return Status::Ok();
  }

  Status Global(const YAML::Node& n, GlobalConfig* g) {
    return Map(n, "global", [&](const std::string& k, const YAML::Node& v) -> Status {
      if (k == "scrape_interval") return Dur(v, &g->scrape_interval);
      if (k == "scrape_timeout") return Dur(v, &g->scrape_timeout);
      if (k == "evaluation_interval") return Dur(v, &g->evaluation_interval);
      if (k == "external_labels") return LabelMap(v, &g->external_labels);
      throw Unknown{};
    });
  }

  Status Tls(const YAML::Node& n, TlsConfig* t) {
    return Map(n, "tls_config", [&](const std::string& k, const YAML::Node& v) -> Status {
      std::string s;
      if (k == "ca_file" || k == "cert_file" || k == "key_file") {
        TOCSIN_RETURN_IF_ERROR(Str(v, &s));
        (k == "ca_file" ? t->ca_file : k == "cert_file" ? t->cert_file : t->key_file) = Path(s);
        return Status::Ok();
      }
      if (k == "server_name") return Str(v, &t->server_name);
      if (k == "insecure_skip_verify") return Bool(v, &t->insecure_skip_verify);
      if (k == "min_version") return Status::Ok();  // the TLS library's minimum applies
      throw Unknown{};
    });
  }

  // Keys shared by scrape and remote-write configs; throws Unknown for others.
  Status HttpKey(const std::string& k, const YAML::Node& v, HttpClientConfig* h) {
    if (k == "basic_auth") {
      return Map(v, "basic_auth", [&](const std::string& bk, const YAML::Node& bv) -> Status {
        if (bk == "username") return Str(bv, &h->basic_auth_user);
        if (bk == "password") return Str(bv, &h->basic_auth_password);
        if (bk == "password_file") return Secret(bv, &h->basic_auth_password);
        throw Unknown{};
      });
    }
    if (k == "authorization") {
      return Map(v, "authorization", [&](const std::string& ak, const YAML::Node& av) -> Status {
        if (ak == "type") return Str(av, &h->authorization_type);
        if (ak == "credentials") return Str(av, &h->authorization_credentials);
        if (ak == "credentials_file") return Secret(av, &h->authorization_credentials);
        throw Unknown{};
      });
    }
    if (k == "bearer_token") return Str(v, &h->authorization_credentials);
    if (k == "bearer_token_file") return Secret(v, &h->authorization_credentials);
    if (k == "tls_config") return Tls(v, &h->tls);
    if (k == "follow_redirects") return Bool(v, &h->follow_redirects);
    if (k == "enable_http2") {
      bool ignored;
      return Bool(v, &ignored);  // libcurl negotiates the protocol
    }
    throw Unknown{};
  }

  Status Relabels(const YAML::Node& n, const std::string& what, std::vector<RelabelConfig>* out) {
    return Seq(n, what, [&](const YAML::Node& item) -> Status {
      RelabelConfig rc;
      TOCSIN_RETURN_IF_ERROR(
          Map(item, what, [&](const std::string& k, const YAML::Node& v) -> Status {
            if (k == "source_labels") return StrList(v, &rc.source_labels);
            if (k == "separator") return Str(v, &rc.separator);
            if (k == "target_label") return Str(v, &rc.target_label);
            if (k == "regex") return Str(v, &rc.regex);
            if (k == "modulus") return Uint(v, &rc.modulus);
            if (k == "replacement") return Str(v, &rc.replacement);
            if (k == "action") {
              std::string a;
              TOCSIN_RETURN_IF_ERROR(Str(v, &a));
              if (!ParseRelabelAction(a, &rc.action))
                return Err(v, "unknown relabel action \"" + a + "\"");
              return Status::Ok();
            }
            throw Unknown{};
          }));
      Status st = rc.Validate();
      if (!st.ok()) return Err(item, std::string(st.message()));
      out->push_back(std::move(rc));
      return Status::Ok();
    });
  }

  Status Scrape(const YAML::Node& n, const GlobalConfig& g, ScrapeConfig* sc) {
    TOCSIN_RETURN_IF_ERROR(
        Map(n, "scrape_configs", [&](const std::string& k, const YAML::Node& v) -> Status {
          if (k == "job_name") return Str(v, &sc->job_name);
          if (k == "scrape_interval") return Dur(v, &sc->scrape_interval);
          if (k == "scrape_timeout") return Dur(v, &sc->scrape_timeout);
          if (k == "metrics_path") return Str(v, &sc->metrics_path);
          if (k == "scheme") {
            TOCSIN_RETURN_IF_ERROR(Str(v, &sc->scheme));
            if (sc->scheme != "http" && sc->scheme != "https")
              return Err(v, "scheme must be http or https, not \"" + sc->scheme + "\"");
            return Status::Ok();
          }
          if (k == "params") {
            return Map(v, "params", [&](const std::string& pk, const YAML::Node& pv) -> Status {
              std::vector<std::string> values;
              TOCSIN_RETURN_IF_ERROR(StrList(pv, &values));
              for (auto& val : values) sc->params.emplace_back(pk, val);
              return Status::Ok();
            });
          }
          if (k == "honor_labels") return Bool(v, &sc->honor_labels);
          if (k == "honor_timestamps") return Bool(v, &sc->honor_timestamps);
          if (k == "static_configs") {
            return Seq(v, k, [&](const YAML::Node& item) -> Status {
              StaticConfig s;
              TOCSIN_RETURN_IF_ERROR(
                  Map(item, "static_configs",
                      [&](const std::string& sk, const YAML::Node& sv) -> Status {
                        if (sk == "targets") return StrList(sv, &s.targets);
                        if (sk == "labels") return LabelMap(sv, &s.labels);
                        throw Unknown{};
                      }));
              sc->static_configs.push_back(std::move(s));
              return Status::Ok();
            });
          }
          if (k == "file_sd_configs") {
            return Seq(v, k, [&](const YAML::Node& item) -> Status {
              FileSdConfig f;
              TOCSIN_RETURN_IF_ERROR(
                  Map(item, "file_sd_configs",
                      [&](const std::string& fk, const YAML::Node& fv) -> Status {
                        if (fk == "files") {
                          std::vector<std::string> files;
                          TOCSIN_RETURN_IF_ERROR(StrList(fv, &files));
                          for (auto& file : files) f.files.push_back(Path(file));
                          return Status::Ok();
                        }
                        if (fk == "refresh_interval") return Dur(fv, &f.refresh_interval);
                        throw Unknown{};
                      }));
              sc->file_sd_configs.push_back(std::move(f));
              return Status::Ok();
            });
          }
          if (k == "relabel_configs") return Relabels(v, k, &sc->relabel_configs);
          if (k == "metric_relabel_configs") return Relabels(v, k, &sc->metric_relabel_configs);
          if (k == "sample_limit") return Uint(v, &sc->sample_limit);
          if (k == "label_limit") return Uint(v, &sc->label_limit);
          if (k == "label_name_length_limit") return Uint(v, &sc->label_name_length_limit);
          if (k == "label_value_length_limit") return Uint(v, &sc->label_value_length_limit);
          if (k == "target_limit") return Uint(v, &sc->target_limit);
          if (k == "body_size_limit") {
            std::string s;
            TOCSIN_RETURN_IF_ERROR(Str(v, &s));
            if (!ParseByteSize(s, &sc->body_size_limit))
              return Err(v, "invalid size \"" + s + "\"");
            return Status::Ok();
          }
          return HttpKey(k, v, &sc->http);
        }));
    if (sc->job_name.empty()) return Err(n, "job_name is empty");
    if (sc->scrape_interval.count() == 0) sc->scrape_interval = g.scrape_interval;
    if (sc->scrape_timeout.count() == 0)
      sc->scrape_timeout = std::min(g.scrape_timeout, sc->scrape_interval);
    if (sc->scrape_timeout > sc->scrape_interval)
      return Err(n,
                 "scrape timeout greater than scrape interval for scrape config with job name \"" +
                     sc->job_name + "\"");
    if (sc->scrape_interval.count() <= 0) return Err(n, "scrape_interval must be positive");
    return Status::Ok();
  }

  Status RemoteWrite(const YAML::Node& n, RemoteWriteConfig* rw) {
    TOCSIN_RETURN_IF_ERROR(
        Map(n, "remote_write", [&](const std::string& k, const YAML::Node& v) -> Status {
          if (k == "url") return Str(v, &rw->url);
          if (k == "name") return Str(v, &rw->name);
          if (k == "remote_timeout") return Dur(v, &rw->remote_timeout);
          if (k == "headers") {
            return Map(v, "headers", [&](const std::string& hk, const YAML::Node& hv) -> Status {
              std::string s;
              TOCSIN_RETURN_IF_ERROR(Str(hv, &s));
              rw->headers.emplace_back(hk, s);
              return Status::Ok();
            });
          }
          if (k == "write_relabel_configs") return Relabels(v, k, &rw->write_relabel_configs);
          if (k == "queue_config") {
            QueueConfig& q = rw->queue;
            return Map(v, "queue_config",
                       [&](const std::string& qk, const YAML::Node& qv) -> Status {
                         if (qk == "capacity") return Int(qv, &q.capacity);
                         if (qk == "max_shards") return Int(qv, &q.max_shards);
                         if (qk == "min_shards") return Int(qv, &q.min_shards);
                         if (qk == "max_samples_per_send") return Int(qv, &q.max_samples_per_send);
                         if (qk == "batch_send_deadline") return Dur(qv, &q.batch_send_deadline);
                         if (qk == "min_backoff") return Dur(qv, &q.min_backoff);
                         if (qk == "max_backoff") return Dur(qv, &q.max_backoff);
                         if (qk == "retry_on_http_429") return Bool(qv, &q.retry_on_http_429);
                         throw Unknown{};
                       });
          }
          if (k == "metadata_config" || k == "send_exemplars" || k == "send_native_histograms") {
            return Status::Ok();  // Tocsin sends samples only
          }
          return HttpKey(k, v, &rw->http);
        }));
    if (!StartsWith(rw->url, "http://") && !StartsWith(rw->url, "https://"))
      return Err(n, "remote_write url must start with http:// or https://");
    if (rw->queue.max_samples_per_send <= 0 || rw->queue.capacity <= 0)
      return Err(n, "queue_config capacity and max_samples_per_send must be positive");
    return Status::Ok();
  }

  std::string source_, base_dir_;
};

// The URL without its user:password part.
std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, scheme + 3) + "<secret>@" + url.substr(at + 1);
}

void EmitHttp(YAML::Emitter* e, const HttpClientConfig& h) {
  if (!h.basic_auth_user.empty() || !h.basic_auth_password.empty()) {
    *e << YAML::Key << "basic_auth" << YAML::Value << YAML::BeginMap << YAML::Key << "username"
       << YAML::Value << h.basic_auth_user << YAML::Key << "password" << YAML::Value << "<secret>"
       << YAML::EndMap;
  }
  if (!h.authorization_credentials.empty()) {
    *e << YAML::Key << "authorization" << YAML::Value << YAML::BeginMap << YAML::Key << "type"
       << YAML::Value << h.authorization_type << YAML::Key << "credentials" << YAML::Value
       << "<secret>" << YAML::EndMap;
  }
  *e << YAML::Key << "follow_redirects" << YAML::Value << h.follow_redirects;
  if (!h.tls.ca_file.empty() || !h.tls.cert_file.empty() || h.tls.insecure_skip_verify ||
      !h.tls.server_name.empty()) {
    *e << YAML::Key << "tls_config" << YAML::Value << YAML::BeginMap;
    if (!h.tls.ca_file.empty()) *e << YAML::Key << "ca_file" << YAML::Value << h.tls.ca_file;
    if (!h.tls.cert_file.empty()) *e << YAML::Key << "cert_file" << YAML::Value << h.tls.cert_file;
    if (!h.tls.key_file.empty()) *e << YAML::Key << "key_file" << YAML::Value << h.tls.key_file;
    if (!h.tls.server_name.empty())
      *e << YAML::Key << "server_name" << YAML::Value << h.tls.server_name;
    *e << YAML::Key << "insecure_skip_verify" << YAML::Value << h.tls.insecure_skip_verify;
    *e << YAML::EndMap;
  }
}

void EmitRelabels(YAML::Emitter* e, const char* key, const std::vector<RelabelConfig>& rs) {
  if (rs.empty()) return;
  static const char* kNames[] = {"replace",   "keep",      "drop",      "hashmod",
                                 "labelmap",  "labeldrop", "labelkeep", "lowercase",
                                 "uppercase", "keepequal", "dropequal"};
  *e << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const auto& r : rs) {
    *e << YAML::BeginMap;
    if (!r.source_labels.empty())
      *e << YAML::Key << "source_labels" << YAML::Value << YAML::Flow << r.source_labels;
    *e << YAML::Key << "separator" << YAML::Value << r.separator;
    if (!r.target_label.empty()) *e << YAML::Key << "target_label" << YAML::Value << r.target_label;
    *e << YAML::Key << "regex" << YAML::Value << r.regex;
    if (r.modulus) *e << YAML::Key << "modulus" << YAML::Value << r.modulus;
    *e << YAML::Key << "replacement" << YAML::Value << r.replacement;
    *e << YAML::Key << "action" << YAML::Value << kNames[static_cast<int>(r.action)];
    *e << YAML::EndMap;
  }
  *e << YAML::EndSeq;
}

}  // namespace

std::string Config::Redacted() const {
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "scrape_interval" << YAML::Value << FormatDuration(global.scrape_interval);
  e << YAML::Key << "scrape_timeout" << YAML::Value << FormatDuration(global.scrape_timeout);
  e << YAML::Key << "evaluation_interval" << YAML::Value
    << FormatDuration(global.evaluation_interval);
  if (!global.external_labels.empty()) {
    e << YAML::Key << "external_labels" << YAML::Value << YAML::BeginMap;
    for (const auto& [n, v] : global.external_labels) e << YAML::Key << n << YAML::Value << v;
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  if (!scrape_configs.empty()) {
    e << YAML::Key << "scrape_configs" << YAML::Value << YAML::BeginSeq;
    for (const auto& sc : scrape_configs) {
      e << YAML::BeginMap << YAML::Key << "job_name" << YAML::Value << sc.job_name;
      e << YAML::Key << "honor_labels" << YAML::Value << sc.honor_labels;
      e << YAML::Key << "honor_timestamps" << YAML::Value << sc.honor_timestamps;
      e << YAML::Key << "scrape_interval" << YAML::Value << FormatDuration(sc.scrape_interval);
      e << YAML::Key << "scrape_timeout" << YAML::Value << FormatDuration(sc.scrape_timeout);
      e << YAML::Key << "metrics_path" << YAML::Value << sc.metrics_path;
      e << YAML::Key << "scheme" << YAML::Value << sc.scheme;
      if (!sc.params.empty()) {
        e << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
        for (const auto& [n, v] : sc.params)
          e << YAML::Key << n << YAML::Value << YAML::Flow << std::vector<std::string>{v};
        e << YAML::EndMap;
      }
      if (sc.sample_limit) e << YAML::Key << "sample_limit" << YAML::Value << sc.sample_limit;
      if (sc.label_limit) e << YAML::Key << "label_limit" << YAML::Value << sc.label_limit;
      EmitHttp(&e, sc.http);
      if (!sc.static_configs.empty()) {
        e << YAML::Key << "static_configs" << YAML::Value << YAML::BeginSeq;
        for (const auto& s : sc.static_configs) {
          e << YAML::BeginMap << YAML::Key << "targets" << YAML::Value << YAML::Flow << s.targets;
          if (!s.labels.empty()) {
            e << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
            for (const auto& [n, v] : s.labels) e << YAML::Key << n << YAML::Value << v;
            e << YAML::EndMap;
          }
          e << YAML::EndMap;
        }
        e << YAML::EndSeq;
      }
      if (!sc.file_sd_configs.empty()) {
        e << YAML::Key << "file_sd_configs" << YAML::Value << YAML::BeginSeq;
        for (const auto& f : sc.file_sd_configs) {
          e << YAML::BeginMap << YAML::Key << "files" << YAML::Value << YAML::Flow << f.files
            << YAML::Key << "refresh_interval" << YAML::Value << FormatDuration(f.refresh_interval)
            << YAML::EndMap;
        }
        e << YAML::EndSeq;
      }
      EmitRelabels(&e, "relabel_configs", sc.relabel_configs);
      EmitRelabels(&e, "metric_relabel_configs", sc.metric_relabel_configs);
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  if (!remote_write.empty()) {
    e << YAML::Key << "remote_write" << YAML::Value << YAML::BeginSeq;
    for (const auto& rw : remote_write) {
      e << YAML::BeginMap << YAML::Key << "url" << YAML::Value << RedactUrl(rw.url);
      if (!rw.name.empty()) e << YAML::Key << "name" << YAML::Value << rw.name;
      e << YAML::Key << "remote_timeout" << YAML::Value << FormatDuration(rw.remote_timeout);
      if (!rw.headers.empty()) {
        e << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
        for (const auto& [n, v] : rw.headers) e << YAML::Key << n << YAML::Value << "<secret>";
        e << YAML::EndMap;
      }
      EmitRelabels(&e, "write_relabel_configs", rw.write_relabel_configs);
      EmitHttp(&e, rw.http);
      e << YAML::Key << "queue_config" << YAML::Value << YAML::BeginMap << YAML::Key << "capacity"
        << YAML::Value << rw.queue.capacity << YAML::Key << "max_samples_per_send" << YAML::Value
        << rw.queue.max_samples_per_send << YAML::Key << "batch_send_deadline" << YAML::Value
        << FormatDuration(rw.queue.batch_send_deadline) << YAML::Key << "min_backoff" << YAML::Value
        << FormatDuration(rw.queue.min_backoff) << YAML::Key << "max_backoff" << YAML::Value
        << FormatDuration(rw.queue.max_backoff) << YAML::EndMap;
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

Status ParseConfig(const std::string& text, const std::string& source, const std::string& base_dir,
                   Config* out) {
  *out = Config();
  return ConfigParser(source, base_dir).Parse(text, out);
}

Status LoadConfigFile(const std::string& path, Config* out) {
  std::string text;
  TOCSIN_RETURN_IF_ERROR(ReadFile(path, &text, 16 << 20).WithContext("reading " + path));
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  return ParseConfig(text, path, dir, out);
}

}  // namespace tocsin::tsdb::scrape
