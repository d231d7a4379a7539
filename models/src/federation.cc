#include "citybed/models/federation.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <set>

#include "citybed/models/generators.h"
#include "citybed/models/world.h"

namespace citybed::models {

std::string_view ToString(PairClass c) {
  switch (c) {
    case PairClass::kLocal: return "local";
    case PairClass::kBlock: return "same-block";
    case PairClass::kNational: return "national";
  }
  return "?";
}

namespace {

const City* HubCity(const std::string& id) {
  for (const City& c : JapaneseCities()) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

// A route that stays on one node: nothing to pay.
sim::Route Here(int node) {
  sim::Route r;
  r.nodes = {node};
  r.reachable = true;
  return r;
}

}  // namespace

Expected<Federation> Federation::Build(const Scenario& s, World& world) {
  Federation f;
  f.spec_ = *s.federation;
  sim::Network& net = world.network();
  const auto& regions = world.regions();
  const size_t n_regions = regions.size();
  for (const RegionRuntime& r : regions) f.region_ids_.push_back(r.spec->id);

  auto hub_node = [&](size_t hub) -> Expected<int> {
    auto node = net.Find("hub-" + s.backbone->hubs[hub]);
    if (!node) return Unexpected(Error::InvalidArgument("no backbone node for hub " + s.backbone->hubs[hub]));
    return *node;
  };

  // Data sites: where sources write.
  f.home_.assign(n_regions, -1);
  if (f.spec_.brokers == FederationSpec::Brokers::kPerRegion) {
    for (size_t i = 0; i < n_regions; ++i) {
      BrokerSite site;
      site.id = "region-" + regions[i].spec->id;
      site.node = regions[i].gateway;
      site.lat = regions[i].spec->lat;
      site.lon = regions[i].spec->lon;
      site.regions = {static_cast<int>(i)};
      site.block = world.BlockOf(static_cast<int>(i));
      f.home_[i] = static_cast<int>(f.sites_.size());
      f.sites_.push_back(std::move(site));
    }
  } else {
    for (size_t hub = 0; hub < s.backbone->hubs.size(); ++hub) {
      BrokerSite site;
      site.id = "block-" + s.backbone->hubs[hub];
      for (size_t i = 0; i < n_regions; ++i) {
        if (world.BlockOf(static_cast<int>(i)) == static_cast<int>(hub)) site.regions.push_back(static_cast<int>(i));
      }
      if (site.regions.empty()) continue;
      auto node = hub_node(hub);
      if (!node) return Unexpected(node.error());
      site.node = *node;
      const City* c = HubCity(s.backbone->hubs[hub]);
      site.lat = c ? c->lat : 0;
      site.lon = c ? c->lon : 0;
      site.block = static_cast<int>(hub);
      for (int r : site.regions) f.home_[static_cast<size_t>(r)] = static_cast<int>(f.sites_.size());
      f.sites_.push_back(std::move(site));
    }
  }
  const size_t n_data = f.sites_.size();

  // Hubs of the topology, and the registrations.
  using Topology = FederationSpec::Topology;
  if (f.spec_.topology == Topology::kHierarchy) {
    f.block_site_.assign(s.backbone->hubs.size(), -1);
    for (size_t d = 0; d < n_data; ++d) {
      const int hub = f.sites_[d].block;
      if (f.block_site_[static_cast<size_t>(hub)] < 0) {
        BrokerSite site;
        site.id = "block-" + s.backbone->hubs[static_cast<size_t>(hub)];
        site.role = BrokerSite::Role::kBlock;
        auto node = hub_node(static_cast<size_t>(hub));
        if (!node) return Unexpected(node.error());
        site.node = *node;
        const City* c = HubCity(s.backbone->hubs[static_cast<size_t>(hub)]);
        site.lat = c ? c->lat : 0;
        site.lon = c ? c->lon : 0;
        site.block = hub;
        f.block_site_[static_cast<size_t>(hub)] = static_cast<int>(f.sites_.size());
        f.sites_.push_back(std::move(site));
      }
      const int block = f.block_site_[static_cast<size_t>(hub)];
      for (int r : f.sites_[d].regions) f.sites_[static_cast<size_t>(block)].regions.push_back(r);
      f.links_.push_back({block, static_cast<int>(d)});
    }
  }
  if (f.spec_.topology == Topology::kStar || f.spec_.topology == Topology::kHierarchy) {
    BrokerSite site;
    site.id = "national";
    site.role = BrokerSite::Role::kNational;
    // At the backbone's broker hub, or where the single broker of the network would be.
    std::optional<int> node = s.backbone ? net.Find("hub-" + s.backbone->broker_hub)
                                         : (s.network.nodes.empty() ? net.Find("broker") : net.Find(s.network.broker_node));
    if (!node) return Unexpected(Error::InvalidArgument("no network node for the national hub"));
    site.node = *node;
    const City* c = s.backbone ? HubCity(s.backbone->broker_hub) : nullptr;
    site.lat = c ? c->lat : s.regions[0].lat;
    site.lon = c ? c->lon : s.regions[0].lon;
    for (size_t i = 0; i < n_regions; ++i) site.regions.push_back(static_cast<int>(i));
    f.national_ = static_cast<int>(f.sites_.size());
    f.sites_.push_back(std::move(site));
    if (f.spec_.topology == Topology::kStar) {
      for (size_t d = 0; d < n_data; ++d) f.links_.push_back({f.national_, static_cast<int>(d)});
    } else {
      for (int b : f.block_site_) {
        if (b >= 0) f.links_.push_back({f.national_, b});
      }
    }
  }
  if (f.spec_.topology == Topology::kMesh) {
    for (size_t d = 0; d < n_data; ++d) {
      std::vector<std::pair<double, size_t>> by_distance;
      for (size_t o = 0; o < n_data; ++o) {
        if (o == d) continue;
        by_distance.emplace_back(sim::Network::GreatCircleKm(f.sites_[d].lat, f.sites_[d].lon, f.sites_[o].lat, f.sites_[o].lon), o);
      }
      std::sort(by_distance.begin(), by_distance.end());
      const size_t k = std::min(by_distance.size(), static_cast<size_t>(f.spec_.neighbours));
      for (size_t i = 0; i < k; ++i) f.links_.push_back({static_cast<int>(d), static_cast<int>(by_distance[i].second)});
    }
  }

  // What each site can answer: the types of its regions' sources, and the area of its regions.
  std::vector<std::set<std::string>> region_types(n_regions);
  for (const SourceGroup& g : world.sources()) region_types[static_cast<size_t>(g.region)].insert(std::string(g.model->entity_type()));
  f.types_.resize(f.sites_.size());
  f.areas_.resize(f.sites_.size());
  for (size_t i = 0; i < f.sites_.size(); ++i) {
    std::set<std::string> types;
    std::array<double, 4> box = {180, 90, -180, -90};
    for (int r : f.sites_[i].regions) {
      types.insert(region_types[static_cast<size_t>(r)].begin(), region_types[static_cast<size_t>(r)].end());
      const RegionRuntime& rt = regions[static_cast<size_t>(r)];
      // The region's disk, as degrees (a degree of latitude is 111.32 km).
      const double dlat = rt.radius_km / 111.32;
      const double dlon = rt.radius_km / (111.32 * std::max(0.05, std::cos(rt.spec->lat * M_PI / 180)));
      box[0] = std::min(box[0], rt.spec->lon - dlon);
      box[1] = std::min(box[1], rt.spec->lat - dlat);
      box[2] = std::max(box[2], rt.spec->lon + dlon);
      box[3] = std::max(box[3], rt.spec->lat + dlat);
    }
    f.types_[i].assign(types.begin(), types.end());
    f.areas_[i] = box;
  }

  // Paths: region users to every site (access link, then the backbone), and site to site.
  const size_t n = f.sites_.size();
  for (const BrokerSite& site : f.sites_) net.ComputeRoutes(site.node);
  f.region_routes_.resize(n_regions * n);
  for (size_t r = 0; r < n_regions; ++r) {
    const RegionRuntime& rt = regions[r];
    for (size_t i = 0; i < n; ++i) {
      sim::Route route = rt.gateway == f.sites_[i].node ? Here(rt.gateway) : net.RouteTo(rt.gateway, f.sites_[i].node);
      if (!route.reachable) {
        return Unexpected(Error::InvalidArgument("region " + rt.spec->id + ": no network path to broker site " + f.sites_[i].id));
      }
      route.propagation += rt.access_latency;
      route.serialization_s_per_byte += rt.access_s_per_byte;
      route.loss = 1 - (1 - route.loss) * (1 - rt.access_loss);
      f.region_routes_[r * n + i] = std::move(route);
    }
  }
  f.site_routes_.resize(n * n);
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = 0; b < n; ++b) {
      const int from = f.sites_[a].node, to = f.sites_[b].node;
      f.site_routes_[a * n + b] = from == to ? Here(from) : net.RouteTo(from, to);
    }
  }
  return f;
}

