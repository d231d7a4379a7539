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
