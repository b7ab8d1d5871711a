#include "common/http/message.h"

#include <cctype>

#include "common/base/strings.h"

namespace tocsin::http {

// ---- Request / Response helpers ----

std::string_view Request::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

const HeaderList& Request::Form() const {
  if (!form_) {
    form_.emplace();
    if (method == "POST" &&
        Header("content-type").starts_with("application/x-www-form-urlencoded")) {
      form_valid_ = ParseQuery(body, &*form_);
    }
  }
  return *form_;
}

bool Request::FormValid() const {
  Form();
  return form_valid_;
}

std::string_view Request::Param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  for (const auto& [k, v] : Form()) {
    if (k == name) return v;
  }
  return {};
}

std::vector<std::string_view> Request::Params(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  for (const auto& [k, v] : Form()) {
    if (k == name) out.push_back(v);
  }
  return out;
}

bool Request::HasParam(std::string_view name) const { return !Params(name).empty(); }

Response Response::Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

std::string PercentEncode(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex(in[i + 1]);
      int lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool ParseQuery(std::string_view query, HeaderList* out) {
  bool ok = true;
  for (std::string_view part : Split(query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string k, v;
    ok &= PercentDecode(part.substr(0, eq), &k, true);
    if (eq != std::string_view::npos) ok &= PercentDecode(part.substr(eq + 1), &v, true);
    out->emplace_back(std::move(k), std::move(v));
  }
  return ok;
}

// ---- Router ----

void Router::Handle(std::string path, Handler h, Lane lane) {
  exact_.push_back({std::move(path), std::move(h), lane});
}

void Router::HandlePrefix(std::string prefix, Handler h) {
  prefix_.push_back({std::move(prefix), std::move(h), Lane::kDefault});
}

void Router::HandleHealth() {
  Handle(
      "/-/healthy", [](const Request&) { return Response::Text(200, "Healthy.\n"); },
      Lane::kPriority);
  Handle(
      "/-/ready", [](const Request&) { return Response::Text(200, "Ready.\n"); }, Lane::kPriority);
}

Router::Lane Router::LaneOf(std::string_view path) const {
  for (const Route& r : exact_)
    if (r.path == path) return r.lane;
  return Lane::kDefault;
}

Response Router::Dispatch(const Request& req) const {
  for (const Route& r : exact_) {
    if (r.path == req.path) return r.handler(req);
  }
  const Handler* best = nullptr;
  size_t best_len = 0;
  for (const Route& r : prefix_) {
    if (StartsWith(req.path, r.path) && r.path.size() >= best_len) {
      best = &r.handler;
      best_len = r.path.size();
    }
  }
  if (best) return (*best)(req);
  return Response::Text(404, "404 page not found\n");
}

}  // namespace tocsin::http
