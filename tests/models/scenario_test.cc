#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "citybed/models/protocol.h"
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

TEST_CASE("Regions choose their API, and a q NGSI-v2 cannot express is refused where a region speaks v2", "[models]") {
  auto s = ParseScenario(R"({
    "name": "t", "duration": "10s",
    "broker": {"api": "ngsi-v2", "v2_writes": "entities"},
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000},
                {"id": "b", "lat": 34, "lon": 135, "population": 1000, "api": "ngsi-ld"}],
    "sources": [{"kind": "parking-spot", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}],
    "users": [{"kind": "u", "count": 1, "arrival": {"process": "periodic", "period": "1s"},
               "requests": [{"op": "query", "type": "ParkingSpot", "q": "status==\"free\""}]}]
  })", "x.json");
  INFO((s ? std::string() : Dump(s.error())));
  REQUIRE(s);
  CHECK(s->broker.api == BrokerApi::kNgsiV2);
  CHECK(s->broker.v2_writes == V2Writes::kEntities);
  CHECK(!s->regions[0].api.has_value());
  CHECK(s->regions[1].api == BrokerApi::kNgsiLd);

  auto e = Errors(R"J({
    "name": "t", "duration": "10s",
    "broker": {"api": "ngsi-v3", "v2_writes": "batch"},
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000, "api": "ngsi-v2"},
                {"id": "b", "lat": 34, "lon": 135, "population": 1000, "api": "v2"}],
    "sources": [{"kind": "parking-spot", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}],
    "users": [{"kind": "u", "count": 1, "arrival": {"process": "periodic", "period": "1s"},
               "requests": [{"op": "query", "type": "ParkingSpot", "q": "status==\"free\"|status==\"closed\""},
                            {"op": "query", "type": "ParkingSpot", "q": "(status==\"free\")"}]}]
  })J");
  INFO(Dump(e));
  CHECK(Has(e, "/broker/api", "must be \"ngsi-ld\" or \"ngsi-v2\""));
  CHECK(Has(e, "/broker/v2_writes", "op-update"));
  CHECK(Has(e, "/regions/1/api", "must be \"ngsi-ld\" or \"ngsi-v2\""));
  CHECK(Has(e, "/users/0/requests/0/q", "OR (|)"));
  CHECK(Has(e, "/users/0/requests/1/q", "parentheses"));
  CHECK(e.size() == 5);

  // The same q is fine when every region speaks NGSI-LD.
  CHECK(Errors(R"({
    "name": "t", "duration": "10s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "parking-spot", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}],
    "users": [{"kind": "u", "count": 1, "arrival": {"process": "periodic", "period": "1s"},
               "requests": [{"op": "query", "type": "ParkingSpot", "q": "status==\"free\"|status==\"closed\""}]}]
  })").empty());
}

TEST_CASE("ngsi_v2_share spreads NGSI-v2 evenly over generated regions", "[models]") {
  auto s = ParseScenario(R"({
    "name": "t", "duration": "10s",
    "regions": {"generate": {"count": 20, "ngsi_v2_share": 0.7}},
    "sources": [{"kind": "air-quality", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}]
  })", "x.json");
  INFO((s ? std::string() : Dump(s.error())));
  REQUIRE(s);
  int v2 = 0;
  for (const RegionSpec& r : s->regions) v2 += r.api == BrokerApi::kNgsiV2 ? 1 : 0;
  CHECK(v2 == 14);
  // Evenly: never more than two of the same API in a row at 0.7 (…v2 v2 LD v2 v2 LD v2…).
  int run = 0;
  for (size_t k = 0; k < s->regions.size(); ++k) {
    run = (k > 0 && s->regions[k].api == s->regions[k - 1].api) ? run + 1 : 1;
    if (s->regions[k].api == BrokerApi::kNgsiLd) CHECK(run == 1);
    CHECK(run <= 3);
  }
}

// ---- the NGSI-v2 wire form (protocol.h) ------------------------------------------------------

namespace {
// The target and body of a wire request.
std::pair<std::string, std::string> Split(const std::string& wire) {
  const size_t sp = wire.find(' '), sp2 = wire.find(' ', sp + 1);
  const size_t body = wire.find("\r\n\r\n");
  return {wire.substr(sp + 1, sp2 - sp - 1), wire.substr(body + 4)};
}
}  // namespace

