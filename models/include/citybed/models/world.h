// World: the simulated city platform a Scenario describes, built once before a run — regions
// with their network paths to the broker, the source groups (one kind in one region) with
// their per-source state, and the user groups with their request mixes.
//
// Memory is the point of the layout: a source costs its model's state block (a few bytes)
// plus a 4-byte report counter; its entity id, place and random stream are derived from its
// index when needed. The World is not thread-safe; one run's thread owns it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/arrivals.h"
#include "citybed/models/federation.h"
#include "citybed/models/observer.h"
#include "citybed/models/scenario.h"
#include "citybed/models/sources.h"
#include "citybed/sim/network.h"
#include "citybed/sim/random.h"

namespace citybed::models {

struct RegionRuntime {
  const RegionSpec* spec = nullptr;
  double radius_km = 1;
  std::string tenant;      // the tenant of this region's requests ("" = default; V2Tenant under NGSI-v2)
  BrokerApi api = BrokerApi::kNgsiLd;  // what its platform speaks (RegionSpec::api, else the broker's)
  int gateway = -1;        // network node
  sim::Route path;         // region -> its broker: access link + backbone (symmetric back)
  sim::Duration access_latency;   // the access link alone (gateway side)
  double access_s_per_byte = 0;
  double access_loss = 0;
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

// The last write of a source as it crossed the simulated uplink: which observation (low 32
// bits of its observedAt in µs) and how long the uplink took (µs, retransmissions included).
// Notification freshness uses it to charge the write's real uplink, not a nominal one.
struct LastWrite {
  uint32_t observed_us_low = 0;
  uint32_t uplink_us = UINT32_MAX;  // UINT32_MAX: none yet
};

struct SourceGroup {
  const SourceModel* model = nullptr;
  const SourceSpec* spec = nullptr;
  int region = 0;
  uint32_t count = 0;
  uint32_t first_index = 0;       // number of the group's first source in its entity ids
  uint64_t first_global = 0;      // global index of the group's first source
  uint64_t key = 0;               // stream key of the group
  std::vector<uint8_t> state;     // count * model->state_size()
  std::vector<uint32_t> reports;  // reports made, per source
  std::vector<LastWrite> last_write;  // per source
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

// A flash crowd: the users one event brings to one region. Members join uniformly over the
// crowd's ramp and make the crowd's subscriptions as they join; from then on each acts as a
// Poisson process at `crowd.rate` decaying from the event's start, drawing a request from the
// mix of the crowd's other requests.
struct CrowdGroup {
  const EventSpec* event = nullptr;
  int region = 0;
  uint32_t count = 0;
  uint64_t key = 0;
  ArrivalSpec arrival;  // Poisson at crowd.rate
  DecayScale scale{0, 1};
  sim::Discrete mix;    // over the crowd's requests (subscriptions weigh 0)
  bool has_mix = false;
};

// The random stream of one draw of one member (a source, a user, a crowd member) of a group,
// named by its purpose and a counter: independent of every other member, purpose and counter.
inline sim::Rng MemberRng(uint64_t group_key, uint32_t member, std::string_view purpose, uint64_t counter = 0) {
  return sim::Rng(sim::Mix64(group_key ^ sim::Mix64(sim::HashName(purpose) ^ (uint64_t{member} << 32)) ^
                             sim::Mix64(counter + 0x632be59bd9b4e019ULL)));
}

// What one action of a mix of requests sends, on average, per operation: a request drawn by
// weight (a paged query counts its pages). Subscriptions are not drawn by actions: they are
// made once (users at the start, crowd members on joining). The one place where "what a kind
// sends" is defined: the World's offered load and the workload both use it.
std::array<double, static_cast<size_t>(OpKind::kCount)> RequestsPerAction(const std::vector<RequestSpec>& requests);
OpKind OpOf(RequestSpec::Op op);

// Requests per second of simulated time the scenario offers the broker at one instant: the
// sources' reports, the users' actions (a paged query counts its pages) and the events' flash
// crowds (their joining requests spread over the ramp). Expected values of the arrival
// processes, not a draw: what capacity planning starts from.
struct OfferedLoad {
  double sources = 0, users = 0, crowds = 0;
  std::array<double, static_cast<size_t>(OpKind::kCount)> by_op{};  // the same total, per operation
  std::map<std::string, double> by_kind;  // per source kind, user kind and "crowd:<event kind>"
  double total() const { return sources + users + crowds; }
};

class World {
 public:
  static Expected<std::unique_ptr<World>> Build(const Scenario& scenario);

