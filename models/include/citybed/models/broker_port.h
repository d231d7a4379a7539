// BrokerPort: the seam between the workload and how its requests are served. The RequestDriver
// hands a port each request at the simulated time it reaches the broker (its uplink paid); the
// port serves it — over HTTP to a real broker (HttpBrokerPort, emulation) or, in model mode, by
// a queueing model of one — and completes it exactly once through its PortClient.
#pragma once

#include <cstdint>
#include <string>

#include "citybed/sim/time.h"

namespace citybed::models {

struct WorkloadRequest;

struct PortOutcome {
  int status = 0;              // HTTP status; 0 when there was no answer
  std::string error;           // "" when an HTTP answer came back; else "timeout",
                               // "connection refused", "cancelled", or the transport's message
  std::string body;
  std::string results_count;   // NGSILD-Results-Count / Fiware-Total-Count, if answered
  int warnings = 0;            // NGSILD-Warning fields: sources a distributed operation missed
  int forwarded_sources = -1;  // a distributed answer's sources asked (-1: not one)
  uint64_t forwarded_bytes = 0;
  uint64_t answer_bytes = 0;   // model mode: the answer's modelled size (its body is not made)
  bool sent = false;           // the request reached the broker
  // From the moment the request reached the broker's door (its simulated dispatch time) to the
  // answer: real (wall) time in emulation — waits for a connection and the generator's own
  // lag included — and simulated time in model mode.
  sim::Duration broker;
  sim::Duration waited;        // of which waiting for a free connection
  sim::Time answered;          // the simulated time at which the answer was back at citybed
};

class PortClient {
 public:
  virtual ~PortClient() = default;
  virtual void OnPortDone(uint32_t slot, PortOutcome& outcome) = 0;
  // The request in `slot` (its wire already handed over), while it is at the port: what a
  // model of the broker needs beyond the wire (which source wrote, which region subscribed).
  virtual const WorkloadRequest* RequestOf(uint32_t) const { return nullptr; }
};

class BrokerPort {
 public:
  virtual ~BrokerPort() = default;
  virtual void Bind(PortClient& client) = 0;
  // Serves `wire` (a complete HTTP request) at broker site `site` (federation; -1 or 0: the
  // one broker). `budget` is how long the broker may take before the request times out
  // (Duration::Max() for no limit). Called at the dispatch's simulated time; the completion
  // may come later or, for a request refused at once, during the call.
  virtual void Submit(uint32_t slot, int site, std::string&& wire, sim::Duration budget) = 0;
  // Completes every request not completed yet with "cancelled".
  virtual void CancelAll() = 0;
};

}  // namespace citybed::models
