// Time and Duration: simulated time as distinct strong types over int64 nanoseconds.
//
//   Time      an instant, nanoseconds since the scenario start (Time{} is the start).
//   Duration  a signed span of time.
//   Time + Duration -> Time,  Time - Time -> Duration,  Time + Time does not compile.
//
// std::chrono durations convert implicitly, so `using namespace std::chrono_literals;
// engine.ScheduleIn(250ms, f);` reads naturally. Range: ±292 years. Value types, constexpr.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "citybed/common/expected.h"

namespace citybed::sim {

class Duration {
 public:
  constexpr Duration() = default;
  template <class Rep, class Period>
  constexpr Duration(std::chrono::duration<Rep, Period> d)  // NOLINT: implicit on purpose
      : ns_(std::chrono::round<std::chrono::nanoseconds>(d).count()) {}

  static constexpr Duration Nanoseconds(int64_t n) { return Duration(n, 0); }
  static constexpr Duration Microseconds(double us) { return FromDouble(us * 1e3); }
  static constexpr Duration Milliseconds(double ms) { return FromDouble(ms * 1e6); }
  static constexpr Duration Seconds(double s) { return FromDouble(s * 1e9); }
  static constexpr Duration Minutes(double m) { return FromDouble(m * 60e9); }
  static constexpr Duration Hours(double h) { return FromDouble(h * 3600e9); }
  static constexpr Duration Days(double d) { return FromDouble(d * 86400e9); }
  static constexpr Duration Zero() { return Duration(); }
  static constexpr Duration Max() { return Duration(std::numeric_limits<int64_t>::max(), 0); }

  // Parses "250ms", "5s", "15m", "24h", "1d", "1h30m", "1.5s" (see common/units.h).
  static Expected<Duration> Parse(std::string_view text);

  constexpr int64_t ns() const { return ns_; }
  // Divided, not multiplied by 1e-9: 60 s is exactly 60.0, not 60.00000000000001.
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }
  constexpr double millis() const { return static_cast<double>(ns_) / 1e6; }
  constexpr double micros() const { return static_cast<double>(ns_) / 1e3; }
  std::chrono::nanoseconds chrono() const { return std::chrono::nanoseconds(ns_); }
  std::string ToString() const;  // "250ms", "1.5s"

  constexpr Duration operator-() const { return Duration(-ns_, 0); }
  constexpr Duration& operator+=(Duration d) { ns_ += d.ns_; return *this; }
  constexpr Duration& operator-=(Duration d) { ns_ -= d.ns_; return *this; }
  friend constexpr Duration operator+(Duration a, Duration b) { return Duration(a.ns_ + b.ns_, 0); }
  friend constexpr Duration operator-(Duration a, Duration b) { return Duration(a.ns_ - b.ns_, 0); }
  friend constexpr Duration operator*(Duration a, double k) { return FromDouble(static_cast<double>(a.ns_) * k); }
  friend constexpr Duration operator*(double k, Duration a) { return a * k; }
  friend constexpr Duration operator*(Duration a, int64_t k) { return Duration(a.ns_ * k, 0); }
  friend constexpr Duration operator/(Duration a, double k) { return FromDouble(static_cast<double>(a.ns_) / k); }
  friend constexpr double operator/(Duration a, Duration b) {
    return static_cast<double>(a.ns_) / static_cast<double>(b.ns_);
  }
  friend constexpr Duration operator%(Duration a, Duration b) { return Duration(a.ns_ % b.ns_, 0); }
  friend constexpr auto operator<=>(Duration, Duration) = default;

 private:
  constexpr Duration(int64_t ns, int) : ns_(ns) {}
  static constexpr Duration FromDouble(double ns) {
    return Duration(static_cast<int64_t>(ns < 0 ? ns - 0.5 : ns + 0.5), 0);
  }
  int64_t ns_ = 0;
};

class Time {
 public:
  constexpr Time() = default;
  static constexpr Time FromNs(int64_t ns) { return Time(ns); }
  static constexpr Time Start() { return Time(); }
  static constexpr Time Max() { return Time(std::numeric_limits<int64_t>::max()); }
  static constexpr Time FromSeconds(double s) { return Time() + Duration::Seconds(s); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) / 1e9; }
  constexpr Duration SinceStart() const { return Duration::Nanoseconds(ns_); }
  std::string ToString() const;  // "t=1.5s"

  constexpr Time& operator+=(Duration d) { ns_ += d.ns(); return *this; }
  constexpr Time& operator-=(Duration d) { ns_ -= d.ns(); return *this; }
  friend constexpr Time operator+(Time t, Duration d) { return Time(t.ns_ + d.ns()); }
  friend constexpr Time operator+(Duration d, Time t) { return Time(t.ns_ + d.ns()); }
  friend constexpr Time operator-(Time t, Duration d) { return Time(t.ns_ - d.ns()); }
  friend constexpr Duration operator-(Time a, Time b) { return Duration::Nanoseconds(a.ns_ - b.ns_); }
  friend constexpr auto operator<=>(Time, Time) = default;

 private:
  constexpr explicit Time(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// Saturating addition for "now + timeout" where the timeout may be Duration::Max().
constexpr Time AddSaturating(Time t, Duration d) {
  if (d.ns() > 0 && t.ns() > std::numeric_limits<int64_t>::max() - d.ns()) return Time::Max();
  return t + d;
}

}  // namespace citybed::sim
