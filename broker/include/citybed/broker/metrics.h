// Metrics: the broker's own measurements, exposed at GET /metrics in the Prometheus text
// exposition format (version 0.0.4):
//   citybed_http_requests_total{route,method,status}        counter
//   citybed_http_request_duration_seconds{route}            histogram (receipt to reply)
//   citybed_http_connections_open / _total                  gauge / counter
//   citybed_service_seconds{class,clock}, citybed_read_seconds{class}, citybed_in_flight{class},
//   citybed_notification_delivery_seconds                   what work costs (service_metrics.h)
//   plus gauges and counters that the broker adds at render time (entities per tenant,
//   notifications sent/failed/dropped, queue depth, ...).
// Recording is lock-free (relaxed atomics); routes are registered before serving.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "citybed/broker/http_message.h"
#include "citybed/broker/service_metrics.h"

namespace citybed::broker {

class Metrics {
 public:
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
  // Routes are numbered as the router numbers its patterns; -1 is "unmatched".
  // `service`: where per-class service metrics go (shared with the notifier); null: its own.
  explicit Metrics(const std::vector<std::string>& routes = {}, std::shared_ptr<ServiceMetrics> service = nullptr);
  void RecordRequest(int route, Method method, int status, int64_t duration_ns);
  void ConnectionOpened() { open_.fetch_add(1, std::memory_order_relaxed); total_conn_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  void BodyTooLarge() { too_large_.fetch_add(1, std::memory_order_relaxed); }
  void Shed() { shed_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t shed() const { return shed_.load(std::memory_order_relaxed); }
  void Timeout() { timeouts_.fetch_add(1, std::memory_order_relaxed); }
  void AcceptFailed() { accept_failed_.fetch_add(1, std::memory_order_relaxed); }

  // Total requests answered with `status` on `route` (any method); for tests and summaries.
  uint64_t Requests(std::string_view route, int status) const;
  uint64_t TotalRequests() const;

  ServiceMetrics& service() { return *service_; }
  const ServiceMetrics& service() const { return *service_; }

  // Appends the whole exposition; `extra` appends further metric families.
  std::string Render(const std::function<void(std::string&)>& extra) const;

 private:
  static constexpr int kMethods = 8;
  static constexpr std::array<int, 19> kStatuses = {200, 201, 204, 207, 400, 403, 404, 405, 406, 409,
                                                    411, 413, 415, 422, 431, 500, 501, 503, 0};
  struct RouteStats {
    std::string name;
    std::array<std::atomic<uint64_t>, kMethods * kStatuses.size()> requests{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
  };
  static int StatusSlot(int status);
  RouteStats* Find(int route) const;
  RouteStats* Find(std::string_view route) const;

  std::vector<std::unique_ptr<RouteStats>> routes_;  // [0] unmatched, [i + 1] route i
  std::atomic<int64_t> open_{0};
  std::atomic<uint64_t> total_conn_{0}, too_large_{0}, timeouts_{0}, accept_failed_{0}, shed_{0};
  std::shared_ptr<ServiceMetrics> service_;
};

// Helpers for the extra families.
void AppendMetricHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help);
void AppendMetric(std::string& out, std::string_view name, std::string_view labels, double value);
// A label value escaped for the Prometheus text format (backslash, double quote, line feed).
std::string PrometheusLabelValue(std::string_view value);

}  // namespace citybed::broker
