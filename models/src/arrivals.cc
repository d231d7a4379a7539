#include "citybed/models/arrivals.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>

#include "citybed/models/sources.h"

namespace citybed::models {

double RateFactor(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale) {
  double f = ProfileFactor(a.profile, hour);
  if (a.burst.factor != 1 && a.burst.Active(t_ns)) f *= a.burst.factor;
  if (scale != nullptr) f *= scale->At(t_ns);
  return f;
}

double RateAt(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale) {
  const double base = a.process == ArrivalSpec::Process::kPoisson ? a.rate : 1.0 / a.period.seconds();
  return base * RateFactor(a, t_ns, hour, scale);
}

namespace {

// A gap "beyond the horizon", in seconds.
constexpr double kNeverSeconds = std::numeric_limits<double>::infinity();

// Seconds from now to the horizon (infinite when there is none).
double SecondsTo(int64_t horizon_ns, int64_t now_ns) {
  return horizon_ns == INT64_MAX ? kNeverSeconds : static_cast<double>(horizon_ns - now_ns) * 1e-9;
}

// A gap in seconds as a Duration, or kNever when it reaches the horizon.
sim::Duration GapOrNever(double gap_s, double horizon_s) {
  if (!(gap_s < horizon_s) || !(gap_s < 9e9)) return kNever;  // also NaN; 9e9 s is 285 years
  return sim::Duration::Seconds(std::max(gap_s, 1e-6));
}

bool Varies(const ArrivalSpec& a, const RateScale* scale) {
  return !(a.profile.empty() || a.profile == "flat") || a.burst.factor != 1 || scale != nullptr;
}

// The next time after t at which the factor may jump: a burst edge or the scale's next rise.
int64_t NextJump(const ArrivalSpec& a, int64_t t_ns, const RateScale* scale) {
  int64_t next = scale != nullptr ? scale->NextRise(t_ns) : INT64_MAX;
  const BurstSpec& b = a.burst;
  if (b.factor != 1 && b.every.ns() > 0) {
    const int64_t phase = ((t_ns - b.offset.ns()) % b.every.ns() + b.every.ns()) % b.every.ns();
    const int64_t edge = phase < b.length.ns() ? b.length.ns() - phase : b.every.ns() - phase;
    next = std::min(next, t_ns + edge);
  }
  return next;
}

// Seconds until the factor's integral from now reaches `work` (operational time): a periodic
// process under a varying rate is a fixed-period process in operational time. Trapezoids of at
// most kStep seconds; within the last one the factor is taken as linear and solved exactly.
double OperationalGap(const ArrivalSpec& a, double work, int64_t now_ns, double hour_now, const RateScale* scale,
                      double horizon_s) {
  constexpr double kStep = 60;
  auto at = [&](double t) { return now_ns + static_cast<int64_t>(std::llround(t * 1e9)); };
  auto factor = [&](double t) {
    return std::max(1e-6, RateFactor(a, at(t), std::fmod(hour_now + t / 3600.0, 24.0), scale));
  };
  double t = 0, f0 = factor(0);
  int64_t jump = NextJump(a, now_ns, scale);
  // Every step is a minute long (or ends at a jump, of which there are few), so the loop is
  // bounded by the horizon: a day is 1,440 steps.
  while (work > 1e-9) {
    if (t >= horizon_s) return kNeverSeconds;
    double step = std::min(kStep, work / f0);
    // Steps end at jumps, and the factor just before a jump is the one of the step's start.
    bool to_jump = false;
    if (jump != INT64_MAX && static_cast<double>(jump - now_ns) * 1e-9 <= t + step) {
      step = std::max(0.0, static_cast<double>(jump - now_ns) * 1e-9 - t);
      to_jump = true;
    }
    const double f1 = to_jump ? f0 : factor(t + step);
    const double done = 0.5 * (f0 + f1) * step;
    if (done >= work) {
      const double half_slope = (f1 - f0) / (2 * step);  // f0 s + half_slope s^2 = work
      if (std::fabs(half_slope) < 1e-12) return t + work / f0;
      return t + (-f0 + std::sqrt(f0 * f0 + 4 * half_slope * work)) / (2 * half_slope);
    }
    work -= done;
    t += step;
    f0 = to_jump ? factor(t) : f1;
    if (to_jump) jump = NextJump(a, at(t), scale);
  }
  return t;
}

// For members that report at an event's start: a gap that would pass the scale's next rise
// ends within the first minute after it (or within the period, if shorter) instead.
double CutAtRise(double gap, const ArrivalSpec& a, int64_t now_ns, const RateScale* scale, sim::Rng& rng) {
  const int64_t rise = scale->NextRise(now_ns);
  const double to_rise = static_cast<double>(rise - now_ns) * 1e-9;
  if (rise == INT64_MAX || to_rise >= gap) return gap;
  return to_rise + rng.Uniform01() * std::min(60.0, a.period.seconds());
}

}  // namespace

sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, int64_t now_ns, double hour_now, const RateScale* scale,
                      bool report_at_rise, int64_t horizon_ns) {
  const bool varies = Varies(a, scale);
  const double horizon_s = SecondsTo(horizon_ns, now_ns);
  if (a.process == ArrivalSpec::Process::kPeriodic) {
    double work = a.period.seconds();
    if (a.jitter.ns() > 0) work += (rng.Uniform01() - 0.5) * a.jitter.seconds();
    double gap = varies ? OperationalGap(a, work, now_ns, hour_now, scale, horizon_s) : work;
    if (report_at_rise && scale != nullptr) gap = CutAtRise(gap, a, now_ns, scale, rng);
    return GapOrNever(gap, horizon_s);
  }
  if (!varies) return GapOrNever(sim::Exponential{1.0 / a.rate}(rng), horizon_s);
  // Thinning (Lewis and Shedler) from a majorant of the factor that is refreshed after every
  // rejected candidate: MaxFrom(t) bounds the scale from t on, so a decaying crowd's majorant
  // decays with it. Candidates past the horizon end the search.
  const double fixed = ProfilePeak(a.profile) * std::max(1.0, a.burst.factor);
  double t = 0;
  for (;;) {
    const int64_t from = now_ns + static_cast<int64_t>(t * 1e9);
    const double bound = fixed * (scale ? std::max(0.0, scale->MaxFrom(from)) : 1.0);
    if (!(bound > 0)) return kNever;  // the rate is zero from here on
    t += sim::Exponential{1.0 / (a.rate * bound)}(rng);
    if (!(t < horizon_s) || !(t < 9e9)) return kNever;
    const int64_t at = now_ns + static_cast<int64_t>(t * 1e9);
    const double accept = RateFactor(a, at, std::fmod(hour_now + t / 3600.0, 24.0), scale) / bound;
    if (rng.Uniform01() < accept) break;
  }
  return sim::Duration::Seconds(std::max(t, 1e-6));
}

sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start, const RateScale* scale,
                          bool report_at_rise, int64_t horizon_ns) {
  if (a.process == ArrivalSpec::Process::kPeriodic) {
    // The stationary phase, in operational time: a uniform point of the gap under way at the
    // start, where a longer gap is proportionally likelier to be under way (size-biased:
    // density ∝ g on [period − jitter/2, period + jitter/2]). A plain uniform phase of the
    // period would bunch the second reports of a jittered group around one period.
    const double horizon_s = SecondsTo(horizon_ns, 0);
    const double lo = a.period.seconds() - 0.5 * a.jitter.seconds(), hi = a.period.seconds() + 0.5 * a.jitter.seconds();
    const double gap = std::sqrt(lo * lo + rng.Uniform01() * (hi * hi - lo * lo));
    const double work = rng.Uniform01() * gap;
    double first = Varies(a, scale) ? OperationalGap(a, work, 0, hour_at_start, scale, horizon_s) : work;
    if (report_at_rise && scale != nullptr) first = CutAtRise(first, a, -1, scale, rng);  // an event at 0 counts
    return GapOrNever(first, horizon_s);
  }
  return NextGap(a, rng, 0, hour_at_start, scale, false, horizon_ns);  // memoryless: the first gap is a gap
}

}  // namespace citybed::models
