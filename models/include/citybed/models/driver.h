// RequestDriver: carries the workload's requests over the simulated network to a BrokerPort
// and reports every one of them, whatever became of it, to the RunObserver — exactly once.
//
// - Uplink: the request pays its region's path (propagation, serialization of its bytes,
//   losses with retransmission); one lost after the last retry fails as `network` at the time
//   it gave up. Otherwise it reaches the port at intended + uplink.
// - Timeout, counted from the intended send time: the port gets the budget left after the
//   uplink; a request the port times out, or whose answer (downlink included) comes back later
//   than intended + timeout, is a `timeout` recorded at exactly the timeout.
// - Downlink: the answer pays the path back; one lost fails as `network`.
// - Faults (scenario "faults"): a request that reaches a broker in outage is refused, answered
//   503, never answered (black hole: a timeout) or delayed, as the fault says, without the port.
// - End: CancelAll() records every request still on its uplink, waiting or at the broker as
//   `cancelled`, at the time the run ended.
// For source writes, the uplink actually paid is kept per source (World::LastWrite), so that
// notification freshness charges the write's real uplink. Reads that cross regions (and every
// read of a federation) are also measured against the ground truth (interop.h, OnInterop).
//
// Not thread-safe: the engine's thread calls Emit; the port completes on the same thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "citybed/models/broker_port.h"
#include "citybed/models/interop.h"
#include "citybed/models/observer.h"
#include "citybed/models/workload.h"
#include "citybed/sim/engine.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/random.h"

namespace citybed::models {

struct DriverStats {
  uint64_t emitted = 0;          // requests the workload made
  uint64_t dispatched = 0;       // handed to the port (uplink delivered)
  uint64_t sent = 0;             // reached the broker
  uint64_t ok = 0, failed = 0;   // completed
  uint64_t network_failures = 0; // lost on the simulated network (either way)
  uint64_t timeouts = 0, cancelled = 0;
  uint64_t outstanding = 0;      // at the port now
  uint64_t on_uplink = 0;        // on their simulated uplink now
  uint64_t max_outstanding = 0;
  uint64_t transport_errors_in_a_row = 0;  // connection failures since the last HTTP answer
  sim::LatencyHistogram waited{4};         // connection waits of the requests that reached the port, ns
};

class RequestDriver final : public RequestSink, public PortClient {
 public:
  // `timeout` is the scenario's broker timeout; streams are named under `seed`.
  RequestDriver(World& world, sim::Engine& engine, BrokerPort& port, RunObserver& observer, sim::Duration timeout);
  void SetWorkload(Workload* workload) { workload_ = workload; }

  void Emit(WorkloadRequest&& request) override;
  void OnPortDone(uint32_t slot, PortOutcome& outcome) override;
  const WorkloadRequest* RequestOf(uint32_t slot) const override {
    return slot < inflight_.size() && inflight_[slot].live ? &inflight_[slot].request : nullptr;
  }
  // Whether answers carry real content to measure against the ground truth (interop.h): not
  // in model mode, whose answers are modelled sizes.
  void MeasureContent(bool on) { measure_content_ = on; }
  // Records every request not completed yet as cancelled at engine.Now() (cancelling them at
  // the port too).
  void CancelAll();

  const DriverStats& stats() const { return stats_; }
  bool idle() const { return stats_.outstanding == 0 && stats_.on_uplink == 0; }

 private:
  struct InFlight {
    WorkloadRequest request;
    sim::Time intended;
    sim::Duration uplink;
    sim::EventId dispatch_event;  // while on the uplink, or held by a broker fault
    uint64_t bytes = 0;
    bool at_port = false;
    bool live = false;
    uint32_t next_free = UINT32_MAX;
  };
  uint32_t AllocSlot();
  void FreeSlot(uint32_t slot);
  void Dispatch(uint32_t slot);
  // Serves the request as the faulted broker would (refused, 503, never, or later); false when
  // the fault is not in force.
  bool Faulted(uint32_t slot, const FaultSpec& fault);
  // Completes the request as timed out once `budget` has passed (a broker that never answers).
  void TimeOutLater(uint32_t slot, sim::Duration budget);
  void Report(const InFlight& f, RequestRecord& r);

  World& world_;
  sim::Engine& engine_;
  BrokerPort& port_;
  RunObserver& observer_;
  Workload* workload_ = nullptr;
  sim::Duration timeout_;
  InteropProbe probe_;
  bool measure_content_ = true;
  sim::Rng uplink_rng_, downlink_rng_;
  std::vector<InFlight> inflight_;
  uint32_t free_ = UINT32_MAX;
  DriverStats stats_;
};

}  // namespace citybed::models
