// Recorder: the RunObserver that turns a run's observations into its results.
//
// - The summary counts every request whose *intended* send time lies in the measurement
//   window [warm-up, end): scheduled, sent, ok, and every failure by cause. Its latency
//   percentiles cover all of them — a failed request at its observed latency, a timed-out one
//   at the timeout, a cancelled one at the run's end — so that SLOs are judged on every request
//   the scenario asked for; success-only percentiles are kept apart ("latency_ok").
// - Slices: all requests, per operation, per region, per service domain, per named request.
// - Time series: fixed intervals of simulated time. What was offered is filed by intended send
//   time; what completed (and its latency), by completion time; notifications by arrival. Rows
//   from the end of the run on are the drain. Interval histograms older than two minutes are
//   compacted (sparse), so a day at one-second intervals stays small.
// - Notification freshness, with notifications that never arrived counted as failures.
// Times are integer nanoseconds (sim::Time) throughout: no rounding decides a row.
// Not thread-safe: the run's thread calls it.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/models/observer.h"
#include "citybed/results/interop.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/time.h"

namespace citybed::results {

class RequestLog;

constexpr size_t kOps = static_cast<size_t>(models::OpKind::kCount);
constexpr size_t kOutcomes = static_cast<size_t>(models::Outcome::kCount);

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
  sim::LatencyHistogram latency;     // every request, ns (failures at their observed latency)
  sim::LatencyHistogram latency_ok;  // requests answered ok, ns
  uint64_t scheduled = 0;            // requests made (intended in the window)
  uint64_t sent = 0;                 // of which reached the broker
  uint64_t ok = 0;
  std::array<uint64_t, kOutcomes> outcomes{};
  std::map<std::string, uint64_t> statuses;   // error answers by HTTP status ("404")
  std::map<std::string, uint64_t> problems;   // error answers by error type ("BadRequestData")
  std::map<std::string, uint64_t> transport;  // connection failures by message
  uint64_t bytes_up = 0, bytes_down = 0;
  int64_t network_ns = 0;            // sum of the simulated network parts of the latencies
  void Add(const models::RequestRecord& r);
  uint64_t failed() const { return scheduled - ok; }
  uint64_t count(models::Outcome o) const { return outcomes[static_cast<size_t>(o)]; }
};

// One row of the time series.
struct Interval {
  std::array<uint64_t, kOps> offered{};  // requests by intended send time, per operation
  uint64_t ok = 0, failed = 0;           // requests completed in the interval
  sim::LatencyHistogram latency{4};      // their latency (every outcome), ns, ~3 % resolution
  uint64_t waited = 0;                   // of them, requests that waited for a connection
  int64_t wait_sum_ns = 0, wait_max_ns = 0;
  uint64_t notifications = 0;            // notified entities, by arrival
  double broker_cpu_seconds = 0, broker_wall_seconds = 0;  // resource samples taken in the interval
  std::vector<uint64_t> domains;         // source writes by domain index (intended time)
  uint64_t offered_total() const {
    uint64_t n = 0;
    for (uint64_t c : offered) n += c;
    return n;
  }
};

// A failure cause as the errors table shows it, with when it was first and last seen.
struct CauseSeen {
  uint64_t count = 0;
  sim::Time first = sim::Time::Max(), last;
};

class Recorder : public models::RunObserver {
 public:
  explicit Recorder(RecorderOptions options);
  void OnRequest(const models::RequestRecord& r) override;
  void OnNotification(const models::NotificationRecord& n) override;
  void OnResources(const models::ResourceSample& s) override;
  // Reads measured against the ground truth, intended in the measurement window.
  void OnInterop(const models::InteropRecord& r) override;
  const InteropStats& interop() const { return interop_; }
  // Every request and notification also goes to `log` (request_log.h), marked as counted in the
  // summary's window or not by the same rule as here; null: none (the default).
  void SetLog(RequestLog* log) { log_ = log; }
  // Notifications the broker triggered that never arrived (or were lost on the simulated
  // downlink): each counts in the freshness percentiles as a failure, recorded at `as` (the
  // run's length with its drain: older than anything a run can measure).
  void AddMissingNotifications(uint64_t n, sim::Duration as);

  const RequestStats& total() const { return total_; }
  const RequestStats& operation(models::OpKind op) const { return ops_[static_cast<size_t>(op)]; }
  const std::vector<RequestStats>& regions() const { return regions_; }
  const std::vector<RequestStats>& domains() const { return domains_; }
  const std::map<std::string, RequestStats>& named() const { return named_; }
  const std::map<std::string, CauseSeen>& causes() const { return causes_; }
  const sim::LatencyHistogram& freshness() const { return freshness_; }  // with missing ones
  // Waiting for a free connection, of every request in the window (0 for those that did not wait).
  const sim::LatencyHistogram& connection_wait() const { return wait_; }
  uint64_t notifications() const { return notifications_; }              // received in the window
  uint64_t missing_notifications() const { return missing_; }
  const std::vector<Interval>& intervals() const { return intervals_; }
  const RecorderOptions& options() const { return options_; }
  // The interval length of row i (the last row before the end may be shorter).
  sim::Duration IntervalLength(size_t i) const;
  sim::Time IntervalStart(size_t i) const { return sim::Time() + options_.interval * static_cast<int64_t>(i); }

  // Every request, warm-up included: for checks against the broker's own counters.
  uint64_t all_scheduled() const { return all_scheduled_; }
  const std::array<uint64_t, kOps>& all_by_op() const { return all_by_op_; }
  // Bytes of memory the interval histograms hold (for the memory benchmark).
  size_t IntervalMemoryBytes() const;

 private:
  Interval& IntervalAt(sim::Time t);
  void CompactBefore(size_t index);

  RecorderOptions options_;
  RequestLog* log_ = nullptr;
  RequestStats total_;
  std::array<RequestStats, kOps> ops_;
  std::vector<RequestStats> regions_;
  std::vector<RequestStats> domains_;
  std::map<std::string, RequestStats> named_;
  std::map<std::string, CauseSeen> causes_;
  InteropStats interop_;
  sim::LatencyHistogram freshness_;
  sim::LatencyHistogram wait_;
  uint64_t notifications_ = 0, missing_ = 0;
  std::vector<Interval> intervals_;
  size_t compacted_ = 0;  // intervals [0, compacted_) are in the compact form
  uint64_t all_scheduled_ = 0;
  std::array<uint64_t, kOps> all_by_op_{};
};

// The cause of a failed request as one string: "HTTP 404 ResourceNotFound", "timeout",
// "connection refused", "network", "cancelled".
std::string CauseOf(const models::RequestRecord& r);

}  // namespace citybed::results
