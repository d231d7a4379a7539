// Distributed operations between embedded brokers and scripted context sources on 127.0.0.1
// (ephemeral ports): which registrations a retrieve or query reaches, what is forwarded, how
// answers merge, loops, timeouts, cool-down and failing sources. Every wait is bounded (the
// forwarder's per-source deadline, the Fetch deadline).
#include <catch2/catch.hpp>
#include <set>

#include "federation_util.h"

using namespace citybed::broker;
using citybed::Fetch;
using citybed::FetchRequest;
using citybed::FetchResult;
using citybed::HttpField;
using citybed::testing::FederationNode;
using citybed::testing::Receiver;
using namespace citybed::testing::federation;
namespace json = boost::json;
using namespace std::chrono_literals;

TEST_CASE("Federation: a query reaches the registered brokers and merges their entities", "[broker][federation]") {
  FederationNode hub, a, b;
  a.Create(Room("urn:ngsi-ld:Room:a1", 20));
  a.Create(Room("urn:ngsi-ld:Room:a2", 21));
  b.Create(Room("urn:ngsi-ld:Room:b1", 22));
  hub.Create(Room("urn:ngsi-ld:Room:h1", 23));
  hub.Register(TypeRegistration(a.Endpoint()));
  hub.Register(TypeRegistration(b.Endpoint()));

  const FetchResult all = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room&count=true");
  REQUIRE(all.status == 200);
  std::vector<std::string> ids = Ids(all.body);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"urn:ngsi-ld:Room:a1", "urn:ngsi-ld:Room:a2", "urn:ngsi-ld:Room:b1",
                                        "urn:ngsi-ld:Room:h1"});
  CHECK(all.Get("NGSILD-Results-Count") == "4");
  CHECK(Warnings(all) == 0);
  CHECK(all.Get("Citybed-Forwarded").rfind("sources=2, answered=2, bytes=", 0) == 0);
  // Values come through as the sources hold them.
  const json::value parsed = json::parse(all.body);
  for (const json::value& e : parsed.as_array()) {
    if (e.at("id") == "urn:ngsi-ld:Room:b1") CHECK(e.at("temperature").at("value").to_number<double>() == 22);
  }

  SECTION("local=true answers from the hub's own data") {
    const FetchResult local = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room&local=true");
    CHECK(Ids(local.body) == std::vector<std::string>{"urn:ngsi-ld:Room:h1"});
  }
  SECTION("pages over the merged result neither repeat nor miss an entity") {
    std::set<std::string> seen;
    size_t pages = 0;
    for (size_t offset = 0; offset < 8; offset += 3, ++pages) {
      const FetchResult p = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room&limit=3&offset=" + std::to_string(offset));
      for (const std::string& id : Ids(p.body)) CHECK(seen.insert(id).second);
    }
    CHECK(seen.size() == 4);
  }
  SECTION("a type the registrations do not offer is not forwarded") {
    const FetchResult other = hub.Call("GET", "/ngsi-ld/v1/entities?type=Vehicle");
    CHECK(Ids(other.body).empty());
    CHECK(hub.broker.forwarder().Counters().sent == 2);  // only the first query's two
  }
  SECTION("POST /entityOperations/query is forwarded as its GET form") {
    const FetchResult post = hub.Call("POST", "/ngsi-ld/v1/entityOperations/query?count=true",
                                      R"({"type":"Query","entities":[{"type":"Room"}],"q":"temperature>=21"})");
    REQUIRE(post.status == 200);
    std::vector<std::string> got = Ids(post.body);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"urn:ngsi-ld:Room:a2", "urn:ngsi-ld:Room:b1", "urn:ngsi-ld:Room:h1"});
    CHECK(post.Get("NGSILD-Results-Count") == "3");
    CHECK(Warnings(post) == 0);
    // A geo-query in the body travels too (coordinates as a JSON array).
    const FetchResult geo = hub.Call(
        "POST", "/ngsi-ld/v1/entityOperations/query",
        R"({"type":"Query","entities":[{"type":"Room"}],"geoQ":{"geometry":"Point","coordinates":[139.7,35.6],"georel":"near;maxDistance==1"}})");
    CHECK(geo.status == 200);
    CHECK(Ids(geo.body).empty());  // the rooms have no location
    CHECK(Warnings(geo) == 0);
    // Selectors with ids per type have no GET form: answered from local data, and said so.
    const FetchResult mixed = hub.Call(
        "POST", "/ngsi-ld/v1/entityOperations/query",
        R"({"type":"Query","entities":[{"type":"Room","id":"urn:ngsi-ld:Room:a1"},{"type":"Room","id":"urn:ngsi-ld:Room:h1"}]})");
    CHECK(mixed.status == 200);
    CHECK(Ids(mixed.body) == std::vector<std::string>{"urn:ngsi-ld:Room:h1"});
    CHECK(mixed.Get("NGSILD-Warning").find("not forwarded") != std::string::npos);
  }
  SECTION("retrieve finds an entity held by one source") {
    const FetchResult one = hub.Call("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:b1");
    REQUIRE(one.status == 200);
    CHECK(json::parse(one.body).at("id") == "urn:ngsi-ld:Room:b1");
    const FetchResult none = hub.Call("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:zz");
    CHECK(none.status == 404);
    CHECK(Warnings(none) == 0);  // a source's 404 is no failure
  }
}

