// setup_bench: scenario set-up time and simulator memory per source.
//   build/bin/setup_bench SCENARIO.json
// Loads and validates the scenario, builds the World (regions, network, every source's state)
// and schedules one pending report per source on an Engine, as a long emulation run holds them.
// Prints sources, users, set-up seconds and the RSS growth per source.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "citybed/models/arrivals.h"
#include "citybed/models/world.h"
#include "citybed/sim/engine.h"

namespace {
long RssKib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SCENARIO.json\n", argv[0]);
    return 2;
  }
  using Clock = std::chrono::steady_clock;
  const long rss0 = RssKib();
  const auto t0 = Clock::now();
  auto scenario = citybed::models::LoadScenario(argv[1]);
  if (!scenario) {
    std::fputs(citybed::models::FormatErrors(argv[1], scenario.error()).c_str(), stderr);
    return 2;
  }
  auto world = citybed::models::World::Build(*scenario);
  if (!world) {
    std::fprintf(stderr, "%s\n", world.error().message.c_str());
    return 2;
  }
  citybed::sim::Engine engine;
  uint64_t scheduled = 0;
  for (auto& g : (*world)->sources()) {
    for (uint32_t i = 0; i < g.count; ++i) {
      citybed::sim::Rng rng = citybed::models::World::ReportRng(g, i, 0xFFFFFFFEu);
      const auto first = citybed::models::FirstOffset(g.spec->arrival, rng, (*world)->HourAt(0), g.scale(),
                                                      g.model->reports_at_event_start());
      const uint32_t group = static_cast<uint32_t>(&g - (*world)->sources().data());
      engine.ScheduleIn(first, [group, i] { (void)group, (void)i; });
      ++scheduled;
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const long rss1 = RssKib();
  const uint64_t n = (*world)->total_sources();
  std::printf("sources %llu users %llu regions %zu setup_s %.3f rss_kib %ld bytes_per_source %.1f\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>((*world)->total_users()),
              scenario->regions.size(), secs, rss1,
              n ? static_cast<double>(rss1 - rss0) * 1024.0 / static_cast<double>(n) : 0.0);
  return scheduled == n ? 0 : 1;
}
