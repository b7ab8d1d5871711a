#pragma once
// The one HTTP/1.1 server of all Tocsin daemons (Boost.Beast underneath; no Beast type appears
// here). Handlers are plain functions from Request to Response, run on a worker pool so that
// slow handlers never stall the socket threads.
//
// What the server guarantees: keep-alive; a request-body limit (413); a header limit; read and
// write timeouts, so a client that stops sending or reading is cut off without affecting others;
// a cap on concurrently running handlers (503 above it, as promhttp's MaxRequestsInFlight); gzip
// when the client sends Accept-Encoding: gzip; Stop() that lets running handlers finish.
//
// Thread-safety: register handlers before Start(); Start() and Stop() from one thread. Handlers
// are called concurrently from worker threads and must be thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/http/message.h"

namespace tocsin::http {

struct ServerOptions {
  // "host:port"; an empty host (":9100") listens on every address. Port 0 picks a free port.
  std::string listen_address = ":9100";
  size_t max_body_bytes = 10 << 20;
  size_t max_header_bytes = 64 << 10;
  // Time allowed to receive a whole request (also the keep-alive idle limit).
  std::chrono::milliseconds read_timeout{60000};
  // Time allowed to send a whole response.
  std::chrono::milliseconds write_timeout{60000};
  // Handlers running at once; a request above it gets 503. 0 means no limit.
  int max_concurrent_requests = 40;
  int io_threads = 1;
  int worker_threads = 2;
  // Threads for Router::Lane::kPriority handlers (0: they share the workers above).
  int priority_threads = 0;
  size_t min_gzip_bytes = 1024;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Router& router() { return router_; }

  // Binds and starts serving, and logs "Listening on" with the bound port. Errors name the
  // address.
  Status Start();
  // The bound port (useful with port 0). REQUIRES: Start() succeeded.
  int port() const;
  // Stops accepting, waits up to `grace` for running handlers, closes connections, joins threads.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  struct Impl;  // opaque; public only so the connection code in server.cc can name it

 private:
  Router router_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tocsin::http
