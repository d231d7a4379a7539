// Quotas and limits on what one client or one tenant may put into the broker (quotas.h,
// docs/reliability.md "Tenant quotas"): each refusal comes before anything changes, names its
// limit, and leaves the other tenants untouched.
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

std::string EntityWith(const std::string& id, const std::vector<std::string>& attrs) {
  std::string out = R"({"id":"urn:ngsi-ld:Thing:)" + id + R"(","type":"Thing")";
  for (const std::string& a : attrs) out += ",\"" + a + R"(":{"type":"Property","value":1})";
  return out + "}";
}

std::string OrionError(const Response& r) {
  json::value v = Body(r);
  return v.is_object() && v.as_object().contains("error") ? std::string(v.at("error").as_string()) : "<" + r.body + ">";
}


// A notification job of `tenant` to `uri` with a body of `body_bytes` bytes.
NotificationJob Job(const std::string& uri, const std::string& tenant, size_t body_bytes) {
  NotificationJob j;
  j.status = std::make_shared<DeliveryStatus>();
  j.uri = uri;
  j.tenant = tenant;
  j.body = std::string(body_bytes, 'x');
  return j;
}

}  // namespace

TEST_CASE("Quotas: a tenant's writes add at most its allowance of new names to the table all tenants share",
          "[broker][quotas][isolation]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_names_per_tenant = 20;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("b0", {"shared"}), kB).status == 201);
  const size_t before = b.names().size();

  // Each entity of citya brings one new attribute name: accepted until the allowance is used up,
  // then refused with 403 before anything is stored.
  int accepted = 0, refused = 0;
  for (int i = 0; i < 60; ++i) {
    const std::string id = "a" + std::to_string(i);
    const Response r = Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith(id, {"fresh" + std::to_string(i)}), kA);
    INFO(r.body);
    if (r.status == 201) {
      CHECK(refused == 0);  // never accepted again once refused
      ++accepted;
    } else {
      CHECK(r.status == 403);
      CHECK(ErrorTypeOf(r) == "about:blank");
      CHECK_THAT(r.body, Catch::Contains("--max-names"));
      CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:" + id, "", kA).status == 404);
      ++refused;
    }
  }
  CHECK(accepted >= 15);
  CHECK(refused > 0);
  CHECK(b.names().size() - before <= 20);

  // Names already in the table cost nothing, whoever added them.
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("old", {"shared", "fresh0"}), kA).status == 201);
  // The same through NGSI-v2 (Fiware-Service citya is the same tenant): Orion's shape.
  const Response v2 = Do(b, Method::kPost, "/v2/entities", R"({"id":"v2new","type":"Thing","brandNew":{"value":1}})", kV2A);
  CHECK(v2.status == 403);
  CHECK(OrionError(v2) == "Forbidden");
  // In a batch, only the entity bringing a new name fails; the others are written.
  const Response batch = Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/upsert",
                            "[" + EntityWith("batch1", {"shared"}) + "," + EntityWith("batch2", {"neverSeen"}) + "]", kA);
  CHECK(batch.status == 207);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:batch1", "", kA).status == 200);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:batch2", "", kA).status == 404);

  // Another tenant is untouched: it has an allowance of its own.
  for (int i = 0; i < 10; ++i) {
    CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("b" + std::to_string(i + 1), {"other" + std::to_string(i)}), kB)
              .status == 201);
  }
}

TEST_CASE("Quotas: the allowance of names counts bytes too", "[broker][quotas]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_name_bytes_per_tenant = 1024;
  Broker b(o);
  const std::string long_name(200, 'n');
  int accepted = 0;
  for (char c = 'a'; c <= 'j'; ++c) {
    accepted += Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith(std::string(1, c), {std::string(1, c) + long_name}), kA)
                    .status == 201;
  }
  // Each expanded attribute name is about 246 bytes, the type 50: three entities fit in 1,024, never more.
  CHECK(accepted >= 2);
  CHECK(accepted <= 3);
}

