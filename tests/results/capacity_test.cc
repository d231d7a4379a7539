// The capacity search's statistics (results/capacity.h): the search finds a known threshold to its
// precision and survives a confirmation that disagrees; verdicts follow the 95 % intervals;
// probes are judged stable or not from their time series; the binding resource is named; and,
// end to end on the broker model, λ* lands where M/M/1 theory puts it.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <sstream>

#include "citybed/results/capacity.h"
#include "citybed/results/charts.h"
#include "model_oracle.h"

using namespace citybed;
using namespace citybed::results;
using nlohmann::json;

namespace {

// Runs a search against an oracle; returns the number of probes.
int RunSearch(CapacitySearch& s, const std::function<bool(double)>& pass, int cap = 200) {
  int n = 0;
  while (auto m = s.Next()) {
    REQUIRE(++n <= cap);
    s.Record(*m, pass(*m));
  }
  return n;
}

ProbeRun Rep(std::vector<std::pair<std::string, double>> objectives, double bound = 100, bool stable = true, bool valid = true) {
  ProbeRun p;
  p.valid = valid;
  p.stable = stable;
  if (!stable) p.unstable_reason = "grows";
  for (auto& [name, v] : objectives) {
    ObjectiveSample o;
    o.name = name;
    o.measured = v;
    o.bound = bound;
    p.objectives.push_back(o);
  }
  return p;
}

json Summary(double p99, double bound, uint64_t samples = 1000) {
  json s;
  s["valid"] = true;
  s["complete"] = true;
  s["measured"] = true;
  s["window"] = {{"wall_s", 10.0}, {"speed", 2.0}, {"to_s", 24.0}};
  s["requests"]["scheduled"] = 5000;
  s["requests"]["error_rate"] = 0.001;
  s["requests"]["throughput"]["ok_per_wall_s"] = 499.5;
  s["requests"]["network_share"] = 0.2;
  s["connections"] = {{"wait_p99_ms", 1.5}, {"connections", 32}};
  s["operations"]["upsert"]["latency_ms"] = {{"count", 4000}, {"p50", 2.0}, {"p99", p99}, {"p999", 30.0}, {"max", 40.0}};
  json latency;
  latency["objective"] = "upsert p99 <= 100ms";
  latency["bound_ms"] = bound;
  latency["measured_ms"] = p99;
  latency["samples"] = samples;
  latency["samples_needed"] = 100;
  latency["verdict"] = samples >= 100 ? "pass" : "not enough data";
  json errors;
  errors["objective"] = "error rate <= 1 %";
  errors["bound"] = 0.01;
  errors["measured"] = 0.001;
  errors["samples"] = 5000;
  errors["verdict"] = "pass";
  s["slo"] = json::array({latency, errors});
  return s;
}

// A time series with `n` measured intervals of 1 simulated second after 2 warm-up ones.
std::string Csv(int n, const std::function<double(int)>& outstanding, double completed_share = 1.0) {
  std::ostringstream o;
  o << "t_s,t_end_s,seconds,wall_utc,warmup,drain,offered,offered_per_s,ok,failed,completed_per_s,outstanding,p50_ms,p90_ms,p99_ms\n";
  for (int i = 0; i < n + 3; ++i) {
    const bool warm = i < 2, drain = i == n + 2;
    const int offered = drain ? 0 : 100;
    const int ok = static_cast<int>(std::lround(completed_share * 100));
    o << i << "," << i + 1 << ",1,," << (warm ? 1 : 0) << "," << (drain ? 1 : 0) << "," << offered << "," << offered << "," << ok
      << ",0," << ok << "," << outstanding(i) << ",1,2," << 5 + (i % 3) << "\n";
  }
  return o.str();
}

}  // namespace

