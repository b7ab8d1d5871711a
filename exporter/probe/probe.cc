#include "exporter/probe/probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "common/base/file.h"
#include "common/base/flags.h"
#include "common/base/strings.h"
#include "common/expfmt/writer.h"
#include "common/http/client.h"

namespace tocsin::exporter {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Connects to host:port within the deadline. Returns the resolve time in *resolve_s.
Status TcpConnect(const std::string& target, std::chrono::milliseconds timeout, double* resolve_s) {
  size_t colon = target.rfind(':');
  if (colon == std::string::npos)
    return Status::InvalidArgument("target \"" + target + "\" has no port");
  std::string host = target.substr(0, colon), port = target.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto start = Clock::now();
  struct addrinfo hints = {}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  *resolve_s = Seconds(Clock::now() - start);
  if (rc != 0) return Status::Unavailable("resolve " + host + ": " + gai_strerror(rc));
  Status result = Status::Unavailable("no address for " + host);
  for (auto* ai = res; ai; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int c = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (c != 0 && errno == EINPROGRESS) {
      auto left =
          timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      struct pollfd p = {fd, POLLOUT, 0};
      int pr = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (pr == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        c = err == 0 ? 0 : -1;
        if (err != 0) result = Status::FromErrno("connect " + target, err);
      } else {
        result = Status::Timeout("connect " + target + ": timed out");
        c = -1;
      }
    } else if (c != 0) {
      result = Status::FromErrno("connect " + target, errno);
    }
    ::close(fd);
    if (c == 0) {
      result = Status::Ok();
      break;
    }
  }
  freeaddrinfo(res);
  return result;
}

}  // namespace

std::map<std::string, ProbeModule> DefaultProbeModules() {
  std::map<std::string, ProbeModule> m;
  m["http_2xx"] = ProbeModule();
  ProbeModule tcp;
  tcp.kind = ProbeModule::Kind::kTcp;
  m["tcp_connect"] = tcp;
  return m;
}

Status ParseProbeModules(const std::string& yaml, const std::string& source,
                         std::map<std::string, ProbeModule>* modules) {
  auto where = [&](const YAML::Node& n) {
    return source + ":" + std::to_string(n.Mark().line + 1) + ": ";
  };
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap())
      return Status::InvalidArgument(source + ": expected a map with \"modules:\"");
    for (const auto& top : root) {
      std::string k = top.first.as<std::string>();
      if (k != "modules")
        return Status::InvalidArgument(where(top.first) + "unknown key \"" + k + "\"");
    }
    YAML::Node mods = root["modules"];
    if (!mods || !mods.IsMap())
      return Status::InvalidArgument(source + ": \"modules\" must be a map");
    for (const auto& m : mods) {
      std::string name = m.first.as<std::string>();
      ProbeModule pm;
      if (!m.second.IsMap())
        return Status::InvalidArgument(where(m.second) + "module \"" + name + "\" must be a map");
      for (const auto& kv : m.second) {
        std::string key = kv.first.as<std::string>();
        if (key == "prober") {
          std::string p = kv.second.as<std::string>();
          if (p == "http")
            pm.kind = ProbeModule::Kind::kHttp;
          else if (p == "tcp")
            pm.kind = ProbeModule::Kind::kTcp;
          else
            return Status::InvalidArgument(where(kv.second) + "unsupported prober \"" + p +
                                           "\" (http and tcp are supported)");
        } else if (key == "timeout") {
          if (!ParseDuration(kv.second.as<std::string>(), &pm.timeout)) {
            return Status::InvalidArgument(where(kv.second) + "invalid timeout \"" +
                                           kv.second.as<std::string>() + "\"");
          }
        } else if (key == "http") {
          for (const auto& h : kv.second) {
            std::string hk = h.first.as<std::string>();
            if (hk == "valid_status_codes") {
              for (const auto& c : h.second) pm.valid_status_codes.push_back(c.as<int>());
            } else if (hk == "method") {
              pm.method = h.second.as<std::string>();
            } else if (hk == "headers") {
              for (const auto& hh : h.second)
                pm.headers.emplace_back(hh.first.as<std::string>(), hh.second.as<std::string>());
            } else if (hk == "fail_if_body_matches_regexp" ||
                       hk == "fail_if_body_not_matches_regexp") {
              auto& dst = hk == "fail_if_body_matches_regexp" ? pm.fail_if_body_matches_regexp
                                                              : pm.fail_if_body_not_matches_regexp;
              for (const auto& r : h.second) {
                std::string re = r.as<std::string>();
                RE2 check(re, RE2::Quiet);
                if (!check.ok())
                  return Status::InvalidArgument(where(r) + "invalid regexp \"" + re +
                                                 "\": " + check.error());
                dst.push_back(re);
              }
            } else if (hk == "no_follow_redirects") {
              pm.no_follow_redirects = h.second.as<bool>();
            } else if (hk == "tls_config") {
              for (const auto& t : h.second) {
                std::string tk = t.first.as<std::string>();
                if (tk != "insecure_skip_verify")
                  return Status::InvalidArgument(where(t.first) +
                                                 "unsupported key \"http.tls_config." + tk + "\"");
                pm.insecure_skip_verify = t.second.as<bool>();
              }
            } else if (hk == "preferred_ip_protocol" || hk == "ip_protocol_fallback") {
              // Accepted for compatibility; the resolver's order is used.
            } else {
              return Status::InvalidArgument(where(h.first) + "unsupported key \"http." + hk +
                                             "\" in module \"" + name + "\"");
            }
          }
        } else if (key == "tcp") {
          for (const auto& t : kv.second) {
            std::string tk = t.first.as<std::string>();
            if (tk != "preferred_ip_protocol" && tk != "ip_protocol_fallback") {
              return Status::InvalidArgument(where(t.first) + "unsupported key \"tcp." + tk +
                                             "\" in module \"" + name + "\"");
            }
          }
        } else {
          return Status::InvalidArgument(where(kv.first) + "unsupported key \"" + key +
                                         "\" in module \"" + name + "\"");
        }
      }
      (*modules)[name] = std::move(pm);
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return Status::Ok();
}

