// The results a run writes hold up under an audit: percentiles cover every request, the CSV
// sums to the summary, times are exact decimals, and every figure says what it is.
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

#include "citybed/models/world.h"
#include "citybed/results/recorder.h"
#include "citybed/results/replications.h"
#include "citybed/results/run_output.h"
#include "fake_port.h"

using namespace citybed;
using namespace citybed::models;
using citybed::sim::Duration;
using nlohmann::json;

namespace {

Scenario Load(const std::string& text) {
  auto s = ParseScenario(text, "t.json");
  INFO((s ? std::string() : FormatErrors("t.json", s.error())));
  REQUIRE(s);
  return std::move(*s);
}

results::RecorderOptions RecorderFor(const Scenario& s) {
  results::RecorderOptions o;
  o.warmup = s.warmup;
  o.duration = s.duration;
  o.interval = s.outputs.interval;
  for (const auto& r : s.regions) o.regions.push_back(r.id);
  o.domains = DomainNames();
  return o;
}

// A whole run in simulated time against a fake broker, and the files it would write.
struct Outputs {
  json summary, metadata;
  std::string csv;
  std::unique_ptr<results::Recorder> recorder;
};

Outputs Simulate(const Scenario& s, const std::function<void(testing::FakePort&)>& configure = {}) {
  auto w = World::Build(s);
  REQUIRE(w);
  Outputs out;
  out.recorder = std::make_unique<results::Recorder>(RecorderFor(s));
  testing::SimulatedRun run(**w, *out.recorder);
  if (configure) configure(run.port);
  run.Run();
  EmulationResult result;
  result.reached_end = true;
  result.end = sim::Time() + s.duration;
  result.drain_end = run.engine.Now();
  results::RunInfo info;
  info.scenario = &s;
  info.result = &result;
  info.started_unix_us = 1'780'000'000'000'000;
  const auto gen = results::JudgeGenerator(s, result, *out.recorder);
  const auto slo = results::EvaluateSlo(s.slo, *out.recorder);
  out.summary = results::BuildSummary(*out.recorder, info, slo, gen);
  out.csv = results::BuildTimeseriesCsv(*out.recorder, info);
  out.metadata = results::BuildTimeseriesMetadata(*out.recorder);
  return out;
}

std::vector<std::map<std::string, std::string>> ParseCsv(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> head;
  std::stringstream hs(line);
  for (std::string cell; std::getline(hs, cell, ',');) head.push_back(cell);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::map<std::string, std::string> row;
    size_t k = 0;
    for (std::string cell; std::getline(ls, cell, ',') && k < head.size(); ++k) row[head[k]] = cell;
    rows.push_back(row);
  }
  return rows;
}

std::string Scenario3Min(const std::string& warmup) {
  return R"({"name": "t", "duration": "3m", "warmup": ")" + warmup + R"(", "start": "2026-04-01T09:00:00+09:00",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 100000},
                {"id": "b", "lat": 34.7, "lon": 135.5, "population": 50000}],
    "sources": [{"kind": "weather", "count": 30, "arrival": {"process": "periodic", "period": "7s", "jitter": "2s"}},
                {"kind": "parking-spot", "count": 20, "arrival": {"process": "poisson", "rate": 0.3}}],
    "users": [{"kind": "app", "count": 4, "arrival": {"process": "poisson", "rate": 0.5},
               "requests": [{"op": "get", "type": "WeatherObserved"}, {"op": "geo-query", "type": "ParkingSpot"},
                            {"op": "subscribe", "type": "WeatherObserved"}]}],
    "outputs": {"interval": "1s"}})";
}

}  // namespace

