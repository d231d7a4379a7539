// Recorder: the RunObserver that turns a run's observations into its results — latency
// histograms per operation, region and domain, error counts by status and NGSI-LD problem type,
// notification freshness, and fixed-interval time series. Observations whose intended time lies
// in the warm-up go to the time series only, never to the summary.
// Not thread-safe: the run's thread calls it.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/models/observer.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/time.h"

namespace citybed::results {

struct RecorderOptions {
  sim::Duration warmup;
  sim::Duration duration;
  sim::Duration interval = sim::Duration::Seconds(1);
  std::vector<std::string> regions;  // ids, by region index
  std::vector<std::string> domains;  // names, by domain index
  double start_hour = -1;            // local time of day at simulated time 0 (for charts), -1 unknown
};

// Counts and latencies of one slice of the requests (all, one operation, one region, ...).
struct RequestStats {
  sim::LatencyHistogram latency;  // ok requests, ns
  uint64_t sent = 0, ok = 0;
  std::map<std::string, uint64_t> errors;    // by HTTP status ("404") or transport error ("timeout")
  std::map<std::string, uint64_t> problems;  // by NGSI-LD error type
  uint64_t bytes_up = 0, bytes_down = 0;
  void Add(const models::RequestRecord& r);
  uint64_t failed() const { return sent - ok; }
  nlohmann::json ToJson(double window_seconds) const;
};

struct Interval {
  sim::LatencyHistogram latency{4};  // ok requests, ns (~3 % resolution)
  std::array<uint64_t, static_cast<size_t>(models::OpKind::kCount)> ops{};
  uint64_t ok = 0, failed = 0, notifications = 0;
  std::vector<uint64_t> domains;  // source writes by domain index
};

class Recorder : public models::RunObserver {
 public:
  explicit Recorder(RecorderOptions options);
  void OnRequest(const models::RequestRecord& r) override;
  void OnNotification(const models::NotificationRecord& n) override;

  const RequestStats& total() const { return total_; }
  const RequestStats& operation(models::OpKind op) const { return ops_[static_cast<size_t>(op)]; }
  const std::vector<RequestStats>& regions() const { return regions_; }
  const std::vector<RequestStats>& domains() const { return domains_; }
  const sim::LatencyHistogram& freshness() const { return freshness_; }
  uint64_t notifications() const { return notifications_; }
  const std::vector<Interval>& intervals() const { return intervals_; }
  const RecorderOptions& options() const { return options_; }
  double WindowSeconds() const { return (options_.duration - options_.warmup).seconds(); }

  // Every observation, warm-up included: for checks against the broker's own counters.
  uint64_t all_sent() const { return all_sent_; }
  const std::array<uint64_t, static_cast<size_t>(models::OpKind::kCount)>& all_sent_by_op() const { return all_by_op_; }

 private:
  Interval& IntervalAt(sim::Time t);

  RecorderOptions options_;
  RequestStats total_;
  std::array<RequestStats, static_cast<size_t>(models::OpKind::kCount)> ops_;
  std::vector<RequestStats> regions_;
  std::vector<RequestStats> domains_;
  sim::LatencyHistogram freshness_;
  std::vector<sim::LatencyHistogram> freshness_by_region_;
  uint64_t notifications_ = 0;
  std::vector<Interval> intervals_;
  uint64_t all_sent_ = 0;
  std::array<uint64_t, static_cast<size_t>(models::OpKind::kCount)> all_by_op_{};
};

// {"p50": .., "p90": .., "p99": .., "p999": .., "max": .., "mean": ..} in milliseconds.
nlohmann::json LatencyJson(const sim::LatencyHistogram& h);

}  // namespace citybed::results
