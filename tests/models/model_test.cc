// Model mode: the calibration's distributions, and the queueing model of the broker checked
// against queueing theory (M/M/1, M/M/c by Erlang C, M/D/1 by Pollaczek–Khinchine, M/D/2 inside
// the Allen–Cunneen band, the bottleneck bound), then a whole model-mode run.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "citybed/models/calibration.h"
#include "citybed/models/model_port.h"
#include "citybed/models/model_run.h"
#include "citybed/models/world.h"
#include "citybed/sim/queueing_theory.h"
#include "citybed/sim/stats.h"
#include "model_oracle.h"

using namespace citybed;
using namespace citybed::models;
using citybed::sim::Duration;
using namespace citybed::testing;

namespace {

Scenario Load(const std::string& text) {
  auto s = ParseScenario(text, "t.json");
  INFO((s ? std::string() : FormatErrors("t.json", s.error())));
  REQUIRE(s);
  return std::move(*s);
}

// Writes of 0.1 ms, subscriptions of 0.2 ms (201), notifications of 0.05 ms, one thread.
Calibration WritesAndSubscriptions() {
  Calibration cal = OneClass(EmpiricalDuration::Constant(0.0001), 1);
  ClassCalibration sub;
  sub.service = EmpiricalDuration::Constant(0.0002);
  sub.statuses = {{201, 1.0}};
  cal.classes[static_cast<size_t>(OpClass::kSubscription)] = sub;
  cal.notify_service_s = 0.00005;
  return cal;
}

}  // namespace

TEST_CASE("An empirical duration samples its buckets: mean, quantiles, a constant", "[models][model]") {
  const EmpiricalDuration e = ExponentialBuckets(0.001);
  CHECK(e.Mean() == Approx(0.001).epsilon(0.01));
  CHECK(e.SquaredCv() == Approx(1.0).epsilon(0.03));
  CHECK(e.Quantile(0.5) == Approx(0.001 * std::log(2)).epsilon(0.01));
  sim::Rng rng(1);
  double sum = 0;
  for (int i = 0; i < 200000; ++i) sum += e.Sample(rng);
  CHECK(sum / 200000 == Approx(0.001).epsilon(0.01));
  const EmpiricalDuration k = EmpiricalDuration::Constant(0.002);
  CHECK(k.Sample(rng) == 0.002);
  CHECK(k.SquaredCv() == Approx(0).margin(1e-12));
  // Two of the broker's neighbouring buckets (1/8 of an octave): uniform inside each.
  const EmpiricalDuration two({{16e-6, 1}, {18e-6, 1}});
  CHECK(two.Mean() == Approx((14.2222e-6 + 16e-6) / 4 + (16e-6 + 18e-6) / 4).epsilon(1e-3));
  CHECK(two.Quantile(0.5) == Approx(16e-6));
}

TEST_CASE("A calibration round-trips through its JSON, and a broken one is refused with its pointer", "[models][model]") {
  Calibration c = OneClass(ExponentialBuckets(0.001), 2);
  c.overhead_s = 1e-5;
  c.fixed_delay_s = 3e-5;
  c.notify_selectivity = 0.4;
  c.sweep = {{1, 900, 0.001, 0.002, 0.9, 2e-5, 100}, {4, 1800, 0.002, 0.004, 1.0, 3e-5, 100}};
  c.usl.gamma = 900;
  c.usl.alpha = 0.1;
  const auto back = Calibration::FromJson(c.ToJson());
  REQUIRE(back);
  CHECK(back->threads == 2);
  CHECK(back->overhead_s == Approx(1e-5));
  CHECK(back->notify_selectivity == Approx(0.4));
  REQUIRE(back->of(OpClass::kBatchUpsert) != nullptr);
  CHECK(back->of(OpClass::kBatchUpsert)->service.Mean() == Approx(c.of(OpClass::kBatchUpsert)->service.Mean()).epsilon(1e-12));
  CHECK(back->of(OpClass::kGet) == nullptr);
  CHECK(back->sweep.size() == 2);
  CHECK(back->usl.gamma == 900);
  // The load-dependent server: 1 alone, 1.5 at concurrency 4, interpolated in log n between.
  CHECK(back->DemandScale(1) == Approx(1.0));
  CHECK(back->DemandScale(4) == Approx(1.5));
  CHECK(back->DemandScale(2) == Approx(1.25));
  CHECK(back->DemandScale(100) == Approx(1.5));

  nlohmann::json j = c.ToJson();
  j["classes"]["upsertz"] = j["classes"]["batch-upsert"];
  auto bad = Calibration::FromJson(j);
  REQUIRE(!bad);
  CHECK(bad.error().message.find("/classes/upsertz") != std::string::npos);
  j = c.ToJson();
  j["format"] = "something/2";
  CHECK(!Calibration::FromJson(j));
  j = c.ToJson();
  j["classes"]["batch-upsert"]["service"]["buckets"] = nlohmann::json::array({nlohmann::json::array({-1, 3})});
  bad = Calibration::FromJson(j);
  REQUIRE(!bad);
  CHECK(bad.error().message.find("/classes/batch-upsert/service/buckets") != std::string::npos);
}

