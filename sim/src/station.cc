#include "citybed/sim/station.h"

#include <stdexcept>

namespace citybed::sim {

FifoStation::FifoStation(Engine& engine, int servers, size_t capacity)
    : engine_(engine), servers_(servers), capacity_(capacity), last_change_(engine.Now()) {
  if (servers < 1) throw std::invalid_argument("FifoStation: servers must be >= 1");
}

void FifoStation::AccumulateBusy() {
  busy_area_ += busy_ * (engine_.Now() - last_change_).seconds();
  last_change_ = engine_.Now();
}

double FifoStation::Utilization() const {
  const double elapsed = (engine_.Now() - Time()).seconds();
  if (elapsed <= 0) return 0;
  const double area = busy_area_ + busy_ * (engine_.Now() - last_change_).seconds();
  return area / (elapsed * servers_);
}

double FifoStation::BusySeconds() const {
  return busy_area_ + busy_ * (engine_.Now() - last_change_).seconds();
}

void FifoStation::Submit(Duration service_time, Done done) {
  Job job{engine_.Now(), service_time, std::move(done)};
  if (busy_ < servers_) {
    Start(std::move(job));
  } else if (queue_.size() >= capacity_) {
    ++rejected_;
    if (job.done) job.done(Outcome{Duration(), Duration(), true});
  } else {
    queue_.push_back(std::move(job));
  }
}

void FifoStation::Start(Job job) {
  AccumulateBusy();
  ++busy_;
  const Duration waited = engine_.Now() - job.arrived;
  engine_.ScheduleIn(job.service, [this, waited, job = std::move(job)]() mutable {
    AccumulateBusy();
    --busy_;
    ++completed_;
    const Outcome outcome{waited, engine_.Now() - job.arrived, false};
    if (!queue_.empty()) {
      Job next = std::move(queue_.front());
      queue_.pop_front();
      Start(std::move(next));
    }
    if (job.done) job.done(outcome);
  });
}

}  // namespace citybed::sim
