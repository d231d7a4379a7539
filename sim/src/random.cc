#include "citybed/sim/random.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace citybed::sim {

__extension__ typedef unsigned __int128 Uint128;

uint64_t Rng::Below(uint64_t n) {
  // Lemire, "Fast random integer generation in an interval" (2019).
  Uint128 m = static_cast<Uint128>(Next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<Uint128>(Next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Normal::operator()(Rng& r) const {
  double u, v, s;
  do {
    u = 2 * r.Uniform01() - 1;
    v = 2 * r.Uniform01() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  return mean + stddev * u * std::sqrt(-2 * std::log(s) / s);
}

LogNormal LogNormal::FromMeanCv(double mean, double cv) {
  const double sigma2 = std::log1p(cv * cv);
  return LogNormal{std::log(mean) - sigma2 / 2, std::sqrt(sigma2)};
}

int64_t Poisson::operator()(Rng& r) const {
  if (mean <= 0) return 0;
  if (mean < 10) {
    const double limit = std::exp(-mean);
    int64_t k = 0;
    double prod = r.Uniform01();
    while (prod > limit) {
      ++k;
      prod *= r.Uniform01();
    }
    return k;
  }
  // PTRS: W. Hörmann, "The transformed rejection method for generating Poisson random
  // variables", Insurance: Mathematics and Economics 12 (1993).
  const double slam = std::sqrt(mean);
  const double loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  while (true) {
    const double u = r.Uniform01() - 0.5;
    const double v = r.Uniform01();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<int64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -mean + k * loglam - std::lgamma(k + 1)) {
      return static_cast<int64_t>(k);
    }
  }
}

Discrete::Discrete(const std::vector<double>& weights) {
  const size_t k = weights.size();
  if (k == 0) throw std::invalid_argument("Discrete: no weights");
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w)) throw std::invalid_argument("Discrete: weights must be finite and >= 0");
    total += w;
  }
  if (total <= 0) throw std::invalid_argument("Discrete: weights sum to zero");
  prob_.assign(k, 0);
  alias_.assign(k, 0);
  p_.resize(k);
  std::vector<double> scaled(k);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < k; ++i) {
    p_[i] = weights[i] / total;
    scaled[i] = p_[i] * static_cast<double>(k);
    (scaled[i] < 1 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back(), l = large.back();
    small.pop_back();
    large.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1;
    (scaled[l] < 1 ? small : large).push_back(l);
  }
  for (uint32_t i : large) prob_[i] = 1;
  for (uint32_t i : small) prob_[i] = 1;  // numerical leftovers
}

size_t Discrete::operator()(Rng& r) const {
  const size_t column = r.Below(prob_.size());
  return r.Uniform01() < prob_[column] ? column : alias_[column];
}

Empirical::Empirical(std::vector<double> samples) : sorted_(std::move(samples)) {
  if (sorted_.empty()) throw std::invalid_argument("Empirical: no samples");
  std::sort(sorted_.begin(), sorted_.end());
  // The piecewise-linear CDF through sorted samples x_0..x_{n-1} puts mass 1/(n-1) uniformly on
  // each interval [x_i, x_{i+1}], so its mean is the mean of the interval midpoints.
  if (sorted_.size() == 1) {
    mean_ = sorted_[0];
  } else {
    double sum = 0;
    for (size_t i = 0; i + 1 < sorted_.size(); ++i) sum += (sorted_[i] + sorted_[i + 1]) / 2;
    mean_ = sum / static_cast<double>(sorted_.size() - 1);
  }
}

double Empirical::operator()(Rng& r) const {
  if (sorted_.size() == 1) return sorted_[0];
  const double x = r.Uniform01() * static_cast<double>(sorted_.size() - 1);
  const size_t i = static_cast<size_t>(x);
  const double frac = x - static_cast<double>(i);
  return sorted_[i] + frac * (sorted_[i + 1] - sorted_[i]);
}

}  // namespace citybed::sim