TEST_CASE("The CSV's offered counts sum to the summary's for warm-ups of 0, 30 s, 1 min and 2 min", "[results]") {
  for (const std::string warmup : {"0s", "30s", "1m", "2m"}) {
    INFO("warm-up " << warmup);
    const Scenario s = Load(Scenario3Min(warmup));
    const Outputs out = Simulate(s);
    const auto rows = ParseCsv(out.csv);
    uint64_t offered = 0, warm_rows = 0, drain_rows = 0;
    std::map<std::string, uint64_t> by_op;
    uint64_t completed_all = 0;
    for (const auto& row : rows) {
      completed_all += std::stoull(row.at("ok")) + std::stoull(row.at("failed"));
      const bool warm = row.at("warmup") == "1", drain = row.at("drain") == "1";
      // Exact boundaries: a row is in the warm-up exactly when it starts before its end.
      CHECK(warm == (std::stod(row.at("t_s")) < s.warmup.seconds()));
      warm_rows += warm;
      drain_rows += drain;
      if (warm || drain) continue;
      offered += std::stoull(row.at("offered"));
      for (const char* op : {"upsert", "get", "geo-query", "subscribe"}) by_op[op] += std::stoull(row.at(op));
    }
    CHECK(warm_rows == static_cast<uint64_t>(s.warmup.seconds()));
    CHECK(drain_rows > 0);  // answers of the last requests arrive after the end
    REQUIRE(out.summary["requests"]["scheduled"].get<uint64_t>() > 100);
    CHECK(offered == out.summary["requests"]["scheduled"].get<uint64_t>());
    for (const auto& [op, n] : by_op) {
      const uint64_t want = out.summary["operations"].contains(op) ? out.summary["operations"][op]["scheduled"].get<uint64_t>() : 0;
      CHECK(n == want);
    }
    CHECK(completed_all == out.recorder->all_scheduled());  // every request completes in some row
  }
}

TEST_CASE("Times in the summary and the CSV are exact decimals", "[results]") {
  const Scenario s = Load(Scenario3Min("1m"));
  const Outputs out = Simulate(s);
  const std::string dump = out.summary["window"].dump();
  CHECK_THAT(dump, Catch::Contains(R"("from_s":60.0)"));
  CHECK_THAT(dump, Catch::Contains(R"("to_s":180.0)"));
  CHECK_THAT(dump, Catch::Contains(R"("simulated_s":120.0)"));
  CHECK(out.csv.find("\n60,61,1,") != std::string::npos);
  CHECK(out.csv.find("0000000") == std::string::npos);  // no binary-fraction tails anywhere
}

TEST_CASE("Percentiles judge every request: failures at their latency, success-only apart", "[results]") {
  const Scenario s = Load(Scenario3Min("0s"));
  int n = 0;
  const Outputs out = Simulate(s, [&n](testing::FakePort& port) {
    // Every fourth request fails after 2 s; the rest answer in 5 ms.
    port.delay = [&n](const std::string&) { return ++n % 4 == 0 ? Duration::Seconds(2) : Duration::Milliseconds(5); };
    port.status = [&n](const std::string& wire) { return n % 4 == 0 ? 503 : (wire.rfind("GET", 0) == 0 ? 200 : 201); };
  });
  const json& r = out.summary["requests"];
  const uint64_t scheduled = r["scheduled"], ok = r["ok"], failed = r["failed"];
  CHECK(scheduled == ok + failed);
  CHECK(failed > scheduled / 5);
  CHECK(r["failures"]["status"]["503"].get<uint64_t>() == failed);
  CHECK(r["latency_ms"]["count"].get<uint64_t>() == scheduled);
  CHECK(r["latency_ok_ms"]["count"].get<uint64_t>() == ok);
  CHECK(r["latency_ms"]["p99"].get<double>() > 1900);   // the failures are in the tail
  CHECK(r["latency_ok_ms"]["p99"].get<double>() < 100);  // the lucky ones alone look fine
  CHECK(r["error_rate"].get<double>() == Approx(static_cast<double>(failed) / static_cast<double>(scheduled)));
  // The errors table says when each cause was seen.
  REQUIRE(out.summary["errors"].size() == 1);
  CHECK(out.summary["errors"][0]["cause"] == "HTTP 503 InternalError");
  CHECK(out.summary["errors"][0]["count"].get<uint64_t>() == failed);
}