TEST_CASE("The broker model with exponential service is M/M/1 and M/M/c (Erlang C)", "[models][model][slow]") {
  Scenario s = Load(kBare);
  auto w = World::Build(s);
  REQUIRE(w);
  const double mean = 0.001, mu = 1 / mean;
  {
    const Calibration cal = OneClass(ExponentialBuckets(mean), 1);
    const double lambda = 0.8 * mu;
    const double theory = sim::MMcMeanWait(1, lambda, mu) + mean;  // 5 ms
    const auto ci = Replicate(**w, cal, lambda, 20, 40000);
    INFO("W = " << ci.mean << " ± " << ci.half_width << ", theory " << theory);
    CHECK(std::abs(ci.mean - theory) <= ci.half_width + 0.02 * theory);  // buckets 1 % wide
    CHECK(ci.half_width < 0.1 * theory);
  }
  {
    const Calibration cal = OneClass(ExponentialBuckets(mean), 3);
    const double lambda = 2.4 * mu;
    const double theory = sim::MMcMeanWait(3, lambda, mu) + mean;
    const auto ci = Replicate(**w, cal, lambda, 20, 40000);
    INFO("W = " << ci.mean << " ± " << ci.half_width << ", theory " << theory);
    CHECK(std::abs(ci.mean - theory) <= ci.half_width + 0.02 * theory);
    CHECK(ci.half_width < 0.1 * theory);
  }
}

TEST_CASE("The broker model with constant service is M/D/1 exactly and M/D/2 inside the Allen–Cunneen band", "[models][model][slow]") {
  Scenario s = Load(kBare);
  auto w = World::Build(s);
  REQUIRE(w);
  const double mean = 0.001, mu = 1 / mean;
  {
    const Calibration cal = OneClass(EmpiricalDuration::Constant(mean), 1);
    const double lambda = 0.8 * mu;
    const double theory = sim::AllenCunneenWait(1, lambda, mean, 1, 0) + mean;  // P–K: exact for M/G/1
    const auto ci = Replicate(**w, cal, lambda, 20, 40000);
    INFO("W = " << ci.mean << " ± " << ci.half_width << ", theory " << theory);
    CHECK(ci.Contains(theory));
  }
  {
    const Calibration cal = OneClass(EmpiricalDuration::Constant(mean), 2);
    const double lambda = 1.6 * mu;
    const double approx = sim::AllenCunneenWait(2, lambda, mean, 1, 0);
    const auto ci = Replicate(**w, cal, lambda, 20, 40000);
    const double wq = ci.mean - mean;
    INFO("Wq = " << wq << " ± " << ci.half_width << ", Allen–Cunneen " << approx);
    CHECK(wq == Approx(approx).epsilon(0.15));  // the approximation's known accuracy for M/D/c
  }
}

TEST_CASE("The broker model never serves faster than its bottleneck, and waits for connections", "[models][model]") {
  Scenario s = Load(kBare);
  auto w = World::Build(s);
  REQUIRE(w);
  const double mean = 0.001;
  Calibration cal = OneClass(EmpiricalDuration::Constant(mean), 2);
  cal.overhead_s = 0.0005;
  sim::Engine engine;
  ModelBrokerPort port(engine, cal, **w, 1, sim::RngStreams(1));
  Driver d;
  port.Bind(d);
  // 10,000 requests at once: two servers of 1.5 ms each serve them in 7.5 s, not sooner.
  for (uint32_t i = 0; i < 10000; ++i) {
    port.Submit(i, 0, "POST /ngsi-ld/v1/entityOperations/upsert HTTP/1.1\r\n\r\n", Duration::Max());
  }
  engine.Run();
  CHECK(d.done == 10000);
  CHECK(engine.Now().seconds() == Approx(7.5).epsilon(1e-6));
  CHECK(port.Utilization() == Approx(1.0).epsilon(1e-6));

  // With 4 connections the client holds the rest back: a request's wait for a connection is reported.
  const char* four = R"({"name": "t", "duration": "10s", "broker": {"timeout": "1h", "connections": 4},
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]})";
  Scenario s4 = Load(four);
  auto w4 = World::Build(s4);
  REQUIRE(w4);
  sim::Engine e4;
  ModelBrokerPort p4(e4, cal, **w4, 1, sim::RngStreams(1));
  struct Waits final : PortClient {
    std::vector<double> waited;
    void OnPortDone(uint32_t, PortOutcome& o) override { waited.push_back(o.waited.seconds()); }
  } waits;
  p4.Bind(waits);
  for (uint32_t i = 0; i < 8; ++i) p4.Submit(i, 0, "POST /ngsi-ld/v1/entityOperations/upsert HTTP/1.1\r\n\r\n", Duration::Max());
  e4.Run();
  REQUIRE(waits.waited.size() == 8);
  CHECK(waits.waited.front() == 0);
  CHECK(waits.waited.back() > 0.0015);  // the 8th waited for a connection to come back
}

