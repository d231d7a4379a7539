// The federation plan (sites, registrations, where requests go, paths) and the ground-truth
// probe of what reads return.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "citybed/models/federation.h"
#include "citybed/models/interop.h"
#include "citybed/models/world.h"

using namespace citybed::models;
using citybed::sim::Duration;

namespace {

std::string Text(const std::string& federation, const std::string& broker = R"({"url": "embedded"})") {
  return R"({
    "name": "f", "duration": "10s", "broker": )" + broker + R"(,
    "federation": )" + federation + R"(,
    "regions": [
      {"id": "sapporo", "lat": 43.06, "lon": 141.35, "population": 1900000, "radius_km": 10},
      {"id": "otaru", "lat": 43.19, "lon": 141.00, "population": 110000, "radius_km": 4},
      {"id": "tokyo", "lat": 35.68, "lon": 139.77, "population": 14000000, "radius_km": 15},
      {"id": "yokohama", "lat": 35.44, "lon": 139.64, "population": 3700000, "radius_km": 12},
      {"id": "fukuoka", "lat": 33.59, "lon": 130.40, "population": 1600000, "radius_km": 8}
    ],
    "network": {"generate": {"hubs": ["sapporo", "tokyo", "fukuoka"], "broker_hub": "tokyo"},
                "access": {"default": {"latency": "2ms"}}},
    "sources": [{"kind": "parking-spot", "count": 20, "arrival": {"process": "periodic", "period": "1s"}},
                {"kind": "bus", "count": 3, "arrival": {"process": "periodic", "period": "1s"}}],
    "users": [{"kind": "tourist", "count": 1, "arrival": {"process": "poisson", "rate": 1},
               "requests": [{"op": "geo-query", "type": "ParkingSpot", "max_distance": "3km", "cross_region": true}]}]
  })";
}

std::unique_ptr<World> Build(const std::string& text) {
  auto s = ParseScenario(text, "f.json");
  INFO((s ? std::string() : FormatErrors("f.json", s.error())));
  REQUIRE(s);
  static std::vector<std::unique_ptr<Scenario>> keep;  // the World points into its Scenario
  keep.push_back(std::make_unique<Scenario>(std::move(*s)));
  auto w = World::Build(*keep.back());
  INFO((w ? std::string() : w.error().message));
  REQUIRE(w);
  return std::move(*w);
}

std::set<std::string> Pointers(const std::string& text) {
  auto s = ParseScenario(text, "f.json");
  std::set<std::string> out;
  if (!s) {
    for (const auto& e : s.error()) out.insert(e.pointer);
  }
  return out;
}

}  // namespace

TEST_CASE("Federation: a star links a national hub to every region's broker", "[models][federation]") {
  auto w = Build(Text(R"({"brokers": "per-region", "topology": "star"})"));
  const Federation& f = *w->federation();
  REQUIRE(f.sites().size() == 6);  // five regions and the hub
  CHECK(f.sites()[5].id == "national");
  CHECK(f.links().size() == 5);
  for (const SiteLink& l : f.links()) CHECK(l.at == 5);
  // Requests about one's own region stay home; others go to the hub.
  CHECK(f.EntrySite(0, 0) == f.HomeSite(0));
  CHECK(f.EntrySite(0, 4) == 5);
  // Sapporo and Otaru share the Sapporo hub's block; Tokyo is elsewhere.
  CHECK(w->Classify(0, 1) == PairClass::kBlock);
  CHECK(w->Classify(0, 2) == PairClass::kNational);
  // A region's users reach their own broker over their access link only; the hub in Tokyo is
  // farther for Sapporo than for Yokohama.
  CHECK(f.RegionToSite(0, f.HomeSite(0)).propagation == Duration::Milliseconds(2));
  CHECK(f.RegionToSite(0, 5).propagation > f.RegionToSite(3, 5).propagation);
  CHECK(f.SiteToSite(0, 4).propagation == f.SiteToSite(4, 0).propagation);
  CHECK(f.SiteToSite(2, 2).propagation == Duration());
  // The region's path is its home broker's.
  CHECK(w->regions()[0].path.propagation == f.RegionToSite(0, f.HomeSite(0)).propagation);
}

