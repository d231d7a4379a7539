// The durable store (durable_store.h): what a broker acknowledged is there after a restart, in
// both engines; a full disk answers 507 and loses nothing acknowledged. The kill -9 test of a
// broker process under load is tests/app/durability_test.py.
#include <signal.h>
#include <sys/resource.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "citybed/broker/broker.h"
#include "test_util.h"

using namespace citybed::broker;
using namespace citybed::broker::testing;
namespace json = boost::json;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / ("citybed-durable-" + std::to_string(rd()) + std::to_string(rd()));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

BrokerOptions Durable(const std::string& dir, const std::string& engine) {
  BrokerOptions o;
  o.server.port = 0;
  o.forwarding = false;
  o.durable.path = dir;
  o.durable.engine = engine;
  return o;
}

// Everything a reader can see of the stored entities: each tenant's entities rendered with
// system attributes through NGSI-LD, and through NGSI-v2.
std::string Snapshot(Broker& b) {
  std::string out;
  for (const char* tenant : {"", "osaka"}) {
    std::vector<std::pair<std::string, std::string>> h;
    if (*tenant) h.push_back({"NGSILD-Tenant", tenant});
    out += Do(b, Method::kGet, "/ngsi-ld/v1/entities?type=Room,AirQualityObserved,Thing&options=sysAttrs&limit=100", "", h).body;
    std::vector<std::pair<std::string, std::string>> v2h;
    if (*tenant) v2h.push_back({"Fiware-Service", tenant});
    out += Do(b, Method::kGet, "/v2/entities?limit=100", "", v2h).body;
  }
  return out;
}

void WriteEverything(Broker& b) {
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kEntity400).status == 201);
  // Sub-attributes, a dataset id, a LanguageProperty, a unit code, a Relationship.
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities",
             R"({"id":"urn:ngsi-ld:Thing:1","type":["Thing","Room"],)"
             R"("temperature":[{"type":"Property","value":21.5,"unitCode":"CEL","observedAt":"2026-11-30T10:00:00Z",)"
             R"("accuracy":{"type":"Property","value":0.1,"source":{"type":"Relationship","object":"urn:x:s"}}},)"
             R"({"type":"Property","value":70.7,"unitCode":"FAH","datasetId":"urn:ngsi-ld:Dataset:f"}],)"
             R"("name":{"type":"LanguageProperty","languageMap":{"ja":"会議室","en":"meeting room"}},)"
             R"("data":{"type":"Property","value":{"nested":[1,2.5,"x",null,true],"big":12345678901234}}})")
              .status == 201);
  // NGSI-v2 entities, one with an id that is not a URI (stored under a mapped key) and a service path.
  REQUIRE(Do(b, Method::kPost, "/v2/entities",
             R"({"id":"Room1","type":"Room","temperature":{"type":"Number","value":23,"metadata":{"unit":{"type":"Text","value":"C"}}}})",
             {{"Fiware-ServicePath", "/building/a"}})
              .status == 201);
  REQUIRE(Do(b, Method::kPost, "/v2/entities", R"({"id":"Room2","type":"Room","open":{"type":"Boolean","value":false}})",
             {{"Fiware-Service", "osaka"}})
              .status == 201);
  // A batch, then an update and a deletion of what it wrote.
  std::string batch = "[";
  for (int i = 0; i < 50; ++i) {
    if (i) batch += ',';
    batch += R"({"id":"urn:ngsi-ld:Room:)" + std::to_string(i) + R"(","type":"Room","t":{"type":"Property","value":)" +
             std::to_string(i) + "}}";
  }
  batch += "]";
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", batch).status == 201);
  REQUIRE(Do(b, Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:7/attrs", R"({"t":{"type":"Property","value":77}})")
              .status == 204);
  REQUIRE(Do(b, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:8").status == 204);
  REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Room:o","type":"Room"})",
             {{"NGSILD-Tenant", "osaka"}})
              .status == 201);
}

}  // namespace

