// Forwarder: the transport of distributed operations (CIM 009, 4.3.6). It sends the requests a
// broker forwards to registered context sources, asynchronously and off the serving threads:
// one thread with its own io_context, keep-alive connections per source endpoint (the one
// HTTP client, HttpClientPool; https endpoints go through Fetch on a helper thread), a deadline
// per request, and a cool-down per endpoint after a failure, during which requests to it fail
// at once without being sent (management.cooldown, 5.2.34). Every request of a batch completes
// exactly once — answered, failed, timed out or cooled — and then the batch's callback runs,
// on the forwarder's thread, so the callback never waits for more than the longest deadline.
// Thread-safe: Send may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "citybed/broker/http_message.h"

namespace citybed::broker {

struct ForwardRequest {
  std::string method = "GET";
  std::string url;              // absolute http:// or https:// URL: the source's endpoint, path and query
  std::vector<Header> headers;  // besides Host
  std::string body;
  std::chrono::milliseconds timeout{3000};
  std::chrono::milliseconds cooldown{0};  // after a failure, refuse this endpoint for this long
  // What cools down: the source's endpoint as registered (several sources may share a host and
  // port — a relay, a gateway — and differ by path). Empty: the URL's scheme, host and port.
  std::string endpoint;
};

struct ForwardOutcome {
  int status = 0;             // 0 when there is no HTTP answer (see error)
  std::string error;          // "" when an HTTP answer came: "timeout", "connection refused", ...
  bool cooled = false;        // not sent: the endpoint is cooling down after a failure
  std::string body;
  std::string results_count;  // NGSILD-Results-Count of the answer, if any
  std::vector<std::string> warnings;  // its NGSILD-Warning values (the source's own failed sources)
  double seconds = 0;         // from Send to the answer
  bool answered() const { return error.empty() && status != 0; }
};

struct ForwarderOptions {
  int connections_per_endpoint = 8;
  size_t max_endpoints = 4096;  // distinct endpoints with open connection pools
};

struct ForwarderCounters {
  uint64_t sent = 0, answered = 0, failed = 0, timeouts = 0, cooled = 0;
  uint64_t bytes_received = 0;
  size_t in_flight = 0;
};

class Forwarder {
 public:
  explicit Forwarder(ForwarderOptions options = {});
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  void Start();
  // Fails what is in flight with "cancelled" (their callbacks run) and joins the thread.
  void Stop();
  using Done = std::function<void(std::vector<ForwardOutcome>)>;
  // Sends every request at once; `done` receives the outcomes in the order of `requests`.
  // After Stop (or before Start), every request fails with "the broker is stopping".
  void Send(std::vector<ForwardRequest> requests, Done done);
  ForwarderCounters Counters() const;
  // CPU time the forwarder's thread has used (seconds), while it runs.
  double CpuSeconds() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace citybed::broker
