#include "citybed/broker/service_metrics.h"

#include <bit>
#include <cmath>
#include <limits>

#include "citybed/broker/json_writer.h"
#include "citybed/broker/metrics.h"

namespace citybed::broker {

int DurationHistogram::BucketOf(int64_t ns) {
  if (ns < 1000) return 0;
  const auto us_scaled = static_cast<uint64_t>(ns) * 8 / 1000;  // eighths of a µs
  const int octave = std::bit_width(us_scaled / 8) - 1;      // floor(log2(µs))
  if (octave >= kOctaves) return kBuckets - 1;
  // Within the octave [2^o, 2^(o+1)) µs: 8 equal slices.
  const int slice = static_cast<int>((us_scaled >> octave) - 8);
  return 1 + octave * kPerOctave + std::min(slice, kPerOctave - 1);
}

double DurationHistogram::UpperSeconds(int i) {
  if (i <= 0) return 1e-6;
  if (i >= kBuckets - 1) return std::numeric_limits<double>::infinity();
  const int octave = (i - 1) / kPerOctave, slice = (i - 1) % kPerOctave;
  return std::ldexp(1.0 + (slice + 1) / static_cast<double>(kPerOctave), octave) * 1e-6;
}

void DurationHistogram::Record(int64_t ns) {
  if (ns < 0) ns = 0;
  buckets_[static_cast<size_t>(BucketOf(ns))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

namespace {

// A Prometheus histogram with one bucket per octave (le = 1 µs · 2^k).
void AppendHistogram(std::string& out, std::string_view name, const std::string& labels, const DurationHistogram& h) {
  const uint64_t count = h.count();
  if (count == 0) return;
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = h.bucket(0);
  char le[32];
  AppendMetric(out, std::string(name) + "_bucket", labels + sep + "le=\"1e-06\"", static_cast<double>(cumulative));
  for (int o = 0; o < DurationHistogram::kOctaves; ++o) {
    for (int s = 0; s < DurationHistogram::kPerOctave; ++s) cumulative += h.bucket(1 + o * DurationHistogram::kPerOctave + s);
    std::snprintf(le, sizeof le, "%g", std::ldexp(1.0, o + 1) * 1e-6);
    AppendMetric(out, std::string(name) + "_bucket", labels + sep + "le=\"" + le + "\"", static_cast<double>(cumulative));
  }
  AppendMetric(out, std::string(name) + "_bucket", labels + sep + "le=\"+Inf\"", static_cast<double>(count));
  AppendMetric(out, std::string(name) + "_sum", labels, h.sum_seconds());
  AppendMetric(out, std::string(name) + "_count", labels, static_cast<double>(count));
}

void WriteHistogram(JsonWriter& w, const DurationHistogram& h) {
  w.BeginObject();
  w.Key("count");
  w.Int(static_cast<int64_t>(h.count()));
  w.Key("sum");
  w.Number(h.sum_seconds());
  w.Key("buckets");
  w.BeginArray();
  for (int i = 0; i < DurationHistogram::kBuckets; ++i) {
    const uint64_t n = h.bucket(i);
    if (n == 0) continue;
    w.BeginArray();
    w.Int(i);
    w.Int(static_cast<int64_t>(n));
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

void ServiceMetrics::RenderPrometheus(std::string& out) const {
  AppendMetricHeader(out, "citybed_service_seconds", "histogram",
                     "Time in the request handler by operation class; clock=wall or cpu (the thread's CPU clock).");
  for (size_t c = 0; c < kOpClasses; ++c) {
    const std::string cls = "class=\"" + std::string(OpClassName(static_cast<OpClass>(c))) + "\"";
    AppendHistogram(out, "citybed_service_seconds", cls + ",clock=\"wall\"", classes_[c].wall);
    AppendHistogram(out, "citybed_service_seconds", cls + ",clock=\"cpu\"", classes_[c].cpu);
  }
  AppendMetricHeader(out, "citybed_read_seconds", "histogram",
                     "From the first bytes of a request its serving thread processed to the handler, by class.");
  for (size_t c = 0; c < kOpClasses; ++c) {
    AppendHistogram(out, "citybed_read_seconds", "class=\"" + std::string(OpClassName(static_cast<OpClass>(c))) + "\"",
                    classes_[c].read);
  }
  AppendMetricHeader(out, "citybed_in_flight", "gauge", "Requests in a handler or awaiting a deferred answer, by class.");
  for (size_t c = 0; c < kOpClasses; ++c) {
    if (static_cast<OpClass>(c) == OpClass::kNotification) continue;
    AppendMetric(out, "citybed_in_flight", "class=\"" + std::string(OpClassName(static_cast<OpClass>(c))) + "\"",
                 static_cast<double>(classes_[c].in_flight.load(std::memory_order_relaxed)));
  }
  AppendMetricHeader(out, "citybed_notification_delivery_seconds", "histogram",
                     "From a notification's queueing to its subscriber's 2xx answer.");
  AppendHistogram(out, "citybed_notification_delivery_seconds", "", delivery_);
}

void ServiceMetrics::RenderJson(std::string& out) const {
  JsonWriter w(out);
  w.BeginObject();
  w.Key("bucket_upper_seconds");
  w.BeginArray();
  for (int i = 0; i + 1 < DurationHistogram::kBuckets; ++i) w.Number(DurationHistogram::UpperSeconds(i));
  w.Null();  // the last bucket has no upper bound
  w.EndArray();
  w.Key("classes");
  w.BeginObject();
  for (size_t c = 0; c < kOpClasses; ++c) {
    if (static_cast<OpClass>(c) == OpClass::kNotification) continue;
    const ClassStats& s = classes_[c];
    w.Key(OpClassName(static_cast<OpClass>(c)));
    w.BeginObject();
    w.Key("count");
    w.Int(static_cast<int64_t>(s.wall.count()));
    w.Key("in_flight");
    w.Int(s.in_flight.load(std::memory_order_relaxed));
    w.Key("wall");
    WriteHistogram(w, s.wall);
    w.Key("cpu");
    WriteHistogram(w, s.cpu);
    w.Key("read");
    WriteHistogram(w, s.read);
    w.EndObject();
  }
  w.EndObject();
  w.Key("notification_delivery");
  WriteHistogram(w, delivery_);
  w.EndObject();
}

}  // namespace citybed::broker