TEST_CASE("Federation: hierarchy, mesh and none link the sites as their names say", "[models][federation]") {
  SECTION("hierarchy: regions under block brokers, blocks under the hub") {
    auto w = Build(Text(R"({"topology": "hierarchy"})"));
    const Federation& f = *w->federation();
    CHECK(f.sites().size() == 5 + 3 + 1);
    CHECK(f.links().size() == 5 + 3);
    int to_national = 0;
    for (const SiteLink& l : f.links()) {
      const BrokerSite& at = f.sites()[static_cast<size_t>(l.at)];
      const BrokerSite& src = f.sites()[static_cast<size_t>(l.source)];
      if (at.role == BrokerSite::Role::kNational) {
        ++to_national;
        CHECK(src.role == BrokerSite::Role::kBlock);
      } else {
        CHECK(at.role == BrokerSite::Role::kBlock);
        CHECK(src.role == BrokerSite::Role::kData);
        CHECK(at.block == src.block);
      }
    }
    CHECK(to_national == 3);
    // Deadlines shrink down the tree: the hub gives a block twice what the block gives a region.
    for (const SiteLink& l : f.links()) {
      const auto reg = nlohmann::json::parse(f.Registration(l, "http://127.0.0.1:9"));
      const bool block = f.sites()[static_cast<size_t>(l.source)].role == BrokerSite::Role::kBlock;
      CHECK(reg["management"]["timeout"] == (block ? 6000 : 3000));
    }
  }
  SECTION("mesh: each broker registers its nearest others; users ask their own") {
    auto w = Build(Text(R"({"topology": "mesh", "neighbours": 2})"));
    const Federation& f = *w->federation();
    CHECK(f.sites().size() == 5);
    CHECK(f.links().size() == 10);
    std::set<int> of_sapporo;
    for (const SiteLink& l : f.links()) {
      if (l.at == 0) of_sapporo.insert(l.source);
    }
    CHECK(of_sapporo == std::set<int>{1, 2});  // Otaru, then Tokyo (north of Yokohama)
    CHECK(f.EntrySite(0, 4) == f.HomeSite(0));
  }
  SECTION("none: users ask the other region's broker directly") {
    auto w = Build(Text(R"({"topology": "none"})"));
    const Federation& f = *w->federation();
    CHECK(f.links().empty());
    CHECK(f.EntrySite(0, 4) == f.HomeSite(4));
  }
  SECTION("per-block brokers hold the data of their hub's regions") {
    auto w = Build(Text(R"({"brokers": "per-block", "topology": "star"})"));
    const Federation& f = *w->federation();
    CHECK(f.sites().size() == 4);
    CHECK(f.HomeSite(0) == f.HomeSite(1));
    CHECK(f.HomeSite(2) == f.HomeSite(3));
    CHECK(f.HomeSite(0) != f.HomeSite(4));
  }
}

TEST_CASE("Federation: a registration names its source's types, regions and area", "[models][federation]") {
  auto w = Build(Text(R"({"topology": "star", "timeout": "750ms", "cooldown": "4s"})"));
  const Federation& f = *w->federation();
  const SiteLink link = f.links()[0];
  const auto reg = nlohmann::json::parse(f.Registration(link, "http://127.0.0.1:9/hop/5/0"));
  CHECK(reg["type"] == "ContextSourceRegistration");
  CHECK(reg["endpoint"] == "http://127.0.0.1:9/hop/5/0");
  CHECK(reg["contextSourceAlias"] == f.sites()[static_cast<size_t>(link.source)].id);
  CHECK(reg["management"]["timeout"] == 750);
  CHECK(reg["management"]["cooldown"] == 4000);
  CHECK(reg["management"]["localOnly"] == true);  // a region's broker answers for itself only
  std::set<std::string> types;
  for (const auto& e : reg["information"][0]["entities"]) {
    types.insert(e["type"].get<std::string>());
    CHECK(e["idPattern"].get<std::string>().find(":(sapporo):") != std::string::npos);
  }
  CHECK(types == std::set<std::string>{"ParkingSpot", "Vehicle"});
  // The area covers Sapporo's disk: 10 km around 43.06 N 141.35 E.
  const auto& ring = reg["location"]["coordinates"][0];
  CHECK(ring[0][1].get<double>() == Approx(43.06 - 10 / 111.32).epsilon(1e-6));
  CHECK(ring[2][1].get<double>() == Approx(43.06 + 10 / 111.32).epsilon(1e-6));
}

