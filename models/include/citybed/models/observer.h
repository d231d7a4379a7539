// What a run reports as it goes. The RequestDriver calls a RunObserver once for every request
// the workload made — answered, failed, timed out or cancelled — and the notification receiver
// once for every notified entity; results/ implements it. Models never write results
// themselves, and nothing is ever parsed from logs.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "citybed/sim/time.h"

namespace citybed::models {

enum class OpKind : uint8_t { kUpsert, kGet, kQuery, kGeoQuery, kSubscribe, kCount };
std::string_view OpKindName(OpKind op);  // "upsert", "get", "query", "geo-query", "subscribe"

// What became of a request. Every request the workload made ends in exactly one of these.
enum class Outcome : uint8_t {
  kOk,          // a 2xx answer came back within the timeout
  kStatus,      // an HTTP error status (4xx, 5xx) came back within the timeout
  kTimeout,     // no answer within the timeout, counted from the intended send time
  kConnection,  // the connection failed: refused, reset, closed (no HTTP answer)
  kNetwork,     // lost on the simulated network after the last retransmission
  kCancelled,   // still unanswered when the run ended (interrupted, or the broker was lost)
  kCount
};
std::string_view OutcomeName(Outcome o);  // "ok", "status", "timeout", "connection", "network", "cancelled"

struct RequestRecord {
  OpKind op = OpKind::kUpsert;
  int region = 0;
  int about = 0;            // the region it is about (another one for cross-region requests)
  int site = -1;            // federation: the broker site it went to; -1: the one broker
  int domain = -1;          // index into DomainNames() for source writes, -1 otherwise
  std::string_view name;    // the scenario's name for a user's request, "" for none
  Outcome outcome = Outcome::kOk;
  bool sent = false;        // the request reached the broker (written to a connection)
  sim::Time intended;       // when the request was meant to leave its source (open loop)
  sim::Time completed;      // when the outcome was known at the requester (simulated time)
  // Intended send -> outcome at the requester: the answer's arrival, or for a timeout the
  // timeout, for a cancelled request the run's end, for a network loss the time it gave up.
  sim::Duration latency;
  sim::Duration network;    // the simulated part (uplink + downlink, with retransmissions)
  sim::Duration waited;     // waiting for a free connection to the broker (part of latency)
  int status = 0;           // HTTP status, 0 when none
  std::string_view error;   // transport error text ("connection refused", ...), or ""
  std::string_view problem; // error type of an error answer ("BadRequestData"), or ""
  uint64_t bytes_up = 0, bytes_down = 0;
  // The answer, for what is measured of its content (federation: completeness, staleness);
  // empty unless answered. Valid during OnRequest only.
  std::string_view body;
  std::string_view results_count;  // NGSILD-Results-Count / Fiware-Total-Count, "" when absent
  int warnings = 0;                // NGSILD-Warning fields: a partial answer of a distributed operation
  int forwarded_sources = -1;      // sources the broker asked for this answer (-1: not distributed)
  uint64_t forwarded_bytes = 0;    // bytes they answered
  bool ok() const { return outcome == Outcome::kOk; }
};

struct NotificationRecord {
  int region = 0;            // the subscriber's region
  sim::Time arrival;         // at the subscriber, after the simulated downlink
  sim::Duration freshness;   // arrival - the source's observation time
};

// What the broker used, sampled about once per wall second when known (the embedded broker).
struct ResourceSample {
  sim::Time at;                 // simulated time of the sample
  double wall_seconds = 0;      // since the previous sample
  double broker_cpu_seconds = 0;  // CPU the broker's threads used since the previous sample
};

// What a read returned, against the simulation's ground truth (interop.h, docs/federation.md):
// reported for cross-region reads, and for every read of a federated run.
struct InteropRecord {
  OpKind op = OpKind::kGet;
  int region = 0, about = 0;
  int pair = 0;             // PairClass: 0 local, 1 same block, 2 national
  int site = -1;            // the broker site it went to (-1: the one broker)
  sim::Time intended;
  bool ok = false;          // answered 2xx
  bool partial = false;     // the answer named sources it could not reach (NGSILD-Warning)
  sim::Duration latency;
  int returned = 0;         // entities in the answer
  int duplicates = 0;       // of which repeated ids
  int matched = 0;          // distinct returned entities that the truth holds
  int expected = -1;        // entities a complete answer holds: min(truth, limit); -1 unknown
  int foreign = 0;          // returned entities that the truth does not hold
  int64_t count_reported = -1, count_truth = -1;  // NGSILD-Results-Count against the truth
  int fan_out = -1;                 // sources the asked broker forwarded to (-1: answered alone)
  uint64_t forwarded_bytes = 0;     // bytes those sources answered
  std::vector<int64_t> staleness_us;  // per returned entity: latest written − returned observation
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnRequest(const RequestRecord& r) = 0;
  virtual void OnInterop(const InteropRecord&) {}
  virtual void OnNotification(const NotificationRecord& n) = 0;
  virtual void OnResources(const ResourceSample&) {}
};

}  // namespace citybed::models