TEST_CASE("Durable store: every acknowledged write is there after a restart, in every engine", "[broker][durable]") {
  for (std::string engine : {"rocksdb", "lmdb", "sqlite"}) {
    SECTION(engine) {
      TempDir dir;
      std::string before;
      {
        Broker b(Durable(dir.path.string(), engine));
        REQUIRE(b.Start());
        REQUIRE(b.durable_store() != nullptr);
        WriteEverything(b);
        before = Snapshot(b);
        const DurableStats s = b.durable_store()->stats();
        CHECK(s.engine == engine);
        CHECK(s.commits >= 1);
        CHECK(s.records >= 55);
        const std::string metrics = Do(b, Method::kGet, "/metrics").body;
        CHECK_THAT(metrics, Catch::Contains("citybed_store_commits_total " + std::to_string(s.commits)));
        CHECK_THAT(metrics, Catch::Contains("citybed_store_failing 0"));
        b.Stop();
      }
      Broker again(Durable(dir.path.string(), engine));
      REQUIRE(again.Start());
      CHECK(again.durable_store()->stats().recovered == 54);  // 2 NGSI-LD + 2 NGSI-v2 + 50 - 1 deleted + 1 in osaka
      CHECK(Snapshot(again) == before);
      CHECK(Do(again, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:8").status == 404);
      CHECK(Body(Do(again, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:7")).at("t").at("value") == 77);
      // The NGSI-v2 id and service path came back with it.
      CHECK(Do(again, Method::kGet, "/v2/entities/Room1", "", {{"Fiware-ServicePath", "/building/a"}}).status == 200);
      CHECK(Do(again, Method::kGet, "/v2/entities/Room1", "", {{"Fiware-ServicePath", "/other"}}).status == 404);
      CHECK(Do(again, Method::kGet, "/v2/entities/Room2", "", {{"Fiware-Service", "osaka"}}).status == 200);
      // And it keeps writing where it stopped.
      CHECK(Do(again, Method::kDelete, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:9").status == 204);
    }
  }
}

TEST_CASE("Durable store: subscriptions and registrations of both APIs survive a restart", "[broker][durable]") {
  for (std::string engine : {"rocksdb", "lmdb"}) {
    SECTION(engine) {
      TempDir dir;
      auto snapshot = [](Broker& b) {
        std::string out;
        for (const char* tenant : {"", "osaka"}) {
          std::vector<std::pair<std::string, std::string>> ld, v2;
          if (*tenant) {
            ld.push_back({"NGSILD-Tenant", tenant});
            v2.push_back({"Fiware-Service", tenant});
          }
          out += Do(b, Method::kGet, "/ngsi-ld/v1/subscriptions?limit=100", "", ld).body + "\n";
          out += Do(b, Method::kGet, "/ngsi-ld/v1/csourceRegistrations?limit=100", "", ld).body + "\n";
          out += Do(b, Method::kGet, "/ngsi-ld/v1/csourceSubscriptions?limit=100", "", ld).body + "\n";
          out += Do(b, Method::kGet, "/v2/subscriptions?limit=100", "", v2).body + "\n";
          out += Do(b, Method::kGet, "/v2/registrations?limit=100", "", v2).body + "\n";
        }
        return out;
      };
      std::string before, ld_id;
      {
        Broker b(Durable(dir.path.string(), engine));
        REQUIRE(b.Start());
        // An NGSI-LD subscription under its own @context (its terms come back compacted with it).
        Request sub = Make(Method::kPost, "/ngsi-ld/v1/subscriptions",
                           R"({"type":"Subscription","entities":[{"type":"Nothing"}],"watchedAttributes":["speed"],)"
                           R"("q":"speed>90","description":"first","notification":{"endpoint":{"uri":"http://127.0.0.1:9/n"},)"
                           R"("attributes":["speed"]},"@context":[{"speed":"https://example.org/vocab#speed"},)"
                           R"("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]})",
                           "application/ld+json");
        Response made = AwaitResponse(b.Handle(sub));
        REQUIRE(made.status == 201);
        ld_id = made.FindHeader("Location")->substr(made.FindHeader("Location")->rfind('/') + 1);
        REQUIRE(Do(b, Method::kPatch, "/ngsi-ld/v1/subscriptions/" + ld_id, R"({"description":"patched"})").status == 204);
        Response gone = Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions",
                           R"({"type":"Subscription","entities":[{"type":"Nothing"}],"notification":{"endpoint":{"uri":"http://127.0.0.1:9/x"}}})");
        REQUIRE(gone.status == 201);
        REQUIRE(Do(b, Method::kDelete, *gone.FindHeader("Location")).status == 204);
        // One in another tenant, with an id of its own and an expiry.
        REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/subscriptions",
                   R"({"id":"urn:ngsi-ld:Subscription:soon","type":"Subscription","entities":[{"type":"Nothing"}],)"
                   R"("expiresAt":"2099-01-01T00:00:00Z","notification":{"endpoint":{"uri":"http://127.0.0.1:9/s"}}})",
                   {{"NGSILD-Tenant", "osaka"}})
                    .status == 201);
        // An NGSI-v2 subscription with a service path, in a tenant.
        REQUIRE(Do(b, Method::kPost, "/v2/subscriptions",
                   R"({"description":"v2 one","subject":{"entities":[{"idPattern":".*","type":"Nothing"}],)"
                   R"("condition":{"attrs":["temperature"],"expression":{"q":"temperature>40"}}},)"
                   R"("notification":{"http":{"url":"http://127.0.0.1:9/v2"},"attrs":["temperature"]},"throttling":5})",
                   {{"Fiware-Service", "osaka"}, {"Fiware-ServicePath", "/building/a"}})
                    .status == 201);
        // A context source registration subscription, periodic and in time.
        REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/csourceSubscriptions",
                   R"({"id":"urn:ngsi-ld:Subscription:cs1","type":"Subscription","entities":[{"type":"Vehicle"}],)"
                   R"("temporalQ":{"timerel":"after","timeAt":"2020-01-01T00:00:00Z"},)"
                   R"("notification":{"endpoint":{"uri":"http://127.0.0.1:9/cs"}}})",
                   {{"NGSILD-Tenant", "osaka"}})
                    .status == 201);
        // Registrations through both APIs.
        REQUIRE(Do(b, Method::kPost, "/ngsi-ld/v1/csourceRegistrations",
                   R"({"id":"urn:ngsi-ld:ContextSourceRegistration:r1","type":"ContextSourceRegistration",)"
                   R"("information":[{"entities":[{"type":"Vehicle"}],"propertyNames":["speed"]}],)"
                   R"("endpoint":"http://127.0.0.1:9/src","mode":"inclusive","operations":["retrieveOps"]})")
                    .status == 201);
        REQUIRE(Do(b, Method::kPost, "/v2/registrations",
                   R"({"description":"v2 reg","dataProvided":{"entities":[{"id":"Room9","type":"Room"}],"attrs":["temperature"]},)"
                   R"("provider":{"http":{"url":"http://127.0.0.1:9/v2src"}}})")
                    .status == 201);
        before = snapshot(b);
      }
      {
        Broker again(Durable(dir.path.string(), engine));
        REQUIRE(again.Start());
        CHECK(snapshot(again) == before);
        Response patched = Do(again, Method::kGet, "/ngsi-ld/v1/subscriptions/" + ld_id);
        REQUIRE(patched.status == 200);
        CHECK(Body(patched).at("description") == "patched");
        // Changes after the restart are kept as well (the directory is free once the broker is gone).
        REQUIRE(Do(again, Method::kDelete, "/ngsi-ld/v1/subscriptions/" + ld_id).status == 204);
      }
      Broker third(Durable(dir.path.string(), engine));
      REQUIRE(third.Start());
      CHECK(Do(third, Method::kGet, "/ngsi-ld/v1/subscriptions/" + ld_id).status == 404);
      CHECK(Do(third, Method::kGet, "/ngsi-ld/v1/csourceRegistrations/urn:ngsi-ld:ContextSourceRegistration:r1").status ==
            200);
      CHECK(Do(third, Method::kGet, "/ngsi-ld/v1/csourceSubscriptions/urn:ngsi-ld:Subscription:cs1", "",
               {{"NGSILD-Tenant", "osaka"}})
                .status == 200);
    }
  }
}

TEST_CASE("Durable store: one broker per directory, and a bad engine or directory fails at start", "[broker][durable]") {
  TempDir dir;
  Broker first(Durable(dir.path.string(), "lmdb"));
  REQUIRE(first.Start());
  Broker second(Durable(dir.path.string(), "lmdb"));
  auto started = second.Start();
  REQUIRE_FALSE(started);
  CHECK_THAT(started.error().message, Catch::Contains("in use by another broker"));

  Broker unknown(Durable((dir.path / "x").string(), "leveldb"));
  auto bad = unknown.Start();
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("unknown store engine"));

  // A path under a regular file cannot be a directory.
  Broker under_file(Durable((dir.path / "citybed.lock" / "sub").string(), "sqlite"));
  auto no_dir = under_file.Start();
  REQUIRE_FALSE(no_dir);
  CHECK_THAT(no_dir.error().message, Catch::Contains("cannot create the store directory"));
}

TEST_CASE("Durable store: a full disk answers 507, refuses writes until space returns, loses nothing acknowledged",
          "[broker][durable]") {
  // The file size limit stands in for a full disk (it works for root as well); SIGXFSZ would kill the test.
  signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  TempDir dir;
  std::vector<std::string> acknowledged;
  {
    Broker b(Durable(dir.path.string(), "lmdb"));
    REQUIRE(b.Start());
    const std::string big(20000, 'x');
    rlimit small = saved;
    small.rlim_cur = 256 * 1024;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    int status = 0;
    for (int i = 0; i < 200 && status != 507; ++i) {
      const std::string id = "urn:ngsi-ld:Blob:" + std::to_string(i);
      Response r = Do(b, Method::kPost, "/ngsi-ld/v1/entities",
                      R"({"id":")" + id + R"(","type":"Blob","data":{"type":"Property","value":")" + big + R"("}})");
      status = r.status;
      if (status == 201) acknowledged.push_back(id);
      if (status == 507) {
        CHECK(ErrorTypeOf(r) == "InternalError");  // a ProblemDetails body
        CHECK_THAT(r.body, Catch::Contains("not stored durably"));
      }
    }
    REQUIRE(status == 507);
    REQUIRE_FALSE(acknowledged.empty());
    // Refused up front while the disk stays full, in both APIs' shapes.
    Response ld = Do(b, Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Blob:late","type":"Blob"})");
    CHECK(ld.status == 507);
    Response v2 = Do(b, Method::kPost, "/v2/entities", R"({"id":"late","type":"Blob"})");
    INFO(v2.body);
    CHECK(v2.status == 507);
    CHECK(Body(v2).as_object().contains("error"));
    CHECK(b.durable_store()->stats().failing);
    // Space returns: the committer's retry (every second) lifts the refusal.
    REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    b.durable_store()->Flush();
    int after = 0;
    for (int i = 0; i < 100 && after != 201; ++i) {
      after = Do(b, Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Blob:after","type":"Blob"})").status;
      if (after != 201) b.durable_store()->Flush();
    }
    CHECK(after == 201);
    acknowledged.push_back("urn:ngsi-ld:Blob:after");
    CHECK_FALSE(b.durable_store()->stats().failing);
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  Broker again(Durable(dir.path.string(), "lmdb"));
  REQUIRE(again.Start());
  for (const std::string& id : acknowledged) {
    INFO(id);
    CHECK(Do(again, Method::kGet, "/ngsi-ld/v1/entities/" + id).status == 200);
  }
}
