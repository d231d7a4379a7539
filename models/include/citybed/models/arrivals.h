// Arrival processes: when the next report or request of one source or user happens.
//
//   periodic  gaps of `period` ± jitter/2 (uniform), the first at a uniform phase in [0, period)
//   poisson   exponential gaps with mean 1/rate
// The rate is modulated over time by the product of the diurnal profile (by local hour), the
// recurring burst, and an optional RateScale (events, decaying crowds). Periodic gaps shrink as
// period / factor(now); Poisson arrivals are thinned from an upper bound of the factor (Lewis and
// Shedler), which is exact for a time-varying rate. Pure functions of the stream they draw from.
#pragma once

#include "citybed/models/scenario.h"
#include "citybed/sim/random.h"
#include "citybed/sim/time.h"

namespace citybed::models {

// An extra, time-dependent rate multiplier with a known upper bound.
class RateScale {
 public:
  virtual ~RateScale() = default;
  virtual double At(int64_t t_ns) const = 0;
  virtual double Max() const = 0;
  // The first time after t at which the factor starts to rise (an event begins), or INT64_MAX:
  // a periodic member's long gap is cut there so that it reacts to the change.
  virtual int64_t NextRise(int64_t t_ns) const = 0;
};

// The combined rate factor at time t (local hour `hour`): profile × burst × scale.
double RateFactor(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale = nullptr);
// Expected events per second per member at time t.
double RateAt(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale = nullptr);

// Offset of a member's first event from the start.
sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start, const RateScale* scale = nullptr);
// Gap from an event at time `now` (local hour `hour_now`) to the next one.
sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, int64_t now_ns, double hour_now,
                      const RateScale* scale = nullptr);

}  // namespace citybed::models
