#include "tsdb/web/web_ui.h"

#include <string>
#include <string_view>

#include "common/base/strings.h"

namespace tocsin::tsdb::web {

struct EmbeddedFile {
  std::string_view path;
  const unsigned char* data;
  size_t size;
};
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

namespace {

const EmbeddedFile* Find(std::string_view path) {
  for (size_t i = 0; i < kEmbeddedFileCount; ++i)
    if (kEmbeddedFiles[i].path == path) return &kEmbeddedFiles[i];
  return nullptr;
}

std::string_view ContentType(std::string_view path) {
  if (EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

http::Response Serve(std::string_view path) {
  const EmbeddedFile* f = Find(path);
  if (f == nullptr) return http::Response::Text(404, "404 page not found\n");
  http::Response r;
  r.status = 200;
  r.content_type = std::string(ContentType(path));
  r.body.assign(reinterpret_cast<const char*>(f->data), f->size);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace

void RegisterWebUi(http::Router* router) {
  for (const char* page : {"/", "/graph", "/targets", "/alerts", "/tsdb-status"})
    router->Handle(page, [](const http::Request&) { return Serve("/static/index.html"); });
  router->HandlePrefix("/static/", [](const http::Request& r) { return Serve(r.path); });
}

}  // namespace tocsin::tsdb::web
