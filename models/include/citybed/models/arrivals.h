// Arrival processes: when the next report or request of one source or user happens.
//
//   periodic  gaps of `period` ± jitter/2 (uniform), the first at a uniform phase in [0, period)
//   poisson   exponential gaps with mean 1/rate
// With a diurnal profile the rate follows ProfileFactor(hour): periodic gaps shrink as
// period / factor(now); Poisson arrivals are thinned from the profile's peak rate (Lewis and
// Shedler), which is exact for a time-varying rate. Pure functions of the stream they draw from.
#pragma once

#include "citybed/models/scenario.h"
#include "citybed/sim/random.h"
#include "citybed/sim/time.h"

namespace citybed::models {

// Offset of a member's first event from the start.
sim::Duration FirstOffset(const ArrivalSpec& a, sim::Rng& rng, double hour_at_start);
// Gap from an event at local hour `hour_now` to the next one.
sim::Duration NextGap(const ArrivalSpec& a, sim::Rng& rng, double hour_now);
// Expected events per second per member at local hour `hour`.
double RateAt(const ArrivalSpec& a, double hour);

}  // namespace citybed::models
