#include "common/http/server.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/http/gzip.h"

namespace tocsin::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---- Server ----

struct Server::Impl {
  explicit Impl(ServerOptions o, const Router* r)
      : opts(std::move(o)),
        router(r),
        priority_workers(opts.priority_threads > 0 ? std::make_unique<net::thread_pool>(
                                                         static_cast<size_t>(opts.priority_threads))
                                                   : nullptr),
        workers(static_cast<size_t>(std::max(1, opts.worker_threads))) {}

  ServerOptions opts;
  const Router* router;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  int port = 0;
  std::mutex mu;
  std::condition_variable idle_cv;
  // Declared last so they are destroyed (joined) first, before the io_context their jobs post
  // to. Priority handlers (ingestion, health) run on threads of their own.
  std::unique_ptr<net::thread_pool> priority_workers;  // none unless priority_threads > 0
  net::thread_pool workers;
  net::thread_pool& PoolFor(std::string_view path) {
    return priority_workers && router->LaneOf(path) == Router::Lane::kPriority ? *priority_workers
                                                                               : workers;
  }

  void Accept();
  void HandlerDone() {
    if (in_flight.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu);
      idle_cv.notify_all();
    }
  }
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Server::Impl* srv) : stream_(std::move(socket)), srv_(srv) {}

  void Run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(srv_->opts.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(srv_->opts.max_header_bytes));
    stream_.expires_after(srv_->opts.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "request body larger than " +
                                std::to_string(srv_->opts.max_body_bytes) + " bytes\n");
    }
    if (ec == bhttp::error::header_limit) {
      return SendError(431, "request headers too large\n");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return SendError(400, "bad request: " + ec.message() + "\n");
    }
    if (ec) return Close();

    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    is_head_ = msg.method() == bhttp::verb::head;

    auto req = std::make_shared<Request>();
    auto method = msg.method_string();
    req->method = std::string(method.data(), method.size());
    auto target_sv = msg.target();
    req->target = std::string(target_sv.data(), target_sv.size());
    std::string_view target = req->target;
    size_t q = target.find('?');
    bool ok = PercentDecode(target.substr(0, q), &req->path, false);
    if (q != std::string_view::npos) ok &= ParseQuery(target.substr(q + 1), &req->query);
    for (const auto& field : msg) {
      auto name = field.name_string();
      auto value = field.value();
      req->headers.emplace_back(ToLower(std::string_view(name.data(), name.size())),
                                std::string(value.data(), value.size()));
    }
    req->body = std::move(msg.body());
    beast::error_code rec;
    auto ep = stream_.socket().remote_endpoint(rec);
    if (!rec) req->remote_address = ep.address().to_string() + ":" + std::to_string(ep.port());
    if (!ok) return SendError(400, "bad request: malformed percent-encoding in the URL\n");

    int max = srv_->opts.max_concurrent_requests;
    if (srv_->in_flight.fetch_add(1) >= max && max > 0) {
      srv_->HandlerDone();
      return SendError(503, "Limit of concurrent requests reached (" + std::to_string(max) +
                                "), try again later.\n");
    }
    bool gzip = AcceptsGzip(req->Header("accept-encoding"));
    net::post(srv_->PoolFor(req->path), [self = shared_from_this(), req, gzip] {
      auto res = std::make_shared<Response>();
      try {
        *res = self->srv_->router->Dispatch(*req);
      } catch (const std::exception& e) {
        log::Error("handler threw", {{"path", req->path}, {"err", e.what()}});
        *res = Response::Text(500, "internal error\n");
      }
      if (gzip && res->compressible && res->body.size() >= self->srv_->opts.min_gzip_bytes) {
        std::string z;
        if (GzipCompress(res->body, &z).ok()) {
          res->body = std::move(z);
          res->headers.emplace_back("Content-Encoding", "gzip");
        }
      }
      self->srv_->HandlerDone();
      net::post(self->stream_.get_executor(), [self, res] { self->Write(std::move(*res)); });
    });
  }

  void SendError(int status, std::string body) {
    keep_alive_ = false;
    Write(Response::Text(status, std::move(body)));
  }

  // Takes the response by value: its body moves into the Beast message without a copy.
  void Write(Response r) {
    res_ = {};
    res_.version(version_ ? version_ : 11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(bhttp::field::server, "tocsin");
    res_.set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res_.set(k, v);
    if (r.compressible) res_.set(bhttp::field::vary, "Accept-Encoding");
    if (is_head_) {
      res_.content_length(r.body.size());
    } else {
      res_.body() = std::move(r.body);
      res_.prepare_payload();
    }
    res_.keep_alive(keep_alive_ && !srv_->stopping.load());
    stream_.expires_after(srv_->opts.write_timeout);
    bhttp::async_write(stream_, res_,
                       beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) return Close();
    if (!res_.keep_alive()) return Close();
    DoRead();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  Server::Impl* srv_;
  bool keep_alive_ = false;
  bool is_head_ = false;
  unsigned version_ = 11;
};

}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      beast::error_code nec;
      socket.set_option(tcp::no_delay(true), nec);
      std::make_shared<Session>(std::move(socket), this)->Run();
    }
    Accept();
  });
}

Server::Server(ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), &router_)) {}

Server::~Server() { Stop(std::chrono::milliseconds(1000)); }

Status Server::Start() {
  const std::string& addr = impl_->opts.listen_address;
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("listen address \"" + addr + "\" has no port (want host:port)");
  }
  std::string host = addr.substr(0, colon);
  std::string port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  uint64_t port_num;
  if (!ParseUint64(port, &port_num) || port_num > 65535) {
    return Status::InvalidArgument("listen address \"" + addr + "\" has an invalid port");
  }
  std::vector<tcp::endpoint> candidates;
  if (host.empty()) {
    candidates.emplace_back(tcp::v6(), static_cast<uint16_t>(port_num));
    candidates.emplace_back(tcp::v4(), static_cast<uint16_t>(port_num));
  } else {
    tcp::resolver resolver(impl_->ioc);
    beast::error_code ec;
    auto results = resolver.resolve(host, port, ec);
    if (ec) return Status::InvalidArgument("listen address \"" + addr + "\": " + ec.message());
    for (const auto& r : results) candidates.push_back(r.endpoint());
  }
  std::string last_error = "no address";
  for (const tcp::endpoint& ep : candidates) {
    beast::error_code ec;
    tcp::acceptor& a = impl_->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec && ep.protocol() == tcp::v6() && host.empty())
      a.set_option(net::ip::v6_only(false), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) {
      impl_->port = a.local_endpoint().port();
      last_error.clear();
      break;
    }
    last_error = ec.message();
    beast::error_code cec;
    a.close(cec);
  }
  if (!last_error.empty()) {
    return Status::Unavailable("listen on " + addr + ": " + last_error);
  }
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->opts.io_threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  log::Info("Listening on", {{"address", addr}, {"port", std::to_string(impl_->port)}});
  return Status::Ok();
}

int Server::port() const { return impl_->port; }

void Server::Stop(std::chrono::milliseconds grace) {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->idle_cv.wait_for(lock, grace, [this] { return impl_->in_flight.load() == 0; });
  }
  impl_->workers.join();
  if (impl_->priority_workers) impl_->priority_workers->join();
  // Responses the workers produced were posted to their connections; give them a moment to be
  // written before the socket threads stop.
  std::this_thread::sleep_for(std::min(grace, std::chrono::milliseconds(100)));
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace tocsin::http
