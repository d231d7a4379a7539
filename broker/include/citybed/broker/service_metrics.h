// ServiceMetrics: what each class of work costs the broker (citybed/common/op_class.h), measured
// at the handler — the inputs of `citybed calibrate` and of the queueing model (docs/capacity.md).
// Per class of request:
//   service wall time   the handler's run on its serving thread (parse of the JSON body, the
//                       store, matching subscriptions, rendering the answer), wall clock
//   service CPU time    the same span in the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID), for
//                       one request in 8 at random (the clock is a system call): its count is
//                       about an eighth of the wall histogram's, its mean unbiased
//   read time           from the first bytes of the request the thread processed to the handler:
//                       reading a body that came in several pieces; the wait in the kernel's
//                       socket buffer while the thread was busy is not visible here (the
//                       calibrator measures it from outside, as the fixed delay)
//   in flight           requests in the handler or awaiting a deferred answer, now
// and for notifications: the delivery time (queued → answered 2xx), and the fan-out (notifications
// queued per entity change) from the subscription manager.
// Durations go in log-linear buckets, 8 per octave from 1 µs (≤ 6.25 % relative error), kept
// lock-free; GET /metrics renders them as Prometheus histograms with a bucket per octave, and
// GET /metrics?format=json gives every bucket (the calibrator's input).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "citybed/common/op_class.h"

namespace citybed::broker {

class DurationHistogram {
 public:
  static constexpr int kPerOctave = 8;
  static constexpr int kOctaves = 25;                         // 1 µs .. 33.5 s
  static constexpr int kBuckets = 2 + kPerOctave * kOctaves;  // [0]: < 1 µs; last: beyond

  void Record(int64_t ns);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum_seconds() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9; }
  uint64_t bucket(int i) const { return buckets_[static_cast<size_t>(i)].load(std::memory_order_relaxed); }
  // The upper bound of bucket i in seconds (infinity for the last).
  static double UpperSeconds(int i);
  static int BucketOf(int64_t ns);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0}, sum_ns_{0};
};

class ServiceMetrics {
 public:
  struct ClassStats {
    DurationHistogram wall, cpu, read;
    std::atomic<int64_t> in_flight{0};
  };
  ClassStats& of(OpClass c) { return classes_[static_cast<size_t>(c)]; }
  const ClassStats& of(OpClass c) const { return classes_[static_cast<size_t>(c)]; }
  DurationHistogram& delivery() { return delivery_; }

  // Appends the Prometheus families citybed_service_seconds{class,clock}, citybed_read_seconds,
  // citybed_in_flight{class}, citybed_notification_delivery_seconds.
  void RenderPrometheus(std::string& out) const;
  // {"bucket_upper_seconds": [...], "classes": {"upsert": {"count", "in_flight", "wall": {"sum",
  //  "buckets"}, "cpu": ..., "read": ...}, ...}, "notification_delivery": {...}}; only non-zero
  //  buckets are listed, as [index, count] pairs.
  void RenderJson(std::string& out) const;

 private:
  std::array<ClassStats, kOpClasses> classes_;
  DurationHistogram delivery_;
};

}  // namespace citybed::broker
