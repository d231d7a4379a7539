// RunEmulation: the core loop of citybed. The World's workload (workload.h) is paced to the wall
// clock by the real-time executor; the RequestDriver carries each request over the simulated
// network to the HttpBrokerPort, which sends it to a real broker; every request and every
// notification is reported to a RunObserver.
//
// - Open loop: a request leaves at its scheduled time whatever is still outstanding, and its
//   latency runs from that intended time — time waiting for a free connection and executor lag
//   count, so an overloaded broker shows as latency, not as a lower send rate.
// - Every request the workload makes is reported once, whatever became of it (observer.h):
//   answered, failed, timed out (counted from the intended send time) or cancelled at the end.
// - Network: a request first pays its region's uplink (propagation + serialization of its bytes,
//   losses cost retransmission timeouts, or the request fails after the last retry); the real
//   response then pays the downlink. Simulated delays are in simulated time; the broker's part is
//   real wall time (it is not scaled by `speed`).
// - Notifications arrive at an HTTP listener inside citybed and pay the subscriber's simulated
//   downlink; freshness = arrival at the subscriber − the observation time the entity carries,
//   charging the write's real uplink (kept per source by the driver). Notifications the broker
//   triggered but that never arrived are counted (NotificationAccount).
// - Health: the executor's lag, outstanding requests and connection waits are measured; a run
//   whose broker vanished is invalid and says why. Whether the lag allows the run to count as a
//   measurement of the broker is judged afterwards, against what was measured (results/).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "citybed/models/observer.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"
#include "citybed/sim/histogram.h"
#include "citybed/common/http_client.h"
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
  // Federation: the broker of each site (Federation::sites(), by index); empty otherwise. The
  // emulation links them with the topology's registrations (through its relay when the
  // scenario asks for one) before the run starts.
  // Without a federation, more than one URL: instances of one broker, each serving the regions
  // the scenario's broker.placement puts on it (placement.h); nothing links them.
  std::vector<std::string> site_urls;
  // Per site, the NGSI-LD URL other brokers register and forward to (an adapter in front of an
  // NGSI-v2 broker); empty: site_urls.
  std::vector<std::string> site_ld_urls;
  std::string extra_headers;  // put into every request to a broker (an access key), CRLF-terminated lines
  std::string listen_host = "127.0.0.1";  // where notifications are received
  std::function<void(const EmulationProgress&)> on_progress;  // about once per wall second
  const std::atomic<bool>* interrupt = nullptr;  // set (e.g. by SIGINT) to end the run early
  // CPU seconds the broker has used so far, when known (the embedded broker): sampled about
  // once per wall second into RunObserver::OnResources.
  std::function<double()> broker_cpu_seconds;
};

// Notifications the broker says it triggered during the run, against those received: known
// when the broker exposes citybed's Prometheus counters (the embedded broker does), read before
// and after the run. A broker shared with other subscribers inflates them.
struct NotificationAccount {
  bool known = false;
  uint64_t triggered = 0;  // matched writes: notifications the broker should send
  uint64_t sent = 0, failed = 0, dropped = 0;  // delivered; failed after retries; dropped from its queue
  uint64_t missing = 0;    // triggered − received (0 when more arrived)
};

// A federated run's broker-to-broker traffic.
struct FederationResult {
  bool active = false;
  size_t sites = 0, registrations = 0;
  bool relayed = false;
  uint64_t hops = 0, lost = 0, unreachable = 0, faulted = 0, bytes_forward = 0, bytes_back = 0;
  sim::LatencyHistogram backbone{4};  // simulated backbone delay per relayed message, ns
};

struct EmulationResult {
  bool reached_end = false;   // ran for the whole duration
  bool interrupted = false;   // ended by `interrupt`
  bool broker_lost = false;   // the broker stopped answering (or never did)
  std::vector<std::string> invalid_reasons;
  std::string broker_version;  // the body of GET /version, if it answered
  std::string notification_url;
  sim::RealtimeReport executor;
  HttpClientStats pool;
  sim::LatencyHistogram pool_wait{4};  // ns a request waited for a connection
  // Requests, warm-up included: made by the workload, handed to the broker port (their uplink
  // delivered), written to the broker; answered ok; failed (any cause); of which lost on the
  // simulated network, timed out, cancelled at the end.
  uint64_t emitted = 0, dispatched = 0, sent = 0, completed = 0, failed = 0;
  uint64_t network_failures = 0, timeouts = 0, cancelled = 0;
  uint64_t skipped = 0;  // gets not made: no entity of the asked type had reported yet
  uint64_t max_outstanding = 0;
  uint64_t notifications = 0, notified_entities = 0, notification_errors = 0;
  uint64_t notifications_lost = 0;        // entities in notifications lost on the simulated downlink
  uint64_t freshness_nominal_uplink = 0;  // freshness samples charged a nominal uplink (see docs)
  NotificationAccount broker_notifications;
  FederationResult federation;
  uint64_t subscriptions = 0, subscriptions_failed = 0;  // sent; answered with an error (warm-up included)
  sim::Time end;        // where the run's clock stopped (the duration, or earlier)
  sim::Time drain_end;  // after the drain
  double wall_seconds = 0;
  bool valid() const { return invalid_reasons.empty(); }
};

EmulationResult RunEmulation(World& world, Protocols protocols, const EmulationOptions& options,
                             RunObserver& observer);

}  // namespace citybed::models
