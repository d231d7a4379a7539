#include "citybed/sim/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace citybed::sim {

LatencyHistogram::LatencyHistogram(int sub_bucket_bits)
    : sub_bits_(sub_bucket_bits), sub_count_(uint64_t{1} << sub_bucket_bits) {
  if (sub_bucket_bits < 1 || sub_bucket_bits > 14) {
    throw std::invalid_argument("LatencyHistogram: sub_bucket_bits must be in 1..14");
  }
  // Exponents e = 1 .. kMaxValueBits-1-sub_bits, plus the exact range [0, 2S).
  counts_.assign(IndexOf((uint64_t{1} << kMaxValueBits) - 1) + 1, 0);
}

// v < 2S: index v. Otherwise, with e = floor(log2 v) - sub_bits >= 1: index S·e + (v >> e),
// which runs on from 2S without gaps.
size_t LatencyHistogram::IndexOf(uint64_t v) const {
  if (v < 2 * sub_count_) return static_cast<size_t>(v);
  const int e = std::bit_width(v) - 1 - sub_bits_;
  return static_cast<size_t>(sub_count_ * static_cast<uint64_t>(e) + (v >> e));
}

int64_t LatencyHistogram::LowestOf(size_t index) const {
  if (index < 2 * sub_count_) return static_cast<int64_t>(index);
  const uint64_t e = index / sub_count_ - 1;
  const uint64_t mantissa = index - sub_count_ * e;  // in [S, 2S)
  return static_cast<int64_t>(mantissa << e);
}

int64_t LatencyHistogram::HighestOf(size_t index) const {
  if (index < 2 * sub_count_) return static_cast<int64_t>(index);
  const uint64_t e = index / sub_count_ - 1;
  return LowestOf(index) + static_cast<int64_t>((uint64_t{1} << e) - 1);
}

void LatencyHistogram::Record(int64_t value, uint64_t count) {
  if (count == 0) return;
  if (value < 0) value = 0;
  const uint64_t capped = std::min<uint64_t>(static_cast<uint64_t>(value),
                                             (uint64_t{1} << kMaxValueBits) - 1);
  counts_[IndexOf(capped)] += count;
  count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value) * static_cast<double>(count);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.sub_bits_ != sub_bits_) {
    throw std::invalid_argument("LatencyHistogram::Merge: different sub_bucket_bits");
  }
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = std::numeric_limits<int64_t>::max();
  max_ = 0;
  sum_ = 0;
}

int64_t LatencyHistogram::ValueAtPercentile(double p) const {
  if (count_ == 0) return 0;
  if (p <= 0) return min_;
  if (p >= 100) return max_;
  const double exact_rank = p / 100.0 * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(exact_rank - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int64_t lo = LowestOf(i), hi = HighestOf(i);
      const int64_t mid = lo + (hi - lo + 1) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

double LatencyHistogram::FractionAtOrBelow(int64_t v) const {
  if (count_ == 0) return 0;
  if (v < 0) return 0;
  const size_t last = IndexOf(std::min<uint64_t>(static_cast<uint64_t>(v),
                                                 (uint64_t{1} << kMaxValueBits) - 1));
  uint64_t seen = 0;
  for (size_t i = 0; i <= last; ++i) seen += counts_[i];
  return static_cast<double>(seen) / static_cast<double>(count_);
}

void LatencyHistogram::ForEachBucket(
    const std::function<void(int64_t, int64_t, uint64_t)>& f) const {
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) f(LowestOf(i), HighestOf(i), counts_[i]);
  }
}

}  // namespace citybed::sim
