#include "citybed/models/world.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>
#include <numbers>

#include "citybed/common/strings.h"
#include "citybed/models/generators.h"

namespace citybed::models {

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
    rt.radius_km = r.radius_km > 0 ? r.radius_km : std::max(0.5, std::sqrt(r.population / 3000.0 / std::numbers::pi));
    if (s.broker.tenancy == "per-region") rt.tenant = r.id; else rt.tenant = s.broker.tenant;
    rt.api = r.api.value_or(s.broker.api);
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
    rt.access_latency = access.latency.value_or(sim::Duration::Milliseconds(2));
    rt.access_s_per_byte = 8.0 / access.bandwidth_bps;
    rt.access_loss = access.loss;
    rt.path.propagation += rt.access_latency;
    rt.path.serialization_s_per_byte += rt.access_s_per_byte;
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
      g.first_index = numbering;
      g.first_global = w->total_sources_;
      g.key = sim::Mix64(streams.seed() ^ sim::HashName("source/" + spec.kind + "/" + r.id) ^ sim::Mix64(numbering + 1));
      g.state.assign(static_cast<size_t>(g.count) * model->state_size(), 0);
      g.reports.assign(g.count, 0);
      g.last_write.assign(g.count, LastWrite{});
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
      sim::Rng rng = MemberRng(g.key, i, "init");
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
  // Flash crowds: one group per (event, region).
  for (size_t e = 0; e < s.events.size(); ++e) {
    const EventSpec& ev = s.events[e];
    if (ev.crowd.per_10k <= 0 || ev.crowd.requests.empty()) continue;
    for (const std::string& id : ev.regions) {
      const int region = s.RegionIndex(id);
      if (region < 0) continue;
      CrowdGroup c;
      c.event = &ev;
      c.region = region;
      c.count = GroupSize(0, ev.crowd.per_10k, s.regions[static_cast<size_t>(region)].population);
      if (c.count == 0) continue;
      c.key = sim::Mix64(streams.seed() ^ sim::HashName("crowd/" + id) ^ sim::Mix64(e + 1));
      c.arrival.process = ArrivalSpec::Process::kPoisson;
      c.arrival.rate = ev.crowd.rate;
      c.scale = DecayScale(ev.at.ns(), ev.crowd.decay.seconds());
      std::vector<double> weights;
      for (const RequestSpec& r : ev.crowd.requests) {
        const bool recurring = r.op != RequestSpec::Op::kSubscribe;
        weights.push_back(recurring ? r.weight : 0.0);
        c.has_mix = c.has_mix || recurring;
      }
      if (c.has_mix) c.mix = sim::Discrete(weights);
      w->crowds_.push_back(std::move(c));
    }
  }
  // Gravity model: interest of region i in region j ~ pop_i · pop_j / (d_ij + 10 km)^2, and
  // a region's own data weighs as if 10 km away. Rows are normalised to probabilities.
  const size_t n = s.regions.size();
  w->od_.assign(n, std::vector<double>(n));
  for (size_t i = 0; i < n; ++i) {
    const RegionSpec& a = s.regions[i];
    std::vector<double>& row = w->od_[i];
    double sum = 0;
    for (size_t j = 0; j < n; ++j) {
      const RegionSpec& b = s.regions[j];
      const double d = sim::Network::GreatCircleKm(a.lat, a.lon, b.lat, b.lon) + 10.0;
      row[j] = a.population * b.population / (d * d);
      sum += row[j];
    }
    for (double& x : row) x /= sum;
    w->od_rows_.emplace_back(row);
    std::vector<double> other = row;
    other[i] = 0;
    if (n > 1) w->od_rows_other_.emplace_back(other);
  }
  if (s.backbone) {
    for (const RegionSpec& r : s.regions) w->block_of_.push_back(static_cast<int>(NearestHub(*s.backbone, r)));
  }
  // Federation: a broker per region or block; each region's requests then go to its own.
  if (s.federation) {
    auto f = Federation::Build(s, *w);
    if (!f) return Unexpected(f.error());
    w->federation_ = std::make_unique<Federation>(std::move(*f));
    for (size_t r = 0; r < w->regions_.size(); ++r) {
      w->regions_[r].path = w->federation_->RegionToSite(static_cast<int>(r), w->federation_->HomeSite(static_cast<int>(r)));
    }
    // A fault of a region's broker is a fault of the site that holds the region's data.
    w->faults_.resize(w->federation_->sites().size());
    for (const FaultSpec& f : s.faults) {
      std::set<int> sites;
      for (const std::string& id : f.regions) sites.insert(w->federation_->HomeSite(s.RegionIndex(id)));
      for (int site : sites) w->faults_[static_cast<size_t>(site)].push_back(&f);
    }
  }
  return w;
}

