#include "common/http/client.h"

#include <curl/curl.h>

#include <ctime>
#include <mutex>

#include "common/base/strings.h"

namespace tocsin::http {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
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
  GlobalInit();
  *resp = ClientResponse();
  CURL* h = curl_easy_init();
  if (h == nullptr) return Status::Internal("curl_easy_init failed");
  Sink sink{resp, req.max_response_bytes};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (req.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!req.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
  if (!req.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, req.cert_file.c_str());
  if (!req.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, req.key_file.c_str());
  if (!req.basic_auth_user.empty() || !req.basic_auth_password.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, req.basic_auth_user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, req.basic_auth_password.c_str());
  }
  if (!req.unix_socket.empty())
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req.unix_socket.c_str());
  if (req.want_cert_info) curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
  if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  struct curl_slist* hdrs = nullptr;
  for (const auto& [k, v] : req.headers) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
  // libcurl adds "Expect: 100-continue" for larger bodies; servers here do not need it.
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

  CURLcode rc = curl_easy_perform(h);

  double namelookup = 0, connect = 0, appconnect = 0, pretransfer = 0, starttransfer = 0, total = 0;
  curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME, &namelookup);
  curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &connect);
  curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &appconnect);
  curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME, &pretransfer);
  curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME, &starttransfer);
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  long version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
  char* scheme = nullptr;
  curl_easy_getinfo(h, CURLINFO_SCHEME, &scheme);
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
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci != nullptr) {
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
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  if (sink.overflow) {
    return Status::ResourceExhausted(req.url + ": response body larger than " +
                                     std::to_string(req.max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    std::string msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) return Status::Timeout(req.url + ": " + msg);
    return Status::Unavailable(req.url + ": " + msg);
  }
  return Status::Ok();
}

}  // namespace tocsin::http
