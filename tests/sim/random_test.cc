#include <boost/math/distributions/chi_squared.hpp>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "citybed/sim/random.h"
#include "citybed/sim/stats.h"

using namespace citybed::sim;

namespace {

constexpr int kSamples = 400000;

// Checks the sample mean and variance of `draw` against the true ones. The tolerances are
// 5 standard errors: for the mean sqrt(var/n); for the variance sqrt((m4 - var^2)/n) with the
// sample fourth central moment m4. The seed is fixed, so the test is deterministic.
void CheckMoments(const std::function<double(Rng&)>& draw, double mean, double var, uint64_t seed = 1) {
  Rng rng(seed);
  std::vector<double> xs(kSamples);
  for (double& x : xs) x = draw(rng);
  RunningStats s;
  for (double x : xs) s.Add(x);
  double m4 = 0;
  for (double x : xs) m4 += std::pow(x - s.Mean(), 4);
  m4 /= kSamples;
  const double n = kSamples;
  INFO("mean " << s.Mean() << " vs " << mean << ", variance " << s.Variance() << " vs " << var);
  CHECK(std::fabs(s.Mean() - mean) <= 5 * std::sqrt(var / n));
  CHECK(std::fabs(s.Variance() - var) <= 5 * std::sqrt(std::max(m4 - var * var, 0.0) / n));
}

// Pearson chi-square goodness of fit for a discrete sampler against probabilities pk (cells
// with expected count < 5 are merged into the last); passes at the 0.1 % level.
void CheckChiSquare(const std::function<int64_t(Rng&)>& draw, const std::function<double(int64_t)>& pk,
                    int64_t lo, int64_t hi) {
  Rng rng(3);
  std::map<int64_t, double> observed;
  for (int i = 0; i < kSamples; ++i) {
    int64_t k = draw(rng);
    observed[std::clamp(k, lo, hi)] += 1;
  }
  double chi2 = 0, tail_p = 1, tail_obs = kSamples;
  int cells = 0;
  for (int64_t k = lo; k < hi; ++k) {
    const double expected = pk(k) * kSamples;
    if (expected < 5) continue;
    chi2 += std::pow(observed[k] - expected, 2) / expected;
    tail_p -= pk(k);
    tail_obs -= observed[k];
    ++cells;
  }
  const double tail_expected = tail_p * kSamples;
  if (tail_expected >= 5) {
    chi2 += std::pow(tail_obs - tail_expected, 2) / tail_expected;
    ++cells;
  }
  boost::math::chi_squared dist(cells - 1);
  INFO("chi2 " << chi2 << " over " << cells << " cells");
  CHECK(chi2 < boost::math::quantile(dist, 0.999));
}

}  // namespace

TEST_CASE("xoshiro256** matches the reference sequence", "[sim]") {
  // The authors' reference implementation (xoshiro256starstar.c) from the state {1, 2, 3, 4}
  // gives these first outputs.
  Rng rng = Rng::FromState({1, 2, 3, 4});
  const uint64_t reference[] = {11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL, 1216172134540287360ULL,
                                607988272756665600ULL};
  for (uint64_t want : reference) CHECK(rng.Next() == want);
}

TEST_CASE("Seeds expand into the state through the reference SplitMix64", "[sim]") {
  // splitmix64.c from the seed 1234567: the published first outputs.
  uint64_t x = 1234567;
  const uint64_t reference[] = {6457827717110365317ULL, 3203168211198807973ULL, 9817491932198370423ULL,
                                4593380528125082431ULL, 16408922859458223821ULL};
  for (uint64_t want : reference) {
    x += 0x9e3779b97f4a7c15ULL;
    CHECK(Mix64(x) == want);
  }
  // Rng(seed) takes its four words from SplitMix64(seed): the same as FromState of them.
  uint64_t y = 42;
  std::array<uint64_t, 4> words{};
  for (uint64_t& w : words) {
    y += 0x9e3779b97f4a7c15ULL;
    w = Mix64(y);
  }
  Rng a(42), b = Rng::FromState(words);
  for (int i = 0; i < 10; ++i) CHECK(a.Next() == b.Next());
}

TEST_CASE("Rng::Below is unbiased and in range", "[sim]") {
  Rng rng(5);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = rng.Below(7);
    REQUIRE(v < 7);
    ++counts[v];
  }
  for (int c : counts) CHECK(std::abs(c - 10000) < 500);
}

