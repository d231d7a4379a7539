#include "citybed/models/world.h"

#include <cmath>

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

  // Network: as given, or a star around a broker at the first region's site.
  sim::Network& net = w->network_;
  int broker = -1;
  if (s.network.nodes.empty()) {
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
    rt.gateway = s.network.nodes.empty() ? *net.Find("gw-" + r.id) : *net.Find(access.node);
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
  return w;
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

}  // namespace citybed::models
