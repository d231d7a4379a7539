// Summary statistics for simulation output.
//
//   RunningStats        mean/variance/min/max of a stream of values (Welford; O(1) memory)
//   ConfidenceInterval  mean ± half-width at a confidence level, from independent replications
//                       (Student t with n-1 degrees of freedom)
//   TimeSeries          fixed-interval buckets (count, sum, min, max) over simulated time
// Value types; not thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "citybed/sim/time.h"

namespace citybed::sim {

class RunningStats {
 public:
  void Add(double x);
  void Merge(const RunningStats& other);  // Chan et al. parallel combination
  uint64_t Count() const { return n_; }
  double Mean() const { return n_ ? mean_ : 0.0; }
  double Variance() const { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : 0.0; }  // sample
  double StdDev() const;
  double Min() const { return n_ ? min_ : 0.0; }
  double Max() const { return n_ ? max_ : 0.0; }
  double Sum() const { return mean_ * static_cast<double>(n_); }

 private:
  uint64_t n_ = 0;
  double mean_ = 0, m2_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

struct ConfidenceInterval {
  double mean = 0;
  double half_width = 0;  // infinite with fewer than two replications
  double level = 0.95;
  uint64_t n = 0;
  double low() const { return mean - half_width; }
  double high() const { return mean + half_width; }
  bool Contains(double x) const { return x >= low() && x <= high(); }
};

// Two-sided Student t quantile: the t with P(|T| <= t) = level for `dof` degrees of freedom.
double StudentTQuantile(double level, double dof);

// CI of the mean of independent, identically distributed replication results.
ConfidenceInterval MeanConfidenceInterval(const std::vector<double>& values, double level = 0.95);

// MSER-5 warm-up detection (White 1997; Franklin and White 2008): the series is cut into
// batches of `batch` observations; the truncation d (in batches, at most half of them) that
// minimises the marginal standard error of the rest, Σ_{i>d} (Y_i − Ȳ_d)² / (n − d)², is the
// warm-up. Returns the number of observations to discard (a multiple of `batch`). O(n).
size_t MserTruncation(const std::vector<double>& series, size_t batch = 5);

class TimeSeries {
 public:
  struct Bucket {
    uint64_t count = 0;
    double sum = 0;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
  };
  explicit TimeSeries(Duration interval);
  void Add(Time t, double value = 1.0);  // t >= 0
  Duration interval() const { return interval_; }
  size_t size() const { return buckets_.size(); }
  const Bucket& operator[](size_t i) const { return buckets_[i]; }
  Time BucketStart(size_t i) const { return Time() + interval_ * static_cast<int64_t>(i); }
  // Events per second in bucket i (count / interval).
  double Rate(size_t i) const { return static_cast<double>(buckets_[i].count) / interval_.seconds(); }

 private:
  Duration interval_;
  std::vector<Bucket> buckets_;
};

}  // namespace citybed::sim
