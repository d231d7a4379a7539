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
  counts_.assign(BucketCount(), 0);
}

size_t LatencyHistogram::BucketCount() const { return IndexOf((uint64_t{1} << kMaxValueBits) - 1) + 1; }

template <class F>
void LatencyHistogram::Visit(F&& f) const {
  if (compact_) {
    for (uint64_t e : sparse_) {
      if (!f(static_cast<size_t>(e >> kCountBits), e & kCountMask)) return;
    }
    return;
  }
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0 && !f(i, counts_[i])) return;
  }
}

void LatencyHistogram::AddToBucket(size_t index, uint64_t count) {
  if (!compact_) {
    counts_[index] += count;
    return;
  }
  const uint64_t key = uint64_t{index} << kCountBits;
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), key);
  if (it != sparse_.end() && (*it >> kCountBits) == index && (*it & kCountMask) + count <= kCountMask) {
    *it += count;
  } else if (it != sparse_.end() && (*it >> kCountBits) == index) {
    // A bucket beyond 2^44 in the sparse form: go back to the dense one.
    counts_.assign(BucketCount(), 0);
    for (uint64_t e : sparse_) counts_[e >> kCountBits] += e & kCountMask;
    sparse_.clear();
    sparse_.shrink_to_fit();
    compact_ = false;
    counts_[index] += count;
  } else {
    sparse_.insert(it, key | std::min(count, kCountMask));
    if (count > kCountMask) AddToBucket(index, count - kCountMask);
  }
}

void LatencyHistogram::Compact() {
  if (compact_) return;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    if (counts_[i] > kCountMask) return;  // keep dense: a count the sparse form cannot hold
  }
  sparse_.clear();
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) sparse_.push_back((uint64_t{i} << kCountBits) | counts_[i]);
  }
  sparse_.shrink_to_fit();
  counts_.clear();
  counts_.shrink_to_fit();
  compact_ = true;
}

size_t LatencyHistogram::MemoryBytes() const {
  return sizeof(*this) + counts_.capacity() * sizeof(uint64_t) + sparse_.capacity() * sizeof(uint64_t);
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
  AddToBucket(IndexOf(capped), count);
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
  if (!compact_ && !other.compact_) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  } else {
    other.Visit([this](size_t i, uint64_t c) {
      AddToBucket(i, c);
      return true;
    });
  }
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  sparse_.clear();
  sparse_.shrink_to_fit();
  compact_ = false;
  counts_.assign(BucketCount(), 0);
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
  int64_t found = max_;
  Visit([&](size_t i, uint64_t c) {
    seen += c;
    if (seen < rank) return true;
    const int64_t lo = LowestOf(i), hi = HighestOf(i);
    found = std::clamp(lo + (hi - lo + 1) / 2, min_, max_);
    return false;
  });
  return found;
}

double LatencyHistogram::FractionAtOrBelow(int64_t v) const {
  if (count_ == 0) return 0;
  if (v < 0) return 0;
  const size_t last = IndexOf(std::min<uint64_t>(static_cast<uint64_t>(v),
                                                 (uint64_t{1} << kMaxValueBits) - 1));
  uint64_t seen = 0;
  Visit([&](size_t i, uint64_t c) {
    if (i > last) return false;
    seen += c;
    return true;
  });
  return static_cast<double>(seen) / static_cast<double>(count_);
}

void LatencyHistogram::ForEachBucket(
    const std::function<void(int64_t, int64_t, uint64_t)>& f) const {
  Visit([&](size_t i, uint64_t c) {
    f(LowestOf(i), HighestOf(i), c);
    return true;
  });
}

}  // namespace citybed::sim