TEST_CASE("Timeouts and cancellations count in the percentiles with their cause", "[results]") {
  const Scenario s = Load(Scenario3Min("0s"));
  const Outputs out = Simulate(s, [](testing::FakePort& port) {
    port.delay = [](const std::string& wire) {
      return wire.find("geoquery") != std::string::npos || wire.find("georel") != std::string::npos ? Duration::Seconds(30)
                                                                                                    : Duration::Milliseconds(3);
    };
  });
  const json& geo = out.summary["operations"]["geo-query"];
  CHECK(geo["ok"].get<uint64_t>() == 0);
  CHECK(geo["failures"]["timeout"].get<uint64_t>() == geo["scheduled"].get<uint64_t>());
  CHECK(geo["latency_ms"]["p50"].get<double>() == Approx(10000).epsilon(0.004));  // the 10 s timeout
  CHECK(geo["latency_ok_ms"]["count"].get<uint64_t>() == 0);
}

TEST_CASE("Rates say per simulated and per wall second, and the histograms' resolution is stated", "[results]") {
  Scenario s = Load(Scenario3Min("0s"));
  s.speed = 10;
  const Outputs out = Simulate(s);
  const json& t = out.summary["requests"]["throughput"];
  CHECK(t["ok_per_wall_s"].get<double>() == Approx(10 * t["ok_per_simulated_s"].get<double>()).epsilon(1e-3));
  CHECK(out.summary["window"]["wall_s"].get<double>() == Approx(18));
  CHECK(out.summary["histograms"]["relative_error"].get<double>() == Approx(1.0 / 256));
  CHECK(out.metadata["histogram_relative_error"].get<double>() == Approx(1.0 / 32));
  CHECK(out.summary["schema"] == results::kSummarySchema);
  // Every CSV column is described in the sidecar.
  const auto rows = ParseCsv(out.csv);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows[0].size() == out.metadata["tableSchema"]["columns"].size());
}

TEST_CASE("An SLO judged on too few samples is not enough data, never a pass", "[results]") {
  Scenario s = Load(R"({"name": "t", "duration": "20s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "weather", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}],
    "slo": {"latency": {"upsert": {"p99": "1s", "p50": "1s"}}}})");
  const Outputs out = Simulate(s);
  REQUIRE(out.summary["slo"].size() == 2);
  for (const json& o : out.summary["slo"]) {
    if (o["percentile"].get<double>() == 99) {
      CHECK(o["verdict"] == "not enough data");  // 40 samples, p99 needs 100
      CHECK(o["pass"].is_null());
      CHECK(o["samples_needed"].get<uint64_t>() == 100);
    } else {
      CHECK(o["verdict"] == "pass");
    }
  }
  CHECK(out.summary["slo_verdict"] == "not enough data");
  CHECK_FALSE(out.summary["slo_pass"].get<bool>());
}

TEST_CASE("The generator's lag bound is relative to the tightest SLO", "[results]") {
  Scenario s = Load(R"({"name": "t", "duration": "10s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "weather", "count": 2, "arrival": {"process": "periodic", "period": "1s"}}],
    "slo": {"latency": {"upsert": {"p99": "200ms"}, "all": {"p50": "2s"}}}})");
  EmulationResult r;
  results::Recorder rec(RecorderFor(s));
  r.executor.lag.Record(9'000'000);  // 9 ms of lag at every percentile
  auto g = results::JudgeGenerator(s, r, rec);
  CHECK(g.bound == Duration::Milliseconds(10));  // 5 % of 200 ms
  CHECK(g.valid);
  CHECK(*g.share_of_tightest_slo == Approx(0.045));
  r.executor.lag.Record(11'000'000, 10);
  g = results::JudgeGenerator(s, r, rec);
  CHECK_FALSE(g.valid);
  CHECK_THAT(g.reason, Catch::Contains("fell behind"));
  // Tight SLOs: never below 1 ms.
  s.slo.latency[0].bound = Duration::Milliseconds(5);
  CHECK(results::JudgeGenerator(s, r, rec).bound == Duration::Milliseconds(1));
}

