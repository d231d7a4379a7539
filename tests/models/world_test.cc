#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <sstream>

#include "citybed/models/arrivals.h"
#include "citybed/models/placement.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"

using namespace citybed::models;
using citybed::sim::Duration;

namespace {
Scenario Load(const std::string& text) {
  auto s = ParseScenario(text, "t.json");
  INFO((s ? std::string() : FormatErrors("t.json", s.error())));
  REQUIRE(s);
  return std::move(*s);
}
}  // namespace

TEST_CASE("A region's path to the broker adds its access link to the backbone route", "[models]") {
  Scenario s = Load(R"({
    "name": "t", "duration": "10s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "network": {
      "nodes": [{"id": "gw"}, {"id": "core"}, {"id": "dc"}],
      "links": [{"from": "gw", "to": "core", "latency": "3ms", "bandwidth": "100Mbps"},
                {"from": "core", "to": "dc", "latency": "1ms", "bandwidth": "10Gbps", "loss": 0.01}],
      "broker_node": "dc",
      "access": {"default": {"node": "gw", "latency": "5ms", "bandwidth": "20Mbps", "loss": 0.02}}
    },
    "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]
  })");
  auto w = World::Build(s);
  REQUIRE(w);
  const auto& path = (*w)->regions()[0].path;
  // 1000 bytes: 5 + 3 + 1 ms, plus 8000 bits at 20 Mbit/s (400 us), 100 Mbit/s (80 us), 10 Gbit/s (0.8 us).
  CHECK(path.Delay(1000).ns() == 9'000'000 + 400'000 + 80'000 + 800);
  CHECK(path.loss == Approx(1 - 0.98 * 0.99));
}

TEST_CASE("Without a network the regions form a star around the first region's broker", "[models]") {
  Scenario s = Load(R"({
    "name": "t", "duration": "10s",
    "regions": [{"id": "tokyo", "lat": 35.68, "lon": 139.77, "population": 1e6},
                {"id": "osaka", "lat": 34.70, "lon": 135.50, "population": 1e6}],
    "sources": [{"kind": "weather", "per_10k": 2, "arrival": {"process": "periodic", "period": "1s"}}]
  })");
  auto w = World::Build(s);
  REQUIRE(w);
  CHECK((*w)->total_sources() == 400);  // 2 per 10,000 of 1 M, in two regions
  const double km = citybed::sim::Network::GreatCircleKm(34.70, 135.50, 35.68, 139.77);
  CHECK((*w)->regions()[1].path.propagation.seconds() == Approx(0.002 + km * 5e-6 + 50e-6));
  CHECK((*w)->regions()[0].path.propagation.seconds() == Approx(0.002 + 50e-6));
}

TEST_CASE("Reports are reproducible and independent of other sources", "[models]") {
  const std::string base = R"({
    "name": "t", "duration": "10s", "seed": 5,
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "air-quality", "count": 3, "arrival": {"process": "periodic", "period": "1s"}})";
  Scenario one = Load(base + "]}");
  Scenario two = Load(base + R"(, {"kind": "parking-spot", "count": 50, "arrival": {"process": "periodic", "period": "1s"}}]})");
  auto w1 = World::Build(one), w2 = World::Build(two);
  REQUIRE(w1);
  REQUIRE(w2);
  auto report = [](World& w, uint32_t i, uint32_t k) {
    SourceGroup& g = w.sources()[0];
    citybed::sim::Rng rng = World::ReportRng(g, i, k);
    EntityUpdate u;
    u.id = EntityId(*g.model, "a", i);
    u.type = g.model->entity_type();
    g.model->Report(w.Context(g, i, k * 1'000'000'000LL), g.StateOf(i), rng, u);
    std::string out;
    AppendNgsiLdEntity(out, u);
    return out;
  };
  for (uint32_t k = 0; k < 5; ++k) {
    for (uint32_t i = 0; i < 3; ++i) CHECK(report(**w1, i, k) == report(**w2, i, k));
  }
  Scenario other_seed = Load(R"({"name": "t", "duration": "10s", "seed": 6,
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "air-quality", "count": 3, "arrival": {"process": "periodic", "period": "1s"}}]})");
  auto w3 = World::Build(other_seed);
  REQUIRE(w3);
  CHECK(report(**w1, 0, 5) != report(**w3, 0, 5));
}

