// HttpServer: the broker's HTTP/1.1 front end on Boost.Beast.
//
// Listener -> Session -> handler(Request) -> Response. One io_context per thread; accepted
// connections are spread over them round-robin and stay on one thread for life, so a session
// never needs a lock. Abuse limits: body size (413 + close), header size (431 + close), a
// deadline for receiving a whole request once its first byte arrived (header_timeout) and one
// for an idle keep-alive connection (idle_timeout), a cap on open connections, and bounded
// pipelining: requests on one connection are handled one at a time and no more is read until
// the previous reply is written. A sweeper on each thread enforces the deadlines, so requests
// pay no timer operations. Stop() stops accepting, lets requests in flight finish within a
// grace period, closes idle connections, then joins the threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "citybed/broker/http_message.h"
#include "citybed/broker/metrics.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1026;  // 0: any free port (see HttpServer::port())
  int threads = 1;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  size_t max_connections = 10000;
  // Load shedding: a request read while this thread's event loop runs more than `shed_lag`
  // behind (a probe timer every shed_lag / 4, at most 10 ms, measures how late it fires) is
  // answered 503 with Retry-After at once, without running its handler; GET /health, /version
  // and /metrics are always served. 0: never shed (the embedded broker of a run, whose capacity
  // is what is measured).
  std::chrono::milliseconds shed_lag{0};
  // Per-class service metrics (service_metrics.h): two reads of the thread's CPU clock and two of
  // the wall clock per request; off only to measure what they cost.
  bool service_metrics = true;
  // The answer to an HTTP-level error (413, 431, 400 malformed) before any route ran, given the
  // request target when it was read; empty: an NGSI-LD ProblemDetails body.
  std::function<Response(int status, std::string_view target, const std::string& detail)> error_response;
};

// Turns a request into a response; `route` receives the matched route's index for metrics.
using RequestHandler = std::function<Response(Request& req, int* route)>;

class HttpServer {
 public:
  HttpServer(ServerOptions options, RequestHandler handler, Metrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads. Errors: the address cannot be bound.
  Expected<void> Start();
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  uint16_t port() const;
  size_t open_connections() const;
  // CPU time the serving threads have used (seconds), while they run.
  double CpuSeconds() const;

  class Impl;  // defined in src/server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace citybed::broker
