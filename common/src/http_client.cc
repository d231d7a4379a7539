#include "citybed/common/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <cstdlib>
#include <deque>
#include <optional>
#include <vector>

namespace citybed {

namespace {

// "sources=3, answered=2, bytes=1234"
void ParseForwarded(std::string_view v, HttpOutcome& o) {
  auto number = [&](std::string_view key) -> long long {
    const size_t at = v.find(key);
    if (at == std::string_view::npos) return -1;
    return std::atoll(std::string(v.substr(at + key.size())).c_str());
  };
  o.forwarded_sources = static_cast<int>(number("sources="));
  o.forwarded_bytes = static_cast<uint64_t>(std::max(0LL, number("bytes=")));
}

}  // namespace

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string FormatRequest(std::string_view method, std::string_view target, std::string_view host,
                          std::string_view extra_headers, std::string_view content_type, std::string_view body) {
  std::string out;
  out.reserve(96 + target.size() + extra_headers.size() + body.size());
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
  out.append(extra_headers);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

class HttpClientPool::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, HttpClientOptions o) : io_(io), options_(std::move(o)), sweeper_(io) {
    for (int i = 0; i < std::max(1, options_.connections); ++i) conns_.push_back(std::make_unique<Conn>(io_));
  }

  void StartSweeper() {
    const auto period = std::clamp<Clock::duration>(options_.timeout / 20, std::chrono::milliseconds(5),
                                                    std::chrono::milliseconds(100));
    sweeper_.expires_after(period);
    sweeper_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (ec || self->shut_down_) return;
      const auto now = Clock::now();
      for (auto& c : self->conns_) {
        if (c->busy && !c->timed_out && now >= self->DeadlineOf(*c)) {
          c->timed_out = true;
          beast::error_code ignored;
          c->socket.close(ignored);
        }
      }
      // Waiting requests come in roughly deadline order: expire from the front; one further
      // back is expired when a connection would take it (Pump).
      while (!self->waiting_.empty() && self->waiting_.front().deadline <= now) {
        Pending p = std::move(self->waiting_.front());
        self->waiting_.pop_front();
        ++self->stats_.timeouts;
        self->Fail(p.done, p.queued, "timeout");
      }
      self->StartSweeper();
    });
  }

  void Warm() {
    for (auto& c : conns_) {
      if (!c->connected && !c->connecting) Connect(*c, false);
    }
  }

  void Send(std::string wire, HttpCompletion done, Clock::time_point deadline) {
    ++stats_.sent;
    if (!options_.extra_headers.empty()) {
      if (const size_t eol = wire.find("\r\n"); eol != std::string::npos) wire.insert(eol + 2, options_.extra_headers);
    }
    if (shut_down_) {
      Fail(done, Clock::now(), "cancelled");
      return;
    }
    if (waiting_.size() >= options_.max_queue) {
      Fail(done, Clock::now(), "client queue full");
      return;
    }
    if (!sweeping_) {
      sweeping_ = true;
      StartSweeper();
    }
    waiting_.push_back(Pending{std::move(wire), done, Clock::now(), deadline});
    stats_.max_waiting = std::max(stats_.max_waiting, waiting_.size());
    Pump();
  }

  void Shutdown() {
    shut_down_ = true;
    sweeper_.cancel();
    while (!waiting_.empty()) {
      Pending p = std::move(waiting_.front());
      waiting_.pop_front();
      Fail(p.done, p.queued, "cancelled");
    }
    for (auto& c : conns_) {
      beast::error_code ignored;
      c->socket.close(ignored);
    }
  }

  HttpClientStats Stats() const {
    HttpClientStats s = stats_;
    s.waiting = waiting_.size();
    s.in_flight = 0;
    for (const auto& c : conns_) s.in_flight += c->busy ? 1 : 0;
    return s;
  }

 private:
  struct Pending {
    std::string wire;
    HttpCompletion done;
    Clock::time_point queued;
    Clock::time_point deadline = Clock::time_point::max();
  };
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::string_body>> parser;
    bool connected = false, connecting = false, busy = false, timed_out = false;
    bool reused = false, retried = false, written = false;
    Pending current;
    Clock::time_point started;
  };

  Clock::time_point DeadlineOf(const Conn& c) const {
    return c.current.deadline != Clock::time_point::max() ? c.current.deadline : c.started + options_.timeout;
  }

  void Fail(const HttpCompletion& done, Clock::time_point queued, const char* why) {
    ++stats_.failed;
    HttpOutcome o;
    o.error = why;
    o.waited = Clock::now() - queued;
    if (done.fn) done.fn(done.ctx, done.tag, o);
  }

  void Pump() {
    for (auto& c : conns_) {
      // Requests whose deadline passed while they waited are not sent.
      while (!waiting_.empty() && waiting_.front().deadline <= Clock::now()) {
        Pending p = std::move(waiting_.front());
        waiting_.pop_front();
        ++stats_.timeouts;
        Fail(p.done, p.queued, "timeout");
      }
      if (waiting_.empty()) return;
      if (c->busy || c->connecting) continue;
      Conn& conn = *c;
      conn.busy = true;
      conn.timed_out = false;
      conn.retried = false;
      conn.written = false;
      conn.current = std::move(waiting_.front());
      waiting_.pop_front();
      conn.started = Clock::now();
      if (conn.connected) {
        conn.reused = true;
        Write(conn);
      } else {
        Connect(conn, true);
      }
    }
  }

  void Connect(Conn& conn, bool then_write) {
    conn.connecting = true;
    conn.reused = false;
    beast::error_code ignored;
    conn.socket.close(ignored);
    conn.buffer.consume(conn.buffer.size());
    ++stats_.connects;
    auto resolved = Resolve();
    if (!resolved) {
      conn.connecting = false;
      if (then_write) Complete(conn, asio::error::host_not_found);
      return;
    }
    asio::async_connect(conn.socket, *resolved,
                        [self = shared_from_this(), &conn, then_write](const beast::error_code& ec, const tcp::endpoint&) {
                          conn.connecting = false;
                          if (ec) {
                            conn.connected = false;
                            if (then_write) self->Complete(conn, ec);
                            else self->Pump();
                            return;
                          }
                          conn.connected = true;
                          beast::error_code e;
                          conn.socket.set_option(tcp::no_delay(true), e);
                          if (then_write) self->Write(conn);
                          else self->Pump();
                        });
  }

  std::optional<tcp::resolver::results_type> Resolve() {
    if (resolved_) return resolved_;
    tcp::resolver resolver(io_);
    beast::error_code ec;
    auto r = resolver.resolve(options_.host, options_.port, ec);
    if (ec) return std::nullopt;
    resolved_ = r;
    return resolved_;
  }

  void Write(Conn& conn) {
    asio::async_write(conn.socket, asio::buffer(conn.current.wire),
                      [self = shared_from_this(), &conn](const beast::error_code& ec, size_t) {
                        if (ec) {
                          self->Complete(conn, ec);
                          return;
                        }
                        conn.written = true;
                        self->Read(conn);
                      });
  }

  void Read(Conn& conn) {
    conn.parser.emplace();
    conn.parser->body_limit(64 << 20);
    http::async_read(conn.socket, conn.buffer, *conn.parser,
                     [self = shared_from_this(), &conn](const beast::error_code& ec, size_t) { self->Complete(conn, ec); });
  }

  void Complete(Conn& conn, beast::error_code ec) {
    // A keep-alive connection the server closed meanwhile: resend once on a fresh connection.
    if (ec && conn.reused && !conn.retried && !conn.timed_out && !shut_down_ &&
        (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof ||
         ec == asio::error::broken_pipe)) {
      conn.retried = true;
      conn.connected = false;
      Connect(conn, true);
      return;
    }
    HttpOutcome o;
    o.waited = conn.started - conn.current.queued;
    o.sent = conn.written;
    if (ec) {
      conn.connected = false;
      beast::error_code ignored;
      conn.socket.close(ignored);
      if (shut_down_) {
        o.error = "cancelled";
      } else if (conn.timed_out) {
        o.error = "timeout";
        ++stats_.timeouts;
      } else if (ec == asio::error::connection_refused) {
        o.error = "connection refused";
      } else {
        o.error = ec.message();
      }
      ++stats_.failed;
    } else {
      auto& res = conn.parser->get();
      o.status = static_cast<int>(res.result_int());
      if (auto it = res.find("NGSILD-Results-Count"); it != res.end()) o.results_count = std::string(it->value());
      else if (auto v2 = res.find("Fiware-Total-Count"); v2 != res.end()) o.results_count = std::string(v2->value());
      for (auto [it, end] = res.equal_range("NGSILD-Warning"); it != end; ++it) {
        ++o.warnings;
        if (options_.keep_warnings) o.warning_texts.emplace_back(it->value());
      }
      if (auto f = res.find("Citybed-Forwarded"); f != res.end()) ParseForwarded(f->value(), o);
      if (options_.keep_body) o.body = std::move(res.body());
      if (!res.keep_alive()) {
        conn.connected = false;
        beast::error_code ignored;
        conn.socket.close(ignored);
      }
      ++stats_.completed;
    }
    conn.busy = false;
    HttpCompletion done = conn.current.done;
    conn.current.wire.clear();
    if (done.fn) done.fn(done.ctx, done.tag, o);
    Pump();
  }

  asio::io_context& io_;
  HttpClientOptions options_;
  asio::steady_timer sweeper_;
  bool sweeping_ = false;
  bool shut_down_ = false;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::deque<Pending> waiting_;
  std::optional<tcp::resolver::results_type> resolved_;
  HttpClientStats stats_;
};

HttpClientPool::HttpClientPool(asio::io_context& io, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(io, options)), options_(std::move(options)) {}
HttpClientPool::~HttpClientPool() { impl_->Shutdown(); }
void HttpClientPool::Warm() { impl_->Warm(); }
void HttpClientPool::Send(std::string wire, HttpCompletion done, Clock::time_point deadline) {
  impl_->Send(std::move(wire), done, deadline);
}
void HttpClientPool::Shutdown() { impl_->Shutdown(); }
HttpClientStats HttpClientPool::Stats() const { return impl_->Stats(); }

}  // namespace citybed