int World::TargetRegion(int from, sim::Rng& rng, bool other) const {
  if (other && !od_rows_other_.empty()) return static_cast<int>(od_rows_other_[static_cast<size_t>(from)](rng));
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
  const double angle = 2 * std::numbers::pi * rng.Uniform01();
  const double dlat = dist * std::cos(angle) / 111.195;
  const double dlon = dist * std::sin(angle) / (111.195 * std::cos(r.spec->lat * std::numbers::pi / 180));
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

OpKind OpOf(RequestSpec::Op op) {
  switch (op) {
    case RequestSpec::Op::kGet: return OpKind::kGet;
    case RequestSpec::Op::kQuery: return OpKind::kQuery;
    case RequestSpec::Op::kGeoQuery: return OpKind::kGeoQuery;
    case RequestSpec::Op::kSubscribe: return OpKind::kSubscribe;
    default: return OpKind::kCount;
  }
}

std::array<double, static_cast<size_t>(OpKind::kCount)> RequestsPerAction(const std::vector<RequestSpec>& requests) {
  std::array<double, static_cast<size_t>(OpKind::kCount)> out{};
  double weight = 0;
  for (const RequestSpec& r : requests) {
    const OpKind op = OpOf(r.op);
    if (r.op == RequestSpec::Op::kSubscribe || op == OpKind::kCount) continue;
    weight += r.weight;
    out[static_cast<size_t>(op)] += r.weight * (r.op == RequestSpec::Op::kQuery ? r.pages : 1);
  }
  if (weight > 0) {
    for (double& x : out) x /= weight;
  }
  return out;
}

namespace {
size_t Subscriptions(const std::vector<RequestSpec>& requests) {
  return static_cast<size_t>(std::count_if(requests.begin(), requests.end(),
                                           [](const RequestSpec& r) { return r.op == RequestSpec::Op::kSubscribe; }));
}
}  // namespace

uint64_t World::SubscriptionsAtStart() const {
  uint64_t n = 0;
  for (const UserGroup& g : users_) n += uint64_t{g.count} * Subscriptions(g.spec->requests);
  return n;
}

std::string World::SourceEntityId(const SourceGroup& g, uint32_t source) const {
  return EntityId(*g.model, regions_[static_cast<size_t>(g.region)].spec->id, g.first_index + source);
}

std::optional<std::pair<int, uint32_t>> World::FindSource(std::string_view id) const {
  // urn:ngsi-ld:<Type>:<region>:<prefix>-<number>
  const auto parts = Split(id, ':');
  if (parts.size() != 5) return std::nullopt;
  const int region = scenario_->RegionIndex(std::string(parts[3]));
  if (region < 0) return std::nullopt;
  const std::string_view last = parts[4];
  const size_t dash = last.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view prefix = last.substr(0, dash), digits = last.substr(dash + 1);
  uint64_t number = 0;
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + static_cast<uint64_t>(c - '0');
  }
  for (int gi : GroupsOfType(region, std::string(parts[2]))) {
    const SourceGroup& g = sources_[static_cast<size_t>(gi)];
    if (g.model->id_prefix() != prefix || number < g.first_index || number >= uint64_t{g.first_index} + g.count) continue;
    return std::make_pair(gi, static_cast<uint32_t>(number - g.first_index));
  }
  return std::nullopt;
}

OfferedLoad World::OfferedAt(int64_t t_ns) const {
  OfferedLoad load;
  const double hour = HourAt(t_ns);
  for (const SourceGroup& g : sources_) {
    const double rate = g.count * RateAt(g.spec->arrival, t_ns, hour, g.scale());
    load.sources += rate;
    load.by_op[static_cast<size_t>(OpKind::kUpsert)] += rate;
    load.by_kind[std::string(g.model->kind())] += rate;
  }
  for (const UserGroup& g : users_) {
    const double actions = g.count * RateAt(g.spec->arrival, t_ns, hour);
    const auto per_action = RequestsPerAction(g.spec->requests);
    double sum = 0;
    for (size_t k = 0; k < per_action.size(); ++k) {
      load.by_op[k] += actions * per_action[k];
      sum += actions * per_action[k];
    }
    load.users += sum;
    load.by_kind[g.spec->kind] += sum;
  }
  for (const CrowdGroup& c : crowds_) {
    const CrowdSpec& spec = c.event->crowd;
    const double since = static_cast<double>(t_ns - c.event->at.ns()) * 1e-9;
    if (since < 0) continue;
    const double ramp = spec.ramp.seconds();
    // Joined members act at the decaying rate; joining ones make their subscriptions.
    const double joined = ramp > 0 ? std::min(1.0, since / ramp) : 1.0;
    const double joining = ramp > 0 && since < ramp ? c.count / ramp : 0;  // joins per second
    const double actions = c.count * joined * RateAt(c.arrival, t_ns, hour, &c.scale);
    const auto per_action = RequestsPerAction(spec.requests);
    double sum = 0;
    for (size_t k = 0; k < per_action.size(); ++k) {
      load.by_op[k] += actions * per_action[k];
      sum += actions * per_action[k];
    }
    const double subscribing = joining * static_cast<double>(Subscriptions(spec.requests));
    load.by_op[static_cast<size_t>(OpKind::kSubscribe)] += subscribing;
    sum += subscribing;
    load.crowds += sum;
    load.by_kind["crowd:" + c.event->kind] += sum;
  }
  return load;
}

}  // namespace citybed::models
