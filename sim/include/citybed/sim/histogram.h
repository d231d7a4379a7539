// LatencyHistogram: a mergeable log-linear histogram of non-negative integer values (we record
// nanoseconds), in the style of HdrHistogram.
//
// Buckets: values below 2·S are counted exactly (S = 2^sub_bucket_bits); above, every power
// of two is split into S equal buckets. A bucket's representative value (its midpoint) is
// within 1/(2·S) of every value in it: with the default S = 128 that is <= 0.39 % relative
// error, well inside 1 % from 1 µs to 1 h. Values up to 2^43 ns (2.4 h) are bucketed; larger
// values land in the last bucket (count, min, max and mean stay exact).
//
// Memory: (45 - sub_bucket_bits) · S counters (37 KiB at the default; 5 KiB at
// sub_bucket_bits = 4, ~3 % error), and Record is O(1) with no allocation. Compact() switches a
// histogram that will rarely change again (a closed interval of a time series) to a sparse
// form of 8 bytes per non-empty bucket, where Record costs a binary search and an insertion;
// every query answers the same in both forms. Count, min, max and sum are exact. Merge requires
// equal sub_bucket_bits. Not thread-safe: keep one per thread and Merge.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace citybed::sim {

class LatencyHistogram {
 public:
  static constexpr int kMaxValueBits = 43;

  explicit LatencyHistogram(int sub_bucket_bits = 7);

  void Record(int64_t value, uint64_t count = 1);
  void Merge(const LatencyHistogram& other);
  void Reset();  // empty, in the dense form
  void Compact();
  bool compact() const { return compact_; }
  size_t MemoryBytes() const;

  uint64_t Count() const { return count_; }
  int64_t Min() const { return count_ ? min_ : 0; }
  int64_t Max() const { return count_ ? max_ : 0; }
  double Mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double Sum() const { return sum_; }

  // The smallest recorded value v such that at least p % of the values are <= v, reported as
  // its bucket's representative and clamped to [Min(), Max()]. p in [0, 100]; 0 gives Min(),
  // 100 gives Max(). 0 for an empty histogram.
  int64_t ValueAtPercentile(double p) const;
  // Fraction of recorded values <= v (to bucket resolution).
  double FractionAtOrBelow(int64_t v) const;

  int sub_bucket_bits() const { return sub_bits_; }
  // Largest relative error of a reported value against the true value, 1/(2·S).
  double RelativeError() const { return 1.0 / (2.0 * static_cast<double>(sub_count_)); }

  // Visits every non-empty bucket as (lowest value, highest value, count), ascending.
  void ForEachBucket(const std::function<void(int64_t lo, int64_t hi, uint64_t count)>& f) const;

 private:
  size_t IndexOf(uint64_t v) const;
  int64_t LowestOf(size_t index) const;
  int64_t HighestOf(size_t index) const;
  size_t BucketCount() const;
  void AddToBucket(size_t index, uint64_t count);
  // Visits non-empty buckets in ascending order as (index, count) until f returns false.
  template <class F>
  void Visit(F&& f) const;

  // Sparse entries: bucket index in the high 20 bits, count in the low 44.
  static constexpr int kCountBits = 44;
  static constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;

  int sub_bits_;
  uint64_t sub_count_;
  std::vector<uint64_t> counts_;  // dense form
  std::vector<uint64_t> sparse_;  // compact form, sorted by index
  bool compact_ = false;
  uint64_t count_ = 0;
  int64_t min_ = std::numeric_limits<int64_t>::max();
  int64_t max_ = 0;
  double sum_ = 0;
};

}  // namespace citybed::sim
