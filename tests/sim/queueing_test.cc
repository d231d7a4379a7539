// Queueing models built on the Engine, checked against theory: M/M/1 and M/M/c (Erlang C).
// Each replication starts empty, discards a warm-up, then averages the waiting time in queue;
// replications are independent streams of one seed. CITYBED_THOROUGH=1 runs 4x longer.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

#include "citybed/sim/engine.h"
#include "citybed/sim/queueing_theory.h"
#include "citybed/sim/random.h"
#include "citybed/sim/station.h"
#include "citybed/sim/stats.h"

using namespace citybed::sim;

namespace {

int Scale() { return std::getenv("CITYBED_THOROUGH") != nullptr ? 4 : 1; }

// Mean waiting time in queue (seconds) of customers warmup+1 .. warmup+customers in an
// M/M/c queue with arrival rate lambda and service rate mu per server.
double MeanWaitMMc(double lambda, double mu, int servers, int warmup, int customers, RngStreams streams) {
  Engine engine;
  FifoStation station(engine, servers);
  Rng arrival_rng = streams.Stream("arrivals");
  Rng service_rng = streams.Stream("service");
  const Exponential interarrival{1 / lambda}, service{1 / mu};
  int arrived = 0, departed = 0;
  RunningStats wait;
  std::function<void()> arrive = [&] {
    station.Submit(Duration::Seconds(service(service_rng)), [&](const FifoStation::Outcome& o) {
      if (++departed > warmup) wait.Add(o.waited.seconds());
    });
    if (++arrived < warmup + customers) engine.ScheduleIn(Duration::Seconds(interarrival(arrival_rng)), arrive);
  };
  engine.ScheduleIn(Duration::Seconds(interarrival(arrival_rng)), arrive);
  engine.Run();
  CHECK(station.Utilization() == Approx(lambda / mu / servers).epsilon(0.05));
  return wait.Mean();
}

ConfidenceInterval Replicate(double lambda, double mu, int servers, int reps, int customers) {
  std::vector<double> means;
  for (int r = 0; r < reps; ++r) {
    means.push_back(MeanWaitMMc(lambda, mu, servers, customers / 10, customers, RngStreams(2026, r)));
  }
  return MeanConfidenceInterval(means, 0.95);
}

}  // namespace

TEST_CASE("M/M/1 on the engine matches 1/(mu-lambda) - 1/mu", "[sim][slow]") {
  const double lambda = 0.8, mu = 1.0;
  const double theory = 1 / (mu - lambda) - 1 / mu;  // 4.0
  const ConfidenceInterval ci = Replicate(lambda, mu, 1, 30, 40000 * Scale());
  INFO("Wq = " << ci.mean << " ± " << ci.half_width << ", theory " << theory);
  CHECK(ci.Contains(theory));
  CHECK(ci.half_width < 0.1 * theory);  // the interval is informative, not vacuous
}

TEST_CASE("M/M/c on the engine matches Erlang C", "[sim][slow]") {
  const double lambda = 2.4, mu = 1.0;
  const int c = 3;
  const double theory = MMcMeanWait(c, lambda, mu);
  const ConfidenceInterval ci = Replicate(lambda, mu, c, 30, 40000 * Scale());
  INFO("Wq = " << ci.mean << " ± " << ci.half_width << ", theory " << theory);
  CHECK(ci.Contains(theory));
  CHECK(ci.half_width < 0.1 * theory);
}

TEST_CASE("Erlang C reduces to M/M/1 for one server and matches a published value", "[sim]") {
  CHECK(ErlangC(1, 0.8) == Approx(0.8));
  CHECK(MMcMeanWait(1, 0.8, 1.0) == Approx(4.0));
  CHECK(ErlangC(2, 1.0) == Approx(1.0 / 3));  // two servers, one Erlang
  CHECK(std::isinf(MMcMeanWait(2, 2.0, 1.0)));
}

TEST_CASE("FifoStation rejects jobs beyond its queue capacity", "[sim]") {
  Engine engine;
  FifoStation station(engine, 1, 2);
  int rejected = 0, served = 0;
  for (int i = 0; i < 5; ++i) {
    station.Submit(Duration::Seconds(1), [&](const FifoStation::Outcome& o) { o.rejected ? ++rejected : ++served; });
  }
  engine.Run();
  CHECK(served == 3);  // one in service, two waiting
  CHECK(rejected == 2);
  CHECK(engine.Now() == Time::FromSeconds(3));
}

