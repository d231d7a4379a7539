// World: the simulated city platform a Scenario describes, built once before a run — regions
// with their network paths to the broker, the source groups (one kind in one region) with
// their per-source state, and the user groups with their request mixes.
//
// Memory is the point of the layout: a source costs its model's state block (a few bytes)
// plus a 4-byte report counter; its entity id, place and random stream are derived from its
// index when needed. The World is not thread-safe; one run's thread owns it.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/arrivals.h"
#include "citybed/models/scenario.h"
#include "citybed/models/sources.h"
#include "citybed/sim/network.h"
#include "citybed/sim/random.h"

namespace citybed::models {

struct RegionRuntime {
  const RegionSpec* spec = nullptr;
  double radius_km = 1;
  std::string tenant;      // NGSILD-Tenant for this region's requests ("" = default)
  int gateway = -1;        // network node
  sim::Route path;         // region -> broker: access link + backbone (symmetric back)
};

class World;

// The events' rate multiplier for one (region, domain): 1 + (factor − 1) × intensity, over
// every event touching the region.
class EventScale final : public RateScale {
 public:
  EventScale() = default;
  EventScale(const World* world, int region, std::string domain) : world_(world), region_(region), domain_(std::move(domain)) {}
  double At(int64_t t_ns) const override;
  double Max() const override;
  int64_t NextRise(int64_t t_ns) const override;
  bool active() const { return world_ != nullptr; }

 private:
  const World* world_ = nullptr;
  int region_ = 0;
  std::string domain_;
};

struct SourceGroup {
  const SourceModel* model = nullptr;
  const SourceSpec* spec = nullptr;
  int region = 0;
  uint32_t count = 0;
  uint64_t first_global = 0;      // global index of the group's first source
  uint64_t key = 0;               // stream key of the group
  std::vector<uint8_t> state;     // count * model->state_size()
  std::vector<uint32_t> reports;  // reports made, per source
  EventScale events;              // inactive when no event touches the group
  const RateScale* scale() const { return events.active() ? &events : nullptr; }

  void* StateOf(uint32_t i) { return state.empty() ? nullptr : state.data() + i * model->state_size(); }
};

struct UserGroup {
  const UserSpec* spec = nullptr;
  int region = 0;
  uint32_t count = 0;
  uint64_t key = 0;
  sim::Discrete mix;  // over spec->requests by weight (subscriptions excluded: made at start)
};

// Requests per second of simulated time the scenario offers the broker at one instant: the
// sources' reports, the users' actions (a paged query counts its pages) and the events' flash
// crowds (their joining requests spread over the ramp). Expected values of the arrival
// processes, not a draw: what capacity planning starts from.
struct OfferedLoad {
  double sources = 0, users = 0, crowds = 0;
  double total() const { return sources + users + crowds; }
};

class World {
 public:
  static Expected<std::unique_ptr<World>> Build(const Scenario& scenario);

  const Scenario& scenario() const { return *scenario_; }
  std::vector<RegionRuntime>& regions() { return regions_; }
  std::vector<SourceGroup>& sources() { return sources_; }
  std::vector<UserGroup>& users() { return users_; }
  sim::Network& network() { return network_; }
  uint64_t total_sources() const { return total_sources_; }
  uint64_t total_users() const { return total_users_; }

  // The random stream of one report of one source: independent of every other source,
  // and of every other report of the same source.
  static sim::Rng ReportRng(const SourceGroup& g, uint32_t source, uint32_t report) {
    return sim::Rng(sim::Mix64(g.key ^ sim::Mix64((uint64_t{source} << 32) | report)));
  }
  // The context of a source for a report at simulated time `t_ns`.
  SourceContext Context(const SourceGroup& g, uint32_t source, int64_t t_ns) const;
  // A place inside a region, uniform over its disk, from the given stream.
  LonLat RandomPlace(int region, sim::Rng& rng) const;
  // Source groups in `region` whose entities have type `type` (for users' targets).
  const std::vector<int>& GroupsOfType(int region, const std::string& type) const;
  // Local hour of day [0, 24) at simulated time t (the scenario's start date + t).
  double HourAt(int64_t t_ns) const;
  // The strongest event under way in a region at time t.
  EventState EventAt(int region, int64_t t_ns) const;
  const std::vector<const EventSpec*>& EventsIn(int region) const { return events_[static_cast<size_t>(region)]; }
  // Gravity model of cross-region interest: the region a user of `from` asks about.
  int TargetRegion(int from, sim::Rng& rng) const;
  // The origin-destination matrix (row i: probability that a request of region i is about j).
  const Eigen::MatrixXd& TrafficMatrix() const { return od_; }
  int64_t UnixMicrosAt(int64_t t_ns) const { return scenario_->start_unix_us + t_ns / 1000; }
  // Expected request rate at time t (see OfferedLoad).
  OfferedLoad OfferedAt(int64_t t_ns) const;

 private:
  const Scenario* scenario_ = nullptr;
  std::vector<RegionRuntime> regions_;
  std::vector<SourceGroup> sources_;
  std::vector<UserGroup> users_;
  sim::Network network_;
  uint64_t total_sources_ = 0, total_users_ = 0;
  std::vector<std::vector<std::pair<std::string, std::vector<int>>>> by_type_;  // [region] -> (type, groups)
  double start_hour_ = 0;
  std::vector<std::vector<const EventSpec*>> events_;  // by region
  Eigen::MatrixXd od_;
  std::vector<sim::Discrete> od_rows_;
};

// Number of members of a group: `count`, or `per_10k` per 10,000 inhabitants (rounded).
uint32_t GroupSize(int64_t count, double per_10k, double population);

}  // namespace citybed::models