TEST_CASE("The capacity search brackets, bisects to its precision and confirms, from above or below", "[results][capacity]") {
  for (double truth : {0.37, 7.0, 100.0, 2500.0}) {
    for (double estimate : {truth / 20, truth * 0.97, truth * 13}) {
      CapacitySearch s(estimate, 1.25, 0.02);
      const int probes = RunSearch(s, [&](double m) { return m <= truth; });
      INFO("truth " << truth << ", estimate " << estimate);
      REQUIRE(s.found());
      CHECK(s.lambda() <= truth);
      CHECK(s.first_fail() > truth);
      CHECK(s.first_fail() / s.lambda() <= 1.02 + 1e-12);
      CHECK(s.confirmed());
      CHECK(s.phase() == "done");
      CHECK(probes <= 24);
    }
  }
}

TEST_CASE("A confirmation that disagrees re-opens the search, and loads that always fail or pass end it", "[results][capacity]") {
  SECTION("0.9 λ* fails on confirmation: the search goes on below and ends consistent") {
    int calls = 0;
    double threshold = 100;
    CapacitySearch s(90);
    RunSearch(s, [&](double m) {
      // The system got slower between probes (noise): after the bisection, the threshold drops.
      if (s.phase() == "confirm" && ++calls == 1) threshold = 80;
      return m <= threshold;
    });
    REQUIRE(s.found());
    CHECK(s.lambda() <= 80);
    CHECK(s.first_fail() > 80);
    CHECK(s.first_fail() / s.lambda() <= 1.02 + 1e-12);
    CHECK(s.note().find("0.9 λ* failed") != std::string::npos);
  }
  SECTION("1.1 λ* passes on confirmation: not confirmed, λ* stays below the failure") {
    double threshold = 100;
    CapacitySearch s(50);
    RunSearch(s, [&](double m) {
      if (s.phase() == "confirm" && m > 105) threshold = 150;
      return m <= threshold;
    });
    // The failures seen below 105 still count: λ* stays below the lowest of them.
    REQUIRE(s.found());
    CHECK(s.lambda() <= 100);
    CHECK(s.first_fail() > 100);
    CHECK_FALSE(s.confirmed());
    CHECK(s.note().find("1.1 λ* passed") != std::string::npos);
  }
  SECTION("every load fails") {
    CapacitySearch s(10, 1.25, 0.02, 1e-3);
    RunSearch(s, [](double) { return false; });
    CHECK_FALSE(s.found());
    CHECK(s.lambda() == 0);
    CHECK(s.note().find("fails even at the lowest load") != std::string::npos);
  }
  SECTION("every load passes") {
    CapacitySearch s(10, 1.25, 0.02, 1e-3, 1e4);
    RunSearch(s, [](double) { return true; });
    CHECK_FALSE(s.found());
    CHECK(s.first_fail() == 0);
    CHECK(s.note().find("passes up to the highest load") != std::string::npos);
  }
}

TEST_CASE("A load's verdict follows the 95 % intervals of its objectives and the replications' stability", "[results][capacity]") {
  const std::string o = "upsert p99 <= 100ms";
  SECTION("clearly below: pass; clearly above: fail") {
    CHECK(JudgeLoad({Rep({{o, 50}}), Rep({{o, 52}}), Rep({{o, 51}})}, 3, 8, 3).verdict == Verdict::kPass);
    const auto fail = JudgeLoad({Rep({{o, 150}}), Rep({{o, 152}}), Rep({{o, 149}})}, 3, 8, 3);
    CHECK(fail.verdict == Verdict::kFail);
    CHECK(fail.binding == o);
  }
  SECTION("straddling the bound: more replications, then at the knee") {
    const std::vector<ProbeRun> runs = {Rep({{o, 90}}), Rep({{o, 110}}), Rep({{o, 100}})};
    CHECK(JudgeLoad(runs, 3, 8, 3).verdict == Verdict::kMore);
    CHECK(JudgeLoad(runs, 3, 3, 3).verdict == Verdict::kKnee);
  }
  SECTION("a mean below the bound whose interval reaches it does not pass") {
    // mean 95, s = 5, n = 3: half-width 4.30 × 5 / √3 = 12.4.
    CHECK(JudgeLoad({Rep({{o, 90}}), Rep({{o, 95}}), Rep({{o, 100}})}, 3, 3, 3).verdict == Verdict::kKnee);
  }
  SECTION("unstable replications: half or more fail the load, fewer ask for more") {
    CHECK(JudgeLoad({Rep({{o, 50}}, 100, false), Rep({{o, 50}}, 100, false), Rep({{o, 50}})}, 3, 8, 3).verdict == Verdict::kFail);
    CHECK(JudgeLoad({Rep({{o, 50}}, 100, false), Rep({{o, 50}}), Rep({{o, 51}}), Rep({{o, 52}})}, 3, 8, 4).verdict == Verdict::kMore);
  }
  SECTION("invalid replications do not count: more, then invalid") {
    const std::vector<ProbeRun> runs = {Rep({{o, 50}}, 100, true, false), Rep({{o, 50}}), Rep({{o, 51}})};
    CHECK(JudgeLoad(runs, 3, 8, 3).verdict == Verdict::kMore);
    const auto j = JudgeLoad(runs, 3, 3, 3);
    CHECK(j.verdict == Verdict::kInvalid);
    CHECK(j.valid == 2);
  }
  SECTION("identical values (common random numbers in a deterministic model) decide at once") {
    CHECK(JudgeLoad({Rep({{o, 100.5}}), Rep({{o, 100.5}})}, 2, 8, 2).verdict == Verdict::kFail);
  }
}

