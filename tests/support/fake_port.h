// FakePort: a BrokerPort in simulated time, for tests of the workload, the request driver and
// the results without sockets or wall clocks. Each request is answered after `delay(wire)` of
// simulated time with `status(wire)` (and a results count, so paged queries go on); one whose
// delay exceeds its budget times out at the budget. SimulatedRun wires a scenario's Workload,
// a RequestDriver and a FakePort on a plain Engine and runs it to the end as fast as possible.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "citybed/models/broker_port.h"
#include "citybed/models/driver.h"
#include "citybed/models/protocol.h"
#include "citybed/models/workload.h"
#include "citybed/models/world.h"
#include "citybed/sim/engine.h"

namespace citybed::testing {

class FakePort final : public models::BrokerPort {
 public:
  explicit FakePort(sim::Engine& engine) : engine_(engine) {}

  std::function<sim::Duration(const std::string& wire)> delay = [](const std::string&) {
    return sim::Duration::Milliseconds(2);
  };
  std::function<int(const std::string& wire)> status = [](const std::string& wire) {
    return wire.rfind("GET", 0) == 0 ? 200 : 201;
  };
  std::string results_count = "1000000";

  void Bind(models::PortClient& client) override { client_ = &client; }
  void Submit(uint32_t slot, int site, std::string&& wire, sim::Duration budget) override {
    last_site = site;
    ++submitted;
    const sim::Duration d = delay(wire);
    const int code = status(wire);
    const sim::Time at = engine_.Now();
    pending_[slot] = at;
    if (d > budget) {
      engine_.ScheduleIn(std::max(budget, sim::Duration()), [this, slot, at] { Complete(slot, 0, "timeout", at); });
    } else {
      engine_.ScheduleIn(d, [this, slot, code, at] { Complete(slot, code, "", at); });
    }
  }
  void CancelAll() override {
    auto left = pending_;
    for (const auto& [slot, at] : left) Complete(slot, 0, "cancelled", at);
  }

  uint64_t submitted = 0;
  int last_site = -1;

 private:
  void Complete(uint32_t slot, int code, const char* error, sim::Time dispatched) {
    auto it = pending_.find(slot);
    if (it == pending_.end() || it->second != dispatched) return;  // cancelled meanwhile
    pending_.erase(it);
    models::PortOutcome o;
    o.status = code;
    o.error = error;
    o.sent = true;
    o.broker = engine_.Now() - dispatched;
    o.answered = engine_.Now();
    if (code >= 200 && code < 300) o.results_count = results_count;
    if (code >= 400) o.body = R"({"type":"https://uri.etsi.org/ngsi-ld/errors/InternalError","title":"x"})";
    client_->OnPortDone(slot, o);
  }

  sim::Engine& engine_;
  models::PortClient* client_ = nullptr;
  std::map<uint32_t, sim::Time> pending_;
};

inline models::WorkloadOptions WorkloadOptionsFor(std::string notification_url) {
  models::WorkloadOptions o;
  o.notification_url = std::move(notification_url);
  return o;
}

// A whole run in simulated time: the scenario's workload through the driver to a FakePort.
struct SimulatedRun {
  SimulatedRun(models::World& world, models::RunObserver& observer)
      : scenario(world.scenario()),
        port(engine),
        driver(world, engine, port, observer, scenario.broker.timeout),
        protocols(models::Protocols::ForScenario(scenario, "broker.test")),
        workload(world, protocols, engine, driver, WorkloadOptionsFor("http://receiver.test/notify")) {
    driver.SetWorkload(&workload);
  }
  // Runs to the scenario's end, then lets what is in flight finish (up to the timeout).
  void Run() {
    const sim::Time end = sim::Time() + scenario.duration;
    workload.Start(end);
    engine.RunUntil(end);
    engine.RunUntil(end + scenario.broker.timeout + sim::Duration::Seconds(1));
    driver.CancelAll();
  }

  const models::Scenario& scenario;
  sim::Engine engine;
  FakePort port;
  models::RequestDriver driver;
  models::Protocols protocols;  // per API, as the scenario's regions speak
  models::Workload workload;
};

}  // namespace citybed::testing
