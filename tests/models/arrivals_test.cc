// Statistical checks of the arrival processes: mean rates, the diurnal integral, bursts and
// event scales. Seeds are fixed, so the checks are deterministic; tolerances are several
// standard errors wide.
#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <cmath>
#include <vector>

#include "citybed/models/arrivals.h"
#include "citybed/models/sources.h"

using namespace citybed::models;
using citybed::sim::Duration;
using citybed::sim::Rng;

namespace {

// Events of one member in [0, horizon), starting at local hour `hour0`, counted per hour.
std::vector<int> Simulate(const ArrivalSpec& a, double hour0, double horizon_s, uint64_t seed,
                          const RateScale* scale = nullptr, double bin_s = 3600) {
  Rng rng(seed);
  std::vector<int> bins(static_cast<size_t>(std::ceil(horizon_s / bin_s)), 0);
  double t = FirstOffset(a, rng, hour0, scale).seconds();
  while (t < horizon_s) {
    ++bins[static_cast<size_t>(t / bin_s)];
    t += NextGap(a, rng, static_cast<int64_t>(t * 1e9), std::fmod(hour0 + t / 3600, 24), scale).seconds();
  }
  return bins;
}

double Sum(const std::vector<int>& v) {
  double s = 0;
  for (int x : v) s += x;
  return s;
}

}  // namespace

TEST_CASE("Flat processes have their nominal rate", "[models][arrivals]") {
  ArrivalSpec periodic;
  periodic.period = Duration::Seconds(30);
  periodic.jitter = Duration::Seconds(10);
  CHECK(Sum(Simulate(periodic, 0, 86400 * 10, 1)) == Approx(28800).margin(2));
  ArrivalSpec poisson;
  poisson.process = ArrivalSpec::Process::kPoisson;
  poisson.rate = 0.05;
  const double n = Sum(Simulate(poisson, 0, 86400 * 20, 2));  // expect 86,400 ± 294
  CHECK(std::fabs(n - 86400) < 5 * std::sqrt(86400.0));
}

TEST_CASE("A diurnal profile shapes the day and keeps the daily total", "[models][arrivals]") {
  for (auto process : {ArrivalSpec::Process::kPoisson, ArrivalSpec::Process::kPeriodic}) {
    ArrivalSpec a;
    a.process = process;
    a.rate = 0.1;
    a.period = Duration::Seconds(10);
    a.profile = "mobility";
    const auto bins = Simulate(a, 0, 86400 * 30, 3);  // 30 days, binned by hour
    std::vector<double> by_hour(24, 0);
    for (size_t i = 0; i < bins.size(); ++i) by_hour[i % 24] += bins[i] / 30.0;
    double day = 0;
    for (double h : by_hour) day += h;
    INFO("process " << static_cast<int>(process) << ", events per day " << day);
    // The integral over a day equals the flat rate's (the profile has mean 1).
    CHECK(day == Approx(8640).epsilon(0.02));
    // Every hour follows the profile (integrated over the hour), within 5 %.
    for (int h = 0; h < 24; ++h) {
      double expected = 0;
      for (int k = 0; k < 60; ++k) expected += 0.1 * 60 * ProfileFactor("mobility", h + (k + 0.5) / 60);
      INFO("hour " << h);
      CHECK(by_hour[static_cast<size_t>(h)] == Approx(expected).epsilon(0.05));
    }
    CHECK(by_hour[8] > 3 * by_hour[3]);  // rush hour vs night
  }
}

TEST_CASE("Bursts multiply the rate inside their windows only", "[models][arrivals]") {
  ArrivalSpec a;
  a.process = ArrivalSpec::Process::kPoisson;
  a.rate = 0.2;
  a.burst.every = Duration::Minutes(60);
  a.burst.length = Duration::Minutes(10);
  a.burst.offset = Duration::Minutes(30);
  a.burst.factor = 6;
  const auto bins = Simulate(a, 0, 86400 * 5, 4, nullptr, 60);  // per minute, 5 days
  double in = 0, out = 0, in_minutes = 0, out_minutes = 0;
  for (size_t m = 0; m < bins.size(); ++m) {
    const bool burst = (m % 60) >= 30 && (m % 60) < 40;
    (burst ? in : out) += bins[m];
    (burst ? in_minutes : out_minutes) += 1;
  }
  CHECK(out / out_minutes == Approx(0.2 * 60).epsilon(0.03));
  CHECK(in / in_minutes == Approx(0.2 * 60 * 6).epsilon(0.03));
  // The shape: every minute of the window is raised, not just some.
  for (int k = 30; k < 40; ++k) {
    double sum = 0;
    for (size_t m = static_cast<size_t>(k); m < bins.size(); m += 60) sum += bins[m];
    CHECK(sum / (bins.size() / 60.0) == Approx(72).epsilon(0.15));
  }
}

namespace {
// A rate scale that is 1 until t0, then 20 decaying back with a 10-minute time constant.
class Surge final : public RateScale {
 public:
  explicit Surge(double t0_s) : t0_(static_cast<int64_t>(t0_s * 1e9)) {}
  double At(int64_t t) const override {
    return t < t0_ ? 1.0 : 1.0 + 19.0 * std::exp(-static_cast<double>(t - t0_) * 1e-9 / 600);
  }
  double Max() const override { return 20; }
  int64_t NextRise(int64_t t) const override { return t < t0_ ? t0_ : INT64_MAX; }