TEST_CASE("A probe is read from its summary and time series, and growing backlogs and lost completions are unstable", "[results][capacity]") {
  SECTION("steady") {
    const ProbeRun p = ReadProbeRun(Summary(42, 100), Csv(30, [](int i) { return 5 + i % 2; }));
    CHECK(p.valid);
    CHECK(p.stable);
    CHECK(p.intervals == 30);
    CHECK(p.flow_balance == Approx(1.0));
    CHECK(p.offered_rps == Approx(500));
    CHECK(p.connections == 32);
    REQUIRE(p.objectives.size() == 2);
    CHECK(p.objectives[0].measured == 42);
    CHECK(p.objectives[0].bound == 100);
    CHECK(p.objectives[0].judged);
    CHECK(p.objectives[1].bound == 0.01);
    CHECK(p.latency["upsert"]["p99"] == 42);
    REQUIRE(p.series.size() == 30);
    CHECK(p.series[1][0] == Approx(0.5));  // broker seconds: simulated / speed 2
    CHECK(p.series[0][1] == Approx(200));  // 100 answers in half a broker second
  }
  SECTION("outstanding requests grow") {
    const ProbeRun p = ReadProbeRun(Summary(42, 100), Csv(30, [](int i) { return 10 * i; }));
    CHECK_FALSE(p.stable);
    CHECK(p.outstanding_t > 3);
    CHECK(p.unstable_reason.find("outstanding requests grow") != std::string::npos);
  }
  SECTION("fewer completions than offers") {
    const ProbeRun p = ReadProbeRun(Summary(42, 100), Csv(30, [](int) { return 5; }, 0.97));
    CHECK_FALSE(p.stable);
    CHECK(p.flow_balance == Approx(0.97));
  }
  SECTION("too few samples for the percentile: not judged") {
    const ProbeRun p = ReadProbeRun(Summary(42, 100, 50), "");
    CHECK_FALSE(p.objectives[0].judged);
    CHECK(p.stable);  // no series: judged on the summary alone
  }
  SECTION("an invalid run says why") {
    json s = Summary(42, 100);
    s["valid"] = false;
    s["invalid_reasons"] = {"the generator fell behind"};
    const ProbeRun p = ReadProbeRun(s, "");
    CHECK_FALSE(p.valid);
    CHECK(p.invalid.at(0) == "the generator fell behind");
  }
}

