// What `calibrate` and `validate-model` share: the broker's part of each answer's latency, per
// operation; the scenario's mean offered rate; the speed that makes a scenario offer a given
// rate over a given wall time; the broker's CPU from its metrics.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "citybed/models/observer.h"
#include "citybed/models/scenario.h"
#include "citybed/models/world.h"
#include "citybed/sim/histogram.h"

namespace citybed::app {

// Per operation and over all, from `from` on: answers (2xx) and the broker's part of their
// latency (latency − the simulated network: the broker, the wait for a connection, the client's
// own work), ns.
struct BrokerPartCollector final : models::RunObserver {
  sim::Time from;
  std::array<uint64_t, static_cast<size_t>(models::OpKind::kCount)> ok{};
  std::array<sim::LatencyHistogram, static_cast<size_t>(models::OpKind::kCount)> broker{
      sim::LatencyHistogram{3}, sim::LatencyHistogram{3}, sim::LatencyHistogram{3}, sim::LatencyHistogram{3},
      sim::LatencyHistogram{3}};
  sim::LatencyHistogram all{3};
  uint64_t failed = 0;
  void OnRequest(const models::RequestRecord& r) override;
  void OnNotification(const models::NotificationRecord&) override {}
};

// The scenario's expected request rate (World::OfferedAt) averaged over [from, duration], per
// simulated second.
double MeanOffered(const models::World& world, sim::Duration duration, sim::Duration from = sim::Duration());

// Sets s.speed and s.duration so that the scenario offers `rate` requests per wall second over
// `window` of wall time (the duration stretched to window × speed; the warm-up a tenth of it).
// False when the scenario offers nothing.
bool ScaleToRate(models::Scenario& s, double rate, sim::Duration window);

// CPU seconds of the broker at `url` (serving, notifier and forwarder threads) from its
// GET /metrics?format=json; -1 when it does not say.
double BrokerCpuSeconds(const std::string& url);

}  // namespace citybed::app