Status LoadProbeModules(const std::string& path, std::map<std::string, ProbeModule>* modules) {
  std::string text;
  TOCSIN_RETURN_IF_ERROR(ReadFile(path, &text));
  return ParseProbeModules(text, path, modules);
}

http::Response Prober::Handle(const http::Request& req) const {
  std::string target(req.Param("target"));
  if (target.empty()) return http::Response::Text(400, "Target parameter is missing\n");
  std::string module_name(req.Param("module"));
  if (module_name.empty()) module_name = "http_2xx";
  auto it = modules_.find(module_name);
  if (it == modules_.end())
    return http::Response::Text(400, "Unknown module \"" + module_name + "\"\n");
  const ProbeModule& m = it->second;
  // Prometheus tells how long it will wait; answer half a second before that.
  std::chrono::milliseconds timeout = m.timeout;
  double scrape_timeout;
  if (ParseDouble(req.Header("x-prometheus-scrape-timeout-seconds"), &scrape_timeout) &&
      scrape_timeout > 0) {
    auto t = std::chrono::milliseconds(static_cast<int64_t>((scrape_timeout - 0.5) * 1000));
    if (t.count() < 100) t = std::chrono::milliseconds(100);
    timeout = std::min(timeout, t);
  }
  std::string body;
  expfmt::Writer w(&body);
  auto start = Clock::now();
  bool success = false;
  if (m.kind == ProbeModule::Kind::kTcp) {
    double resolve = 0;
    success = TcpConnect(target, timeout, &resolve).ok();
    w.Single("probe_dns_lookup_time_seconds",
             "Returns the time taken for probe dns lookup in seconds", expfmt::MetricType::kGauge,
             resolve);
  } else {
    http::ClientRequest creq;
    creq.url = target.find("://") == std::string::npos ? "http://" + target : target;
    creq.method = m.method;
    creq.headers = m.headers;
    creq.timeout = timeout;
    creq.follow_redirects = !m.no_follow_redirects;
    creq.insecure_skip_verify = m.insecure_skip_verify;
    creq.want_cert_info = StartsWith(creq.url, "https://");
    creq.max_response_bytes = 16 << 20;
    http::ClientResponse resp;
    Status st = http::Fetch(creq, &resp);
    bool regex_failed = false;
    if (st.ok()) {
      success = m.valid_status_codes.empty()
                    ? (resp.status >= 200 && resp.status < 300)
                    : std::find(m.valid_status_codes.begin(), m.valid_status_codes.end(),
                                resp.status) != m.valid_status_codes.end();
      for (const auto& re : m.fail_if_body_matches_regexp) {
        if (RE2::PartialMatch(resp.body, RE2(re))) regex_failed = true;
      }
      for (const auto& re : m.fail_if_body_not_matches_regexp) {
        if (!RE2::PartialMatch(resp.body, RE2(re))) regex_failed = true;
      }
      if (regex_failed) success = false;
    }
    using MT = expfmt::MetricType;
    w.Single("probe_dns_lookup_time_seconds",
             "Returns the time taken for probe dns lookup in seconds", MT::kGauge,
             resp.resolve_seconds);
    w.Single("probe_failed_due_to_regex", "Indicates if probe failed due to regex", MT::kGauge,
             regex_failed ? 1 : 0);
    double content_length = -1;
    for (const auto& [k, v] : resp.headers) {
      if (k == "content-length") ParseDouble(v, &content_length);
    }
    w.Single("probe_http_content_length", "Length of http content response", MT::kGauge,
             st.ok() ? content_length : 0);
    w.Family("probe_http_duration_seconds",
             "Duration of http request by phase, summed over all redirects", MT::kGauge);
    w.Sample("probe_http_duration_seconds", {{"phase", "connect"}}, resp.connect_seconds);
    w.Sample("probe_http_duration_seconds", {{"phase", "processing"}}, resp.processing_seconds);
    w.Sample("probe_http_duration_seconds", {{"phase", "resolve"}}, resp.resolve_seconds);
    w.Sample("probe_http_duration_seconds", {{"phase", "tls"}}, resp.tls_seconds);
    w.Sample("probe_http_duration_seconds", {{"phase", "transfer"}}, resp.transfer_seconds);
    w.Single("probe_http_ssl", "Indicates if SSL was used for the final redirect", MT::kGauge,
             resp.tls ? 1 : 0);
    w.Single("probe_http_status_code", "Response HTTP status code", MT::kGauge,
             st.ok() ? resp.status : 0);
    w.Single("probe_http_uncompressed_body_length", "Length of uncompressed response body",
             MT::kGauge, static_cast<double>(resp.body.size()));
    w.Single("probe_http_version", "Returns the version of HTTP of the probe response", MT::kGauge,
             st.ok() ? resp.http_version_major + resp.http_version_minor / 10.0 : 0);
    if (resp.tls && resp.earliest_cert_expiry > 0) {
      w.Single("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime",
               MT::kGauge, static_cast<double>(resp.earliest_cert_expiry));
    }
  }
  w.Single("probe_duration_seconds", "Returns how long the probe took to complete in seconds",
           expfmt::MetricType::kGauge, Seconds(Clock::now() - start));
  w.Single("probe_success", "Displays whether or not the probe was a success",
           expfmt::MetricType::kGauge, success ? 1 : 0);
  http::Response r = http::Response::Text(200, std::move(body));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace tocsin::exporter