TEST_CASE("Arrival processes have the configured mean rate", "[models]") {
  citybed::sim::Rng rng(3);
  ArrivalSpec periodic;
  periodic.period = Duration::Seconds(10);
  periodic.jitter = Duration::Seconds(4);
  double sum = 0, lo = 1e9, hi = 0;
  for (int i = 0; i < 20000; ++i) {
    const double g = NextGap(periodic, rng, 0, 12).seconds();
    sum += g;
    lo = std::min(lo, g);
    hi = std::max(hi, g);
  }
  CHECK(sum / 20000 == Approx(10).epsilon(0.01));
  CHECK(lo >= 8);
  CHECK(hi <= 12);
  ArrivalSpec poisson;
  poisson.process = ArrivalSpec::Process::kPoisson;
  poisson.rate = 0.5;
  sum = 0;
  for (int i = 0; i < 40000; ++i) sum += NextGap(poisson, rng, 0, 12).seconds();
  CHECK(sum / 40000 == Approx(2).epsilon(0.02));
}

#include "citybed/models/generators.h"

TEST_CASE("Adding sources of other domains does not change a domain's entity stream", "[models]") {
  const std::string head = R"({"name": "t", "duration": "1h", "seed": 9,
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000}, {"id": "b", "lat": 34, "lon": 135, "population": 50000}],
    "sources": [{"kind": "weather", "count": 5, "arrival": {"process": "periodic", "period": "1m"}})";
  std::string all_others;
  for (const std::string& k : SourceKindNames()) {
    if (k != "weather") all_others += R"(, {"kind": ")" + k + R"(", "count": 7, "arrival": {"process": "poisson", "rate": 0.1}})";
  }
  Scenario alone = Load(head + "]}");
  Scenario crowded = Load(head + all_others + "]}");
  auto w1 = World::Build(alone), w2 = World::Build(crowded);
  REQUIRE(w1);
  REQUIRE(w2);
  auto stream = [](World& w) {
    std::string out;
    for (SourceGroup& g : w.sources()) {
      if (g.model->kind() != "weather") continue;
      for (uint32_t k = 0; k < 10; ++k) {
        for (uint32_t i = 0; i < g.count; ++i) {
          citybed::sim::Rng rng = World::ReportRng(g, i, k);
          EntityUpdate u;
          u.id = EntityId(*g.model, w.scenario().regions[static_cast<size_t>(g.region)].id, i);
          u.type = g.model->entity_type();
          g.model->Report(w.Context(g, i, k * 60'000'000'000LL), g.StateOf(i), rng, u);
          AppendNgsiLdEntity(out, u);
          out += "\n";
        }
      }
    }
    return out;
  };
  const std::string a = stream(**w1), b = stream(**w2);
  CHECK(a.size() > 5000);
  CHECK(a == b);
}

TEST_CASE("Generated regions keep their invariants", "[models]") {
  RegionGenerator g;
  g.count = 100;
  g.median_population = 100000;
  g.sigma = 1.2;
  g.min_population = 5000;
  g.max_population = 3000000;
  g.waves = {5, 20, 75};
  auto regions = GenerateRegions(g, 7, ".");
  REQUIRE(regions);
  REQUIRE(regions->size() == 100);
  double total = 0;
  int by_stage[3] = {0, 0, 0};
  for (size_t i = 0; i < regions->size(); ++i) {
    const RegionSpec& r = (*regions)[i];
    total += r.population;
    CHECK(r.population >= 5000);
    CHECK(r.population <= 3000000);
    CHECK(r.lat >= 24);
    CHECK(r.lat <= 45.5);
    CHECK(r.lon >= 123);
    CHECK(r.lon <= 146);
    if (i > 0) CHECK(r.population <= (*regions)[i - 1].population);
    REQUIRE(r.stage >= 0);
    REQUIRE(r.stage <= 2);
    ++by_stage[r.stage];
  }
  CHECK(by_stage[0] == 5);
  CHECK(by_stage[1] == 20);
  CHECK(by_stage[2] == 75);
  // The CSV lists the same regions, and its populations sum to the same total.
  const std::string csv = RegionsCsv(*regions);
  double csv_total = 0;
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  int rows = 0;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) f.push_back(cell);
    csv_total += std::stod(f[4]);
    ++rows;
  }
  CHECK(rows == 100);
  CHECK(csv_total == Approx(total));
  // Deterministic in the seed.
  auto again = GenerateRegions(g, 7, ".");
  REQUIRE(again);
  CHECK(RegionsCsv(*again) == csv);
  auto other = GenerateRegions(g, 8, ".");
  REQUIRE(other);
  CHECK(RegionsCsv(*other) != csv);
  // Only the live waves run.
  g.live_waves = 2;
  auto live = GenerateRegions(g, 7, ".");
  REQUIRE(live);
  CHECK(live->size() == 25);
}