TEST_CASE("Quotas: at most max_tenants tenants may write, those holding data go on, and anyone may read",
          "[broker][quotas][isolation]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_tenants = 3;
  Broker b(o);
  for (const char* t : {"t0", "t1", "t2"}) {
    REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("x", {"p"}), {{"NGSILD-Tenant", t}}).status == 201);
  }
  const Response r = Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("x", {"p"}), {{"NGSILD-Tenant", "t3"}});
  CHECK(r.status == 403);
  CHECK_THAT(r.body, Catch::Contains("--max-tenants"));
  const Response sub = Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions",
                          R"({"type":"Subscription","entities":[{"type":"Thing"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}})",
                          {{"NGSILD-Tenant", "t3"}});
  CHECK(sub.status == 403);
  const Response v2 = Do(b, Method::kPost, "/v2/entities", R"({"id":"e","type":"Thing"})", {{"Fiware-Service", "t4"}});
  CHECK(v2.status == 403);
  CHECK(OrionError(v2) == "Forbidden");
  // Reads are never refused for it: a tenant that does not exist is answered as before.
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Thing", "", {{"NGSILD-Tenant", "t3"}}).status != 403);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/query", R"({"type":"Query","entities":[{"type":"Thing"}]})",
           {{"NGSILD-Tenant", "t3"}})
            .status != 403);
  // The tenants that wrote go on writing.
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("y", {"p"}), {{"NGSILD-Tenant", "t1"}}).status == 201);
  CHECK(b.quotas().tenants() == 3);
}

TEST_CASE("Quotas: subscriptions and registrations per tenant, NGSI-LD and NGSI-v2 together", "[broker][quotas]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_subscriptions_per_tenant = 2;
  o.quotas.max_registrations_per_tenant = 1;
  Broker b(o);
  const std::string ld_sub =
      R"({"type":"Subscription","entities":[{"type":"Thing"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}})";
  const std::string v2_sub = R"({"subject":{"entities":[{"idPattern":".*"}]},"notification":{"http":{"url":"http://127.0.0.1:9/v2"}}})";
  const Response first = Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions", ld_sub, kA);
  REQUIRE(first.status == 201);
  REQUIRE(Do(b, Method::kPost, "/v2/subscriptions", v2_sub, kV2A).status == 201);
  const Response third = Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions", ld_sub, kA);
  CHECK(third.status == 403);
  CHECK_THAT(third.body, Catch::Contains("--max-subscriptions"));
  const Response third_v2 = Do(b, Method::kPost, "/v2/subscriptions", v2_sub, kV2A);
  CHECK(third_v2.status == 403);
  CHECK(OrionError(third_v2) == "Forbidden");
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions", ld_sub, kB).status == 201);  // another tenant's own
  // Deleting one makes room again.
  const std::string* location = first.FindHeader("Location");
  REQUIRE(location != nullptr);
  REQUIRE(Do(b, Method::kDelete, *location, "", kA).status == 204);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions", ld_sub, kA).status == 201);

  auto registration = [](const std::string& id) {
    return R"({"id":"urn:ngsi-ld:ContextSourceRegistration:)" + id +
           R"(","type":"ContextSourceRegistration","information":[{"entities":[{"type":"Thing"}]}],"endpoint":"http://127.0.0.1:9/a"})";
  };
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/csourceRegistrations", registration("r1"), kA).status == 201);
  const Response second = Do(b, Method::kPost, "/ngsi-ld/v1/csourceRegistrations", registration("r2"), kA);
  CHECK(second.status == 403);
  CHECK_THAT(second.body, Catch::Contains("--max-registrations"));
  const Response v2_reg = Do(b, Method::kPost, "/v2/registrations",
                             R"({"dataProvided":{"entities":[{"id":"room1","type":"Room"}],"attrs":["temperature"]},)"
                             R"("provider":{"http":{"url":"http://127.0.0.1:9/v2"}}})",
                             kV2A);
  CHECK(v2_reg.status == 403);
  CHECK(OrionError(v2_reg) == "Forbidden");
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/csourceRegistrations", registration("r2"), kB).status == 201);
}

