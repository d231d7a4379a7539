// BrokerProtocol: how the emulation's abstract operations become HTTP requests for one broker
// API. NGSI-LD now; NGSI-v2 (FIWARE Orion) plugs in behind the same interface, so a scenario
// can target either. Each method returns the complete wire request (see sim::FormatRequest).
// Implementations are immutable and thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

// NGSI-LD (ETSI GS CIM 009): batch upsert of one entity, GET by id, GET /entities with q and
// georel, POST /subscriptions; JSON bodies with the core context (no @context member).
std::unique_ptr<BrokerProtocol> MakeNgsiLdProtocol(std::string host_header);

// The NGSI-LD normalized JSON of a report.
void AppendNgsiLdEntity(std::string& out, const EntityUpdate& e);

}  // namespace citybed::models