TEST_CASE("Federation: the same entity from two places merges attribute by attribute", "[broker][federation]") {
  FederationNode hub, a, aux;
  // The hub and the source both hold Room:x; the source's temperature was observed later.
  hub.Create(Room("urn:ngsi-ld:Room:x", 10,
                  R"(,"humidity":{"type":"Property","value":40},"pressure":{"type":"Property","value":1000,"observedAt":"2026-01-01T10:00:00Z"})"));
  a.Create(R"({"id":"urn:ngsi-ld:Room:x","type":"Room","temperature":{"type":"Property","value":30},)"
           R"("pressure":{"type":"Property","value":990,"observedAt":"2026-01-01T09:00:00Z"},)"
           R"("co2":{"type":"Property","value":400}})");
  aux.Create(R"({"id":"urn:ngsi-ld:Room:x","type":"Room","humidity":{"type":"Property","value":99},)"
             R"("noise":{"type":"Property","value":55}})");
  hub.Register(TypeRegistration(a.Endpoint()));
  hub.Register(TypeRegistration(aux.Endpoint(), "Room", R"(,"mode":"auxiliary","operations":["retrieveOps"])"));

  const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:x");
  REQUIRE(r.status == 200);
  const json::object e = json::parse(r.body).as_object();
  // Without observedAt, the later modification wins: the source wrote after the hub.
  CHECK(e.at("temperature").at("value").to_number<double>() == 30);
  // With observedAt, the later observation wins, wherever it was written.
  CHECK(e.at("pressure").at("value").to_number<double>() == 1000);
  CHECK(e.at("co2").at("value").to_number<double>() == 400);
  // The auxiliary source adds what nobody else has and overrides nothing.
  CHECK(e.at("humidity").at("value").to_number<double>() == 40);
  CHECK(e.at("noise").at("value").to_number<double>() == 55);
  CHECK_FALSE(e.contains("createdAt"));  // system attributes only when asked for

  const FetchResult q = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room&count=true");
  REQUIRE(Ids(q.body).size() == 1);  // one entity, not three
  CHECK(q.Get("NGSILD-Results-Count") == "1");
}

TEST_CASE("Federation: what is forwarded follows the registration", "[broker][federation]") {
  FederationNode hub;
  Receiver source;
  source.Script([](const Receiver::Received&) { return Receiver::Scripted{200, "[]"}; });
  hub.Register(R"({"type":"ContextSourceRegistration","information":[{"entities":[{"type":"Room"}],)"
               R"("propertyNames":["temperature"]}],"endpoint":")" + source.url("/city") + R"(",)"
               R"("tenant":"cityB","contextSourceInfo":[{"key":"X-Api-Key","value":"k1"},)"
               R"({"key":"X-Trace","value":"urn:ngsi-ld:request"}],"management":{"localOnly":true}})");

  // Asked for attributes the source does not offer: not forwarded.
  hub.Call("GET", "/ngsi-ld/v1/entities?type=Room&attrs=humidity");
  CHECK(source.received().empty());

  const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?attrs=temperature,humidity&q=temperature%3E20&limit=5",
                                 "", {{"X-Trace", "t-42"}});
  CHECK(r.status == 200);
  REQUIRE(source.WaitFor(1, 5s));
  const Receiver::Received got = source.received().at(0);
  CHECK(got.target.rfind("/city/ngsi-ld/v1/entities?", 0) == 0);
  CHECK(got.target.find("type=Room") != std::string::npos);          // the registered type added
  CHECK(got.target.find("attrs=temperature&") != std::string::npos);  // narrowed to what it offers
  CHECK(got.target.find("q=temperature%3E20") != std::string::npos);
  CHECK(got.target.find("local=true") != std::string::npos);          // management.localOnly
  CHECK(got.target.find("limit=5") != std::string::npos);
  CHECK(got.headers.at("NGSILD-Tenant") == "cityB");
  CHECK(got.headers.at("X-Api-Key") == "k1");
  CHECK(got.headers.at("X-Trace") == "t-42");
  CHECK(got.headers.at("Via") == "1.1 " + hub.broker.via_name());
}

