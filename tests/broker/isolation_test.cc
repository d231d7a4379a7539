// Tenants are walled off through every path a client has: what one tenant wrote, no request
// naming another tenant (NGSILD-Tenant, Fiware-Service, or none: the default tenant) can read,
// list, discover, change, delete or be notified of.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "citybed/broker/broker.h"
#include "receiver.h"
#include "test_util.h"

using namespace citybed::broker;
using namespace citybed::broker::testing;
using citybed::testing::Receiver;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const char* kSecret =
    R"({"id":"urn:ngsi-ld:Vault:1","type":"Vault","secret":{"type":"Property","value":42},)"
    R"("location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[139.7,35.6]}}})";

std::string Ids(const Response& r) {
  std::string out;
  json::value v = Body(r);
  if (!v.is_array()) return "<" + r.body + ">";
  for (const auto& e : v.as_array()) {
    if (e.is_object() && e.as_object().contains("id")) out += std::string(e.at("id").as_string()) + " ";
  }
  return out;
}

}  // namespace

TEST_CASE("Tenants: entities, queries, discovery and batch operations of one tenant are invisible to another",
          "[broker][isolation]") {
  BrokerOptions o;
  o.forwarding = false;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kSecret, kA).status == 201);
  // The other tenants exist (they hold something of their own), so "not found" is about isolation.
  for (const Headers* h : {&kB, &kDefault}) {
    REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Own:1","type":"Own"})", *h).status == 201);
  }

  for (const Headers* h : {&kB, &kDefault}) {
    INFO((h->empty() ? "default tenant" : h->front().second));
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1", "", *h).status == 404);
    CHECK(Ids(Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Vault", "", *h)) == "");
    CHECK(Ids(Do(b, Method::kGet, "/ngsi-ld/v1/entities?q=secret==42", "", *h)) == "");
    CHECK(Ids(Do(b, Method::kGet, "/ngsi-ld/v1/entities?id=urn:ngsi-ld:Vault:1&local=true", "", *h)) == "");
    CHECK(Ids(Do(b, Method::kGet, "/ngsi-ld/v1/entities?idPattern=.*Vault.*&local=true", "", *h)) == "");
    CHECK(Ids(Do(b, Method::kGet, "/ngsi-ld/v1/entities?georel=near;maxDistance==1000&geometry=Point&coordinates=[139.7,35.6]",
                 "", *h)) == "");
    CHECK(Ids(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/query",
                 R"({"type":"Query","entities":[{"type":"Vault"}]})", *h)) == "");
    // Discovery: neither the type nor the attribute name leaks.
    const std::string types = Do(b, Method::kGet, "/ngsi-ld/v1/types?details=true", "", *h).body;
    CHECK_THAT(types, !Catch::Contains("Vault"));
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/types/Vault", "", *h).status == 404);
    CHECK_THAT(Do(b, Method::kGet, "/ngsi-ld/v1/attributes?details=true", "", *h).body, !Catch::Contains("secret"));
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/attributes/secret", "", *h).status == 404);
    // Writes naming the entity do not reach it.
    CHECK(Do(b, Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1/attrs", R"({"secret":{"type":"Property","value":0}})", *h)
              .status == 404);
    CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1", "", *h).status == 404);
    CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/delete", R"(["urn:ngsi-ld:Vault:1"])", *h).status != 204);
    CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/update",
             R"([{"id":"urn:ngsi-ld:Vault:1","type":"Vault","secret":{"type":"Property","value":1}}])", *h)
              .status != 204);
  }
  // An upsert of the same id in another tenant makes that tenant's own entity.
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/upsert",
             R"([{"id":"urn:ngsi-ld:Vault:1","type":"Vault","secret":{"type":"Property","value":7}}])", kB)
              .status == 201);
  CHECK(Body(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1", "", kB)).at("secret").at("value") == 7);
  // After all of that, the owner's entity is as it was written.
  json::value mine = Body(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1", "", kA));
  CHECK(mine.at("secret").at("value") == 42);

  // NGSI-v2: Fiware-Service names the same tenants.
  CHECK(Do(b, Method::kGet, "/v2/entities/urn:ngsi-ld:Vault:1", "", kV2A).status == 200);
  CHECK(Do(b, Method::kDelete, "/v2/entities/urn:ngsi-ld:Vault:1", "", {{"Fiware-Service", "cityc"}}).status == 404);
  CHECK(Do(b, Method::kGet, "/v2/entities?type=Vault", "", {{"Fiware-Service", "cityc"}}).body == "[]");
  CHECK_THAT(Do(b, Method::kGet, "/v2/types", "", {}).body, !Catch::Contains("Vault"));
  CHECK(Do(b, Method::kGet, "/v2/entities/urn:ngsi-ld:Vault:1", "", kDefault).status == 404);
  CHECK(Body(Do(b, Method::kGet, "/v2/entities/urn:ngsi-ld:Vault:1?options=keyValues", "", kV2A)).at("secret") == 42);
}

TEST_CASE("Tenants: subscriptions, registrations and notifications stay inside their tenant", "[broker][isolation]") {
  BrokerOptions o;
  o.server.port = 0;
  o.forwarding = false;
  o.notifier.first_backoff = std::chrono::milliseconds(10);
  Broker b(o);
  REQUIRE(b.Start());
  Receiver ra, rb;
  auto subscribe = [&](const Headers& h, Receiver& r) {
    Response made = Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions",
                       R"({"type":"Subscription","entities":[{"type":"Vault"}],"notification":{"endpoint":{"uri":")" +
                           r.url("/n") + R"("}}})",
                       h);
    REQUIRE(made.status == 201);
    return made.FindHeader("Location")->substr(made.FindHeader("Location")->rfind('/') + 1);
  };
  const std::string sub_a = subscribe(kA, ra);
  const std::string sub_b = subscribe(kB, rb);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/csourceRegistrations",
             R"({"id":"urn:ngsi-ld:ContextSourceRegistration:a","type":"ContextSourceRegistration",)"
             R"("information":[{"entities":[{"type":"Vault"}]}],"endpoint":"http://127.0.0.1:9/a"})",
             kA)
              .status == 201);
  REQUIRE(Do(b, Method::kPost, "/v2/subscriptions",
             R"({"subject":{"entities":[{"idPattern":".*"}]},"notification":{"http":{"url":")" + ra.url("/v2") + R"("}}})",
             kV2A)
              .status == 201);

  // Listing and reading by id from another tenant find nothing.
  for (const Headers* h : {&kB, &kDefault}) {
    const std::string listed = Do(b, Method::kGet, "/ngsi-ld/v1/subscriptions", "", *h).body;
    CHECK_THAT(listed, !Catch::Contains(sub_a));
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/subscriptions/" + sub_a, "", *h).status == 404);
    CHECK(Do(b, Method::kPatch, "/ngsi-ld/v1/subscriptions/" + sub_a, R"({"description":"x"})", *h).status == 404);
    CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/subscriptions/" + sub_a, "", *h).status == 404);
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/csourceRegistrations", "", *h).body == "[]");
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:a", "", *h).status ==
          404);
    CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:a", "", *h)
              .status == 404);
  }
  CHECK(Do(b, Method::kGet, "/v2/subscriptions", "", kV2B).body == "[]");
  CHECK(Do(b, Method::kGet, "/v2/registrations", "", kV2B).body == "[]");
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/subscriptions/" + sub_a, "", kA).status == 200);

  // A change in one tenant notifies that tenant's subscribers only.
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kSecret, kA).status == 201);
  REQUIRE(ra.WaitFor(2));  // the NGSI-LD and the NGSI-v2 subscription of citya
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities",
             R"({"id":"urn:ngsi-ld:Vault:b","type":"Vault","secret":{"type":"Property","value":1}})", kB)
              .status == 201);
  REQUIRE(rb.WaitFor(1));
  // A second write in cityb after the first was delivered: anything citya's write would
  // have sent to cityb's endpoint was sent before it.
  REQUIRE(Do(b, Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:b/attrs", R"({"secret":{"type":"Property","value":2}})", kB)
              .status == 204);
  REQUIRE(rb.WaitFor(2));
  for (const auto& r : rb.received()) {
    CHECK_THAT(r.body, !Catch::Contains("urn:ngsi-ld:Vault:1"));
    CHECK_THAT(r.body, Catch::Contains("urn:ngsi-ld:Vault:b"));
  }
  for (const auto& r : ra.received()) CHECK_THAT(r.body, !Catch::Contains("urn:ngsi-ld:Vault:b"));
  b.Stop();
  CHECK(ra.received().size() == 2);
  CHECK(rb.received().size() == 2);
}

