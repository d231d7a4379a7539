// End to end: a federated run — an embedded broker per region and a national hub linked by
// registrations through the backbone relay — and what users get back, including when one
// region's broker goes away. Runs at 5x speed for a few simulated seconds; every wait is bounded
// by the scenario's timeouts.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "citybed/broker/broker.h"
#include "citybed/models/emulation.h"
#include "citybed/models/federation.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"
#include "citybed/results/recorder.h"

using namespace citybed;
using namespace citybed::models;

namespace {

const char* kScenario = R"({
  "name": "fed", "duration": "8s", "warmup": "2s", "speed": 4, "seed": 3,
  "broker": {"url": "embedded", "connections": 4, "timeout": "3s"},
  "federation": {"brokers": "per-region", "topology": "star", "timeout": "400ms", "cooldown": "1s"},
  "regions": [
    {"id": "sapporo", "lat": 43.06, "lon": 141.35, "population": 400000, "radius_km": 3},
    {"id": "tokyo", "lat": 35.68, "lon": 139.77, "population": 400000, "radius_km": 3},
    {"id": "fukuoka", "lat": 33.59, "lon": 130.40, "population": 400000, "radius_km": 3}
  ],
  "network": {"generate": {"hubs": ["sapporo", "tokyo", "fukuoka"], "broker_hub": "tokyo"},
              "access": {"default": {"latency": "2ms"}}},
  "sources": [{"kind": "parking-spot", "count": 30, "arrival": {"process": "periodic", "period": "1s", "jitter": "200ms"}}],
  "users": [{"kind": "tourist", "count": 4, "arrival": {"process": "poisson", "rate": 3},
             "requests": [
               {"op": "geo-query", "type": "ParkingSpot", "max_distance": "5km", "limit": 50, "cross_region": "other"},
               {"op": "get", "type": "ParkingSpot", "cross_region": "other"},
               {"op": "geo-query", "type": "ParkingSpot", "max_distance": "5km", "limit": 50}]}]
})";

struct Federated {
  Scenario scenario;
  std::unique_ptr<World> world;
  std::vector<std::unique_ptr<broker::Broker>> brokers;
  std::vector<std::string> urls;

  // `faults`: a "faults" array to add to the scenario, or empty.
  explicit Federated(const std::string& faults = "", const std::string& topology = "star") {
    std::string text = kScenario;
    const std::string star = R"("topology": "star")";
    text.replace(text.find(star), star.size(), "\"topology\": \"" + topology + "\"");
    if (!faults.empty()) text.insert(text.rfind('}'), ", \"faults\": " + faults);
    auto s = ParseScenario(text, "fed.json");
    INFO((s ? std::string() : FormatErrors("fed.json", s.error())));
    REQUIRE(s);
    scenario = std::move(*s);
    auto w = World::Build(scenario);
    REQUIRE(w);
    world = std::move(*w);
    const Federation& f = *world->federation();
    for (const BrokerSite& site : f.sites()) {
      broker::BrokerOptions bo;
      bo.server.port = 0;
      bo.via_name = site.id;
      bo.shutdown_grace = std::chrono::milliseconds(200);
      brokers.push_back(std::make_unique<broker::Broker>(bo));
      REQUIRE(brokers.back()->Start());
      urls.push_back(brokers.back()->url());
    }
  }
  results::RecorderOptions RecorderOptions() const {
    results::RecorderOptions o;
    o.warmup = scenario.warmup;
    o.duration = scenario.duration;
    for (const auto& r : scenario.regions) o.regions.push_back(r.id);
    o.domains = DomainNames();
    return o;
  }
};

// Stops one site's broker once `n` requests were answered, from the emulation's thread.
class StopSiteAfter : public RunObserver {
 public:
  StopSiteAfter(RunObserver& inner, broker::Broker& b, int n) : inner_(inner), broker_(b), left_(n) {}
  void OnRequest(const RequestRecord& r) override {
    inner_.OnRequest(r);
    if (r.ok() && --left_ == 0) broker_.Stop();
  }
  void OnNotification(const NotificationRecord& n) override { inner_.OnNotification(n); }
  void OnInterop(const InteropRecord& r) override { inner_.OnInterop(r); }

 private:
  RunObserver& inner_;
  broker::Broker& broker_;
  int left_;
};

}  // namespace

