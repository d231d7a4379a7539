#include "citybed/sim/stats.h"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <stdexcept>

namespace citybed::sim {

void RunningStats::Add(double x) {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
  if (x < min_) min_ = x;
  if (x > max_) max_ = x;
}

void RunningStats::Merge(const RunningStats& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  const double n = static_cast<double>(n_ + o.n_);
  const double delta = o.mean_ - mean_;
  mean_ += delta * static_cast<double>(o.n_) / n;
  m2_ += o.m2_ + delta * delta * static_cast<double>(n_) * static_cast<double>(o.n_) / n;
  n_ += o.n_;
  if (o.min_ < min_) min_ = o.min_;
  if (o.max_ > max_) max_ = o.max_;
}

double RunningStats::StdDev() const { return std::sqrt(Variance()); }

double StudentTQuantile(double level, double dof) {
  if (!(level > 0 && level < 1)) throw std::invalid_argument("confidence level must be in (0, 1)");
  if (!(dof > 0)) throw std::invalid_argument("degrees of freedom must be > 0");
  boost::math::students_t dist(dof);
  return boost::math::quantile(dist, 0.5 + level / 2);
}

size_t MserTruncation(const std::vector<double>& series, size_t batch) {
  if (batch == 0) batch = 1;
  const size_t n = series.size() / batch;
  if (n < 4) return 0;
  std::vector<double> means(n);
  for (size_t b = 0; b < n; ++b) {
    double sum = 0;
    for (size_t k = 0; k < batch; ++k) sum += series[b * batch + k];
    means[b] = sum / static_cast<double>(batch);
  }
  // Suffix sums of Y and Y²: the statistic of every d in one pass from the end.
  std::vector<double> s1(n + 1, 0.0), s2(n + 1, 0.0);
  for (size_t b = n; b-- > 0;) {
    s1[b] = s1[b + 1] + means[b];
    s2[b] = s2[b + 1] + means[b] * means[b];
  }
  size_t best = 0;
  double best_value = std::numeric_limits<double>::infinity();
  for (size_t d = 0; d <= n / 2; ++d) {
    const double m = static_cast<double>(n - d);
    const double sse = std::max(0.0, s2[d] - s1[d] * s1[d] / m);
    const double value = sse / (m * m);
    if (value < best_value) best_value = value, best = d;
  }
  return best * batch;
}

ConfidenceInterval MeanConfidenceInterval(const std::vector<double>& values, double level) {
  RunningStats s;
  for (double v : values) s.Add(v);
  ConfidenceInterval ci;
  ci.level = level;
  ci.n = s.Count();
  ci.mean = s.Mean();
  if (s.Count() < 2) {
    ci.half_width = std::numeric_limits<double>::infinity();
  } else {
    const double n = static_cast<double>(s.Count());
    ci.half_width = StudentTQuantile(level, n - 1) * s.StdDev() / std::sqrt(n);
  }
  return ci;
}

TimeSeries::TimeSeries(Duration interval) : interval_(interval) {
  if (interval.ns() <= 0) throw std::invalid_argument("TimeSeries: interval must be > 0");
}

void TimeSeries::Add(Time t, double value) {
  if (t.ns() < 0) return;
  const size_t i = static_cast<size_t>(t.ns() / interval_.ns());
  if (i >= buckets_.size()) buckets_.resize(i + 1);
  Bucket& b = buckets_[i];
  ++b.count;
  b.sum += value;
  if (value < b.min) b.min = value;
  if (value > b.max) b.max = value;
}

}  // namespace citybed::sim
