// The broker model driven straight through its port, for tests that check it (or what is built
// on it) against queueing theory: exponential service as 1 %-wide buckets, a one-class
// calibration, Poisson arrivals of batch upserts and the mean time at the broker.
#pragma once

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "citybed/models/calibration.h"
#include "citybed/models/model_port.h"
#include "citybed/models/world.h"
#include "citybed/sim/stats.h"

namespace citybed::testing {

using namespace citybed::models;
using citybed::sim::Duration;

// An exponential distribution of mean `mean` s as the broker's buckets would hold it, but finer
// (1 % wide), from 10^9 samples' worth of probability.
inline EmpiricalDuration ExponentialBuckets(double mean) {
  std::vector<std::pair<double, uint64_t>> b;
  double prev = 0;
  for (double u = mean * 1e-4; u < mean * 30; u *= 1.01) {
    const double p = std::exp(-prev / mean) - std::exp(-u / mean);
    b.emplace_back(u, static_cast<uint64_t>(std::llround(p * 1e9)));
    prev = u;
  }
  return EmpiricalDuration(std::move(b));
}

inline Calibration OneClass(EmpiricalDuration service, int threads) {
  Calibration c;
  c.threads = threads;
  ClassCalibration cc;
  cc.service = std::move(service);
  cc.share = 1;
  cc.statuses = {{204, 1.0}};
  c.classes[static_cast<size_t>(OpClass::kBatchUpsert)] = std::move(cc);
  return c;
}

// Poisson arrivals of batch upserts straight into the port; the mean time at the broker
// (queueing + service) of requests warmup+1 .. warmup+n.
struct Driver final : PortClient {
  std::vector<double> sojourn;
  uint64_t done = 0;
  void OnPortDone(uint32_t, PortOutcome& o) override {
    ++done;
    sojourn.push_back(o.broker.seconds());
  }
};

inline double MeanSojourn(World& world, const Calibration& cal, double lambda, int warmup, int n, uint64_t rep) {
  sim::Engine engine;
  ModelBrokerPort port(engine, cal, world, 1, sim::RngStreams(99, rep));
  Driver d;
  port.Bind(d);
  sim::Rng arrivals = sim::RngStreams(99, rep).Stream("test/arrivals");
  const sim::Exponential gap{1 / lambda};
  uint32_t slot = 0;
  std::function<void()> arrive = [&] {
    port.Submit(slot++, 0, "POST /ngsi-ld/v1/entityOperations/upsert HTTP/1.1\r\n\r\n[]", Duration::Max());
    if (static_cast<int>(slot) < warmup + n) engine.ScheduleIn(Duration::Seconds(gap(arrivals)), arrive);
  };
  engine.ScheduleIn(Duration::Seconds(gap(arrivals)), arrive);
  engine.Run();
  REQUIRE(d.done == static_cast<uint64_t>(warmup + n));
  double sum = 0;
  for (size_t i = static_cast<size_t>(warmup); i < d.sojourn.size(); ++i) sum += d.sojourn[i];
  return sum / n;
}

inline sim::ConfidenceInterval Replicate(World& world, const Calibration& cal, double lambda, int reps, int n) {
  std::vector<double> means;
  for (int r = 0; r < reps; ++r) means.push_back(MeanSojourn(world, cal, lambda, n / 10, n, static_cast<uint64_t>(r)));
  return sim::MeanConfidenceInterval(means, 0.95);
}

// One region, no network delay, connections enough for any queue: the broker alone.
inline constexpr const char* kBare = R"({"name": "t", "duration": "10s",
  "broker": {"timeout": "1h", "connections": 4096},
  "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
  "network": {"nodes": [{"id": "gw"}, {"id": "dc"}], "links": [{"from": "gw", "to": "dc", "latency": "0s"}],
              "broker_node": "dc", "access": {"regions": {"a": {"node": "gw", "latency": "0s"}}}},
  "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]})";

}  // namespace citybed::testing
