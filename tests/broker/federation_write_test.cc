// Distributed provision (CIM 009 V1.9.1, 4.3.6.2, 4.3.6.3, 5.6): writes that registrations
// concern reach their sources in the registration's mode — inclusive (there and here),
// exclusive (the registered attributes there only), redirect (there only), auxiliary (never)
// — and the client learns which part failed. Embedded brokers and scripted sources on
// 127.0.0.1; every wait is bounded by the forwarder's deadline and the Fetch deadline.
#include <catch2/catch.hpp>

#include "federation_util.h"

using namespace citybed::broker;
using citybed::FetchResult;
using citybed::testing::FederationNode;
using citybed::testing::Receiver;
using namespace citybed::testing::federation;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMaxHopsForTest = 8;  // distributed.h kMaxHops (private to the broker)

std::string WriteRegistration(const std::string& endpoint, const std::string& mode, const std::string& entities,
                              const std::string& more = "", const std::string& operations = R"(["redirectionOps"])",
                              const std::string& id = "") {
  return R"({"type":"ContextSourceRegistration",)" + (id.empty() ? std::string() : R"("id":")" + id + R"(",)") +
         R"("information":[{"entities":[)" + entities + "]" + more + R"(}],"mode":")" + mode + R"(","operations":)" +
         operations + R"(,"endpoint":")" + endpoint + "\"}";
}

// The entity as `node` holds it itself (404: it holds none).
FetchResult Local(FederationNode& node, const std::string& id) {
  return node.Call("GET", "/ngsi-ld/v1/entities/" + id + "?local=true");
}

bool Has(const FetchResult& r, const std::string& attr) {
  return r.status == 200 && json::parse(r.body).as_object().contains(attr);
}

json::object Body(const FetchResult& r) {
  INFO(r.body);
  return json::parse(r.body).as_object();
}

}  // namespace

TEST_CASE("Distributed writes: each mode writes where the registration says", "[broker][federation]") {
  FederationNode hub, source;
  const std::string id = "urn:ngsi-ld:Room:w1";

  SECTION("inclusive: written at the source and here") {
    hub.Register(WriteRegistration(source.Endpoint(), "inclusive", R"({"type":"Room"})"));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 21));
    CHECK(c.status == 201);
    CHECK(c.Get("Location") == "/ngsi-ld/v1/entities/" + id);
    CHECK(Has(Local(hub, id), "temperature"));
    CHECK(Has(Local(source, id), "temperature"));
    // An update goes to both too.
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities/" + id + "/attrs", R"({"humidity":{"type":"Property","value":40}})")
              .status == 204);
    CHECK(Has(Local(hub, id), "humidity"));
    CHECK(Has(Local(source, id), "humidity"));
    CHECK(hub.Call("DELETE", "/ngsi-ld/v1/entities/" + id).status == 204);
    CHECK(Local(hub, id).status == 404);
    CHECK(Local(source, id).status == 404);
  }
  SECTION("exclusive: the registered attributes go to the source only, the rest stays here") {
    hub.Register(WriteRegistration(source.Endpoint(), "exclusive", R"({"id":")" + id + R"(","type":"Room"})",
                              R"(,"propertyNames":["humidity"])"));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities",
                                   Room(id, 21, R"(,"humidity":{"type":"Property","value":40})"));
    CHECK(c.status == 201);
    const FetchResult here = Local(hub, id), there = Local(source, id);
    CHECK(Has(here, "temperature"));
    CHECK_FALSE(Has(here, "humidity"));
    CHECK(Has(there, "humidity"));
    CHECK_FALSE(Has(there, "temperature"));
    // A write of the registered attribute alone leaves nothing to do here, even for an
    // attribute this broker does not hold.
    CHECK(hub.Call("PATCH", "/ngsi-ld/v1/entities/" + id + "/attrs/humidity", R"({"value":45})").status == 204);
    CHECK(Body(Local(source, id)).at("humidity").at("value").to_number<double>() == 45);
    CHECK(hub.Call("DELETE", "/ngsi-ld/v1/entities/" + id + "/attrs/humidity").status == 204);
    CHECK_FALSE(Has(Local(source, id), "humidity"));
    CHECK(Has(Local(hub, id), "temperature"));
    // Deleting the entity deletes both parts.
    CHECK(hub.Call("DELETE", "/ngsi-ld/v1/entities/" + id).status == 204);
    CHECK(Local(hub, id).status == 404);
    CHECK(Local(source, id).status == 404);
  }
  SECTION("redirect: written at every matching source, not here") {
    FederationNode second;
    hub.Register(WriteRegistration(source.Endpoint(), "redirect", R"({"type":"Room"})"));
    hub.Register(WriteRegistration(second.Endpoint(), "redirect", R"({"type":"Room"})"));
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 21)).status == 201);
    CHECK(Local(hub, id).status == 404);
    CHECK(Has(Local(source, id), "temperature"));
    CHECK(Has(Local(second, id), "temperature"));
    // Replace and merge reach both, with the client's body.
    CHECK(hub.Call("PUT", "/ngsi-ld/v1/entities/" + id, Room(id, 30)).status == 204);
    CHECK(Body(Local(second, id)).at("temperature").at("value").to_number<double>() == 30);
    CHECK(hub.Call("PATCH", "/ngsi-ld/v1/entities/" + id, R"({"type":"Room","temperature":{"type":"Property","value":31}})").status ==
          204);
    CHECK(Body(Local(source, id)).at("temperature").at("value").to_number<double>() == 31);
    CHECK(Local(hub, id).status == 404);
  }
  SECTION("auxiliary sources and registrations without write operations are never written to") {
    hub.Register(WriteRegistration(source.Endpoint(), "auxiliary", R"({"type":"Room"})", "", R"(["retrieveOps"])"));
    FederationNode reader;
    hub.Register(WriteRegistration(reader.Endpoint(), "inclusive", R"({"type":"Room"})", "", R"(["federationOps"])"));
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 21)).status == 201);
    CHECK(Has(Local(hub, id), "temperature"));
    CHECK(Local(source, id).status == 404);
    CHECK(Local(reader, id).status == 404);
    CHECK(hub.broker.forwarder().Counters().sent == 0);
  }
  SECTION("local=true and invalid requests are not forwarded") {
    hub.Register(WriteRegistration(source.Endpoint(), "inclusive", R"({"type":"Room"})"));
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities?local=true", Room(id, 21)).status == 201);
    CHECK(Local(source, id).status == 404);
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities", Room("not a uri", 21)).status == 400);
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities/" + id + "/attrs", R"({"humidity":{"type":"Property"}})").status == 400);
    CHECK(hub.broker.forwarder().Counters().sent == 0);
  }
}

