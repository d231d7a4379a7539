// RunEmulation: the core loop of citybed. The World's sources and users are paced to the wall
// clock by the real-time executor and send real requests to a real broker; every response and
// notification is reported to a RunObserver.
//
// - Open loop: a request leaves at its scheduled time whatever is still outstanding, and its
//   latency runs from that intended time — time waiting for a free connection and executor lag
//   count, so an overloaded broker shows as latency, not as a lower send rate.
// - Network: a request first pays its region's uplink (propagation + serialization of its bytes,
//   losses cost retransmission timeouts, or the request fails after the last retry); the real
//   response then pays the downlink. Simulated delays are in simulated time; the broker's part is
//   real wall time (it is not scaled by `speed`).
// - Notifications arrive at an HTTP listener inside citybed; freshness = arrival at the
//   subscriber (after its downlink) − the observation time the entity carries.
// - Health: the executor's lag, outstanding requests and connection waits are measured; a run
//   whose lag exceeded its bound, or whose broker vanished, is invalid and says why.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "citybed/models/observer.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/http_client.h"
#include "citybed/sim/realtime.h"

namespace citybed::models {

struct EmulationProgress {
  sim::Time now;
  sim::Duration duration;
  double wall_seconds = 0;
  uint64_t sent = 0, completed = 0, failed = 0, outstanding = 0;
};

struct EmulationOptions {
  std::string broker_url;  // http://host:port
  std::string listen_host = "127.0.0.1";  // where notifications are received
  std::function<void(const EmulationProgress&)> on_progress;  // about once per wall second
  const std::atomic<bool>* interrupt = nullptr;  // set (e.g. by SIGINT) to end the run early
};

struct EmulationResult {
  bool reached_end = false;   // ran for the whole duration
  bool interrupted = false;   // ended by `interrupt`
  bool broker_lost = false;   // the broker stopped answering (or never did)
  std::vector<std::string> invalid_reasons;
  std::string broker_version;  // the body of GET /version, if it answered
  std::string notification_url;
  sim::RealtimeReport executor;
  sim::HttpClientStats pool;
  sim::LatencyHistogram pool_wait{4};  // ns a request waited for a connection
  uint64_t sent = 0, completed = 0, failed = 0, network_failures = 0, skipped = 0;
  uint64_t max_outstanding = 0;
  uint64_t notifications = 0, notified_entities = 0, notification_errors = 0;
  uint64_t subscriptions = 0, subscriptions_failed = 0;  // sent; answered with an error (warm-up included)
  sim::Time end;
  double wall_seconds = 0;
  bool valid() const { return invalid_reasons.empty(); }
};

EmulationResult RunEmulation(World& world, BrokerProtocol& protocol, const EmulationOptions& options,
                             RunObserver& observer);

}  // namespace citybed::models
