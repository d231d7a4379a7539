// Relay: carries the broker-to-broker requests of a federated run over the simulated backbone,
// so that they pay the network like the users' requests do — and so that it works for any
// broker, embedded or external: registrations name the relay as the source's endpoint.
//
// A registration at site `at` of site `source` points at http://<relay>/hop/<at>/<source>.
// The relay delays a request by the backbone path from `at` to `source` (propagation,
// serialization of its bytes, losses with retransmission timeouts; in wall time, the simulated
// delay divided by the run's speed), forwards it to the source's broker, and delays the answer
// by the path back. A message lost after its last retry, or a source that cannot be reached,
// closes the connection without an answer: the forwarding broker sees a failed source. A
// fault of the source's broker (scenario "faults", at the simulated time `now` gives) acts on
// relayed requests too: refused (the connection closes), black hole (no answer), 503, or slow.
// Runs on the emulation's io_context; not thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/federation.h"
#include "citybed/models/world.h"
#include "citybed/sim/histogram.h"
#include "citybed/sim/random.h"

namespace citybed::models {

struct RelayStats {
  uint64_t hops = 0;         // requests relayed (answered or not)
  uint64_t lost = 0;         // lost on the simulated backbone after the last retry (either way)
  uint64_t unreachable = 0;  // the source broker did not answer
  uint64_t faulted = 0;      // met a fault of the source's broker
  uint64_t bytes_forward = 0, bytes_back = 0;
  sim::LatencyHistogram backbone{4};  // simulated backbone delay per hop, both ways, ns
};

class Relay {
 public:
  Relay(boost::asio::io_context& io, const World& world, std::vector<std::string> site_urls, double speed,
        const sim::RetransmitPolicy& retransmit, sim::Rng rng, std::function<sim::Time()> now);
  ~Relay();
  Expected<void> Listen(const std::string& host);
  void Close();
  // The endpoint a registration at `at` names for `source`.
  std::string EndpointFor(int at, int source) const;
  const RelayStats& stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace citybed::models
