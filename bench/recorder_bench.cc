// recorder_bench: the memory a long run's results take. Feeds a Recorder what a 24-hour
// simulated run at 1-second intervals would (RATE requests per simulated second, latencies
// log-normal around 20 ms with a tail, a notification per ten requests), then prints the peak
// resident memory of the process and what the interval histograms hold.
//   build/bin/recorder_bench [RATE=200] [HOURS=24] [REGIONS=100]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "citybed/models/sources.h"
#include "citybed/results/recorder.h"
#include "citybed/sim/random.h"

namespace {
long StatusKiB(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::string(key).size());
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace citybed;
  const double rate = argc > 1 ? std::atof(argv[1]) : 200;
  const double hours = argc > 2 ? std::atof(argv[2]) : 24;
  const int regions = argc > 3 ? std::atoi(argv[3]) : 100;
  results::RecorderOptions o;
  o.duration = sim::Duration::Hours(hours);
  o.warmup = sim::Duration::Minutes(5);
  o.interval = sim::Duration::Seconds(1);
  for (int r = 0; r < regions; ++r) o.regions.push_back("r" + std::to_string(r));
  o.domains = models::DomainNames();
  const long before = StatusKiB("VmRSS:");
  results::Recorder rec(o);
  sim::Rng rng(1);
  const sim::Normal noise{0, 0.6};
  const int64_t step = static_cast<int64_t>(1e9 / rate);
  uint64_t n = 0;
  for (int64_t t = 0; t < o.duration.ns(); t += step, ++n) {
    models::RequestRecord r;
    r.op = static_cast<models::OpKind>(n % 4);
    r.region = static_cast<int>(n % static_cast<uint64_t>(regions));
    r.domain = r.op == models::OpKind::kUpsert ? static_cast<int>(n % 7) : -1;
    r.outcome = n % 997 == 0 ? models::Outcome::kTimeout : models::Outcome::kOk;
    r.sent = true;
    r.intended = sim::Time::FromNs(t);
    r.latency = sim::Duration::Milliseconds(20 * std::exp(noise(rng)));
    r.completed = r.intended + r.latency;
    rec.OnRequest(r);
    if (n % 10 == 0) rec.OnNotification({r.region, r.completed, r.latency});
  }
  const long after = StatusKiB("VmHWM:");
  std::printf("recorder_bench: %.0f h simulated at 1 s intervals, %.0f requests per simulated second, %d regions\n",
              hours, rate, regions);
  std::printf("  %llu requests recorded into %zu intervals\n", static_cast<unsigned long long>(n), rec.intervals().size());
  std::printf("  interval histograms and counters: %.1f MiB\n", static_cast<double>(rec.IntervalMemoryBytes()) / (1 << 20));
  std::printf("  peak resident memory: %.1f MiB (%.1f MiB before the recorder)\n", static_cast<double>(after) / 1024,
              static_cast<double>(before) / 1024);
  return 0;
}