TEST_CASE("A model-mode run reports every request once, with notifications, in simulated time", "[models][model]") {
  Scenario s = Load(R"({"name": "t", "duration": "10m", "start": "2026-04-01T08:00:00+09:00",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000}],
    "sources": [{"kind": "weather", "count": 50, "arrival": {"process": "periodic", "period": "30s"}}],
    "users": [{"kind": "analyst", "count": 3, "arrival": {"process": "poisson", "rate": 0.1},
               "requests": [{"op": "get", "type": "WeatherObserved"},
                            {"op": "subscribe", "type": "WeatherObserved"}]}]})");
  auto w = World::Build(s);
  REQUIRE(w);
  Calibration cal = WritesAndSubscriptions();
  struct Count final : RunObserver {
    uint64_t requests = 0, ok = 0, notifications = 0;
    double max_freshness = 0;
    void OnRequest(const RequestRecord& r) override {
      ++requests;
      ok += r.ok();
    }
    void OnNotification(const NotificationRecord& n) override {
      ++notifications;
      max_freshness = std::max(max_freshness, n.freshness.seconds());
    }
  } count;
  ModelOptions mo;
  mo.calibration = &cal;
  ModelRunExtra extra;
  const EmulationResult r = RunModel(**w, Protocols::ForScenario(s, "model.invalid"), mo, count, &extra);
  CHECK(r.valid());
  CHECK(r.reached_end);
  CHECK(count.requests == r.emitted);
  CHECK(r.emitted == r.completed + r.failed);
  CHECK(count.ok > 1000);
  CHECK(extra.port.served[static_cast<size_t>(OpClass::kSubscription)] == 3);
  // Every write after the subscriptions notifies each of the 3 subscribers.
  CHECK(count.notifications >= 3 * (extra.port.served[static_cast<size_t>(OpClass::kBatchUpsert)] +
                                    extra.port.served[static_cast<size_t>(OpClass::kUpsert)]) - 3 * 60);
  CHECK(count.notifications > 0);
  CHECK(count.max_freshness < 1.0);
  // get is not calibrated: served as the commonest class and counted.
  CHECK(extra.port.uncalibrated > 0);
  // Federation scenarios are refused.
  ModelOptions none;
  CHECK(!RunModel(**w, Protocols::ForScenario(s, "model.invalid"), none, count).valid());
}

TEST_CASE("Model-mode notification freshness counts the broker's part in its own time, as emulation does", "[models][model]") {
  // No network delay: freshness is the broker's part alone. At speed 100 the model's service
  // takes 100 times as long in simulated time; the freshness reported must not (emulation
  // measures the broker's part in wall time).
  auto freshness_at = [](double speed) {
    Scenario s = Load(R"({"name": "t", "duration": "10m", "start": "2026-04-01T08:00:00+09:00",
      "broker": {"timeout": "1h", "connections": 64},
      "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000}],
      "network": {"nodes": [{"id": "gw"}, {"id": "dc"}], "links": [{"from": "gw", "to": "dc", "latency": "0s"}],
                  "broker_node": "dc", "access": {"regions": {"a": {"node": "gw", "latency": "0s"}}}},
      "sources": [{"kind": "weather", "count": 50, "arrival": {"process": "periodic", "period": "30s"}}],
      "users": [{"kind": "analyst", "count": 3, "arrival": {"process": "poisson", "rate": 0.01},
                 "requests": [{"op": "subscribe", "type": "WeatherObserved"}]}]})");
    s.speed = speed;
    auto w = World::Build(s);
    REQUIRE(w);
    Calibration cal = WritesAndSubscriptions();
    cal.fixed_delay_s = 0.0001;
    struct Fresh final : RunObserver {
      sim::RunningStats freshness;
      void OnRequest(const RequestRecord&) override {}
      void OnNotification(const NotificationRecord& n) override { freshness.Add(n.freshness.seconds()); }
    } fresh;
    ModelOptions mo;
    mo.calibration = &cal;
    REQUIRE(RunModel(**w, Protocols::ForScenario(s, "model.invalid"), mo, fresh).valid());
    REQUIRE(fresh.freshness.Count() > 100);
    return fresh.freshness.Mean();
  };
  const double slow = freshness_at(1), fast = freshness_at(100);
  INFO("mean freshness at speed 1: " << slow << " s, at speed 100: " << fast << " s");
  // Write service 0.1 ms + notification 0.05 ms + the fixed delay 0.1 ms, plus a little queueing.
  CHECK(slow >= 0.00025);
  CHECK(slow <= 0.0004);
  CHECK(fast == Approx(slow).epsilon(0.2));
}