TEST_CASE("Distributed writes: what is forwarded is the client's request, narrowed", "[broker][federation]") {
  FederationNode hub;
  Receiver source;
  source.Script([](const Receiver::Received&) { return Receiver::Scripted{204, ""}; });
  const std::string id = "urn:ngsi-ld:Room:w2";
  hub.Create(Room(id, 21));
  hub.Register(WriteRegistration(source.url("/city"), "exclusive", R"({"id":")" + id + R"(","type":"Room"})",
                                 R"(,"propertyNames":["humidity"])"));
  const FetchResult r =
      hub.Call("POST", "/ngsi-ld/v1/entities/" + id + "/attrs?options=noOverwrite",
               R"({"humidity":{"type":"Property","value":40},"temperature":{"type":"Property","value":22}})");
  // The source took humidity; here, noOverwrite kept the temperature: a partial success.
  REQUIRE(r.status == 207);
  const json::object result = Body(r);
  CHECK(result.at("updated").as_array() == json::array{"humidity"});
  REQUIRE(result.at("notUpdated").as_array().size() == 1);
  CHECK(result.at("notUpdated").as_array()[0].at("attributeName") == "temperature");
  CHECK_FALSE(result.at("notUpdated").as_array()[0].as_object().contains("registrationId"));
  REQUIRE(source.WaitFor(1, 5s));
  const Receiver::Received got = source.received().at(0);
  CHECK(got.method == "POST");
  CHECK(got.target == "/city/ngsi-ld/v1/entities/" + id + "/attrs?options=noOverwrite");
  const json::object sent = json::parse(got.body).as_object();
  CHECK(sent.contains("humidity"));
  CHECK_FALSE(sent.contains("temperature"));
  CHECK(got.headers.at("Via") == "1.1 " + hub.broker.via_name());
  CHECK(got.headers.at("Content-Type") == "application/json");
  CHECK(Body(Local(hub, id)).at("temperature").at("value").to_number<double>() == 21);
}

