// Random numbers for reproducible simulation.
//
// Rng is xoshiro256** (Blackman & Vigna, 2018): 256-bit state, period 2^256-1, passes BigCrush
// and PractRand; 1 ns per draw. RngStreams derives one independent Rng per *name* from
// (seed, replication, name[, index]) by hashing, so adding or removing a model never shifts
// the numbers another model draws, and replications differ only by their number.
//
// Distributions are our own code, never std::*_distribution: the standard leaves their
// algorithms to the library, so their output differs between standard libraries. Each is a
// small value type with `double operator()(Rng&)` (integer-valued ones return int64_t).
// Algorithms are named in each comment. All are thread-compatible (one Rng per thread).
#pragma once

#include <cmath>
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace citybed::sim {

// The SplitMix64 finalizer: a bijective 64-bit mix with full avalanche.
constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a over the bytes of `s` (then mixed by the caller): stable across platforms and runs.
constexpr uint64_t HashName(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

class Rng {
 public:
  // Expands a 64-bit seed into the 256-bit state with SplitMix64, as the authors recommend.
  explicit Rng(uint64_t seed = 0) {
    for (uint64_t& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      w = Mix64(seed);
    }
  }

  // A generator in exactly this state (not all zero): for checks against reference outputs.
  static Rng FromState(const std::array<uint64_t, 4>& state) {
    Rng r;
    for (size_t i = 0; i < 4; ++i) r.s_[i] = state[i];
    return r;
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  uint64_t operator()() { return Next(); }

  // Uniform on [0, 1) with 53 random bits.
  double Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform on (0, 1]: safe to take the logarithm of.
  double UniformOpen01() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }
  // Uniform integer in [0, n), n > 0, without bias (Lemire 2019, multiply and reject).
  uint64_t Below(uint64_t n);

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Hands out named streams. Stream("sources/air") is the same sequence in every run with the
// same seed and replication, whatever other streams were created before it.
class RngStreams {
 public:
  explicit RngStreams(uint64_t seed, uint64_t replication = 0)
      : seed_(seed), replication_(replication) {}
  Rng Stream(std::string_view name) const { return Rng(Key(name, 0)); }
  // A family of streams under one name, e.g. one per source: Stream("source", 17).
  Rng Stream(std::string_view name, uint64_t index) const { return Rng(Key(name, index + 1)); }
  uint64_t seed() const { return seed_; }
  uint64_t replication() const { return replication_; }

 private:
  uint64_t Key(std::string_view name, uint64_t index) const {
    uint64_t k = Mix64(seed_ ^ 0x6a09e667f3bcc909ULL);
    k = Mix64(k ^ Mix64(replication_ + 0xbb67ae8584caa73bULL));
    k = Mix64(k ^ HashName(name));
    return Mix64(k ^ Mix64(index + 0x3c6ef372fe94f82bULL));
  }
  uint64_t seed_;
  uint64_t replication_;
};

// ---- continuous ------------------------------------------------------------------------

struct Uniform {  // on [lo, hi)
  double lo = 0, hi = 1;
  double operator()(Rng& r) const { return lo + (hi - lo) * r.Uniform01(); }
  double Mean() const { return (lo + hi) / 2; }
  double Variance() const { return (hi - lo) * (hi - lo) / 12; }
};

struct Exponential {  // inversion: -mean * ln U
  double mean = 1;
  double operator()(Rng& r) const { return -mean * std::log(r.UniformOpen01()); }
  double Mean() const { return mean; }
  double Variance() const { return mean * mean; }
};

struct Normal {  // Marsaglia polar method; the second variate of each pair is discarded
  double mean = 0, stddev = 1;
  double operator()(Rng& r) const;
  double Mean() const { return mean; }
  double Variance() const { return stddev * stddev; }
};

struct LogNormal {  // exp(Normal(mu, sigma))
  double mu = 0, sigma = 1;
  // The log-normal whose own mean and coefficient of variation (stddev/mean) are given.
  static LogNormal FromMeanCv(double mean, double cv);
  double operator()(Rng& r) const { return std::exp(Normal{mu, sigma}(r)); }
  double Mean() const { return std::exp(mu + sigma * sigma / 2); }
  double Variance() const {
    return (std::exp(sigma * sigma) - 1) * std::exp(2 * mu + sigma * sigma);
  }
};

struct Pareto {  // Type I, inversion: scale / U^(1/shape); mean finite for shape > 1
  double scale = 1, shape = 2;
  double operator()(Rng& r) const { return scale / std::pow(r.UniformOpen01(), 1.0 / shape); }
  double Mean() const { return shape > 1 ? shape * scale / (shape - 1) : INFINITY; }
  double Variance() const {
    return shape > 2 ? scale * scale * shape / ((shape - 1) * (shape - 1) * (shape - 2)) : INFINITY;
  }
};

struct Weibull {  // inversion: scale * (-ln U)^(1/shape)
  double scale = 1, shape = 1;
  double operator()(Rng& r) const {
    return scale * std::pow(-std::log(r.UniformOpen01()), 1.0 / shape);
  }
  double Mean() const { return scale * std::tgamma(1 + 1 / shape); }
  double Variance() const {
    const double g1 = std::tgamma(1 + 1 / shape), g2 = std::tgamma(1 + 2 / shape);
    return scale * scale * (g2 - g1 * g1);
  }
};

// ---- discrete ----------------------------------------------------------------------------

struct Bernoulli {
  double p = 0.5;
  bool operator()(Rng& r) const { return r.Uniform01() < p; }
};

// Poisson: Knuth's product of uniforms for mean < 10, Hörmann's transformed rejection with
// squeeze (PTRS, 1993) above; O(1) expected time for every mean.
struct Poisson {
  double mean = 1;
  int64_t operator()(Rng& r) const;
};

// A value drawn from {0..k-1} with the given (unnormalised, non-negative) weights, by Walker's
// alias method as built by Vose (1991): O(k) set-up, O(1) per draw.
class Discrete {
 public:
  Discrete() = default;
  explicit Discrete(const std::vector<double>& weights);
  size_t operator()(Rng& r) const;
  size_t size() const { return prob_.size(); }
  double Probability(size_t i) const { return p_[i]; }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
  std::vector<double> p_;
};

// A continuous distribution given by observed samples (or points of a CDF): draws by inverting
// the piecewise-linear CDF through the sorted samples. O(n log n) set-up, O(1) per draw.
class Empirical {
 public:
  Empirical() = default;
  explicit Empirical(std::vector<double> samples);
  double operator()(Rng& r) const;
  double Mean() const { return mean_; }

 private:
  std::vector<double> sorted_;
  double mean_ = 0;
};

}  // namespace citybed::sim