TEST_CASE("Erlang C is exact for small and stable for a thousand servers", "[sim]") {
  // Reference values from exact rational arithmetic (sum of a^k/k! as fractions).
  CHECK(ErlangC(1, 0.5) == Approx(0.5).epsilon(1e-12));
  CHECK(ErlangC(2, 1.0) == Approx(1.0 / 3).epsilon(1e-12));
  CHECK(ErlangC(10, 8.0) == Approx(0.409180150796444).epsilon(1e-12));
  CHECK(ErlangC(100, 95.0) == Approx(0.506456853913021).epsilon(1e-10));
  CHECK(ErlangC(1000, 950.0) == Approx(0.0682534153771414).epsilon(1e-10));  // a^c/c! overflows a double
  CHECK(ErlangC(1000, 999.9) == Approx(0.996075123873248).epsilon(1e-10));
  CHECK(ErlangC(100000, 99000.0) > 0);
  CHECK(std::isfinite(MMcMeanWait(1000, 950.0, 1.0)));
  CHECK(ErlangC(4, 4.0) == 1.0);  // unstable
}

TEST_CASE("Allen–Cunneen reduces to M/M/c for exponential arrivals and service, and halves for deterministic service", "[sim]") {
  CHECK(AllenCunneenWait(3, 2.4, 1.0, 1, 1) == Approx(MMcMeanWait(3, 2.4, 1.0)));
  CHECK(AllenCunneenWait(1, 0.8, 1.0, 1, 0) == Approx(2.0));  // M/D/1: Pollaczek–Khinchine gives 2.0 exactly
}

TEST_CASE("The USL fit recovers known parameters from exact points and brackets them from noisy ones", "[sim][usl]") {
  UslFit truth;
  truth.gamma = 1000;
  truth.alpha = 0.05;
  truth.beta = 0.002;
  std::vector<double> n = {1, 2, 4, 8, 16, 32, 64}, x;
  for (double k : n) x.push_back(truth.At(k));
  const UslFit exact = FitUsl(n, x);
  CHECK(exact.converged);
  CHECK(exact.gamma == Approx(1000).epsilon(1e-4));
  CHECK(exact.alpha == Approx(0.05).epsilon(1e-3));
  CHECK(exact.beta == Approx(0.002).epsilon(1e-3));
  CHECK(exact.r2 == Approx(1.0));
  // The peak: at sqrt((1 - alpha) / beta) ≈ 21.8, an integer concurrency.
  CHECK(exact.Peak() == Approx(std::max(truth.At(21), truth.At(22))).epsilon(1e-4));

  // 3 % multiplicative noise, 20 replications: the 95 % intervals cover the truth in most.
  Rng rng(7);
  int covered_gamma = 0, covered_alpha = 0;
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<double> noisy;
    for (double k : n) noisy.push_back(truth.At(k) * (1 + 0.03 * (2 * rng.Uniform01() - 1)));
    const UslFit f = FitUsl(n, noisy);
    CHECK(f.gamma_ci > 0);
    covered_gamma += std::abs(f.gamma - truth.gamma) <= f.gamma_ci;
    covered_alpha += std::abs(f.alpha - truth.alpha) <= f.alpha_ci;
    CHECK(f.alpha >= 0);
    CHECK(f.beta >= 0);
  }
  CHECK(covered_gamma >= 15);
  CHECK(covered_alpha >= 15);
}

TEST_CASE("The USL fit holds a negative coefficient at 0 (a server that saturates without retrograde)", "[sim][usl]") {
  // X(N) = N / (0.001 + 0.0009 (N - 1)): contention only, beta = 0.
  std::vector<double> n = {1, 2, 4, 8, 16}, x;
  for (double k : n) x.push_back(1000 * k / (1 + 0.9 * (k - 1)));
  const UslFit f = FitUsl(n, x);
  CHECK(f.beta == Approx(0).margin(1e-9));
  CHECK(f.alpha == Approx(0.9).epsilon(1e-3));
  CHECK(f.Peak() == Approx(1000 / 0.9).epsilon(1e-3));
  CHECK(FitUsl({1, 2}, {1, 2}).converged == false);  // too few points
}
