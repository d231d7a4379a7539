#include "citybed/models/arrivals.h"

#include <algorithm>
#include <climits>
#include <cmath>

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

sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, int64_t now_ns, double hour_now, const RateScale* scale) {
  const bool varies = !(a.profile.empty() || a.profile == "flat") || a.burst.factor != 1 || scale != nullptr;
  if (a.process == ArrivalSpec::Process::kPeriodic) {
    const double factor = std::max(1e-6, RateFactor(a, now_ns, hour_now, scale));
    double gap = a.period.seconds() / factor;
    if (a.jitter.ns() > 0) gap += (rng.Uniform01() - 0.5) * a.jitter.seconds() / factor;
    if (scale != nullptr) {
      const int64_t rise = scale->NextRise(now_ns);
      if (rise != INT64_MAX && static_cast<double>(rise - now_ns) * 1e-9 < gap) {
        // Cut at the rise, then a random phase of the faster period that follows it.
        const double after = a.period.seconds() / std::max(1e-6, RateFactor(a, rise, hour_now + (rise - now_ns) / 3.6e12, scale));
        gap = static_cast<double>(rise - now_ns) * 1e-9 + rng.Uniform01() * after;
      }
    }
    return sim::Duration::Seconds(std::max(gap, 1e-6));
  }
  if (!varies) return sim::Duration::Seconds(sim::Exponential{1.0 / a.rate}(rng));
  // Thinning from the largest factor the rate can reach.
  const double bound = ProfilePeak(a.profile) * std::max(1.0, a.burst.factor) * (scale ? std::max(1.0, scale->Max()) : 1.0);
  const double peak = a.rate * bound;
  double t = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    t += sim::Exponential{1.0 / peak}(rng);
    const int64_t at = now_ns + static_cast<int64_t>(t * 1e9);
    const double accept = RateFactor(a, at, hour_now + t / 3600.0, scale) / bound;
    if (rng.Uniform01() < accept) break;
  }
  return sim::Duration::Seconds(t);
}

sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start, const RateScale* scale) {
  if (a.process == ArrivalSpec::Process::kPeriodic) {
    const double factor = std::max(1e-6, RateFactor(a, 0, hour_at_start, scale));
    return sim::Duration::Seconds(rng.Uniform01() * a.period.seconds() / factor);
  }
  return NextGap(a, rng, 0, hour_at_start, scale);  // memoryless: the first gap is a gap
}

}  // namespace citybed::models
