#include "citybed/models/placement.h"

#include <algorithm>
#include <numeric>

#include "citybed/models/arrivals.h"
#include "citybed/models/world.h"

namespace citybed::models {

std::vector<double> RegionDemand(const World& world, int samples) {
  std::vector<double> demand(world.regions().size(), 0.0);
  const Scenario& s = world.scenario();
  const int64_t span = s.duration.ns();
  samples = std::max(1, samples);
  for (int k = 0; k < samples; ++k) {
    const int64_t t = samples == 1 ? 0 : span / (samples - 1) * k;
    const double hour = world.HourAt(t);
    for (const SourceGroup& g : world.sources()) {
      demand[static_cast<size_t>(g.region)] += g.count * RateAt(g.spec->arrival, t, hour, g.scale());
    }
    for (const UserGroup& g : world.users()) {
      const auto per_action = RequestsPerAction(g.spec->requests);
      const double actions = g.count * RateAt(g.spec->arrival, t, hour);
      demand[static_cast<size_t>(g.region)] += actions * std::accumulate(per_action.begin(), per_action.end(), 0.0);
    }
    for (const CrowdGroup& c : world.crowds()) {
      const int64_t since = t - c.event->at.ns();
      if (since < 0) continue;
      const double ramp = c.event->crowd.ramp.seconds();
      const double joined = ramp > 0 ? std::min(1.0, static_cast<double>(since) * 1e-9 / ramp) : 1.0;
      const auto per_action = RequestsPerAction(c.event->crowd.requests);
      demand[static_cast<size_t>(c.region)] +=
          c.count * joined * RateAt(c.arrival, t, hour, &c.scale) * std::accumulate(per_action.begin(), per_action.end(), 0.0);
    }
  }
  for (double& d : demand) d /= samples;
  return demand;
}

std::vector<int> PlaceRegions(const World& world, int instances, Placement placement) {
  const size_t n = world.regions().size();
  const int k = std::max(1, instances);
  std::vector<int> of(n, 0);
  if (placement == Placement::kRoundRobin || k == 1) {
    for (size_t i = 0; i < n; ++i) of[i] = static_cast<int>(i % static_cast<size_t>(k));
    return of;
  }
  const std::vector<double> demand = RegionDemand(world);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Heaviest first; ties by region index, so that a placement is the same on every machine.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return demand[a] > demand[b]; });
  std::vector<double> load(static_cast<size_t>(k), 0.0);
  for (size_t r : order) {
    const size_t least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    of[r] = static_cast<int>(least);
    load[least] += demand[r];
  }
  return of;
}

std::vector<double> InstanceShares(const World& world, const std::vector<int>& instance_of, int instances) {
  const std::vector<double> demand = RegionDemand(world);
  std::vector<double> share(static_cast<size_t>(std::max(1, instances)), 0.0);
  double total = 0;
  for (size_t r = 0; r < demand.size() && r < instance_of.size(); ++r) {
    share[static_cast<size_t>(instance_of[r])] += demand[r];
    total += demand[r];
  }
  if (total > 0) {
    for (double& x : share) x /= total;
  }
  return share;
}

}  // namespace citybed::models
