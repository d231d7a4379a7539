// The NGSI-LD API through the router, without sockets: every endpoint and error type.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace citybed::broker;
using namespace citybed::broker::testing;
namespace json = boost::json;

namespace {

struct Api {
  Broker broker;
  Response Do(Method m, const std::string& target, const std::string& body = "",
              const std::string& content_type = "application/json",
              std::vector<Header> headers = {}) {
    Request r = Make(m, target, body, content_type);
    for (Header& h : headers) r.SetHeader(h.name, h.value);
    return broker.Handle(r);
  }
  Response Create(const std::string& body, std::vector<Header> headers = {}) {
    return Do(Method::kPost, "/ngsi-ld/v1/entities", body, "application/json", std::move(headers));
  }
  json::value Get(const std::string& target, std::vector<Header> headers = {}) {
    Response r = Do(Method::kGet, target, "", "", std::move(headers));
    INFO(r.body);
    REQUIRE(r.status == 200);
    return Body(r);
  }
};

std::string Room(int i, double temp, const std::string& extra = "") {
  return R"({"id":"urn:ngsi-ld:Room:)" + std::to_string(i) + R"(","type":"Room","temperature":{"type":"Property","value":)" +
         std::to_string(temp) + R"(},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[)" +
         std::to_string(139.0 + i * 0.01) + R"(,35.0]}})" + extra + "}";
}

}  // namespace

