#include "common/http/client.h"

#include <curl/curl.h>
#include <dlfcn.h>

#include <ctime>
#include <mutex>

#include "common/base/strings.h"

namespace tocsin::http {

namespace {

// libcurl is loaded on first use rather than linked: with its TLS, LDAP and Kerberos
// dependencies it adds about 5.5 MB of resident pages to every process, which an exporter that
// never probes anything should not pay (measured in docs/PERFORMANCE.md).
struct Curl {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
  std::string error;  // why loading failed; empty when loaded
};

const Curl& LoadCurl() {
  static Curl c = [] {
    Curl c{};
    void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = dlerror();
      c.error = std::string("cannot load libcurl.so.4 (Debian package libcurl4): ") + (e ? e : "");
      return c;
    }
    auto sym = [&](auto* dst, const char* name) {
      *reinterpret_cast<void**>(dst) = dlsym(h, name);
      if (*reinterpret_cast<void**>(dst) == nullptr && c.error.empty())
        c.error = std::string("libcurl lacks ") + name;
    };
    sym(&c.global_init, "curl_global_init");
    sym(&c.easy_init, "curl_easy_init");
    sym(&c.easy_setopt, "curl_easy_setopt");
    sym(&c.easy_perform, "curl_easy_perform");
    sym(&c.easy_getinfo, "curl_easy_getinfo");
    sym(&c.easy_cleanup, "curl_easy_cleanup");
    sym(&c.easy_strerror, "curl_easy_strerror");
    sym(&c.slist_append, "curl_slist_append");
    sym(&c.slist_free_all, "curl_slist_free_all");
    if (c.error.empty()) c.global_init(CURL_GLOBAL_DEFAULT);
    return c;
  }();
  return c;
}

struct Sink {
  ClientResponse* resp;
  size_t max;
  bool overflow = false;
};

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (sink->resp->body.size() + n > sink->max) {
    sink->overflow = true;
    return 0;
  }
  sink->resp->body.append(ptr, n);
  return n;
}

size_t WriteHeader(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* resp = static_cast<ClientResponse*>(user);
  std::string_view line(ptr, size * nmemb);
  line = TrimSpace(line);
  if (StartsWith(line, "HTTP/")) {
    resp->headers.clear();  // a new response (after a redirect or 100-continue)
    return size * nmemb;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    resp->headers.emplace_back(ToLower(TrimSpace(line.substr(0, colon))),
                               std::string(TrimSpace(line.substr(colon + 1))));
  }
  return size * nmemb;
}

// Parses curl's certinfo "Expire date" ("Jan  2 15:04:05 2030 GMT").
int64_t ParseCertDate(std::string_view v) {
  std::string s(v);
  std::tm tm{};
  if (strptime(s.c_str(), "%b %d %H:%M:%S %Y", &tm) == nullptr) return -1;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Status Fetch(const ClientRequest& req, ClientResponse* resp) {
  const Curl& curl = LoadCurl();
  *resp = ClientResponse();
  if (!curl.error.empty()) return Status::Unavailable(curl.error);
  CURL* h = curl.easy_init();
  if (h == nullptr) return Status::Internal("curl_easy_init failed");
  Sink sink{resp, req.max_response_bytes};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl.easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl.easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl.easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl.easy_setopt(h, CURLOPT_HEADERDATA, resp);
  curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (req.insecure_skip_verify) {
    curl.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!req.ca_file.empty()) curl.easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
  if (!req.cert_file.empty()) curl.easy_setopt(h, CURLOPT_SSLCERT, req.cert_file.c_str());
  if (!req.key_file.empty()) curl.easy_setopt(h, CURLOPT_SSLKEY, req.key_file.c_str());
  if (!req.basic_auth_user.empty() || !req.basic_auth_password.empty()) {
    curl.easy_setopt(h, CURLOPT_USERNAME, req.basic_auth_user.c_str());
    curl.easy_setopt(h, CURLOPT_PASSWORD, req.basic_auth_password.c_str());
  }
  if (!req.unix_socket.empty())
    curl.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req.unix_socket.c_str());
  if (req.want_cert_info) curl.easy_setopt(h, CURLOPT_CERTINFO, 1L);
  if (req.method == "HEAD") {
    curl.easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    curl.easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  struct curl_slist* hdrs = nullptr;
  for (const auto& [k, v] : req.headers) hdrs = curl.slist_append(hdrs, (k + ": " + v).c_str());
  // libcurl adds "Expect: 100-continue" for larger bodies; servers here do not need it.
  hdrs = curl.slist_append(hdrs, "Expect:");
  curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

  CURLcode rc = curl.easy_perform(h);

  double namelookup = 0, connect = 0, appconnect = 0, pretransfer = 0, starttransfer = 0, total = 0;
  curl.easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME, &namelookup);
  curl.easy_getinfo(h, CURLINFO_CONNECT_TIME, &connect);
  curl.easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &appconnect);
  curl.easy_getinfo(h, CURLINFO_PRETRANSFER_TIME, &pretransfer);
  curl.easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME, &starttransfer);
  curl.easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
  long code = 0;
  curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  long version = 0;
  curl.easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  char* scheme = nullptr;
  curl.easy_getinfo(h, CURLINFO_SCHEME, &scheme);
  resp->status = static_cast<int>(code);
  resp->tls = scheme != nullptr &&
              (std::string_view(scheme) == "HTTPS" || std::string_view(scheme) == "https");
  resp->resolve_seconds = namelookup;
  resp->connect_seconds = connect > namelookup ? connect - namelookup : 0;
  double after_connect = connect;
  if (resp->tls && appconnect > 0) {
    resp->tls_seconds = appconnect - connect;
    after_connect = appconnect;
  }
  resp->processing_seconds = starttransfer > after_connect ? starttransfer - after_connect : 0;
  resp->transfer_seconds = total > starttransfer && starttransfer > 0 ? total - starttransfer : 0;
  resp->total_seconds = total;
  if (version == CURL_HTTP_VERSION_1_0) resp->http_version_minor = 0;
  if (version == CURL_HTTP_VERSION_2_0) {
    resp->http_version_major = 2;
    resp->http_version_minor = 0;
  }
  if (req.want_cert_info && rc == CURLE_OK) {
    struct curl_certinfo* ci = nullptr;
    if (curl.easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci != nullptr) {
      for (int i = 0; i < ci->num_of_certs; ++i) {
        for (curl_slist* s = ci->certinfo[i]; s; s = s->next) {
          std::string_view d = s->data;
          if (StartsWith(d, "Expire date:")) {
            int64_t t = ParseCertDate(TrimSpace(d.substr(12)));
            if (t > 0 && (resp->earliest_cert_expiry < 0 || t < resp->earliest_cert_expiry)) {
              resp->earliest_cert_expiry = t;
            }
          }
        }
      }
    }
  }
  curl.slist_free_all(hdrs);
  curl.easy_cleanup(h);
  if (sink.overflow) {
    return Status::ResourceExhausted(req.url + ": response body larger than " +
                                     std::to_string(req.max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    std::string msg = errbuf[0] ? errbuf : curl.easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return Status::Timeout(req.url + ": " + msg);
    return Status::Unavailable(req.url + ": " + msg);
  }
  return Status::Ok();
}

}  // namespace tocsin::http
