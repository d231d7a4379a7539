#include "citybed/broker/metrics.h"

#include <cstdio>

namespace citybed::broker {

namespace {
std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') { out += "\\n"; continue; }
    out.push_back(c);
  }
  return out;
}
}  // namespace

void AppendMetricHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void AppendMetric(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, " %.17g\n", value);
  out += buf;
}

std::string PrometheusLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Metrics::Metrics(const std::vector<std::string>& routes, std::shared_ptr<ServiceMetrics> service)
    : service_(service ? std::move(service) : std::make_shared<ServiceMetrics>()) {
  routes_.push_back(std::make_unique<RouteStats>());
  routes_.back()->name = "unmatched";
  for (const std::string& r : routes) {
    routes_.push_back(std::make_unique<RouteStats>());
    routes_.back()->name = r;
  }
}

int Metrics::StatusSlot(int status) {
  for (size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return static_cast<int>(i);
  }
  return static_cast<int>(kStatuses.size() - 1);
}

Metrics::RouteStats* Metrics::Find(int route) const {
  const size_t i = static_cast<size_t>(route + 1);
  return route >= -1 && i < routes_.size() ? routes_[i].get() : routes_[0].get();
}

Metrics::RouteStats* Metrics::Find(std::string_view route) const {
  for (const auto& r : routes_) {
    if (r->name == route) return r.get();
  }
  return routes_[0].get();
}

void Metrics::RecordRequest(int route, Method method, int status, int64_t duration_ns) {
  RouteStats* r = Find(route);
  const int m = static_cast<int>(method);
  r->requests[static_cast<size_t>(m) * kStatuses.size() + static_cast<size_t>(StatusSlot(status))].fetch_add(
      1, std::memory_order_relaxed);
  const double secs = static_cast<double>(duration_ns) * 1e-9;
  size_t b = 0;
  while (b < kBuckets.size() && secs > kBuckets[b]) ++b;
  r->buckets[b].fetch_add(1, std::memory_order_relaxed);
  r->count.fetch_add(1, std::memory_order_relaxed);
  r->sum_ns.fetch_add(static_cast<uint64_t>(duration_ns > 0 ? duration_ns : 0), std::memory_order_relaxed);
}

uint64_t Metrics::Requests(std::string_view route, int status) const {
  const RouteStats* r = Find(route);
  uint64_t n = 0;
  for (int m = 0; m < kMethods; ++m) {
    n += r->requests[static_cast<size_t>(m) * kStatuses.size() + static_cast<size_t>(StatusSlot(status))].load();
  }
  return n;
}

uint64_t Metrics::TotalRequests() const {
  uint64_t n = 0;
  for (const auto& r : routes_) n += r->count.load();
  return n;
}

std::string Metrics::Render(const std::function<void(std::string&)>& extra) const {
  std::string out;
  out.reserve(8192);
  AppendMetricHeader(out, "citybed_http_requests_total", "counter", "HTTP requests answered, by route, method and status.");
  for (const auto& r : routes_) {
    for (int m = 0; m < kMethods; ++m) {
      for (size_t s = 0; s < kStatuses.size(); ++s) {
        const uint64_t v = r->requests[static_cast<size_t>(m) * kStatuses.size() + s].load(std::memory_order_relaxed);
        if (v == 0) continue;
        const std::string labels = "route=\"" + Escape(r->name) + "\",method=\"" +
                                   std::string(ToString(static_cast<Method>(m))) + "\",status=\"" +
                                   (kStatuses[s] ? std::to_string(kStatuses[s]) : std::string("other")) + "\"";
        AppendMetric(out, "citybed_http_requests_total", labels, static_cast<double>(v));
      }
    }
  }
  AppendMetricHeader(out, "citybed_http_request_duration_seconds", "histogram",
                     "Time from a request's arrival to its reply being written, by route.");
  for (const auto& r : routes_) {
    const uint64_t count = r->count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    uint64_t cumulative = 0;
    const std::string route = "route=\"" + Escape(r->name) + "\"";
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += r->buckets[b].load(std::memory_order_relaxed);
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[b]);
      AppendMetric(out, "citybed_http_request_duration_seconds_bucket", route + ",le=\"" + le + "\"",
                   static_cast<double>(cumulative));
    }
    AppendMetric(out, "citybed_http_request_duration_seconds_bucket", route + ",le=\"+Inf\"", static_cast<double>(count));
    AppendMetric(out, "citybed_http_request_duration_seconds_sum", route,
                 static_cast<double>(r->sum_ns.load(std::memory_order_relaxed)) * 1e-9);
    AppendMetric(out, "citybed_http_request_duration_seconds_count", route, static_cast<double>(count));
  }
  AppendMetricHeader(out, "citybed_http_connections_open", "gauge", "Client connections open now.");
  AppendMetric(out, "citybed_http_connections_open", "", static_cast<double>(open_.load()));
  AppendMetricHeader(out, "citybed_http_connections_total", "counter", "Client connections accepted.");
  AppendMetric(out, "citybed_http_connections_total", "", static_cast<double>(total_conn_.load()));
  AppendMetricHeader(out, "citybed_http_rejected_body_too_large_total", "counter", "Requests refused with 413.");
  AppendMetric(out, "citybed_http_rejected_body_too_large_total", "", static_cast<double>(too_large_.load()));
  AppendMetricHeader(out, "citybed_http_shed_total", "counter",
                     "Requests answered 503 without being handled: the event loop ran behind more than --shed-lag.");
  AppendMetric(out, "citybed_http_shed_total", "", static_cast<double>(shed_.load()));
  AppendMetricHeader(out, "citybed_http_timeouts_total", "counter", "Connections closed by header or idle timeouts.");
  AppendMetric(out, "citybed_http_timeouts_total", "", static_cast<double>(timeouts_.load()));
  AppendMetricHeader(out, "citybed_http_accept_failures_total", "counter",
                     "Accepts that failed for want of descriptors or memory (the listener then waits and retries).");
  AppendMetric(out, "citybed_http_accept_failures_total", "", static_cast<double>(accept_failed_.load()));
  service_->RenderPrometheus(out);
  if (extra) extra(out);
  return out;
}

}  // namespace citybed::broker
