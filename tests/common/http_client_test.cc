#include <boost/asio.hpp>
#include <catch2/catch.hpp>
#include <vector>

#include "citybed/common/http_client.h"
#include "receiver.h"

using namespace citybed;
using citybed::testing::Receiver;
using namespace std::chrono_literals;

namespace {

struct Collector {
  std::vector<std::pair<uint64_t, HttpOutcome>> done;
  size_t want = 0;
  boost::asio::io_context* io = nullptr;
  static void OnDone(void* ctx, uint64_t tag, HttpOutcome& o) {
    auto* self = static_cast<Collector*>(ctx);
    self->done.emplace_back(tag, std::move(o));
    if (self->done.size() >= self->want) self->io->stop();
  }
  HttpCompletion Completion(uint64_t tag) { return {&Collector::OnDone, this, tag}; }
};

}  // namespace

TEST_CASE("HttpClientPool sends requests over a few keep-alive connections", "[sim][http]") {
  Receiver server;
  boost::asio::io_context io;
  HttpClientPool pool(io, {.host = "127.0.0.1", .port = std::to_string(server.port()), .connections = 4});
  Collector c;
  c.io = &io;
  c.want = 200;
  for (uint64_t i = 0; i < 200; ++i) {
    pool.Send(FormatRequest("POST", "/n/" + std::to_string(i), "x", "", "application/json", R"({"i":1})"), c.Completion(i));
  }
  io.run_for(20s);
  REQUIRE(c.done.size() == 200);
  int waited = 0;
  for (const auto& [tag, o] : c.done) {
    CHECK(o.ok());
    CHECK(o.status == 204);
    if (o.waited > 0ns) ++waited;
  }
  CHECK(waited > 0);  // 200 requests on 4 connections: most waited for one
  CHECK(server.received().size() == 200);
  CHECK(server.received()[0].body == R"({"i":1})");
  const HttpClientStats s = pool.Stats();
  CHECK(s.completed == 200);
  CHECK(s.connects <= 4);
  CHECK(s.max_waiting >= 190);
}

TEST_CASE("HttpClientPool reports refused connections and timeouts as errors", "[sim][http]") {
  boost::asio::io_context io;
  // A port with no server: every request fails quickly.
  {
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = probe.local_endpoint().port();
    probe.close();
    HttpClientPool pool(io, {.host = "127.0.0.1", .port = std::to_string(port), .connections = 2});
    Collector c;
    c.io = &io;
    c.want = 5;
    for (uint64_t i = 0; i < 5; ++i) pool.Send(FormatRequest("GET", "/", "x", "", "", ""), c.Completion(i));
    io.run_for(10s);
    REQUIRE(c.done.size() == 5);
    for (const auto& [tag, o] : c.done) {
      CHECK_FALSE(o.ok());
      CHECK(o.error == "connection refused");
    }
  }
  io.restart();
  // A server that accepts but never answers: the request times out.
  {
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    boost::asio::ip::tcp::socket held(io);
    silent.async_accept(held, [](const boost::system::error_code&) {});
    HttpClientPool pool(io, {.host = "127.0.0.1", .port = std::to_string(silent.local_endpoint().port()),
                             .connections = 1, .timeout = 200ms});
    Collector c;
    c.io = &io;
    c.want = 1;
    const auto t0 = std::chrono::steady_clock::now();
    pool.Send(FormatRequest("GET", "/", "x", "", "", ""), c.Completion(7));
    io.run_for(10s);
    REQUIRE(c.done.size() == 1);
    CHECK(c.done[0].first == 7);
    CHECK(c.done[0].second.error == "timeout");
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(pool.Stats().timeouts == 1);
  }
}

TEST_CASE("HttpClientPool times requests out at their own deadline, unsent if still waiting", "[sim][http][timing]") {
  boost::asio::io_context io;
  // A server that accepts but never answers, and one connection: the second request waits.
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  boost::asio::ip::tcp::socket held(io);
  silent.async_accept(held, [](const boost::system::error_code&) {});
  HttpClientPool pool(io, {.host = "127.0.0.1", .port = std::to_string(silent.local_endpoint().port()),
                           .connections = 1, .timeout = 10s});
  Collector c;
  c.io = &io;
  c.want = 2;
  const auto now = HttpClientPool::Clock::now();
  pool.Send(FormatRequest("GET", "/a", "x", "", "", ""), c.Completion(1), now + 400ms);
  pool.Send(FormatRequest("GET", "/b", "x", "", "", ""), c.Completion(2), now + 100ms);
  io.run_for(10s);
  REQUIRE(c.done.size() == 2);
  // The waiting one expires first and is never written; the one in flight is closed later.
  CHECK(c.done[0].first == 2);
  CHECK(c.done[0].second.error == "timeout");
  CHECK_FALSE(c.done[0].second.sent);
  CHECK(c.done[1].first == 1);
  CHECK(c.done[1].second.error == "timeout");
  CHECK(c.done[1].second.sent);
  CHECK(pool.Stats().timeouts == 2);
}

TEST_CASE("FormatRequest writes a valid HTTP/1.1 request", "[sim][http]") {
  CHECK(FormatRequest("GET", "/a?b=1", "h:1", "X-A: 1\r\n", "", "") == "GET /a?b=1 HTTP/1.1\r\nHost: h:1\r\nX-A: 1\r\n\r\n");
  CHECK(FormatRequest("POST", "/p", "h", "", "application/json", "{}") ==
        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
}