TEST_CASE("Federation: registrations in a cycle do not loop", "[broker][federation]") {
  FederationNode a, b;
  a.Create(Room("urn:ngsi-ld:Room:a1", 1));
  b.Create(Room("urn:ngsi-ld:Room:b1", 2));
  // A mesh: each registers the other.
  a.Register(TypeRegistration(b.Endpoint()));
  b.Register(TypeRegistration(a.Endpoint()));

  const FetchResult r = a.Call("GET", "/ngsi-ld/v1/entities?type=Room");
  REQUIRE(r.status == 200);
  std::vector<std::string> ids = Ids(r.body);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"urn:ngsi-ld:Room:a1", "urn:ngsi-ld:Room:b1"});
  // b did not forward back to a: a forwarded once, b never.
  CHECK(a.broker.forwarder().Counters().sent == 1);
  CHECK(b.broker.forwarder().Counters().sent == 0);

  // A request that already passed a broker is answered from its local data, with a warning.
  const FetchResult looped = a.Call("GET", "/ngsi-ld/v1/entities?type=Room", "",
                                    {{"Via", "1.1 somewhere, 1.1 " + a.broker.via_name()}});
  CHECK(Ids(looped.body) == std::vector<std::string>{"urn:ngsi-ld:Room:a1"});
  CHECK(Warnings(looped) == 1);
  CHECK(looped.Get("NGSILD-Warning").rfind("199 ", 0) == 0);
}

TEST_CASE("Federation: failing sources give partial results with warnings, never a hang or a 5xx",
          "[broker][federation]") {
  FederationNode hub;
  hub.Create(Room("urn:ngsi-ld:Room:h1", 1));

  SECTION("a source that does not answer in time, then cools down") {
    Receiver silent;
    silent.Script([](const Receiver::Received&) { return Receiver::Scripted{200, "", true}; });
    hub.Register(TypeRegistration(silent.url(""), "Room", R"(,"management":{"timeout":300,"cooldown":60000})"));
    const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
    CHECK(r.status == 200);
    CHECK(Ids(r.body) == std::vector<std::string>{"urn:ngsi-ld:Room:h1"});
    CHECK(r.Get("NGSILD-Warning").rfind("199 ", 0) == 0);
    CHECK(hub.broker.forwarder().Counters().timeouts == 1);
    // In cool-down: answered at once, the source is not contacted again.
    const FetchResult again = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
    CHECK(again.Get("NGSILD-Warning").find("cooling down") != std::string::npos);
    CHECK(silent.received().size() == 1);
    CHECK(hub.broker.forwarder().Counters().cooled == 1);
  }
  SECTION("a source cooling down does not cool another behind the same host and port") {
    // One relay-like server: /slow/... never answers, /fast/... answers at once.
    Receiver shared;
    shared.Script([](const Receiver::Received& r) {
      if (r.target.rfind("/slow/", 0) == 0) return Receiver::Scripted{200, "", true};
      return Receiver::Scripted{200, R"([{"id":"urn:ngsi-ld:Room:f1","type":"Room"}])"};
    });
    hub.Register(TypeRegistration(shared.url("/slow"), "Room", R"(,"management":{"timeout":300,"cooldown":60000})"));
    hub.Register(TypeRegistration(shared.url("/fast"), "Room"));
    for (int i = 0; i < 2; ++i) {
      const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
      std::vector<std::string> ids = Ids(r.body);
      std::sort(ids.begin(), ids.end());
      CHECK(ids == std::vector<std::string>{"urn:ngsi-ld:Room:f1", "urn:ngsi-ld:Room:h1"});
      CHECK(Warnings(r) == 1);
    }
    size_t fast = 0;
    for (const auto& got : shared.received()) fast += got.target.rfind("/fast/", 0) == 0 ? 1 : 0;
    CHECK(fast == 2);  // asked both times: only /slow cooled down
    CHECK(hub.broker.forwarder().Counters().cooled == 1);
  }
  SECTION("nothing listens at the endpoint") {
    std::string closed;
    {
      Receiver gone;
      closed = gone.url("");
    }
    hub.Register(TypeRegistration(closed));
    const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:h1");
    CHECK(r.status == 200);
    CHECK(r.Get("NGSILD-Warning").rfind("199 ", 0) == 0);
  }
  SECTION("a source that answers an error status") {
    Receiver failing;
    failing.Script([](const Receiver::Received&) { return Receiver::Scripted{503, R"({"title":"down"})"}; });
    hub.Register(TypeRegistration(failing.url("")));
    const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
    CHECK(r.status == 200);
    CHECK(Ids(r.body).size() == 1);
    CHECK(r.Get("NGSILD-Warning").rfind("299 ", 0) == 0);
  }
  SECTION("a source that answers something that is not NGSI-LD") {
    Receiver garbage;
    garbage.Script([](const Receiver::Received&) {
      return Receiver::Scripted{200, R"([{"id":"urn:ngsi-ld:Room:g1","type":"Room"},{"not":"an entity"}])"};
    });
    hub.Register(TypeRegistration(garbage.url("")));
    const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
    CHECK(r.status == 200);
    CHECK(Ids(r.body) == std::vector<std::string>{"urn:ngsi-ld:Room:h1"});  // none of it incorporated
    CHECK(r.Get("NGSILD-Warning").rfind("111 ", 0) == 0);
  }
}

