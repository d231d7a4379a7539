// Notifier: delivers notifications to subscribers' HTTP endpoints asynchronously, never on a
// request's path. Jobs go through a queue bounded in jobs and bytes, and in bytes per tenant (a
// full queue or share drops the job and counts it);
// a worker thread with its own io_context keeps a few keep-alive connections per endpoint
// (closed when idle too long or too many: NotifierOptions),
// retries failed deliveries with exponential back-off, and reports every outcome to the
// subscription's status. Stop() flushes what is queued within a deadline and counts the rest as
// dropped. Thread-safe: Enqueue may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "citybed/broker/http_message.h"
#include "citybed/broker/service_metrics.h"

namespace citybed::broker {

// Delivery outcome counters shared with a subscription (it renders them).
struct DeliveryStatus {
  std::atomic<uint64_t> times_sent{0};    // delivered (2xx)
  std::atomic<uint64_t> times_failed{0};  // given up after the last attempt
  std::atomic<int64_t> last_notification{INT64_MIN};  // µs since epoch of the last attempt
  std::atomic<int64_t> last_success{INT64_MIN};
  std::atomic<int64_t> last_failure{INT64_MIN};
  std::atomic<bool> failing{false};        // the last delivery failed
};

struct NotificationJob {
  std::shared_ptr<DeliveryStatus> status;
  std::string uri;  // http://host:port/path
  std::vector<Header> headers;
  std::string body;
  std::string tenant;  // whose share of the queue it uses (NotifierOptions::tenant_queue_bytes)
  int attempt = 0;
  std::chrono::steady_clock::time_point queued;  // set by Enqueue
  size_t bytes = 0;                              // set by Enqueue: URI, headers and body
};

struct NotifierOptions {
  // Jobs queued or being delivered, in all: beyond, a new one is dropped and counted.
  size_t queue_capacity = 10000;
  // Per tenant, in jobs and bytes, and in all in bytes: one tenant whose endpoints hang fills
  // its own share, not the queue every tenant's notifications wait in (with the defaults, four
  // such tenants fill the queue's jobs). 0: no limit.
  size_t tenant_queue_jobs = 2500;
  size_t queue_bytes = 256u << 20;
  size_t tenant_queue_bytes = 64u << 20;
  int max_attempts = 3;
  std::chrono::milliseconds first_backoff{100};  // doubles after each failed attempt
  std::chrono::milliseconds timeout{5000};       // per attempt: connect + send + answer
  int connections_per_endpoint = 4;
  // Keep-alive connections kept for the next notification to the same endpoint: closed after
  // this long unused, and never more than max_idle in all (beyond, a connection closes once its
  // answer is read). Subscriptions come and go; their endpoints' connections must not stay open.
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_idle = 256;
  DurationHistogram* delivery = nullptr;  // where delivery times (queued → 2xx) go, if anywhere
};

struct NotifierCounters {
  uint64_t sent = 0, failed = 0, dropped = 0, retried = 0;
  uint64_t dropped_tenant_share = 0;  // of `dropped`: the tenant's share of the queue was full
  size_t queued = 0;
  size_t queued_bytes = 0;
};

class Notifier {
 public:
  explicit Notifier(NotifierOptions options = {});
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Start();
  // Stops accepting jobs, delivers what it can within `flush`, drops the rest (counted).
  void Stop(std::chrono::milliseconds flush = std::chrono::milliseconds(2000));
  // Queues a job; false (and counted as dropped) if the queue is full or the notifier stopped.
  bool Enqueue(NotificationJob job);
  NotifierCounters Counters() const;
  // Waits until `done(Counters())` holds — re-checked whenever a notification is delivered or
  // given up — or `timeout` passes; returns whether it holds. For tests and orderly shutdown.
  bool WaitUntil(const std::function<bool(const NotifierCounters&)>& done, std::chrono::milliseconds timeout);
  // CPU time the delivery thread has used (seconds), while it runs.
  double CpuSeconds() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace citybed::broker