TEST_CASE("Limits: an entity holds at most max_attrs attribute instances", "[broker][quotas][limits]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_attrs_per_entity = 5;
  Broker b(o);
  const std::vector<std::string> five = {"a", "b", "c", "d", "e"};
  std::vector<std::string> six = five;
  six.push_back("f");
  const Response over = Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("six", six));
  CHECK(over.status == 400);
  CHECK(ErrorTypeOf(over) == "BadRequestData");
  CHECK_THAT(over.body, Catch::Contains("--max-attrs"));
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:six").status == 404);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("five", five)).status == 201);
  // Growing it, by append or by a second instance of one attribute, is refused and changes nothing.
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five/attrs", R"({"f":{"type":"Property","value":1}})")
            .status == 400);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five/attrs",
           R"({"a":{"type":"Property","value":2,"datasetId":"urn:ngsi-ld:Dataset:2"}})")
            .status == 400);
  CHECK(Body(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five")).as_object().size() == 2 + 5);
  // Updating what it holds is fine.
  CHECK(Do(b, Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five/attrs", R"({"a":{"type":"Property","value":3}})")
            .status == 204);
  // NGSI-v2 and batches meet the same limit.
  const Response v2 = Do(b, Method::kPost, "/v2/entities",
                         R"({"id":"v2six","type":"Thing","a":{"value":1},"b":{"value":1},"c":{"value":1},"d":{"value":1},)"
                         R"("e":{"value":1},"f":{"value":1}})");
  CHECK(v2.status == 400);
  CHECK(OrionError(v2) == "BadRequest");
  const Response batch = Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/upsert",
                            "[" + EntityWith("ok", five) + "," + EntityWith("toomany", six) + "]");
  CHECK(batch.status == 207);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:ok").status == 200);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:toomany").status == 404);

  // An entity stored under a higher limit may shrink, not grow.
  b.store().LimitAttributes(0);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five/attrs", R"({"f":{"type":"Property","value":1}})")
              .status == 204);
  b.store().LimitAttributes(5);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five/attrs", R"({"g":{"type":"Property","value":1}})")
            .status == 400);
  CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:five/attrs/f").status == 204);
}

TEST_CASE("Limits: a geometry has at most kMaxGeoPositions positions, a batch at most max_batch entities",
          "[broker][limits]") {
  BrokerOptions o;
  o.forwarding = false;
  o.api.max_batch = 3;
  o.v2.max_batch = 3;
  Broker b(o);
  auto line = [](size_t n) {
    std::string c = "[";
    for (size_t i = 0; i < n; ++i) c += (i ? "," : "") + std::string("[139.") + std::to_string(i % 1000) + ",35.5]";
    return c + "]";
  };
  auto with_line = [&](const std::string& id, size_t n) {
    return R"({"id":"urn:ngsi-ld:Road:)" + id + R"(","type":"Road","location":{"type":"GeoProperty","value":{"type":"LineString","coordinates":)" +
           line(n) + "}}}";
  };
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", with_line("max", kMaxGeoPositions)).status == 201);
  const Response over = Do(b, Method::kPost, "/ngsi-ld/v1/entities", with_line("over", kMaxGeoPositions + 1));
  CHECK(over.status == 400);
  CHECK_THAT(over.body, Catch::Contains("positions"));
  // A geo-query's geometry too (a polygon's ring closed on its first position).
  std::string ring = "[[[139.0,35.0]";
  for (size_t i = 1; i < kMaxGeoPositions + 1; ++i) ring += ",[139." + std::to_string(i % 900 + 1) + ",35." + std::to_string(i % 7 + 1) + "]";
  ring += ",[139.0,35.0]]]";
  const Response query =
      Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Road&georel=within&geometry=Polygon&coordinates=" + ring);
  CHECK(query.status == 400);
  CHECK_THAT(query.body, Catch::Contains("positions"));

  const std::string four = "[" + EntityWith("1", {}) + "," + EntityWith("2", {}) + "," + EntityWith("3", {}) + "," +
                           EntityWith("4", {}) + "]";
  const Response ld = Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", four);
  CHECK(ld.status == 400);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:1").status == 404);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/delete",
           R"(["urn:ngsi-ld:Thing:1","urn:ngsi-ld:Thing:2","urn:ngsi-ld:Thing:3","urn:ngsi-ld:Thing:4"])")
            .status == 400);
  const Response v2 = Do(b, Method::kPost, "/v2/op/update",
                         R"({"actionType":"append","entities":[{"id":"1","type":"T"},{"id":"2","type":"T"},{"id":"3","type":"T"},{"id":"4","type":"T"}]})");
  CHECK(v2.status == 400);
  CHECK(OrionError(v2) == "BadRequest");
  CHECK(Do(b, Method::kPost, "/v2/op/update",
           R"({"actionType":"append","entities":[{"id":"1","type":"T"},{"id":"2","type":"T"},{"id":"3","type":"T"}]})")
            .status == 204);
}

