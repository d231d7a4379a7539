// Placement: which broker instance serves each region when a scenario spreads its regions over
// several instances of one broker (broker.instances, `--instances`; docs/capacity.md). A request
// goes to the instance of the region it is about — in emulation (HttpBrokerPort) and in model
// mode (ModelBrokerPort) alike, so both answer for the same split.
//
// - round-robin: region i on instance i mod K (regions in the scenario's order).
// - balanced: regions in decreasing order of demand, each on the instance with the least demand
//   so far (longest processing time first: the busiest instance carries at most 4/3 of the best
//   split's busiest, and at most its largest region more than the mean). A region's demand is
//   what RegionDemand gives, averaged over the run's window.
#pragma once

#include <vector>

#include "citybed/models/scenario.h"

namespace citybed::models {

class World;

// Requests per simulated second of the region's own sources, users and crowds, averaged over
// `samples` instants spread over [warm-up start, end of the duration]: expected values, as
// World::OfferedAt gives them. A user's requests count for its home region.
std::vector<double> RegionDemand(const World& world, int samples = 24);

// The instance of each region (by region index), 0 ≤ instance < max(1, instances).
std::vector<int> PlaceRegions(const World& world, int instances, Placement placement);

// Per instance: its regions' share of the demand (sums to 1 when there is any demand).
std::vector<double> InstanceShares(const World& world, const std::vector<int>& instance_of, int instances);

}  // namespace citybed::models