 private:
  int64_t t0_;
};
}  // namespace

TEST_CASE("An event's rate scale raises and decays the arrivals", "[models][arrivals]") {
  const Surge surge(3600);
  // Many periodic members with a 10-minute period: they react at once to the event (their gap
  // under way runs in operational time), not at their next nominal report.
  ArrivalSpec a;
  a.period = Duration::Minutes(10);
  std::vector<double> per_minute(180, 0);
  for (uint64_t member = 0; member < 400; ++member) {
    const auto bins = Simulate(a, 0, 3 * 3600, 100 + member, &surge, 60);
    for (size_t m = 0; m < bins.size(); ++m) per_minute[m] += bins[m];
  }
  double before = 0, first_ten = 0, late = 0;
  for (int m = 40; m < 60; ++m) before += per_minute[static_cast<size_t>(m)] / 20;
  for (int m = 60; m < 70; ++m) first_ten += per_minute[static_cast<size_t>(m)] / 10;
  for (int m = 150; m < 180; ++m) late += per_minute[static_cast<size_t>(m)] / 30;
  CHECK(before == Approx(40).epsilon(0.15));                 // 400 members / 10 min
  CHECK(first_ten > 8 * before);                             // ~13x on average over the first ten minutes
  CHECK(late == Approx(40).epsilon(0.15));  // 90-120 minutes later: decayed back
  // Expected events in the first ten minutes: 40/min x integral of 1 + 19 exp(-t/10).
  CHECK(first_ten == Approx(40 * (1 + 19 * (1 - std::exp(-1.0)))).epsilon(0.15));
}

TEST_CASE("A periodic process runs in operational time through a ramp", "[models][arrivals]") {
  // The factor ramps linearly from 1 to 5 over an hour, then holds: a member's reports follow
  // the integral of the rate, so the count in each window is its integral over the period.
  class Ramp final : public RateScale {
   public:
    double At(int64_t t) const override { return 1 + 4 * std::clamp(static_cast<double>(t) * 1e-9 / 3600 - 1, 0.0, 1.0); }
    double Max() const override { return 5; }
    int64_t NextRise(int64_t t) const override { return t < 3600'000'000'000 ? 3600'000'000'000 : INT64_MAX; }
  } ramp;
  ArrivalSpec a;
  a.period = Duration::Minutes(5);
  a.jitter = Duration::Minutes(1);
  std::vector<double> per_hour(3, 0);
  for (uint64_t member = 0; member < 300; ++member) {
    const auto bins = Simulate(a, 0, 3 * 3600, 500 + member, &ramp);
    for (size_t h = 0; h < bins.size(); ++h) per_hour[h] += bins[h];
  }
  CHECK(per_hour[0] / 300 == Approx(12).epsilon(0.03));  // 12 per hour before
  CHECK(per_hour[1] / 300 == Approx(36).epsilon(0.03));  // the ramp's mean factor is 3
  CHECK(per_hour[2] / 300 == Approx(60).epsilon(0.03));
}

TEST_CASE("Sources that report at an event's start do so within its first minute", "[models][arrivals]") {
  const Surge surge(3600);
  ArrivalSpec a;
  a.period = Duration::Hours(6);  // an office's routine bulletin
  Rng rng(9);
  int before = 0, first_minute = 0;
  for (int member = 0; member < 200; ++member) {
    double t = FirstOffset(a, rng, 0, &surge, true).seconds();
    while (t < 3600) {
      ++before;
      t += NextGap(a, rng, static_cast<int64_t>(t * 1e9), t / 3600, &surge, true).seconds();
    }
    first_minute += t < 3660 ? 1 : 0;
  }
  CHECK(before == Approx(200.0 / 6).margin(20));  // a sixth of them in the calm hour
  CHECK(first_minute == 200);                    // every one at the event's start
  // Without the flag, a member only reports faster: not all in the first minute.
  Rng rng2(9);
  int first_minute_plain = 0;
  for (int member = 0; member < 200; ++member) {
    double t = FirstOffset(a, rng2, 0, &surge).seconds();
    while (t < 3600) t += NextGap(a, rng2, static_cast<int64_t>(t * 1e9), t / 3600, &surge).seconds();
    first_minute_plain += t < 3660 ? 1 : 0;
  }
  CHECK(first_minute_plain < 150);
}

TEST_CASE("A jittered periodic group is stationary from the start", "[models][arrivals]") {
  // 100,000 members of a 15-minute period with 2 minutes of jitter, counted in 30-second bins
  // over the first half hour: the rate is flat, also around the end of the first period (a
  // uniform first phase would bunch the second reports there, +10 % then −13 %).
  ArrivalSpec a;
  a.period = Duration::Minutes(15);
  a.jitter = Duration::Minutes(2);
  std::vector<double> bins(60, 0);
  Rng rng(77);
  for (int member = 0; member < 100000; ++member) {
    double t = FirstOffset(a, rng, 0).seconds();
    while (t < 1800) {
      bins[static_cast<size_t>(t / 30)] += 1;
      t += NextGap(a, rng, static_cast<int64_t>(t * 1e9), t / 3600).seconds();
    }
  }
  const double expected = 100000.0 / 900 * 30;  // 3,333 per bin
  for (size_t b = 0; b < bins.size(); ++b) {
    INFO("bin at " << b * 30 << " s");
    CHECK(std::fabs(bins[b] - expected) < 4 * std::sqrt(expected));
  }
}