TEST_CASE("Notifier: a tenant whose endpoint hangs fills its own share of the queue, not the others'",
          "[broker][quotas][isolation][reliability]") {
  // Before, the queue was bounded by count only and shared: a hanging endpoint's backlog filled
  // it and every other tenant's notifications were dropped.
  Receiver hole, healthy;
  hole.Script([](const Receiver::Received&) { return Receiver::Scripted{200, "", true}; });
  NotifierOptions o;
  o.queue_capacity = 40;
  o.tenant_queue_bytes = 4096;
  o.timeout = std::chrono::hours(1);  // the hanging deliveries stay in the queue for the whole test
  Notifier n(o);
  n.Start();
  auto job = [](const std::string& uri, const std::string& tenant) {
    NotificationJob j = Job(uri, tenant, 200);
    j.headers = {{"Content-Type", "application/json"}};
    return j;
  };
  size_t admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += n.Enqueue(job(hole.url("/h"), "citya"));
  // About 4,096 / 252 bytes of jobs of citya are queued; the rest are dropped against its share.
  CHECK(admitted >= 10);
  CHECK(admitted <= 16);
  CHECK(n.Counters().dropped_tenant_share == 100 - admitted);
  CHECK(n.Counters().queued_bytes <= 4096);
  // cityb's notifications all go, one after the other.
  for (uint64_t k = 1; k <= 60; ++k) {
    REQUIRE(n.Enqueue(job(healthy.url("/ok"), "cityb")));
    REQUIRE(n.WaitUntil([k](const NotifierCounters& c) { return c.sent >= k; }, 10s));
  }
  CHECK(healthy.WaitFor(60));
  CHECK(n.Counters().dropped == 100 - admitted);
  n.Stop(0ms);
}

TEST_CASE("Notifier: the queue is bounded in bytes in all", "[broker][quotas][reliability]") {
  Receiver hole;
  hole.Script([](const Receiver::Received&) { return Receiver::Scripted{200, "", true}; });
  NotifierOptions o;
  o.queue_bytes = 10000;
  o.tenant_queue_bytes = 0;
  o.timeout = std::chrono::hours(1);
  Notifier n(o);
  n.Start();
  size_t admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += n.Enqueue(Job(hole.url("/h"), "t" + std::to_string(i), 1000));
  CHECK(admitted >= 8);
  CHECK(admitted <= 10);
  CHECK(n.Counters().dropped == 100 - admitted);
  CHECK(n.Counters().dropped_tenant_share == 0);
  n.Stop(0ms);
}

TEST_CASE("Notifier: with the default options a hanging tenant holds at most its share of the queue's jobs",
          "[broker][quotas][isolation][reliability]") {
  Receiver hole, healthy;
  hole.Script([](const Receiver::Received&) { return Receiver::Scripted{200, "", true}; });
  NotifierOptions o;  // the defaults: 10,000 jobs in all, 2,500 per tenant
  o.timeout = std::chrono::hours(1);  // (not a queue limit) the hanging deliveries stay for the whole test
  Notifier n(o);
  n.Start();
  auto job = [](const std::string& uri, const std::string& tenant) { return Job(uri, tenant, 2); };
  // Small notifications: the byte share (64 MiB) never binds; the job share does.
  size_t admitted = 0;
  for (int i = 0; i < 12000; ++i) admitted += n.Enqueue(job(hole.url("/h"), "citya"));
  CHECK(admitted == NotifierOptions{}.tenant_queue_jobs);
  CHECK(n.Counters().dropped_tenant_share == 12000 - admitted);
  for (uint64_t k = 1; k <= 20; ++k) {
    REQUIRE(n.Enqueue(job(healthy.url("/ok"), "cityb")));
    REQUIRE(n.WaitUntil([k](const NotifierCounters& c) { return c.sent >= k; }, 10s));
  }
  n.Stop(0ms);
}

