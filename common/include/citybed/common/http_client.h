// HttpClientPool: an asynchronous HTTP/1.1 client for load generation, on Boost.Beast.
//
// A fixed set of keep-alive connections to one host:port, one request in flight per
// connection, and a FIFO of requests waiting for a free connection. Requests are pre-formatted
// wire text (the caller writes "METHOD target HTTP/1.1\r\n..."), so sending costs one write.
// Every request completes exactly once, on the io_context's thread, with a response or an
// error: connection refused, reset, or a timeout enforced by a sweeper (no timer per request).
// A request's `waited` is its time in the queue before a connection took it, so open-loop
// latency can include it.
//
// Timeouts: a request may carry its own deadline (for open-loop load, the intended send time
// plus the timeout); one still waiting for a connection at its deadline fails with "timeout"
// without being sent, one in flight has its connection closed. Without a deadline, the
// request gets `timeout` from when a connection takes it. The sweeper looks every
// timeout/20 (5 to 100 ms), so a timeout is reported up to that much late.
// Not thread-safe: use from the io_context's thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace citybed {

struct HttpClientOptions {
  std::string host = "127.0.0.1";
  std::string port = "1026";
  int connections = 16;
  std::chrono::milliseconds timeout{10000};  // from the start of sending to the full response
  size_t max_queue = 1 << 20;                // requests waiting beyond this fail at once
  bool keep_body = true;                     // false: response bodies are read and discarded
  bool keep_warnings = false;                // true: NGSILD-Warning values in HttpOutcome::warning_texts
  // Header lines (each ending in CRLF) put into every request after its request line, e.g. an
  // access key: "Authorization: Bearer ...\r\n".
  std::string extra_headers{};
};

struct HttpOutcome {
  int status = 0;              // 0 when there is no HTTP response (see error)
  std::string error;           // empty on success: "connection refused", "timeout", ...
  std::string body;
  std::string results_count;   // NGSILD-Results-Count (or NGSI-v2 Fiware-Total-Count), if present
  int warnings = 0;            // NGSILD-Warning header fields (a distributed operation's failed sources)
  std::vector<std::string> warning_texts;  // their values, kept only with keep_warnings
  int forwarded_sources = -1;  // Citybed-Forwarded: sources a distributed answer asked (-1: not one)
  uint64_t forwarded_bytes = 0;  // ... and the bytes they answered
  std::chrono::nanoseconds waited{0};  // in the queue before a connection took the request
  bool sent = false;           // the request was written completely to a connection
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
};

// Completion: a plain function pointer and context plus a caller's tag, so a request costs no
// allocation for its callback.
struct HttpCompletion {
  void (*fn)(void* ctx, uint64_t tag, HttpOutcome& outcome) = nullptr;
  void* ctx = nullptr;
  uint64_t tag = 0;
};

struct HttpClientStats {
  uint64_t sent = 0, completed = 0, failed = 0, timeouts = 0, connects = 0;
  size_t in_flight = 0, waiting = 0, max_waiting = 0;
};

class HttpClientPool {
 public:
  HttpClientPool(boost::asio::io_context& io, HttpClientOptions options);
  ~HttpClientPool();
  HttpClientPool(const HttpClientPool&) = delete;
  HttpClientPool& operator=(const HttpClientPool&) = delete;

  // Opens the connections now (instead of on first use). Completion is asynchronous.
  void Warm();
  using Clock = std::chrono::steady_clock;
  void Send(std::string wire, HttpCompletion done, Clock::time_point deadline = Clock::time_point::max());
  // Fails every waiting and in-flight request with "cancelled" and closes the connections.
  void Shutdown();
  HttpClientStats Stats() const;
  const HttpClientOptions& options() const { return options_; }

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
  HttpClientOptions options_;
};

// Formats a request: request line, Host, optional extra header lines ("Name: value\r\n..."),
// Content-Type and Content-Length when there is a body.
std::string FormatRequest(std::string_view method, std::string_view target, std::string_view host,
                          std::string_view extra_headers, std::string_view content_type, std::string_view body);

}  // namespace citybed
