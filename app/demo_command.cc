// `citybed demo`: a self-contained tour of the engine for people new to simulation. Runs an
// M/M/c queue for several independent replications and compares the mean waiting time with
// queueing theory (Erlang C), with a 95 % confidence interval.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "citybed/sim/engine.h"
#include "citybed/sim/queueing_theory.h"
#include "citybed/sim/random.h"
#include "citybed/sim/station.h"
#include "citybed/sim/stats.h"
#include "commands.h"
#include "exit_codes.h"

namespace citybed::app {
namespace {

struct DemoOptions {
  double utilization = 0.8;
  int servers = 1;
  int customers = 100000;
  int replications = 10;
  uint64_t seed = 1;
};

int RunDemo(const DemoOptions& o) {
  const double mu = 1.0, lambda = o.utilization * o.servers * mu;
  std::printf("citybed demo: M/M/%d queue, utilization %.2f, %d customers x %d replications\n",
              o.servers, o.utilization, o.customers, o.replications);
  std::printf("  each replication starts empty; its warm-up is cut where MSER-5 says the waits settle\n");
  std::vector<double> waits;
  std::vector<size_t> cuts;
  uint64_t events = 0;
  for (int r = 0; r < o.replications; ++r) {
    sim::Engine engine;
    sim::FifoStation station(engine, o.servers);
    sim::RngStreams streams(o.seed, static_cast<uint64_t>(r));
    sim::Rng arrivals = streams.Stream("arrivals"), service = streams.Stream("service");
    std::vector<double> series;  // waits in departure order
    series.reserve(static_cast<size_t>(o.customers));
    int arrived = 0;
    std::function<void()> arrive = [&] {
      station.Submit(sim::Duration::Seconds(sim::Exponential{1 / mu}(service)),
                     [&](const sim::FifoStation::Outcome& out) { series.push_back(out.waited.seconds()); });
      if (++arrived < o.customers) {
        engine.ScheduleIn(sim::Duration::Seconds(sim::Exponential{1 / lambda}(arrivals)), arrive);
      }
    };
    engine.ScheduleIn(sim::Duration::Seconds(sim::Exponential{1 / lambda}(arrivals)), arrive);
    engine.Run();
    events += engine.Executed();
    // The warm-up adapts to the load: MSER-5 on the series of waits.
    const size_t cut = sim::MserTruncation(series, 5);
    sim::RunningStats wait;
    for (size_t i = cut; i < series.size(); ++i) wait.Add(series[i]);
    cuts.push_back(cut);
    waits.push_back(wait.Mean());
    std::printf("  replication %2d: warm-up %6zu customers (MSER-5), mean wait %.4f s over %zu\n", r, cut, wait.Mean(),
                series.size() - cut);
  }
  std::sort(cuts.begin(), cuts.end());
  std::printf("warm-up chosen by MSER-5: median %zu customers (%zu to %zu)\n", cuts[cuts.size() / 2], cuts.front(),
              cuts.back());
  const sim::ConfidenceInterval ci = sim::MeanConfidenceInterval(waits);
  const double theory = sim::MMcMeanWait(o.servers, lambda, mu);
  std::printf("mean wait in queue: %.4f s ± %.4f (95 %% CI), theory %.4g s: %s\n", ci.mean,
              ci.half_width, theory, ci.Contains(theory) ? "inside the interval" : "outside the interval");
  std::printf("%llu events simulated\n", static_cast<unsigned long long>(events));
  return kExitOk;
}

}  // namespace

void RegisterDemo(CLI::App& app, Action& action) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run an M/M/c queue on the engine and compare it with theory");
  cmd->add_option("--utilization", opts->utilization, "Server utilization rho, in (0, 1)")
      ->check(Between(0.01, 0.99))->capture_default_str();
  cmd->add_option("--servers", opts->servers, "Number of servers c")->check(Between(1, 1000))->capture_default_str();
  cmd->add_option("--customers", opts->customers, "Customers per replication (warm-up included)")
      ->check(Between(100, 100000000))->capture_default_str();
  cmd->add_option("--replications", opts->replications, "Independent replications")->check(Between(2, 1000))->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  cmd->callback([opts, &action] { action = [opts] { return RunDemo(*opts); }; });
}

}  // namespace citybed::app
