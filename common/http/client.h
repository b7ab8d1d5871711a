#pragma once
// HTTP client on libcurl, for probes, scraping, remote write and Slack.
// Thread-safety: Fetch() may be called from any thread; each call uses its own handle.

#include <chrono>
#include <cstdint>
#include <string>

#include "common/base/status.h"
#include "common/http/message.h"

namespace tocsin::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
  bool follow_redirects = true;
  bool insecure_skip_verify = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string basic_auth_user;
  std::string basic_auth_password;
  // Bodies beyond this are cut and the call fails with ResourceExhausted.
  size_t max_response_bytes = 64 << 20;
  // Connect through this unix socket instead of TCP (the Docker Engine API).
  std::string unix_socket;
  // Ask for certificate details (for probe_ssl_earliest_cert_expiry).
  bool want_cert_info = false;
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;  // names lower-cased
  std::string body;
  // Phase durations in seconds, as blackbox_exporter reports them.
  double resolve_seconds = 0;
  double connect_seconds = 0;
  double tls_seconds = 0;
  double processing_seconds = 0;
  double transfer_seconds = 0;
  double total_seconds = 0;
  bool tls = false;
  // Unix seconds when the first-expiring certificate of the chain expires; -1 when unknown.
  int64_t earliest_cert_expiry = -1;
  int http_version_major = 1;
  int http_version_minor = 1;
};

// Performs the request. A transport failure (DNS, refused, timeout, TLS) is a non-OK status;
// any HTTP status is OK with response->status set.
Status Fetch(const ClientRequest& request, ClientResponse* response);

}  // namespace tocsin::http
