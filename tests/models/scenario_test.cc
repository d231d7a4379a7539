#include <catch2/catch.hpp>
#include <string>

#include "citybed/models/scenario.h"

using namespace citybed::models;

namespace {

const char* kMinimal = R"({
  "name": "t", "duration": "10s",
  "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
  "sources": [{"kind": "air-quality", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}]
})";

std::vector<ScenarioError> Errors(const std::string& text) {
  auto s = ParseScenario(text, "x.json");
  if (s) return {};
  return s.error();
}

bool Has(const std::vector<ScenarioError>& errors, const std::string& pointer, const std::string& fragment) {
  for (const auto& e : errors) {
    if (e.pointer == pointer && e.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

std::string Dump(const std::vector<ScenarioError>& errors) { return FormatErrors("x.json", errors); }

}  // namespace

TEST_CASE("A minimal scenario loads with defaults", "[models]") {
  auto s = ParseScenario(kMinimal, "x.json");
  REQUIRE(s);
  CHECK(s->name == "t");
  CHECK(s->duration == citybed::sim::Duration::Seconds(10));
  CHECK(s->speed == 1);
  CHECK(s->broker.url == "embedded");
  CHECK(s->regions.size() == 1);
  CHECK(s->sources[0].count == 2);
  CHECK(s->utc_offset_hours == 9);
}

TEST_CASE("Type errors and out-of-range values name their JSON pointer", "[models]") {
  auto e = Errors(R"({
    "name": "t", "duration": 10, "speed": -1, "seed": "x",
    "regions": [{"id": "a", "lat": 95, "lon": 139, "population": -2}]
  })");
  INFO(Dump(e));
  CHECK(Has(e, "/duration", "must be a duration"));
  CHECK(Has(e, "/speed", "must be > 0"));
  CHECK(Has(e, "/seed", "must be an integer"));
  CHECK(Has(e, "/regions/0/lat", "must be >= -90 and <= 90 (got 95)"));
  CHECK(Has(e, "/regions/0/population", "must be > 0"));
  CHECK(e.size() == 5);  // every mistake at once
}

TEST_CASE("Unknown keys get a did-you-mean hint", "[models]") {
  auto e = Errors(R"({
    "name": "t", "duraton": "10s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "populaton": 5}],
    "sources": [{"kind": "air-qualty", "count": 1, "arrival": {"proces": "periodic", "period": "1s"}}]
  })");
  INFO(Dump(e));
  CHECK(Has(e, "/duraton", "did you mean \"duration\""));
  CHECK(Has(e, "/duration", "is required"));
  CHECK(Has(e, "/regions/0/populaton", "did you mean \"population\""));
  CHECK(Has(e, "/sources/0/kind", "did you mean \"air-quality\""));
  CHECK(Has(e, "/sources/0/arrival/proces", "did you mean \"process\""));
}

TEST_CASE("Dangling references are reported", "[models]") {
  auto e = Errors(R"({
    "name": "t", "duration": "10s",
    "regions": [{"id": "tokyo", "lat": 35, "lon": 139, "population": 1000}],
    "network": {
      "nodes": [{"id": "gw", "lat": 35, "lon": 139}, {"id": "dc", "lat": 35, "lon": 139}],
      "links": [{"from": "gw", "to": "dcc"}],
      "broker_node": "dc",
      "access": {"default": {"node": "gww"}, "regions": {"kyoto": {"node": "gw"}}}
    },
    "sources": [{"kind": "air-quality", "regions": ["tokio"], "count": 1, "arrival": {"process": "periodic", "period": "1s"}}],
    "users": [{"kind": "u", "count": 1, "arrival": {"process": "poisson", "rate": 1},
               "requests": [{"op": "get", "type": "ParkingSpot"}, {"op": "serch", "type": "AirQualityObserved"}]}]
  })");
  INFO(Dump(e));
  CHECK(Has(e, "/network/links/0/to", "unknown node \"dcc\" (did you mean \"dc\"?)"));
  CHECK(Has(e, "/network/access/default/node", "unknown node \"gww\""));
  CHECK(Has(e, "/network/access/regions/kyoto", "unknown region"));
  CHECK(Has(e, "/sources/0/regions/0", "unknown region \"tokio\" (did you mean \"tokyo\"?)"));
  CHECK(Has(e, "/users/0/requests/0/type", "no source of this scenario emits type \"ParkingSpot\""));
  CHECK(Has(e, "/users/0/requests/1/op", "unknown op \"serch\""));
}

