#include "citybed/sim/realtime.h"

#include "citybed/common/cpu_time.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace citybed::sim {

RealtimeExecutor::RealtimeExecutor(Engine& engine, boost::asio::io_context& io,
                                   RealtimeOptions options)
    : engine_(engine), io_(io), options_(options), timer_(io) {
  if (!(options_.speed > 0) || !std::isfinite(options_.speed)) {
    throw std::invalid_argument("RealtimeExecutor: speed must be a finite number > 0");
  }
  if (options_.max_wake_ahead < options_.min_wake_ahead) options_.max_wake_ahead = options_.min_wake_ahead;
  wake_ahead_ = options_.min_wake_ahead;
  wake_ahead_cap_ = options_.max_wake_ahead;
}

// Spinning over budget in the last 100 ms lowers the wake-ahead's ceiling (halving towards the
// minimum); well under budget raises it again (by half, up to the maximum).
void RealtimeExecutor::NoteSpin(Clock::duration spun, Clock::time_point now) {
  window_spin_ += spun;
  const auto window = now - window_start_;
  if (window < std::chrono::milliseconds(100)) return;
  const double share = std::chrono::duration<double>(window_spin_) / std::chrono::duration<double>(window);
  // Over budget, the ceiling may fall to nothing: then every wait sleeps through a timer.
  const Clock::duration hi = options_.max_wake_ahead;
  if (share > options_.spin_budget) wake_ahead_cap_ = wake_ahead_cap_ / 2;
  else if (share < options_.spin_budget / 2) {
    wake_ahead_cap_ = std::min(hi, std::max<Clock::duration>(wake_ahead_cap_ + wake_ahead_cap_ / 2, std::chrono::microseconds(10)));
  }
  wake_ahead_ = std::min(wake_ahead_, wake_ahead_cap_);
  window_start_ = now;
  window_spin_ = {};
}

// Timers wake late by an amount that depends on the host (an idle vCPU's wake-up, the
// scheduler): arm the next ones ahead by 1.5 times the worst of the last 64.
void RealtimeExecutor::NoteOversleep(Clock::duration late, RealtimeReport& report) {
  const int64_t ns = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(late).count());
  report.oversleep.Record(ns);
  recent_oversleep_[oversleep_count_++ % recent_oversleep_.size()] = ns;
  const size_t n = std::min(oversleep_count_, recent_oversleep_.size());
  const int64_t worst = *std::max_element(recent_oversleep_.begin(), recent_oversleep_.begin() + static_cast<long>(n));
  const auto ahead = std::chrono::nanoseconds(worst + worst / 2);
  wake_ahead_ = std::min(std::max<Clock::duration>(ahead, options_.min_wake_ahead), wake_ahead_cap_);
}

Time RealtimeExecutor::WallToSim(Clock::time_point wall) const {
  const double wall_ns = static_cast<double>((wall - wall_origin_).count());
  return sim_origin_ + Duration::Nanoseconds(static_cast<int64_t>(wall_ns * options_.speed));
}

RealtimeExecutor::Clock::time_point RealtimeExecutor::SimToWall(Time t) const {
  const double sim_ns = static_cast<double>((t - sim_origin_).ns());
  return wall_origin_ + std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(sim_ns / options_.speed)));
}

void RealtimeExecutor::ArmTimer(Clock::time_point due) {
  if (timer_pending_ && armed_for_ == due) return;
  armed_for_ = due;
  timer_.expires_at(due);  // cancels a wait for another due time; its handler sees aborted
  timer_pending_ = true;
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec != boost::asio::error::operation_aborted) timer_pending_ = false;
  });
}

RealtimeReport RealtimeExecutor::RunUntil(Time end) {
  RealtimeReport report;
  if (!started_) {
    started_ = true;
    wall_origin_ = Clock::now();
    sim_origin_ = engine_.Now();
    window_start_ = wall_origin_;
  }
  stop_ = false;
  const uint64_t injected_before = injected_;
  const Clock::time_point wall_begin = Clock::now();
  const double cpu_begin = ThisThreadCpuSeconds();
  Clock::duration spinning{};
  if (io_.stopped()) io_.restart();

  Clock::time_point last_poll{};
  Clock::time_point spin_since{};  // when the current spin began; {} when not spinning
  while (!stop_) {
    Clock::time_point now = Clock::now();
    if (now - last_poll >= options_.spin_poll) {
      io_.poll();  // ready I/O handlers first; they may Inject events
      last_poll = now;
      if (stop_) break;
      if (io_.stopped()) io_.restart();
    }
    const Time next = engine_.NextTime();
    const Time target = next < end ? next : end;
    const Clock::time_point due = SimToWall(target);
    now = Clock::now();
    if (now < due) {
      if (due - now <= wake_ahead_) {  // spin: the event is due within the wake-ahead
        if (spin_since == Clock::time_point{}) spin_since = now;
        continue;
      }
      if (spin_since != Clock::time_point{}) {
        spinning += now - spin_since;
        NoteSpin(now - spin_since, now);
        spin_since = {};
      }
      const Clock::time_point wake = due - wake_ahead_;
      ArmTimer(wake);
      io_.run_one();  // sleeps until the timer or an I/O completion
      last_poll = Clock::now();
      if (!timer_pending_ && armed_for_ == wake) NoteOversleep(last_poll - wake, report);
      NoteSpin(Clock::duration{}, last_poll);
      continue;
    }
    if (spin_since != Clock::time_point{}) {
      spinning += now - spin_since;
      NoteSpin(now - spin_since, now);
      spin_since = {};
    }
    if (next > end) break;  // the end time has come and no event is left before it
    // Run every event that is due by now; re-read the clock as the batch goes on.
    while (!stop_) {
      const Time t = engine_.NextTime();
      if (t > end) break;
      const Clock::time_point event_due = SimToWall(t);
      if (now < event_due) {
        now = Clock::now();
        if (now < event_due) break;
      }
      report.lag.Record((now - event_due).count());
      engine_.Step();
      ++report.events;
      now = Clock::now();
      if (now - last_poll >= options_.spin_poll) {  // keep I/O flowing through long bursts
        io_.poll();
        last_poll = now;
      }
    }
  }
  if (!stop_ && engine_.Now() < end) engine_.RunUntil(end);  // advance the clock to `end`
  timer_.cancel();
  timer_pending_ = false;
  io_.poll();  // let the cancelled wait finish

  if (spin_since != Clock::time_point{}) spinning += Clock::now() - spin_since;
  report.stopped = stop_;
  report.injected = injected_ - injected_before;
  report.cpu_seconds = ThisThreadCpuSeconds() - cpu_begin;
  report.spin_seconds = std::chrono::duration<double>(spinning).count();
  report.wake_ahead = Duration(wake_ahead_);
  report.wall_elapsed = Duration(Clock::now() - wall_begin);
  report.max_lag = Duration::Nanoseconds(report.lag.Max());
  report.lag_at_percentile = Duration::Nanoseconds(report.lag.ValueAtPercentile(options_.lag_percentile));
  if (report.lag_at_percentile > options_.lag_bound) {
    report.valid = false;
    char pct[16];
    std::snprintf(pct, sizeof pct, "p%g", options_.lag_percentile);
    report.invalid_reason = "generator fell behind the wall clock: " + std::string(pct) +
                            " executor lag " + report.lag_at_percentile.ToString() +
                            " exceeds the bound " + options_.lag_bound.ToString();
  }
  return report;
}

}  // namespace citybed::sim
