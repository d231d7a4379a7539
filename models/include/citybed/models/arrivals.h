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

#include <algorithm>
#include <climits>
#include <cmath>

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
  // An upper bound of the factor from time t on (thinning adapts its majorant to it, so a
  // decaying rate costs a bounded number of candidates). Max() unless a scale knows better.
  virtual double MaxFrom(int64_t /*t_ns*/) const { return Max(); }
  // The first time after t at which the factor starts to rise (an event begins), or INT64_MAX:
  // members that report at an event's start (NextGap's report_at_rise) cut their gap there.
  virtual int64_t NextRise(int64_t t_ns) const = 0;
};

// A decaying activity after a start time: exp(-(t - start) / decay), 0 before the start (a
// flash crowd's rate). MaxFrom(t) is the factor at max(t, start): it only decays.
class DecayScale final : public RateScale {
 public:
  DecayScale(int64_t start_ns, double decay_s) : start_ns_(start_ns), decay_s_(decay_s) {}
  double At(int64_t t_ns) const override {
    return t_ns < start_ns_ ? 0.0 : std::exp(-static_cast<double>(t_ns - start_ns_) * 1e-9 / decay_s_);
  }
  double Max() const override { return 1; }
  double MaxFrom(int64_t t_ns) const override { return At(std::max(t_ns, start_ns_)); }
  int64_t NextRise(int64_t) const override { return INT64_MAX; }

 private:
  int64_t start_ns_;
  double decay_s_;
};

// The combined rate factor at time t (local hour `hour`): profile × burst × scale.
double RateFactor(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale = nullptr);
// Expected events per second per member at time t.
double RateAt(const ArrivalSpec& a, int64_t t_ns, double hour, const RateScale* scale = nullptr);

// No event before the horizon: FirstOffset and NextGap return this (Duration::Max()).
inline constexpr sim::Duration kNever = sim::Duration::Max();

// Offset of a member's first event from the start, or kNever when it would come at or after
// `horizon_ns` (the run's end).
sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start, const RateScale* scale = nullptr,
                          bool report_at_rise = false, int64_t horizon_ns = INT64_MAX);
// Gap from an event at time `now` (local hour `hour_now`) to the next one, or kNever when the
// next one would come at or after `horizon_ns`. With `report_at_rise`, a periodic member whose
// next event would come after the scale's next rise (an event beginning) has one within the
// first minute after the rise instead.
//
// Cost is bounded whatever the rate: a periodic gap integrates the factor in steps of at most a
// minute and stops at the horizon; Poisson thinning draws candidates from a majorant that
// adapts to the scale (RateScale::MaxFrom) and stops at the horizon, so a rate that decays to
// nothing costs a few draws, not a loop, and a time is never computed past the horizon.
sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, int64_t now_ns, double hour_now,
                      const RateScale* scale = nullptr, bool report_at_rise = false, int64_t horizon_ns = INT64_MAX);

}  // namespace citybed::models