TEST_CASE("API: create, retrieve and delete an entity", "[broker][api]") {
  Api api;
  Response created = api.Create(kEntity400);
  CHECK(created.status == 201);
  REQUIRE(created.FindHeader("Location"));
  CHECK(*created.FindHeader("Location") == "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001");
  Response again = api.Create(kEntity400);
  CHECK(again.status == 409);
  CHECK(ErrorTypeOf(again) == "AlreadyExists");
  auto e = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001");
  CHECK(e == json::parse(kEntity400));
  auto kv = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001?options=keyValues&attrs=no2");
  CHECK(kv == json::parse(R"({"id":"urn:ngsi-ld:AirQualityObserved:001","type":"AirQualityObserved","no2":22.5})"));
  auto sys = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001?options=sysAttrs");
  CHECK(sys.as_object().contains("createdAt"));
  CHECK(sys.as_object().contains("modifiedAt"));
  auto concise = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001?format=concise");
  CHECK(concise.at("pm10") == json::value(31.2));
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001?type=Room").status == 404);
  CHECK(api.Do(Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001").status == 204);
  Response gone = api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001");
  CHECK(gone.status == 404);
  CHECK(ErrorTypeOf(gone) == "ResourceNotFound");
  CHECK(api.Do(Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001").status == 404);
}

TEST_CASE("API: update, append, partial update, replace, merge and delete attributes", "[broker][api]") {
  Api api;
  REQUIRE(api.Create(Room(1, 20)).status == 201);
  const std::string base = "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1";
  // PATCH /attrs (V1.9.1, 5.6.2) updates the existing attributes and appends the missing ones.
  Response upd = api.Do(Method::kPatch, base + "/attrs",
                        R"({"temperature":{"type":"Property","value":21},"humidity":{"type":"Property","value":40}})");
  CHECK(upd.status == 204);
  CHECK(api.Get(base).at("temperature").at("value") == json::value(21));
  CHECK(api.Get(base).at("humidity").at("value") == json::value(40));
  // ... of the entity of that type only.
  CHECK(api.Do(Method::kPatch, base + "/attrs?type=Car", R"({"temperature":{"type":"Property","value":22}})").status == 404);
  // POST /attrs appends; noOverwrite keeps existing values.
  CHECK(api.Do(Method::kPost, base + "/attrs", R"({"humidity":{"type":"Property","value":40}})").status == 204);
  Response keep = api.Do(Method::kPost, base + "/attrs?options=noOverwrite", R"({"humidity":{"type":"Property","value":99}})");
  CHECK(keep.status == 207);
  CHECK(api.Get(base).at("humidity").at("value") == json::value(40));
  // PATCH /attrs/{attr}: partial update keeps what is not given.
  CHECK(api.Do(Method::kPatch, base + "/attrs/temperature", R"({"value":22,"unitCode":"CEL"})").status == 204);
  CHECK(api.Do(Method::kPatch, base + "/attrs/temperature", R"({"value":23})").status == 204);
  auto t = api.Get(base).at("temperature");
  CHECK(t.at("value") == json::value(23));
  CHECK(t.at("unitCode") == json::value("CEL"));
  CHECK(api.Do(Method::kPatch, base + "/attrs/nothere", R"({"value":1})").status == 404);
  // PUT /attrs/{attr}: replaces the whole attribute.
  CHECK(api.Do(Method::kPut, base + "/attrs/temperature", R"({"type":"Property","value":24})").status == 204);
  CHECK_FALSE(api.Get(base).at("temperature").as_object().contains("unitCode"));
  // PATCH /entities/{id}: merge-patch; urn:ngsi-ld:null deletes.
  CHECK(api.Do(Method::kPatch, base, R"({"humidity":"urn:ngsi-ld:null","co2":{"type":"Property","value":400}})",
               "application/merge-patch+json").status == 204);
  auto merged = api.Get(base);
  CHECK_FALSE(merged.as_object().contains("humidity"));
  CHECK(merged.at("co2").at("value") == json::value(400));
  // DELETE /attrs/{attr}
  CHECK(api.Do(Method::kDelete, base + "/attrs/co2").status == 204);
  CHECK(api.Do(Method::kDelete, base + "/attrs/co2").status == 404);
  // PUT /entities/{id}: replace keeps the id and createdAt.
  CHECK(api.Do(Method::kPut, base, R"({"type":"Room","name":{"type":"Property","value":"Hall"}})").status == 204);
  auto replaced = api.Get(base);
  CHECK_FALSE(replaced.as_object().contains("temperature"));
  CHECK(replaced.at("name").at("value") == json::value("Hall"));
  CHECK(api.Do(Method::kPut, base, R"({"id":"urn:ngsi-ld:Room:2","type":"Room"})").status == 400);
  CHECK(api.Do(Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:404/attrs", R"({"a":1})").status == 404);
}

TEST_CASE("API: batch create, upsert, update and delete with per-entity results", "[broker][api]") {
  Api api;
  const std::string batch = "[" + Room(1, 20) + "," + Room(2, 21) + "]";
  Response created = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/create", batch);
  CHECK(created.status == 201);
  CHECK(Body(created) == json::parse(R"(["urn:ngsi-ld:Room:1","urn:ngsi-ld:Room:2"])"));
  Response dup = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/create", "[" + Room(2, 0) + "," + Room(3, 22) + "]");
  CHECK(dup.status == 207);
  auto r = Body(dup);
  CHECK(r.at("success") == json::parse(R"(["urn:ngsi-ld:Room:3"])"));
  CHECK(r.at("errors").at(0).at("entityId") == json::value("urn:ngsi-ld:Room:2"));
  CHECK(r.at("errors").at(0).at("error").at("type") == json::value("https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"));
  // Upsert: existing only -> 204; a new one -> 201 with its id.
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", "[" + Room(1, 30) + "]").status == 204);
  CHECK(api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1").at("temperature").at("value") == json::value(30));
  Response up = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", "[" + Room(1, 31) + "," + Room(4, 1) + "]");
  CHECK(up.status == 201);
  CHECK(Body(up) == json::parse(R"(["urn:ngsi-ld:Room:4"])"));
  // Upsert with options=update keeps attributes that are not sent.
  REQUIRE(api.Do(Method::kPost, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:4/attrs", R"({"extra":{"type":"Property","value":1}})").status == 204);
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert?options=update", "[" + Room(4, 5) + "]").status == 204);
  CHECK(api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:4").as_object().contains("extra"));
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", "[" + Room(4, 6) + "]").status == 204);
  CHECK_FALSE(api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:4").as_object().contains("extra"));  // replaced
  // Update: entities must exist.
  Response upd = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/update",
                        R"([{"id":"urn:ngsi-ld:Room:1","temperature":{"type":"Property","value":9}},{"id":"urn:ngsi-ld:Room:99","a":{"type":"Property","value":1}}])");
  CHECK(upd.status == 207);
  CHECK(Body(upd).at("errors").at(0).at("error").at("status") == json::value(404));
  // Delete.
  Response del = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/delete", R"(["urn:ngsi-ld:Room:1","urn:ngsi-ld:Room:99"])");
  CHECK(del.status == 207);
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/delete", R"(["urn:ngsi-ld:Room:2"])").status == 204);
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/create", R"({"not":"an array"})").status == 400);
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert?options=sideways", "[]").status == 400);
}

TEST_CASE("API: batch merge merges each entity as PATCH /entities/{id} does", "[broker][api]") {
  Api api;
  REQUIRE(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/create", "[" + Room(1, 20) + "," + Room(2, 21) + "]").status == 201);
  // Members given replace, the rest is kept; NGSI-LD Null deletes; a new type is added.
  Response merged = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/merge",
                           R"([{"id":"urn:ngsi-ld:Room:1","type":"Room","temperature":25,"name":{"type":"Property","value":"A"}},)"
                           R"({"id":"urn:ngsi-ld:Room:2","type":["Room","Office"],"temperature":"urn:ngsi-ld:null"}])");
  CHECK(merged.status == 204);
  const json::value one = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1");
  CHECK(one.at("temperature").at("value") == json::value(25));
  CHECK(one.at("temperature").at("type") == json::value("Property"));
  CHECK(one.at("name").at("value") == json::value("A"));
  CHECK(one.as_object().contains("location"));
  const json::value two = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:2");
  CHECK_FALSE(two.as_object().contains("temperature"));
  CHECK(two.at("type") == json::parse(R"(["Room","Office"])"));
  // A missing entity, a missing type, a bad id: that item's error, the others merged.
  Response partial = api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/merge",
                            R"([{"id":"urn:ngsi-ld:Room:9","type":"Room","a":1},{"id":"urn:ngsi-ld:Room:1","a":1},)"
                            R"({"id":"not a uri","type":"Room"},{"id":"urn:ngsi-ld:Room:1","type":"Room","b":2}])");
  REQUIRE(partial.status == 207);
  const json::value r = Body(partial);
  CHECK(r.at("success") == json::parse(R"(["urn:ngsi-ld:Room:1"])"));
  REQUIRE(r.at("errors").as_array().size() == 3);
  CHECK(r.at("errors").at(0).at("error").at("status") == json::value(404));
  CHECK(r.at("errors").at(1).at("error").at("status") == json::value(400));
  CHECK(api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1").at("b").at("value") == json::value(2));
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/merge", "[]").status == 400);
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/merge", "{}").status == 400);
}

TEST_CASE("API: queries by type, id, idPattern, attrs, q, geo, with paging and counts", "[broker][api]") {
  Api api;
  std::string batch = "[";
  for (int i = 0; i < 30; ++i) batch += (i ? "," : "") + Room(i, 10 + i);
  batch += R"(,{"id":"urn:ngsi-ld:Car:1","type":"Car","speed":{"type":"Property","value":50}}])";
  REQUIRE(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/create", batch).status == 201);

  CHECK(api.Get("/ngsi-ld/v1/entities?type=Room").as_array().size() == 20);  // default limit
  auto page = api.Get("/ngsi-ld/v1/entities?type=Room&limit=5&offset=5");
  REQUIRE(page.as_array().size() == 5);
  CHECK(page.at(0).at("id") == json::value("urn:ngsi-ld:Room:13"));  // ids sort as text
  Response counted = api.Do(Method::kGet, "/ngsi-ld/v1/entities?type=Room&q=temperature>=30&count=true&limit=3");
  REQUIRE(counted.status == 200);
  CHECK(*counted.FindHeader("NGSILD-Results-Count") == "10");
  CHECK(Body(counted).as_array().size() == 3);
  CHECK(api.Get("/ngsi-ld/v1/entities?type=Room,Car&limit=100").as_array().size() == 31);
  CHECK(api.Get("/ngsi-ld/v1/entities?type=Room,Car&id=urn:ngsi-ld:Room:3,urn:ngsi-ld:Car:1").as_array().size() == 2);
  CHECK(api.Get("/ngsi-ld/v1/entities?type=Room&idPattern=urn:ngsi-ld:Room:2.*").as_array().size() == 11);
  // V1.9.1, 5.7.2.4: ids alone are too wide a query; local=true makes it one.
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/entities?id=urn:ngsi-ld:Room:3").status == 400);
  CHECK(api.Get("/ngsi-ld/v1/entities?id=urn:ngsi-ld:Room:3&local=true").as_array().size() == 1);
  CHECK(api.Get("/ngsi-ld/v1/entities?attrs=speed").as_array().size() == 1);
  auto projected = api.Get("/ngsi-ld/v1/entities?type=Room&attrs=temperature&limit=1");
  CHECK_FALSE(projected.at(0).as_object().contains("location"));
  auto near = api.Get("/ngsi-ld/v1/entities?type=Room&georel=near;maxDistance==2000&geometry=Point&coordinates=[139.0,35.0]");
  CHECK(near.as_array().size() == 3);  // 0 m, ~0.9 km, ~1.8 km
  auto within = api.Get("/ngsi-ld/v1/entities?type=Room&georel=within&geometry=Polygon&coordinates=[[[139.095,34.9],[139.155,34.9],[139.155,35.1],[139.095,35.1],[139.095,34.9]]]");
  CHECK(within.as_array().size() == 6);  // Rooms 10..15
  Response zero = api.Do(Method::kGet, "/ngsi-ld/v1/entities?type=Room&count=true&limit=0");
  CHECK(zero.status == 200);
  CHECK(*zero.FindHeader("NGSILD-Results-Count") == "30");
  auto posted = Body(api.Do(Method::kPost, "/ngsi-ld/v1/entityOperations/query?limit=100",
                            R"({"type":"Query","entities":[{"type":"Room"}],"q":"temperature<12"})"));
  CHECK(posted.as_array().size() == 2);
  auto geo = api.Do(Method::kGet, "/ngsi-ld/v1/entities?type=Room&id=urn:ngsi-ld:Room:1", "", "", {{"Accept", "application/geo+json"}});
  CHECK(geo.status == 200);
  CHECK(Body(geo).at("type") == json::value("FeatureCollection"));
  CHECK(Body(geo).at("features").at(0).at("geometry").at("type") == json::value("Point"));
}

TEST_CASE("API: query errors name what is wrong", "[broker][api]") {
  Api api;
  struct Case {
    const char* target;
    int status;
    const char* type;
  };
  const Case cases[] = {
      {"/ngsi-ld/v1/entities", 400, "BadRequestData"},                           // no filter
      {"/ngsi-ld/v1/entities?type=Room&limit=5000", 403, "TooManyResults"},
      {"/ngsi-ld/v1/entities?type=Room&limit=-1", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&limit=0", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&offset=x", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&q=temperature>>3", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&georel=near&geometry=Point&coordinates=[1,2]", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&idPattern=(", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&colour=blue", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&options=pretty", 400, "BadRequestData"},
      {"/ngsi-ld/v1/entities?type=Room&count=maybe", 400, "BadRequestData"},
      {"/ngsi-ld/v1/nowhere", 404, "ResourceNotFound"},
  };
  for (const Case& c : cases) {
    INFO(c.target);
    Response r = api.Do(Method::kGet, c.target);
    CHECK(r.status == c.status);
    CHECK(ErrorTypeOf(r) == c.type);
    CHECK_FALSE(Body(r).at("detail").as_string().empty());
  }
}

TEST_CASE("API: content negotiation follows the specification", "[broker][api]") {
  Api api;
  // Unsupported Content-Type: "just a 415 HTTP status code (without any payload body)", 6.3.4.
  Response r415 = api.Do(Method::kPost, "/ngsi-ld/v1/entities", kEntity400, "text/plain");
  CHECK(r415.status == 415);
  CHECK(r415.body.empty());
  // Other errors: ProblemDetails served as application/json (5.5.3, 6.3.3).
  Response r404 = api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Thing:none");
  REQUIRE(r404.FindHeader("Content-Type") != nullptr);
  CHECK(*r404.FindHeader("Content-Type") == "application/json");
  // Unacceptable Accept: 406.
  REQUIRE(api.Create(kEntity400).status == 201);
  Response r406 = api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001", "", "",
                         {{"Accept", "text/html"}});
  CHECK(r406.status == 406);
  // application/json with an @context in the body: 400.
  Response ctx_in_json = api.Create(R"({"id":"urn:x:1","type":"T","@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"})");
  CHECK(ctx_in_json.status == 400);
  // application/ld+json without an @context: 400.
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:x:2","type":"T"})", "application/ld+json").status == 400);
  // application/ld+json with an inline context: terms expand, and compact back with it.
  const std::string ld = R"({"@context":[{"Sensor":"https://vocab.test/Sensor","level":"https://vocab.test/level"},
      "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"],
      "id":"urn:x:3","type":"Sensor","level":{"type":"Property","value":7}})";
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/entities", ld, "application/ld+json").status == 201);
  // Without that context, the names come back as full IRIs.
  auto plain = api.Get("/ngsi-ld/v1/entities/urn:x:3");
  CHECK(plain.at("type") == json::value("https://vocab.test/Sensor"));
  CHECK(plain.as_object().contains("https://vocab.test/level"));
  // Accept: application/ld+json puts the @context in the body; application/json uses a Link header.
  Response as_ld = api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001", "", "",
                          {{"Accept", "application/ld+json"}});
  CHECK(*as_ld.FindHeader("Content-Type") == "application/ld+json");
  CHECK(Body(as_ld).as_object().contains("@context"));
  Response as_json = api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:001");
  REQUIRE(as_json.FindHeader("Link"));
  CHECK_THAT(*as_json.FindHeader("Link"), Catch::Contains("ngsi-ld-core-context"));
  // A body that is not JSON: 400 InvalidRequest.
  Response bad = api.Create("{not json");
  CHECK(bad.status == 400);
  CHECK(ErrorTypeOf(bad) == "InvalidRequest");
  // Wrong method on a known path: 405 with Allow.
  Response r405 = api.Do(Method::kPut, "/ngsi-ld/v1/entities");
  CHECK(r405.status == 405);
  REQUIRE(r405.FindHeader("Allow"));
  CHECK_THAT(*r405.FindHeader("Allow"), Catch::Contains("POST"));
}

TEST_CASE("API: tenants isolate entities, types and subscriptions", "[broker][api]") {
  Api api;
  REQUIRE(api.Create(Room(1, 20), {{"NGSILD-Tenant", "osaka"}}).status == 201);
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1").status == 404);
  Response missing = api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1", "", "", {{"NGSILD-Tenant", "kyoto"}});
  CHECK(missing.status == 404);
  CHECK(ErrorTypeOf(missing) == "NonexistentTenant");
  CHECK(api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1", {{"NGSILD-Tenant", "osaka"}}).at("id") ==
        json::value("urn:ngsi-ld:Room:1"));
  CHECK(api.Get("/ngsi-ld/v1/types").at("typeList").as_array().empty());
  CHECK(api.Get("/ngsi-ld/v1/types", {{"NGSILD-Tenant", "osaka"}}).at("typeList") == json::parse(R"(["Room"])"));
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/types", "", "", {{"NGSILD-Tenant", "bad tenant!"}}).status == 400);
  const std::string sub = R"({"type":"Subscription","entities":[{"type":"Room"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}})";
  REQUIRE(api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions", sub, "application/json", {{"NGSILD-Tenant", "osaka"}}).status == 201);
  CHECK(api.Get("/ngsi-ld/v1/subscriptions").as_array().empty());
  CHECK(api.Get("/ngsi-ld/v1/subscriptions", {{"NGSILD-Tenant", "osaka"}}).as_array().size() == 1);
}

TEST_CASE("API: discovery of types and attributes", "[broker][api]") {
  Api api;
  REQUIRE(api.Create(Room(1, 20)).status == 201);
  REQUIRE(api.Create(kEntity400).status == 201);
  auto types = api.Get("/ngsi-ld/v1/types");
  CHECK(types.at("type") == json::value("EntityTypeList"));
  CHECK(types.at("typeList") == json::parse(R"(["AirQualityObserved","Room"])"));
  auto details = api.Get("/ngsi-ld/v1/types?details=true");
  CHECK(details.as_array().size() == 2);
  auto room = api.Get("/ngsi-ld/v1/types/Room");
  CHECK(room.at("type") == json::value("EntityTypeInfo"));
  CHECK(room.at("entityCount") == json::value(1));
  CHECK(room.at("attributeDetails").as_array().size() == 2);
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/types/Nothing").status == 404);
  auto attrs = api.Get("/ngsi-ld/v1/attributes");
  CHECK(attrs.at("type") == json::value("AttributeList"));
  CHECK(attrs.at("attributeList").as_array().size() == 5);  // location, no2, pm10, refDevice, temperature
  auto loc = api.Get("/ngsi-ld/v1/attributes/location");
  CHECK(loc.at("attributeCount") == json::value(2));
  CHECK(loc.at("attributeTypes") == json::parse(R"(["GeoProperty"])"));
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/attributes/nothing").status == 404);
}

TEST_CASE("API: subscriptions are created, listed, updated and deleted", "[broker][api]") {
  Api api;
  const std::string sub = R"({"id":"urn:ngsi-ld:Subscription:s1","type":"Subscription","entities":[{"type":"Room"}],
    "watchedAttributes":["temperature"],"q":"temperature>25","throttling":1,"expiresAt":"2099-01-01T00:00:00Z",
    "notification":{"attributes":["temperature"],"format":"keyValues","endpoint":{"uri":"http://127.0.0.1:9/n","accept":"application/json"}}})";
  Response created = api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions", sub);
  REQUIRE(created.status == 201);
  CHECK(*created.FindHeader("Location") == "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:s1");
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions", sub).status == 409);
  auto s = api.Get("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:s1");
  CHECK(s.at("status") == json::value("active"));
  CHECK(s.at("q") == json::value("temperature>25"));
  CHECK(s.at("notification").at("format") == json::value("keyValues"));
  CHECK(s.at("notification").at("timesSent") == json::value(0));
  CHECK(api.Do(Method::kPatch, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:s1", R"({"isActive":false})").status == 204);
  auto paused = api.Get("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:s1");
  CHECK(paused.at("status") == json::value("paused"));
  CHECK(paused.at("q") == json::value("temperature>25"));  // untouched members stay
  CHECK(api.Get("/ngsi-ld/v1/subscriptions").as_array().size() == 1);
  CHECK(api.Do(Method::kDelete, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:s1").status == 204);
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:s1").status == 404);
  // Invalid subscriptions.
  for (const char* bad : {R"({"type":"Subscription","notification":{"endpoint":{"uri":"http://x/"}}})",
                          R"({"type":"Subscription","entities":[{"type":"Room"}]})",
                          R"({"type":"Subscription","entities":[{"type":"Room"}],"notification":{"endpoint":{"uri":"not a uri"}}})",
                          R"({"type":"Subscription","entities":[{"type":"Room"}],"q":"a>>1","notification":{"endpoint":{"uri":"http://x/"}}})",
                          R"({"type":"Subscription","entities":[{"type":"Room"}],"throttling":-1,"notification":{"endpoint":{"uri":"http://x/"}}})",
                          R"({"type":"Thing","entities":[{"type":"Room"}],"notification":{"endpoint":{"uri":"http://x/"}}})"}) {
    INFO(bad);
    Response r = api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions", bad);
    CHECK(r.status == 400);
    CHECK(ErrorTypeOf(r) == "BadRequestData");
  }
  // Periodic subscriptions (timeInterval) are accepted, without watchedAttributes or throttling.
  Response periodic = api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions",
                             R"({"type":"Subscription","entities":[{"type":"Room"}],"timeInterval":10,"notification":{"endpoint":{"uri":"http://x/"}}})");
  CHECK(periodic.status == 201);
  Response both = api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions",
                         R"({"type":"Subscription","entities":[{"type":"Room"}],"timeInterval":10,"watchedAttributes":["t"],"notification":{"endpoint":{"uri":"http://x/"}}})");
  CHECK(both.status == 400);
  CHECK(ErrorTypeOf(both) == "BadRequestData");
}

TEST_CASE("API: version, health and metrics", "[broker][api]") {
  Api api;
  REQUIRE(api.Create(kEntity400).status == 201);
  auto v = api.Get("/version");
  CHECK(v.at("broker") == json::value("citybed"));
  CHECK(api.Get("/health").at("status") == json::value("ok"));
  Response m = api.Do(Method::kGet, "/metrics");
  CHECK(m.status == 200);
  CHECK_THAT(m.body, Catch::Contains("\ncitybed_entities 1\n"));
  CHECK_THAT(m.body, Catch::Contains("\ncitybed_tenants 1\n"));
  CHECK_THAT(m.body, Catch::Contains("# TYPE citybed_http_requests_total counter"));
  CHECK_THAT(m.body, Catch::Contains("citybed_notifications_dropped_total"));
}

TEST_CASE("API: /metrics names no tenant unless the operator asks for it", "[broker][api][reliability]") {
  Api api;
  REQUIRE(api.Create(Room(1, 20), {{"NGSILD-Tenant", "secret-city"}}).status == 201);
  REQUIRE(api.Create(Room(2, 20)).status == 201);
  Response m = api.Do(Method::kGet, "/metrics");
  CHECK(m.body.find("secret-city") == std::string::npos);
  CHECK_THAT(m.body, Catch::Contains("\ncitybed_entities 2\n"));
  CHECK_THAT(m.body, Catch::Contains("\ncitybed_tenants 2\n"));
  BrokerOptions o;
  o.metrics_per_tenant = true;
  Broker open(o);
  Request create = Make(Method::kPost, "/ngsi-ld/v1/entities", Room(1, 20), "application/json");
  create.SetHeader("NGSILD-Tenant", "secret-city");
  REQUIRE(open.Handle(create).status == 201);
  Request get = Make(Method::kGet, "/metrics", "", "");
  const std::string listed = open.Handle(get).body;
  CHECK_THAT(listed, Catch::Contains("citybed_entities{tenant=\"secret-city\"} 1"));
  CHECK_THAT(listed, Catch::Contains("citybed_entities{tenant=\"\"} 0"));
  CHECK(PrometheusLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("API: odd but legal input gets a clear answer, never a changed value or invalid JSON", "[broker][api][reliability]") {
  Api api;
  // A number beyond a double (1e400) was stored and served as null: now refused, in both APIs.
  Response big = api.Create(R"({"id":"urn:ngsi-ld:T:1","type":"T","n":{"type":"Property","value":1e400}})");
  CHECK(big.status == 400);
  CHECK(ErrorTypeOf(big) == "InvalidRequest");
  Response big_v2 = api.Do(Method::kPost, "/v2/entities", R"({"id":"T2","type":"T","n":{"type":"Number","value":-1e400}})");
  CHECK(big_v2.status == 400);
  CHECK(Body(big_v2).at("error") == json::value("ParseError"));
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:T:1").status == 404);
  // The largest double and an underflow (read as 0) are fine.
  REQUIRE(api.Create(R"({"id":"urn:ngsi-ld:T:3","type":"T","n":{"type":"Property","value":1.7976931348623157e308},"m":{"type":"Property","value":1e-400}})").status == 201);
  json::value t3 = api.Get("/ngsi-ld/v1/entities/urn:ngsi-ld:T:3");
  CHECK(t3.at("n").at("value").as_double() == 1.7976931348623157e308);
  CHECK(t3.at("m").at("value").to_number<double>() == 0.0);

  // throttling: 1e300 s overflowed the window in microseconds (undefined behaviour) and
  // disabled throttling; bounded like timeInterval, in both APIs.
  for (const char* th : {"1e300", "1000000001"}) {
    INFO(th);
    Response ld = api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions",
                         std::string(R"({"type":"Subscription","entities":[{"type":"T"}],"throttling":)") + th +
                             R"(,"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}})");
    CHECK(ld.status == 400);
    CHECK(ErrorTypeOf(ld) == "BadRequestData");
    Response v2 = api.Do(Method::kPost, "/v2/subscriptions",
                         std::string(R"({"subject":{"entities":[{"idPattern":".*"}]},"throttling":)") + th +
                             R"(,"notification":{"http":{"url":"http://127.0.0.1:9/n"}}})");
    CHECK(v2.status == 400);
    CHECK(Body(v2).at("error") == json::value("BadRequest"));
  }
  CHECK(api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions",
               R"({"type":"Subscription","entities":[{"type":"T"}],"throttling":1e9,"notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}})")
            .status == 201);

  // Bytes from the URL that are not UTF-8, echoed in an error, still make valid JSON.
  for (const char* target : {"/ngsi-ld/v1/entities/%FF%FEx", "/ngsi-ld/v1/entities?type=%C0%80", "/v2/entities/%ED%A0%80",
                             "/v2/entities?type=%FF"}) {
    INFO(target);
    Response r = api.Do(Method::kGet, target);
    CHECK(r.status < 500);  // an error for the ids, an empty list for the types
    CHECK_NOTHROW(json::parse(r.body));
  }
}

TEST_CASE("API: what CIM 009 defines and the broker lacks answers 501 with ProblemDetails", "[broker][api]") {
  Api api;
  for (const auto& [method, target] : std::vector<std::pair<Method, std::string>>{
           {Method::kGet, "/ngsi-ld/v1/temporal/entities?type=Room"},
           {Method::kGet, "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Room:1"},
           {Method::kDelete, "/ngsi-ld/v1/entities?type=Room"},
           {Method::kGet, "/ngsi-ld/v1/entityMaps/urn:ngsi-ld:EntityMap:1"},
           {Method::kGet, "/ngsi-ld/v1/info/sourceIdentity"}}) {
    const Response r = api.Do(method, target, method == Method::kPost ? "[]" : "");
    INFO(target << " " << r.body);
    CHECK(r.status == 501);
    CHECK(r.FindHeader("Content-Type") != nullptr);
    if (const std::string* ct = r.FindHeader("Content-Type")) CHECK(*ct == "application/json");
    const json::value b = Body(r);
    CHECK(b.at("type") == "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported");
    CHECK(b.at("status") == 501);
    CHECK(b.at("detail").as_string().find("not implemented") != json::string::npos);
  }
  // A resource the specification does not define stays 404.
  CHECK(api.Do(Method::kGet, "/ngsi-ld/v1/nothing").status == 404);
}

TEST_CASE("API: patterns run in linear time: no backtracking blow-up, no stack overflow on long subjects",
          "[broker][api]") {
  Api api;
  const std::string evil(40, 'a');                   // (a+)+$ against a...ab backtracks 2^40 times
  const std::string longest(200000, 'a');            // a recursive engine overflows its stack here
  REQUIRE(api.Create(R"({"id":"urn:ngsi-ld:T:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!","type":"T",)"
                     R"("name":{"type":"Property","value":")" + evil + R"(b"}})").status == 201);
  REQUIRE(api.Create(R"({"id":"urn:ngsi-ld:T:long","type":"T","name":{"type":"Property","value":")" + longest +
                     R"("}})").status == 201);
  // q ~= with a catastrophic pattern: answers at once, and correctly.
  json::value none = api.Get("/ngsi-ld/v1/entities?type=T&q=name~=%22(a%2B)%2B$%22&limit=10");
  REQUIRE(none.is_array());
  CHECK(none.as_array().size() == 1);  // only the long one ends in a's
  json::value all = api.Get("/ngsi-ld/v1/entities?type=T&q=name~=%22^(a|b)*$%22&limit=10&attrs=name&options=keyValues");
  CHECK(all.as_array().size() == 2);
  // idPattern (matched against the whole id) with the same shape.
  json::value ids = api.Get("/ngsi-ld/v1/entities?type=T&idPattern=urn:ngsi-ld:T:(a%2B)%2B$&attrs=name");
  CHECK(ids.as_array().size() == 0);
  // A subscription whose q is evaluated on every later write.
  REQUIRE(api.Do(Method::kPost, "/ngsi-ld/v1/subscriptions",
                 R"({"type":"Subscription","entities":[{"type":"T"}],"q":"name~='(a+)+$'",)"
                 R"("notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"}}})").status == 201);
  CHECK(api.Do(Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:T:long/attrs",
               R"({"name":{"type":"Property","value":")" + evil + R"(c"}})").status == 204);
  // What a linear-time engine cannot do is refused with the reason, not run.
  const Response backref = api.Do(Method::kGet, "/ngsi-ld/v1/entities?type=T&q=name~=%22(a)%5C%5C1%22");
  CHECK(backref.status == 400);
  CHECK(backref.body.find("backreferences") != std::string::npos);
}
