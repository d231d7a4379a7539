#include "citybed/sim/http_listener.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <unordered_set>

namespace citybed::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class HttpListener::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, ListenerAsyncHandler h) : io_(io), acceptor_(io), handler_(std::move(h)) {}

  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket s, std::shared_ptr<Impl> owner) : socket(std::move(s)), impl(std::move(owner)) {}
    tcp::socket socket;
    std::shared_ptr<Impl> impl;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> res;

    void Read() {
      parser.emplace();
      parser->body_limit(16 << 20);
      http::async_read(socket, buffer, *parser, [self = shared_from_this()](const beast::error_code& ec, size_t) {
        if (ec) {
          self->impl->sessions_.erase(self.get());
          return;
        }
        self->Answer();
      });
    }
    void Answer() {
      auto& req = parser->get();
      ++impl->requests_;
      ListenerRequest request{req.method_string(), req.target(), req.body(), {}};
      for (const auto& field : req) request.headers.emplace_back(field.name_string(), field.value());
      impl->handler_(request, [self = shared_from_this()](ListenerReply reply) { self->Reply(std::move(reply)); });
    }
    void Reply(ListenerReply reply) {
      if (!socket.is_open()) {  // closed meanwhile (Close)
        impl->sessions_.erase(this);
        return;
      }
      if (reply.drop) {
        beast::error_code ignored;
        socket.close(ignored);
        impl->sessions_.erase(this);
        return;
      }
      const bool keep_alive = parser->get().keep_alive();
      res = {};
      res.version(11);
      res.result(static_cast<unsigned>(reply.status));
      if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
      for (auto& [name, value] : reply.headers) res.insert(name, std::move(value));  // a field may repeat
      if (reply.status != 204) {
        res.body() = std::move(reply.body);
        res.prepare_payload();
      }
      res.keep_alive(keep_alive);
      http::async_write(socket, res, [self = shared_from_this()](const beast::error_code& ec, size_t) {
        if (ec || !self->res.keep_alive()) {
          beast::error_code ignored;
          self->socket.shutdown(tcp::socket::shutdown_send, ignored);
          self->impl->sessions_.erase(self.get());
          return;
        }
        self->Read();
      });
    }
  };

  void Accept() {
    acceptor_.async_accept([self = shared_from_this()](const beast::error_code& ec, tcp::socket s) {
      if (ec) return;
      auto session = std::make_shared<Session>(std::move(s), self);
      self->sessions_.insert(session.get());
      session->Read();
      self->Accept();
    });
  }

  void Close() {
    beast::error_code ec;
    acceptor_.close(ec);
    for (Session* s : sessions_) s->socket.close(ec);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ListenerAsyncHandler handler_;
  std::unordered_set<Session*> sessions_;
  uint64_t requests_ = 0;
};

HttpListener::HttpListener(asio::io_context& io, ListenerHandler handler)
    : impl_(std::make_shared<Impl>(io, [h = std::move(handler)](const ListenerRequest& r, ListenerReplySink reply) {
        reply(h(r));
      })) {}

HttpListener::HttpListener(asio::io_context& io, ListenerAsyncHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(handler))) {}

HttpListener::~HttpListener() { Close(); }

Expected<void> HttpListener::Listen(const std::string& host, uint16_t port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Unexpected(Error::InvalidArgument("invalid listen address " + host));
  tcp::endpoint ep(address, port);
  impl_->acceptor_.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor_.bind(ep, ec);
  if (!ec) impl_->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unexpected(Error::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()));
  impl_->Accept();
  return {};
}

uint16_t HttpListener::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpListener::Close() { impl_->Close(); }
uint64_t HttpListener::requests() const { return impl_->requests_; }

}  // namespace citybed::sim
