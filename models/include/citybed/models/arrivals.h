// Arrival processes: when the next report or request of one source or user happens.
//
//   periodic  gaps of `period` ± jitter/2 (uniform), the first at the stationary phase
//   poisson   exponential gaps with mean 1/rate
// The rate is modulated over time by the product of the diurnal profile (by local hour), the
// recurring burst, and an optional RateScale (events, decaying crowds). A periodic process runs
// in operational time — a gap ends when the factor's integral reaches period ± jitter/2 — so a
// rise in the rate shortens the gap under way; Poisson arrivals are thinned from an upper bound
// of the factor (Lewis and Shedler). Both are exact for a time-varying rate (the periodic one up
// to a piecewise-linear factor within a minute). Pure functions of the stream they draw from.
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
  // members that report at an event's start (NextGap's report_at_rise) cut their gap there.
  virtual int64_t NextRise(int64_t t_ns) const = 0;
};

// The combined rate factor at time t (local hour `hour`): profile × burst × scale.
double RateFactor(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale = nullptr);
// Expected events per second per member at time t.
double RateAt(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale = nullptr);

// Offset of a member's first event from the start.
sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start, const RateScale* scale = nullptr,
                          bool report_at_rise = false);
// Gap from an event at time `now` (local hour `hour_now`) to the next one. With
// `report_at_rise`, a periodic member whose next event would come after the scale's next rise
// (an event beginning) has one within the first minute after the rise instead.
sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, int64_t now_ns, double hour_now,
                      const RateScale* scale = nullptr, bool report_at_rise = false);

}  // namespace citybed::models
