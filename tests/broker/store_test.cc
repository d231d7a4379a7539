#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "citybed/broker/store.h"
#include "test_util.h"

using namespace citybed::broker;
namespace json = boost::json;

namespace {
struct Fixture {
  Interner names;
  ContextResolver contexts;
  std::unique_ptr<Store> store = MakeMemoryStore(names, 4);
  EntityPtr Make(const std::string& id, const std::string& type, double lon = 0, double lat = 0, double value = 0) {
    Codec codec{names, *contexts.Core()};
    auto body = json::object{{"id", id}, {"type", type},
                             {"v", json::object{{"type", "Property"}, {"value", value}}},
                             {"location", json::object{{"type", "GeoProperty"},
                                                       {"value", json::object{{"type", "Point"},
                                                                              {"coordinates", json::array{lon, lat}}}}}}};
    return std::make_shared<const Entity>(*ParseEntity(body, codec, 0));
  }
  void Put(const std::string& tenant, EntityPtr e) {
    auto r = store->Mutate(tenant, e->id, [&](const EntityPtr&) -> citybed::Expected<EntityPtr, Problem> { return e; });
    REQUIRE(r);
  }
  std::vector<std::string> Ids(const std::string& tenant, const ScanFilter& f) {
    std::vector<std::string> out;
    store->Scan(tenant, f, [&](const EntityPtr& e) {
      out.push_back(e->id);
      return true;
    });
    return out;
  }
  uint32_t Type(const std::string& t) { return contexts.Core()->ExpandToId(t, names); }
};
}  // namespace

TEST_CASE("Store creates, replaces and deletes through Mutate", "[broker]") {
  Fixture f;
  auto a = f.Make("urn:x:a", "T");
  auto created = f.store->Mutate("", "urn:x:a", [&](const EntityPtr& cur) -> citybed::Expected<EntityPtr, Problem> {
    CHECK(cur == nullptr);
    return a;
  });
  REQUIRE(created);
  CHECK(created->before == nullptr);
  CHECK(created->after == a);
  CHECK(f.store->Count("") == 1);
  auto refused = f.store->Mutate("", "urn:x:a", [&](const EntityPtr&) -> citybed::Expected<EntityPtr, Problem> {
    return citybed::Unexpected(MakeProblem(ErrorType::kAlreadyExists, "exists"));
  });
  REQUIRE_FALSE(refused);
  CHECK(f.store->Get("", "urn:x:a") == a);
  auto deleted = f.store->Mutate("", "urn:x:a", [](const EntityPtr&) -> citybed::Expected<EntityPtr, Problem> {
    return EntityPtr(nullptr);
  });
  REQUIRE(deleted);
  CHECK(deleted->before == a);
  CHECK(f.store->Get("", "urn:x:a") == nullptr);
  CHECK(f.store->Count("") == 0);
}

TEST_CASE("Store scans in id order through the type index", "[broker]") {
  Fixture f;
  for (int i = 99; i >= 0; --i) f.Put("", f.Make("urn:x:" + std::to_string(1000 + i), i % 2 ? "Odd" : "Even"));
  ScanFilter even;
  even.types = {f.Type("Even")};
  auto ids = f.Ids("", even);
  REQUIRE(ids.size() == 50);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(ids.front() == "urn:x:1000");
  auto all = f.Ids("", {});
  CHECK(all.size() == 100);
  CHECK(std::is_sorted(all.begin(), all.end()));
  ScanFilter by_id;
  by_id.ids = {"urn:x:1005", "urn:x:1001", "urn:x:nope"};
  CHECK(f.Ids("", by_id) == std::vector<std::string>{"urn:x:1001", "urn:x:1005"});
  auto counts = f.store->TypeCounts("");
  REQUIRE(counts.size() == 2);
  CHECK(counts[0].second + counts[1].second == 100);
}

TEST_CASE("Store finds candidates through the spatial index and follows moves", "[broker]") {
  Fixture f;
  f.Put("", f.Make("urn:x:tokyo", "P", 139.76, 35.68));
  f.Put("", f.Make("urn:x:osaka", "P", 135.50, 34.70));
  ScanFilter box;
  box.use_box = true;
  box.geoproperty = f.contexts.Core()->ExpandToId("location", f.names);
  box.box = GeoBox(GeoPoint(139, 35), GeoPoint(140, 36));
  CHECK(f.Ids("", box) == std::vector<std::string>{"urn:x:tokyo"});
  f.Put("", f.Make("urn:x:osaka", "P", 139.5, 35.5));  // moves into the box
  CHECK(f.Ids("", box) == std::vector<std::string>{"urn:x:osaka", "urn:x:tokyo"});
  f.Put("", f.Make("urn:x:tokyo", "P", 0, 0));  // moves out
  CHECK(f.Ids("", box) == std::vector<std::string>{"urn:x:osaka"});
}

TEST_CASE("Tenants are isolated", "[broker]") {
  Fixture f;
  f.Put("cityA", f.Make("urn:x:1", "T"));
  CHECK(f.store->HasTenant("cityA"));
  CHECK_FALSE(f.store->HasTenant("cityB"));
  CHECK(f.store->Get("cityB", "urn:x:1") == nullptr);
  CHECK(f.store->Get("", "urn:x:1") == nullptr);
  CHECK(f.Ids("cityB", {}).empty());
  CHECK(f.store->Count("cityA") == 1);
}

TEST_CASE("Concurrent writers and scanners keep the store consistent", "[broker]") {
  Fixture f;
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<EntityPtr> made;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) made.push_back(f.Make("urn:x:" + std::to_string(t) + ":" + std::to_string(i), "T"));
  }
  std::atomic<bool> done{false}, disorder{false};
  std::atomic<int> scans{0};
  std::thread scanner([&] {
    while (!done) {
      std::string last;
      f.store->Scan("", {}, [&](const EntityPtr& e) {
        if (!(e->id > last)) disorder = true;  // strictly ascending, no duplicates, even while writers run
        last = e->id;
        return true;
      });
      ++scans;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const EntityPtr& e = made[static_cast<size_t>(t * kPerThread + i)];
        (void)f.store->Mutate("", e->id, [&](const EntityPtr&) -> citybed::Expected<EntityPtr, Problem> { return e; });
        if (i % 3 == 0) {
          (void)f.store->Mutate("", e->id, [](const EntityPtr&) -> citybed::Expected<EntityPtr, Problem> { return EntityPtr(nullptr); });
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  scanner.join();
  CHECK_FALSE(disorder);
  CHECK(scans > 0);
  const size_t expected = kThreads * (kPerThread - (kPerThread + 2) / 3);
  CHECK(f.store->Count("") == expected);
  CHECK(f.Ids("", {}).size() == expected);
}