TEST_CASE("Federation: the scenario section is validated with pointers", "[models][federation]") {
  CHECK(Pointers(Text(R"({"topology": "ring"})")).count("/federation/topology"));
  CHECK(Pointers(Text(R"({"brokers": "per-city"})")).count("/federation/brokers"));
  CHECK(Pointers(Text(R"({"timeout": "20s"})")).count("/federation/timeout"));  // beyond broker.timeout (10 s)
  CHECK(Pointers(Text(R"({"topology": "hierarchy", "timeout": "6s"})")).count("/federation/timeout"));  // 12 s at the hub
  CHECK(Pointers(Text(R"({"topology": "star", "timeout": "6s"})")).empty());
  CHECK(Pointers(Text(R"({"topology": "star"})", R"({"url": "http://127.0.0.1:1026"})")).count("/federation"));
  CHECK(Pointers(Text(R"({"brokers": "per-block", "topology": "hierarchy"})")).count("/federation/topology"));
  CHECK(Pointers(Text(R"({"neighbours": 0})")).count("/federation/neighbours"));
  CHECK(Pointers(Text(R"({"relay": "yes"})")).count("/federation/relay"));
  CHECK(Pointers(Text(R"({"topology": "mesh"})")).empty());
}

TEST_CASE("Federation: sites served by a city's own broker (external) are named and checked", "[models][federation]") {
  const std::string ok = R"({"external": {"region-tokyo": "http://tokyo.example:1026/",
                                          "region-fukuoka": {"url": "http://orion.fukuoka:1026", "ngsi_ld": "http://adapter.fukuoka:1031"}}})";
  auto s = ParseScenario(Text(ok), "f.json");
  INFO((s ? std::string() : FormatErrors("f.json", s.error())));
  REQUIRE(s);
  const auto& ext = s->federation->external;
  REQUIRE(ext.size() == 2);
  CHECK(ext.at("region-tokyo").url == "http://tokyo.example:1026");  // trailing slash dropped
  CHECK(ext.at("region-tokyo").ld_url == "http://tokyo.example:1026");
  CHECK(ext.at("region-fukuoka").ld_url == "http://adapter.fukuoka:1031");
  // Every mistake named by its pointer.
  const auto bad = Pointers(Text(R"({"external": {"region-osaka": "http://x:1", "national": "ftp://x",
                                                   "region-tokyo": {"ngsi_ld": "http://x:2"}, "block-tokyo": "http://x:3",
                                                   "region-otaru": {"url": "http://x:4", "port": 1}}})"));
  CHECK(bad.count("/federation/external/region-osaka"));     // no such region
  CHECK(bad.count("/federation/external/national"));         // not http
  CHECK(bad.count("/federation/external/region-tokyo/url"));  // url missing
  CHECK(bad.count("/federation/external/block-tokyo"));      // a star has no blocks
  CHECK(bad.count("/federation/external/region-otaru/port"));  // unknown member
  CHECK(Pointers(Text(R"({"topology": "hierarchy", "external": {"block-tokyo": "http://x:3"}})")).empty());
  CHECK(Pointers(Text(R"({"topology": "none", "external": {"national": "http://x:3"}})")).count("/federation/external/national"));
}

TEST_CASE("Interop probe: what a read returned against the ground truth", "[models][federation]") {
  auto w = Build(Text(R"({"topology": "star"})"));
  World& world = *w;
  InteropProbe probe(world);
  // Every parking spot of Sapporo has reported.
  int group = -1;
  for (size_t g = 0; g < world.sources().size(); ++g) {
    SourceGroup& sg = world.sources()[g];
    if (sg.region == 0 && sg.model->entity_type() == "ParkingSpot") {
      group = static_cast<int>(g);
      for (uint32_t i = 0; i < sg.count; ++i) {
        sg.reports[i] = 1;
        sg.last_write[i] = {static_cast<uint32_t>(1'000'000'000), 1000};
      }
    }
  }
  REQUIRE(group >= 0);
  const SourceGroup& sg = world.sources()[static_cast<size_t>(group)];
  RequestSpec spec;
  spec.op = RequestSpec::Op::kGet;
  spec.entity_type = "ParkingSpot";
  spec.limit = 20;

  SECTION("a get: found with its staleness, or missed") {
    WorkloadRequest q;
    q.op = OpKind::kGet;
    q.region = 4;
    q.about = 0;
    q.spec = &spec;
    q.asked_group = group;
    q.asked_member = 3;
    RequestRecord r;
    r.outcome = Outcome::kOk;
    // Observed 2.5 s before the latest write (1,000,000,000 µs in the low bits).
    const std::string body = R"({"id":")" + world.SourceEntityId(sg, 3) +
                             R"(","type":"ParkingSpot","status":{"type":"Property","value":"free","observedAt":"1970-01-01T00:16:37.500Z"}})";
    r.body = body;
    REQUIRE(probe.Measures(q));
    InteropRecord m = probe.Measure(q, r);
    CHECK(m.pair == static_cast<int>(PairClass::kNational));
    CHECK(m.expected == 1);
    CHECK(m.matched == 1);
    REQUIRE(m.staleness_us.size() == 1);
    CHECK(m.staleness_us[0] == 2'500'000);
    r.outcome = Outcome::kStatus;
    r.body = {};
    m = probe.Measure(q, r);
    CHECK(m.matched == 0);
    CHECK(m.expected == 1);
  }
  SECTION("a geo-query: recall, foreign entities and duplicates") {
    spec.op = RequestSpec::Op::kGeoQuery;
    spec.max_distance_m = 1e6;  // every spot of the north
    spec.limit = 100;
    WorkloadRequest q;
    q.op = OpKind::kGeoQuery;
    q.region = 2;
    q.about = 0;
    q.spec = &spec;
    q.place = {141.35, 43.06};
    std::string body = "[";
    for (uint32_t i = 0; i < 10; ++i) body += R"({"id":")" + world.SourceEntityId(sg, i) + R"(","type":"ParkingSpot"},)";
    body += R"({"id":")" + world.SourceEntityId(sg, 0) + R"(","type":"ParkingSpot"},)";  // a duplicate
    body += R"({"id":"urn:ngsi-ld:ParkingSpot:nowhere:x-1","type":"ParkingSpot"}])";
    RequestRecord r;
    r.outcome = Outcome::kOk;
    r.body = body;
    r.warnings = 1;
    const InteropRecord m = probe.Measure(q, r);
    CHECK(m.expected == 20);   // Sapporo's 20 spots (Otaru's have not reported)
    CHECK(m.matched == 10);
    CHECK(m.duplicates == 1);
    CHECK(m.foreign == 1);
    CHECK(m.returned == 12);
    CHECK(m.partial);
  }
  SECTION("a geo-query for a type that moves has no fixed truth") {
    spec.op = RequestSpec::Op::kGeoQuery;
    spec.entity_type = "Vehicle";
    WorkloadRequest q;
    q.op = OpKind::kGeoQuery;
    q.region = 2;
    q.about = 0;
    q.spec = &spec;
    q.place = {141.35, 43.06};
    RequestRecord r;
    r.outcome = Outcome::kOk;
    r.body = "[]";
    CHECK(probe.Measure(q, r).expected == -1);
  }
}

TEST_CASE("Interop probe: the latest observation of NGSI-LD and NGSI-v2 entities", "[models][federation]") {
  CHECK(LatestObservation(R"({"id":"x","a":{"type":"Property","value":1,"observedAt":"2026-01-01T00:00:01Z"},)"
                          R"("b":[{"type":"Property","value":2,"observedAt":"2026-01-01T00:00:03Z"}]})") ==
        1767225603000000);
  CHECK(LatestObservation(R"({"id":"x","a":{"type":"Number","value":1,"metadata":{"observedAt":)"
                          R"({"type":"DateTime","value":"2026-01-01T00:00:02Z"}}}})") == 1767225602000000);
  CHECK_FALSE(LatestObservation(R"({"id":"x","a":{"type":"Property","value":1}})"));
  CHECK_FALSE(LatestObservation("not json"));
}
