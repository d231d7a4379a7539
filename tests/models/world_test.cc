#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "citybed/models/arrivals.h"
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
