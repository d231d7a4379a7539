// ModelBrokerPort: the BrokerPort of model mode — a queueing model of the broker, calibrated on
// the real one (calibration.h), running in simulated time (docs/capacity.md).
//
// Each broker instance is a station of Calibration::Servers() servers (the serving threads, no
// more than the cores the broker had) in front of one FCFS queue. A request is classified from
// its request line (op_class.h); its service time is drawn from the calibrated distribution of
// its class (the handler's wall time) plus the per-request overhead outside handlers, scaled by
// the load: with open-loop points in the calibration, by the CPU factor at the instance's current
// request rate (a moving average over about a broker second); without, by DemandScale(n) of the
// n requests in the station. The client delay (loopback, the client's own work) is drawn after it
// leaves the station, outside any server: from the open-loop point nearest in rate, for its class,
// else the calibration's constant. Its answer gets a status drawn from the class's status mix and
// the class's mean answer size. A class the calibration lacks is served as its commonest class.
//
// Timeouts: a request still waiting for a connection at its deadline is given up unsent (as the
// HTTP client does; checked when a connection frees); one at the broker keeps its connection
// until its answer, which the driver records as a timeout when late.
//
// Notifications: subscriptions are known from the requests that made them (the subscriber's
// region, the tenant, the entity type). A source's write that the model answers 2xx notifies each
// subscription on its tenant and type with the calibrated selectivity (the share that q,
// watchedAttributes and throttling let through on the calibration's workload), each served by
// the instance's notifier — its own server when the broker had a core to spare, else the serving
// station — at the calibrated cost per notification, and delivered over the subscriber's
// simulated downlink. Freshness is then exact in simulated time: arrival − the observation the
// write carried.
//
// Connections: like the HTTP client of emulation, each instance is reached over the scenario's
// broker.connections keep-alive connections; a request waits for a free one (its wait is
// reported as emulation reports it).
//
// Instances: regions are placed on `instances` stations by the scenario's placement
// (placement.h); a request goes to the instance of the region it is about.
//
// Not thread-safe; lives with its Engine.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "citybed/models/broker_port.h"
#include "citybed/models/calibration.h"
#include "citybed/models/observer.h"
#include "citybed/models/world.h"
#include "citybed/sim/engine.h"
#include "citybed/sim/random.h"
#include "citybed/sim/station.h"

namespace citybed::models {

struct ModelPortStats {
  std::array<uint64_t, kOpClasses> served{};   // answered, by class
  uint64_t uncalibrated = 0;  // requests of a class the calibration lacks (served as its commonest class)
  uint64_t notifications = 0, notifications_lost = 0;
};

class ModelBrokerPort final : public BrokerPort {
 public:
  // `speed`: the scenario's speed. Emulation at speed k asks the real broker k times as fast
  // (a simulated second lasts 1/k wall second) and measures the broker's part in wall time; the
  // model does the same: service and fixed delays take k times as long in simulated time, and
  // the broker's part is reported divided by k.
  ModelBrokerPort(sim::Engine& engine, const Calibration& calibration, World& world, int instances,
                  const sim::RngStreams& streams, double speed = 1.0, Placement placement = Placement::kRoundRobin);
  void Bind(PortClient& client) override { client_ = &client; }
  void Submit(uint32_t slot, int site, std::string&& wire, sim::Duration budget) override;
  void CancelAll() override;
  // Where notifications go (the run's observer).
  void OnNotification(std::function<void(const NotificationRecord&)> sink) { notify_ = std::move(sink); }

  const ModelPortStats& stats() const { return stats_; }
  int instances() const { return static_cast<int>(stations_.size()); }
  // Busy server-seconds of the serving stations (all instances) and of the notifiers, so far.
  double BusySeconds() const;
  double Utilization() const;  // of the serving stations, time-average, since the start
  size_t outstanding() const { return outstanding_; }

 private:
  struct Pending {
    sim::Time submitted, started, deadline;
    OpClass cls = OpClass::kOther;
    bool live = false;
    bool at_broker = false;  // has a connection (sent)
    uint32_t instance = 0;
    uint64_t generation = 0;
  };
  // The client's connections to one instance: at most `connections` requests at the broker at
  // once (HTTP/1.1 keep-alive, one request per connection); the rest wait FCFS.
  struct Pool {
    int in_use = 0;
    double rate = 0;  // requests per broker second, moving average
    sim::Time last_arrival;
    std::deque<std::pair<uint32_t, uint64_t>> waiting;  // slot, generation
  };
  const ClassCalibration& Resolve(OpClass cls);
  void Start(uint32_t slot);
  void Release(uint32_t instance);
  void Complete(uint32_t slot, uint64_t generation, uint32_t instance, sim::Time departed);
  void Notify(int instance, const WorkloadRequest& write, sim::Time reached);  // reached: when the write reached the broker

  sim::Engine& engine_;
  const Calibration& cal_;
  World& world_;
  PortClient* client_ = nullptr;
  std::vector<std::unique_ptr<sim::FifoStation>> stations_, notifiers_;
  std::vector<int> instance_of_;  // by region
  sim::Rng service_rng_, status_rng_, notify_rng_, select_rng_, delay_rng_;
  std::vector<Pending> pending_;  // by slot
  size_t outstanding_ = 0;
  uint64_t generation_ = 0;
  const ClassCalibration* fallback_ = nullptr;
  double speed_;
  sim::Duration fixed_;
  std::vector<double> scale_;  // DemandScale(n) by requests in the station
  int connections_;
  std::vector<Pool> pools_;
  // Subscriptions: tenant + '\n' + entity type → subscriber regions.
  std::unordered_map<std::string, std::vector<int>> subscriptions_;  // "instance\ntenant\ntype" → subscriber regions
  std::function<void(const NotificationRecord&)> notify_;
  ModelPortStats stats_;
};

}  // namespace citybed::models
