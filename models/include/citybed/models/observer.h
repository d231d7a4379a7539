// What a run reports as it goes. The emulation (and later the queueing model) calls a
// RunObserver for every completed request and every notification; results/ implements it.
// Models never write results themselves, and nothing is ever parsed from logs.
#pragma once

#include <cstdint>
#include <string_view>

#include "citybed/sim/time.h"

namespace citybed::models {

enum class OpKind : uint8_t { kUpsert, kGet, kQuery, kGeoQuery, kSubscribe, kCount };
std::string_view OpKindName(OpKind op);  // "upsert", "get", "query", "geo-query", "subscribe"

struct RequestRecord {
  OpKind op = OpKind::kUpsert;
  int region = 0;
  int domain = -1;          // index into DomainNames() for source writes, -1 otherwise
  sim::Time intended;       // when the request was meant to leave its source (open loop)
  sim::Duration latency;    // intended send -> response back at the requester
  sim::Duration network;    // the simulated part (uplink + downlink, with retransmissions)
  int status = 0;           // HTTP status, 0 when none
  std::string_view error;   // transport error ("timeout", "connection refused", "network"), or ""
  std::string_view problem; // NGSI-LD error type of a problem response ("BadRequestData"), or ""
  uint64_t bytes_up = 0, bytes_down = 0;
  bool ok = false;
};

struct NotificationRecord {
  int region = 0;            // the subscriber's region
  sim::Time arrival;         // at the subscriber, after the simulated downlink
  sim::Duration freshness;   // arrival - the source's observation time
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnRequest(const RequestRecord& r) = 0;
  virtual void OnNotification(const NotificationRecord& n) = 0;
};

}  // namespace citybed::models