TEST_CASE("Distributed writes: a failed part is named, the rest is kept", "[broker][federation]") {
  FederationNode hub, source;
  Receiver dead;  // answers 503
  dead.Script([](const Receiver::Received&) { return Receiver::Scripted{503, ""}; });
  const std::string id = "urn:ngsi-ld:Room:w3";

  SECTION("a source that fails: 207 with the registration that failed") {
    const std::string reg = "urn:ngsi-ld:ContextSourceRegistration:dead";
    hub.Register(WriteRegistration(dead.url(""), "inclusive", R"({"type":"Room"})", "", R"(["redirectionOps"])", reg));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 21));
    REQUIRE(c.status == 207);
    const json::object result = Body(c);
    CHECK(result.at("success").as_array().size() == 1);
    REQUIRE(result.at("errors").as_array().size() == 1);
    const json::object& error = result.at("errors").as_array()[0].as_object();
    CHECK(error.at("entityId").as_string() == id);
    CHECK(error.at("registrationId").as_string() == reg);
    CHECK(error.at("error").at("status").to_number<int>() == 503);
    CHECK(c.Get("NGSILD-Warning").rfind("299 ", 0) == 0);
    CHECK(Has(Local(hub, id), "temperature"));  // the local part was written
    // An attribute write answers an UpdateResult naming the attribute and the registration.
    const FetchResult a =
        hub.Call("POST", "/ngsi-ld/v1/entities/" + id + "/attrs", R"({"humidity":{"type":"Property","value":40}})");
    REQUIRE(a.status == 207);
    const json::object update = Body(a);
    CHECK(update.at("updated").as_array().empty());  // written here, not at the source: not "updated"
    CHECK(Has(Local(hub, id), "humidity"));
    REQUIRE(update.at("notUpdated").as_array().size() == 1);
    CHECK(update.at("notUpdated").as_array()[0].at("attributeName") == "humidity");
    CHECK(update.at("notUpdated").as_array()[0].at("registrationId").as_string() == reg);
  }
  SECTION("the local part fails, the source's succeeds: 207 with the local error") {
    hub.Create(Room(id, 21));
    hub.Register(WriteRegistration(source.Endpoint(), "inclusive", R"({"type":"Room"})"));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 22));
    REQUIRE(c.status == 207);
    const json::object result = Body(c);
    REQUIRE(result.at("errors").as_array().size() == 1);
    const json::object& error = result.at("errors").as_array()[0].as_object();
    CHECK_FALSE(error.contains("registrationId"));
    CHECK(error.at("error").at("status").to_number<int>() == 409);
    CHECK(Has(Local(source, id), "temperature"));
  }
  SECTION("the only part fails: its error, as it came") {
    hub.Register(WriteRegistration(source.Endpoint(), "redirect", R"({"type":"Room"})"));
    source.Create(Room(id, 1));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 22));
    CHECK(c.status == 409);
    CHECK(Body(c).at("type") == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists");
  }
  SECTION("an exclusive registration that does not accept the operation refuses its part") {
    hub.Create(Room(id, 21, R"(,"humidity":{"type":"Property","value":40})"));
    hub.Register(WriteRegistration(source.Endpoint(), "exclusive", R"({"id":")" + id + R"(","type":"Room"})",
                              R"(,"propertyNames":["humidity"])", R"(["retrieveOps"])"));
    // The entity is deleted here; the source's part is refused.
    const FetchResult d = hub.Call("DELETE", "/ngsi-ld/v1/entities/" + id);
    REQUIRE(d.status == 207);
    const json::object result = Body(d);
    REQUIRE(result.at("errors").as_array().size() == 1);
    CHECK(result.at("errors").as_array()[0].at("error").at("status").to_number<int>() == 409);
    CHECK(hub.broker.forwarder().Counters().sent == 0);
    CHECK(Local(hub, id).status == 404);
  }
  SECTION("a source that does not answer in time: 207 within the deadline") {
    Receiver silent;
    silent.Script([](const Receiver::Received&) { return Receiver::Scripted{200, "", true}; });
    hub.Register(WriteRegistration(silent.url(""), "inclusive", R"({"type":"Room"})"));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 21));
    REQUIRE(c.status == 207);
    CHECK(Body(c).at("errors").as_array()[0].at("error").at("status").to_number<int>() == 504);
    CHECK(c.Get("NGSILD-Warning").rfind("199 ", 0) == 0);
  }
}