int Federation::EntrySite(int region, int about) const {
  if (region == about) return HomeSite(region);
  switch (spec_.topology) {
    case FederationSpec::Topology::kNone: return HomeSite(about);
    case FederationSpec::Topology::kStar:
    case FederationSpec::Topology::kHierarchy: return national_;
    case FederationSpec::Topology::kMesh: return HomeSite(region);
  }
  return HomeSite(region);
}

std::string Federation::Registration(const SiteLink& link, const std::string& endpoint) const {
  const BrokerSite& source = sites_[static_cast<size_t>(link.source)];
  // Entity ids are urn:ngsi-ld:<Type>:<region>:<source>: an id pattern per type names the
  // regions whose entities the source holds, so a retrieve by id reaches the right one.
  std::string alternatives;
  for (int r : source.regions) {
    if (!alternatives.empty()) alternatives += '|';
    for (char c : region_ids_[static_cast<size_t>(r)]) {
      if (c == '.' || c == '-') alternatives += '\\';
      alternatives += c;
    }
  }
  nlohmann::json entities = nlohmann::json::array();
  for (const std::string& type : types_[static_cast<size_t>(link.source)]) {
    entities.push_back({{"type", type}, {"idPattern", "urn:ngsi-ld:" + type + ":(" + alternatives + "):.*"}});
  }
  const auto& box = areas_[static_cast<size_t>(link.source)];
  nlohmann::json ring = nlohmann::json::array(
      {{box[0], box[1]}, {box[2], box[1]}, {box[2], box[3]}, {box[0], box[3]}, {box[0], box[1]}});
  nlohmann::json reg = {
      {"id", "urn:ngsi-ld:ContextSourceRegistration:citybed:" + sites_[static_cast<size_t>(link.at)].id + ":" + source.id},
      {"type", "ContextSourceRegistration"},
      {"registrationName", source.id},
      {"information", nlohmann::json::array({{{"entities", entities}}})},
      {"endpoint", endpoint},
      {"mode", "inclusive"},
      {"operations", nlohmann::json::array({"retrieveOps"})},
      {"location", {{"type", "Polygon"}, {"coordinates", nlohmann::json::array({ring})}}},
      {"contextSourceAlias", source.id},
      // A region's broker answers for its own data only (local=true on what it is sent): in a
      // mesh, a neighbour's neighbours are not reached through it, so a read never floods the
      // country along every path (Via stops loops, not the fan-out of a flood).
      // Deadlines shrink down a hierarchy: a block is given twice the time it gives its
      // regions, so it can answer with what it has when one of them is silent.
      {"management",
       {{"timeout", std::max<int64_t>(1, (source.role == BrokerSite::Role::kBlock ? 2 : 1) * spec_.timeout.ns() / 1000000)},
        {"cooldown", std::max<int64_t>(1, spec_.cooldown.ns() / 1000000)},
        {"localOnly", source.role == BrokerSite::Role::kData}}},
  };
  return reg.dump();
}

}  // namespace citybed::models