TEST_CASE("The binding resource is named from the probes at the first failing load", "[results][capacity]") {
  auto probe = [](double util, double wait, double p99, double net) {
    ProbeRun p = Rep({{"upsert p99 <= 100ms", p99}});
    p.broker_utilisation = util;
    p.connection_wait_p99_ms = wait;
    p.connections = 32;
    p.network_share = net;
    return p;
  };
  CHECK(BindingResource({probe(0.75, 80, 120, 0.1)}, "upsert p99 <= 100ms")["resource"] == "client connections");
  CHECK(BindingResource({probe(0.95, 5, 120, 0.1)}, "upsert p99 <= 100ms")["resource"] == "broker CPU");
  CHECK(BindingResource({probe(0.5, 5, 120, 0.8)}, "upsert p99 <= 100ms")["resource"] == "network");
  CHECK(BindingResource({probe(0.5, 5, 120, 0.1)}, "notification p99 <= 1s")["resource"] == "notifier");
  const json j = BindingResource({probe(0.5, 5, 120, 0.1), probe(0.7, 5, 130, 0.1)}, "upsert p99 <= 100ms");
  CHECK(j["resource"] == "broker latency below saturation");
  CHECK(j["broker_utilisation"].get<double>() == Approx(0.6));
  CHECK(j["binding_measured"].get<double>() == Approx(125));
}

TEST_CASE("On the broker model, the search finds the M/M/1 capacity for a mean-latency objective", "[results][capacity][slow]") {
  // One server of exponential service, mean 1 ms; objective: mean time at the broker ≤ 5 ms.
  // M/M/1: W = 1 / (μ − λ), so λ* = μ − 1 / 5 ms = 800 requests per second.
  auto s = models::ParseScenario(testing::kBare, "t.json");
  REQUIRE(s);
  auto world = models::World::Build(*s);
  REQUIRE(world);
  const models::Calibration cal = testing::OneClass(testing::ExponentialBuckets(0.001), 1);
  const double truth = 800;
  CapacitySearch search(600, 1.25, 0.02);
  int loads = 0;
  while (auto m = search.Next()) {
    REQUIRE(++loads < 40);
    std::vector<ProbeRun> runs;
    LoadJudgement j;
    for (size_t r = 0;; ++r) {
      j = JudgeLoad(runs, 3, 10, r);
      if (j.verdict != Verdict::kMore) break;
      const double w = testing::MeanSojourn(**world, cal, *m, 2000, 20000, static_cast<uint64_t>(r) + 1000 * loads);
      runs.push_back(Rep({{"mean time at the broker <= 5ms", 1000 * w}}, 5));
    }
    search.Record(*m, j.verdict == Verdict::kPass);
  }
  INFO("λ* " << search.lambda() << ", first failure " << search.first_fail());
  REQUIRE(search.found());
  CHECK(search.lambda() >= 0.93 * truth);
  CHECK(search.lambda() <= 1.02 * truth);
}

TEST_CASE("The load chart draws every point with its interval, the bound and λ*", "[results][capacity]") {
  const std::string svg = XyChart("upsert p99", "offered", "ms",
                                  {{"model", "#123456", {{100, 5, 1}, {200, 8, 0}, {300, 30, 4}}, true, true, true}}, true,
                                  {{"bound 20", 20}}, {{"λ*", 250}});
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++circles;
  CHECK(circles == 3);
  CHECK(svg.find("bound 20") != std::string::npos);
  CHECK(svg.find("λ*") != std::string::npos);
  CHECK(svg.find("stroke-dasharray=\"4 3\"") != std::string::npos);
}

TEST_CASE("The capacity report renders from a minimal capacity.json without the optional parts", "[results][capacity]") {
  const json c = {{"scenario", {{"name", "t"}}},
                  {"calibration", {{"standing", "validated"}, {"file", "c.json"}, {"sha256", "abcdef0123456789"}}},
                  {"demand", {{"reference_rps", 10.0}, {"day_peak_rps", 12.0}, {"day_peak_local_time", "08:00"}, {"disaster", nullptr}}},
                  {"searches", json::array()},
                  {"verdict", {{"exit_code", 3}, {"text", "no valid measurement"}}}};
  const std::string html = BuildCapacityHtml(c);
  CHECK(html.find("no valid measurement") != std::string::npos);
  CHECK(html.find("9. Manifest") != std::string::npos);
  CHECK(html.rfind("</html>") != std::string::npos);
}