TEST_CASE("Distributed writes: a batch is split entity by entity, one batch per source", "[broker][federation]") {
  FederationNode hub, source;
  const std::string r1 = "urn:ngsi-ld:Room:b1", r2 = "urn:ngsi-ld:Room:b2", c1 = "urn:ngsi-ld:Car:b1";
  const std::string car = R"({"id":")" + c1 + R"(","type":"Car","speed":{"type":"Property","value":50}})";

  SECTION("inclusive and redirect: an upsert lists what was created anywhere") {
    FederationNode cars;
    hub.Register(WriteRegistration(source.Endpoint(), "inclusive", R"({"type":"Room"})"));
    hub.Register(WriteRegistration(cars.Endpoint(), "redirect", R"({"type":"Car"})"));
    const FetchResult up = hub.Call("POST", "/ngsi-ld/v1/entityOperations/upsert", "[" + Room(r1, 20) + "," + car + "]");
    REQUIRE(up.status == 201);
    CHECK(json::parse(up.body) == json::parse("[\"" + r1 + "\",\"" + c1 + "\"]"));
    CHECK(hub.broker.forwarder().Counters().sent == 2);  // one batch per source
    CHECK(Has(Local(hub, r1), "temperature"));
    CHECK(Local(hub, c1).status == 404);
    CHECK(Has(Local(source, r1), "temperature"));
    CHECK(Local(source, c1).status == 404);
    CHECK(Has(Local(cars, c1), "speed"));
    // Merge goes the same way.
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entityOperations/merge",
                   R"([{"id":")" + c1 + R"(","type":"Car","speed":60}])").status == 204);
    CHECK(Body(Local(cars, c1)).at("speed").at("value").to_number<double>() == 60);
  }
  SECTION("exclusive: the registered attributes go to the source in one batch") {
    hub.Register(WriteRegistration(source.Endpoint(), "exclusive", R"({"id":")" + r1 + R"(","type":"Room"})",
                                   R"(,"propertyNames":["humidity"])"));
    const std::string humid = R"(,"humidity":{"type":"Property","value":40})";
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entityOperations/create",
                                   "[" + Room(r1, 20, humid) + "," + Room(r2, 21, humid) + "]");
    REQUIRE(c.status == 201);
    CHECK(json::parse(c.body) == json::parse("[\"" + r1 + "\",\"" + r2 + "\"]"));
    CHECK_FALSE(Has(Local(hub, r1), "humidity"));
    CHECK(Has(Local(hub, r1), "temperature"));
    CHECK(Has(Local(hub, r2), "humidity"));  // r2 is not registered
    CHECK(Has(Local(source, r1), "humidity"));
    CHECK_FALSE(Has(Local(source, r1), "temperature"));
    CHECK(Local(source, r2).status == 404);
    // An update of the registered attribute alone is the source's only.
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entityOperations/update",
                   R"([{"id":")" + r1 + R"(","type":"Room","humidity":{"type":"Property","value":50}}])").status == 204);
    CHECK(Body(Local(source, r1)).at("humidity").at("value").to_number<double>() == 50);
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entityOperations/delete", "[\"" + r1 + "\",\"" + r2 + "\"]").status == 204);
    CHECK(Local(hub, r1).status == 404);
    CHECK(Local(source, r1).status == 404);
  }
  SECTION("a failing source: 207 naming its registration for each of its entities") {
    Receiver dead;
    dead.Script([](const Receiver::Received&) { return Receiver::Scripted{500, ""}; });
    hub.Register(WriteRegistration(dead.url(""), "inclusive", R"({"type":"Room"})", "", R"(["redirectionOps"])",
                                   "urn:ngsi-ld:ContextSourceRegistration:dead"));
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entityOperations/create",
                                   "[" + Room(r1, 20) + "," + car + "]");
    REQUIRE(c.status == 207);
    const json::object result = Body(c);
    CHECK(result.at("success") == json::array{c1});  // the car was no source's
    REQUIRE(result.at("errors").as_array().size() == 1);
    CHECK(result.at("errors").as_array()[0].at("entityId").as_string() == r1);
    CHECK(result.at("errors").as_array()[0].at("registrationId").as_string() == "urn:ngsi-ld:ContextSourceRegistration:dead");
    CHECK(Has(Local(hub, r1), "temperature"));
  }
}

