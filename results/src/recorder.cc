#include "citybed/results/recorder.h"

#include <cmath>

namespace citybed::results {

namespace {
double Ms(int64_t ns) { return std::round(static_cast<double>(ns) / 1e3) / 1e3; }  // µs precision
}  // namespace

nlohmann::json LatencyJson(const sim::LatencyHistogram& h) {
  return {{"p50", Ms(h.ValueAtPercentile(50))},   {"p90", Ms(h.ValueAtPercentile(90))},
          {"p99", Ms(h.ValueAtPercentile(99))},   {"p999", Ms(h.ValueAtPercentile(99.9))},
          {"max", Ms(h.Max())},                   {"mean", Ms(static_cast<int64_t>(h.Mean()))},
          {"count", h.Count()}};
}

void RequestStats::Add(const models::RequestRecord& r) {
  ++sent;
  bytes_up += r.bytes_up;
  bytes_down += r.bytes_down;
  if (r.ok) {
    ++ok;
    latency.Record(r.latency.ns());
    return;
  }
  if (!r.error.empty()) ++errors[std::string(r.error)];
  else ++errors[std::to_string(r.status)];
  if (!r.problem.empty()) ++problems[std::string(r.problem)];
}

nlohmann::json RequestStats::ToJson(double window_seconds) const {
  nlohmann::json j;
  j["sent"] = sent;
  j["ok"] = ok;
  j["failed"] = failed();
  j["errors"] = errors;
  j["problems"] = problems;
  j["throughput_per_s"] = window_seconds > 0 ? std::round(static_cast<double>(ok) / window_seconds * 100) / 100 : 0.0;
  j["error_rate"] = sent ? static_cast<double>(failed()) / static_cast<double>(sent) : 0.0;
  j["latency_ms"] = LatencyJson(latency);
  j["bytes_up"] = bytes_up;
  j["bytes_down"] = bytes_down;
  return j;
}

Recorder::Recorder(RecorderOptions options)
    : options_(std::move(options)),
      regions_(options_.regions.size()),
      domains_(options_.domains.size()),
      freshness_by_region_(options_.regions.size()) {}

Interval& Recorder::IntervalAt(sim::Time t) {
  const size_t i = static_cast<size_t>(std::max<int64_t>(0, t.ns() / options_.interval.ns()));
  while (i >= intervals_.size()) intervals_.emplace_back().domains.resize(options_.domains.size());
  return intervals_[i];
}

void Recorder::OnRequest(const models::RequestRecord& r) {
  ++all_sent_;
  ++all_by_op_[static_cast<size_t>(r.op)];
  Interval& in = IntervalAt(r.intended);
  ++in.ops[static_cast<size_t>(r.op)];
  if (r.domain >= 0 && static_cast<size_t>(r.domain) < in.domains.size()) ++in.domains[static_cast<size_t>(r.domain)];
  if (r.ok) {
    ++in.ok;
    in.latency.Record(r.latency.ns());
  } else {
    ++in.failed;
  }
  if (r.intended < sim::Time() + options_.warmup) return;
  total_.Add(r);
  ops_[static_cast<size_t>(r.op)].Add(r);
  if (r.region >= 0 && static_cast<size_t>(r.region) < regions_.size()) regions_[static_cast<size_t>(r.region)].Add(r);
  if (r.domain >= 0 && static_cast<size_t>(r.domain) < domains_.size()) domains_[static_cast<size_t>(r.domain)].Add(r);
}

void Recorder::OnNotification(const models::NotificationRecord& n) {
  ++IntervalAt(n.arrival).notifications;
  if (n.arrival < sim::Time() + options_.warmup) return;
  ++notifications_;
  freshness_.Record(n.freshness.ns());
  if (n.region >= 0 && static_cast<size_t>(n.region) < freshness_by_region_.size()) {
    freshness_by_region_[static_cast<size_t>(n.region)].Record(n.freshness.ns());
  }
}

}  // namespace citybed::results