TEST_CASE("The broker model gives up a request still waiting for a connection at its deadline, unsent", "[models][model]") {
  const char* one = R"({"name": "t", "duration": "10s", "broker": {"timeout": "1h", "connections": 1},
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]})";
  Scenario s = Load(one);
  auto w = World::Build(s);
  REQUIRE(w);
  Calibration cal = OneClass(EmpiricalDuration::Constant(1.0), 1);  // a second per request
  sim::Engine engine;
  ModelBrokerPort port(engine, cal, **w, 1, sim::RngStreams(1));
  struct Log final : PortClient {
    std::vector<std::pair<std::string, bool>> done;  // error, sent
    std::vector<double> at;
    sim::Engine* engine = nullptr;
    void OnPortDone(uint32_t, PortOutcome& o) override {
      done.emplace_back(o.error, o.sent);
      at.push_back(engine->Now().seconds());
    }
  } log;
  log.engine = &engine;
  port.Bind(log);
  const std::string wire = "POST /ngsi-ld/v1/entityOperations/upsert HTTP/1.1\r\n\r\n";
  port.Submit(0, 0, std::string(wire), Duration::Seconds(10));
  port.Submit(1, 0, std::string(wire), Duration::Milliseconds(500));  // waits; its deadline passes
  port.Submit(2, 0, std::string(wire), Duration::Seconds(10));
  engine.Run();
  REQUIRE(log.done.size() == 3);
  CHECK(log.done[0] == std::make_pair(std::string(), true));
  CHECK(log.done[1] == std::make_pair(std::string("timeout"), false));
  CHECK(log.done[2] == std::make_pair(std::string(), true));
  CHECK(log.at[2] == Approx(2.0));  // the given-up request took no broker time
}

TEST_CASE("Calibration files: bad values are refused, and distributions keep their kind", "[models][model]") {
  Calibration c = OneClass(EmpiricalDuration::Constant(0.002), 1);
  ClassCalibration q;
  q.service = EmpiricalDuration::FromQuantiles({0.001, 0.002, 0.004}, 0.0005);
  q.statuses = {{200, 1.0}};
  c.classes[static_cast<size_t>(OpClass::kQuery)] = q;
  auto back = Calibration::FromJson(c.ToJson());
  REQUIRE(back);
  CHECK(back->of(OpClass::kBatchUpsert)->service.constant());
  CHECK(back->of(OpClass::kBatchUpsert)->service.Mean() == Approx(0.002));
  CHECK(back->of(OpClass::kQuery)->service.Quantile(0) == Approx(0.0005));
  CHECK(back->of(OpClass::kQuery)->service.Mean() == Approx(c.of(OpClass::kQuery)->service.Mean()));
  // A piece with no samples still ends where the next begins.
  const EmpiricalDuration gap({{0.001, 5}, {0.002, 0}, {0.004, 5}}, true);
  CHECK(gap.Quantile(0.75) == Approx(0.003));

  for (auto [pointer, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"/format", 1},
           {"/broker/threads", 1e10},
           {"/broker/threads", 0},
           {"/classes/batch-upsert/share", -2},
           {"/classes/batch-upsert/answer_bytes", -1},
           {"/classes/batch-upsert/statuses/204", 7},
           {"/classes/batch-upsert/service/kind", "mystery"}}) {
    nlohmann::json j = c.ToJson();
    j[nlohmann::json::json_pointer(pointer)] = value;
    INFO(pointer << " = " << value.dump());
    CHECK(!Calibration::FromJson(j));
  }
}
