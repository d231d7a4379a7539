// Federation: the broker sites of a federated run (scenario "federation", docs/federation.md)
// — a data site per region or per block (the regions attached to one backbone hub), plus the
// block and national hubs the topology adds — which site each request goes to, the context
// source registrations that link the sites, and the network paths between regions and sites
// and between sites. Built once with the World; read-only afterwards.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/scenario.h"
#include "citybed/sim/network.h"

namespace citybed::models {

class World;

struct BrokerSite {
  enum class Role { kData, kBlock, kNational };
  std::string id;            // "region-<id>", "block-<hub>", "national": its name in Via headers
  Role role = Role::kData;
  int node = -1;             // network node: a region's gateway or a hub
  double lat = 0, lon = 0;
  std::vector<int> regions;  // data site: regions whose sources write here; hub: regions below it
  int block = -1;            // the backbone hub of a data site's (first) region; -1 without a backbone
};

// `at` holds a context source registration of `source`.
struct SiteLink {
  int at = 0, source = 0;
};

// Where a requester stands towards the region a request is about.
enum class PairClass { kLocal, kBlock, kNational };  // the same region; the same block; elsewhere
std::string_view ToString(PairClass c);

class Federation {
 public:
  // Sites and links for `world` (its regions, network and sources are built).
  static Expected<Federation> Build(const Scenario& s, World& world);

  const FederationSpec& spec() const { return spec_; }
  const std::vector<BrokerSite>& sites() const { return sites_; }
  const std::vector<SiteLink>& links() const { return links_; }
  int HomeSite(int region) const { return home_[static_cast<size_t>(region)]; }
  // Where a request of a user of `region` about `about` goes: its home site when it is about
  // its own region; otherwise the topology decides (none: the other region's site; star and
  // hierarchy: the national hub; mesh: its home site, which forwards to its neighbours).
  int EntrySite(int region, int about) const;
  // The way from a region's users (its access link) to a site, and from site to site.
  const sim::Route& RegionToSite(int region, int site) const {
    return region_routes_[static_cast<size_t>(region) * sites_.size() + static_cast<size_t>(site)];
  }
  const sim::Route& SiteToSite(int from, int to) const {
    return site_routes_[static_cast<size_t>(from) * sites_.size() + static_cast<size_t>(to)];
  }
  // The NGSI-LD context source registration that `link` creates at its `at` site: the source's
  // entity types (by id pattern of its regions), its area, the forwarding timeout and
  // cool-down, its alias (for Via), and `endpoint` (the source, or the relay in front of it).
  std::string Registration(const SiteLink& link, const std::string& endpoint) const;

 private:
  FederationSpec spec_;
  std::vector<BrokerSite> sites_;
  std::vector<SiteLink> links_;
  std::vector<int> home_;                 // by region
  std::vector<int> block_site_;           // by hub index: the block site (hierarchy), -1
  int national_ = -1;
  std::vector<std::vector<std::string>> types_;  // by site: entity types its regions hold (sorted)
  std::vector<sim::Route> region_routes_;  // [region * sites + site]
  std::vector<sim::Route> site_routes_;    // [site * sites + site]
  std::vector<std::array<double, 4>> areas_;  // by site: lon_min, lat_min, lon_max, lat_max
  std::vector<std::string> region_ids_;   // by region
};

}  // namespace citybed::models
