#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "citybed/sim/histogram.h"
#include "citybed/sim/random.h"

using namespace citybed::sim;

TEST_CASE("LatencyHistogram reports every value within 1 % from 1 us to 1 h", "[sim]") {
  const double max_ns = 3600e9;
  for (double v = 1e3; v <= max_ns; v *= 1.0137) {
    LatencyHistogram h;
    const auto value = static_cast<int64_t>(v);
    // Bracket the value so the percentile is the bucket's representative, not min or max.
    h.Record(0);
    h.Record(value);
    h.Record(static_cast<int64_t>(max_ns * 2));
    const int64_t reported = h.ValueAtPercentile(50);
    REQUIRE(std::fabs(static_cast<double>(reported - value)) / v <= 0.01);
    REQUIRE(std::fabs(static_cast<double>(reported - value)) / v <= h.RelativeError() + 1e-12);
  }
}

TEST_CASE("LatencyHistogram percentiles match the exact ones of a sample", "[sim]") {
  Rng rng(11);
  LogNormal d = LogNormal::FromMeanCv(2e6, 1.5);  // ~2 ms mean, heavy right tail
  std::vector<int64_t> xs(200000);
  LatencyHistogram h;
  for (auto& x : xs) {
    x = static_cast<int64_t>(d(rng));
    h.Record(x);
  }
  std::sort(xs.begin(), xs.end());
  for (double p : {1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const size_t rank = static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(xs.size())));
    const double exact = static_cast<double>(xs[rank - 1]);
    INFO("p" << p);
    CHECK(std::fabs(static_cast<double>(h.ValueAtPercentile(p)) - exact) / exact <= 0.01);
  }
  CHECK(h.Count() == xs.size());
  CHECK(h.Min() == xs.front());
  CHECK(h.Max() == xs.back());
  CHECK(h.ValueAtPercentile(100) == xs.back());
  CHECK(h.ValueAtPercentile(0) == xs.front());
}

TEST_CASE("Merged histograms equal one histogram of all the values", "[sim]") {
  Rng rng(12);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 50000; ++i) {
    const auto x = static_cast<int64_t>(Exponential{1e5}(rng));
    (i % 3 == 0 ? a : b).Record(x);
    all.Record(x);
  }
  a.Merge(b);
  CHECK(a.Count() == all.Count());
  CHECK(a.Min() == all.Min());
  CHECK(a.Max() == all.Max());
  CHECK(a.Mean() == Approx(all.Mean()));
  for (double p : {10.0, 50.0, 99.0, 99.9}) CHECK(a.ValueAtPercentile(p) == all.ValueAtPercentile(p));
  LatencyHistogram coarse(4);
  CHECK_THROWS(a.Merge(coarse));
}

TEST_CASE("LatencyHistogram handles empty, small exact and huge values", "[sim]") {
  LatencyHistogram h;
  CHECK(h.ValueAtPercentile(99) == 0);
  CHECK(h.Count() == 0);
  for (int v = 0; v < 256; ++v) h.Record(v);
  CHECK(h.ValueAtPercentile(50) == 127);  // small values are exact
  h.Record(int64_t{1} << 50);             // beyond the bucketed range: max stays exact
  CHECK(h.Max() == int64_t{1} << 50);
  CHECK(h.ValueAtPercentile(100) == int64_t{1} << 50);
  h.Reset();
  CHECK(h.Count() == 0);
  LatencyHistogram coarse(4);
  coarse.Record(1000);
  coarse.Record(1000000);
  CHECK(coarse.RelativeError() == Approx(1.0 / 32));
  CHECK(coarse.FractionAtOrBelow(1000) == Approx(0.5));
}
