#include "citybed/models/arrivals.h"

#include <algorithm>
#include <cmath>

#include "citybed/models/sources.h"

namespace citybed::models {

double RateAt(const ArrivalSpec& a, double hour) {
  const double base = a.process == ArrivalSpec::Process::kPoisson ? a.rate : 1.0 / a.period.seconds();
  return base * ProfileFactor(a.profile, hour);
}

sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, double hour_now) {
  if (a.process == ArrivalSpec::Process::kPeriodic) {
    const double factor = std::max(1e-3, ProfileFactor(a.profile, hour_now));
    double gap = a.period.seconds() / factor;
    if (a.jitter.ns() > 0) gap += (rng.Uniform01() - 0.5) * a.jitter.seconds();
    return sim::Duration::Seconds(std::max(gap, 1e-6));
  }
  // Poisson, thinned from the peak rate when the rate varies over the day.
  if (a.profile.empty() || a.profile == "flat") return sim::Duration::Seconds(sim::Exponential{1.0 / a.rate}(rng));
  const double peak = a.rate * ProfilePeak(a.profile);
  double t = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    t += sim::Exponential{1.0 / peak}(rng);
    const double accept = a.rate * ProfileFactor(a.profile, hour_now + t / 3600.0) / peak;
    if (rng.Uniform01() < accept) break;
  }
  return sim::Duration::Seconds(t);
}

sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start) {
  if (a.process == ArrivalSpec::Process::kPeriodic) {
    const double factor = std::max(1e-3, ProfileFactor(a.profile, hour_at_start));
    return sim::Duration::Seconds(rng.Uniform01() * a.period.seconds() / factor);
  }
  return NextGap(a, rng, hour_at_start);  // memoryless: the first gap is a gap
}

}  // namespace citybed::models
