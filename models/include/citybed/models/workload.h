// Workload: what a scenario asks of the broker, scheduled on an Engine — every source's
// reports, every user's actions and subscriptions, and the events' flash crowds. It knows
// nothing of how requests are served or measured: each request goes to a RequestSink (the
// RequestDriver in a run, a counter in tests).
//
// What is sent, and when, is a function of the scenario, the seed and simulated time only, the
// same in emulation and in model mode, whatever the broker answers — with one exception: a
// paged query asks for its next page only after the previous one came back with more results
// (OnAnswer). World::OfferedAt is the expected value of the same processes; both use
// RequestsPerAction for what an action sends.
//
// Not thread-safe: it runs on the engine's thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/models/observer.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"
#include "citybed/sim/engine.h"

namespace citybed::models {

// One request as the workload makes it.
struct WorkloadRequest {
  OpKind op = OpKind::kUpsert;
  int region = 0;        // the requester's region: its network path
  int about = 0;         // the region the request is about (another one for cross-region requests)
  int domain = -1;       // source writes: index into DomainNames(); -1 otherwise
  int group = -1;        // source writes: the source group and member that wrote
  uint32_t member = 0;
  int64_t observed_us = 0;             // source writes: the observation the entity carries
  const RequestSpec* spec = nullptr;   // user and crowd requests: what was asked
  int page = 0;                        // paged queries: which page
  int site = -1;                       // federation: the broker site it goes to (-1: the one broker)
  // What a read asked for, for its ground truth (interop.h): a get's entity, a geo-query's place.
  int asked_group = -1;
  uint32_t asked_member = 0;
  LonLat place;
  std::string wire;                    // the protocol's rendering
};

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // Called at the request's intended send time (engine.Now()).
  virtual void Emit(WorkloadRequest&& request) = 0;
};

struct WorkloadOptions {
  std::string notification_url;        // subscriptions notify <notification_url>/<region id>
  std::string subscription_prefix = "urn:ngsi-ld:Subscription:citybed:";  // + region + ":" + n
  std::string subscriptions_expire;    // RFC 3339 expiresAt of subscriptions; "" for none
};

class Workload {
 public:
  // Each region's requests go through protocols.For(its api): a source's writes by its region's,
  // a user's requests by the api of the region they are about.
  Workload(World& world, Protocols protocols, sim::Engine& engine, RequestSink& sink, WorkloadOptions options);

  // Schedules every source, user and crowd on the engine, from engine.Now() up to `end`
  // (exclusive). Call once.
  void Start(sim::Time end);

  // The answer to `request` came back (call at the answer's simulated time): a paged query
  // asks for its next page if the answer was ok and more results remain.
  void OnAnswer(const WorkloadRequest& request, bool ok, std::string_view results_count);

  // Requests emitted per operation.
  const std::array<uint64_t, static_cast<size_t>(OpKind::kCount)>& emitted() const { return emitted_; }
  uint64_t skipped() const { return skipped_; }  // gets with no reported entity to ask for
  uint64_t subscriptions() const { return emitted_[static_cast<size_t>(OpKind::kSubscribe)]; }

 private:
  void OnReport(uint32_t g, uint32_t i);
  void OnUserAction(uint32_t u, uint32_t m, uint32_t action);
  void CrowdJoin(uint32_t c, uint32_t m);
  void CrowdAction(uint32_t c, uint32_t m, uint32_t action);
  void Act(int region, const RequestSpec& req, sim::Rng& rng);
  // Sets where a user's request goes (federation: its entry site) and returns the protocol it
  // is written in (through a hub or another region's broker: NGSI-LD).
  const BrokerProtocol& Route(WorkloadRequest& r) const;
  void Emit(WorkloadRequest&& r);
  bool Before(sim::Duration gap) const { return gap < end_ - engine_.Now(); }

  World& world_;
  const Scenario& scenario_;
  const BrokerProtocol& ProtocolOf(const RegionRuntime& region) const { return protocols_.For(region.api); }

  Protocols protocols_;
  sim::Engine& engine_;
  RequestSink& sink_;
  WorkloadOptions options_;
  sim::Time end_;
  uint64_t next_subscription_ = 0;
  uint64_t skipped_ = 0;
  std::array<uint64_t, static_cast<size_t>(OpKind::kCount)> emitted_{};
};

}  // namespace citybed::models