TEST_CASE("E2E federation: users get complete answers through the hub, slower than at home", "[e2e][federation]") {
  Federated fed;
  auto protocol = MakeNgsiLdProtocol(fed.urls[0].substr(7));
  results::Recorder recorder(fed.RecorderOptions());
  EmulationOptions eo;
  eo.broker_url = fed.urls[0];
  eo.site_urls = fed.urls;
  const EmulationResult result = RunEmulation(*fed.world, *protocol, eo, recorder);
  INFO((result.invalid_reasons.empty() ? std::string() : result.invalid_reasons[0]));
  REQUIRE(result.valid());
  CHECK(result.federation.registrations == 3);
  CHECK(result.federation.hops > 0);
  CHECK(result.federation.lost == 0);

  const results::InteropStats& interop = recorder.interop();
  REQUIRE_FALSE(interop.empty());
  const nlohmann::json j = interop.ToJson();
  // Local and cross-region reads: everything that exists comes back, once.
  for (const auto& [pair, slice] : j["by_pair"].items()) {
    INFO(pair << ": " << slice.dump());
    CHECK(slice["ok"] == slice["reads"]);
    CHECK(slice["partial_answers"] == 0);
    CHECK(slice["duplicates"] == 0);
    if (slice.contains("recall")) CHECK(slice["recall"].get<double>() >= 0.97);  // a write in flight may be missed
    if (slice.contains("precision")) CHECK(slice["precision"] == 1.0);
  }
  // Through the hub, a read pays the backbone twice more (user to hub, hub to region), and the
  // hub asked at least one region's broker for each.
  REQUIRE(j["by_pair"].contains("national"));
  CHECK(j["by_pair"]["national"]["fan_out_mean"].get<double>() >= 1.0);
  CHECK(j["by_pair"]["national"]["forwarded_bytes_mean"].get<double>() > 0);
  CHECK_FALSE(j["by_pair"]["local"].contains("fan_out_mean"));  // answered by the region's own broker
  REQUIRE(j["by_pair"].contains("local"));
  CHECK(j["by_pair"]["national"]["latency_ms"]["p50"].get<double>() >
        j["by_pair"]["local"]["latency_ms"]["p50"].get<double>() + 5);
}

TEST_CASE("E2E federation: a region's broker that goes away gives partial answers, not a hang",
          "[e2e][federation]") {
  Federated fed;
  auto protocol = MakeNgsiLdProtocol(fed.urls[0].substr(7));
  results::Recorder recorder(fed.RecorderOptions());
  // Fukuoka's broker (site 2) stops early in the run.
  StopSiteAfter stop(recorder, *fed.brokers[2], 50);
  EmulationOptions eo;
  eo.broker_url = fed.urls[0];
  eo.site_urls = fed.urls;
  const auto started = std::chrono::steady_clock::now();
  const EmulationResult result = RunEmulation(*fed.world, *protocol, eo, stop);
  // The run ends on time: 8 s at 4x, plus its drain.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  CHECK(result.reached_end);
  CHECK(result.federation.unreachable > 0);
  const nlohmann::json j = recorder.interop().ToJson();
  INFO(j.dump());
  // Reads about Fukuoka through the hub come back partial (with a warning) instead of failing.
  CHECK(j["partial_answers"].get<int>() > 0);
  CHECK(j["recall"].get<double>() < 1.0);
}

namespace {

// A run in which Fukuoka's broker answers 503 from 3 s to 6 s, in the given topology.
struct FukuokaFault {
  Federated fed;
  results::Recorder recorder;
  EmulationResult result;
  explicit FukuokaFault(const std::string& topology)
      : fed(R"([{"kind": "broker-outage", "mode": "error", "regions": ["fukuoka"], "at": "3s", "duration": "3s"}])",
            topology),
        recorder(fed.RecorderOptions()) {
    auto protocol = MakeNgsiLdProtocol(fed.urls[0].substr(7));
    EmulationOptions eo;
    eo.broker_url = fed.urls[0];
    eo.site_urls = fed.urls;
    result = RunEmulation(*fed.world, *protocol, eo, recorder);
  }
};

}  // namespace

TEST_CASE("E2E federation: a scenario fault of one region's broker shows in its users' and others' reads",
          "[e2e][federation]") {
  FukuokaFault run("star");
  CHECK(run.result.reached_end);
  CHECK(run.result.federation.faulted > 0);  // forwarded reads met the fault
  // Fukuoka's own users got 503 during the fault; nobody else did.
  const auto& fukuoka = run.recorder.regions()[2];
  CHECK(fukuoka.statuses.count("503") == 1);
  CHECK(run.recorder.regions()[0].statuses.count("503") == 0);
  const nlohmann::json j = run.recorder.interop().ToJson();
  INFO(j.dump());
  CHECK(j["partial_answers"].get<int>() > 0);
}

TEST_CASE("E2E federation: in a hierarchy, a region's failure reaches the hub's users as a partial answer",
          "[e2e][federation]") {
  // region -> block -> national: Fukuoka's block answers the hub with what it has and a
  // warning; the relay and the hub pass the warning on. Before, the relay dropped it and the
  // hub's users were told nothing (partial 0).
  FukuokaFault run("hierarchy");
  CHECK(run.result.reached_end);
  CHECK(run.result.federation.faulted > 0);
  const nlohmann::json j = run.recorder.interop().ToJson();
  INFO(j.dump());
  CHECK(j["partial_answers"].get<int>() > 0);
}
