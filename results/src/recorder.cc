#include "citybed/results/recorder.h"

#include "citybed/results/request_log.h"

#include <algorithm>

namespace citybed::results {

namespace {
// Intervals this far behind the newest completion are compacted; a record later than that
// still lands in its interval (the sparse form takes it), only more slowly.
constexpr int64_t kOpenIntervals = 120;
}  // namespace

std::string CauseOf(const models::RequestRecord& r) {
  switch (r.outcome) {
    case models::Outcome::kOk: return "ok";
    case models::Outcome::kStatus: {
      std::string s = "HTTP " + std::to_string(r.status);
      if (!r.problem.empty()) s.append(" ").append(r.problem);
      return s;
    }
    case models::Outcome::kConnection: return r.error.empty() ? std::string("connection error") : std::string(r.error);
    default: return std::string(models::OutcomeName(r.outcome));
  }
}

void RequestStats::Add(const models::RequestRecord& r) {
  ++scheduled;
  if (r.sent) ++sent;
  ++outcomes[static_cast<size_t>(r.outcome)];
  bytes_up += r.bytes_up;
  bytes_down += r.bytes_down;
  network_ns += r.network.ns();
  latency.Record(r.latency.ns());
  switch (r.outcome) {
    case models::Outcome::kOk:
      ++ok;
      latency_ok.Record(r.latency.ns());
      break;
    case models::Outcome::kStatus:
      ++statuses[std::to_string(r.status)];
      if (!r.problem.empty()) ++problems[std::string(r.problem)];
      break;
    case models::Outcome::kConnection:
      ++transport[r.error.empty() ? std::string("connection error") : std::string(r.error)];
      break;
    default:
      break;
  }
}

Recorder::Recorder(RecorderOptions options)
    : options_(std::move(options)), regions_(options_.regions.size()), domains_(options_.domains.size()) {
  if (options_.interval.ns() <= 0) options_.interval = sim::Duration::Seconds(1);
}

sim::Duration Recorder::IntervalLength(size_t i) const {
  const sim::Time start = IntervalStart(i);
  const sim::Time end = sim::Time() + options_.duration;
  if (start < end && end < start + options_.interval) return end - start;
  return options_.interval;
}

Interval& Recorder::IntervalAt(sim::Time t) {
  const size_t i = static_cast<size_t>(std::max<int64_t>(0, t.ns() / options_.interval.ns()));
  while (i >= intervals_.size()) intervals_.emplace_back().domains.resize(options_.domains.size());
  return intervals_[i];
}

void Recorder::CompactBefore(size_t index) {
  while (compacted_ < index && compacted_ < intervals_.size()) intervals_[compacted_++].latency.Compact();
}

void Recorder::OnInterop(const models::InteropRecord& r) {
  if (r.intended < sim::Time() + options_.warmup || r.intended >= sim::Time() + options_.duration) return;
  interop_.Add(r);
}

void Recorder::OnRequest(const models::RequestRecord& r) {
  ++all_scheduled_;
  ++all_by_op_[static_cast<size_t>(r.op)];
  {
    Interval& in = IntervalAt(r.intended);
    ++in.offered[static_cast<size_t>(r.op)];
    if (r.domain >= 0 && static_cast<size_t>(r.domain) < in.domains.size()) ++in.domains[static_cast<size_t>(r.domain)];
  }
  {
    Interval& done = IntervalAt(std::max(r.completed, r.intended));
    if (r.ok()) ++done.ok;
    else ++done.failed;
    done.latency.Record(r.latency.ns());
    if (r.waited.ns() > 0) {
      ++done.waited;
      done.wait_sum_ns += r.waited.ns();
      done.wait_max_ns = std::max(done.wait_max_ns, r.waited.ns());
    }
    const int64_t index = std::max(r.completed, r.intended).ns() / options_.interval.ns();
    if (index > kOpenIntervals) CompactBefore(static_cast<size_t>(index - kOpenIntervals));
  }
  const bool in_window = r.intended >= sim::Time() + options_.warmup && r.intended < sim::Time() + options_.duration;
  if (log_ != nullptr) log_->Request(r, in_window);
  if (!in_window) return;
  total_.Add(r);
  wait_.Record(r.waited.ns());
  ops_[static_cast<size_t>(r.op)].Add(r);
  if (r.region >= 0 && static_cast<size_t>(r.region) < regions_.size()) regions_[static_cast<size_t>(r.region)].Add(r);
  if (r.domain >= 0 && static_cast<size_t>(r.domain) < domains_.size()) domains_[static_cast<size_t>(r.domain)].Add(r);
  if (!r.name.empty()) named_[std::string(r.name)].Add(r);
  if (!r.ok()) {
    CauseSeen& c = causes_[CauseOf(r)];
    ++c.count;
    c.first = std::min(c.first, r.completed);
    c.last = std::max(c.last, r.completed);
  }
}

void Recorder::OnNotification(const models::NotificationRecord& n) {
  ++IntervalAt(n.arrival).notifications;
  const bool in_window = n.arrival >= sim::Time() + options_.warmup;
  if (log_ != nullptr) log_->Notification(n, in_window);
  if (!in_window) return;
  ++notifications_;
  freshness_.Record(n.freshness.ns());
}

void Recorder::OnResources(const models::ResourceSample& s) {
  Interval& in = IntervalAt(s.at);
  in.broker_cpu_seconds += s.broker_cpu_seconds;
  in.broker_wall_seconds += s.wall_seconds;
}

void Recorder::AddMissingNotifications(uint64_t n, sim::Duration as) {
  if (n == 0) return;
  missing_ += n;
  freshness_.Record(as.ns(), n);
}

size_t Recorder::IntervalMemoryBytes() const {
  size_t bytes = intervals_.capacity() * sizeof(Interval);
  for (const Interval& in : intervals_) {
    bytes += in.latency.MemoryBytes() - sizeof(in.latency) + in.domains.capacity() * sizeof(uint64_t);
  }
  return bytes;
}

}  // namespace citybed::results