TEST_CASE("Compacted interval histograms answer as before and take little memory", "[results]") {
  sim::LatencyHistogram dense(4), compact(4);
  sim::Rng rng(3);
  for (int i = 0; i < 5000; ++i) {
    const int64_t v = static_cast<int64_t>(1e6 * std::exp(3 * rng.Uniform01()));
    dense.Record(v);
    compact.Record(v);
  }
  compact.Compact();
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) CHECK(compact.ValueAtPercentile(p) == dense.ValueAtPercentile(p));
  CHECK(compact.MemoryBytes() < dense.MemoryBytes() / 3);
  compact.Record(123'456'789);  // still takes late samples
  dense.Record(123'456'789);
  CHECK(compact.ValueAtPercentile(99.99) == dense.ValueAtPercentile(99.99));
  CHECK(compact.Count() == dense.Count());
}

TEST_CASE("Missing notifications count as failures in the freshness percentiles", "[results]") {
  const Scenario s = Load(Scenario3Min("0s"));
  results::Recorder rec(RecorderFor(s));
  for (int i = 0; i < 90; ++i) rec.OnNotification({0, sim::Time() + Duration::Seconds(10), Duration::Milliseconds(20)});
  CHECK(rec.freshness().ValueAtPercentile(99) < 25'000'000);
  rec.AddMissingNotifications(10, Duration::Seconds(190));
  CHECK(rec.missing_notifications() == 10);
  CHECK(rec.freshness().Count() == 100);
  CHECK(rec.freshness().ValueAtPercentile(95) >= 189'000'000'000);  // the missing tenth is the tail
  CHECK(rec.freshness().ValueAtPercentile(50) < 25'000'000);
}

TEST_CASE("Replications: seeds are named streams, and every figure gets its mean and 95 % interval", "[results][replications]") {
  CHECK(results::ReplicationSeed(42, 0) == 42);  // the first replication is the scenario's own run
  CHECK(results::ReplicationSeed(42, 1) == results::ReplicationSeed(42, 1));
  CHECK(results::ReplicationSeed(42, 1) != results::ReplicationSeed(42, 2));
  CHECK(results::ReplicationSeed(42, 1) != results::ReplicationSeed(43, 1));
  CHECK(results::ReplicationSeed(42, 7) < (uint64_t{1} << 63));  // a valid --seed

  const json a = {{"requests", {{"ok", 10}, {"latency_ms", {{"p99", 2.0}}}}}, {"valid", true}, {"only_a", 1},
                  {"a/b", 5}, {"list", {1, 2}}};
  const json b = {{"requests", {{"ok", 14}, {"latency_ms", {{"p99", 4.0}}}}}, {"valid", true}, {"only_b", 1},
                  {"a/b", 7}, {"list", {3, 4}}};
  const json agg = results::AggregateSummaries({a, b});
  const json& f = agg["figures"];
  CHECK(agg["replications"] == 2);
  CHECK(f["/requests/ok"]["mean"] == 12.0);
  // t(0.975, 1) = 12.706; s = 2.828; half-width = 12.706 · 2.828 / √2 = 25.41
  CHECK(f["/requests/ok"]["ci95"].get<double>() == Approx(25.41).epsilon(1e-3));
  CHECK(f["/requests/latency_ms/p99"]["mean"] == 3.0);
  CHECK(f["/a~1b"]["mean"] == 6.0);       // a key with a slash, escaped as a JSON pointer
  CHECK(f["/list/1"]["mean"] == 3.0);
  CHECK(!f.contains("/valid"));            // booleans are not figures
  CHECK(!f.contains("/only_a"));           // not in every summary: omitted, and counted
  CHECK(agg["omitted"] == 2);
  const json one = results::AggregateSummaries({a});
  CHECK(one["figures"]["/requests/ok"]["ci95"].is_null());
}
