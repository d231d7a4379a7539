// HttpBrokerPort: the BrokerPort of emulation — real HTTP to a real broker through a pool of
// keep-alive connections (HttpClientPool), paced by the real-time executor.
//
// A request reaches the broker's door at its simulated dispatch time, i.e. at the wall time the
// executor maps it to; what it measures from there is real time: waiting for a free connection,
// the generator's own lag if it ran late, and the broker's answer. Its deadline is that wall
// time plus the budget the driver gives (the timeout left after the uplink). Completions come
// on the executor's thread, from I/O handlers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <vector>

#include "citybed/models/broker_port.h"
#include "citybed/common/http_client.h"
#include "citybed/sim/realtime.h"

namespace citybed::models {

class HttpBrokerPort final : public BrokerPort {
 public:
  // One pool of connections per broker site (federation), or one for the one broker.
  HttpBrokerPort(boost::asio::io_context& io, sim::RealtimeExecutor& executor, std::vector<HttpClientOptions> sites);
  // Instances of one broker (no federation): pool i serves the regions placed on instance i
  // (placement.h); a request goes to the instance of the region it is about.
  void SetInstances(std::vector<int> instance_of_region) { instance_of_ = std::move(instance_of_region); }
  void Bind(PortClient& client) override { client_ = &client; }
  void Submit(uint32_t slot, int site, std::string&& wire, sim::Duration budget) override;
  // Shuts the pools down: every waiting or in-flight request completes as "cancelled".
  void CancelAll() override;

  HttpClientPool& pool(int site = 0) { return *pools_[static_cast<size_t>(std::max(site, 0))]; }
  size_t sites() const { return pools_.size(); }
  // The pools' statistics, summed.
  HttpClientStats Stats() const;

 private:
  static void OnDone(void* self, uint64_t slot, HttpOutcome& o);

  boost::asio::io_context& io_;
  sim::RealtimeExecutor& executor_;
  std::vector<std::unique_ptr<HttpClientPool>> pools_;
  PortClient* client_ = nullptr;
  std::vector<sim::Time> dispatched_;  // by slot: simulated dispatch time
  std::vector<uint8_t> pending_;       // by slot: submitted and not completed
  std::vector<int> instance_of_;       // by region, when the pools are instances
};

}  // namespace citybed::models