  const Scenario& scenario() const { return *scenario_; }
  std::vector<RegionRuntime>& regions() { return regions_; }
  const std::vector<RegionRuntime>& regions() const { return regions_; }
  std::vector<SourceGroup>& sources() { return sources_; }
  std::vector<UserGroup>& users() { return users_; }
  std::vector<CrowdGroup>& crowds() { return crowds_; }
  const std::vector<SourceGroup>& sources() const { return sources_; }
  const std::vector<UserGroup>& users() const { return users_; }
  const std::vector<CrowdGroup>& crowds() const { return crowds_; }
  sim::Network& network() { return network_; }
  uint64_t total_sources() const { return total_sources_; }
  uint64_t total_users() const { return total_users_; }

  // The random stream of one report of one source: independent of every other source,
  // and of every other report of the same source.
  static sim::Rng ReportRng(const SourceGroup& g, uint32_t source, uint32_t report) {
    return MemberRng(g.key, source, "report", report);
  }
  // The entity id of a source.
  std::string SourceEntityId(const SourceGroup& g, uint32_t source) const;
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
  // `other`: never `from` itself (the gravity model over the other regions; `from` when it is
  // the only region).
  int TargetRegion(int from, sim::Rng& rng, bool other = false) const;
  // The origin-destination matrix (row i: probability that a request of region i is about j).
  const std::vector<std::vector<double>>& TrafficMatrix() const { return od_; }
  int64_t UnixMicrosAt(int64_t t_ns) const { return scenario_->start_unix_us + t_ns / 1000; }
  // Expected request rate at time t (see OfferedLoad).
  OfferedLoad OfferedAt(int64_t t_ns) const;
  // Subscriptions the users make at the start (crowds' subscriptions are in OfferedAt).
  uint64_t SubscriptionsAtStart() const;
  // The source group and member that write entity `id`, if it is one of this world's.
  std::optional<std::pair<int, uint32_t>> FindSource(std::string_view id) const;
  // The backbone hub a region attaches to (an index into the backbone's hubs), -1 without a
  // generated backbone; and where a requester stands towards the region it asks about.
  int BlockOf(int region) const { return block_of_.empty() ? -1 : block_of_[static_cast<size_t>(region)]; }
  PairClass Classify(int region, int about) const {
    if (region == about) return PairClass::kLocal;
    const int a = BlockOf(region), b = BlockOf(about);
    return a >= 0 && a == b ? PairClass::kBlock : PairClass::kNational;
  }
  // The fault of broker site `site` in force at `t` (scenario "faults"; federation only), or null.
  const FaultSpec* FaultSpecAt(int site, sim::Time t) const {
    if (site < 0 || static_cast<size_t>(site) >= faults_.size()) return nullptr;
    for (const FaultSpec* f : faults_[static_cast<size_t>(site)]) {
      if (f->At(t)) return f;
    }
    return nullptr;
  }
  // The broker sites of a federated scenario (null: one broker serves every region).
  const Federation* federation() const { return federation_.get(); }
  // The path of a request of `region`'s users to broker site `site` (-1: the region's own broker).
  const sim::Route& RouteOf(int region, int site) const {
    if (site < 0 || !federation_) return regions_[static_cast<size_t>(region)].path;
    return federation_->RegionToSite(region, site);
  }

 private:
  const Scenario* scenario_ = nullptr;
  std::vector<RegionRuntime> regions_;
  std::vector<SourceGroup> sources_;
  std::vector<UserGroup> users_;
  std::vector<CrowdGroup> crowds_;
  sim::Network network_;
  std::unique_ptr<Federation> federation_;
  std::vector<int> block_of_;  // by region
  std::vector<std::vector<const FaultSpec*>> faults_;  // by site
  uint64_t total_sources_ = 0, total_users_ = 0;
  std::vector<std::vector<std::pair<std::string, std::vector<int>>>> by_type_;  // [region] -> (type, groups)
  double start_hour_ = 0;
  std::vector<std::vector<const EventSpec*>> events_;  // by region
  std::vector<std::vector<double>> od_;  // [i][j]
  std::vector<sim::Discrete> od_rows_;
  std::vector<sim::Discrete> od_rows_other_;  // the same without the diagonal
};

// Number of members of a group: `count`, or `per_10k` per 10,000 inhabitants (rounded).
uint32_t GroupSize(int64_t count, double per_10k, double population);

}  // namespace citybed::models