TEST_CASE("Quotas: failed writes under invented tenant names take no place among max_tenants",
          "[broker][quotas][isolation]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_tenants = 2;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("x", {"p"}), {{"NGSILD-Tenant", "t0"}}).status == 201);
  for (int i = 0; i < 20; ++i) {
    const Headers h = {{"NGSILD-Tenant", "ghost" + std::to_string(i)}};
    CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:none", "", h).status == 404);
    CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", "{not json", h).status == 400);
    CHECK(Do(b, Method::kPost, "/v2/entities", R"({"id":"e","type":"T"})", {{"Fiware-Service", "a-b" + std::to_string(i)}})
              .status == 400);
  }
  CHECK(b.quotas().tenants() == 1);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("x", {"p"}), {{"NGSILD-Tenant", "t1"}}).status == 201);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("x", {"p"}), {{"NGSILD-Tenant", "t2"}}).status == 403);
}

TEST_CASE("Quotas: a path with an empty segment cannot pass for another API's tenant", "[broker][quotas][isolation]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_tenants = 1;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("x", {"p"}), kA).status == 201);
  // "//v2/entities" would reach the NGSI-v2 handlers (Fiware-Service) while the admission read
  // NGSILD-Tenant (citya, admitted): refused before anything.
  const Response r = Do(b, Method::kPost, "//v2/entities", R"({"id":"e","type":"T"})",
                        {{"NGSILD-Tenant", "citya"}, {"Fiware-Service", "intruder"}});
  CHECK(r.status == 400);
  CHECK(Do(b, Method::kGet, "/v2/entities", "", {{"Fiware-Service", "intruder"}}).body == "[]");
}

TEST_CASE("Quotas: writes never answer 403 after they changed something, and deletes add no names",
          "[broker][quotas]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_names_per_tenant = 8;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("m1", {"a"}), kA).status == 201);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("m2", {"a"}), kA).status == 201);
  // Use up the allowance.
  for (int i = 0; i < 20; ++i) Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("f" + std::to_string(i), {"n" + std::to_string(i)}), kA);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", EntityWith("over", {"brandnew"}), kA).status == 403);
  const size_t names = b.names().size();
  // Deleting what was never written looks names up: 404, nothing added.
  CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:m1/attrs/neverWritten", "", kA).status == 404);
  CHECK(Do(b, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:m1/attrs/a?datasetId=urn:ngsi-ld:Dataset:never", "", kA)
            .status == 404);
  CHECK(Do(b, Method::kDelete, "/v2/entities/urn:ngsi-ld:Thing:m1/attrs/neverWritten", "", kV2A).status == 404);
  CHECK(b.names().size() == names);
  // A batch merge: the item with a known name is merged, the one with a new name fails alone.
  const Response merge = Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/merge",
                            R"([{"id":"urn:ngsi-ld:Thing:m1","type":"Thing","a":{"type":"Property","value":7}},)"
                            R"({"id":"urn:ngsi-ld:Thing:m2","type":"Thing","unheardOf":{"type":"Property","value":7}}])",
                            kA);
  CHECK(merge.status == 207);
  CHECK(Body(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:m1", "", kA)).at("a").at("value") == 7);
  CHECK_FALSE(Body(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:m2", "", kA)).as_object().contains("unheardOf"));
}

TEST_CASE("Limits: NGSI-v2 says why the store refused a write, and its simple locations meet the positions limit",
          "[broker][quotas][limits]") {
  BrokerOptions o;
  o.forwarding = false;
  o.quotas.max_attrs_per_entity = 2;
  Broker b(o);
  REQUIRE(Do(b, Method::kPost, "/v2/entities", R"({"id":"r1","type":"Room","a":{"value":1},"b":{"value":2}})").status == 201);
  for (const auto& [method, target] : std::vector<std::pair<Method, std::string>>{
           {Method::kPost, "/v2/entities/r1/attrs"}, {Method::kPost, "/v2/entities?options=upsert"}}) {
    const std::string body = target.find("upsert") != std::string::npos ? R"({"id":"r1","type":"Room","c":{"value":3}})"
                                                                          : R"({"c":{"value":3}})";
    const Response r = Do(b, method, target, body);
    INFO(target << " " << r.body);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("--max-attrs"));
  }
  std::string line = "[";
  for (size_t i = 0; i <= kMaxGeoPositions; ++i) line += std::string(i ? "," : "") + "\"35." + std::to_string(i % 900) + ",139.5\"";
  line += "]";
  const Response geo = Do(b, Method::kPost, "/v2/entities", R"({"id":"road","type":"Road","where":{"type":"geo:line","value":)" + line + "}}");
  CHECK(geo.status == 400);
  CHECK_THAT(geo.body, Catch::Contains("positions"));
}
