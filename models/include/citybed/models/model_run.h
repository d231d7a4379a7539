// RunModel: model mode — the same World, Workload, RequestDriver and RunObserver as emulation
// (emulation.h), with the broker replaced by the calibrated queueing model (model_port.h), run
// as fast as the engine goes instead of paced to the wall clock. Outputs are comparable with
// emulation's: every request is reported once; latency = simulated network + the model's
// queueing and service + the calibrated fixed delay. Answers carry modelled sizes and statuses,
// not content: the interoperability figures (interop.h) are not measured, and a paged query asks
// for all its pages (no results count comes back). Federation scenarios need emulation.
#pragma once

#include <atomic>
#include <functional>

#include "citybed/models/calibration.h"
#include "citybed/models/emulation.h"
#include "citybed/models/model_port.h"
#include "citybed/models/observer.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"

namespace citybed::models {

struct ModelOptions {
  const Calibration* calibration = nullptr;
  int instances = 1;          // broker instances (stations)
  Placement placement = Placement::kRoundRobin;  // of the regions on the instances
  uint64_t replication = 0;   // independent replications use independent named streams
  std::function<void(const EmulationProgress&)> on_progress;  // about once per wall second
  const std::atomic<bool>* interrupt = nullptr;
};

struct ModelRunExtra {
  ModelPortStats port;
  double utilisation = 0;     // of the serving stations over the run, time-average
  double busy_seconds = 0;    // busy server-seconds, serving stations and notifiers (simulated)
  uint64_t events = 0;        // engine events executed
};

// EmulationResult's fields mean the same; executor and pool figures are empty (nothing is paced
// or sent). Federation scenarios are refused (invalid_reasons).
EmulationResult RunModel(World& world, Protocols protocols, const ModelOptions& options, RunObserver& observer,
                         ModelRunExtra* extra = nullptr);

}  // namespace citybed::models
