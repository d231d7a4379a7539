// Context source registration subscriptions (CIM 009 V1.9.1, 5.11, 6.12, 6.13, 5.3.2): CRUD
// under /ngsi-ld/v1/csourceSubscriptions, and the ContextSourceNotifications a registration's
// creation, change and deletion send — newlyMatching, updated, noLongerMatching — to a
// receiver on 127.0.0.1. Every wait is bounded.
#include <catch2/catch.hpp>

#include "federation_util.h"

using namespace citybed::broker;
using citybed::FetchResult;
using citybed::testing::FederationNode;
using citybed::testing::Receiver;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string Sub(const std::string& endpoint, const std::string& more = "") {
  return R"({"type":"Subscription","entities":[{"type":"Building"}],"notification":{"endpoint":{"uri":")" + endpoint +
         R"("}})" + more + "}";
}

std::string Reg(const std::string& id, const std::string& information, const std::string& more = "") {
  return R"({"id":")" + id + R"(","type":"ContextSourceRegistration","information":)" + information +
         R"(,"endpoint":"http://127.0.0.1:9/city")" + more + "}";
}

const std::string kBuilding = R"([{"entities":[{"type":"Building"}]}])";

json::object Notification(Receiver& r, size_t i) {
  const auto got = r.received();
  REQUIRE(got.size() > i);
  INFO(got[i].body);
  return json::parse(got[i].body).as_object();
}

}  // namespace

TEST_CASE("Csource subscriptions: create, read, list, update, delete", "[broker][csource]") {
  FederationNode b;
  const std::string base = "/ngsi-ld/v1/csourceSubscriptions";
  const FetchResult c = b.Call("POST", base, Sub("http://127.0.0.1:9/n", R"(,"id":"urn:ngsi-ld:Subscription:c1")"));
  REQUIRE(c.status == 201);
  CHECK(c.Get("Location") == base + "/urn:ngsi-ld:Subscription:c1");
  const FetchResult g = b.Call("GET", base + "/urn:ngsi-ld:Subscription:c1");
  REQUIRE(g.status == 200);
  const json::object got = json::parse(g.body).as_object();
  CHECK(got.at("type") == "Subscription");
  CHECK(got.at("entities").at(0).at("type") == "Building");
  CHECK(got.at("status") == "active");
  // Not an entity subscription: not listed there.
  CHECK(json::parse(b.Call("GET", "/ngsi-ld/v1/subscriptions").body).as_array().empty());
  CHECK(json::parse(b.Call("GET", base).body).as_array().size() == 1);
  CHECK(b.Call("PATCH", base + "/urn:ngsi-ld:Subscription:c1", R"({"isActive":false})").status == 204);
  CHECK(json::parse(b.Call("GET", base + "/urn:ngsi-ld:Subscription:c1").body).at("status") == "paused");
  CHECK(b.Call("POST", base, Sub("http://127.0.0.1:9/n", R"(,"id":"urn:ngsi-ld:Subscription:c1")")).status == 409);
  // What it cannot have, or lacks.
  CHECK(b.Call("POST", base, R"({"type":"Subscription","entities":[{"type":"Building"}]})").status == 400);
  CHECK(b.Call("POST", base, Sub("http://127.0.0.1:9/n", R"(,"notificationTrigger":["entityCreated"])")).status == 400);
  CHECK(b.Call("POST", base, Sub("http://127.0.0.1:9/n", R"(,"temporalQ":{"timerel":"soon","timeAt":"2020-01-01T00:00:00Z"})"))
            .status == 400);
  CHECK(b.Call("POST", "/ngsi-ld/v1/subscriptions",
               Sub("http://127.0.0.1:9/n", R"(,"temporalQ":{"timerel":"after","timeAt":"2020-01-01T00:00:00Z"})"))
            .status == 400);  // temporalQ is for context source registration subscriptions only
  CHECK(b.Call("GET", base + "/not-a-uri").status == 400);
  CHECK(b.Call("DELETE", base + "/urn:ngsi-ld:Subscription:c1").status == 204);
  CHECK(b.Call("GET", base + "/urn:ngsi-ld:Subscription:c1").status == 404);
  CHECK(b.Call("DELETE", base + "/urn:ngsi-ld:Subscription:c1").status == 404);
}

