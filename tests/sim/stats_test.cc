#include <catch2/catch.hpp>

#include "citybed/sim/random.h"
#include "citybed/sim/stats.h"

using namespace citybed::sim;

TEST_CASE("Student t quantiles match published tables", "[sim]") {
  CHECK(StudentTQuantile(0.95, 1) == Approx(12.706).epsilon(1e-4));
  CHECK(StudentTQuantile(0.95, 10) == Approx(2.228).epsilon(1e-3));
  CHECK(StudentTQuantile(0.99, 29) == Approx(2.756).epsilon(1e-3));
  CHECK(StudentTQuantile(0.95, 1e6) == Approx(1.960).epsilon(1e-3));
}

TEST_CASE("MeanConfidenceInterval uses the t distribution", "[sim]") {
  ConfidenceInterval ci = MeanConfidenceInterval({1, 2, 3, 4, 5});
  CHECK(ci.mean == Approx(3));
  // s = sqrt(2.5), t(0.95, 4) = 2.776
  CHECK(ci.half_width == Approx(2.776 * std::sqrt(2.5) / std::sqrt(5.0)).epsilon(1e-3));
  CHECK(ci.Contains(3.1));
  CHECK_FALSE(ci.Contains(6));
  CHECK(std::isinf(MeanConfidenceInterval({1}).half_width));
}

TEST_CASE("RunningStats merges like one stream", "[sim]") {
  Rng rng(4);
  RunningStats a, b, all;
  for (int i = 0; i < 1000; ++i) {
    double x = Normal{5, 2}(rng);
    (i < 300 ? a : b).Add(x);
    all.Add(x);
  }
  a.Merge(b);
  CHECK(a.Count() == all.Count());
  CHECK(a.Mean() == Approx(all.Mean()));
  CHECK(a.Variance() == Approx(all.Variance()));
  CHECK(a.Min() == all.Min());
  CHECK(a.Max() == all.Max());
}

TEST_CASE("TimeSeries buckets values by fixed intervals", "[sim]") {
  TimeSeries ts(Duration::Seconds(1));
  ts.Add(Time::FromSeconds(0.5), 2);
  ts.Add(Time::FromSeconds(0.9), 4);
  ts.Add(Time::FromSeconds(2.1), 1);
  REQUIRE(ts.size() == 3);
  CHECK(ts[0].count == 2);
  CHECK(ts[0].sum == 6);
  CHECK(ts[0].max == 4);
  CHECK(ts[1].count == 0);
  CHECK(ts.Rate(2) == Approx(1));
  CHECK(ts.BucketStart(2) == Time::FromSeconds(2));
}

TEST_CASE("MSER-5 cuts a transient and keeps a stationary series", "[sim]") {
  Rng rng(11);
  Normal noise{0, 1};
  // 20,000 observations whose first 2,000 decay from +30 to the stationary mean 0.
  std::vector<double> transient;
  for (int i = 0; i < 20000; ++i) transient.push_back(30 * std::exp(-i / 400.0) + noise(rng));
  const size_t cut = MserTruncation(transient, 5);
  INFO("cut " << cut);
  CHECK(cut >= 1200);
  CHECK(cut <= 4000);
  CHECK(cut % 5 == 0);
  std::vector<double> stationary;
  for (int i = 0; i < 20000; ++i) stationary.push_back(noise(rng));
  CHECK(MserTruncation(stationary, 5) < 2000);
  CHECK(MserTruncation({1, 2, 3}, 5) == 0);  // too short to judge
}