TEST_CASE("Federation: a registration's tenant addresses the source's tenant", "[broker][federation]") {
  FederationNode hub, a;
  a.Create(Room("urn:ngsi-ld:Room:t1", 5), "cityA");
  hub.Register(TypeRegistration(a.Endpoint(), "Room", R"(,"tenant":"cityA")"));
  CHECK(Ids(hub.Call("GET", "/ngsi-ld/v1/entities?type=Room").body) == std::vector<std::string>{"urn:ngsi-ld:Room:t1"});
  // Registrations are per tenant: the hub's other tenants do not see the source.
  hub.Create(Room("urn:ngsi-ld:Room:o1", 5), "other");
  const FetchResult other = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room", "", {{"NGSILD-Tenant", "other"}});
  CHECK(Ids(other.body) == std::vector<std::string>{"urn:ngsi-ld:Room:o1"});
}

TEST_CASE("Federation: registration members for forwarding are validated", "[broker][federation]") {
  FederationNode hub;
  auto status = [&](const std::string& more) {
    return hub.Call("POST", "/ngsi-ld/v1/csourceRegistrations", TypeRegistration("http://127.0.0.1:9", "Room", more)).status;
  };
  CHECK(status(R"(,"management":{"timeout":-1})") == 400);
  CHECK(status(R"(,"management":{"localOnly":"yes"})") == 400);
  CHECK(status(R"(,"contextSourceInfo":[{"key":"Bad Header","value":"x"}])") == 400);
  CHECK(status(R"(,"contextSourceInfo":[{"key":"X-A","value":"a\r\nInjected: 1"}])") == 400);
  CHECK(status(R"(,"tenant":7)") == 400);
  CHECK(status(R"(,"management":{"timeout":500,"cooldown":1000},"contextSourceAlias":"city-a")") == 201);
}

TEST_CASE("Federation: a source's own failed sources reach the client's answer", "[broker][federation]") {
  // hub -> block -> region (down): the block answers 200 with what it has and a warning; the
  // hub used to drop that warning, so a hierarchy's partial answers looked complete.
  std::string down;
  {
    Receiver gone;
    down = gone.url("");
  }
  BrokerOptions block_options = FedOptions();
  block_options.via_name = "block-kanto";
  FederationNode block(block_options);
  block.Create(Room("urn:ngsi-ld:Room:b1", 2));
  block.Register(TypeRegistration(down, "Room", R"(,"contextSourceAlias":"region-13")"));
  BrokerOptions hub_options = FedOptions();
  hub_options.via_name = "hub";
  FederationNode hub(hub_options);
  hub.Create(Room("urn:ngsi-ld:Room:h1", 1));
  hub.Register(TypeRegistration(block.Endpoint(), "Room", R"(,"contextSourceAlias":"block-kanto")"));

  const FetchResult direct = block.Call("GET", "/ngsi-ld/v1/entities?type=Room");
  REQUIRE(Warnings(direct) == 1);
  const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
  CHECK(r.status == 200);
  std::vector<std::string> ids = Ids(r.body);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"urn:ngsi-ld:Room:b1", "urn:ngsi-ld:Room:h1"});
  REQUIRE(Warnings(r) == 1);
  // Passed on as the block wrote it: the agent is the region, not the block (the text may differ
  // from the direct call's: the region is cooling down by now).
  CHECK(r.Get("NGSILD-Warning").rfind("199 region-13 \"", 0) == 0);
  // The same for a retrieve of one entity.
  const FetchResult one = hub.Call("GET", "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:b1");
  CHECK(one.status == 200);
  CHECK(Warnings(one) == 1);
}

