#pragma once
// HTTP requests and responses as plain values, the handler type and the router. No Beast type
// appears here: handlers, probes and clients depend on this header only, and only server.cc
// speaks Beast. Thread-safety: Request and Response are values; a Router is read-only once the
// server has started and may then be used from any thread.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tocsin::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // percent-decoded path, without the query
  HeaderList query;    // decoded URL query parameters
  HeaderList headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // The first header (name in lower case) or parameter with that name, or "". Parameters are
  // the URL query's, then the fields of a form-encoded POST body — decoded on first use, so a
  // large body that only looks like a form (curl --data-binary) costs nothing.
  std::string_view Header(std::string_view lower_name) const;
  std::string_view Param(std::string_view name) const;
  std::vector<std::string_view> Params(std::string_view name) const;
  bool HasParam(std::string_view name) const;
  // False when a form-encoded body has a malformed percent escape.
  bool FormValid() const;

 private:
  const HeaderList& Form() const;
  mutable std::optional<HeaderList> form_;
  mutable bool form_valid_ = true;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  HeaderList headers;
  std::string body;
  // Bodies of at least ServerOptions::min_gzip_bytes are gzipped when the client accepts it.
  bool compressible = true;

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

// Appends the decoded pairs of an application/x-www-form-urlencoded string (a URL query).
// Returns false on a malformed percent escape.
bool ParseQuery(std::string_view query, HeaderList* out);
// Decodes %XX escapes (and '+' as space when plus_is_space). Returns false when malformed.
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space);
// %XX-escapes every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - _ . ~): safe in a
// URL query and in a form-encoded body.
std::string PercentEncode(std::string_view in);

// Maps paths to handlers: exact paths first, then the longest registered prefix, else 404.
class Router {
 public:
  // Where a handler runs: kPriority handlers (ingestion, health, self-metrics) have worker
  // threads of their own, so that slow queries occupying the others never hold them up.
  enum class Lane { kDefault, kPriority };

  void Handle(std::string path, Handler h, Lane lane = Lane::kDefault);
  void HandlePrefix(std::string prefix, Handler h);
  Response Dispatch(const Request& req) const;
  // The lane of the handler that would serve this path (kDefault for prefixes and 404s).
  Lane LaneOf(std::string_view path) const;
  // /-/healthy and /-/ready answering 200, as every Prometheus component does (kPriority).
  void HandleHealth();

 private:
  struct Route {
    std::string path;
    Handler handler;
    Lane lane = Lane::kDefault;
  };
  std::vector<Route> exact_;
  std::vector<Route> prefix_;
};

}  // namespace tocsin::http
