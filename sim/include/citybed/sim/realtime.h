// RealtimeExecutor: runs an Engine paced to the wall clock, on the thread that runs a
// Boost.Asio io_context, so that simulated behaviour and real I/O share one timeline.
//
//   wall(t) = wall_start + (t - sim_start) / speed        (speed = simulated s per wall s)
//
// - An event never runs before its wall due time. When the executor falls behind, events run
//   as soon as they can, in simulated-time order; how late each ran (its *lag*) is recorded.
// - I/O handlers run on the same thread, between events. A handler brings its result into the
//   simulation with Inject(f): `f` is scheduled at the simulated time that corresponds to the
//   wall time of the completion (never before Now()).
// - Validity: the run is invalid when the lag at `lag_percentile` exceeds `lag_bound`. An
//   invalid run's measurements describe the generator, not the system under test; callers
//   must report it as invalid rather than as a result.
//
// - Timing: a wait is slept through a timer armed *ahead* of the due time, by how late timers
//   have recently woken (an idle virtual CPU wakes up late: hundreds of µs to milliseconds),
//   and the rest is spun, polling I/O. Waits shorter than the wake-ahead are spun outright, so
//   a generator issuing events every few microseconds neither oversleeps nor pays a timer per
//   event. The wake-ahead adapts between `min_wake_ahead` and `max_wake_ahead`; the CPU this
//   costs is reported (cpu_seconds, spin_seconds).
//
// Not thread-safe: the Engine, the io_context's run loop and this object share one thread.
// To stop from another thread (or a signal), post a call to Stop() to the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <string>
#include <utility>

#include "citybed/sim/engine.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/time.h"

namespace citybed::sim {

struct RealtimeOptions {
  double speed = 1.0;                          // simulated seconds per wall-clock second, > 0
  Duration lag_bound = Duration::Milliseconds(50);  // allowed lag at lag_percentile
  double lag_percentile = 99.0;
  // A timer is armed this much ahead of the due time, and the rest spun (polling I/O at most
  // every `spin_poll`): the wake-ahead follows the largest oversleep of the last 64 timer
  // wake-ups (times 1.5), kept within [min, max]. min = max = 0 disables spinning.
  std::chrono::nanoseconds min_wake_ahead{50'000};
  std::chrono::nanoseconds max_wake_ahead{2'000'000};
  std::chrono::nanoseconds spin_poll{20'000};
  // Spinning may take at most this share of the wall time (measured over 100 ms windows): when
  // events come so often that every wait is within the wake-ahead, the wake-ahead's ceiling is
  // halved (down to nothing: every wait then sleeps), so that the executor leaves the core to
  // others (an embedded broker shares the machine). Busy CPUs wake promptly, so little is lost.
  double spin_budget = 0.10;
};

struct RealtimeReport {
  bool valid = true;
  std::string invalid_reason;   // empty when valid
  bool stopped = false;         // ended by Stop() before the end time
  uint64_t events = 0;          // events run
  uint64_t injected = 0;        // events brought in by Inject()
  Duration wall_elapsed;
  LatencyHistogram lag;         // lag per event, nanoseconds
  Duration max_lag;
  Duration lag_at_percentile;
  double cpu_seconds = 0;        // CPU time of the executor's thread during the run
  double spin_seconds = 0;       // of the wall time, spent spinning towards due times
  Duration wake_ahead;           // the wake-ahead at the end of the run
  LatencyHistogram oversleep{4}; // how late timers woke up, ns
};

class RealtimeExecutor {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws std::invalid_argument if options.speed <= 0.
  RealtimeExecutor(Engine& engine, boost::asio::io_context& io, RealtimeOptions options);

  // Runs until simulated time `end` is reached on the wall clock, or Stop(). Returns the report.
  // The first call fixes the pacing origin (wall now ↔ engine.Now()).
  RealtimeReport RunUntil(Time end);

  // Ends RunUntil after the current event or handler. Call on the executor's thread.
  void Stop() { stop_ = true; }
  bool stopping() const { return stop_; }

  // Schedules `f` at the simulated time of the wall clock now (not before engine.Now()).
  template <class F>
  EventId Inject(F&& f) {
    ++injected_;
    Time t = WallToSim(Clock::now());
    if (t < engine_.Now()) t = engine_.Now();
    return engine_.ScheduleAt(t, std::forward<F>(f));
  }

  Time WallToSim(Clock::time_point wall) const;
  Clock::time_point SimToWall(Time t) const;
  const RealtimeOptions& options() const { return options_; }
  Engine& engine() { return engine_; }

 private:
  void ArmTimer(Clock::time_point due);

  Engine& engine_;
  boost::asio::io_context& io_;
  RealtimeOptions options_;
  void NoteOversleep(Clock::duration late, RealtimeReport& report);
  void NoteSpin(Clock::duration spun, Clock::time_point now);

  boost::asio::steady_timer timer_;
  Clock::time_point armed_for_{};
  Clock::duration wake_ahead_{};
  Clock::duration wake_ahead_cap_{};    // lowered while spinning exceeds its budget
  Clock::time_point window_start_{};    // the current 100 ms budget window
  Clock::duration window_spin_{};
  std::array<int64_t, 64> recent_oversleep_{};  // ns, a ring
  size_t oversleep_count_ = 0;
  bool timer_pending_ = false;
  bool started_ = false;
  Clock::time_point wall_origin_{};
  Time sim_origin_;
  bool stop_ = false;
  uint64_t injected_ = 0;
};

}  // namespace citybed::sim
