// The workload sends what `citybed validate` says it will: for every arrival kind, the requests
// counted per operation and per kind of source or user in simulated time equal the integral of
// World::OfferedAt within statistical error. Run through a RequestDriver and a fake broker port,
// so that paged queries go on as against a real broker.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "citybed/models/arrivals.h"
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

// Counts the requests by operation; kinds are told apart by their request specs and groups.
struct Counter final : RunObserver {
  std::array<double, static_cast<size_t>(OpKind::kCount)> by_op{};
  void OnRequest(const RequestRecord& r) override { ++by_op[static_cast<size_t>(r.op)]; }
  void OnNotification(const NotificationRecord&) override {}
};

// Counts per kind through a sink in front of the driver.
struct KindSink final : RequestSink {
  KindSink(World& w, RequestSink& next) : world(w), next(next) {}
  void Emit(WorkloadRequest&& r) override {
    ++by_kind[KindOf(r)];
    next.Emit(std::move(r));
  }
  std::string KindOf(const WorkloadRequest& r) const {
    if (r.group >= 0) return std::string(world.sources()[static_cast<size_t>(r.group)].model->kind());
    for (const UserSpec& u : world.scenario().users) {
      for (const RequestSpec& q : u.requests) {
        if (&q == r.spec) return u.kind;
      }
    }
    for (const EventSpec& e : world.scenario().events) {
      for (const RequestSpec& q : e.crowd.requests) {
        if (&q == r.spec) return "crowd:" + e.kind;
      }
    }
    return "?";
  }
  World& world;
  RequestSink& next;
  std::map<std::string, double> by_kind;
};

struct Expected {
  std::array<double, static_cast<size_t>(OpKind::kCount)> by_op{};
  std::map<std::string, double> by_kind;
};

// The integral of OfferedAt over the run (midpoint rule, 1 s steps), plus the users'
// subscriptions at the start.
Expected Integrate(const World& w) {
  Expected e;
  const int64_t step = Duration::Seconds(1).ns();
  for (int64_t t = step / 2; t < w.scenario().duration.ns(); t += step) {
    const OfferedLoad l = w.OfferedAt(t);
    for (size_t k = 0; k < l.by_op.size(); ++k) e.by_op[k] += l.by_op[k];
    for (const auto& [kind, rate] : l.by_kind) e.by_kind[kind] += rate;
  }
  e.by_op[static_cast<size_t>(OpKind::kSubscribe)] += static_cast<double>(w.SubscriptionsAtStart());
  for (const UserGroup& g : w.users()) {
    for (const RequestSpec& r : g.spec->requests) {
      if (r.op == RequestSpec::Op::kSubscribe) e.by_kind[g.spec->kind] += g.count;
    }
  }
  return e;
}

// |observed - expected| within 4 standard deviations of a Poisson count (and 1 % for the
// integration), so a wrong definition of what a kind sends fails by far.
void CheckClose(const std::string& what, double observed, double expected) {
  INFO(what << ": observed " << observed << ", expected " << expected);
  CHECK(std::abs(observed - expected) <= 4 * std::sqrt(expected) + 0.01 * expected + 2);
}

void CheckScenario(const std::string& text) {
  Scenario s = Load(text);
  auto w = World::Build(s);
  REQUIRE(w);
  const Expected expected = Integrate(**w);
  Counter counter;
  testing::SimulatedRun run(**w, counter);
  KindSink sink(**w, run.driver);
  Workload workload(**w, run.protocols, run.engine, sink, testing::WorkloadOptionsFor("http://r.test"));
  run.driver.SetWorkload(&workload);
  workload.Start(sim::Time() + s.duration);
  run.engine.RunUntil(sim::Time() + s.duration + Duration::Seconds(20));
  double total = 0;
  for (size_t k = 0; k < counter.by_op.size(); ++k) {
    CheckClose(std::string(OpKindName(static_cast<OpKind>(k))), counter.by_op[k], expected.by_op[k]);
    total += counter.by_op[k];
  }
  REQUIRE(total > 100);  // the scenario made enough requests to tell
  for (const auto& [kind, rate] : expected.by_kind) CheckClose(kind, sink.by_kind[kind], rate);
  for (const auto& [kind, n] : sink.by_kind) CHECK(expected.by_kind.count(kind) == 1);
}

}  // namespace

TEST_CASE("The workload sends what validate says: periodic sources, flat and under a daily profile", "[models][workload]") {
  CheckScenario(R"({"name": "t", "duration": "2h", "start": "2026-04-01T06:00:00+09:00",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000}],
    "sources": [{"kind": "weather", "count": 40, "arrival": {"process": "periodic", "period": "1m", "jitter": "20s"}},
                {"kind": "traffic-flow", "count": 30, "arrival": {"process": "periodic", "period": "2m", "profile": "mobility"}}]})");
}

