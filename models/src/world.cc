#include "citybed/models/world.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "citybed/models/generators.h"

namespace citybed::models {

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

uint32_t GroupSize(int64_t count, double per_10k, double population) {
  if (count > 0) return static_cast<uint32_t>(count);
  return static_cast<uint32_t>(std::llround(per_10k * population / 10000.0));
}

Expected<std::unique_ptr<World>> World::Build(const Scenario& s) {
  auto w = std::make_unique<World>();
  w->scenario_ = &s;
  const sim::RngStreams streams(s.seed);

  // Local time of day at the start, in the zone the start date was written in.
  const int64_t start_s = s.start_unix_us / 1000000;
  w->start_hour_ = std::fmod(static_cast<double>((start_s % 86400 + 86400) % 86400) / 3600.0 + s.utc_offset_hours + 24.0, 24.0);

  // Network: generated, as given, or a star around a broker at the first region's site.
  sim::Network& net = w->network_;
  int broker = -1;
  std::vector<int> generated_gateways;
  if (s.backbone) {
    auto b = BuildBackbone(*s.backbone, s.regions, net, generated_gateways);
    if (!b) return Unexpected(b.error());
    broker = *b;
  } else if (s.network.nodes.empty()) {
    broker = net.AddNode("broker", s.regions[0].lat, s.regions[0].lon);
    for (const RegionSpec& r : s.regions) {
      const int gw = net.AddNode("gw-" + r.id, r.lat, r.lon);
      if (auto ok = net.AddLink(gw, broker, std::nullopt, 10e9, 0); !ok) return Unexpected(ok.error());
    }
  } else {
    for (const NodeSpec& n : s.network.nodes) net.AddNode(n.id, n.lat, n.lon);
    for (const LinkSpec& l : s.network.links) {
      if (auto ok = net.AddLink(*net.Find(l.from), *net.Find(l.to), l.latency, l.bandwidth_bps, l.loss); !ok) {
        return Unexpected(Error::InvalidArgument("link " + l.from + " - " + l.to + ": " + ok.error().message));
      }
    }
    broker = *net.Find(s.network.broker_node);
  }
  net.ComputeRoutes(broker);

  for (const RegionSpec& r : s.regions) {
    RegionRuntime rt;
    rt.spec = &r;
    rt.radius_km = r.radius_km > 0 ? r.radius_km : std::max(0.5, std::sqrt(r.population / 3000.0 / kPi));
    if (s.broker.tenancy == "per-region") rt.tenant = r.id; else rt.tenant = s.broker.tenant;
    AccessSpec access = s.network.default_access;
    if (auto it = s.network.access.find(r.id); it != s.network.access.end()) access = it->second;
    if (s.backbone) rt.gateway = generated_gateways[static_cast<size_t>(&r - s.regions.data())];
    else rt.gateway = s.network.nodes.empty() ? *net.Find("gw-" + r.id) : *net.Find(access.node);
    const sim::Route& backbone = net.RouteTo(rt.gateway, broker);
    if (!backbone.reachable) {
      return Unexpected(Error::InvalidArgument("region " + r.id + ": no network path from " + net.name(rt.gateway) +
                                               " to the broker node " + net.name(broker)));
    }
    rt.path = backbone;
    const sim::Duration access_latency = access.latency.value_or(sim::Duration::Milliseconds(2));
    rt.path.propagation += access_latency;
    rt.path.serialization_s_per_byte += 8.0 / access.bandwidth_bps;
    rt.path.loss = 1 - (1 - backbone.loss) * (1 - access.loss);
    w->regions_.push_back(std::move(rt));
  }

  // Events, by region.
  w->events_.resize(s.regions.size());
  for (const EventSpec& e : s.events) {
    for (const std::string& id : e.regions) {
      const int ri = s.RegionIndex(id);
      if (ri >= 0) w->events_[static_cast<size_t>(ri)].push_back(&e);
    }
  }

  // Sources: one group per (spec, region).
  w->by_type_.resize(s.regions.size());
  for (const SourceSpec& spec : s.sources) {
    const SourceModel* model = FindSourceModel(spec.kind);
    for (size_t ri = 0; ri < s.regions.size(); ++ri) {
      const RegionSpec& r = s.regions[ri];
      if (!spec.regions.empty() && std::find(spec.regions.begin(), spec.regions.end(), r.id) == spec.regions.end()) continue;
      SourceGroup g;
      g.model = model;
      g.spec = &spec;
      g.region = static_cast<int>(ri);
      g.count = GroupSize(spec.count, spec.per_10k, r.population);
      if (g.count == 0) continue;
      // Groups of the same kind in the same region continue each other's numbering.
      uint32_t numbering = 0;
      for (const SourceGroup& other : w->sources_) {
        if (other.model == model && other.region == g.region) numbering += other.count;
      }
      g.first_global = w->total_sources_;
      g.key = sim::Mix64(streams.seed() ^ sim::HashName("source/" + spec.kind + "/" + r.id) ^ sim::Mix64(numbering + 1));
      g.state.assign(static_cast<size_t>(g.count) * model->state_size(), 0);
      g.reports.assign(g.count, 0);
      for (const EventSpec* e : w->events_[ri]) {
        if (e->rate_factors.count(std::string(model->domain()))) g.events = EventScale(w.get(), g.region, std::string(model->domain()));
      }
      w->total_sources_ += g.count;
      w->sources_.push_back(std::move(g));
      auto& types = w->by_type_[ri];
      const std::string type(model->entity_type());
      auto it = std::find_if(types.begin(), types.end(), [&](const auto& p) { return p.first == type; });
      if (it == types.end()) {
        types.emplace_back(type, std::vector<int>{});
        it = types.end() - 1;
      }
      it->second.push_back(static_cast<int>(w->sources_.size() - 1));
    }
  }
  // Initial states.
  for (SourceGroup& g : w->sources_) {
    for (uint32_t i = 0; i < g.count; ++i) {
      sim::Rng rng = ReportRng(g, i, 0xFFFFFFFFu);
      g.model->Init(w->Context(g, i, 0), g.StateOf(i), rng);
    }
  }

  // Users.
  for (const UserSpec& spec : s.users) {
    for (size_t ri = 0; ri < s.regions.size(); ++ri) {
      const RegionSpec& r = s.regions[ri];
      if (!spec.regions.empty() && std::find(spec.regions.begin(), spec.regions.end(), r.id) == spec.regions.end()) continue;
      UserGroup g;
      g.spec = &spec;
      g.region = static_cast<int>(ri);
      g.count = GroupSize(spec.count, spec.per_10k, r.population);
      if (g.count == 0) continue;
      g.key = sim::Mix64(streams.seed() ^ sim::HashName("user/" + spec.kind + "/" + r.id) ^
                         sim::Mix64(static_cast<uint64_t>(&spec - s.users.data()) + 1));
      std::vector<double> weights;
      bool any = false;
      for (const RequestSpec& req : spec.requests) {
        const bool recurring = req.op != RequestSpec::Op::kSubscribe;
        weights.push_back(recurring ? req.weight : 0.0);
        any = any || recurring;
      }
      if (any) g.mix = sim::Discrete(weights);
      w->total_users_ += g.count;
      w->users_.push_back(std::move(g));
    }
  }
  // Gravity model: interest of region i in region j ~ pop_i · pop_j / (d_ij + 10 km)^2, and
  // a region's own data weighs as if 10 km away. Rows are normalised to probabilities.
  const Eigen::Index n = static_cast<Eigen::Index>(s.regions.size());
  Eigen::VectorXd pop(n);
  Eigen::MatrixXd dist(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    pop(i) = s.regions[static_cast<size_t>(i)].population;
    for (Eigen::Index j = 0; j < n; ++j) {
      const RegionSpec& a = s.regions[static_cast<size_t>(i)];
      const RegionSpec& b = s.regions[static_cast<size_t>(j)];
      dist(i, j) = sim::Network::GreatCircleKm(a.lat, a.lon, b.lat, b.lon) + 10.0;
    }
  }
  const Eigen::MatrixXd gravity = (pop * pop.transpose()).cwiseQuotient(dist.cwiseProduct(dist));
  w->od_ = gravity.array().colwise() / gravity.rowwise().sum().array();
  for (Eigen::Index i = 0; i < n; ++i) {
    std::vector<double> row(static_cast<size_t>(n));
    for (Eigen::Index j = 0; j < n; ++j) row[static_cast<size_t>(j)] = w->od_(i, j);
    w->od_rows_.emplace_back(row);
  }
  return w;
}

int World::TargetRegion(int from, sim::Rng& rng) const {
  return static_cast<int>(od_rows_[static_cast<size_t>(from)](rng));
}

EventState World::EventAt(int region, int64_t t_ns) const {
  EventState best;
  for (const EventSpec* e : events_[static_cast<size_t>(region)]) {
    const double x = e->IntensityAt(t_ns);
    if (x > best.intensity) {
      best.kind = e->kind;
      best.intensity = x;
      best.elapsed_s = static_cast<double>(t_ns - e->at.ns()) * 1e-9;
    }
  }
  return best;
}

double EventScale::At(int64_t t_ns) const {
  double f = 1;
  for (const EventSpec* e : world_->EventsIn(region_)) {
    auto it = e->rate_factors.find(domain_);
    if (it != e->rate_factors.end()) f *= 1 + (it->second - 1) * e->IntensityAt(t_ns);
  }
  return f;
}

double EventScale::Max() const {
  double f = 1;
  for (const EventSpec* e : world_->EventsIn(region_)) {
    auto it = e->rate_factors.find(domain_);
    if (it != e->rate_factors.end()) f *= std::max(1.0, 1 + (it->second - 1) * e->intensity);
  }
  return f;
}

int64_t EventScale::NextRise(int64_t t_ns) const {
  int64_t next = INT64_MAX;
  for (const EventSpec* e : world_->EventsIn(region_)) {
    if (e->at.ns() > t_ns && e->rate_factors.count(domain_)) next = std::min(next, e->at.ns());
  }
  return next;
}

SourceContext World::Context(const SourceGroup& g, uint32_t source, int64_t t_ns) const {
  SourceContext c;
  const RegionRuntime& r = regions_[static_cast<size_t>(g.region)];
  c.index = static_cast<uint32_t>(source);
  c.region = r.spec->id;
  c.region_center = {r.spec->lon, r.spec->lat};
  c.region_radius_km = r.radius_km;
  sim::Rng place(sim::Mix64(g.key ^ 0x9e3779b97f4a7c15ULL ^ source));
  c.home = RandomPlace(g.region, place);
  c.unix_us = UnixMicrosAt(t_ns);
  c.hour = HourAt(t_ns);
  c.period_s = g.spec->arrival.Mean();
  c.event = EventAt(g.region, t_ns);
  return c;
}

LonLat World::RandomPlace(int region, sim::Rng& rng) const {
  const RegionRuntime& r = regions_[static_cast<size_t>(region)];
  const double dist = r.radius_km * std::sqrt(rng.Uniform01());
  const double angle = 2 * kPi * rng.Uniform01();
  const double dlat = dist * std::cos(angle) / 111.195;
  const double dlon = dist * std::sin(angle) / (111.195 * std::cos(r.spec->lat * kPi / 180));
  // Rounded to ~1 m: entities carry 6 decimals.
  auto round6 = [](double x) { return std::round(x * 1e6) / 1e6; };
  return {round6(r.spec->lon + dlon), round6(r.spec->lat + dlat)};
}

const std::vector<int>& World::GroupsOfType(int region, const std::string& type) const {
  static const std::vector<int> kNone;
  for (const auto& [t, groups] : by_type_[static_cast<size_t>(region)]) {
    if (t == type) return groups;
  }
  return kNone;
}

double World::HourAt(int64_t t_ns) const {
  return std::fmod(start_hour_ + static_cast<double>(t_ns) / 3.6e12, 24.0);
}

namespace {
// Requests one action of a mix makes on average (subscriptions are made once, not per action).
double RequestsPerAction(const std::vector<RequestSpec>& requests) {
  double weight = 0, pages = 0;
  for (const RequestSpec& r : requests) {
    if (r.op == RequestSpec::Op::kSubscribe) continue;
    weight += r.weight;
    pages += r.weight * r.pages;
  }
  return weight > 0 ? pages / weight : 0;
}
}  // namespace

OfferedLoad World::OfferedAt(int64_t t_ns) const {
  OfferedLoad load;
  const double hour = HourAt(t_ns);
  for (const SourceGroup& g : sources_) load.sources += g.count * RateAt(g.spec->arrival, t_ns, hour, g.scale());
  for (const UserGroup& g : users_) {
    load.users += g.count * RateAt(g.spec->arrival, t_ns, hour) * RequestsPerAction(g.spec->requests);
  }
  for (const EventSpec& e : scenario_->events) {
    const CrowdSpec& c = e.crowd;
    const double since = static_cast<double>(t_ns - e.at.ns()) * 1e-9;
    if (c.per_10k <= 0 || c.requests.empty() || since < 0) continue;
    const double ramp = c.ramp.seconds();
    const double joined = ramp > 0 ? std::min(1.0, since / ramp) : 1.0;
    const double per_member = c.rate * std::exp(-since / c.decay.seconds()) * RequestsPerAction(c.requests);
    double joining = 0;  // joins per second per member
    if (ramp > 0 && since < ramp) joining = 1.0 / ramp;
    for (const std::string& id : e.regions) {
      const int ri = scenario_->RegionIndex(id);
      if (ri < 0) continue;
      const double members = GroupSize(0, c.per_10k, scenario_->regions[static_cast<size_t>(ri)].population);
      load.crowds += members * (joined * per_member + joining * static_cast<double>(c.requests.size()));
    }
  }
  return load;
}

}  // namespace citybed::models