TEST_CASE("Arrival, duration and SLO mistakes are explained", "[models]") {
  auto e = Errors(R"({
    "name": "bad name!", "duration": "10s", "warmup": "20s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [
      {"kind": "air-quality", "count": 1, "arrival": {"process": "periodic", "period": "1s", "jitter": "2s"}},
      {"kind": "weather", "count": 1, "per_10k": 3, "arrival": {"process": "poisson"}},
      {"kind": "weather", "arrival": {"process": "bursty", "rate": 1}},
      {"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "5 parsecs"}}
    ],
    "slo": {"latency": {"get": {"p99": "fast"}, "gett": {"p99": "1s"}, "query": {"q99": "1s"}}, "error_rate": 2}
  })");
  INFO(Dump(e));
  CHECK(Has(e, "/name", "letters, digits"));
  CHECK(Has(e, "/warmup", "shorter than the duration"));
  CHECK(Has(e, "/sources/0/arrival/jitter", "must not exceed the period"));
  CHECK(Has(e, "/sources/1/per_10k", "not both"));
  CHECK(Has(e, "/sources/1/arrival/rate", "is required"));
  CHECK(Has(e, "/sources/2/count", "is required"));
  CHECK(Has(e, "/sources/2/arrival/process", "unknown process \"bursty\""));
  CHECK(Has(e, "/sources/3/arrival/period", "unknown unit \"parsecs\""));
  CHECK(Has(e, "/slo/latency/get/p99", "duration"));
  CHECK(Has(e, "/slo/latency/gett", "did you mean \"get\""));
  CHECK(Has(e, "/slo/latency/query/q99", "percentile"));
  CHECK(Has(e, "/slo/error_rate", "<= 1"));
}

TEST_CASE("Broken JSON and non-objects are refused plainly", "[models]") {
  auto e = Errors("{\"name\": ");
  REQUIRE(e.size() == 1);
  CHECK(e[0].pointer.empty());
  CHECK_THAT(e[0].message, Catch::Contains("not valid JSON"));
  CHECK(Errors("[]").size() == 1);
  CHECK(FormatErrors("s.json", {{"/a/0", "bad"}}) == "s.json#/a/0: bad\n");
}

TEST_CASE("JSON pointers escape ~ and / in keys", "[models]") {
  auto e = Errors(R"({"name": "t", "duration": "1s", "regions": [{"id": "a", "lat": 1, "lon": 1, "population": 1}],
                      "a/b~c": 1})");
  CHECK(Has(e, "/a~1b~0c", "unknown key"));
}

TEST_CASE("Lists that are not arrays, and list items that are not objects, are named", "[models]") {
  auto e = Errors(R"({
    "name": "t", "duration": "10s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "network": {"nodes": 3, "links": [5], "broker_node": "x"},
    "sources": {"x": 1}, "users": "no", "events": [1, {"kind": "earthquake", "at": "1s"}]
  })");
  INFO(Dump(e));
  CHECK(Has(e, "/network/nodes", "must be an array"));
  CHECK(Has(e, "/network/links/0", "must be an object (got a number)"));
  CHECK(Has(e, "/sources", "must be an array"));
  CHECK(Has(e, "/users", "must be an array"));
  CHECK(Has(e, "/events/0", "must be an object"));
  for (const auto& err : e) CHECK(err.pointer.rfind("/events/1", 0) != 0);  // the valid event is read
}