TEST_CASE("Csource subscriptions: registrations that newly match, change, or stop matching are notified",
          "[broker][csource]") {
  FederationNode b;
  Receiver r;
  const std::string r1 = "urn:ngsi-ld:ContextSourceRegistration:r1", r2 = "urn:ngsi-ld:ContextSourceRegistration:r2",
                    r3 = "urn:ngsi-ld:ContextSourceRegistration:r3";
  b.Register(Reg(r1, kBuilding));
  // 1. Created while r1 matches: a first notification of it.
  REQUIRE(b.Call("POST", "/ngsi-ld/v1/csourceSubscriptions", Sub(r.url("/notify"))).status == 201);
  REQUIRE(r.WaitFor(1, 5s));
  json::object n = Notification(r, 0);
  CHECK(n.at("type") == "ContextSourceNotification");
  CHECK(n.at("triggerReason") == "newlyMatching");
  REQUIRE(n.at("data").as_array().size() == 1);
  CHECK(n.at("data").at(0).at("id").as_string() == r1);
  CHECK(n.at("subscriptionId").as_string().rfind("urn:ngsi-ld:Subscription:", 0) == 0);
  CHECK(r.received().at(0).headers.at("Content-Type") == "application/json");
  // 2. A registration of buses matches nothing; 3. one of buses and buildings matches, and the
  // notification shows its buildings only.
  b.Register(Reg(r2, R"([{"entities":[{"type":"Bus"}]}])"));
  b.Register(Reg(r3, R"([{"entities":[{"type":"Bus"}]},{"entities":[{"type":"Building"}]}])"));
  REQUIRE(r.WaitFor(2, 5s));
  n = Notification(r, 1);
  CHECK(n.at("triggerReason") == "newlyMatching");
  CHECK(n.at("data").at(0).at("id").as_string() == r3);
  REQUIRE(n.at("data").at(0).at("information").as_array().size() == 1);
  CHECK(n.at("data").at(0).at("information").at(0).at("entities").at(0).at("type") == "Building");
  // 4. A matching registration changes; 5. it stops matching; 6. one is deleted.
  REQUIRE(b.Call("PATCH", "/ngsi-ld/v1/csourceRegistrations/" + r1, R"({"endpoint":"http://127.0.0.1:9/other"})").status ==
          204);
  REQUIRE(r.WaitFor(3, 5s));
  CHECK(Notification(r, 2).at("triggerReason") == "updated");
  CHECK(Notification(r, 2).at("data").at(0).at("endpoint") == "http://127.0.0.1:9/other");
  REQUIRE(b.Call("PATCH", "/ngsi-ld/v1/csourceRegistrations/" + r1, R"({"information":[{"entities":[{"type":"Tram"}]}]})")
              .status == 204);
  REQUIRE(r.WaitFor(4, 5s));
  CHECK(Notification(r, 3).at("triggerReason") == "noLongerMatching");
  CHECK(Notification(r, 3).at("data").at(0).at("id").as_string() == r1);
  REQUIRE(b.Call("DELETE", "/ngsi-ld/v1/csourceRegistrations/" + r3).status == 204);
  REQUIRE(r.WaitFor(5, 5s));
  CHECK(Notification(r, 4).at("triggerReason") == "noLongerMatching");
  CHECK(Notification(r, 4).at("data").at(0).at("id").as_string() == r3);
  // Changes of registrations it never concerned send nothing: the next one is this.
  REQUIRE(b.Call("DELETE", "/ngsi-ld/v1/csourceRegistrations/" + r2).status == 204);
  b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:r4", kBuilding));
  REQUIRE(r.WaitFor(6, 5s));
  CHECK(Notification(r, 5).at("data").at(0).at("id").as_string() == "urn:ngsi-ld:ContextSourceRegistration:r4");
}

TEST_CASE("Csource subscriptions: watched attributes, area and time narrow what is notified", "[broker][csource]") {
  FederationNode b;
  Receiver r;
  SECTION("watchedAttributes") {
    REQUIRE(b.Call("POST", "/ngsi-ld/v1/csourceSubscriptions",
                   Sub(r.url("/n"), R"(,"watchedAttributes":["name"])")).status == 201);
    b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:a", R"([{"entities":[{"type":"Building"}],"propertyNames":["height"]}])"));
    b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:b", R"([{"entities":[{"type":"Building"}],"propertyNames":["name"]}])"));
  }
  SECTION("geoQ") {
    REQUIRE(b.Call("POST", "/ngsi-ld/v1/csourceSubscriptions",
                   Sub(r.url("/n"), R"(,"geoQ":{"georel":"near;maxDistance==2000","geometry":"Point","coordinates":[139.70,35.69]})"))
                .status == 201);
    b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:a", kBuilding,
                   R"(,"location":{"type":"Point","coordinates":[135.50,34.69]})"));  // Osaka
    b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:b", kBuilding,
                   R"(,"location":{"type":"Point","coordinates":[139.701,35.691]})"));  // ~140 m away
  }
  SECTION("temporalQ") {
    REQUIRE(b.Call("POST", "/ngsi-ld/v1/csourceSubscriptions",
                   Sub(r.url("/n"), R"(,"temporalQ":{"timerel":"after","timeAt":"2020-06-01T00:00:00Z"})")).status == 201);
    b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:a", kBuilding,
                   R"(,"observationInterval":{"startAt":"2018-01-01T00:00:00Z","endAt":"2019-01-01T00:00:00Z"})"));
    b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:b", kBuilding,
                   R"(,"observationInterval":{"startAt":"2020-08-01T00:00:00Z","endAt":"2021-08-01T00:00:00Z"})"));
  }
  // Only b was notified (a would have come first).
  REQUIRE(r.WaitFor(1, 5s));
  CHECK(Notification(r, 0).at("data").at(0).at("id").as_string() == "urn:ngsi-ld:ContextSourceRegistration:b");
}

TEST_CASE("Csource subscriptions: a periodic one notifies every interval", "[broker][csource]") {
  FederationNode b;
  Receiver r;
  b.Register(Reg("urn:ngsi-ld:ContextSourceRegistration:p", kBuilding));
  REQUIRE(b.Call("POST", "/ngsi-ld/v1/csourceSubscriptions", Sub(r.url("/n"), R"(,"timeInterval":1)")).status == 201);
  REQUIRE(r.WaitFor(2, 5s));
  CHECK(Notification(r, 1).at("data").at(0).at("id").as_string() == "urn:ngsi-ld:ContextSourceRegistration:p");
}