TEST_CASE("Federation: an answer carries at most a bounded number of warnings", "[broker][federation]") {
  BrokerOptions o = FedOptions();
  o.via_name = "hub";
  FederationNode hub(o);
  hub.Create(Room("urn:ngsi-ld:Room:h1", 1));
  std::string down;
  {
    Receiver gone;
    down = gone.url("");
  }
  const size_t kMaxWarnings = 24;  // broker/src/distributed.h
  const size_t sources = kMaxWarnings + 6;
  for (size_t i = 0; i < sources; ++i) {
    hub.Register(TypeRegistration(down + "/r" + std::to_string(i), "Room"));
  }
  const FetchResult r = hub.Call("GET", "/ngsi-ld/v1/entities?type=Room");
  CHECK(r.status == 200);
  CHECK(Ids(r.body) == std::vector<std::string>{"urn:ngsi-ld:Room:h1"});
  INFO(r.Get("NGSILD-Warning"));
  CHECK(Warnings(r) == kMaxWarnings + 1);
  bool summary = false;
  for (const HttpField& h : r.headers) {
    summary = summary || h.value == "199 hub \"6 more warnings left out\"";
  }
  CHECK(summary);
}

TEST_CASE("Federation: type and attribute discovery unites this broker's and the sources' answers",
          "[broker][federation]") {
  FederationNode hub, source;
  hub.Create(Room("urn:ngsi-ld:Room:h1", 20));
  source.Create(Room("urn:ngsi-ld:Room:s1", 21, R"(,"humidity":{"type":"Property","value":40})"));
  source.Create(R"({"id":"urn:ngsi-ld:Car:s1","type":"Car","speed":{"type":"Property","value":50},)"
                R"("owner":{"type":"Relationship","object":"urn:ngsi-ld:Person:1"}})");
  hub.Register(R"({"type":"ContextSourceRegistration","information":[{"entities":[{"type":"Room"},{"type":"Car"}]}],)"
               R"("endpoint":")" + source.Endpoint() + R"("})");
  auto get = [&](const std::string& path) {
    const FetchResult r = hub.Call("GET", "/ngsi-ld/v1" + path);
    INFO(path << " " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    CHECK(Warnings(r) == 0);
    return json::parse(r.body);
  };
  CHECK(get("/types").at("typeList") == json::parse(R"(["Car","Room"])"));
  CHECK(get("/types?local=true").at("typeList") == json::parse(R"(["Room"])"));
  const json::value details = get("/types?details=true");
  REQUIRE(details.as_array().size() == 2);
  CHECK(details.at(1).at("typeName") == "Room");
  CHECK(details.at(1).at("attributeNames") == json::parse(R"(["humidity","temperature"])"));
  const json::value room = get("/types/Room");
  CHECK(room.at("entityCount") == 2);  // one here, one at the source
  CHECK(room.at("attributeDetails").as_array().size() == 2);
  CHECK(get("/types/Car").at("entityCount") == 1);  // the source's only
  CHECK(get("/attributes").at("attributeList") == json::parse(R"(["humidity","owner","speed","temperature"])"));
  const json::value owner = get("/attributes/owner");
  CHECK(owner.at("attributeCount") == 1);
  CHECK(owner.at("attributeTypes") == json::parse(R"(["Relationship"])"));
  CHECK(owner.at("typeNames") == json::parse(R"(["Car"])"));
  const json::value temperature = get("/attributes/temperature");
  CHECK(temperature.at("attributeCount") == 2);
  const json::value attrs = get("/attributes?details=true");
  REQUIRE(attrs.as_array().size() == 4);
  CHECK(attrs.at(0).at("attributeName") == "humidity");
  CHECK(attrs.at(0).at("typeNames") == json::parse(R"(["Room"])"));
  CHECK(hub.Call("GET", "/ngsi-ld/v1/types/Bus").status == 404);

  SECTION("a failed source: what this broker knows, with a warning") {
    FederationNode other;
    Receiver dead;
    dead.Script([](const Receiver::Received&) { return Receiver::Scripted{500, ""}; });
    other.Create(Room("urn:ngsi-ld:Room:o1", 1));
    other.Register(TypeRegistration(dead.url("")));
    const FetchResult types = other.Call("GET", "/ngsi-ld/v1/types");
    REQUIRE(types.status == 200);
    CHECK(json::parse(types.body).at("typeList") == json::parse(R"(["Room"])"));
    CHECK(Warnings(types) == 1);
    const FetchResult none = other.Call("GET", "/ngsi-ld/v1/types/Car");
    CHECK(none.status == 404);
    CHECK(Warnings(none) == 0);  // a registration of Rooms is not asked about Cars
  }
}