TEST_CASE("The workload sends what validate says: Poisson sources with bursts", "[models][workload]") {
  CheckScenario(R"({"name": "t", "duration": "1h",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000}],
    "sources": [{"kind": "river-gauge", "count": 20, "arrival": {"process": "poisson", "rate": 0.05,
                 "burst": {"every": "10m", "length": "2m", "factor": 5}}}]})");
}

TEST_CASE("The workload sends what validate says: users with mixes, pages and subscriptions", "[models][workload]") {
  CheckScenario(R"({"name": "t", "duration": "30m", "start": "2026-04-01T08:00:00+09:00",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000},
                {"id": "b", "lat": 34.7, "lon": 135.5, "population": 80000}],
    "sources": [{"kind": "weather", "count": 10, "arrival": {"process": "periodic", "period": "1m"}}],
    "users": [{"kind": "analyst", "count": 3, "arrival": {"process": "poisson", "rate": 0.1},
               "requests": [{"op": "query", "type": "WeatherObserved", "pages": 3, "limit": 5, "weight": 2},
                            {"op": "get", "type": "WeatherObserved", "cross_region": true},
                            {"op": "geo-query", "type": "WeatherObserved"},
                            {"op": "subscribe", "type": "WeatherObserved"}]},
              {"kind": "dashboard", "count": 2, "arrival": {"process": "periodic", "period": "20s", "profile": "daytime"},
               "requests": [{"op": "query", "type": "WeatherObserved"}]}]})");
}

TEST_CASE("The workload sends what validate says: events scale sources, crowds join and decay", "[models][workload]") {
  CheckScenario(R"({"name": "t", "duration": "1h",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 200000}],
    "sources": [{"kind": "river-gauge", "count": 30, "arrival": {"process": "periodic", "period": "2m"}},
                {"kind": "weather", "count": 20, "arrival": {"process": "poisson", "rate": 0.02}}],
    "events": [{"kind": "heavy-rain", "at": "10m", "regions": ["a"], "ramp": "5m", "duration": "20m", "decay": "10m",
                "rate_factors": {"disaster": 6, "environment": 2},
                "crowd": {"per_10k": 20, "ramp": "10m", "decay": "15m", "rate": 0.02,
                          "requests": [{"op": "get", "type": "FloodMonitoring", "weight": 3},
                                       {"op": "query", "type": "FloodMonitoring", "pages": 2},
                                       {"op": "subscribe", "type": "FloodMonitoring"}]}}]})");
}

TEST_CASE("A crowd whose rate decays to nothing neither stalls nor schedules into the past", "[models][workload]") {
  // A rate of 1e-6 per second decaying over one second: the thinning majorant decays with it,
  // so every member's next action is "never" after a few draws.
  Scenario s = Load(R"({"name": "t", "duration": "6h",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000000}],
    "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1h"}}],
    "events": [{"kind": "earthquake", "at": "1m", "regions": ["a"],
                "crowd": {"per_10k": 100, "ramp": "1m", "decay": "1s", "rate": 0.000001,
                          "requests": [{"op": "get", "type": "WeatherObserved"}]}}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  Counter counter;
  testing::SimulatedRun run(**w, counter);
  REQUIRE_NOTHROW(run.Run());  // used to abort: "Engine::ScheduleAt: time ... is before Now()"
  CHECK(counter.by_op[static_cast<size_t>(OpKind::kGet)] <= 2);
  // The gap itself: an immediate "never", whatever the horizon.
  DecayScale decay(0, 1.0);
  ArrivalSpec a;
  a.process = ArrivalSpec::Process::kPoisson;
  a.rate = 1e-6;
  sim::Rng rng(7);
  for (int i = 0; i < 1000; ++i) CHECK(NextGap(a, rng, 3600'000'000'000, 12, &decay, false, INT64_MAX) == kNever);
}

TEST_CASE("Arrival gaps stop at the horizon instead of running past it", "[models][workload]") {
  ArrivalSpec a;
  a.process = ArrivalSpec::Process::kPeriodic;
  a.period = Duration::Hours(10);
  a.profile = "mobility";
  sim::Rng rng(1);
  // The next report would come in 10 hours of operational time; the run ends in one.
  CHECK(NextGap(a, rng, 0, 3, nullptr, false, Duration::Hours(1).ns()) == kNever);
  const Duration within = NextGap(a, rng, 0, 3, nullptr, false, Duration::Hours(48).ns());
  CHECK(within != kNever);
  CHECK(within > Duration::Hours(1));
}
