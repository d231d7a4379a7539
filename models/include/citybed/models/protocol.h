// BrokerProtocol: how the emulation's abstract operations become HTTP requests for one broker
// API — NGSI-LD (ETSI GS CIM 009) or NGSI-v2 (FIWARE Orion). Each method returns the complete
// wire request (see FormatRequest). Implementations are immutable and thread-compatible.
// Protocols: the protocols of one run, one per API its regions speak (scenario: broker.api and
// a region's api).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/models/scenario.h"
#include "citybed/models/sources.h"

namespace citybed::models {

struct SubscriptionRequest {
  std::string id;             // the subscription's id, chosen by the emulation
  std::string_view type;      // entity type to watch
  const std::vector<std::string>* watched = nullptr;
  std::string_view q;
  std::string endpoint;       // where notifications go
  std::string expires_at;     // RFC 3339; empty for a subscription that does not expire
};

class BrokerProtocol {
 public:
  virtual ~BrokerProtocol() = default;
  virtual std::string_view name() const = 0;
  // Create or replace the entity with this report.
  virtual std::string Write(const EntityUpdate& e, std::string_view tenant) const = 0;
  virtual std::string Get(std::string_view id, std::string_view tenant) const = 0;
  virtual std::string Query(std::string_view type, std::string_view q, int limit, int offset, bool count,
                            std::string_view tenant) const = 0;
  virtual std::string GeoQuery(std::string_view type, LonLat at, double max_distance_m, int limit,
                               std::string_view tenant) const = 0;
  virtual std::string Subscribe(const SubscriptionRequest& s, std::string_view tenant) const = 0;
  virtual std::string Version() const = 0;
  // citybed's own entity types need citybed's @context: requests about them name it.
  virtual void UseOwnContext(std::string url, std::vector<std::string> own_types) = 0;
};

// NGSI-v2 as FIWARE Orion serves it: `writes` kOpUpdate sends POST /v2/op/update (append) of one
// entity, kEntities POST /v2/entities?options=upsert; GET /v2/entities/{id}?type=, GET
// /v2/entities with q (converted by V2Query), georel near, POST /v2/subscriptions; the tenant as
// Fiware-Service (V2Tenant) and the root service path.
std::unique_ptr<BrokerProtocol> MakeNgsiV2Protocol(std::string host_header,
                                                   V2Writes writes = V2Writes::kOpUpdate);

// The NGSI-v2 normalized JSON of a report: Number, Text, Boolean, StructuredValue, DateTime,
// geo:json and Relationship attributes; observedAt and unitCode as metadata of those names
// (which an NGSI-LD reader of the same broker sees as observedAt and unitCode).
void AppendNgsiV2Entity(std::string& out, const EntityUpdate& e);

// An NGSI-LD q (the scenario's) in Orion's simple query language: "x" quoted strings become
// 'x'; OR (|), grouping and [key] paths, which the v2 language lacks, are an error.
Expected<std::string, Error> V2Query(std::string_view ld_q);

// A tenant name as an Orion Fiware-Service: lowercase, characters other than [a-z0-9_] as '_',
// at most 50 characters.
std::string V2Tenant(std::string_view tenant);

// The protocols a run speaks, one per API. Built for a scenario (owning), or around one
// protocol that serves every region whatever its api (tests, tools).
class Protocols {
 public:
  Protocols(BrokerProtocol& all) : by_api_{&all, &all}, primary_(&all) {}  // NOLINT: implicit on purpose
  // Not owning: these outlive the Protocols.
  Protocols(BrokerProtocol& ngsi_ld, BrokerProtocol& ngsi_v2, BrokerApi primary)
      : by_api_{&ngsi_ld, &ngsi_v2}, primary_(&For(primary)) {}
  static Protocols ForScenario(const Scenario& s, const std::string& host_header);

  BrokerProtocol& For(BrokerApi api) const { return *by_api_[static_cast<size_t>(api)]; }
  // The scenario's default API (broker.api): the one /version is asked through.
  BrokerProtocol& primary() const { return *primary_; }
  void UseOwnContext(const std::string& url, const std::vector<std::string>& own_types);

 private:
  Protocols() = default;
  std::vector<std::shared_ptr<BrokerProtocol>> owned_;
  BrokerProtocol* by_api_[2] = {nullptr, nullptr};
  BrokerProtocol* primary_ = nullptr;
};

// NGSI-LD (ETSI GS CIM 009): batch upsert of one entity, GET by id, GET /entities with q and
// georel, POST /subscriptions; JSON bodies with the core context (no @context member).
std::unique_ptr<BrokerProtocol> MakeNgsiLdProtocol(std::string host_header);

// The NGSI-LD normalized JSON of a report.
void AppendNgsiLdEntity(std::string& out, const EntityUpdate& e);

}  // namespace citybed::models