TEST_CASE("NGSI-v2 requests are what Orion expects", "[models][ngsiv2]") {
  CHECK(*V2Query("status==\"free\",\"closed\";occupancy>0.9") == "status=='free','closed';occupancy>0.9");
  CHECK(*V2Query("no2>40;pm25>10") == "no2>40;pm25>10");
  CHECK(!V2Query("a==1|b==2"));
  CHECK(!V2Query("a[x]==1"));
  CHECK(!V2Query("a==\"it's\""));
  CHECK(V2Tenant("Tokyo-23.ward") == "tokyo_23_ward");
  CHECK(V2Tenant(std::string(60, 'a')).size() == 50);

  auto v2 = MakeNgsiV2Protocol("b.test");
  EntityUpdate e;
  e.id = "urn:ngsi-ld:ParkingSpot:a:1";
  e.type = "ParkingSpot";
  e.observed_us = 1'700'000'000'000'000;
  e.Add("status", AttrOut::Kind::kText).text = "free";
  auto& loc = e.Add("location", AttrOut::Kind::kPoint);
  loc.point = {139.7, 35.6};
  loc.observed = false;
  auto& t = e.Add("temperature", AttrOut::Kind::kNumber);
  t.number = 21.5;
  t.unit = "CEL";

  const std::string write = v2->Write(e, "Tokyo-23");
  CHECK(write.rfind("POST /v2/op/update HTTP/1.1\r\n", 0) == 0);
  CHECK(write.find("Fiware-Service: tokyo_23\r\n") != std::string::npos);
  CHECK(write.find("Fiware-ServicePath: /\r\n") != std::string::npos);
  const auto body = nlohmann::json::parse(Split(write).second);
  CHECK(body["actionType"] == "append");
  const auto& ent = body["entities"][0];
  CHECK(ent["status"] == nlohmann::json::parse(
                             R"({"type":"Text","value":"free","metadata":{"observedAt":{"type":"DateTime","value":"2023-11-14T22:13:20Z"}}})"));
  CHECK(ent["location"] == nlohmann::json::parse(
                               R"({"type":"geo:json","value":{"type":"Point","coordinates":[139.7,35.6]},"metadata":{}})"));
  CHECK(ent["temperature"]["metadata"]["unitCode"] == nlohmann::json::parse(R"({"type":"Text","value":"CEL"})"));

  CHECK(Split(MakeNgsiV2Protocol("b.test", V2Writes::kEntities)->Write(e, "")).first == "/v2/entities?options=upsert");
  CHECK(Split(v2->Get(e.id, "")).first == "/v2/entities/urn:ngsi-ld:ParkingSpot:a:1?type=ParkingSpot");
  CHECK(Split(v2->Query("ParkingSpot", "status==\"free\"", 20, 40, true, "")).first ==
        "/v2/entities?type=ParkingSpot&q=status=='free'&limit=20&offset=40&options=count");
  CHECK(Split(v2->GeoQuery("ParkingSpot", {139.7, 35.6}, 500, 10, "")).first ==
        "/v2/entities?type=ParkingSpot&georel=near;maxDistance:500&geometry=point&coords=35.600000,139.700000&limit=10");

  const std::vector<std::string> watched = {"status"};
  SubscriptionRequest sub{.id = "urn:x:1", .type = "ParkingSpot", .watched = &watched, .q = "status==\"free\"",
                          .endpoint = "http://r.test/notify/a", .expires_at = "2030-01-01T00:00:00Z"};
  const auto [target, sbody] = Split(v2->Subscribe(sub, ""));
  CHECK(target == "/v2/subscriptions");
  CHECK(nlohmann::json::parse(sbody) == nlohmann::json::parse(R"({
    "description": "urn:x:1",
    "subject": {"entities": [{"idPattern": ".*", "type": "ParkingSpot"}],
                "condition": {"attrs": ["status"], "expression": {"q": "status=='free'"}}},
    "notification": {"http": {"url": "http://r.test/notify/a"}, "attrsFormat": "normalized"},
    "expires": "2030-01-01T00:00:00Z"})"));
}

TEST_CASE("A deeply nested document is refused before anything recurses on it", "[models]") {
  const std::string deep = R"({"name": "t", "description": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto e = Errors(deep);
  INFO(Dump(e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].pointer.empty());
  CHECK(e[0].message.find("nested deeper than 64 levels") != std::string::npos);
}

TEST_CASE("Broker instances: embedded or a list of URLs, a placement, never with a federation", "[models][instances]") {
  auto ok = ParseScenario(R"({"name": "t", "duration": "10s", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "broker": {"urls": ["http://127.0.0.1:1026", "http://127.0.0.1:1027"], "placement": "balanced"}})", "x.json");
  REQUIRE(ok);
  CHECK(ok->broker.instances == 2);
  CHECK(ok->broker.urls.size() == 2);
  CHECK(ok->broker.placement == Placement::kBalanced);

  auto e = Errors(R"({"name": "t", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "broker": {"url": "http://127.0.0.1:1026", "urls": ["http://127.0.0.1:1027", "ftp://x", 3], "instances": 4,
               "placement": "random"}})");
  INFO(Dump(e));
  CHECK(Has(e, "/broker/urls/1", "must be an http:// URL"));
  CHECK(Has(e, "/broker/urls/2", "must be an http:// URL"));
  CHECK(Has(e, "/broker/url", "not both"));
  CHECK(Has(e, "/broker/instances", "urls lists 3"));
  CHECK(Has(e, "/broker/placement", "round-robin"));

  e = Errors(R"({"name": "t", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "broker": {"url": "http://127.0.0.1:1026", "instances": 2}})");
  INFO(Dump(e));
  CHECK(Has(e, "/broker/instances", "embedded broker or a list of urls"));

  e = Errors(R"({"name": "t", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000},
                                          {"id": "b", "lat": 34, "lon": 135, "population": 1000}],
    "broker": {"instances": 2}, "federation": {"topology": "star"}})");
  INFO(Dump(e));
  CHECK(Has(e, "/broker/instances", "federation"));
  e = Errors(R"({"name": "t", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000},
                                          {"id": "b", "lat": 34, "lon": 135, "population": 1000}],
    "broker": {"urls": ["http://127.0.0.1:1026"]}, "federation": {"topology": "star"}})");
  INFO(Dump(e));
  CHECK(Has(e, "/broker/urls", "federation"));
  e = Errors(R"({"name": "t", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "broker": {"urls": ["http://a b:1026", "http://c:1026"]}})");
  CHECK(Has(e, "/broker/urls/0", "must be an http:// URL"));
  e = Errors(R"({"name": "t", "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}], "broker": {"instances": 0}})");
  CHECK(Has(e, "/broker/instances", "between 1 and 256"));
}