TEST_CASE("Tenants: read-only requests cannot fill the name table all tenants share", "[broker][isolation]") {
  BrokerOptions o;
  o.forwarding = false;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kSecret, kA).status == 201);
  const size_t before = b.names().size();
  for (int i = 0; i < 100; ++i) {
    const std::string n = std::to_string(i);
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Nope" + n, "", kA).body == "[]");
    CHECK(Ids(Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Vault&attrs=a" + n + "&q=x" + n + "==1", "", kA)) == "");
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1?type=Nope" + n, "", kA).status == 404);
    // None of the asked attributes exists: 404 (CIM 009 5.6.1), as for any unknown name.
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1?attrs=b" + n, "", kA).status == 404);
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1?omit=c" + n, "", kA).status == 200);
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/types/Nope" + n, "", kA).status == 404);
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/attributes/d" + n, "", kA).status == 404);
    CHECK(Ids(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/query",
                 R"({"type":"Query","entities":[{"type":"Nope)" + n + R"("}],"attrs":["e)" + n + R"("]})", kA)) == "");
    CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/csourceRegistrations?type=Nope" + n + "&attrs=f" + n, "", kA).body == "[]");
    CHECK(Do(b, Method::kGet, "/v2/entities?type=Nope" + n + "&q=g" + n + "==1&attrs=h" + n + "&orderBy=i" + n, "", kV2A)
              .body == "[]");
    CHECK(Do(b, Method::kGet, "/v2/entities/urn:ngsi-ld:Vault:1/attrs/j" + n, "", kV2A).status == 404);
    CHECK(Do(b, Method::kGet, "/v2/types/Nope" + n, "", kV2A).status == 404);
  }
  CHECK(b.names().size() == before);
  // Writes still add the names they bring.
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1/attrs", R"({"fresh":{"type":"Property","value":1}})",
             kA)
              .status == 204);
  CHECK(b.names().size() == before + 1);
  CHECK(Body(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Vault:1?attrs=fresh", "", kA)).at("fresh").at("value") == 1);
}

TEST_CASE("Tenants: a tenant name unfit for a header is refused and never echoed (found by fuzzing)", "[broker][isolation]") {
  Broker b;
  for (const std::string& bad : {std::string("osaka\r\nX-Injected: 1"), std::string("a\0b", 3), std::string(65, 'a'),
                                std::string("caf\xC3\xA9")}) {
    INFO(bad);
    for (const std::string target : {"/ngsi-ld/v1/entities?type=Room", "/ngsi-ld/v1/no-such-resource"}) {
      const Response r = Do(b, Method::kGet, target, "", {{"NGSILD-Tenant", bad}});
      CHECK(r.status >= 400);
      CHECK(r.FindHeader("NGSILD-Tenant") == nullptr);
      for (const Header& h : r.headers) CHECK(h.value.find_first_of("\r\n") == std::string::npos);
    }
  }
  // A valid name is echoed (CIM 009 6.3.14).
  const Response ok = Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Room", "", {{"NGSILD-Tenant", "osaka-1.a_b"}});
  REQUIRE(ok.FindHeader("NGSILD-Tenant") != nullptr);
  CHECK(*ok.FindHeader("NGSILD-Tenant") == "osaka-1.a_b");
}
