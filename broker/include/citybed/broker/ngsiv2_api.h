// NgsiV2Api: the FIWARE NGSI-v2 API as Orion serves it, over the same Store and
// SubscriptionManager as the NGSI-LD API (one store, two APIs):
//   /v2/entities[/{id}[/attrs[/{attr}[/value]]]]   create, list, retrieve, update, replace, delete
//   /v2/types[/{type}]                             entity types with their attributes
//   /v2/op/update, /v2/op/query                    batch update and query
//   /v2/subscriptions[/{id}]                       subscriptions, notified in the v2 format
// Tenants are Fiware-Service (lower-cased; the same namespace as NGSILD-Tenant) and entities
// carry a Fiware-ServicePath. Names map to NGSI-LD IRIs through the configured @context (the
// core context by default), so an entity written here is read through /ngsi-ld/v1 and the
// reverse; docs/broker.md gives the whole mapping and what it cannot carry. Errors are
// Orion's {"error", "description"} bodies. Stateless itself; thread-safe.
#pragma once

#include <memory>

#include "citybed/broker/context.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/registrations.h"
#include "citybed/broker/router.h"
#include "citybed/broker/store.h"
#include "citybed/broker/subscriptions.h"

namespace citybed::broker {

struct V2Options {
  size_t default_limit = 20;         // entities per page when `limit` is absent (Orion: 20)
  size_t max_limit = 1000;           // a larger `limit` is 400 BadRequest (Orion: 1000)
  size_t max_body_bytes = 1 << 20;   // Orion's default inbound payload limit: 1 MB
  size_t max_batch = 10000;          // entities per POST /v2/op/update (400 beyond)
  ContextPtr context;                // v2 names <-> NGSI-LD IRIs; null: the core context
};

class NgsiV2Api {
 public:
  NgsiV2Api(Store& store, ContextResolver& contexts, Interner& names, SubscriptionManager& subs,
            RegistrationManager& registrations, V2Options options = {});
  void Register(Router& router);

  // The durable store's view of NGSI-v2 subscriptions (durable_store.h): the stored document of
  // one (its GET document without delivery status), and its restoration with the service path
  // it was made under (as the Fiware-ServicePath header gave it) and its times.
  std::string StoredSubscription(const Subscription& s) const;
  Expected<void, Problem> RestoreSubscription(const std::string& tenant, const std::string& service_path,
                                              const boost::json::object& doc, int64_t created_at, int64_t modified_at);

  class Impl;  // defined in src/ngsiv2_internal.h, private to the broker target

 private:
  std::shared_ptr<Impl> impl_;
};

// Orion's answer for an error of the HTTP layer or the router (unknown /v2 resource, 405,
// 413), so that every /v2 answer has the v2 error shape.
Response OrionErrorResponse(int status, std::string_view description);

}  // namespace citybed::broker
