// The RequestDriver reports every request the workload made exactly once, with what became of
// it and the latency it was observed at — timeouts counted from the intended send time.
#include <catch2/catch.hpp>
#include <vector>

#include "citybed/models/world.h"
#include "fake_port.h"

using namespace citybed;
using namespace citybed::models;
using citybed::sim::Duration;

namespace {

Scenario Load(const std::string& text) {
  auto s = ParseScenario(text, "t.json");
  INFO((s ? std::string() : FormatErrors("t.json", s.error())));
  REQUIRE(s);
  return std::move(*s);
}

struct Log final : RunObserver {
  std::vector<RequestRecord> records;
  std::vector<std::string> errors;  // the views of `records` point into the driver: copy
  void OnRequest(const RequestRecord& r) override {
    records.push_back(r);
    errors.emplace_back(r.error);
    records.back().error = {};
    records.back().problem = {};
    records.back().name = {};
  }
  void OnNotification(const NotificationRecord&) override {}
};

const char* kOneSource = R"({"name": "t", "duration": "10s",
  "broker": {"timeout": "5s"},
  "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
  "network": {"nodes": [{"id": "gw"}, {"id": "dc"}], "links": [{"from": "gw", "to": "dc", "latency": "10ms"}],
              "broker_node": "dc", "access": {"regions": {"a": {"node": "gw", "latency": "0s"}}}},
  "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]})";

}  // namespace

TEST_CASE("A request answered 14.8 s after it was due is a timeout at 5 s, counted from its intended time", "[models][driver]") {
  Scenario s = Load(kOneSource);
  auto w = World::Build(s);
  REQUIRE(w);
  Log log;
  testing::SimulatedRun run(**w, log);
  run.port.delay = [](const std::string&) { return Duration::Milliseconds(14800); };
  run.Run();
  REQUIRE(log.records.size() == 10);
  for (size_t i = 0; i < log.records.size(); ++i) {
    const RequestRecord& r = log.records[i];
    CHECK(r.outcome == Outcome::kTimeout);
    CHECK(r.latency.ns() == Duration::Seconds(5).ns());  // exactly the timeout, from the intended time
    CHECK(r.completed == r.intended + Duration::Seconds(5));
    CHECK(log.errors[i] == "timeout");
  }
}

TEST_CASE("An answer whose downlink takes it past the timeout is a timeout too", "[models][driver]") {
  Scenario s = Load(kOneSource);
  auto w = World::Build(s);
  REQUIRE(w);
  Log log;
  testing::SimulatedRun run(**w, log);
  // Uplink 10 ms + broker 4.985 s fits the budget of 4.99 s, but the 10 ms downlink does not.
  run.port.delay = [](const std::string&) { return Duration::Milliseconds(4985); };
  run.Run();
  REQUIRE_FALSE(log.records.empty());
  for (const RequestRecord& r : log.records) {
    CHECK(r.outcome == Outcome::kTimeout);
    CHECK(r.latency.ns() == Duration::Seconds(5).ns());
  }
}

TEST_CASE("Every outcome is reported once, at the latency it was observed at", "[models][driver]") {
  Scenario s = Load(kOneSource);
  auto w = World::Build(s);
  REQUIRE(w);
  Log log;
  testing::SimulatedRun run(**w, log);
  int n = 0;
  run.port.status = [&n](const std::string&) { return ++n % 2 == 0 ? 500 : 201; };
  run.port.delay = [](const std::string&) { return Duration::Milliseconds(100); };
  run.Run();
  REQUIRE(log.records.size() == 10);
  int ok = 0, status = 0;
  for (const RequestRecord& r : log.records) {
    // 10 ms up and 10 ms down (plus the serialization of the bytes), 100 ms at the broker.
    CHECK((r.latency - r.network).ns() == Duration::Milliseconds(100).ns());
    CHECK(r.network.millis() == Approx(20).margin(0.1));
    CHECK(r.sent);
    if (r.outcome == Outcome::kOk) ++ok;
    if (r.outcome == Outcome::kStatus) {
      ++status;
      CHECK(r.status == 500);
    }
  }
  CHECK(ok == 5);
  CHECK(status == 5);
  CHECK(run.driver.stats().ok == 5);
  CHECK(run.driver.stats().failed == 5);
}

TEST_CASE("Requests still in flight when the run ends are cancelled at the end, not lost", "[models][driver]") {
  Scenario s = Load(kOneSource);
  auto w = World::Build(s);
  REQUIRE(w);
  Log log;
  testing::SimulatedRun run(**w, log);
  run.port.delay = [](const std::string&) { return Duration::Seconds(3); };
  const sim::Time end = sim::Time() + s.duration;
  run.workload.Start(end);
  run.engine.RunUntil(end);  // stop at the end: the last three are still at the broker
  run.driver.CancelAll();
  REQUIRE(log.records.size() == 10);
  int cancelled = 0;
  for (const RequestRecord& r : log.records) {
    if (r.outcome != Outcome::kCancelled) continue;
    ++cancelled;
    CHECK(r.latency == end - r.intended);
    CHECK(r.completed == end);
  }
  CHECK(cancelled == 3);
  CHECK(run.driver.idle());
}

TEST_CASE("A request lost on its uplink fails as a network loss after the retransmissions", "[models][driver]") {
  Scenario s = Load(R"({"name": "t", "duration": "5s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "network": {"nodes": [{"id": "gw"}, {"id": "dc"}], "links": [{"from": "gw", "to": "dc", "latency": "10ms", "loss": 0.999}],
                "broker_node": "dc", "access": {"regions": {"a": {"node": "gw", "latency": "0s"}}}, "rto": "200ms", "max_retries": 2},
    "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  Log log;
  testing::SimulatedRun run(**w, log);
  run.Run();
  REQUIRE(log.records.size() == 5);
  for (const RequestRecord& r : log.records) {
    CHECK(r.outcome == Outcome::kNetwork);
    CHECK_FALSE(r.sent);
    CHECK(r.latency > Duration::Milliseconds(600));  // 200 + 400 ms of retransmission timeouts
  }
  CHECK(run.port.submitted == 0);
}

TEST_CASE("A source's write keeps the uplink it really paid, for notification freshness", "[models][driver]") {
  Scenario s = Load(R"({"name": "t", "duration": "20s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "network": {"nodes": [{"id": "gw"}, {"id": "dc"}], "links": [{"from": "gw", "to": "dc", "latency": "10ms", "loss": 0.5}],
                "broker_node": "dc", "access": {"regions": {"a": {"node": "gw", "latency": "0s"}}}, "rto": "200ms", "max_retries": 8},
    "sources": [{"kind": "weather", "count": 20, "arrival": {"process": "periodic", "period": "1s"}}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  Log log;
  testing::SimulatedRun run(**w, log);
  run.Run();
  const SourceGroup& g = (*w)->sources()[0];
  int retransmitted = 0;
  for (uint32_t i = 0; i < g.count; ++i) {
    const LastWrite lw = g.last_write[i];
    REQUIRE(lw.uplink_us != UINT32_MAX);
    CHECK(lw.uplink_us >= 10000);
    retransmitted += lw.uplink_us >= 210000;
    // The notification path finds the source again from its entity id.
    auto found = (*w)->FindSource((*w)->SourceEntityId(g, i));
    REQUIRE(found);
    CHECK(found->first == 0);
    CHECK(found->second == i);
  }
  CHECK(retransmitted > 0);  // with half the attempts lost, some writes paid an RTO
}