TEST_CASE("Distributed writes: where a write does not go", "[broker][federation]") {
  FederationNode hub;
  Receiver source;
  source.Script([](const Receiver::Received&) { return Receiver::Scripted{204, ""}; });
  const std::string id = "urn:ngsi-ld:Room:n1";

  SECTION("an entity of a type unknown here reaches only registrations of its id") {
    hub.Register(WriteRegistration(source.url("/rooms"), "redirect", R"({"type":"Room"})"));
    // Not stored here, no type given: no type-only registration can claim it.
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities/" + id + "/attrs", R"({"humidity":{"type":"Property","value":1}})")
              .status == 404);
    CHECK(source.received().empty());
    // With the type, it goes where the type's registration says.
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities/" + id + "/attrs?type=Room", R"({"humidity":{"type":"Property","value":1}})")
              .status == 204);
    REQUIRE(source.WaitFor(1, 5s));
    CHECK(source.received().at(0).target == "/rooms/ngsi-ld/v1/entities/" + id + "/attrs?type=Room");
  }
  SECTION("two registrations of one source: one request") {
    hub.Register(WriteRegistration(source.url(""), "inclusive", R"({"type":"Room"})"));
    hub.Register(WriteRegistration(source.url(""), "inclusive", R"({"idPattern":"urn:ngsi-ld:Room:.*","type":"Room"})"));
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 1)).status == 201);
    CHECK(hub.broker.forwarder().Counters().sent == 1);
  }
  SECTION("a source on the request's path is not asked, and what it holds is not written here") {
    hub.Register(R"({"type":"ContextSourceRegistration","information":[{"entities":[{"id":")" + id +
                 R"(","type":"Room"}],"propertyNames":["humidity"]}],"mode":"exclusive","operations":["redirectionOps"],)"
                 R"("contextSourceAlias":"region-a","endpoint":")" + source.url("") + R"("})");
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 1, R"(,"humidity":{"type":"Property","value":2})"),
                                   {{"Via", "1.1 region-a"}});
    CHECK(c.status == 201);
    CHECK(source.received().empty());
    CHECK(Has(Local(hub, id), "temperature"));
    CHECK_FALSE(Has(Local(hub, id), "humidity"));
  }
  SECTION("a request that has passed too many brokers is written here only") {
    hub.Register(WriteRegistration(source.url(""), "inclusive", R"({"type":"Room"})"));
    std::string via;
    for (size_t i = 0; i < kMaxHopsForTest; ++i) via += (i ? ", 1.1 b" : "1.1 b") + std::to_string(i);
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 1), {{"Via", via}});
    CHECK(c.status == 201);
    CHECK(c.Get("NGSILD-Warning").rfind("199 ", 0) == 0);
    CHECK(source.received().empty());
    CHECK(Has(Local(hub, id), "temperature"));
  }
  SECTION("an invalid write goes nowhere, though nothing of it stays here") {
    hub.Register(WriteRegistration(source.url(""), "redirect", R"({"type":"Room"})"));
    CHECK(hub.Call("POST", "/ngsi-ld/v1/entities", R"({"id":")" + id + R"(","type":"Room","t":{"type":"Property"}})").status ==
          400);
    CHECK(source.received().empty());
  }
  SECTION("the only part's error keeps its HTTP status, and the tenant is named in the answer") {
    Receiver conflict;
    conflict.Script([](const Receiver::Received&) {
      return Receiver::Scripted{409, R"({"type":"https://uri.etsi.org/ngsi-ld/errors/AlreadyExists","title":"exists"})"};
    });
    const FetchResult reg = hub.Call("POST", "/ngsi-ld/v1/csourceRegistrations",
                                     WriteRegistration(conflict.url(""), "redirect", R"({"type":"Room"})"),
                                     {{"NGSILD-Tenant", "city"}});
    REQUIRE(reg.status == 201);
    const FetchResult c = hub.Call("POST", "/ngsi-ld/v1/entities", Room(id, 1), {{"NGSILD-Tenant", "city"}});
    CHECK(c.status == 409);
    CHECK(Body(c).at("title") == "exists");
    CHECK(c.Get("NGSILD-Tenant") == "city");
  }
}
