// Google Benchmark suite of the simulation core (citybed_sim only).
//   build/bin/sim_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <vector>

#include "citybed/sim/engine.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/random.h"

using namespace citybed::sim;

// The classic "hold" model: n pending events; each executed event schedules one more at an
// exponential delay, so the queue size stays n. Reports time per executed event.
static void BM_Engine_Hold(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  Engine engine;
  Rng rng(1);
  struct Hold {
    Engine* engine;
    Rng* rng;
    void operator()() const {
      engine->ScheduleIn(Duration::Nanoseconds(static_cast<int64_t>(Exponential{1e6}(*rng))), *this);
    }
  };
  for (int i = 0; i < n; ++i) engine.ScheduleIn(Duration::Nanoseconds(i), Hold{&engine, &rng});
  for (auto _ : state) engine.Step();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Engine_Hold)->Arg(16)->Arg(1000)->Arg(100000)->Arg(1000000);

// Schedule a timeout and cancel it (a request that completes before its timer).
static void BM_Engine_ScheduleCancel(benchmark::State& state) {
  Engine engine;
  for (auto _ : state) {
    EventId id = engine.ScheduleIn(Duration::Seconds(10), [] {});
    benchmark::DoNotOptimize(engine.Cancel(id));
  }
}
BENCHMARK(BM_Engine_ScheduleCancel);

static void BM_Histogram_Record(benchmark::State& state) {
  LatencyHistogram h;
  Rng rng(2);
  std::vector<int64_t> values(4096);
  for (auto& v : values) v = static_cast<int64_t>(Exponential{2e6}(rng));
  size_t i = 0;
  for (auto _ : state) h.Record(values[i++ & 4095]);
  benchmark::DoNotOptimize(h.Count());
}
BENCHMARK(BM_Histogram_Record);

static void BM_Rng_Next(benchmark::State& state) {
  Rng rng(3);
  for (auto _ : state) benchmark::DoNotOptimize(rng.Next());
}
BENCHMARK(BM_Rng_Next);

static void BM_Exponential(benchmark::State& state) {
  Rng rng(4);
  Exponential d{1.0};
  for (auto _ : state) benchmark::DoNotOptimize(d(rng));
}
BENCHMARK(BM_Exponential);

static void BM_Poisson(benchmark::State& state) {
  Rng rng(5);
  Poisson d{static_cast<double>(state.range(0))};
  for (auto _ : state) benchmark::DoNotOptimize(d(rng));
}
BENCHMARK(BM_Poisson)->Arg(3)->Arg(100);

BENCHMARK_MAIN();
