// Calibration: what `citybed calibrate` measured of a broker, and what model mode serves
// requests by (docs/capacity.md). Read from and written to calibration.json
// ("format": "citybed-calibration/1").
//
// Per operation class (citybed/common/op_class.h): the service time — the handler's wall time
// on its serving thread, kept as an empirical distribution (the broker's log-linear buckets,
// ≤ 6.25 % relative error, sampled by inversion with interpolation inside a bucket) — the status
// mix and the mean answer size. For the broker as a whole: the per-request overhead on the
// serving thread outside handlers (HTTP parsing and writing: the utilisation law's remainder),
// the fixed delay outside the broker's threads (loopback and the client), the notifier's cost
// per notification, the throughput against concurrency with its USL fit, and the domain it is
// valid for (threads, entities, operation mix, the highest load measured).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "citybed/common/expected.h"
#include "citybed/common/op_class.h"
#include "citybed/sim/queueing_theory.h"
#include "citybed/sim/random.h"
#include "citybed/sim/time.h"

namespace citybed::models {

// An empirical distribution of durations from histogram buckets: (upper bound s, count) pairs
// in increasing order; a bucket's lower bound is the previous one's upper (0 for the first).
class EmpiricalDuration {
 public:
  EmpiricalDuration() = default;
  // `contiguous`: each bucket starts where the previous ends (the first at `lowest`); otherwise
  // buckets are the broker's (1/8 of an octave wide).
  explicit EmpiricalDuration(std::vector<std::pair<double, uint64_t>> buckets, bool contiguous = false, double lowest = 0);
  // A point mass (tests, and classes measured from outside only).
  static EmpiricalDuration Constant(double seconds);
  // Equal-probability pieces between successive quantiles (increasing), uniform inside each,
  // the first from 0 — or from `lowest` when given.
  static EmpiricalDuration FromQuantiles(const std::vector<double>& quantiles, double lowest = 0);

  double Sample(sim::Rng& rng) const;  // seconds
  double Mean() const { return mean_; }
  double SquaredCv() const;            // variance / mean²
  double Quantile(double q) const;     // q in [0, 1]
  uint64_t samples() const { return samples_; }
  bool empty() const { return samples_ == 0; }
  bool constant() const { return constant_; }
  bool contiguous() const { return contiguous_; }
  double lowest() const { return lowest_; }
  const std::vector<std::pair<double, uint64_t>>& buckets() const { return buckets_; }