TEST_CASE("Named streams do not depend on which other streams exist", "[sim]") {
  RngStreams streams(2024, 0);
  Rng lone = streams.Stream("sources/air");
  RngStreams again(2024, 0);
  Rng other = again.Stream("sources/water");
  (void)other.Next();
  Rng same = again.Stream("sources/air");
  for (int i = 0; i < 1000; ++i) REQUIRE(lone.Next() == same.Next());
  // Different names, indexes, replications and seeds give different sequences.
  CHECK(RngStreams(2024).Stream("a").Next() != RngStreams(2024).Stream("b").Next());
  CHECK(RngStreams(2024).Stream("a", 1).Next() != RngStreams(2024).Stream("a", 2).Next());
  CHECK(RngStreams(2024, 1).Stream("a").Next() != RngStreams(2024, 2).Stream("a").Next());
  CHECK(RngStreams(1).Stream("a").Next() != RngStreams(2).Stream("a").Next());
}

TEST_CASE("Streams with different names are uncorrelated", "[sim]") {
  RngStreams streams(99);
  Rng a = streams.Stream("a"), b = streams.Stream("b");
  const int n = 200000;
  double sab = 0, sa = 0, sb = 0, saa = 0, sbb = 0;
  for (int i = 0; i < n; ++i) {
    const double x = a.Uniform01(), y = b.Uniform01();
    sab += x * y; sa += x; sb += y; saa += x * x; sbb += y * y;
  }
  const double cov = sab / n - (sa / n) * (sb / n);
  const double corr = cov / std::sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
  CHECK(std::fabs(corr) < 5 / std::sqrt(double(n)));
}

TEST_CASE("Continuous distributions have the right mean and variance", "[sim]") {
  SECTION("uniform") { CheckMoments(Uniform{2, 5}, 3.5, 0.75); }
  SECTION("exponential") { CheckMoments(Exponential{0.25}, 0.25, 0.0625); }
  SECTION("normal") { CheckMoments(Normal{10, 3}, 10, 9); }
  SECTION("lognormal") {
    LogNormal d = LogNormal::FromMeanCv(50000, 0.8);
    CHECK(d.Mean() == Approx(50000));
    CheckMoments(d, d.Mean(), d.Variance());
  }
  SECTION("pareto") { CheckMoments(Pareto{1.0, 5.0}, Pareto{1.0, 5.0}.Mean(), Pareto{1.0, 5.0}.Variance()); }
  SECTION("weibull") {
    Weibull d{2.0, 1.5};
    CheckMoments(d, d.Mean(), d.Variance());
  }
  SECTION("empirical") {
    Empirical d({1, 2, 2, 3, 10});
    Rng rng(1);
    for (int i = 0; i < 10000; ++i) {
      double x = d(rng);
      REQUIRE(x >= 1);
      REQUIRE(x <= 10);
    }
    // Mass 1/4 uniform on each of [1,2], [2,2], [2,3], [3,10].
    const double mean = (1.5 + 2 + 2.5 + 6.5) / 4;
    const double ex2 = ((1 + 2 + 4) / 3.0 + 4 + (4 + 6 + 9) / 3.0 + (9 + 30 + 100) / 3.0) / 4;
    CHECK(d.Mean() == Approx(mean));
    CheckMoments(d, mean, ex2 - mean * mean);
  }
}

TEST_CASE("Poisson matches its probability mass function", "[sim]") {
  for (double mean : {0.7, 3.5, 9.9, 10.0, 42.0, 1000.0}) {
    INFO("mean " << mean);
    Poisson d{mean};
    CheckMoments([d](Rng& r) { return static_cast<double>(d(r)); }, mean, mean);
    auto pk = [mean](int64_t k) { return std::exp(-mean + k * std::log(mean) - std::lgamma(k + 1.0)); };
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(mean - 6 * std::sqrt(mean)));
    const int64_t hi = static_cast<int64_t>(mean + 6 * std::sqrt(mean)) + 3;
    CheckChiSquare([d](Rng& r) { return d(r); }, pk, lo, hi);
  }
}

TEST_CASE("Bernoulli and Discrete follow their probabilities", "[sim]") {
  CheckMoments([](Rng& r) { return Bernoulli{0.3}(r) ? 1.0 : 0.0; }, 0.3, 0.21);
  const std::vector<double> w = {5, 0, 1, 3, 1};
  Discrete d(w);
  CHECK(d.Probability(0) == Approx(0.5));
  CheckChiSquare([&d](Rng& r) { return static_cast<int64_t>(d(r)); },
                 [&w](int64_t k) { return w[static_cast<size_t>(k)] / 10.0; }, 0, 5);
  Rng rng(9);
  for (int i = 0; i < 10000; ++i) REQUIRE(d(rng) != 1);  // zero weight never drawn
  CHECK_THROWS(Discrete(std::vector<double>{}));
  CHECK_THROWS(Discrete(std::vector<double>{0, 0}));
  CHECK_THROWS(Discrete(std::vector<double>{1, -1}));
}