TEST_CASE("Every generated region is routed to the broker, and the gravity model is a distribution", "[models]") {
  Scenario s = Load(R"({"name": "t", "duration": "1h", "seed": 4,
    "regions": {"generate": {"count": 60, "waves": [5, 55]}},
    "network": {"generate": {"broker_hub": "osaka"}},
    "sources": [{"kind": "weather", "per_10k": 0.5, "arrival": {"process": "periodic", "period": "10m"}}],
    "users": [{"kind": "analyst", "count": 1, "arrival": {"process": "periodic", "period": "1m"},
               "requests": [{"op": "query", "type": "WeatherObserved", "cross_region": true}]}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  REQUIRE((*w)->regions().size() == 60);
  for (const RegionRuntime& r : (*w)->regions()) {
    REQUIRE(r.path.reachable);
    CHECK(r.path.nodes.back() == *(*w)->network().Find("hub-osaka"));
    CHECK(r.path.propagation > Duration());
  }
  const auto& od = (*w)->TrafficMatrix();
  REQUIRE(od.size() == 60);
  for (const std::vector<double>& row : od) {
    REQUIRE(row.size() == 60);
    double sum = 0;
    for (const double p : row) {
      CHECK(p >= 0);
      sum += p;
    }
    CHECK(sum == Approx(1.0));
  }
  // Gravity: a large region attracts more interest than a small one far away.
  CHECK(od[0][1] > od[0][59]);
  citybed::sim::Rng rng(1);
  int home = 0;
  for (int k = 0; k < 10000; ++k) home += (*w)->TargetRegion(10, rng) == 10 ? 1 : 0;
  CHECK(home / 10000.0 == Approx(od[10][10]).margin(0.02));
}

TEST_CASE("The offered load is the expected request rate of sources, users and crowds", "[models]") {
  Scenario s = Load(R"({"name": "t", "duration": "2h", "start": "2026-04-01T12:00:00+09:00",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000},
                {"id": "b", "lat": 34, "lon": 135, "population": 50000}],
    "sources": [{"kind": "weather", "count": 60, "arrival": {"process": "periodic", "period": "1m"}},
                {"kind": "river-gauge", "count": 10, "arrival": {"process": "poisson", "rate": 0.5}}],
    "users": [{"kind": "analyst", "count": 2, "arrival": {"process": "periodic", "period": "10s"},
               "requests": [{"op": "query", "type": "WeatherObserved", "pages": 3},
                            {"op": "subscribe", "type": "WeatherObserved"}]}],
    "events": [{"kind": "heavy-rain", "at": "1h", "regions": ["a"], "ramp": "0s", "duration": "30m",
                "rate_factors": {"disaster": 4, "environment": 1},
                "crowd": {"per_10k": 10, "ramp": "10m", "decay": "1h", "rate": 0.1,
                          "requests": [{"op": "get", "type": "FloodMonitoring"},
                                       {"op": "subscribe", "type": "FloodMonitoring"}]}}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  // Before the event: 2 regions x (60 weather / 60 s + 10 gauges x 0.5/s); 4 analysts x 3 pages / 10 s.
  const OfferedLoad calm = (*w)->OfferedAt(Duration::Minutes(30).ns());
  CHECK(calm.sources == Approx(2 * (1.0 + 5.0)));
  CHECK(calm.users == Approx(4 * 3 / 10.0));
  CHECK(calm.crowds == 0);
  // Five minutes into the rain: region a's gauges report 4 times as often; 100 crowd members,
  // half of them joined (on joining each makes its one subscription — not its other requests —
  // over 10 minutes), acting at 0.1/s decaying.
  const OfferedLoad rain = (*w)->OfferedAt(Duration::Minutes(65).ns());
  CHECK(rain.sources == Approx(2 * 1.0 + 5.0 * 4 + 5.0));
  CHECK(rain.users == Approx(calm.users));
  CHECK(rain.crowds == Approx(100 * (0.5 * 0.1 * std::exp(-300.0 / 3600) + 1.0 / 600)));
  CHECK(rain.by_op[static_cast<size_t>(OpKind::kSubscribe)] == Approx(100 * 1.0 / 600));
  CHECK(rain.by_op[static_cast<size_t>(OpKind::kGet)] == Approx(100 * 0.5 * 0.1 * std::exp(-300.0 / 3600)));
  CHECK(rain.by_kind.at("crowd:heavy-rain") == Approx(rain.crowds));
  // After the crowd has joined, only its decaying actions remain.
  const OfferedLoad later = (*w)->OfferedAt(Duration::Minutes(80).ns());
  CHECK(later.crowds == Approx(100 * 0.1 * std::exp(-1200.0 / 3600)));
}

TEST_CASE("Placement: round robin by region index, balanced puts the heaviest regions first on the least loaded instance",
          "[models][instances]") {
  // Demand per region (weather stations reporting once a minute): a 90, b 30, c 30, d 30, e 20 per minute.
  Scenario s = Load(R"({"name": "t", "duration": "1h",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}, {"id": "b", "lat": 34, "lon": 135, "population": 1000},
                {"id": "c", "lat": 33, "lon": 130, "population": 1000}, {"id": "d", "lat": 43, "lon": 141, "population": 1000},
                {"id": "e", "lat": 38, "lon": 140, "population": 1000}],
    "sources": [{"kind": "weather", "regions": ["a"], "count": 90, "arrival": {"process": "periodic", "period": "1m"}},
                {"kind": "weather", "regions": ["b", "c", "d"], "count": 30, "arrival": {"process": "periodic", "period": "1m"}},
                {"kind": "weather", "regions": ["e"], "count": 20, "arrival": {"process": "periodic", "period": "1m"}}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  const std::vector<double> demand = RegionDemand(**w);
  REQUIRE(demand.size() == 5);
  CHECK(demand[0] == Approx(1.5));
  CHECK(demand[1] == Approx(0.5));
  CHECK(demand[4] == Approx(20.0 / 60));

  CHECK(PlaceRegions(**w, 2, Placement::kRoundRobin) == std::vector<int>{0, 1, 0, 1, 0});
  CHECK(PlaceRegions(**w, 1, Placement::kBalanced) == std::vector<int>{0, 0, 0, 0, 0});
  // a (90) on #0; b, c, d (30 each) on #1 (90 in all); e (20): a tie, the first instance.
  const std::vector<int> balanced = PlaceRegions(**w, 2, Placement::kBalanced);
  CHECK(balanced == std::vector<int>{0, 1, 1, 1, 0});
  const std::vector<double> share = InstanceShares(**w, balanced, 2);
  CHECK(share[0] == Approx(110.0 / 200));
  CHECK(share[1] == Approx(90.0 / 200));
  // Round robin puts a, c and e together: 140 of 200.
  CHECK(InstanceShares(**w, PlaceRegions(**w, 2, Placement::kRoundRobin), 2)[0] == Approx(140.0 / 200));
  // More instances than regions: every region alone, the rest idle.
  const std::vector<int> seven = PlaceRegions(**w, 7, Placement::kBalanced);
  CHECK(std::set<int>(seven.begin(), seven.end()).size() == 5);
}