 private:
  std::vector<std::pair<double, uint64_t>> buckets_;
  std::vector<double> cdf_;  // cumulative probability at each upper bound
  uint64_t samples_ = 0;
  double mean_ = 0, second_ = 0;
  bool constant_ = false;
  bool contiguous_ = false;  // a bucket starts where the previous ends (else: the broker's bucket width)
  double lowest_ = 0;
  std::vector<double> lowers_;  // contiguous: each piece's lower bound
  double Lower(size_t i) const;
};

struct ClassCalibration {
  EmpiricalDuration service;   // the handler's wall time
  double cpu_mean_s = 0;       // its CPU time, mean
  double response_p50_s = 0, response_p99_s = 0;  // at the client, one request at a time
  double answer_bytes = 0;     // mean answer body size
  double share = 0;            // of the calibration workload's requests
  std::vector<std::pair<int, double>> statuses;  // status → probability
  int StatusFor(double u) const;  // the status at cumulative probability u ∈ [0, 1)
};

struct SweepPoint {
  int concurrency = 0;
  double throughput = 0;       // answers per second
  double mean_response_s = 0, p99_response_s = 0;
  double cpu_utilisation = 0;  // broker CPU seconds per second (all its threads)
  double demand_s = 0;         // serving threads' CPU per request at this concurrency (0: unknown)
  uint64_t requests = 0;
};

// One open-loop point, measured through citybed's own client (the emulation path).
struct RatePoint {
  double rate = 0;             // answers per second
  double cpu_per_request = 0;  // the broker process's CPU per request
  double cpu_factor = 1;       // that, over what the model's demands (handlers, overhead, notifications) add up to
  EmpiricalDuration client_delay;  // the broker's part less the M/G/1 sojourn at this load
  // The same per class, where the class had enough answers (its own service time subtracted).
  std::array<EmpiricalDuration, kOpClasses> client_delay_by_class;
};

struct Calibration {
  std::string format = "citybed-calibration/1";
  std::string created_utc;
  std::string broker;          // "embedded" or the URL
  std::string broker_version;
  std::string confidence;      // "broker-metrics" (per-class from the broker) or "black-box"
  std::string machine;         // CPU model, cores, kernel
  std::string isolation;       // how the broker and the load generator shared the machine
  std::string scenario;        // the workload it was measured with: file name, sha256, seed
  int threads = 1;             // the broker's serving threads
  uint64_t entities = 0;       // stored when measured
  std::array<std::optional<ClassCalibration>, kOpClasses> classes;
  double overhead_s = 0;       // per request, on the serving thread, outside handlers
  double fixed_delay_s = 0;    // per request, outside the broker's serving threads (mean)
  // Its distribution, when measured through citybed's own client at low load (emulation's path):
  // the broker's part of the latency less the mix's mean service demand; empty: the constant.
  EmpiricalDuration client_delay;
  double notify_service_s = 0; // notifier CPU per notification delivered
  double fan_out = 0;          // notifications per entity change, as measured
  // Of the notifications a write would trigger by tenant and type alone, the share the
  // subscriptions' q, watchedAttributes and throttling let through (measured; 1: all).
  double notify_selectivity = 1;
  std::vector<SweepPoint> sweep;
  std::vector<RatePoint> open_loop;  // by increasing rate
  int broker_cores = 0;        // CPUs the broker process had (0: unknown); 1 when pinned
  sim::UslFit usl;
  double capacity_rps = 0;     // the highest throughput measured (the closed-loop sweep's peak)
  // Through citybed's own open-loop client: the broker's cores over its CPU per request at the
  // highest open-loop point, no more than the closed-loop peak (0: no open-loop point was
  // counted). Lower than the closed-loop peak when the broker's
  // threads wake more often per request at a steady rate than under a closed loop.
  double open_loop_capacity_rps = 0;
  // What loads are fractions of (validate-model, the domain check): the open-loop capacity when
  // measured, else the closed-loop peak.
  double Capacity() const { return open_loop_capacity_rps > 0 ? open_loop_capacity_rps : capacity_rps; }
  // The utilisation law: broker serving CPU against what the handlers and the overhead account for.
  double cpu_accounted_ratio = 0;
  std::vector<std::string> warnings;
  // What `citybed validate-model` found (null: never validated): when, against which workload,
  // whether the gates held, the largest errors.
  nlohmann::json validation;
  // "validated", "uncalibrated" (validation failed) or "not validated".
  std::string Standing() const;
  std::string sha256;          // of the file it was read from (set by Load)
  std::string path;

  const ClassCalibration* of(OpClass c) const {
    const auto& v = classes[static_cast<size_t>(c)];
    return v ? &*v : nullptr;
  }
  // The servers of the model's station: the serving threads, but no more than the cores the
  // broker had (a broker pinned to one CPU serves one request at a time however many threads).
  int Servers() const { return broker_cores > 0 ? std::min(threads, broker_cores) : threads; }
  // The mean service demand per request of the calibration's mix (handler + overhead), s.
  double MeanDemand() const;
  // How much longer a request takes to serve with `n` requests in the broker than alone: the
  // serving CPU per request measured at concurrency n over that at concurrency 1 (interpolated in
  // log n, held beyond the sweep; 1 when the sweep did not measure it). The load-dependent
  // server of model mode.
  double DemandScale(double n) const;
  // The open-loop points' CPU factor at `rate` req/s (linear between points, held beyond); 1
  // without points. The model scales every demand by it.
  double CpuFactor(double rate) const;
  // The client delay of a `cls` request at `rate`: the nearest open-loop point's (in log rate),
  // its class's when measured; else client_delay.
  const EmpiricalDuration& ClientDelay(double rate, OpClass cls) const;
  // The squared coefficient of variation of the mix's service time (handler + overhead).
  double MixSquaredCv() const;

  nlohmann::json ToJson() const;
  static Expected<Calibration> FromJson(const nlohmann::json& j);
  static Expected<Calibration> Load(const std::string& path);
};

}  // namespace citybed::models
