// `citybed demo`: a self-contained tour of the engine for people new to simulation. Runs an
// M/M/c queue for several independent replications and compares the mean waiting time with
// queueing theory (Erlang C), with a 95 % confidence interval.
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
  std::vector<double> waits;
  uint64_t events = 0;
  for (int r = 0; r < o.replications; ++r) {
    sim::Engine engine;
    sim::FifoStation station(engine, o.servers);
    sim::RngStreams streams(o.seed, static_cast<uint64_t>(r));
    sim::Rng arrivals = streams.Stream("arrivals"), service = streams.Stream("service");
    sim::RunningStats wait;
    const int warmup = o.customers / 10;
    int arrived = 0, departed = 0;
    std::function<void()> arrive = [&] {
      station.Submit(sim::Duration::Seconds(sim::Exponential{1 / mu}(service)),
                     [&](const sim::FifoStation::Outcome& out) {
                       if (++departed > warmup) wait.Add(out.waited.seconds());
                     });
      if (++arrived < warmup + o.customers) {
        engine.ScheduleIn(sim::Duration::Seconds(sim::Exponential{1 / lambda}(arrivals)), arrive);
      }
    };
    engine.ScheduleIn(sim::Duration::Seconds(sim::Exponential{1 / lambda}(arrivals)), arrive);
    engine.Run();
    events += engine.Executed();
    waits.push_back(wait.Mean());
    std::printf("  replication %2d: mean wait %.4f s\n", r, wait.Mean());
  }
  const sim::ConfidenceInterval ci = sim::MeanConfidenceInterval(waits);
  const double theory = sim::MMcMeanWait(o.servers, lambda, mu);
  std::printf("mean wait in queue: %.4f s ± %.4f (95 %% CI), theory %.4f s: %s\n", ci.mean,
              ci.half_width, theory, ci.Contains(theory) ? "inside the interval" : "outside the interval");
  std::printf("%llu events simulated\n", static_cast<unsigned long long>(events));
  return kExitOk;
}

}  // namespace

void RegisterDemo(CLI::App& app, Action& action) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run an M/M/c queue on the engine and compare it with theory");
  cmd->add_option("--utilization", opts->utilization, "Server utilization rho, in (0, 1)")
      ->check(CLI::Range(0.01, 0.99));
  cmd->add_option("--servers", opts->servers, "Number of servers c")->check(CLI::Range(1, 1000));
  cmd->add_option("--customers", opts->customers, "Customers per replication (after warm-up)")
      ->check(CLI::Range(100, 100000000));
  cmd->add_option("--replications", opts->replications, "Independent replications")->check(CLI::Range(2, 1000));
  cmd->add_option("--seed", opts->seed, "Random seed");
  cmd->callback([opts, &action] { action = [opts] { return RunDemo(*opts); }; });
}

}  // namespace citybed::app
