// phold: the PHOLD benchmark (Fujimoto) on citybed's Engine, through its public API:
// type-erased, cancellable events scheduled with ScheduleIn.
//
// Same model, flags, random draws and output columns as ../shared/bench/phold (phold_ref.cpp
// and phold_ns3.cpp), so the three can be run side by side and must end at the same simulated
// time (the `sim_end_s` column): N LPs, M initial events each; every event increments its LP's
// counter and schedules one event at a uniformly random LP after 1 ms + Exp(mean 1 ms).
//
//   build/bin/phold --lps=1000 --epl=16 --events=20000000 --seed=1
//   prints: engine events seconds Mev/s sim_end_s
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "citybed/sim/engine.h"
#include "citybed/sim/random.h"

namespace {

using citybed::sim::Duration;
using citybed::sim::Engine;
using citybed::sim::Rng;

struct Params {
  uint32_t lps = 1000;
  uint32_t epl = 16;
  uint64_t events = 20000000;
  double simtime = 0;
  uint64_t seed = 1;
};

Params Parse(int argc, char** argv) {
  Params p;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto val = [&](const char* key) -> const char* {
      const size_t n = std::strlen(key);
      return std::strncmp(a, key, n) == 0 && a[n] == '=' ? a + n + 1 : nullptr;
    };
    if (const char* v = val("--lps")) p.lps = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if ((v = val("--epl"))) p.epl = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    else if ((v = val("--events"))) p.events = std::strtoull(v, nullptr, 10);
    else if ((v = val("--simtime"))) p.simtime = std::strtod(v, nullptr);
    else if ((v = val("--seed"))) p.seed = std::strtoull(v, nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--lps=1000] [--epl=16] [--events=20000000] [--simtime=0] [--seed=1]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (p.lps == 0) {
    std::fprintf(stderr, "phold: --lps must be > 0\n");
    std::exit(2);
  }
  return p;
}

class Phold {
 public:
  explicit Phold(const Params& p) : p_(p), rng_(p.seed), count_(p.lps, 0) {}

  void Setup() {
    for (uint32_t lp = 0; lp < p_.lps; ++lp) {
      for (uint32_t k = 0; k < p_.epl; ++k) {
        engine_.ScheduleIn(Delay(), [this, lp] { Handle(lp); });
      }
    }
  }

  void Handle(uint32_t lp) {
    ++count_[lp];
    if (++executed_ >= max_events_) engine_.Stop();
    const uint32_t dst = Below(p_.lps);
    engine_.ScheduleIn(Delay(), [this, dst] { Handle(dst); });
  }

  Engine& engine() { return engine_; }
  uint64_t executed() const { return executed_; }
  void set_max_events(uint64_t n) { max_events_ = n; }

 private:
  // The anchors' draw functions, so that every engine sees the same numbers.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((rng_.Next() >> 32) * uint64_t{n}) >> 32); }
  Duration Delay() {
    const double u = rng_.UniformOpen01();
    return Duration::Nanoseconds(1000000 + static_cast<int64_t>(-1e6 * std::log(u)));
  }

  Params p_;
  Engine engine_;
  Rng rng_;
  std::vector<uint64_t> count_;
  uint64_t executed_ = 0;
  uint64_t max_events_ = UINT64_MAX;
};

}  // namespace

int main(int argc, char** argv) {
  const Params p = Parse(argc, argv);
  Phold model(p);
  model.Setup();
  const auto t0 = std::chrono::steady_clock::now();
  double sim_end = 0;
  if (p.simtime > 0) {
    const auto stop = citybed::sim::Time::FromNs(static_cast<int64_t>(std::llround(p.simtime * 1e9)));
    model.engine().RunUntil(stop - Duration::Nanoseconds(1));  // events strictly before stop
    sim_end = p.simtime;
  } else {
    model.set_max_events(p.events);
    model.engine().Run();
    sim_end = model.engine().Now().seconds();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-14s %10llu %9.3f %9.3f %12.6f\n", "citybed", static_cast<unsigned long long>(model.executed()),
              secs, static_cast<double>(model.executed()) / secs / 1e6, sim_end);
  return 0;
}
